#pragma once
// grym-synth-cli bench: shared option parsing and the sub-benchmark table.
//
// `bench [SUITE] [options]`: SUITE picks a sub-benchmark (default "service"). To add one,
// write bench_NAME.cpp with `int runBenchNAME(const Args&)` declared below and add one row to
// benchSuites() in cmd_bench.cpp. To make a model service measurable by the "service" suite,
// add one row to benchServices() in cmd_bench.cpp.
#include "cli/commands.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace grym {
class ModelService;
}

namespace grym::cli {

// Reads `--name VALUE` style options; flags are `--name` alone.
class BenchOptions {
public:
    explicit BenchOptions(const Args& args);
    bool flag(const std::string& name) const;
    std::optional<std::string> value(const std::string& name) const;
    std::string text(const std::string& name, const std::string& fallback) const;
    double number(const std::string& name, double fallback) const;  // throws ApiError on bad numbers
    int integer(const std::string& name, int fallback, int min) const;
    const Args& positional() const { return positional_; }

private:
    Args args_;
    Args positional_;
};

struct BenchSuite {
    const char* name;
    const char* summary;
    std::function<int(const Args&)> run;
};

struct BenchService {
    const char* id;
    const char* summary;
    std::function<std::shared_ptr<ModelService>(const BenchOptions&)> make;
};

// The "service" suite: PerformanceTestSuite (initialisation, generation, stress) on one service.
int runBenchService(const Args& args);
// Sub-benchmarks in their own files.
int runBenchWav2vec2(const Args& args);  // cmd_bench_wav2vec2.cpp
int runBenchAudioLdm(const Args& args);  // bench_audioldm.cpp

}  // namespace grym::cli
