// `grym-synth-cli bench wav2vec2 ...`: the wav2vec2 forward benchmark (random weights).
#include "cli/commands.h"

#include "analysis/wav2vec2_benchmark.h"
#include "cli/runtime_options.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace grym::cli {

int runBenchWav2vec2(const Args& args) {
    Wav2vec2BenchmarkOptions options;
    bool json = false;
    try {
        OptionSpec spec{runtimeOptionNames(), {"--json"}, false};
        spec.valueOptions.insert({"--config", "--seconds", "--repeats", "--threads", "--reference"});
        const CliOptions parsed = parseOptions(args, spec);
        options.configDir = parsed.text("--config");
        options.audioSeconds = parsed.number("--seconds", options.audioSeconds);
        options.repeats = parsed.integer("--repeats", options.repeats);
        options.referenceTimingFile = parsed.text("--reference");
        parseRuntimeOptions(parsed, options.runtime);
        if (parsed.has("--threads")) torch::set_num_threads(parsed.integer("--threads", 1));
        json = parsed.has("--json");
    } catch (const UsageError& e) {
        std::cerr << "bench wav2vec2: " << e.what() << "\n"
                  << "usage: grym-synth-cli bench wav2vec2 --config DIR [--seconds 10] [--repeats 3] [--threads N]\n"
                  << "       [--device cpu|cuda] [--dtype fp32|fp16|bf16] [--reference timing.json] [--json]\n";
        return 2;
    }
    if (options.configDir.empty()) {
        std::cerr << "bench wav2vec2: --config DIR is required (a folder with a wav2vec2 config.json)\n";
        return 2;
    }
    if (options.referenceTimingFile.empty()) {
        const auto guess = std::filesystem::path(options.configDir).parent_path() / "timing.json";
        if (std::filesystem::exists(guess)) options.referenceTimingFile = guess.string();
    }
    const nlohmann::json r = runWav2vec2Benchmark(options);
    if (json) {
        std::cout << r.dump(2) << "\n";
        return 0;
    }
    std::printf("wav2vec2 forward, %s, RANDOM weights (%lld parameters), %s %s, %d threads\n", r["model"].get<std::string>().c_str(),
                static_cast<long long>(r["parameters"].get<int64_t>()), r["device"].get<std::string>().c_str(),
                r["dtype"].get<std::string>().c_str(), r["threads"].get<int>());
    std::printf("  %.1f s of audio: best %.3f s, median %.3f s, real-time factor %.3f\n", r["audio_seconds"].get<double>(),
                r["best_seconds"].get<double>(), r["median_seconds"].get<double>(), r["real_time_factor"].get<double>());
    std::printf("  process CPU time per run: %.3f s\n", r["cpu_seconds_per_run"].get<double>());
    if (r.contains("reference") && r["reference"].contains("openblas_seconds"))
        std::printf("  reference (Python, 10 s of audio, OpenBLAS): %.3f s\n", r["reference"]["openblas_seconds"].get<double>());
    return 0;
}

}  // namespace grym::cli
