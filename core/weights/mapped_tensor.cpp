#include "weights/mapped_tensor.h"

#include "platform/mapped_file.h"

#include <ATen/ops/from_blob.h>

namespace grym {

namespace {

// The storage context of a mapped view: its deleter's address is how releaseMappedPages knows
// a storage is one of these (and not heap memory, which madvise would wipe).
struct MappedViewContext {
    std::shared_ptr<const MappedFile> file;
};

void deleteMappedViewContext(void* context) { delete static_cast<MappedViewContext*>(context); }

}  // namespace

torch::Tensor mappedTensorView(std::shared_ptr<const MappedFile> file, const uint8_t* data, at::IntArrayRef shape,
                               const torch::TensorOptions& options) {
    auto* context = new MappedViewContext{std::move(file)};
    return at::for_blob(const_cast<uint8_t*>(data), shape)
        .context(context, &deleteMappedViewContext)
        .options(options)
        .make_tensor();
}

void releaseMappedPages(const torch::Tensor& tensor) {
    if (!tensor.defined() || !tensor.has_storage() || !tensor.is_contiguous() || tensor.numel() == 0) return;
    const c10::DataPtr& storage = tensor.storage().data_ptr();
    if (storage.get_deleter() != &deleteMappedViewContext) return;
    const auto* context = static_cast<const MappedViewContext*>(storage.get_context());
    context->file->releasePages(tensor.data_ptr(), static_cast<uint64_t>(tensor.numel()) * tensor.element_size());
}

}  // namespace grym
