#pragma once
// Text the commands' progress lines share.
#include <cstdio>
#include <string>

namespace grym::cli {

// "4:05", "1:02:03": a time left or taken; "--:--" when unknown (< 0).
inline std::string formatClock(double seconds) {
    if (seconds < 0) return "--:--";
    const long total = static_cast<long>(seconds + 0.5);
    char text[32];
    if (total >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
    else std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    return text;
}

}  // namespace grym::cli
