#include "weights/pytorch_tensors.h"

#include "common/error.h"
#include "weights/mapped_tensor.h"

#include <torch/torch.h>

#include <cstring>

namespace grym {
namespace {

torch::Tensor storageTensor(const PytorchCheckpoint& checkpoint, const PickledStorage& storage) {
    const ZipBytes bytes = checkpoint.storageBytes(storage.key);
    const auto options = torch::TensorOptions().dtype(safetensorsScalarType(storage.dtype));
    const auto numel = static_cast<int64_t>(storage.numel);
    if (storage.numel == 0) return torch::empty({0}, options);
    // A C++ bool must hold 0 or 1; any other byte would be undefined behaviour in every kernel.
    if (storage.dtype == "BOOL") {
        for (uint64_t k = 0; k < bytes.size; ++k)
            if (bytes.data[k] > 1)
                throw ModelError(checkpoint.path() + ": storage '" + storage.key + "' (BoolStorage) holds the byte " +
                                 std::to_string(bytes.data[k]) + " at element " + std::to_string(k) +
                                 "; booleans must be 0 or 1");
    }
    // torch.save aligns storages to 64 bytes; other writers may not, and kernels expect aligned data.
    if (reinterpret_cast<uintptr_t>(bytes.data) % storage.elementBytes != 0) {
        auto copy = torch::empty({numel}, options);
        std::memcpy(copy.data_ptr(), bytes.data, static_cast<size_t>(bytes.size));
        return copy;
    }
    return mappedTensorView(checkpoint.file(), bytes.data, {numel}, options);
}

}  // namespace

StateDict pytorchStateDict(const PytorchCheckpoint& checkpoint) {
    std::map<std::string, torch::Tensor> storages;
    for (const auto& [key, storage] : checkpoint.storages()) storages[key] = storageTensor(checkpoint, storage);
    StateDict out;
    for (const auto& t : checkpoint.tensors())
        out[t.name] = storages.at(t.storageKey).as_strided(t.shape, t.strides, t.storageOffset);
    return out;
}

StateDict loadPytorchCheckpoint(const std::string& path) { return pytorchStateDict(PytorchCheckpoint(path)); }

}  // namespace grym
