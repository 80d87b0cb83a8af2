#pragma once
// PerformanceTestSuite: measures any ModelService (AudioLDM, wav2vec2, or a reference DSP
// workload) and reports the metrics structure of the seed specification:
//
//   { "initializationTime": s,
//     "memoryUsage": {"initial", "peak", "stable"},                     bytes of memoryMetric
//     "generationMetrics": {"averageGenerationTime", "peakMemoryDuringGeneration", "promptComplexityScore"},
//     "modelMetrics": {"quantizationLevel": "8bit"|"4bit"|"none", "diffusionSteps", "batchSize",
//                      "useHalfPrecision"} }
//
// plus "service", "memoryMetric", "stress" and per-run details. Memory is process RSS on the CPU,
// and libtorch's CUDA allocator (else GPU used memory) when the service runs on CUDA.
// Timing goals belong here (grym-synth-cli bench), never in unit tests.
#include "orchestration/memory_monitor.h"
#include "orchestration/model_service.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grym {

struct GenerationTestConfig {
    std::string prompt = "a gentle rain on a tin roof with distant thunder";
    double durationSeconds = 5.0;
    int diffusionSteps = 20;
    int iterations = 3;
    int batchSize = 1;
    uint64_t seed = 0;
};

struct StressTestConfig {
    int iterations = 20;   // tasks in total
    int concurrent = 2;    // submitting threads and queue workers
    GenerationTestConfig task;  // what each task asks for (iterations field ignored)
};

struct InitializationMetrics {
    double initializationTime = 0.0;  // seconds for load()
    uint64_t initial = 0, peak = 0, stable = 0;
};

struct GenerationMetrics {
    double averageGenerationTime = 0.0;
    double minGenerationTime = 0.0, maxGenerationTime = 0.0;
    uint64_t peakMemoryDuringGeneration = 0;
    double promptComplexityScore = 0.0;
    int runs = 0;
};

struct StressMetrics {
    int submitted = 0, succeeded = 0, failed = 0, cancelled = 0;
    double totalSeconds = 0.0, throughputPerSecond = 0.0;
    double averageLatency = 0.0, p95Latency = 0.0;  // submit to completion, seconds
    uint64_t peakMemory = 0;
    std::vector<std::string> errors;  // the first few failure messages
};

// 0..1: how much a prompt asks for, from its length, vocabulary variety and the number of
// descriptive clauses (commas, "with", "and", ...). A heuristic for comparing runs, not a model.
double promptComplexityScore(const std::string& prompt);

class PerformanceTestSuite {
public:
    PerformanceTestSuite(std::shared_ptr<ModelService> service, MemoryMonitor& monitor);

    // Unloads the service if loaded, then times load() and samples memory around it.
    InitializationMetrics runInitializationTest();
    // Loads if needed, then runs `iterations` tasks one after another.
    GenerationMetrics runGenerationTest(const GenerationTestConfig& config);
    // Runs `iterations` tasks through a TaskQueue fed from `concurrent` threads.
    StressMetrics runStressTest(const StressTestConfig& config);

    // The seed's metric structure from the tests run so far (missing ones are null).
    nlohmann::json metrics() const;
    // The task input the generation and stress tests send (shared with the CLI for --dry-run).
    static TaskInput taskInputFor(const ModelService& service, const GenerationTestConfig& config);

private:
    uint64_t sampleMemory();
    MemoryMetric memoryMetric() const;

    std::shared_ptr<ModelService> service_;
    MemoryMonitor& monitor_;
    std::optional<InitializationMetrics> init_;
    std::optional<GenerationMetrics> generation_;
    std::optional<GenerationTestConfig> generationConfig_;
    std::optional<StressMetrics> stress_;
    std::optional<StressTestConfig> stressConfig_;
};

}  // namespace grym
