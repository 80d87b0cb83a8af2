// Field layouts follow PKWARE's APPNOTE.TXT (sections 4.3.7 local header, 4.3.12 central
// directory header, 4.3.14-4.3.16 end-of-central-directory records, 4.5.3 zip64 extra field).
#include "weights/zip_archive.h"

#include "common/error.h"

#include <algorithm>

namespace grym {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint64_t kLocalHeaderBytes = 30;
constexpr uint64_t kCentralHeaderBytes = 46;
constexpr uint64_t kEndRecordBytes = 22;
constexpr uint64_t kZip64LocatorBytes = 20;
constexpr uint64_t kZip64EndRecordBytes = 56;
constexpr uint64_t kMaxCommentBytes = 0xffff;
constexpr uint16_t kEncryptedFlag = 0x0001;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return le16(p) | (static_cast<uint32_t>(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

// True when [offset, offset + length) lies inside a file of `size` bytes, without overflow.
bool fits(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

}  // namespace

bool looksLikeZip(const uint8_t* data, uint64_t size) { return size >= 4 && le32(data) == kLocalHeaderSignature; }

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file, std::string name)
    : file_(std::move(file)), name_(std::move(name)) {
    readCentralDirectory();
}

void ZipArchive::fail(const std::string& why) const { throw ModelError(name_ + ": " + why); }

void ZipArchive::readCentralDirectory() {
    const uint8_t* data = file_->data();
    const uint64_t size = file_->size();
    if (size < kEndRecordBytes) fail("too short to be a zip archive (" + std::to_string(size) + " bytes)");

    // The end record sits at the end, followed only by a comment of at most 64 KiB.
    uint64_t end = size - kEndRecordBytes;
    const uint64_t lowest = end > kMaxCommentBytes ? end - kMaxCommentBytes : 0;
    while (true) {
        if (le32(data + end) == kEndSignature && end + kEndRecordBytes + le16(data + end + 20) == size) break;
        if (end == lowest)
            fail("no zip end-of-central-directory record (the file is truncated or not a zip archive)");
        --end;
    }
    const uint8_t* record = data + end;
    uint64_t diskNumber = le16(record + 4), directoryDisk = le16(record + 6);
    uint64_t entryCount = le16(record + 10);
    uint64_t directorySize = le32(record + 12), directoryOffset = le32(record + 16);

    // Zip64: a locator right before the end record points to the 64-bit end record.
    if (end >= kZip64LocatorBytes && le32(data + end - kZip64LocatorBytes) == kZip64LocatorSignature) {
        const uint64_t zip64End = le64(data + end - kZip64LocatorBytes + 8);
        if (!fits(zip64End, kZip64EndRecordBytes, end - kZip64LocatorBytes) || le32(data + zip64End) != kZip64EndSignature)
            fail("the zip64 locator points to " + std::to_string(zip64End) + ", where there is no zip64 end record");
        const uint8_t* r = data + zip64End;
        diskNumber = le32(r + 16);
        directoryDisk = le32(r + 20);
        entryCount = le64(r + 32);
        directorySize = le64(r + 40);
        directoryOffset = le64(r + 48);
    } else if (entryCount == 0xffff || directorySize == 0xffffffff || directoryOffset == 0xffffffff) {
        fail("the end record asks for zip64 values but the zip64 locator is missing (truncated archive?)");
    }
    if (diskNumber != 0 || directoryDisk != 0) fail("multi-part (spanned) zip archives are not supported");
    if (!fits(directoryOffset, directorySize, end))
        fail("the central directory [" + std::to_string(directoryOffset) + ", +" + std::to_string(directorySize) +
             ") lies outside the archive (" + std::to_string(size) + " bytes): the file is truncated or corrupt");
    if (entryCount > directorySize / kCentralHeaderBytes)
        fail("the end record claims " + std::to_string(entryCount) + " entries, more than a " +
             std::to_string(directorySize) + "-byte central directory can hold");

    entries_.reserve(static_cast<size_t>(entryCount));
    uint64_t at = directoryOffset;
    const uint64_t directoryEnd = directoryOffset + directorySize;
    for (uint64_t i = 0; i < entryCount; ++i) {
        const std::string where = "central directory entry " + std::to_string(i) + ": ";
        if (!fits(at, kCentralHeaderBytes, directoryEnd) || le32(data + at) != kCentralHeaderSignature)
            fail(where + "missing or corrupt header at byte " + std::to_string(at));
        const uint8_t* h = data + at;
        const uint64_t nameLength = le16(h + 28), extraLength = le16(h + 30), commentLength = le16(h + 32);
        if (!fits(at + kCentralHeaderBytes, nameLength + extraLength + commentLength, directoryEnd))
            fail(where + "its name and extra fields run past the central directory");
        ZipEntry entry;
        entry.flags = le16(h + 8);
        entry.method = le16(h + 10);
        entry.compressedSize = le32(h + 20);
        entry.uncompressedSize = le32(h + 24);
        entry.localHeaderOffset = le32(h + 42);
        const uint16_t startDisk = le16(h + 34);
        entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderBytes), nameLength);

        // Only the fields saturated at 0xffffffff appear in the zip64 extra field, in this order.
        const uint8_t* extra = h + kCentralHeaderBytes + nameLength;
        const uint8_t* extraEnd = extra + extraLength;
        while (extraEnd - extra >= 4) {
            const uint16_t id = le16(extra), length = le16(extra + 2);
            const uint8_t* value = extra + 4;
            if (length > extraEnd - value) fail(where + "('" + entry.name + "') has a truncated extra field");
            if (id == kZip64ExtraId) {
                const uint8_t* valueEnd = value + length;
                for (uint64_t* field : {&entry.uncompressedSize, &entry.compressedSize, &entry.localHeaderOffset}) {
                    if (*field != 0xffffffff) continue;
                    if (valueEnd - value < 8) fail(where + "('" + entry.name + "') has a zip64 extra field that is too short");
                    *field = le64(value);
                    value += 8;
                }
            }
            extra += 4 + length;
        }
        if (startDisk != 0 && startDisk != 0xffff) fail("multi-part (spanned) zip archives are not supported");
        if (index_.count(entry.name)) fail("the entry '" + entry.name + "' appears twice");
        index_[entry.name] = entries_.size();
        entries_.push_back(std::move(entry));
        at += kCentralHeaderBytes + nameLength + extraLength + commentLength;
    }
}

const ZipEntry* ZipArchive::find(const std::string& entryName) const {
    const auto it = index_.find(entryName);
    return it == index_.end() ? nullptr : &entries_[it->second];
}

ZipBytes ZipArchive::storedBytes(const ZipEntry& entry) const {
    const std::string where = "entry '" + entry.name + "' ";
    if (entry.flags & kEncryptedFlag) fail(where + "is encrypted");
    if (entry.method != 0)
        fail(where + "is compressed (zip method " + std::to_string(entry.method) +
             "); torch.save writes entries uncompressed, so re-save the checkpoint with torch.save");
    if (entry.compressedSize != entry.uncompressedSize)
        fail(where + "is stored but its compressed and uncompressed sizes differ");
    const uint8_t* data = file_->data();
    const uint64_t size = file_->size();
    const uint64_t at = entry.localHeaderOffset;
    if (!fits(at, kLocalHeaderBytes, size) || le32(data + at) != kLocalHeaderSignature)
        fail(where + "has no local header at byte " + std::to_string(at) + " (truncated or corrupt archive)");
    // The local header's extra field may differ from the central one (torch pads it so that
    // tensor data starts on a 64-byte boundary), so the data offset comes from here.
    const uint64_t nameLength = le16(data + at + 26), extraLength = le16(data + at + 28);
    if (nameLength != entry.name.size() || !fits(at + kLocalHeaderBytes, nameLength, size) ||
        !std::equal(entry.name.begin(), entry.name.end(), data + at + kLocalHeaderBytes))
        fail(where + "has a local header that names another file (corrupt archive)");
    ZipBytes bytes;
    bytes.offset = at + kLocalHeaderBytes + nameLength + extraLength;
    bytes.size = entry.compressedSize;
    if (!fits(bytes.offset, bytes.size, size))
        fail(where + "data [" + std::to_string(bytes.offset) + ", +" + std::to_string(bytes.size) +
             ") runs past the end of the archive (" + std::to_string(size) + " bytes): the file is truncated");
    bytes.data = data + bytes.offset;
    return bytes;
}

}  // namespace grym
