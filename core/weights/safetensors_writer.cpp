#include "weights/safetensors_writer.h"

#include "common/error.h"
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace grym {

namespace {

uint64_t byteSize(const TensorSpec& s) {
    uint64_t n = c10::elementSize(s.dtype);
    for (auto d : s.shape) n *= static_cast<uint64_t>(d);
    return n;
}

}  // namespace

SafetensorsWriter::SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), tempPath_(path + ".partial"), specs_(std::move(specs)) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& s : specs_) {
        const char* name = safetensorsDtypeName(s.dtype);
        if (!name) throw ModelError(path + ": tensor '" + s.name + "' has a dtype safetensors cannot store");
        const uint64_t end = offset + byteSize(s);
        header[s.name] = {{"dtype", name}, {"shape", s.shape}, {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // keep the data area 8-byte aligned
    out_.open(tempPath_, std::ios::binary | std::ios::trunc);
    if (!out_) throw ModelError("cannot create '" + tempPath_ + "'");
    const uint64_t length = text.size();
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(length >> (8 * i));
    out_.write(reinterpret_cast<const char*>(le), 8);
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out_) throw ModelError("cannot write '" + tempPath_ + "'");
}

SafetensorsWriter::~SafetensorsWriter() {
    if (!finished_) {
        out_.close();
        std::remove(tempPath_.c_str());
    }
}

void SafetensorsWriter::write(const torch::Tensor& tensor) {
    if (next_ >= specs_.size()) throw ModelError(path_ + ": more tensors written than the header lists");
    const auto& spec = specs_[next_];
    if (tensor.scalar_type() != spec.dtype || tensor.sizes() != torch::IntArrayRef(spec.shape))
        throw ModelError(path_ + ": tensor '" + spec.name + "' does not match its header entry");
    // The format is little-endian, as are the CPUs we build for.
    auto data = tensor.to(torch::kCPU).contiguous();
    out_.write(static_cast<const char*>(data.data_ptr()), static_cast<std::streamsize>(data.nbytes()));
    if (!out_) throw ModelError("cannot write '" + tempPath_ + "' (disk full?)");
    ++next_;
}

void SafetensorsWriter::finish() {
    if (next_ != specs_.size())
        throw ModelError(path_ + ": only " + std::to_string(next_) + " of " + std::to_string(specs_.size()) +
                         " tensors were written");
    out_.close();
    if (!out_) throw ModelError("cannot finish writing '" + tempPath_ + "'");
    std::error_code ec;
    std::filesystem::rename(tempPath_, path_, ec);
    if (ec) throw ModelError("cannot rename '" + tempPath_ + "' to '" + path_ + "': " + ec.message());
    finished_ = true;
}

}  // namespace grym
