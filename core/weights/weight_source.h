#pragma once
// Where a model's weights come from. Every model loader reads its tensors through one
// WeightSource, found in the model's folder by openWeightSource(folder, stem). There are two
// implementations, one per on-disk format, each reading a single file or a sharded index:
//   safetensors: <stem>.safetensors, <stem>.safetensors.index.json
//   PyTorch (restricted reader, pytorch_checkpoint.h; never Python's pickle):
//     pytorch_model.bin for stem "model" (<stem>.bin otherwise), its .bin.index.json,
//     then <stem>.pt, .pth, .ckpt
// Safetensors wins when both are present. Tensors are CPU views into memory-mapped files.
#include "weights/safetensors.h"

#include <cstdint>
#include <memory>
#include <string>

namespace grym {

class WeightSource {
public:
    virtual ~WeightSource() = default;
    // The file read: a weights file or a shard index (for messages).
    const std::string& path() const { return path_; }
    // Every tensor, name -> CPU view. Throws ModelError naming the file and the cause.
    virtual StateDict load() const = 0;
    // How many elements the tensors hold, from the headers alone (no tensor data is touched).
    virtual uint64_t elementCount() const = 0;

protected:
    explicit WeightSource(std::string path) : path_(std::move(path)) {}

private:
    std::string path_;
};

// The source for `<stem>` in `folder` (the order above), or nullptr when there is none.
std::unique_ptr<WeightSource> findWeightSource(const std::string& folder, const std::string& stem);
// The same, but a missing folder or a folder with neither format is one ModelError naming both.
std::unique_ptr<WeightSource> openWeightSource(const std::string& folder, const std::string& stem);

// openWeightSource(folder, stem)->load().
StateDict loadCheckpoint(const std::string& folder, const std::string& stem);
// The file openWeightSource would read, or "" if there is none.
std::string findCheckpointFile(const std::string& folder, const std::string& stem);
// The same among the PyTorch names only (a .bin, its .bin.index.json, .pt, .pth, .ckpt).
std::string findPytorchCheckpointFile(const std::string& folder, const std::string& stem);
// The Hugging Face name of the PyTorch twin of `<stem>.safetensors`: "pytorch_model" for
// "model", the stem itself otherwise (diffusers' "diffusion_pytorch_model").
std::string pytorchStem(const std::string& stem);
// findWeightSource(folder, stem)->elementCount(), or 0 when there is no checkpoint.
uint64_t checkpointElementCount(const std::string& folder, const std::string& stem);

// A sharded checkpoint's index (`*.index.json`): shard file name -> the tensor names it holds.
// Throws ModelError for malformed JSON or shard names that are not plain file names.
std::map<std::string, std::set<std::string>> readShardIndex(const std::string& indexPath);

}  // namespace grym
