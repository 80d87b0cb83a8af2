#include "hub/cache_files.h"

#include "hub/hub_error.h"
#include "platform/atomic_file.h"


namespace fs = std::filesystem;

namespace grym::hub {

namespace {

// The closing ']' of the bracket expression that starts at pattern[open], or npos.
size_t bracketEnd(const std::string& pattern, size_t open) {
    size_t i = open + 1;
    if (i < pattern.size() && pattern[i] == '!') ++i;
    if (i < pattern.size() && pattern[i] == ']') ++i;  // a leading ']' is a literal member
    while (i < pattern.size() && pattern[i] != ']') ++i;
    return i < pattern.size() ? i : std::string::npos;
}

bool bracketMatches(const std::string& pattern, size_t open, size_t close, char c) {
    size_t i = open + 1;
    const bool negated = pattern[i] == '!';
    if (negated) ++i;
    bool found = false;
    for (bool first = true; i < close; first = false) {
        if (!first && pattern[i] == ']') break;
        if (i + 2 < close && pattern[i + 1] == '-') {
            found |= pattern[i] <= c && c <= pattern[i + 2];
            i += 3;
        } else {
            found |= pattern[i] == c;
            ++i;
        }
    }
    return found != negated;
}

}  // namespace

uint64_t availableDiskBytes(const fs::path& path) {
    std::error_code ec;
    const fs::space_info space = fs::space(path, ec);
    if (ec) throw HubError(HubErrorKind::Cache, "cannot read the free space of " + path.string() + ": " + ec.message());
    return static_cast<uint64_t>(space.available);
}

bool globMatches(const std::string& pattern, const std::string& path) {
    // Python's fnmatch rules, on every platform: `*` also crosses folders (users write `unet/*`
    // or `*.json` expecting exactly that), `?` is one character, `[a-z]` / `[!0-9]` a set, and
    // there is no escape character. Backtracking over the last `*` keeps this linear in practice.
    size_t p = 0, s = 0, starAt = std::string::npos, resumeAt = 0;
    while (s < path.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            starAt = p++;
            resumeAt = s;
            continue;
        }
        if (p < pattern.size()) {
            if (pattern[p] == '[') {
                const size_t close = bracketEnd(pattern, p);
                if (close != std::string::npos) {
                    if (bracketMatches(pattern, p, close, path[s])) {
                        p = close + 1;
                        ++s;
                        continue;
                    }
                } else if (path[s] == '[') {  // an unclosed '[' is itself
                    ++p;
                    ++s;
                    continue;
                }
            } else if (pattern[p] == '?' || pattern[p] == path[s]) {
                ++p;
                ++s;
                continue;
            }
        }
        if (starAt == std::string::npos) return false;
        p = starAt + 1;
        s = ++resumeAt;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool linkOrCopy(const fs::path& target, const fs::path& link) {
    fs::create_directories(link.parent_path());
    fs::path staging = temporarySiblingPath(link);
    std::error_code ec;
    fs::create_symlink(fs::relative(target, link.parent_path()), staging, ec);
    bool linked = !ec;
    if (!linked) {
        fs::copy_file(target, staging, fs::copy_options::overwrite_existing, ec);
        if (ec)
            throw HubError(HubErrorKind::Cache,
                           "cannot link or copy " + target.string() + " to " + link.string() + ": " + ec.message());
    }
    fs::rename(staging, link, ec);
    if (ec) {
        fs::remove(staging);
        throw HubError(HubErrorKind::Cache, "cannot create " + link.string() + ": " + ec.message());
    }
    return linked;
}

}  // namespace grym::hub
