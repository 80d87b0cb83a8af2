#include "orchestration/torch_memory_probe.h"

#include <torch/cuda.h>

// The caching allocator's API only exists (and links) when libtorch was built with CUDA;
// core/CMakeLists.txt defines GRYM_TORCH_CUDA in that case.
#if defined(GRYM_TORCH_CUDA) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define GRYM_HAVE_CUDA_ALLOCATOR_STATS 1
#endif

namespace grym {

TorchCudaMemory readTorchCudaMemory(int device) {
    TorchCudaMemory m;
#ifdef GRYM_HAVE_CUDA_ALLOCATOR_STATS
    if (!torch::cuda::is_available() || device >= static_cast<int>(torch::cuda::device_count())) return m;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    // StatType::AGGREGATE is index 0 in every libtorch; the enum itself moved between namespaces.
    const size_t aggregate = 0;
    m.available = true;
    m.allocatedBytes = static_cast<uint64_t>(stats.allocated_bytes[aggregate].current);
    m.peakAllocatedBytes = static_cast<uint64_t>(stats.allocated_bytes[aggregate].peak);
    m.reservedBytes = static_cast<uint64_t>(stats.reserved_bytes[aggregate].current);
#else
    (void)device;
#endif
    return m;
}

void resetTorchCudaPeak(int device) {
#ifdef GRYM_HAVE_CUDA_ALLOCATOR_STATS
    if (!torch::cuda::is_available() || device >= static_cast<int>(torch::cuda::device_count())) return;
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
#else
    (void)device;
#endif
}

}  // namespace grym
