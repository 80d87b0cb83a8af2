#pragma once
// libtorch's CUDA caching-allocator statistics, for MemoryMonitorConfig::torchProbe:
//     config.torchProbe = [] { return grym::readTorchCudaMemory(); };
// Kept apart from memory_monitor.cpp so the orchestration layer itself never needs torch.
#include "orchestration/memory_monitor.h"

namespace grym {

// available=false in CPU-only builds of libtorch and when no CUDA device is present.
TorchCudaMemory readTorchCudaMemory(int device = 0);

// Starts peakAllocatedBytes afresh from what is allocated now (nothing without CUDA).
void resetTorchCudaPeak(int device = 0);

}  // namespace grym
