#pragma once
// Read-only directory of a zip archive held in a MappedFile, for PyTorch's `torch.save` files.
// Entries that are stored (not compressed) are handed out as byte ranges inside the mapping,
// so tensor data is never copied. Zip64 sizes and offsets are understood; multi-disk archives,
// encryption and compressed entries are refused with a ModelError naming the archive and entry.
#include "platform/mapped_file.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grym {

struct ZipEntry {
    std::string name;
    uint16_t method = 0;          // 0 = stored; anything else is compressed
    uint16_t flags = 0;
    uint64_t compressedSize = 0;
    uint64_t uncompressedSize = 0;
    uint64_t localHeaderOffset = 0;
};

// Bytes of one stored entry inside the mapping.
struct ZipBytes {
    const uint8_t* data = nullptr;
    uint64_t size = 0;
    uint64_t offset = 0;  // from the start of the archive
};

// Zip files begin with the local-header signature "PK\3\4".
bool looksLikeZip(const uint8_t* data, uint64_t size);

class ZipArchive {
public:
    // Reads and checks the central directory; `name` stands for the archive in messages.
    ZipArchive(std::shared_ptr<const MappedFile> file, std::string name);

    const std::string& name() const { return name_; }
    const std::vector<ZipEntry>& entries() const { return entries_; }
    const ZipEntry* find(const std::string& entryName) const;
    // The bytes of a stored entry, after checking its local header and that it lies inside the
    // archive. Throws ModelError for compressed or encrypted entries.
    ZipBytes storedBytes(const ZipEntry& entry) const;
    const std::shared_ptr<const MappedFile>& file() const { return file_; }

private:
    void readCentralDirectory();
    [[noreturn]] void fail(const std::string& why) const;

    std::shared_ptr<const MappedFile> file_;
    std::string name_;
    std::vector<ZipEntry> entries_;
    std::map<std::string, size_t> index_;
};

}  // namespace grym
