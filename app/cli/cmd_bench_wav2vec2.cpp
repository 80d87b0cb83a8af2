// `grym-synth-cli bench wav2vec2 ...`: the wav2vec2 forward benchmark (random weights).
#include "cli/commands.h"

#include "analysis/wav2vec2_benchmark.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace grym::cli {

int runBenchWav2vec2(const Args& args) {
    Wav2vec2BenchmarkOptions options;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        try {
            if (a == "--config") options.configDir = value();
            else if (a == "--seconds") options.audioSeconds = std::stod(value());
            else if (a == "--repeats") options.repeats = std::stoi(value());
            else if (a == "--threads") torch::set_num_threads(std::stoi(value()));
            else if (a == "--reference") options.referenceTimingFile = value();
            else if (a == "--device") options.runtime.device = torch::Device(value());
            else if (a == "--dtype") {
                const std::string d = value();
                if (d == "fp32" || d == "float32") options.runtime.dtype = torch::kFloat32;
                else if (d == "fp16" || d == "float16") options.runtime.dtype = torch::kFloat16;
                else if (d == "bf16" || d == "bfloat16") options.runtime.dtype = torch::kBFloat16;
                else throw std::invalid_argument("--dtype takes fp32, fp16 or bf16");
            } else if (a == "--json") json = true;
            else throw std::invalid_argument("unknown option " + a);
        } catch (const std::invalid_argument& e) {
            std::cerr << "bench wav2vec2: " << e.what() << "\n"
                      << "usage: grym-synth-cli bench wav2vec2 --config DIR [--seconds 10] [--repeats 3] [--threads N]\n"
                      << "       [--device cpu|cuda] [--dtype fp32|fp16|bf16] [--reference timing.json] [--json]\n";
            return 2;
        }
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
