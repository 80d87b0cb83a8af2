#include "support/fake_services.h"
#include "orchestration/performance_suite.h"
#include "orchestration/procedural_synth_service.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace grym;
using namespace grym::test;

TEST_CASE("prompt complexity grows with length, variety and clauses and stays in 0..1", "[bench]") {
    CHECK(promptComplexityScore("") == 0.0);
    const double simple = promptComplexityScore("rain");
    const double richer = promptComplexityScore("heavy rain on a tin roof, with distant thunder and wind");
    const double repeated = promptComplexityScore("rain rain rain rain rain rain rain rain rain rain rain");
    CHECK(simple > 0.0);
    CHECK(richer > simple);
    CHECK(richer > repeated);
    std::string huge;
    for (int i = 0; i < 200; ++i) huge += "word" + std::to_string(i) + ", and ";
    CHECK(promptComplexityScore(huge) <= 1.0);
}

TEST_CASE("the procedural synth renders the requested duration, deterministically per seed", "[bench][synth]") {
    ProceduralSynthService synth;
    TaskInput in;
    in.prompt = "bright bells";
    in.parameters = {{"duration", 0.25}, {"steps", 4}, {"seed", 7}};
    CancellationToken token;
    CHECK_THROWS_WITH(synth.run(in, {}, token), Catch::Contains("load it first"));
    synth.load();
    CHECK(synth.isReady());
    int progressCalls = 0;
    const TaskResult a = synth.run(in, [&](const ProgressUpdate&) { ++progressCalls; }, token);
    CHECK(progressCalls == 4);
    REQUIRE(a.audio);
    CHECK(a.audio->sampleRate == 16000);
    CHECK(a.audio->frames() == 4000);
    float peak = 0;
    for (float s : a.audio->samples) peak = std::max(peak, std::fabs(s));
    CHECK(peak == Approx(0.9f));
    CHECK_THAT(a.data["workload"].get<std::string>(), Catch::Contains("not a neural model"));
    CHECK(synth.run(in, {}, token).audio->samples == a.audio->samples);
    in.prompt = "dark drums";
    CHECK(synth.run(in, {}, token).audio->samples != a.audio->samples);

    in.parameters["duration"] = -1;
    CHECK_THROWS_WITH(synth.run(in, {}, token), Catch::Contains("'duration'"));
    CHECK(synth.isReady());
    in.parameters["duration"] = 0.25;
    token.cancel();
    CHECK_THROWS_AS(synth.run(in, {}, token), TaskCancelled);
}

TEST_CASE("the performance suite reports the seed's metric structure from real runs", "[bench]") {
    auto synth = std::make_shared<ProceduralSynthService>();
    MemoryMonitor monitor;
    PerformanceTestSuite suite(synth, monitor);
    CHECK(suite.metrics()["initializationTime"].is_null());

    const InitializationMetrics init = suite.runInitializationTest();
    CHECK(init.initializationTime > 0);
    CHECK(init.initial > 0);
    CHECK(init.peak >= init.initial);

    GenerationTestConfig gen;
    gen.durationSeconds = 0.2;
    gen.diffusionSteps = 3;
    gen.iterations = 2;
    const GenerationMetrics g = suite.runGenerationTest(gen);
    CHECK(g.runs == 2);
    CHECK(g.averageGenerationTime > 0);
    CHECK(g.peakMemoryDuringGeneration > 0);

    StressTestConfig stress;
    stress.iterations = 6;
    stress.concurrent = 2;
    stress.task = gen;
    const StressMetrics s = suite.runStressTest(stress);
    CHECK(s.submitted == 6);
    CHECK(s.succeeded == 6);
    CHECK(s.throughputPerSecond > 0);

    const nlohmann::json m = suite.metrics();
    CHECK(m["service"]["id"] == "procedural-synth");
    CHECK(m["initializationTime"].get<double>() == Approx(init.initializationTime));
    for (const char* k : {"initial", "peak", "stable"}) CHECK(m["memoryUsage"][k].is_number());
    for (const char* k : {"averageGenerationTime", "peakMemoryDuringGeneration", "promptComplexityScore"})
        CHECK(m["generationMetrics"][k].is_number());
    CHECK(m["modelMetrics"]["quantizationLevel"] == "none");
    CHECK(m["modelMetrics"]["diffusionSteps"] == 3);
    CHECK(m["modelMetrics"]["batchSize"] == 1);
    CHECK(m["modelMetrics"]["useHalfPrecision"] == false);
    CHECK(m["stress"]["succeeded"] == 6);
}

TEST_CASE("model metrics follow the service's precision", "[bench]") {
    auto service = std::make_shared<FakeService>("quantised", TaskType::Generation);
    MemoryMonitor monitor;
    PerformanceTestSuite suite(service, monitor);
    service->precision = Precision::Int8;
    CHECK(suite.metrics()["modelMetrics"]["quantizationLevel"] == "8bit");
    service->precision = Precision::Int4;
    CHECK(suite.metrics()["modelMetrics"]["quantizationLevel"] == "4bit");
    service->precision = Precision::Fp16;
    CHECK(suite.metrics()["modelMetrics"]["useHalfPrecision"] == true);
}

TEST_CASE("the suite feeds analysis services a test signal at their rate", "[bench]") {
    class Rated : public FakeService {
    public:
        using FakeService::FakeService;
        InputRequirements inputRequirements() const override { return {true, 22050, 1, 0, 0}; }
    } service("analyser", TaskType::Analysis);
    GenerationTestConfig c;
    c.durationSeconds = 0.5;
    const TaskInput in = PerformanceTestSuite::taskInputFor(service, c);
    REQUIRE(in.audio);
    CHECK(in.audio->sampleRate == 22050);
    CHECK(in.audio->frames() == 11025);
}

TEST_CASE("a failing service makes the generation test throw and leaves no open tracking", "[bench]") {
    MemoryMonitor monitor;
    struct Failing : FakeService {
        using FakeService::FakeService;
        TaskResult run(const TaskInput&, const ProgressCallback&, const CancellationToken&) override {
            throw ModelError("out of memory");
        }
    };
    auto failing = std::make_shared<Failing>("failing", TaskType::Generation);
    PerformanceTestSuite failingSuite(failing, monitor);
    CHECK_THROWS_WITH(failingSuite.runGenerationTest(GenerationTestConfig{}), Catch::Contains("out of memory"));
    CHECK_FALSE(monitor.isTracking("bench:generation:0"));
}
