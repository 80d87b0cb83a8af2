#include "support/fake_services.h"
#include "orchestration/task_router.h"

#include <catch2/catch.hpp>

using namespace grym;
using namespace grym::test;

namespace {

constexpr uint64_t MiB = 1024 * 1024;

TaskInput clip(double seconds, int rate = 16000) {
    TaskInput in;
    AudioBuffer a;
    a.sampleRate = rate;
    a.channels = 1;
    a.samples.assign(static_cast<size_t>(seconds * rate), 0.0f);
    in.audio = a;
    return in;
}

// A generation double whose cost model scales with duration x steps, like a diffusion model.
class CostedGenerator : public FakeService {
public:
    using FakeService::FakeService;
    TaskCostEstimate estimateCost(const TaskInput& input) const override {
        TaskCostEstimate c;
        const double duration = input.parameters.value("duration", 5.0);
        const int steps = input.parameters.value("steps", 10);
        c.workingMemoryBytes = static_cast<uint64_t>(duration * 10 * MiB);
        c.computeSeconds = 0.05 * duration * steps;
        c.intensity = ComputeIntensity::Heavy;
        return c;
    }
};

}  // namespace

TEST_CASE("analyzeTask picks the service by type and estimates from the input", "[router]") {
    ServiceRegistry registry;
    auto analysis = std::make_shared<FakeService>("wav2vec2", TaskType::Analysis, 400 * MiB);
    auto generation = std::make_shared<CostedGenerator>("audioldm", TaskType::Generation, 2000 * MiB);
    registry.add(analysis);
    registry.add(generation);
    TaskRouter router(registry);

    const TaskAnalysis a = router.analyzeTask(TaskType::Analysis, clip(3.0));
    CHECK(a.serviceId == "wav2vec2");
    CHECK(a.workUnits == Approx(3.0));
    CHECK(a.requirements.computeIntensity == ComputeIntensity::Light);
    CHECK(a.requirements.memoryBytes == 4 * 48000 * sizeof(float));
    CHECK(a.modelMemoryBytes == 400 * MiB);  // not loaded yet
    CHECK(a.estimateSource == "unknown");

    TaskInput prompt;
    prompt.prompt = "rain on a tin roof";
    prompt.parameters = {{"duration", 10.0}, {"steps", 50}};
    const TaskAnalysis g = router.analyzeTask(TaskType::Generation, prompt, TaskPriority::High);
    CHECK(g.serviceId == "audioldm");
    CHECK(g.priority == TaskPriority::High);
    CHECK(g.workUnits == Approx(500.0));
    CHECK(g.requirements.computeIntensity == ComputeIntensity::Heavy);
    CHECK(g.requirements.expectedDurationSeconds == Approx(25.0));
    CHECK(g.requirements.memoryBytes == 100 * MiB);
    CHECK(g.estimateSource == "service");

    CHECK_THROWS_WITH(router.analyzeTask(TaskType::Generation, prompt, std::nullopt, "wav2vec2"),
                      Catch::Contains("runs analysis tasks"));
    CHECK_THROWS_WITH(router.analyzeTask(TaskType::Analysis, prompt, std::nullopt, "clap"),
                      Catch::Contains("no model service 'clap'") && Catch::Contains("wav2vec2, audioldm"));
}

TEST_CASE("observed run times refine compute estimates", "[router]") {
    ServiceRegistry registry;
    registry.add(std::make_shared<FakeService>("wav2vec2", TaskType::Analysis));
    TaskRouter router(registry);
    router.recordRun("wav2vec2", 10.0, 2.0);  // 0.2 s per audio second
    const TaskAnalysis a = router.analyzeTask(TaskType::Analysis, clip(5.0));
    CHECK(a.estimateSource == "observed");
    CHECK(a.requirements.expectedDurationSeconds == Approx(1.0));
}

TEST_CASE("routeTask loads a service and unloads idle ones to stay under the memory limit", "[router][memory]") {
    ServiceRegistry registry;
    auto a = std::make_shared<FakeService>("a", TaskType::Analysis, 600 * MiB);
    auto b = std::make_shared<FakeService>("b", TaskType::Analysis, 300 * MiB);
    auto g = std::make_shared<FakeService>("g", TaskType::Generation, 700 * MiB);
    registry.add(a);
    registry.add(b);
    registry.add(g);
    TaskRouterConfig config;
    config.memoryLimitBytes = 1000 * MiB;
    TaskRouter router(registry, config);

    {
        RoutedTask r = router.routeTask(router.analyzeTask(TaskType::Analysis, TaskInput{}, std::nullopt, "a"));
        CHECK(r.service == a);
        CHECK(a->isReady());
    }
    {
        RoutedTask r = router.routeTask(router.analyzeTask(TaskType::Analysis, TaskInput{}, std::nullopt, "b"));
        CHECK(b->isReady());
    }
    CHECK(router.loadedMemoryBytes() == 900 * MiB);

    SECTION("the least recently used idle service goes first, and only as many as needed") {
        router.routeTask(router.analyzeTask(TaskType::Generation, TaskInput{}));
        CHECK(g->isReady());
        CHECK_FALSE(a->isReady());  // a was used before b
        CHECK(b->isReady());        // 700 + 300 fits
        CHECK(a->unloads == 1);
        CHECK(router.loadedMemoryBytes() == 1000 * MiB);
    }
    SECTION("a service in use is never unloaded; the request fails with a readable reason") {
        RoutedTask holdA = router.routeTask(router.analyzeTask(TaskType::Analysis, TaskInput{}, std::nullopt, "a"));
        RoutedTask holdB = router.routeTask(router.analyzeTask(TaskType::Analysis, TaskInput{}, std::nullopt, "b"));
        CHECK_THROWS_WITH(router.routeTask(router.analyzeTask(TaskType::Generation, TaskInput{})),
                          Catch::Contains("cannot load 'g'") && Catch::Contains("memory limit of 1000 MiB") &&
                              Catch::Contains("a (600 MiB)"));
        CHECK(a->isReady());
        CHECK(b->isReady());
        holdB.lease.release();
        // With b released, unloading b alone is not enough (600 + 700 > 1000) while a is held.
        CHECK_THROWS_AS(router.routeTask(router.analyzeTask(TaskType::Generation, TaskInput{})), TaskError);
        holdA.lease.release();
        router.routeTask(router.analyzeTask(TaskType::Generation, TaskInput{}));
        CHECK(g->isReady());
    }
}

TEST_CASE("a service that fails to load reports its own error", "[router]") {
    ServiceRegistry registry;
    auto broken = std::make_shared<FakeService>("broken", TaskType::Analysis);
    broken->failLoadWith = "weights missing";
    registry.add(broken);
    TaskRouter router(registry);
    CHECK_THROWS_AS(router.routeTask(router.analyzeTask(TaskType::Analysis, TaskInput{})), ModelError);
}

TEST_CASE("the router's runner drives a TaskQueue end to end", "[router][queue]") {
    ServiceRegistry registry;
    auto w = std::make_shared<FakeService>("wav2vec2", TaskType::Analysis, 400 * MiB);
    registry.add(w);
    TaskRouter router(registry);
    TaskQueue queue(TaskQueueConfig{}, router.runner());
    std::vector<std::string> stages;
    std::mutex m;
    TaskCallbacks callbacks;
    callbacks.onProgress = [&](TaskId, const ProgressUpdate& u) {
        std::lock_guard<std::mutex> lock(m);
        stages.push_back(u.stage);
    };
    auto h = queue.submit(router.makeTask(TaskType::Analysis, clip(1.0), std::nullopt, "", "clip"), callbacks);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(h.result().get().data["service"] == "wav2vec2");
    CHECK(h.result().get().metrics.contains("runSeconds"));
    CHECK(w->loads == 1);
    CHECK(stages.front() == "loading");
    CHECK(router.analyzeTask(TaskType::Analysis, clip(2.0)).estimateSource == "observed");
}

TEST_CASE("the registry finds a service by type without throwing and removes by id", "[router]") {
    ServiceRegistry registry;
    CHECK(registry.findForType(TaskType::Analysis) == nullptr);
    CHECK_THROWS_AS(registry.forType(TaskType::Analysis), TaskError);
    auto first = std::make_shared<FakeService>("wav2vec2", TaskType::Analysis);
    auto second = std::make_shared<FakeService>("hubert", TaskType::Analysis);
    registry.add(first);
    registry.add(second);
    CHECK(registry.findForType(TaskType::Analysis) == first);
    CHECK(registry.findForType(TaskType::Generation) == nullptr);

    CHECK(registry.remove("wav2vec2") == first);
    CHECK(registry.remove("wav2vec2") == nullptr);
    CHECK(registry.forType(TaskType::Analysis) == second);
    registry.add(std::make_shared<FakeService>("wav2vec2", TaskType::Analysis));  // the id is free again
    CHECK(registry.all().size() == 2);
}
