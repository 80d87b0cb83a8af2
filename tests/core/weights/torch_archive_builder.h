#pragma once
// Test helpers that write the bytes of a torch.save-style archive by hand, so hostile and
// unusual files (zip64 records, unaligned entries, crafted pickles) need no Python.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace grym::test {

using Bytes = std::vector<uint8_t>;

inline void putLe(Bytes& out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>((value >> (8 * i)) & 0xff));
}

struct ZipOptions {
    bool zip64 = false;        // write every size and offset through the zip64 records
    size_t alignment = 1;      // pad local headers so that entry data starts on this boundary...
    size_t remainder = 0;      // ...plus this many bytes (to place data off the boundary on purpose)
    uint16_t method = 0;       // the method written in the headers (the data is stored regardless)
};

// A stored zip of (name, data) entries; CRCs are left zero (the reader does not use them).
inline Bytes makeZip(const std::vector<std::pair<std::string, std::string>>& entries, const ZipOptions& options = {}) {
    Bytes out, directory;
    for (const auto& [name, data] : entries) {
        const uint64_t localOffset = out.size();
        size_t padding = 0;
        while ((localOffset + 30 + name.size() + 4 + padding) % options.alignment != options.remainder) ++padding;
        putLe(out, 0x04034b50, 4);
        putLe(out, 45, 2);
        putLe(out, 0, 2);
        putLe(out, options.method, 2);
        putLe(out, 0, 4);  // time, date
        putLe(out, 0, 4);  // crc
        putLe(out, options.zip64 ? 0xffffffff : data.size(), 4);
        putLe(out, options.zip64 ? 0xffffffff : data.size(), 4);
        putLe(out, name.size(), 2);
        putLe(out, 4 + padding, 2);
        out.insert(out.end(), name.begin(), name.end());
        putLe(out, 0xcafe, 2);  // an unknown extra field that only pads
        putLe(out, padding, 2);
        out.insert(out.end(), padding, 0);
        out.insert(out.end(), data.begin(), data.end());

        putLe(directory, 0x02014b50, 4);
        putLe(directory, 45, 2);
        putLe(directory, 45, 2);
        putLe(directory, 0, 2);
        putLe(directory, options.method, 2);
        putLe(directory, 0, 4);
        putLe(directory, 0, 4);
        putLe(directory, options.zip64 ? 0xffffffff : data.size(), 4);
        putLe(directory, options.zip64 ? 0xffffffff : data.size(), 4);
        putLe(directory, name.size(), 2);
        putLe(directory, options.zip64 ? 28 : 0, 2);
        putLe(directory, 0, 2);  // comment
        putLe(directory, 0, 2);  // disk
        putLe(directory, 0, 2);
        putLe(directory, 0, 4);
        putLe(directory, options.zip64 ? 0xffffffff : localOffset, 4);
        directory.insert(directory.end(), name.begin(), name.end());
        if (options.zip64) {
            putLe(directory, 0x0001, 2);
            putLe(directory, 24, 2);
            putLe(directory, data.size(), 8);
            putLe(directory, data.size(), 8);
            putLe(directory, localOffset, 8);
        }
    }
    const uint64_t directoryOffset = out.size();
    out.insert(out.end(), directory.begin(), directory.end());
    if (options.zip64) {
        const uint64_t zip64End = out.size();
        putLe(out, 0x06064b50, 4);
        putLe(out, 44, 8);
        putLe(out, 45, 2);
        putLe(out, 45, 2);
        putLe(out, 0, 4);
        putLe(out, 0, 4);
        putLe(out, entries.size(), 8);
        putLe(out, entries.size(), 8);
        putLe(out, directory.size(), 8);
        putLe(out, directoryOffset, 8);
        putLe(out, 0x07064b50, 4);
        putLe(out, 0, 4);
        putLe(out, zip64End, 8);
        putLe(out, 1, 4);
    }
    putLe(out, 0x06054b50, 4);
    putLe(out, 0, 2);
    putLe(out, 0, 2);
    putLe(out, options.zip64 ? 0xffff : entries.size(), 2);
    putLe(out, options.zip64 ? 0xffff : entries.size(), 2);
    putLe(out, options.zip64 ? 0xffffffff : directory.size(), 4);
    putLe(out, options.zip64 ? 0xffffffff : directoryOffset, 4);
    putLe(out, 0, 2);
    return out;
}

// Pickle opcodes, written the way Python's pickler (protocol 2) writes them.
class PickleWriter {
public:
    PickleWriter() { raw("\x80\x02"); }
    PickleWriter& raw(const std::string& bytes) {
        text_ += bytes;
        return *this;
    }
    PickleWriter& integer(int64_t v) {  // LONG1 with 8 bytes covers every value
        text_ += '\x8a';
        text_ += '\x08';
        for (int i = 0; i < 8; ++i) text_ += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
        return *this;
    }
    PickleWriter& string(const std::string& s) {
        text_ += 'X';
        for (int i = 0; i < 4; ++i) text_ += static_cast<char>((s.size() >> (8 * i)) & 0xff);
        text_ += s;
        return *this;
    }
    PickleWriter& global(const std::string& module, const std::string& name) { return raw("c" + module + "\n" + name + "\n"); }
    PickleWriter& mark() { return raw("("); }
    PickleWriter& tuple() { return raw("t"); }
    PickleWriter& integers(const std::vector<int64_t>& values) {
        mark();
        for (auto v : values) integer(v);
        return tuple();
    }
    // _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, sizes, strides, False, OrderedDict())
    PickleWriter& tensor(const std::string& storageType, const std::string& key, int64_t numel, int64_t offset,
                         const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().string("storage").global("torch", storageType).string(key).string("cpu").integer(numel).tuple().raw("Q");
        integer(offset).integers(sizes).integers(strides).raw("\x89");
        global("collections", "OrderedDict").raw(")R");
        return tuple().raw("R");
    }
    std::string done() const { return text_ + "."; }

private:
    std::string text_;
};

// A pickle of {name: tensor} around one tensor, and the archive holding it and its storage.
inline Bytes singleTensorArchive(const std::string& name, const std::string& storageType, const std::string& key,
                                 int64_t numel, int64_t offset, const std::vector<int64_t>& sizes,
                                 const std::vector<int64_t>& strides, const std::string& storageBytes) {
    PickleWriter p;
    p.raw("}").string(name).tensor(storageType, key, numel, offset, sizes, strides).raw("s");
    return makeZip({{"archive/data.pkl", p.done()}, {"archive/data/" + key, storageBytes}, {"archive/version", "3\n"}});
}

}  // namespace grym::test
