#pragma once
// How every model is loaded: X::load(folder, LoadOptions{device, dtype, precision}) for the
// UNet, VAE, CLAP text encoder, vocoder, AudioLDM pipeline and wav2vec2. Weights are read from the
// folder through one WeightSource (weights/weight_source.h: safetensors or PyTorch checkpoints),
// put on `device` in `dtype`, then stored at `precision`. (The tokenizer has no tensors:
// RobertaTokenizer::load(folder).)
#include <torch/types.h>

namespace grym {

// Weight-only quantisation level (models/audioldm/weight_quantization.h): weights kept as int8
// or int4 plus scales, activations and arithmetic in `dtype`.
enum class WeightQuantization { None, Int8, Int4 };

struct LoadOptions {
    torch::Device device = torch::kCPU;
    // float32; float16/bfloat16 are meant for CUDA (wav2vec2 refuses them on the CPU).
    torch::ScalarType dtype = torch::kFloat32;
    // Models that cannot be quantised (the vocoder, wav2vec2) refuse anything but None.
    WeightQuantization precision = WeightQuantization::None;
    // At int8: linear layers held in float32 on the CPU compute in int8 (dynamic quantisation,
    // models/int8_linear.h) where libtorch has a quantized engine, and convolutions in bfloat16
    // where the CPU has native bfloat16; false keeps every layer weight-only (integers decoded
    // to float on each call).
    bool int8Arithmetic = true;
};

}  // namespace grym
