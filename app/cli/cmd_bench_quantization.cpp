// `grym-synth-cli bench-quantization UNET_DIR`: memory and forward time of the AudioLDM UNet at
// one weight quantisation level (run once per level: each run is a fresh process).
#include "cli/commands.h"

#include "common/error.h"
#include "models/audioldm/quantization_benchmark.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>

namespace grym::cli {

namespace {

void usage() {
    std::cerr << "usage: grym-synth-cli bench-quantization UNET_DIR [--level none|int8|int4] [--frames N]\n"
                 "           [--batch N] [--repeats N] [--threads N] [--no-compare] [--json]\n"
                 "  Loads a diffusers unet/ folder, quantises its weights (weight-only), and reports parameter\n"
                 "  bytes, resident memory and the time of one UNet forward (after a warm-up) on a\n"
                 "  [batch, in_channels, frames, 16] latent (default 2 x 128 frames: 5.12 s with guidance).\n";
}

double mib(const nlohmann::json& bytes) { return bytes.get<double>() / (1024.0 * 1024.0); }

}  // namespace

int runBenchQuantization(const Args& args) {
    audioldm::UNetQuantizationBenchmarkOptions options;
    bool json = false;
    bool help = false;
    try {
        for (size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
                return args[++i];
            };
            if (a == "--level") options.level = audioldm::parseWeightQuantization(value());
            else if (a == "--frames") options.latentFrames = std::stoll(value());
            else if (a == "--batch") options.batch = std::stoll(value());
            else if (a == "--repeats") options.forwardRepeats = std::stoi(value());
            else if (a == "--threads") torch::set_num_threads(std::stoi(value()));
            else if (a == "--no-compare") options.compareToFloat = false;
            else if (a == "--json") json = true;
            else if (a == "-h" || a == "--help") help = true;
            else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
            else if (options.unetDir.empty()) options.unetDir = a;
            else throw std::invalid_argument("one UNET_DIR only");
        }
    } catch (const std::exception& e) {
        std::cerr << "bench-quantization: " << e.what() << "\n";
        usage();
        return 2;
    }
    if (help || options.unetDir.empty()) {
        usage();
        return 2;
    }

    try {
        const auto r = audioldm::benchmarkUNetQuantization(options);
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
    } catch (const Error& e) {
        std::cerr << "bench-quantization: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace grym::cli
