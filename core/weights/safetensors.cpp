#include "weights/safetensors.h"

#include "common/strings.h"

#include "common/error.h"
#include "platform/mapped_file.h"
#include "weights/mapped_tensor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace grym {

namespace {

struct DtypeSpec {
    const char* name;
    torch::ScalarType type;
    uint64_t bytes;
};

const DtypeSpec kDtypes[] = {
    {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kFloat64, 8}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeSpec* findDtype(const std::string& name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

}  // namespace

torch::ScalarType safetensorsScalarType(const std::string& dtype) {
    const DtypeSpec* spec = findDtype(dtype);
    if (!spec) throw ModelError("unsupported tensor dtype '" + dtype + "'");
    return spec->type;
}

const char* safetensorsDtypeName(torch::ScalarType type) {
    for (const auto& d : kDtypes)
        if (d.type == type) return d.name;
    return nullptr;
}

namespace {

uint64_t readLe64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    file_ = std::make_shared<MappedFile>(path);
    parse();
}

SafetensorsFile::SafetensorsFile(std::vector<uint8_t> bytes, const std::string& name) : path_(name) {
    file_ = std::make_shared<MappedFile>(std::move(bytes));
    parse();
}

void SafetensorsFile::parse() {
    const std::string& path = path_;
    const uint64_t size = file_->size();
    auto fail = [&](const std::string& why) { throw ModelError(path + ": " + why); };
    if (size < 8) fail("file is too short to be a safetensors file (" + std::to_string(size) + " bytes)");
    const uint64_t headerLen = readLe64(file_->data());
    if (headerLen > kMaxSafetensorsHeaderBytes)
        fail("header length " + std::to_string(headerLen) + " exceeds the " +
             std::to_string(kMaxSafetensorsHeaderBytes) + "-byte limit (corrupt or not safetensors)");
    if (headerLen > size - 8)
        fail("header length " + std::to_string(headerLen) + " runs past the end of the file (" +
             std::to_string(size) + " bytes): file is truncated or corrupt");
    dataStart_ = 8 + headerLen;
    const uint64_t dataSize = size - dataStart_;

    nlohmann::json header;
    try {
        header = nlohmann::json::parse(reinterpret_cast<const char*>(file_->data() + 8),
                                       reinterpret_cast<const char*>(file_->data() + 8 + headerLen));
    } catch (const std::exception& e) {
        fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail("header is not a JSON object");

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const auto& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) fail("__metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m)
                if (m.value().is_string()) metadata_[m.key()] = m.value().get<std::string>();
            continue;
        }
        const std::string where = "tensor '" + name + "': ";
        if (!v.is_object()) fail(where + "entry is not an object");
        if (!v.contains("dtype") || !v["dtype"].is_string()) fail(where + "missing or invalid dtype");
        if (!v.contains("shape") || !v["shape"].is_array()) fail(where + "missing or invalid shape");
        if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
            fail(where + "missing or invalid data_offsets");
        TensorInfo info;
        info.name = name;
        info.dtype = v["dtype"].get<std::string>();
        const DtypeSpec* spec = findDtype(info.dtype);
        if (!spec) fail(where + "unsupported dtype '" + info.dtype + "'");
        uint64_t elements = 1;
        for (const auto& d : v["shape"]) {
            if (!d.is_number_unsigned()) fail(where + "shape has a negative or non-integer dimension");
            const uint64_t n = d.get<uint64_t>();
            if (n != 0 && elements > (UINT64_MAX / 8) / n) fail(where + "shape is absurdly large");
            elements *= n;
            info.shape.push_back(static_cast<int64_t>(n));
        }
        for (const auto& o : v["data_offsets"])
            if (!o.is_number_unsigned()) fail(where + "data_offsets are not non-negative integers");
        info.begin = v["data_offsets"][0].get<uint64_t>();
        info.end = v["data_offsets"][1].get<uint64_t>();
        if (info.end < info.begin) fail(where + "data_offsets end before they begin");
        if (info.end > dataSize)
            fail(where + "data range [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                 ") lies outside the " + std::to_string(dataSize) + "-byte data area (file truncated?)");
        if (info.end - info.begin != elements * spec->bytes)
            fail(where + "byte range holds " + std::to_string(info.end - info.begin) + " bytes but shape x " +
                 info.dtype + " needs " + std::to_string(elements * spec->bytes));
        index_[name] = infos_.size();
        infos_.push_back(std::move(info));
    }

    // No two tensors may share bytes.
    std::vector<const TensorInfo*> sorted;
    for (const auto& i : infos_) sorted.push_back(&i);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    const TensorInfo* reach = nullptr;  // the tensor whose bytes extend furthest so far
    for (const TensorInfo* t : sorted) {
        if (t->end == t->begin) continue;
        if (reach && t->begin < reach->end)
            fail("tensors '" + reach->name + "' and '" + t->name + "' overlap");
        if (!reach || t->end > reach->end) reach = t;
    }
}

SafetensorsFile::~SafetensorsFile() = default;

bool SafetensorsFile::contains(const std::string& name) const { return index_.count(name) != 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw ModelError(path_ + ": no tensor named '" + name + "'");
    return infos_[it->second];
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
    const TensorInfo& i = info(name);
    const DtypeSpec* spec = findDtype(i.dtype);
    if (i.end == i.begin)
        return torch::empty(i.shape, torch::TensorOptions().dtype(spec->type));
    void* p = const_cast<uint8_t*>(file_->data() + dataStart_ + i.begin);
    // A C++ bool must hold 0 or 1; any other byte would be undefined behaviour in every kernel.
    if (spec->type == torch::kBool) {
        const auto* bytes = static_cast<const uint8_t*>(p);
        for (uint64_t k = 0; k < i.end - i.begin; ++k)
            if (bytes[k] > 1)
                throw ModelError(path_ + ": tensor '" + name + "' (BOOL) holds the byte " + std::to_string(bytes[k]) +
                                 " at element " + std::to_string(k) + "; booleans must be 0 or 1");
    }
    // Unaligned views are legal in the format; copy those so every kernel sees aligned memory.
    if (reinterpret_cast<uintptr_t>(p) % spec->bytes != 0) {
        auto t = torch::empty(i.shape, torch::TensorOptions().dtype(spec->type));
        std::memcpy(t.data_ptr(), p, i.end - i.begin);
        return t;
    }
    return mappedTensorView(file_, static_cast<const uint8_t*>(p), i.shape, torch::TensorOptions().dtype(spec->type));
}

StateDict loadSafetensors(const std::string& path) {
    SafetensorsFile f(path);
    StateDict out;
    for (const auto& i : f.tensors()) out[i.name] = f.tensor(i.name);
    return out;
}

void saveSafetensors(const std::string& path, const StateDict& tensors, const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<torch::Tensor> data;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        const char* dtype = safetensorsDtypeName(tensor.scalar_type());
        if (!dtype) throw ModelError(path + ": tensor '" + name + "' has a dtype safetensors cannot store");
        torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        const uint64_t bytes = static_cast<uint64_t>(t.nbytes());
        header[name] = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(t);
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelError(path + ": cannot open for writing");
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data) out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    if (!out.flush()) throw ModelError(path + ": write failed (disk full?)");
}

}  // namespace grym
