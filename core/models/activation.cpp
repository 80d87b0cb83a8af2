#include "models/activation.h"

#include "common/json_reader.h"

#include <torch/torch.h>

namespace grym {

Activation readActivation(const JsonReader& config, const std::string& field, Activation fallback,
                          ActivationNames names) {
    if (names == ActivationNames::Diffusers)
        return config.choice<Activation>(field,
                                         {{"silu", Activation::Silu},
                                          {"swish", Activation::Silu},
                                          {"gelu", Activation::Gelu},
                                          {"relu", Activation::Relu},
                                          {"mish", Activation::Mish}},
                                         fallback);
    return config.choice<Activation>(field,
                                     {{"gelu", Activation::Gelu},
                                      {"gelu_new", Activation::GeluTanh},
                                      {"gelu_pytorch_tanh", Activation::GeluTanh},
                                      {"gelu_fast", Activation::GeluTanh},
                                      {"quick_gelu", Activation::QuickGelu},
                                      {"relu", Activation::Relu},
                                      {"silu", Activation::Silu},
                                      {"swish", Activation::Silu},
                                      {"tanh", Activation::Tanh}},
                                     fallback);
}

const char* toString(Activation a) {
    switch (a) {
        case Activation::Gelu: return "gelu";
        case Activation::GeluTanh: return "gelu_tanh";
        case Activation::QuickGelu: return "quick_gelu";
        case Activation::Relu: return "relu";
        case Activation::Silu: return "silu";
        case Activation::Mish: return "mish";
        case Activation::Tanh: return "tanh";
    }
    return "?";
}

at::Tensor activate(const at::Tensor& x, Activation a) {
    switch (a) {
        case Activation::Gelu: return torch::gelu(x);
        case Activation::GeluTanh: return torch::gelu(x, "tanh");
        case Activation::QuickGelu: return x * torch::sigmoid(1.702 * x);
        case Activation::Relu: return torch::relu(x);
        case Activation::Silu: return torch::silu(x);
        case Activation::Mish: return torch::mish(x);
        case Activation::Tanh: return torch::tanh(x);
    }
    return x;
}

}  // namespace grym
