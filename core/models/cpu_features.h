#pragma once
// What this CPU computes natively, as the libraries under libtorch see it.

namespace grym {

// True when oneDNN (through libtorch, switched on) runs bfloat16 convolutions on this CPU's own
// bfloat16 instructions (AVX512-BF16 or AMX): twice float32's arithmetic rate. Without them
// oneDNN would emulate bfloat16 or have no kernel at all. Follows ONEDNN_MAX_CPU_ISA.
bool cpuConvolvesInBFloat16();

}  // namespace grym
