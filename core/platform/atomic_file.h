#pragma once
// Replacing a file so that a reader (or a crash) sees the old content or the new, never half of
// one: the bytes go to a uniquely named file beside the destination, are flushed to disk, and
// the file is renamed over the destination.
#include <cstddef>
#include <filesystem>

namespace grym {

// A name beside `path` that no other writer picks: "<name>.tmp-<random>".
std::filesystem::path temporarySiblingPath(const std::filesystem::path& path);

// Writes `size` bytes to `path` atomically (see above). An existing file's permissions are kept;
// a new one gets the usual 0644 (POSIX). The folder must exist. Throws std::system_error whose
// message says which step failed; the temporary file is then removed.
void writeFileAtomically(const std::filesystem::path& path, const void* data, std::size_t size);

}  // namespace grym
