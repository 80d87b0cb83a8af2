// Out of memory during a task (issue 15): the task fails with a message that says so and what to
// do, while the queue, the router and the other services keep working. Allocation failures are
// injected here (this file also runs under ThreadSanitizer, whose allocator aborts instead of
// throwing); tests/core/api/fault_tolerance_test.cpp makes libtorch's allocator really fail.
#include "support/fake_services.h"
#include "orchestration/task_router.h"

#include <catch2/catch.hpp>

#include <new>
#include <stdexcept>

using namespace grym;
using namespace grym::test;

namespace {

constexpr uint64_t MiB = 1024 * 1024;

// Fails every run the way an exhausted allocator reports it.
class OutOfMemoryService : public FakeService {
public:
    OutOfMemoryService(std::string id, std::function<void()> fail) : FakeService(std::move(id), TaskType::Generation),
                                                                      fail_(std::move(fail)) {}
    TaskResult run(const TaskInput&, const ProgressCallback&, const CancellationToken&) override {
        fail_();
        return {};
    }

private:
    std::function<void()> fail_;
};

}  // namespace

TEST_CASE("a task whose allocation fails is failed with an out-of-memory message and the queue goes on",
          "[router][memory][fault]") {
    struct Case {
        const char* name;
        std::function<void()> fail;
        const char* cause;
    };
    const std::vector<Case> cases = {
        {"std::bad_alloc", [] { throw std::bad_alloc(); }, "an allocation failed"},
        {"libtorch CPU allocator",
         [] {
             throw std::runtime_error("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 "
                                      "bytes. Error code 12 (Cannot allocate memory)\nException raised from ...");
         },
         "can't allocate memory"},
        {"CUDA caching allocator, wrapped in the model's error",
         [] { throw ModelError("UNet on cuda:0 failed: CUDA out of memory. Tried to allocate 2.00 GiB"); },
         "CUDA out of memory"},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            ServiceRegistry registry;
            registry.add(std::make_shared<OutOfMemoryService>("audioldm", c.fail));
            auto analyzer = std::make_shared<FakeService>("wav2vec2", TaskType::Analysis);
            registry.add(analyzer);
            TaskRouter router(registry);
            TaskQueue queue(TaskQueueConfig{}, router.runner());

            TaskInput generate;
            generate.prompt = "a large request";
            auto failed = queue.submit(router.makeTask(TaskType::Generation, generate));
            TaskInput clip;
            clip.audio = AudioBuffer{16000, 1, std::vector<float>(1600, 0.0f)};
            auto after = queue.submit(router.makeTask(TaskType::Analysis, clip));

            REQUIRE(failed.wait() == TaskState::Failed);
            const std::string message = failed.status().error;
            CHECK_THAT(message, Catch::Contains("ran out of memory"));
            CHECK_THAT(message, Catch::Contains(c.cause));
            CHECK_THAT(message, Catch::Contains("the other tasks go on"));
            CHECK(message.find("Exception raised from") == std::string::npos);  // no libtorch backtrace
            CHECK(after.wait() == TaskState::Succeeded);
            // The same service can be asked again: nothing is left stuck.
            auto again = queue.submit(router.makeTask(TaskType::Generation, generate));
            CHECK(again.wait() == TaskState::Failed);
        }
    }
}

TEST_CASE("a model larger than the free memory is refused before loading, naming both sizes", "[router][memory][fault]") {
    ServiceRegistry registry;
    auto big = std::make_shared<FakeService>("audioldm", TaskType::Generation, 6000 * MiB);
    auto small = std::make_shared<FakeService>("wav2vec2", TaskType::Analysis, 300 * MiB);
    registry.add(big);
    registry.add(small);
    TaskRouterConfig config;
    config.freeMemoryBytes = [] { return 2000 * MiB; };
    TaskRouter router(registry, config);
    TaskQueue queue(TaskQueueConfig{}, router.runner());

    auto refused = queue.submit(router.makeTask(TaskType::Generation, TaskInput{}));
    REQUIRE(refused.wait() == TaskState::Failed);
    CHECK_THAT(refused.status().error, Catch::Contains("cannot load 'audioldm'"));
    CHECK_THAT(refused.status().error, Catch::Contains("6000 MiB"));
    CHECK_THAT(refused.status().error, Catch::Contains("2000 MiB"));
    CHECK(big->loads == 0);  // never tried: no swap storm, no OOM killer

    TaskInput clip;
    clip.audio = AudioBuffer{16000, 1, std::vector<float>(1600, 0.0f)};
    CHECK(queue.submit(router.makeTask(TaskType::Analysis, clip)).wait() == TaskState::Succeeded);
    CHECK(small->loads == 1);

    // With the free memory unknown (0) the check is skipped rather than refusing everything.
    TaskRouterConfig unknown;
    unknown.freeMemoryBytes = [] { return uint64_t{0}; };
    TaskRouter lenient(registry, unknown);
    CHECK_NOTHROW(lenient.routeTask(lenient.analyzeTask(TaskType::Generation, TaskInput{})));
}
