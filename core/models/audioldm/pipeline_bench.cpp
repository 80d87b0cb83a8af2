#include "models/audioldm/pipeline_bench.h"

#include "common/elapsed.h"

#include "platform/process_memory.h"
#include "common/json_reader.h"
#include "common/torch_device_sync.h"
#include "models/audioldm/mel.h"
#include "models/audioldm/pipeline.h"
#include "models/flop_count.h"
#include "models/compute_peak.h"
#include "models/cpu_features.h"
#include "models/cpu_threads.h"
#include "orchestration/torch_memory_probe.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <optional>

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
    uint64_t flops = 0;  // of one call
};

// Best of `repeats` runs (the first run also pays for one-time allocations); every run does the
// same work, so the FLOPs are counted on the first.
template <typename F>
Timing bestOf(int repeats, const torch::Device& device, F&& f) {
    Timing best;
    for (int i = 0; i < std::max(1, repeats); ++i) {
        waitForDevice(device);
        const auto start = std::chrono::steady_clock::now();
        const double cpuStart = processCpuSeconds();
        {
            FlopCount count;
            f();
            if (i == 0) best.flops = count.flops();
        }
        waitForDevice(device);
        best.wall = std::min(best.wall, secondsSince(start));
        best.cpu = std::min(best.cpu, processCpuSeconds() - cpuStart);
    }
    return best;
}

// The component's timings and its row of the roofline table.
void record(nlohmann::json& out, nlohmann::json& roofline, const std::string& name, const Timing& t, double peakGflops) {
    out[name + "_seconds"] = t.wall;
    out[name + "_cpu_seconds"] = t.cpu;
    out[name + "_flops"] = t.flops;
    const double gflops = gflopsPerSecond(static_cast<double>(t.flops), t.wall);
    out[name + "_gflops"] = gflops;
    nlohmann::json row = {{"component", name}, {"flops", t.flops}, {"seconds", t.wall}, {"gflops", gflops}};
    if (peakGflops > 0) {
        out[name + "_percent_of_peak"] = percentOfPeak(gflops, peakGflops);
        row["percent_of_peak"] = percentOfPeak(gflops, peakGflops);
    }
    roofline.push_back(row);
}

}  // namespace

namespace {

double relativeL2(const torch::Tensor& test, const torch::Tensor& reference) {
    const auto r = reference.to(torch::kFloat64);
    const double norm = r.norm().item<double>();
    const double diff = (test.to(torch::kFloat64) - r).norm().item<double>();
    return norm > 0 ? diff / norm : diff;
}

}  // namespace

GenerationDistance generationDistance(const GenerationResult& test, const GenerationResult& reference) {
    GenerationDistance d;
    if (!test.stepLatents.empty() && !reference.stepLatents.empty())
        d.latents = relativeL2(test.stepLatents.back(), reference.stepLatents.back());
    d.mel = relativeL2(test.mel, reference.mel);
    d.audio = relativeL2(test.waveform, reference.waveform);
    double squares = 0.0;
    int64_t entries = 0;
    for (int64_t i = 0; i < reference.waveform.size(0); ++i) {
        const auto a = logMelSpectrogram(test.waveform[i].to(torch::kFloat32).cpu());
        const auto b = logMelSpectrogram(reference.waveform[i].to(torch::kFloat32).cpu());
        squares += (a - b).to(torch::kFloat64).pow(2).sum().item<double>();
        entries += b.numel();
    }
    d.logMel = entries > 0 ? std::sqrt(squares / static_cast<double>(entries)) : 0.0;
    return d;
}

nlohmann::json toJson(const GenerationDistance& d) {
    return {{"latents_relative_l2", d.latents},
            {"mel_relative_l2", d.mel},
            {"audio_relative_l2", d.audio},
            {"log_mel_distance", d.logMel}};
}

nlohmann::json runAudioLdmBenchmark(const AudioLdmBenchOptions& options,
                                    const std::function<void(const std::string&)>& log) {
    auto say = [&](const std::string& s) {
        if (log) log(s);
    };
    const CpuThreadPools pools = useOneCpuThreadPool(options.threads);
    torch::NoGradGuard noGrad;
    nlohmann::json out;
    out["benchmark"] = "audioldm";
    out["model"] = options.modelDir;
    out["threads"] = torch::get_num_threads();
    out["blas_threads"] = pools.blasThreadsNow;
    out["cpu_bfloat16"] = cpuConvolvesInBFloat16();
    out["libtorch"] = TORCH_VERSION;
    const torch::Device device = options.device;
    out["device"] = device.str();
    out["dtype"] = c10::toString(options.dtype);
    const int cudaIndex = device.is_cuda() ? std::max<int>(0, device.index()) : 0;

    const auto level = parseWeightQuantization(options.quantization);
    say("loading " + options.modelDir + " onto " + device.str() + " in " + c10::toString(options.dtype) +
        (level == WeightQuantization::None ? std::string() : std::string(", ") + toString(level)));
    // Start to ready: on CUDA this includes creating the CUDA context (the first CUDA call).
    // As --precision int8 loads it: linear layers quantised while loading, computing in int8
    // where an engine exists.
    auto start = std::chrono::steady_clock::now();
    std::optional<AudioLdmPipeline> loaded;
    {
        const ResidentPeakProbe loadMemory;
        loaded.emplace(AudioLdmPipeline::load(options.modelDir, LoadOptions{device, options.dtype, level, true}));
        out["load_peak_rss_increase_bytes"] = loadMemory.peakIncreaseBytes();
        out["load_peak_rss_method"] = loadMemory.method();
    }
    AudioLdmPipeline& pipeline = *loaded;
    if (level != WeightQuantization::None)
        out["quantization"] = {{"level", toString(level)}, {"bytes_after", pipeline.parameterBytes()}};
    waitForDevice(device);
    out["load_seconds"] = secondsSince(start);
    if (device.is_cuda()) {
        const TorchCudaMemory m = readTorchCudaMemory(cudaIndex);
        if (m.available) out["cuda_memory_after_load"] = cudaMemoryJson(m);
        resetTorchCudaPeak(cudaIndex);
    }
    out["random_weights"] = pipeline.randomWeights();
    out["parameter_bytes"] = pipeline.parameterBytes();

    double peakGflops = 0.0;
    if (!options.peakPath.empty() || !device.is_cuda()) {
        if (options.peakPath.empty()) say("measuring this machine's peak (give --peak FILE.json from `bench peak` to skip)");
        out["peak"] = readOrMeasurePeak(options.peakPath);
        peakGflops = out["peak"]["peak_gflops"].get<double>();
    }

    const auto layout = pipeline.layoutFor(options.seconds);
    nlohmann::json components;
    nlohmann::json roofline = nlohmann::json::array();
    say("text encoder (batch 2)");
    torch::Tensor embeds;
    record(components, roofline, "text_encoder_batch2",
           bestOf(options.repeats, device, [&] { embeds = pipeline.encodePrompts({"", "a dog barking in the rain"}); }),
           peakGflops);

    const std::vector<int64_t> latentShape{2, 8, layout.latentHeight, layout.latentWidth};
    auto latents = torch::randn(latentShape, torch::TensorOptions().device(device).dtype(options.dtype));
    say("UNet step (batch 2)");
    record(components, roofline, "unet_step_batch2",
           bestOf(options.repeats, device, [&] { pipeline.denoise(latents, 500, embeds); }), peakGflops);
    components["unet_latent_shape"] = latentShape;
    say("VAE decode");
    torch::Tensor mel;
    record(components, roofline, "vae_decode",
           bestOf(options.repeats, device, [&] { mel = pipeline.decodeLatents(latents.slice(0, 0, 1)); }), peakGflops);
    say("vocoder");
    record(components, roofline, "vocoder", bestOf(options.repeats, device, [&] { pipeline.melToWaveform(mel); }),
           peakGflops);
    components["vocoder_frames"] = mel.size(2);
    out["components"] = components;
    out["roofline"] = roofline;

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
    if (options.compareToFloat && level != WeightQuantization::None) {
        say(std::string("error of ") + toString(level) + " against float32");
        GenerationRequest request;
        request.prompt = "a dog barking in the rain";
        request.steps = options.endToEndSteps.front();
        request.durationSeconds = options.seconds;
        GenerationOptions keep;
        keep.keepStepLatents = true;
        const auto quantised = pipeline.generate(request, {}, nullptr, keep);
        const auto reference =
            AudioLdmPipeline::load(options.modelDir, LoadOptions{device, options.dtype}).generate(request, {}, nullptr, keep);
        auto error = toJson(generationDistance(quantised, reference));
        error["steps"] = request.steps;
        error["note"] = cpuConvolvesInBFloat16() && !device.is_cuda()
                            ? "the vocoder is not quantised; its convolutions compute in bfloat16 (cpu_bfloat16)"
                            : "the vocoder is not quantised: its error is the one the mel carries in";
        out["error_vs_float32"] = error;
    }
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
