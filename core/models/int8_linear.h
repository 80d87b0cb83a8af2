#pragma once
// A Linear layer that computes in int8 (dynamic quantisation): the weight is held as int8 with
// one scale per output channel, packed once for libtorch's quantized engine; on every call the
// float32 input is quantised per tensor (its own range, found at run time) to uint8, the product
// runs as an int8 GEMM with int32 sums, and the result comes back in float32 with the bias added.
// This is libtorch's `quantized::linear_dynamic`, reached through the dispatcher so no private
// ATen header is needed. CPU and float32 only.
//
// Engines: official libtorch builds have fbgemm (and x86, which picks fbgemm or oneDNN); Debian's
// 1.13 has oneDNN and QNNPACK. Int8Linear::engine() picks the first one this build supports, in
// that order, and makes it libtorch's current quantized engine (a process-wide libtorch setting:
// every quantized op of the process then runs on it).
#include <ATen/core/ivalue.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace grym {

class Int8Linear {
public:
    Int8Linear() = default;

    // The quantized engine int8 layers run on (selected once per call: cheap), or nullopt when
    // this libtorch has none that can run linear_dynamic.
    static std::optional<std::string> engine();
    // Levels of the uint8 inputs on that engine: 127 on x86 engines (fbgemm, x86, oneDNN), 255 on
    // QNNPACK. x86 int8 GEMMs without VNNI (AVX2 and older, and oneDNN told to stay below it) add
    // pairs of u8·s8 products in int16, which full-range inputs overflow: measured with oneDNN at
    // SSE4.1, wav2vec2's int8 error grew tenfold (0.0104 -> 0.136). 7-bit inputs never overflow.
    static int inputLevels();

    // values: int8 [out, in] in [-127, 127]; scales: [out] or [out, 1] (any float dtype), so
    // weight ≈ values · scales; bias: [out] or undefined. Throws ModelError when no engine exists.
    static Int8Linear pack(const torch::Tensor& values, const torch::Tensor& scales, const torch::Tensor& bias);

    bool defined() const { return !packed_.isNone(); }
    // x: float32 CPU [..., in] -> [..., out].
    torch::Tensor forward(const torch::Tensor& x) const;
    // The weight the engine multiplies by, float32 [out, in] (values · scales, unpacked again).
    torch::Tensor weight() const;
    int64_t inFeatures() const { return in_; }
    int64_t outFeatures() const { return out_; }
    // What the engine holds: its packed int8 copy, the int8 original it keeps for unpacking, the
    // per-channel scales and the float bias.
    uint64_t bytes() const;

private:
    c10::IValue packed_;
    int64_t in_ = 0, out_ = 0;
    bool hasBias_ = false;
    bool reduceRange_ = false;
};

}  // namespace grym
