#pragma once
// grym-synth-cli bench: performance suites, each a subcommand of `bench`.
//
// `bench [SUITE] [options]`: `bench` alone, or `bench service`, runs the service suite
// (cmd_bench.cpp). To add a suite, write bench_NAME.cpp with an `addBenchNAMESuite` declared
// below and call it from addBenchCommand in cmd_bench.cpp. To make a model service measurable
// by the service suite, add one row to benchServices() in cmd_bench.cpp.
#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include <string>

namespace grym::cli {

class CommandLine;

void addBenchWav2vec2Suite(CommandLine& commandLine, CLI::App& bench);      // bench_wav2vec2.cpp
void addBenchAudioLdmSuite(CommandLine& commandLine, CLI::App& bench);      // bench_audioldm.cpp
void addBenchQuantizationSuite(CommandLine& commandLine, CLI::App& bench);  // bench_quantization.cpp
void addBenchPeakSuite(CommandLine& commandLine, CLI::App& bench);          // bench_peak.cpp

// A suite's JSON report: written atomically to `outPath` when given (ApiError naming it when
// that fails) and printed on stdout when `printJson`.
void emitBenchReport(const nlohmann::json& report, const std::string& outPath, bool printJson);

}  // namespace grym::cli
