#pragma once
// Bounds for weight-only quantisation, derived from the weights themselves (see
// numeric_bounds.h for why no bound is tuned to one machine).
#include "models/audioldm/weight_quantization.h"
#include "models/int8_linear.h"
#include "numeric_bounds.h"
#include "weights/weight_source.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

namespace grym::test {

// Whether a checkpoint tensor is a layer weight that weight-only quantisation replaces: the
// weights of Linear / Conv2d / Embedding layers (two or more dimensions); norms and biases
// (one dimension) stay float.
inline bool isQuantisedWeight(const std::string& name, const torch::Tensor& tensor) {
    const std::string suffix = ".weight";
    return tensor.dim() >= 2 && name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The largest relative L2 error ‖dequantise(quantise(w)) − w‖ / ‖w‖ over the checkpoint's
// layer weights, each first rounded to `dtype` as a model loaded in that dtype holds it.
inline double largestWeightNoise(const StateDict& weights, audioldm::WeightQuantization level,
                                 torch::ScalarType dtype = torch::kFloat32) {
    double largest = 0.0;
    for (const auto& [name, tensor] : weights) {
        if (!isQuantisedWeight(name, tensor)) continue;
        const auto weight = tensor.to(dtype);
        const auto back = audioldm::QuantizedWeight::quantize(weight, level).dequantize(dtype);
        largest = std::max(largest, relativeError(back, weight));
    }
    return largest;
}

// The widest sum and the number of layers of a checkpoint (numeric_bounds.h).
inline NetworkSize networkSize(const StateDict& weights) {
    std::vector<torch::Tensor> tensors;
    for (const auto& [name, tensor] : weights)
        if (isQuantisedWeight(name, tensor)) tensors.push_back(tensor);
    return networkSize(tensors);
}

// How far a quantised model's output may move from the float model's. Each of the `layers`
// quantised layers perturbs its output by at most `weightNoise` (relative); the perturbations
// are independent and the normalised blocks between layers pass a relative error on without net
// growth, so they add in quadrature: sqrt(layers) · weightNoise. The path from input to output
// crosses fewer layers than the model holds, which leaves the margin.
inline double quantisedOutputBound(double weightNoise, uint64_t layers) {
    return std::sqrt(static_cast<double>(layers)) * weightNoise;
}

// A copy of the model folder `dir` whose checkpoint `stem`.safetensors holds every layer weight
// already through quantise → dequantise in `dtype`: loaded in `dtype`, it is the float model
// computing exactly with the weights the quantised model decodes, a reference computed the same
// way as the quantised model. Returns the folder (under the system's temporary directory).
inline std::string writeDequantisedTwin(const std::string& dir, const std::string& stem, const std::string& tag,
                                        audioldm::WeightQuantization level, torch::ScalarType dtype) {
    namespace fs = std::filesystem;
    const fs::path out = fs::temp_directory_path() / ("grym_dequantised_" + tag + "_" + std::to_string(::getpid()));
    fs::create_directories(out);
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json")
            fs::copy_file(entry.path(), out / entry.path().filename(), fs::copy_options::overwrite_existing);
    StateDict weights = loadCheckpoint(dir, stem);
    for (auto& [name, tensor] : weights) {
        if (!isQuantisedWeight(name, tensor)) continue;
        const auto weight = tensor.to(dtype);
        tensor = audioldm::QuantizedWeight::quantize(weight, level).dequantize(dtype).contiguous();
    }
    saveSafetensors((out / (stem + ".safetensors")).string(), weights);
    return out.string();
}

}  // namespace grym::test

namespace grym::test {

// The relative rounding noise of quantising `x` per tensor over its own range, as a dynamically
// quantised layer does with its input: a step of (max − min) / levels (Int8Linear::inputLevels(),
// 127 or 255), uniform rounding error of RMS step / √12, relative to the RMS of x. Through a layer
// whose weights do not correlate with the rounding, the output's relative error has the same size.
inline double activationNoise(const torch::Tensor& x) {
    const auto x64 = x.to(torch::kFloat64);
    const double range = (x64.max() - x64.min()).item<double>();
    const double rms = x64.pow(2).mean().sqrt().item<double>();
    return rms > 0 ? range / Int8Linear::inputLevels() / std::sqrt(12.0) / rms : 0.0;
}

// What --precision int8 loads with: linear layers computing in int8, quantised while loading.
inline LoadOptions int8LoadOptions() {
    LoadOptions options;
    options.precision = WeightQuantization::Int8;
    options.int8Arithmetic = true;
    return options;
}

// One int8-arithmetic layer: its weights' noise and its input's rounding, independent, so they
// add in quadrature; the plain sum bounds that with up to √2 to spare.
inline double int8LayerBound(double weightNoise, double activationNoise) { return weightNoise + activationNoise; }

}  // namespace grym::test
