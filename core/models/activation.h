#pragma once
// The activation functions the models run: one type for wav2vec2, the CLAP text encoder and the
// AudioLDM UNet / VAE, read from config fields by the names the reference libraries use.
#include <string>

namespace at {
class Tensor;
}

namespace grym {

class JsonReader;

enum class Activation {
    Gelu,       // exact (erf) GELU
    GeluTanh,   // GELU's tanh approximation
    QuickGelu,  // x * sigmoid(1.702 x)
    Relu,
    Silu,
    Mish,
    Tanh,
};

// Whose names a config uses.
enum class ActivationNames {
    Transformers,  // ACT2FN: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu, silu, swish, tanh
    Diffusers,     // get_activation: silu, swish, gelu, relu, mish
};

// Reads `field` (absent or null: `fallback`); any other name is refused naming the field, the value
// and the names accepted.
Activation readActivation(const JsonReader& config, const std::string& field, Activation fallback,
                          ActivationNames names);

const char* toString(Activation a);

at::Tensor activate(const at::Tensor& x, Activation a);

}  // namespace grym
