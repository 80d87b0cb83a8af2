#pragma once
// Tensors that view a memory-mapped checkpoint (MappedFile) without copying it. The view keeps
// the mapping alive, and because it records which mapping it came from, a loader can hand the
// pages back once it has consumed the tensor (copied it into a parameter, or quantised it), so a
// checkpoint never becomes resident as a whole while its model is built.
#include <torch/types.h>

#include <memory>

namespace grym {

class MappedFile;

// A CPU tensor of `shape` (contiguous) over `data`, which lies inside `file`'s mapping.
torch::Tensor mappedTensorView(std::shared_ptr<const MappedFile> file, const uint8_t* data, at::IntArrayRef shape,
                               const torch::TensorOptions& options);

// When `tensor` is a contiguous view made by mappedTensorView (or a view of one), drops its
// whole pages from this process's resident set (MappedFile::releasePages); otherwise does
// nothing. The tensor stays valid: reading it again faults the pages back from the page cache.
void releaseMappedPages(const torch::Tensor& tensor);

}  // namespace grym
