#pragma once
// A read-only view of a whole file through the OS memory mapping (mmap / MapViewOfFile), or of
// bytes already in memory. Weight readers hand out tensors that point straight into it, so it
// is shared (std::shared_ptr) and outlives every tensor that refers to it.
#include <cstdint>
#include <string>
#include <vector>

namespace grym {

class MappedFile {
public:
    // Maps `path` read-only; throws ModelError naming the file when it cannot be opened or mapped.
    explicit MappedFile(const std::string& path);
    // Holds bytes already in memory (parsing buffers, tests, fuzzing) instead of a mapping.
    explicit MappedFile(std::vector<uint8_t> bytes);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

    // Tells the OS this process no longer needs the whole pages inside [begin, begin + bytes)
    // of the mapping, so they leave its resident set (they stay in the page cache, and a later
    // read faults them back in unchanged). Loaders call it on each tensor once it is consumed,
    // so a checkpoint's pages do not all stay resident while the model is being built. Does
    // nothing for bytes held in memory, for ranges outside the mapping, and on Windows.
    void releasePages(const void* begin, uint64_t bytes) const;

    // True when `address` lies in a mapping whose file another program shrank while it was
    // mapped. Reading such pages would stop the process (SIGBUS); instead the pages read as zeros
    // and this turns true, so a reader checks it after copying and reports the file as changed.
    // On Windows the file is opened without write sharing, so it cannot shrink while mapped.
    static bool lostPagesAt(const void* address);

private:
#ifdef _WIN32
    void* file_ = nullptr;     // HANDLEs, kept as void* so that <windows.h> stays out of this header
    void* mapping_ = nullptr;
#else
    int fd_ = -1;
#endif
    std::vector<uint8_t> owned_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace grym
