#pragma once
// Waits until `device` has finished the work queued on it: CUDA runs asynchronously, so a
// timing ends when the GPU is done, not when the launch returns. Nothing on the CPU.
#include <torch/torch.h>

namespace grym {

inline void waitForDevice(const torch::Device& device) {
    if (!device.is_cuda()) return;
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
    torch::cuda::synchronize(device.has_index() ? device.index() : -1);
#else
    torch::zeros({1}, torch::TensorOptions().device(device)).cpu();  // a copy to the host waits for the device
#endif
}

}  // namespace grym
