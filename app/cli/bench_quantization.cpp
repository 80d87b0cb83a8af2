// `grym-synth-cli bench quantization UNET_DIR`: memory and forward time of the AudioLDM UNet at
// one weight quantisation level (run once per level: each run is a fresh process). Loads a
// diffusers unet/ folder, quantises its weights (weight-only) and reports parameter bytes,
// resident memory and the time of one UNet forward (after a warm-up) on a
// [batch, in_channels, frames, 16] latent.
#include "cli/bench.h"
#include "cli/command_line.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "models/audioldm/quantization_benchmark.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace grym::cli {

namespace {

struct QuantizationSuiteOptions {
    audioldm::UNetQuantizationBenchmarkOptions benchmark;
    int threads = 0;
    bool json = false;
};

double mib(const nlohmann::json& bytes) { return bytes.get<double>() / (1024.0 * 1024.0); }

int runBenchQuantization(const QuantizationSuiteOptions& suite) {
    applyThreads(suite.threads);
    const bool json = suite.json;
    const auto r = audioldm::benchmarkUNetQuantization(suite.benchmark);
    if (json) {
        std::cout << r.dump(2) << "\n";
        return 0;
    }
    std::printf("UNet %s: %s, %llu parameters in %d threads\n", r["unet_dir"].get<std::string>().c_str(),
                r["level"].get<std::string>().c_str(), r["parameters"].get<unsigned long long>(),
                r["threads"].get<int>());
    std::printf("  parameter bytes   %.1f MiB -> %.1f MiB (%llu layers quantised)\n", mib(r["parameter_bytes_before"]),
                mib(r["parameter_bytes"]), r["quantized_layers"].get<unsigned long long>());
    std::printf("  resident memory   before load %.1f MiB, loaded %.1f MiB, quantised %.1f MiB, peak %.1f MiB\n",
                mib(r["rss_before_load_bytes"]), mib(r["rss_after_load_bytes"]), mib(r["rss_after_quantize_bytes"]),
                mib(r["peak_rss_bytes"]));
    std::printf("  load %.2f s, quantise %.2f s\n", r["load_seconds"].get<double>(), r["quantize_seconds"].get<double>());
    if (r.contains("forward_seconds"))
        for (const auto& s : r["forward_seconds"]) std::printf("  forward           %.2f s\n", s.get<double>());
    if (r.contains("relative_l2_vs_float"))
        std::printf("  output vs float   relative L2 %.3g\n", r["relative_l2_vs_float"].get<double>());
    return 0;
}

}  // namespace

void addBenchQuantizationSuite(CommandLine& commandLine, CLI::App& bench) {
    auto [command, options] = commandLine.addCommand<QuantizationSuiteOptions>(
        bench, "quantization",
        "AudioLDM UNet memory and forward time at one weight quantisation level", runBenchQuantization);
    command.footer("One level per run: a fresh process keeps each level's memory figures apart.");
    audioldm::UNetQuantizationBenchmarkOptions& b = options.benchmark;
    command.add_option("UNET_DIR", b.unetDir, "a diffusers unet/ folder (config.json and weights)")
        ->required()
        ->type_name("");
    addChoiceOption<audioldm::WeightQuantization>(command, "--level", b.level,
                                                  {{"none", audioldm::WeightQuantization::None},
                                                   {"int8", audioldm::WeightQuantization::Int8},
                                                   {"int4", audioldm::WeightQuantization::Int4},
                                                   {"8bit", audioldm::WeightQuantization::Int8, false},
                                                   {"4bit", audioldm::WeightQuantization::Int4, false}},
                                                  "weight-only quantisation (default none)");
    addWholeNumberOption(command, "--frames", b.latentFrames,
                         "latent frames of the input (default " + std::to_string(b.latentFrames) +
                             ": 5.12 s of audio)",
                         int64_t{1});
    addWholeNumberOption(command, "--batch", b.batch,
                         "batch of the input (default " + std::to_string(b.batch) + ": with guidance)", int64_t{1});
    addWholeNumberOption(command, "--repeats", b.forwardRepeats,
                         "timed forwards after one warm-up (0: none)" + defaultNote(b.forwardRepeats), 0);
    command.add_flag("--no-compare", [&compare = b.compareToFloat](int64_t) { compare = false; },
                     "skip the float run and its relative-error figure");
    command.add_flag("--json", options.json, "print the report as JSON");
    addThreadsOption(command, options.threads);
}

}  // namespace grym::cli
