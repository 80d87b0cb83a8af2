// `grym-synth-cli bench peak`: this machine's float32 GEMM and convolution throughput, int8 GEMM
// throughput and memory bandwidth through libtorch: the ceiling the roofline tables of
// `bench audioldm` and `bench wav2vec2` are read against.
#include "cli/bench.h"
#include "cli/command_line.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "common/error.h"
#include "models/compute_peak.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace grym::cli {

namespace {

struct PeakSuiteOptions {
    ComputePeakOptions peak;
    std::string out;
    bool json = false;
};

void printPeak(const nlohmann::json& r) {
    std::printf("peak throughput, libtorch %s, %d threads\n", r["libtorch"].get<std::string>().c_str(),
                r["threads"].get<int>());
    for (const auto& g : r["gemm"])
        std::printf("  float32 GEMM %5lld x %5lld x %5lld   %8.1f GFLOP/s\n", static_cast<long long>(g["m"].get<int64_t>()),
                    static_cast<long long>(g["n"].get<int64_t>()), static_cast<long long>(g["k"].get<int64_t>()),
                    g["gflops"].get<double>());
    for (const auto& c : r["conv"])
        std::printf("  float32 %-32s %8.1f GFLOP/s\n", c["name"].get<std::string>().c_str(), c["gflops"].get<double>());
    if (r.contains("int8_gemm"))
        for (const auto& g : r["int8_gemm"]["cases"])
            std::printf("  int8 GEMM (%s) %5lld x %5lld x %5lld  %8.1f GOP/s\n",
                        r["int8_gemm"]["engine"].get<std::string>().c_str(), static_cast<long long>(g["m"].get<int64_t>()),
                        static_cast<long long>(g["n"].get<int64_t>()), static_cast<long long>(g["k"].get<int64_t>()),
                        g["gops"].get<double>());
    std::printf("  memory: copy %.1f GB/s, read %.1f GB/s\n", r["memory"]["copy_gb_per_s"].get<double>(),
                r["memory"]["read_gb_per_s"].get<double>());
    std::printf("  peak: GEMM %.1f GFLOP/s, convolution %.1f GFLOP/s\n", r["gemm_peak_gflops"].get<double>(),
                r["conv_peak_gflops"].get<double>());
}

int runBenchPeak(const PeakSuiteOptions& options) {
    const auto result = measureComputePeak(options.peak);
    emitBenchReport(result, options.out, options.json);
    if (!options.json) printPeak(result);
    return 0;
}

}  // namespace

void addBenchPeakSuite(CommandLine& commandLine, CLI::App& bench) {
    auto [command, options] = commandLine.addCommand<PeakSuiteOptions>(
        bench, "peak", "float32 GEMM / convolution and int8 GEMM throughput, memory bandwidth", runBenchPeak);
    ComputePeakOptions& p = options.peak;
    addNumberOption(command, "--seconds-per-case", p.secondsPerCase,
                    "each case repeats for this long, best run kept" + defaultNote(p.secondsPerCase), "SECONDS");
    addTextOption(command, "--out", options.out, "also write the JSON results here", "FILE.json");
    command.add_flag("--json", options.json, "print the results as JSON");
    addThreadsOption(command, p.threads);
}

}  // namespace grym::cli
