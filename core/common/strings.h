#pragma once
// Small string predicates shared across the core.
#include <string>

namespace grym {

inline bool endsWith(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace grym
