// grym-synth-cli bench: performance suites, printed as text or as JSON (--json). `bench` alone
// (or `bench service`) runs the service suite; the other suites are subcommands in their own files.
#include "cli/bench.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "common/error.h"
#include "orchestration/memory_monitor.h"
#include "orchestration/performance_suite.h"
#include "models/audioldm/audioldm_service.h"
#include "orchestration/procedural_synth_service.h"
#include "orchestration/torch_memory_probe.h"
#include "platform/atomic_file.h"

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <system_error>
#include <vector>

namespace grym::cli {

void emitBenchReport(const nlohmann::json& report, const std::string& outPath, bool printJson) {
    if (!outPath.empty()) {
        const std::string text = report.dump(2) + "\n";
        try {
            writeFileAtomically(outPath, text.data(), text.size());
        } catch (const std::system_error& e) {
            throw ApiError(outPath + ": cannot write the benchmark report (" + e.what() + ")");
        }
    }
    if (printJson) std::cout << report.dump(2) << "\n";
}

namespace {

struct ServiceSuiteOptions {
    std::string serviceId;  // empty: the AudioLDM service with --model, else the procedural synth
    GenerationTestConfig generation;
    int stressTasks = 0;
    int concurrent = 2;
    bool json = false;
    std::string model;
    Precision precision = Precision::Fp32;
    ComputeDevice device = ComputeDevice::Cpu;
};

struct BenchService {
    const char* id;
    const char* summary;
    std::function<std::shared_ptr<ModelService>(const ServiceSuiteOptions&)> make;
};

// Services the "service" suite can measure. Add a row per model service (see bench.h).
const std::vector<BenchService>& benchServices() {
    static const std::vector<BenchService> services = {
        {"audioldm", "AudioLDM generation service (--model DIR, --precision, --device)",
         [](const ServiceSuiteOptions& o) {
             audioldm::AudioLdmServiceOptions options;
             options.modelPath = o.model;
             if (options.modelPath.empty()) throw ApiError("the audioldm service needs --model DIR");
             options.precision = o.precision;
             options.device = o.device;
             return std::make_shared<audioldm::AudioLdmService>(options);
         }},
        {"procedural-synth", "built-in procedural DSP synthesis (a real workload, not a neural model)",
         [](const ServiceSuiteOptions&) { return std::make_shared<ProceduralSynthService>(); }},
    };
    return services;
}

std::string mib(const nlohmann::json& bytes) {
    if (!bytes.is_number()) return "n/a";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", bytes.get<double>() / (1024.0 * 1024.0));
    return buffer;
}

int runBenchService(const ServiceSuiteOptions& options) {
    const bool json = options.json;
    // The AudioLDM service when a model folder is given, else the built-in procedural synth.
    const std::string serviceId =
        !options.serviceId.empty() ? options.serviceId : !options.model.empty() ? "audioldm" : "procedural-synth";
    const BenchService* entry = nullptr;
    for (const auto& s : benchServices())
        if (serviceId == s.id) entry = &s;
    if (!entry) throw ApiError("no service '" + serviceId + "' to measure");  // --service checked the name

    const GenerationTestConfig& generation = options.generation;
    const int stressTasks = options.stressTasks;
    const int concurrent = options.concurrent;

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

// The service suite's options, given to `bench` itself and to `bench service`.
void addServiceSuiteOptions(CLI::App& command, ServiceSuiteOptions& o) {
    std::vector<Choice<std::string>> services;
    for (const auto& s : benchServices()) services.push_back({s.id, s.id});
    addChoiceOption(command, "--service", o.serviceId, services,
                    "the service to measure (default: audioldm with --model DIR, else procedural-synth)");
    addModelOption(command, o.model, "diffusers AudioLDM folder: measures the audioldm service");
    addTextOption(command, "--prompt", o.generation.prompt, "generation prompt");
    addNumberOption(command, "--duration", o.generation.durationSeconds,
                    "seconds of audio per run" + defaultNote(o.generation.durationSeconds), "SECONDS");
    addWholeNumberOption(command, "--steps", o.generation.diffusionSteps,
                         "diffusion steps" + defaultNote(o.generation.diffusionSteps), 1);
    addWholeNumberOption(command, "--iterations", o.generation.iterations,
                         "generation runs to average" + defaultNote(o.generation.iterations), 1);
    addWholeNumberOption(command, "--stress", o.stressTasks, "stress-test tasks (default 0: skipped)", 0);
    addWholeNumberOption(command, "--concurrent", o.concurrent,
                         "stress-test submitters and workers" + defaultNote(o.concurrent), 1);
    addPrecisionOption(command, o.precision);
    addDeviceOption(command, o.device);
    command.add_flag("--json", o.json, "print the metrics as JSON");
}

}  // namespace

void addBenchCommand(CommandLine& commandLine) {
    auto options = std::make_shared<ServiceSuiteOptions>();
    const CommandAction runService = [options] { return runBenchService(*options); };
    CLI::App& bench = commandLine.addCommand(commandLine.program(), "bench",
                                             "performance suites; without a SUITE, the service suite", runService);
    addServiceSuiteOptions(bench, *options);
    std::string services = "Services (--service):\n";
    for (const auto& s : benchServices()) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-18s%s\n", s.id, s.summary);
        services += line;
    }
    bench.footer(services + "\nRun 'grym-synth-cli bench SUITE --help' for the options of a suite.");

    CLI::App& service = commandLine.addCommand(
        bench, "service", "initialisation, generation and stress metrics of one model service", runService);
    addServiceSuiteOptions(service, *options);
    service.footer(services);
    addBenchWav2vec2Suite(commandLine, bench);
    addBenchAudioLdmSuite(commandLine, bench);
    addBenchQuantizationSuite(commandLine, bench);
    addBenchPeakSuite(commandLine, bench);
}

}  // namespace grym::cli
