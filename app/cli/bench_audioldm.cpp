// `grym-synth-cli bench audioldm --model DIR ...`: per-component and end-to-end timings of an
// AudioLDM folder (usually a full-size random-weight one from make-random-model).
#include "cli/bench.h"
#include "cli/command_line.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "common/error.h"
#include "models/audioldm/pipeline_bench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace grym::cli {

namespace {

struct AudioLdmSuiteOptions {
    audioldm::AudioLdmBenchOptions bench;
    Precision precision = Precision::Fp32;
    std::string out;
    bool json = false;
};

std::vector<int64_t> parseStepList(const std::string& text) {
    std::vector<int64_t> steps;
    std::istringstream list(text);
    for (std::string item; std::getline(list, item, ',');) {
        try {
            size_t used = 0;
            const long long n = std::stoll(item, &used);
            if (used != item.size() || n < 1) throw std::invalid_argument(item);
            steps.push_back(n);
        } catch (const std::exception&) {
            rejectValue("--steps", "takes whole numbers separated by commas", text);
        }
    }
    if (steps.empty()) rejectValue("--steps", "takes whole numbers separated by commas", text);
    return steps;
}

void printSummary(const nlohmann::json& r) {
    const auto& c = r["components"];
    std::printf("AudioLDM %s%s, %d threads, libtorch %s\n", r["model"].get<std::string>().c_str(),
                r["random_weights"].get<bool>() ? " (RANDOM weights)" : "", r["threads"].get<int>(),
                r["libtorch"].get<std::string>().c_str());
    std::printf("  device                  %s, %s\n", r["device"].get<std::string>().c_str(),
                r["dtype"].get<std::string>().c_str());
    std::printf("  load                    %.3f s (%.1f MiB of weights)\n", r["load_seconds"].get<double>(),
                r["parameter_bytes"].get<double>() / (1024.0 * 1024.0));
    auto component = [&](const char* label, const std::string& key) {
        std::printf("  %-22s  %.3f s (processor time %.3f s)\n", label, c[key + "_seconds"].get<double>(),
                    c[key + "_cpu_seconds"].get<double>());
    };
    component("text encoder, batch 2", "text_encoder_batch2");
    component("UNet step, batch 2", "unet_step_batch2");
    component("VAE decode", "vae_decode");
    component("vocoder", "vocoder");
    if (r.contains("peak")) std::printf("  roofline (peak %.1f GFLOP/s)\n", r["peak"]["peak_gflops"].get<double>());
    else std::printf("  roofline\n");
    for (const auto& row : r["roofline"])
        std::printf("    %-22s %9.2f GFLOP  %8.1f GFLOP/s  %5.1f %% of peak\n", row["component"].get<std::string>().c_str(),
                    row["flops"].get<double>() / 1e9, row["gflops"].get<double>(),
                    row.contains("percent_of_peak") ? row["percent_of_peak"].get<double>() : 0.0);
    for (const auto& e : r["end_to_end"])
        std::printf("  end to end, %3lld steps  %.3f s for %.2f s of audio (real-time factor %.2f, processor time %.1f s)\n",
                    static_cast<long long>(e["steps"].get<int64_t>()), e["seconds"].get<double>(),
                    e["audio_seconds"].get<double>(), e["realtime_factor"].get<double>(),
                    e["cpu_seconds"].get<double>());
    if (r.contains("quantization"))
        std::printf("  weights                 %s (linear layers quantised while loading)\n",
                    r["quantization"]["level"].get<std::string>().c_str());
    std::printf("  peak RSS while loading  +%.1f MiB (%s)\n",
                r["load_peak_rss_increase_bytes"].get<double>() / (1024.0 * 1024.0),
                r["load_peak_rss_method"].get<std::string>().c_str());
    std::printf("  peak RSS                %.1f MiB\n", r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0));
    if (r.contains("error_vs_float32")) {
        const auto& e = r["error_vs_float32"];
        std::printf("  error vs float32        latents %.4f, mel %.4f, audio %.4f (relative L2); log-mel distance %.4f\n",
                    e["latents_relative_l2"].get<double>(), e["mel_relative_l2"].get<double>(),
                    e["audio_relative_l2"].get<double>(), e["log_mel_distance"].get<double>());
    }
    if (r.contains("cuda_memory_runs"))
        std::printf("  peak CUDA allocated     %.1f MiB (libtorch's allocator, runs after loading; %.1f MiB after loading)\n",
                    r["cuda_memory_runs"]["peak_allocated_bytes"].get<double>() / (1024.0 * 1024.0),
                    r.contains("cuda_memory_after_load")
                        ? r["cuda_memory_after_load"]["allocated_bytes"].get<double>() / (1024.0 * 1024.0)
                        : 0.0);
    if (r.contains("ratio_to_reference_openblas"))
        for (const auto& [name, ratio] : r["ratio_to_reference_openblas"].items())
            std::printf("  %-28s %.2fx the reference's time\n", name.c_str(), ratio.get<double>());
}

int runBenchAudioLdm(AudioLdmSuiteOptions options) {
    audioldm::AudioLdmBenchOptions& bench = options.bench;
    // fp16 / bf16 are the compute dtype; int8 / int4 are weight-only levels (float weights: "none").
    const Precision p = options.precision;
    const bool floatWeights = p == Precision::Fp32 || p == Precision::Fp16 || p == Precision::Bf16;
    bench.quantization = floatWeights ? "none" : toString(p);
    bench.dtype = p == Precision::Fp16 ? torch::kFloat16 : p == Precision::Bf16 ? torch::kBFloat16 : torch::kFloat32;
    if (bench.dtype != torch::kFloat32 && !bench.device.is_cuda())
        throw ApiError(std::string("--precision ") + toString(p) + " needs --device cuda");
    const bool json = options.json;
    const auto result =
        audioldm::runAudioLdmBenchmark(bench, [json](const std::string& s) {
            if (!json) std::cerr << "bench: " << s << "\n";
        });
    emitBenchReport(result, options.out, json);
    if (!json) printSummary(result);
    return 0;
}

}  // namespace

void addBenchAudioLdmSuite(CommandLine& commandLine, CLI::App& bench) {
    auto [command, options] = commandLine.addCommand<AudioLdmSuiteOptions>(
        bench, "audioldm", "AudioLDM per-component and end-to-end timings", runBenchAudioLdm);
    audioldm::AudioLdmBenchOptions& b = options.bench;
    addModelOption(command, b.modelDir,
                   "diffusers AudioLDM folder, usually a full-size random-weight one from make-random-model")
        ->required();
    std::string defaultSteps;
    for (const int64_t steps : b.endToEndSteps) defaultSteps += (defaultSteps.empty() ? "" : ",") + std::to_string(steps);
    addParsedOption(
        command, "--steps", [&steps = b.endToEndSteps](const std::string& text) { steps = parseStepList(text); },
        "end-to-end runs, one per step count (default " + defaultSteps + ")", "N,N,...");
    addNumberOption(command, "--seconds", b.seconds, "seconds of audio" + defaultNote(b.seconds), "SECONDS");
    addWholeNumberOption(command, "--repeats", b.repeats,
                         "best of N for the component timings" + defaultNote(b.repeats), 1);
    addTextOption(command, "--reference", b.referenceTimingPath, "reference timing.json to compare with",
                  "FILE.json");
    addTextOption(command, "--peak", b.peakPath,
                  "`bench peak` JSON for the roofline's percentages (default: a short peak measurement first)",
                  "FILE.json");
    command.add_flag("--compare-float", b.compareToFloat,
                     "with --precision int8/int4: also report the error against float32 (loads a second copy)");
    addTextOption(command, "--out", options.out, "also write the JSON results here", "FILE.json");
    command.add_flag("--json", options.json, "print the results as JSON");
    addThreadsOption(command, b.threads);
    addPrecisionOption(command, options.precision,
                       {Precision::Fp32, Precision::Fp16, Precision::Bf16, Precision::Int8, Precision::Int4});
    addDeviceOption(command, b.device);
}

}  // namespace grym::cli
