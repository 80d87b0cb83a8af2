#include "models/audioldm/pipeline_bench.h"

#include "common/elapsed.h"

#include "platform/process_memory.h"
#include "common/json_reader.h"
#include "common/torch_device_sync.h"
#include "models/audioldm/pipeline.h"
#include "orchestration/torch_memory_probe.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

namespace grym::audioldm {

namespace {


// Processor time of the whole process (all threads). On a shared machine the wall clock
// depends on the neighbours; processor time divided by the threads used does much less.
double processCpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

nlohmann::json cudaMemoryJson(const TorchCudaMemory& m) {
    return {{"peak_allocated_bytes", m.peakAllocatedBytes},
            {"allocated_bytes", m.allocatedBytes},
            {"reserved_bytes", m.reservedBytes}};
}

struct Timing {
    double wall = std::numeric_limits<double>::infinity();
    double cpu = std::numeric_limits<double>::infinity();
};

// Best of `repeats` runs (the first run also pays for one-time allocations).
template <typename F>
Timing bestOf(int repeats, const torch::Device& device, F&& f) {
    Timing best;
    for (int i = 0; i < std::max(1, repeats); ++i) {
        waitForDevice(device);
        const auto start = std::chrono::steady_clock::now();
        const double cpuStart = processCpuSeconds();
        f();
        waitForDevice(device);
        best.wall = std::min(best.wall, secondsSince(start));
        best.cpu = std::min(best.cpu, processCpuSeconds() - cpuStart);
    }
    return best;
}

void record(nlohmann::json& out, const std::string& name, const Timing& t) {
    out[name + "_seconds"] = t.wall;
    out[name + "_cpu_seconds"] = t.cpu;
}

}  // namespace

nlohmann::json runAudioLdmBenchmark(const AudioLdmBenchOptions& options,
                                    const std::function<void(const std::string&)>& log) {
    auto say = [&](const std::string& s) {
        if (log) log(s);
    };
    if (options.threads > 0) torch::set_num_threads(options.threads);
    torch::NoGradGuard noGrad;
    nlohmann::json out;
    out["benchmark"] = "audioldm";
    out["model"] = options.modelDir;
    out["threads"] = torch::get_num_threads();
    out["libtorch"] = TORCH_VERSION;
    const torch::Device device = options.device;
    out["device"] = device.str();
    out["dtype"] = c10::toString(options.dtype);
    const int cudaIndex = device.is_cuda() ? std::max<int>(0, device.index()) : 0;

    say("loading " + options.modelDir + " onto " + device.str() + " in " + c10::toString(options.dtype));
    // Start to ready: on CUDA this includes creating the CUDA context (the first CUDA call).
    auto start = std::chrono::steady_clock::now();
    auto pipeline = AudioLdmPipeline::load(options.modelDir, LoadOptions{device, options.dtype});
    const auto level = parseWeightQuantization(options.quantization);
    if (level != WeightQuantization::None) {
        say(std::string("quantising the UNet and VAE to ") + toString(level));
        const auto report = pipeline.quantizeWeights(level);
        out["quantization"] = {{"level", toString(level)},
                               {"layers", report.layers},
                               {"bytes_before", report.bytesBefore},
                               {"bytes_after", report.bytesAfter}};
    }
    waitForDevice(device);
    out["load_seconds"] = secondsSince(start);
    if (device.is_cuda()) {
        const TorchCudaMemory m = readTorchCudaMemory(cudaIndex);
        if (m.available) out["cuda_memory_after_load"] = cudaMemoryJson(m);
        resetTorchCudaPeak(cudaIndex);
    }
    out["random_weights"] = pipeline.randomWeights();
    out["parameter_bytes"] = pipeline.parameterBytes();

    const auto layout = pipeline.layoutFor(options.seconds);
    nlohmann::json components;
    say("text encoder (batch 2)");
    torch::Tensor embeds;
    record(components, "text_encoder_batch2",
           bestOf(options.repeats, device, [&] { embeds = pipeline.encodePrompts({"", "a dog barking in the rain"}); }));

    const std::vector<int64_t> latentShape{2, 8, layout.latentHeight, layout.latentWidth};
    auto latents = torch::randn(latentShape, torch::TensorOptions().device(device).dtype(options.dtype));
    say("UNet step (batch 2)");
    record(components, "unet_step_batch2", bestOf(options.repeats, device, [&] { pipeline.denoise(latents, 500, embeds); }));
    components["unet_latent_shape"] = latentShape;
    say("VAE decode");
    torch::Tensor mel;
    record(components, "vae_decode", bestOf(options.repeats, device, [&] { mel = pipeline.decodeLatents(latents.slice(0, 0, 1)); }));
    say("vocoder");
    record(components, "vocoder", bestOf(options.repeats, device, [&] { pipeline.melToWaveform(mel); }));
    components["vocoder_frames"] = mel.size(2);
    out["components"] = components;

    nlohmann::json endToEnd = nlohmann::json::array();
    for (auto steps : options.endToEndSteps) {
        say("end to end, " + std::to_string(steps) + " steps");
        GenerationRequest request;
        request.prompt = "a dog barking in the rain";
        request.steps = steps;
        request.durationSeconds = options.seconds;
        const double cpuStart = processCpuSeconds();
        auto result = pipeline.generate(request);
        endToEnd.push_back({{"steps", steps},
                            {"audio_seconds", options.seconds},
                            {"seconds", result.seconds},
                            {"cpu_seconds", processCpuSeconds() - cpuStart},
                            {"realtime_factor", result.seconds / options.seconds}});
    }
    out["end_to_end"] = endToEnd;
    out["peak_rss_bytes"] = peakResidentBytes();
    if (device.is_cuda()) {
        // Peak of libtorch's caching allocator over the component and end-to-end runs (reset after
        // loading, so the weights count only as the allocation they stay).
        const TorchCudaMemory m = readTorchCudaMemory(cudaIndex);
        if (m.available) out["cuda_memory_runs"] = cudaMemoryJson(m);
    }

    if (!options.referenceTimingPath.empty()) {
        const auto reference = readJsonFile(options.referenceTimingPath);
        const auto& ref = reference.at("reference_seconds_openblas");
        nlohmann::json ratios;
        auto ratio = [&](const char* ours, const char* theirs) {
            if (ref.contains(theirs)) ratios[ours] = components[ours].get<double>() / ref.at(theirs).get<double>();
        };
        ratio("unet_step_batch2_seconds", "unet_forward_batch2_latent_8x128x16");
        ratio("vae_decode_seconds", "vae_decode_latent_8x128x16");
        ratio("vocoder_seconds", "vocoder_512_frames");
        ratio("text_encoder_batch2_seconds", "clap_text_batch2_padded_to_512");
        out["ratio_to_reference_openblas"] = ratios;
        out["reference"] = options.referenceTimingPath;
    }
    return out;
}

}  // namespace grym::audioldm
