// `grym-synth-cli bench wav2vec2 ...`: the wav2vec2 forward benchmark (random weights).
#include "cli/bench.h"
#include "cli/command_line.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "analysis/wav2vec2_benchmark.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace grym::cli {

namespace {

struct Wav2vec2SuiteOptions {
    Wav2vec2BenchmarkOptions benchmark;
    int threads = 0;
    bool json = false;
};

int runBenchWav2vec2(Wav2vec2SuiteOptions suite) {
    Wav2vec2BenchmarkOptions& options = suite.benchmark;
    const bool json = suite.json;
    applyThreads(suite.threads);
    if (options.referenceTimingFile.empty()) {
        const auto guess = std::filesystem::path(options.configDir).parent_path() / "timing.json";
        if (std::filesystem::exists(guess)) options.referenceTimingFile = guess.string();
    }
    const nlohmann::json r = runWav2vec2Benchmark(options);
    if (json) {
        std::cout << r.dump(2) << "\n";
        return 0;
    }
    std::printf("wav2vec2 forward, %s, RANDOM weights (%lld parameters), %s %s%s, %d threads\n", r["model"].get<std::string>().c_str(),
                static_cast<long long>(r["parameters"].get<int64_t>()), r["device"].get<std::string>().c_str(),
                r["dtype"].get<std::string>().c_str(), r["precision"] == "int8" ? " int8" : "", r["threads"].get<int>());
    if (r.contains("relative_l2_vs_float32"))
        std::printf("  last hidden state vs float32: relative L2 %.4f\n", r["relative_l2_vs_float32"].get<double>());
    std::printf("  %.1f s of audio: best %.3f s, median %.3f s, real-time factor %.3f\n", r["audio_seconds"].get<double>(),
                r["best_seconds"].get<double>(), r["median_seconds"].get<double>(), r["real_time_factor"].get<double>());
    std::printf("  process CPU time per run: %.3f s\n", r["cpu_seconds_per_run"].get<double>());
    std::printf("  %.2f GFLOP per forward, %.1f GFLOP/s", r["flops"].get<double>() / 1e9, r["gflops"].get<double>());
    if (r.contains("percent_of_peak"))
        std::printf(", %.1f %% of the peak %.1f GFLOP/s", r["percent_of_peak"].get<double>(),
                    r["peak"]["peak_gflops"].get<double>());
    std::printf("\n");
    if (r.contains("reference") && r["reference"].contains("openblas_seconds"))
        std::printf("  reference (Python, 10 s of audio, OpenBLAS): %.3f s\n", r["reference"]["openblas_seconds"].get<double>());
    return 0;
}

}  // namespace

void addBenchWav2vec2Suite(CommandLine& commandLine, CLI::App& bench) {
    auto [command, options] = commandLine.addCommand<Wav2vec2SuiteOptions>(
        bench, "wav2vec2", "wav2vec2 forward pass on random weights", runBenchWav2vec2);
    Wav2vec2BenchmarkOptions& b = options.benchmark;
    addTextOption(command, "--config", b.configDir, "folder with a wav2vec2 config.json", "DIR")->required();
    addNumberOption(command, "--seconds", b.audioSeconds, "seconds of audio" + defaultNote(b.audioSeconds), "SECONDS");
    addWholeNumberOption(command, "--repeats", b.repeats, "timed runs after one warm-up" + defaultNote(b.repeats), 1);
    addTextOption(command, "--reference", b.referenceTimingFile,
                  "reference timing.json (default: timing.json beside the config folder)", "FILE.json");
    addTextOption(command, "--peak", b.peakPath,
                  "`bench peak` JSON for the percentage of peak (default: a short peak measurement first)", "FILE.json");
    command.add_flag("--json", options.json, "print the results as JSON");
    addThreadsOption(command, options.threads);
    addDeviceOption(command, b.runtime.device);
    addDtypeOption(command, b.runtime.dtype);
    addLinearPrecisionOption(command, b.runtime.precision);
}

}  // namespace grym::cli
