#include "analysis/wav2vec2_benchmark.h"

#include "common/elapsed.h"

#include "common/error.h"
#include "common/torch_device_sync.h"
#include "models/wav2vec2/config.h"
#include "models/wav2vec2/feature_extractor.h"
#include "models/flop_count.h"
#include "models/compute_peak.h"
#include "models/cpu_threads.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace grym {

nlohmann::json runWav2vec2Benchmark(const Wav2vec2BenchmarkOptions& options) {
    const CpuThreadPools pools = useOneCpuThreadPool();  // before the model runs, as in the app
    namespace fs = std::filesystem;
    if (!(options.audioSeconds > 0) || options.audioSeconds > 3600)
        throw ModelError("wav2vec2 benchmark: --seconds must lie in (0, 3600]");
    if (options.repeats < 1 || options.repeats > 100) throw ModelError("wav2vec2 benchmark: --repeats must lie in [1, 100]");
    const std::string configPath = (fs::path(options.configDir) / "config.json").string();
    const Wav2vec2Config config = loadWav2vec2Config(configPath);
    Wav2vec2PreprocessorConfig pre;
    const fs::path prePath = fs::path(options.configDir) / "preprocessor_config.json";
    if (fs::exists(prePath)) pre = loadWav2vec2PreprocessorConfig(prePath.string());

    torch::manual_seed(0);
    auto start = std::chrono::steady_clock::now();
    const Wav2vec2Model model(config, config.architecture == Wav2vec2Architecture::ForCtc, options.runtime);
    const double buildSeconds = secondsSince(start);

    const auto samples = static_cast<int64_t>(options.audioSeconds * pre.samplingRate);
    const torch::Tensor noise = torch::randn({samples}) * 0.1;
    const std::vector<float> clip(noise.data_ptr<float>(), noise.data_ptr<float>() + samples);

    auto runOnce = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        const Wav2vec2Batch batch = prepareWav2vec2Batch({clip}, pre);
        const Wav2vec2Output out = model.forward(batch.inputValues, {}, /*allHiddenStates=*/false);
        waitForDevice(options.runtime.device);
        if (!torch::isfinite(out.lastHiddenState).all().item<bool>()) throw ModelError("wav2vec2 benchmark: non-finite output");
        return secondsSince(t0);
    };
    uint64_t flops = 0;
    {
        FlopCount count;
        runOnce();  // warm-up: allocator, kernels, BLAS threads
        flops = count.flops();
    }
    std::vector<double> runs;
    // Process CPU time as well: on a loaded machine wall-clock time says more about the neighbours.
    const std::clock_t cpuStart = std::clock();
    for (int i = 0; i < options.repeats; ++i) runs.push_back(runOnce());
    const double cpuPerRun = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC / options.repeats;
    std::vector<double> sorted = runs;
    std::sort(sorted.begin(), sorted.end());
    const double best = sorted.front(), median = sorted[sorted.size() / 2];

    nlohmann::json j = {
        {"benchmark", "wav2vec2_forward"},
        {"model", fs::path(options.configDir).filename().string()},
        {"weights", "random (initialised from config.json; not a trained checkpoint)"},
        {"device", options.runtime.device.str()},
        {"dtype", c10::toString(options.runtime.dtype)},
        {"precision", options.runtime.precision == WeightQuantization::Int8 ? "int8" : "none"},
        {"parameter_bytes", model.parameterBytes()},
        {"threads", torch::get_num_threads()},
        {"blas_threads", pools.blasThreadsNow},
        {"parameters", model.parameterCount()},
        {"audio_seconds", options.audioSeconds},
        {"build_seconds", buildSeconds},
        {"runs_seconds", runs},
        {"best_seconds", best},
        {"median_seconds", median},
        {"real_time_factor", median / options.audioSeconds},
        {"cpu_seconds_per_run", cpuPerRun},
        {"flops", flops},
        {"gflops", gflopsPerSecond(static_cast<double>(flops), best)},
    };
    if (options.runtime.precision != WeightQuantization::None) {
        // The same random weights in float32 (same seed, same initialisation order), on the same
        // input: how far quantisation moves the last hidden state.
        LoadOptions floatRuntime = options.runtime;
        floatRuntime.precision = WeightQuantization::None;
        torch::manual_seed(0);
        const Wav2vec2Model reference(config, config.architecture == Wav2vec2Architecture::ForCtc, floatRuntime);
        const Wav2vec2Batch batch = prepareWav2vec2Batch({clip}, pre);
        const auto quantised = model.forward(batch.inputValues, {}, false).lastHiddenState.to(torch::kFloat32);
        const auto exact = reference.forward(batch.inputValues, {}, false).lastHiddenState.to(torch::kFloat32);
        j["relative_l2_vs_float32"] = ((quantised - exact).norm() / exact.norm().clamp_min(1e-30)).item<double>();
    }
    if (!options.peakPath.empty() || !options.runtime.device.is_cuda()) {
        j["peak"] = readOrMeasurePeak(options.peakPath);
        j["percent_of_peak"] = percentOfPeak(j["gflops"].get<double>(), j["peak"]["peak_gflops"].get<double>());
    }
    if (!options.referenceTimingFile.empty() && fs::exists(options.referenceTimingFile)) {
        try {
            std::ifstream in(options.referenceTimingFile);
            const auto timing = nlohmann::json::parse(in);
            const std::string key = "wav2vec2_base_10s_audio";
            nlohmann::json ref = {{"file", options.referenceTimingFile}, {"case", key}, {"audio_seconds", 10.0}};
            if (timing.contains("reference_seconds_openblas") && timing["reference_seconds_openblas"].contains(key))
                ref["openblas_seconds"] = timing["reference_seconds_openblas"][key];
            if (timing.contains("reference_seconds_generic_blas") && timing["reference_seconds_generic_blas"].contains(key))
                ref["generic_blas_seconds"] = timing["reference_seconds_generic_blas"][key];
            if (timing.contains("machine")) ref["machine"] = timing["machine"];
            j["reference"] = ref;
        } catch (const std::exception& e) {
            j["reference_error"] = std::string(options.referenceTimingFile) + ": " + e.what();
        }
    }
    return j;
}

}  // namespace grym
