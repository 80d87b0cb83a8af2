// `grym-synth-cli bench audioldm --model DIR ...`: per-component and end-to-end timings of an
// AudioLDM folder (usually a full-size random-weight one from make-random-model).
#include "cli/bench.h"

#include "common/error.h"
#include "models/audioldm/pipeline_bench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace grym::cli {

namespace {

const char* kBenchAudioLdmUsage =
    "usage: grym-synth-cli bench audioldm --model DIR [--steps 10,50] [--seconds 5.12] [--repeats 2]\n"
    "         [--threads N] [--precision fp32|int8|int4] [--reference timing.json] [--out FILE] [--json]\n"
    "  DIR is usually a full-size random-weight folder from make-random-model.\n";

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
            throw ApiError("bench audioldm: --steps takes whole numbers separated by commas, got '" + text + "'");
        }
    }
    return steps;
}

void printSummary(const nlohmann::json& r) {
    const auto& c = r["components"];
    std::printf("AudioLDM %s%s, %d threads, libtorch %s\n", r["model"].get<std::string>().c_str(),
                r["random_weights"].get<bool>() ? " (RANDOM weights)" : "", r["threads"].get<int>(),
                r["libtorch"].get<std::string>().c_str());
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
    for (const auto& e : r["end_to_end"])
        std::printf("  end to end, %3lld steps  %.3f s for %.2f s of audio (real-time factor %.2f, processor time %.1f s)\n",
                    static_cast<long long>(e["steps"].get<int64_t>()), e["seconds"].get<double>(),
                    e["audio_seconds"].get<double>(), e["realtime_factor"].get<double>(),
                    e["cpu_seconds"].get<double>());
    if (r.contains("quantization"))
        std::printf("  weights                 %s: UNet, VAE and text encoder %.1f -> %.1f MiB\n",
                    r["quantization"]["level"].get<std::string>().c_str(),
                    r["quantization"]["bytes_before"].get<double>() / (1024.0 * 1024.0),
                    r["quantization"]["bytes_after"].get<double>() / (1024.0 * 1024.0));
    std::printf("  peak RSS                %.1f MiB\n", r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0));
    if (r.contains("ratio_to_reference_openblas"))
        for (const auto& [name, ratio] : r["ratio_to_reference_openblas"].items())
            std::printf("  %-28s %.2fx the reference's time\n", name.c_str(), ratio.get<double>());
}

}  // namespace

int runBenchAudioLdm(const Args& args) {
    const BenchOptions options(args);
    audioldm::AudioLdmBenchOptions bench;
    bench.modelDir = options.text("model", "");
    if (bench.modelDir.empty()) {
        std::cerr << "bench audioldm: --model DIR is required\n" << kBenchAudioLdmUsage;
        return 2;
    }
    bench.seconds = options.number("seconds", bench.seconds);
    bench.repeats = options.integer("repeats", bench.repeats, 1);
    bench.threads = options.integer("threads", bench.threads, 0);
    if (const auto steps = options.value("steps")) bench.endToEndSteps = parseStepList(*steps);
    bench.referenceTimingPath = options.text("reference", "");
    bench.quantization = options.text("precision", "none");
    if (bench.quantization == "fp32") bench.quantization = "none";
    const bool json = options.flag("json");

    const auto result =
        audioldm::runAudioLdmBenchmark(bench, [json](const std::string& s) {
            if (!json) std::cerr << "bench: " << s << "\n";
        });
    if (const auto out = options.value("out")) std::ofstream(*out) << result.dump(2) << "\n";
    if (json) std::cout << result.dump(2) << "\n";
    else printSummary(result);
    return 0;
}

}  // namespace grym::cli
