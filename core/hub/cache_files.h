#pragma once
// The Hub cache's file helpers: free disk space, shell-style globs as Python's fnmatch reads them
// and "symlink, else copy". The operating-system calls it needs (lock files, wide-path opening,
// atomic writes) are in core/platform/.
#include <cstdint>
#include <filesystem>
#include <string>

namespace grym::hub {

// Bytes an unprivileged process may still write on the file system holding `path` (which must
// exist). Throws HubError(Cache) when the file system cannot be queried.
uint64_t availableDiskBytes(const std::filesystem::path& path);

// Shell-style match as Python's fnmatch does it (`*` also crosses `/`, `?`, `[...]`).
bool globMatches(const std::string& pattern, const std::string& path);

// Creates `link` as a relative symbolic link to `target` (replacing whatever is at `link`,
// atomically); where the file system refuses symbolic links, copies `target` instead.
// Returns true when a link was made, false when a copy was.
bool linkOrCopy(const std::filesystem::path& target, const std::filesystem::path& link);

}  // namespace grym::hub
