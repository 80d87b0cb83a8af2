#pragma once
// Reader for the safetensors format: 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then raw little-endian data.
// The file is memory-mapped; tensors are views into the mapping (no copy) that keep
// the mapping alive for as long as any tensor refers to it.
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace grym {

struct TensorInfo {
    std::string name;
    std::string dtype;            // "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL"
    std::vector<int64_t> shape;
    uint64_t begin = 0;           // byte offsets inside the data area
    uint64_t end = 0;
};

class MappedFile;

class SafetensorsFile {
public:
    // Opens, maps and validates the whole header; throws ModelError naming the file and cause.
    explicit SafetensorsFile(const std::string& path);
    // The same validation over bytes already in memory; `name` stands for the path in messages.
    SafetensorsFile(std::vector<uint8_t> bytes, const std::string& name);
    ~SafetensorsFile();

    const std::string& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return infos_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    bool contains(const std::string& name) const;
    const TensorInfo& info(const std::string& name) const;

    // A CPU tensor viewing the mapped bytes (no copy). It stays valid after this object is gone.
    torch::Tensor tensor(const std::string& name) const;

private:
    void parse();
    std::string path_;
    std::shared_ptr<MappedFile> file_;
    uint64_t dataStart_ = 0;
    std::vector<TensorInfo> infos_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Largest header we accept; real checkpoints stay far below this.
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1024 * 1024;

// Name -> tensor, as read from one file or a sharded checkpoint.
using StateDict = std::map<std::string, torch::Tensor>;

// Loads every tensor of one .safetensors file (views into the mapping).
StateDict loadSafetensors(const std::string& path);

// Writes tensors in the safetensors format (names sorted, header padded to 8 bytes, data
// contiguous little-endian), as the reference library does. Throws ModelError on I/O failure
// or a dtype the format cannot hold.
void saveSafetensors(const std::string& path, const StateDict& tensors,
                     const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// The torch dtype of a safetensors dtype name ("F32", "BF16", ...); throws ModelError for others.
torch::ScalarType safetensorsScalarType(const std::string& dtype);
// The safetensors dtype name of a torch dtype ("F32", ...), or nullptr when the format has none.
// The one table both writers (saveSafetensors, SafetensorsWriter) and the reader use.
const char* safetensorsDtypeName(torch::ScalarType type);

}  // namespace grym
