#include "models/int8_linear.h"

#include "common/error.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include <vector>

namespace grym {

namespace {

// Engines that implement quantized::linear_dynamic, best first.
std::optional<at::QEngine> pickInt8Engine() {
    const auto& supported = at::globalContext().supportedQEngines();
    auto has = [&](at::QEngine e) {
        for (auto s : supported)
            if (s == e) return true;
        return false;
    };
    for (auto e : {at::QEngine::FBGEMM, at::QEngine::X86, at::QEngine::ONEDNN, at::QEngine::QNNPACK})
        if (has(e)) return e;
    return std::nullopt;
}

// Makes the best engine libtorch's current one; returns it.
std::optional<at::QEngine> useInt8Engine() {
    const auto e = pickInt8Engine();
    if (e && at::globalContext().qEngine() != *e) at::globalContext().setQEngine(*e);
    return e;
}

// Calls a registered operator by name with boxed arguments (the packed weights are a custom
// class whose C++ type lives in a private ATen header). The lookup is a hash-map find.
std::vector<c10::IValue> callOp(const char* name, std::vector<c10::IValue> stack) {
    const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
    op.callBoxed(&stack);
    return stack;
}

}  // namespace

std::optional<std::string> Int8Linear::engine() {
    const auto e = useInt8Engine();
    if (!e) return std::nullopt;
    return c10::toString(*e);
}

int Int8Linear::inputLevels() {
    const auto e = useInt8Engine();
    return e && *e == at::QEngine::QNNPACK ? 255 : 127;
}

Int8Linear Int8Linear::pack(const torch::Tensor& values, const torch::Tensor& scales, const torch::Tensor& bias) {
    const auto e = useInt8Engine();
    if (!e) throw ModelError("this libtorch has no quantized engine for int8 layers (fbgemm, x86, onednn or qnnpack)");
    if (values.dim() != 2 || values.scalar_type() != torch::kInt8)
        throw ModelError("an int8 linear layer takes int8 weights [out, in]");
    if (!values.device().is_cpu()) throw ModelError("int8 linear layers run on the CPU only");
    torch::NoGradGuard noGrad;
    Int8Linear layer;
    layer.out_ = values.size(0);
    layer.in_ = values.size(1);
    const auto channelScales = scales.reshape({layer.out_}).to(torch::kDouble).contiguous();
    const auto zeroPoints = torch::zeros({layer.out_}, torch::kLong);
    const auto qweight = at::_make_per_channel_quantized_tensor(values.contiguous(), channelScales, zeroPoints, 0);
    layer.hasBias_ = bias.defined();
    const c10::optional<at::Tensor> packedBias =
        bias.defined() ? c10::optional<at::Tensor>(bias.to(torch::kFloat32).contiguous()) : c10::nullopt;
    layer.packed_ = callOp("quantized::linear_prepack", {qweight, packedBias}).at(0);
    layer.reduceRange_ = inputLevels() < 255;  // see inputLevels()
    return layer;
}

torch::Tensor Int8Linear::forward(const torch::Tensor& x) const {
    if (!defined()) throw ModelError("the int8 linear layer is not packed");
    if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32)
        throw ModelError("int8 linear layers take float32 inputs on the CPU");
    if (x.size(-1) != in_)
        throw ModelError("int8 linear layer: input has " + std::to_string(x.size(-1)) + " features, expected " +
                         std::to_string(in_));
    auto shape = x.sizes().vec();
    const auto flat = x.reshape({-1, in_}).contiguous();
    auto y = callOp("quantized::linear_dynamic", {flat, packed_, reduceRange_}).at(0).toTensor();
    shape.back() = out_;
    return y.view(shape);
}

torch::Tensor Int8Linear::weight() const {
    if (!defined()) throw ModelError("the int8 linear layer is not packed");
    return callOp("quantized::linear_unpack", {packed_}).at(0).toTensor().dequantize();
}

uint64_t Int8Linear::bytes() const {
    if (!defined()) return 0;
    const auto n = static_cast<uint64_t>(in_ * out_);
    return 2 * n + static_cast<uint64_t>(out_) * sizeof(double) + (hasBias_ ? static_cast<uint64_t>(out_) * 4 : 0);
}

}  // namespace grym
