// grym-synth-cli bench: performance suites, printed as text or as JSON (--json).
#include "cli/bench.h"
#include "cli/runtime_options.h"

#include "common/error.h"
#include "orchestration/memory_monitor.h"
#include "orchestration/performance_suite.h"
#include "models/audioldm/audioldm_service.h"
#include "orchestration/procedural_synth_service.h"
#include "orchestration/torch_memory_probe.h"

#include <cstdio>
#include <iostream>
#include <vector>

namespace grym::cli {

namespace {

// Sub-benchmarks. Add a row per suite (see bench.h).
const std::vector<BenchSuite>& benchSuites() {
    static const std::vector<BenchSuite> suites = {
        {"service", "initialisation, generation and stress metrics of one model service", runBenchService},
        {"wav2vec2", "wav2vec2 analysis service benchmark (cmd_bench_wav2vec2.cpp)", runBenchWav2vec2},
        {"audioldm", "AudioLDM per-component and end-to-end timings (bench_audioldm.cpp; --model DIR)",
         runBenchAudioLdm},
    };
    return suites;
}

// Services the "service" suite can measure. Add a row per model service (see bench.h).
const std::vector<BenchService>& benchServices() {
    static const std::vector<BenchService> services = {
        {"audioldm", "AudioLDM generation service (--model DIR [--precision fp32|int8|int4] [--device cpu|cuda])",
         [](const BenchOptions& o) {
             audioldm::AudioLdmServiceOptions options;
             options.modelPath = o.text("model", "");
             if (options.modelPath.empty()) throw ApiError("the audioldm service needs --model DIR");
             try {
                 options.precision = parsePrecisionName(o.text("precision", "fp32"));
             } catch (const UsageError& e) {
                 throw ApiError(e.what());
             }
             options.device = o.text("device", "cpu") == "cuda" ? ComputeDevice::Cuda : ComputeDevice::Cpu;
             return std::make_shared<audioldm::AudioLdmService>(options);
         }},
        {"procedural-synth", "built-in procedural DSP synthesis (a real workload, not a neural model)",
         [](const BenchOptions&) { return std::make_shared<ProceduralSynthService>(); }},
    };
    return services;
}

// The AudioLDM service when a model folder is given, else the built-in procedural synth.
std::string defaultServiceId(const BenchOptions& options) {
    return options.value("model") ? "audioldm" : "procedural-synth";
}

void benchUsage(std::ostream& os) {
    os << "Usage: grym-synth-cli bench [SUITE] [--json] [options]\n\nSuites:\n";
    for (const auto& s : benchSuites()) os << "  " << s.name << "  " << s.summary << "\n";
    os << "\nOptions of the service suite:\n"
          "  --service ID        the service to measure (default: audioldm with --model DIR, else procedural-synth)\n"
          "  --prompt TEXT       generation prompt\n"
          "  --duration S        seconds of audio per run (default 5)\n"
          "  --steps N           diffusion steps (default 20)\n"
          "  --iterations N      generation runs to average (default 3)\n"
          "  --stress N          stress-test tasks (default 0: skipped)\n"
          "  --concurrent N      stress-test submitters and workers (default 2)\n"
          "  --json              print the metrics as JSON\n\nServices:\n";
    for (const auto& s : benchServices()) os << "  " << s.id << "  " << s.summary << "\n";
}

std::string mib(const nlohmann::json& bytes) {
    if (!bytes.is_number()) return "n/a";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", bytes.get<double>() / (1024.0 * 1024.0));
    return buffer;
}

}  // namespace

BenchOptions::BenchOptions(const Args& args) : args_(args) {
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].rfind("--", 0) == 0) {
            if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) ++i;
            continue;
        }
        positional_.push_back(args[i]);
    }
}

bool BenchOptions::flag(const std::string& name) const {
    for (const auto& a : args_)
        if (a == "--" + name) return true;
    return false;
}

std::optional<std::string> BenchOptions::value(const std::string& name) const {
    for (size_t i = 0; i + 1 < args_.size(); ++i)
        if (args_[i] == "--" + name && args_[i + 1].rfind("--", 0) != 0) return args_[i + 1];
    return std::nullopt;
}

std::string BenchOptions::text(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

double BenchOptions::number(const std::string& name, double fallback) const {
    const auto v = value(name);
    if (!v) {
        if (flag(name)) throw ApiError("bench: --" + name + " needs a value");
        return fallback;
    }
    try {
        size_t used = 0;
        const double x = std::stod(*v, &used);
        if (used != v->size()) throw std::invalid_argument(*v);
        return x;
    } catch (const std::exception&) {
        throw ApiError("bench: --" + name + " expects a number, got '" + *v + "'");
    }
}

int BenchOptions::integer(const std::string& name, int fallback, int min) const {
    const double x = number(name, fallback);
    if (x != static_cast<int>(x) || x < min)
        throw ApiError("bench: --" + name + " expects a whole number of at least " + std::to_string(min) + ", got " +
                       text(name, ""));
    return static_cast<int>(x);
}

int runBenchService(const Args& args) {
    const BenchOptions options(args);
    const bool json = options.flag("json");
    const std::string serviceId = options.text("service", defaultServiceId(options));
    const BenchService* entry = nullptr;
    for (const auto& s : benchServices())
        if (serviceId == s.id) entry = &s;
    if (!entry) {
        std::cerr << "grym-synth-cli bench: unknown service '" << serviceId << "'\n\n";
        benchUsage(std::cerr);
        return 2;
    }

    GenerationTestConfig generation;
    generation.prompt = options.text("prompt", generation.prompt);
    generation.durationSeconds = options.number("duration", generation.durationSeconds);
    generation.diffusionSteps = options.integer("steps", generation.diffusionSteps, 1);
    generation.iterations = options.integer("iterations", generation.iterations, 1);
    const int stressTasks = options.integer("stress", 0, 0);
    const int concurrent = options.integer("concurrent", 2, 1);

    const std::string note =
        serviceId == "procedural-synth"
            ? "measured the built-in procedural DSP synthesis workload (real work, not a neural model): "
              "give --model DIR to measure the AudioLDM service"
            : "";
    if (!note.empty() && !json) std::cerr << "bench: " << note << "\n";

    MemoryMonitorConfig monitorConfig;
    monitorConfig.sampleInterval = std::chrono::milliseconds(10);
    monitorConfig.torchProbe = [] { return readTorchCudaMemory(); };
    MemoryMonitor monitor(monitorConfig);
    monitor.startSampling();

    auto service = entry->make(options);
    PerformanceTestSuite suite(service, monitor);
    if (!json) std::cerr << "bench: initialising " << serviceId << "...\n";
    suite.runInitializationTest();
    if (!json) std::cerr << "bench: " << generation.iterations << " generation run(s)...\n";
    suite.runGenerationTest(generation);
    if (stressTasks > 0) {
        if (!json) std::cerr << "bench: stress test, " << stressTasks << " tasks from " << concurrent << " threads...\n";
        StressTestConfig stress;
        stress.iterations = stressTasks;
        stress.concurrent = concurrent;
        stress.task = generation;
        stress.task.iterations = 1;
        suite.runStressTest(stress);
    }
    monitor.stopSampling();

    nlohmann::json metrics = suite.metrics();
    metrics["benchmark"] = "service";
    if (!note.empty()) metrics["note"] = note;
    if (json) {
        std::cout << metrics.dump(2) << "\n";
        return 0;
    }
    const auto& g = metrics["generationMetrics"];
    const auto& mem = metrics["memoryUsage"];
    std::cout << "service            " << serviceId << " (" << metrics["service"]["device"].get<std::string>() << ", "
              << metrics["service"]["precision"].get<std::string>() << ")\n"
              << "initialisation     " << metrics["initializationTime"].get<double>() << " s\n"
              << "memory (" << metrics["memoryMetric"].get<std::string>() << ")  initial " << mib(mem["initial"])
              << ", peak " << mib(mem["peak"]) << ", stable " << mib(mem["stable"]) << "\n"
              << "generation         " << g["averageGenerationTime"].get<double>() << " s average over " << g["runs"]
              << " run(s) of " << generation.durationSeconds << " s, " << generation.diffusionSteps << " steps\n"
              << "peak during runs   " << mib(g["peakMemoryDuringGeneration"]) << "\n"
              << "prompt complexity  " << g["promptComplexityScore"].get<double>() << "\n";
    if (metrics.contains("stress")) {
        const auto& s = metrics["stress"];
        std::cout << "stress             " << s["succeeded"] << "/" << s["submitted"] << " succeeded, "
                  << s["throughputPerSecond"].get<double>() << " tasks/s, p95 latency "
                  << s["p95Latency"].get<double>() << " s\n";
    }
    return 0;
}

int runBench(const Args& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
        benchUsage(std::cout);
        return 0;
    }
    std::string suiteName = "service";
    Args rest = args;
    if (!args.empty() && args[0].rfind("--", 0) != 0) {
        suiteName = args[0];
        rest.erase(rest.begin());
    }
    for (const auto& s : benchSuites())
        if (suiteName == s.name) return s.run(rest);
    std::cerr << "grym-synth-cli bench: unknown suite '" << suiteName << "'\n\n";
    benchUsage(std::cerr);
    return 2;
}

}  // namespace grym::cli
