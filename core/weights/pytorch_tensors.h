#pragma once
// The torch half of the PyTorch checkpoint reader: turns the checked records of a
// PytorchCheckpoint into CPU tensors. Each storage becomes one tensor over the mapped bytes and
// every tensor a view of it (storage offset and strides as saved), so tensors that shared a
// storage in Python share it here, and nothing is copied unless a storage is misaligned.
#include "weights/pytorch_checkpoint.h"
#include "weights/safetensors.h"

#include <string>

namespace grym {

// Name -> tensor view; the views keep the mapping alive after `checkpoint` is gone.
StateDict pytorchStateDict(const PytorchCheckpoint& checkpoint);

// Opens `path` (a torch.save zip checkpoint) and returns its tensors; throws ModelError.
StateDict loadPytorchCheckpoint(const std::string& path);

}  // namespace grym
