#include "models/audioldm/quantization_benchmark.h"

#include "common/elapsed.h"

#include "common/error.h"
#include "models/audioldm/unet.h"
#include "orchestration/memory_monitor.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace grym::audioldm {

namespace {

using Clock = std::chrono::steady_clock;


// Resident memory after handing freed heap pages back to the system, so memory the process no
// longer uses is not counted.
uint64_t residentBytes() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    return readMemorySnapshot(nullptr).processRssBytes;
}

}  // namespace

nlohmann::json benchmarkUNetQuantization(const UNetQuantizationBenchmarkOptions& options) {
    if (options.batch < 1 || options.latentFrames < 1 || options.latentWidth < 1 || options.forwardRepeats < 0)
        throw ModelError("the UNet quantisation benchmark needs a positive batch and latent size");
    torch::NoGradGuard noGrad;
    nlohmann::json out;
    out["level"] = toString(options.level);
    out["unet_dir"] = options.unetDir;
    out["rss_before_load_bytes"] = residentBytes();

    auto start = Clock::now();
    auto unet = UNet::load(options.unetDir);
    out["load_seconds"] = secondsSince(start);
    out["parameters"] = unet.parameterCount();
    out["rss_after_load_bytes"] = residentBytes();

    const auto& config = unet.config();
    torch::manual_seed(0);
    const auto sample = torch::randn({options.batch, config.inChannels, options.latentFrames, options.latentWidth});
    const auto timesteps = torch::full({options.batch}, 500, torch::kLong);
    torch::Tensor labels;
    if (!config.classEmbedType.empty()) labels = torch::randn({options.batch, config.projectionClassEmbeddingsInputDim});
    torch::Tensor reference;
    const bool compare = options.compareToFloat && options.level != WeightQuantization::None && options.forwardRepeats > 0;
    if (compare) reference = unet.forward(sample, timesteps, labels);

    start = Clock::now();
    const auto report = unet.quantizeWeights(options.level);
    out["quantize_seconds"] = secondsSince(start);
    out["quantized_layers"] = report.layers;
    out["parameter_bytes_before"] = report.bytesBefore;
    out["parameter_bytes"] = report.bytesAfter;
    out["quantized_layer_bytes_before"] = report.layerBytesBefore;
    out["quantized_layer_bytes_after"] = report.layerBytesAfter;
    out["rss_after_quantize_bytes"] = residentBytes();

    if (options.forwardRepeats > 0) {
        out["sample_shape"] = sample.sizes().vec();
        auto output = unet.forward(sample, timesteps, labels);  // warm-up
        auto& seconds = out["forward_seconds"] = nlohmann::json::array();
        for (int i = 0; i < options.forwardRepeats; ++i) {
            start = Clock::now();
            output = unet.forward(sample, timesteps, labels);
            seconds.push_back(secondsSince(start));
        }
        if (compare) out["relative_l2_vs_float"] = ((output - reference).norm() / reference.norm()).item<double>();
    }
    out["peak_rss_bytes"] = readMemorySnapshot(nullptr).processPeakRssBytes;
    out["threads"] = torch::get_num_threads();
    return out;
}

}  // namespace grym::audioldm
