#pragma once
// Reader for `torch.save` zip checkpoints (.bin, .pt, .pth, .ckpt), without torch: the archive
// is memory-mapped, its `data.pkl` read by the restricted unpickler, and every tensor's storage,
// offset, sizes and strides checked against the bytes the archive holds. The torch::Tensor views
// are made by pytorch_tensors.h; this layer only says where each tensor's bytes are.
#include "platform/mapped_file.h"
#include "weights/restricted_unpickler.h"
#include "weights/zip_archive.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grym {

class PytorchCheckpoint {
public:
    // Maps and checks the file; throws ModelError naming it and the cause (legacy pre-zip
    // format, not a checkpoint, truncated, hostile pickle, out-of-range tensor, ...).
    explicit PytorchCheckpoint(const std::string& path, const UnpicklerLimits& limits = {});
    // The same over bytes in memory; `name` stands for the path in messages.
    PytorchCheckpoint(std::vector<uint8_t> bytes, const std::string& name, const UnpicklerLimits& limits = {});

    const std::string& path() const { return path_; }
    const std::vector<PickledTensor>& tensors() const { return state_.tensors; }
    const std::map<std::string, PickledStorage>& storages() const { return state_.storages; }
    // Globals the pickle named that were never called (for messages and tests).
    const std::set<std::string>& inertGlobals() const { return state_.inertGlobals; }
    // The bytes of a storage (exactly numel * element size), inside the mapping.
    ZipBytes storageBytes(const std::string& key) const;
    const std::shared_ptr<const MappedFile>& file() const { return file_; }

private:
    void open(const UnpicklerLimits& limits);
    void checkTensor(const PickledTensor& tensor) const;

    std::string path_;
    std::shared_ptr<const MappedFile> file_;
    PickledStateDict state_;
    std::map<std::string, ZipBytes> storageBytes_;
};

}  // namespace grym
