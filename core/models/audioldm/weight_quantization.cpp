#include "models/audioldm/weight_quantization.h"

#include "common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace grym::audioldm {

WeightQuantization parseWeightQuantization(const std::string& name) {
    if (name == "none") return WeightQuantization::None;
    if (name == "int8" || name == "8bit") return WeightQuantization::Int8;
    if (name == "int4" || name == "4bit") return WeightQuantization::Int4;
    throw ModelError("unknown weight quantisation '" + name + "' (expected none, int8 or int4)");
}

const char* toString(WeightQuantization level) {
    switch (level) {
        case WeightQuantization::None: return "none";
        case WeightQuantization::Int8: return "int8";
        case WeightQuantization::Int4: return "int4";
    }
    return "unknown";
}

torch::Tensor packInt4(const torch::Tensor& values) {
    if (values.dim() < 1 || values.size(-1) % 2 != 0)
        throw ModelError("int4 packing needs an even number of entries along the last dimension");
    if (values.scalar_type() != torch::kInt8) throw ModelError("int4 packing takes an int8 tensor");
    if (values.numel() > 0 && (values.min().item<int>() < -8 || values.max().item<int>() > 7))
        throw ModelError("int4 packing takes values in [-8, 7]");
    auto pairShape = values.sizes().vec();
    pairShape.back() /= 2;
    pairShape.push_back(2);
    const auto offset = values.to(torch::kInt16).add(8).reshape(pairShape);
    return (offset.select(-1, 0) + offset.select(-1, 1) * 16).to(torch::kUInt8);
}

namespace {

// The two 4-bit values of every possible byte, [256, 2] (low nibble first): decoding by table
// lookup reads each packed byte once, where masking, shifting and interleaving take several
// passes over the weights on every forward.
torch::Tensor int4PairTable(torch::ScalarType dtype, torch::Device device) {
    const auto bytes = torch::arange(256, torch::kInt16);
    const auto pairs = torch::stack({bytes.bitwise_and(0x0F), bytes.bitwise_right_shift(4)}, 1).sub(8);
    return pairs.to(torch::TensorOptions().dtype(dtype).device(device));
}

// packed uint8 [..., n] -> [..., 2n] in `dtype`.
torch::Tensor decodeInt4(const torch::Tensor& packed, torch::ScalarType dtype) {
    auto shape = packed.sizes().vec();
    shape.back() *= 2;
    const auto index = packed.reshape({-1}).to(torch::kInt32);
    return int4PairTable(dtype, packed.device()).index_select(0, index).view(shape);
}

}  // namespace

torch::Tensor unpackInt4(const torch::Tensor& packed) {
    if (packed.dim() < 1 || packed.scalar_type() != torch::kUInt8)
        throw ModelError("int4 unpacking takes a uint8 tensor with at least one dimension");
    return decodeInt4(packed, torch::kInt8);
}

namespace {

// Per-row (or per-group) scale max|w| / qmax, rounded to the dtype it is stored in; rows of
// zeros get scale 1/qmax so dividing by it stays finite.
torch::Tensor absMaxScale(const torch::Tensor& w, int64_t qmax, torch::ScalarType storedAs) {
    const auto maxAbs = w.abs().amax(-1, /*keepdim=*/true);
    const auto scale = torch::where(maxAbs > 0, maxAbs, torch::ones_like(maxAbs)) / static_cast<double>(qmax);
    return scale.to(storedAs);
}

// Elements of float weight an int8 quantisation block holds (4 MiB).
constexpr int64_t kQuantizeBlockElements = int64_t{1} << 20;

torch::Tensor roundToLevels(const torch::Tensor& w, const torch::Tensor& scale, int64_t qmax) {
    return (w / scale.to(torch::kFloat32)).round().clamp(-qmax, qmax).to(torch::kInt8);
}

}  // namespace

QuantizedWeight QuantizedWeight::quantize(const torch::Tensor& weight, WeightQuantization level) {
    if (level != WeightQuantization::Int8 && level != WeightQuantization::Int4)
        throw ModelError(std::string("cannot quantise a weight to '") + toString(level) + "'");
    if (weight.dim() < 2 || weight.numel() == 0)
        throw ModelError("only non-empty weights with an output dimension can be quantised");
    if (!weight.is_floating_point()) throw ModelError("only floating-point weights can be quantised");
    torch::NoGradGuard noGrad;
    QuantizedWeight q;
    q.level_ = level;
    q.shape_ = weight.sizes().vec();
    const int64_t rows = weight.size(0);
    const int64_t inputs = weight.numel() / rows;
    auto w = weight.detach().to(torch::kFloat32).reshape({rows, inputs});
    if (level == WeightQuantization::Int8) {
        // In blocks of rows: every step is per row, so the result is the one-pass result, but the
        // float temporaries (three weight-sized ones in one pass) stay a few MiB for any weight,
        // which matters when weights are quantised while the model loads.
        const int64_t blockRows = std::max<int64_t>(1, kQuantizeBlockElements / std::max<int64_t>(1, inputs));
        q.values_ = torch::empty({rows, inputs}, torch::kInt8);
        std::vector<torch::Tensor> scales;
        for (int64_t row = 0; row < rows; row += blockRows) {
            const auto block = w.narrow(0, row, std::min(blockRows, rows - row));
            scales.push_back(absMaxScale(block, 127, weight.scalar_type()));  // [block rows, 1]
            q.values_.narrow(0, row, block.size(0)).copy_(roundToLevels(block, scales.back(), 127));
        }
        q.scales_ = scales.size() == 1 ? scales.front() : torch::cat(scales);
        return q;
    }
    q.groupSize_ = std::min(kInt4GroupSize, inputs + inputs % 2);
    const int64_t groups = (inputs + q.groupSize_ - 1) / q.groupSize_;
    const int64_t padded = groups * q.groupSize_;
    if (padded > inputs) w = torch::constant_pad_nd(w, {0, padded - inputs}, 0);
    const auto grouped = w.view({rows, groups, q.groupSize_});
    const auto scales = absMaxScale(grouped, 7, weight.scalar_type());  // [rows, groups, 1]
    q.values_ = packInt4(roundToLevels(grouped, scales, 7).view({rows, padded}));
    q.scales_ = scales.squeeze(-1).contiguous();
    return q;
}

torch::Tensor QuantizedWeight::decode(const torch::Tensor& values, const torch::Tensor& scales,
                                      torch::ScalarType dtype) const {
    if (!defined()) throw ModelError("the weight is not quantised");
    if (!values.defined()) throw ModelError("the quantised weight was handed to an int8 kernel and is no longer held here");
    if (!c10::isFloatingType(dtype)) throw ModelError("a quantised weight dequantises to a floating-point dtype only");
    const int64_t rows = values.size(0);
    // Fresh tensors, so the scales are applied in place (one pass fewer over the weight).
    if (level_ == WeightQuantization::Int8) return values.to(dtype).mul_(scales.to(dtype));
    const int64_t groups = scales.size(1);
    auto grouped = decodeInt4(values, dtype).view({rows, groups, groupSize_});
    grouped.mul_(scales.to(dtype).unsqueeze(-1));
    return grouped.view({rows, groups * groupSize_}).narrow(1, 0, numel() / shape_[0]);
}

torch::Tensor QuantizedWeight::dequantize(torch::ScalarType dtype) const {
    return decode(values_, scales_, dtype).reshape(shape_);
}

torch::Tensor QuantizedWeight::dequantizeInto(torch::Tensor& workspace, torch::ScalarType dtype) const {
    if (level_ != WeightQuantization::Int8 || !values_.defined() || !values_.device().is_cpu() ||
        !c10::isFloatingType(dtype))
        return dequantize(dtype);
    const int64_t n = values_.numel();
    if (!workspace.defined() || workspace.scalar_type() != dtype || !workspace.device().is_cpu() || workspace.numel() < n)
        workspace = torch::empty({n}, values_.options().dtype(dtype));
    auto out = workspace.narrow(0, 0, n).view(values_.sizes());
    out.copy_(values_).mul_(scales_.to(dtype));
    return out.view(shape_);
}

torch::Tensor QuantizedWeight::dequantizeRows(const torch::Tensor& rows, torch::ScalarType dtype) const {
    if (!values_.defined()) throw ModelError("the quantised weight was handed to an int8 kernel and is no longer held here");
    const auto index = rows.reshape({-1});
    auto shape = rows.sizes().vec();
    shape.insert(shape.end(), shape_.begin() + 1, shape_.end());
    return decode(values_.index_select(0, index), scales_.index_select(0, index), dtype).reshape(shape);
}

int64_t QuantizedWeight::numel() const {
    int64_t n = 1;
    for (auto s : shape_) n *= s;
    return defined() ? n : 0;
}

uint64_t QuantizedWeight::bytes() const {
    if (!defined() || !values_.defined()) return 0;
    return static_cast<uint64_t>(values_.nbytes() + scales_.nbytes());
}

}  // namespace grym::audioldm
