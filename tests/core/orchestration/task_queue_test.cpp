#include "support/fake_services.h"
#include "orchestration/task_queue.h"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>

using namespace grym;
using namespace grym::test;
using namespace std::chrono_literals;

namespace {

AudioTask labelled(const std::string& label, TaskPriority priority = TaskPriority::Normal, std::string service = "") {
    AudioTask t;
    t.label = label;
    t.priority = priority;
    t.serviceId = std::move(service);
    return t;
}

// A runner that logs each task's label as it starts and holds the task labelled "blocker"
// until the gate opens.
TaskRunner loggingRunner(RunLog& log, Gate& gate) {
    return [&log, &gate](const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel) {
        log.add(task.label);
        if (task.label == "blocker" && !gate.pass(cancel)) throw TaskCancelled{};
        if (task.input.parameters.value("fail", false)) throw ModelError("model exploded on " + task.label);
        if (progress) progress(ProgressUpdate{1.0, 1, 1, "done", 0});
        TaskResult r;
        r.data["label"] = task.label;
        return r;
    };
}

TaskQueueConfig oneWorker() {
    TaskQueueConfig c;
    c.workerCount = 1;
    return c;
}

}  // namespace

TEST_CASE("tasks of equal priority run in submission order", "[queue]") {
    RunLog log;
    Gate gate;
    TaskQueue queue(oneWorker(), loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));
    std::vector<TaskHandle> handles;
    for (int i = 0; i < 5; ++i) handles.push_back(queue.submit(labelled("t" + std::to_string(i))));
    gate.open();
    for (auto& h : handles) REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(log.labels() == std::vector<std::string>{"blocker", "t0", "t1", "t2", "t3", "t4"});
}

TEST_CASE("higher priority tasks run before lower priority ones", "[queue]") {
    RunLog log;
    Gate gate;
    TaskQueue queue(oneWorker(), loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));
    auto low = queue.submit(labelled("low", TaskPriority::Low));
    auto normal = queue.submit(labelled("normal", TaskPriority::Normal));
    auto critical = queue.submit(labelled("critical", TaskPriority::Critical));
    auto high = queue.submit(labelled("high", TaskPriority::High));
    gate.open();
    low.wait();
    CHECK(log.labels() == std::vector<std::string>{"blocker", "critical", "high", "normal", "low"});
}

TEST_CASE("ageing lets a long-waiting low priority task overtake newer high priority work", "[queue][ageing]") {
    auto now = std::make_shared<std::atomic<int64_t>>(0);  // milliseconds on a manual clock
    TaskQueueConfig config = oneWorker();
    config.agingInterval = 1000ms;
    config.clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now->load())); };
    RunLog log;
    Gate gate;
    TaskQueue queue(config, loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));

    SECTION("without waiting, priority wins") {
        queue.submit(labelled("old-low", TaskPriority::Low));
        auto fresh = queue.submit(labelled("new-high", TaskPriority::High));
        gate.open();
        queue.shutdown(ShutdownMode::Drain);
        CHECK(log.labels() == std::vector<std::string>{"blocker", "new-high", "old-low"});
    }
    SECTION("after waiting three ageing intervals, low priority ties with critical and wins as the older") {
        queue.submit(labelled("old-low", TaskPriority::Low));
        *now += 3000;
        queue.submit(labelled("new-critical", TaskPriority::Critical));
        queue.submit(labelled("new-high", TaskPriority::High));
        gate.open();
        queue.shutdown(ShutdownMode::Drain);
        CHECK(log.labels() == std::vector<std::string>{"blocker", "old-low", "new-critical", "new-high"});
    }
}

TEST_CASE("cancelling a queued task completes it as cancelled without running it", "[queue][cancel]") {
    RunLog log;
    Gate gate;
    TaskQueue queue(oneWorker(), loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));

    std::atomic<int> completions{0};
    TaskState reported = TaskState::Queued;
    TaskCallbacks callbacks;
    callbacks.onComplete = [&](TaskId, TaskState s, const std::string&) {
        reported = s;
        ++completions;
    };
    auto victim = queue.submit(labelled("victim"), callbacks);
    auto survivor = queue.submit(labelled("survivor"));
    CHECK(queue.cancel(victim.id()));
    CHECK(victim.state() == TaskState::Cancelled);
    CHECK(completions == 1);
    CHECK(reported == TaskState::Cancelled);
    CHECK_THROWS_AS(victim.result().get(), TaskCancelled);
    CHECK_FALSE(victim.cancel());  // already finished

    gate.open();
    CHECK(survivor.wait() == TaskState::Succeeded);
    CHECK(log.labels() == std::vector<std::string>{"blocker", "survivor"});
    CHECK(completions == 1);
}

TEST_CASE("cancelling a running task stops it through its cancellation token", "[queue][cancel]") {
    RunLog log;
    Gate gate;  // never opened
    TaskQueue queue(oneWorker(), loggingRunner(log, gate));
    auto running = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return running.state() == TaskState::Running; }));
    CHECK(running.cancel());
    CHECK(running.wait() == TaskState::Cancelled);
    CHECK_THROWS_AS(running.result().get(), TaskCancelled);
    CHECK_THAT(running.error(), Catch::Contains("cancelled while running"));
    // The worker is free again.
    CHECK(queue.submit(labelled("next")).wait() == TaskState::Succeeded);
}

TEST_CASE("a failure inside a service fails that task with its error and the queue goes on", "[queue][failure]") {
    FakeService service("fake", TaskType::Analysis);
    TaskRunner runner = [&](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
        return service.run(t.input, p, c);
    };
    TaskQueue queue(oneWorker(), runner);
    AudioTask bad = labelled("bad");
    bad.input.parameters["fail"] = true;
    std::promise<std::string> reported;
    TaskCallbacks callbacks;
    callbacks.onComplete = [&](TaskId, TaskState, const std::string& e) { reported.set_value(e); };
    auto failed = queue.submit(bad, callbacks);
    CHECK(failed.wait() == TaskState::Failed);
    CHECK_THROWS_AS(failed.result().get(), ModelError);
    CHECK_THAT(failed.error(), Catch::Contains("produced NaNs") && Catch::Contains("failed"));
    CHECK(reported.get_future().get() == failed.error());

    auto good = queue.submit(labelled("good"));
    REQUIRE(good.wait() == TaskState::Succeeded);
    CHECK(good.result().get().data["service"] == "fake");
}

TEST_CASE("non-grym exceptions from a runner become TaskErrors", "[queue][failure]") {
    TaskQueue queue(oneWorker(), [](const AudioTask&, const ProgressCallback&, const CancellationToken&) -> TaskResult {
        throw std::out_of_range("index 7");
    });
    auto h = queue.submit(labelled("x"));
    CHECK(h.wait() == TaskState::Failed);
    CHECK_THROWS_AS(h.result().get(), TaskError);
    CHECK_THAT(h.error(), Catch::Contains("index 7"));
}

TEST_CASE("progress reaches the callback and the handle", "[queue]") {
    FakeService service("fake", TaskType::Generation);
    service.steps = 4;
    TaskQueue queue(oneWorker(), [&](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
        return service.run(t.input, p, c);
    });
    std::mutex m;
    std::vector<int> steps;
    TaskCallbacks callbacks;
    callbacks.onProgress = [&](TaskId, const ProgressUpdate& u) {
        std::lock_guard<std::mutex> lock(m);
        steps.push_back(u.step);
    };
    auto h = queue.submit(labelled("gen"), callbacks);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(steps == std::vector<int>{1, 2, 3, 4});
    CHECK(h.progress().fraction == Approx(1.0));
    CHECK(h.result().get().audio.has_value());
}

TEST_CASE("a full queue rejects new tasks with a clear error", "[queue]") {
    RunLog log;
    Gate gate;
    TaskQueueConfig config = oneWorker();
    config.maxQueuedTasks = 3;
    TaskQueue queue(config, loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));
    for (int i = 0; i < 3; ++i) queue.submit(labelled("q" + std::to_string(i)));
    CHECK_THROWS_WITH(queue.submit(labelled("overflow")), Catch::Contains("queue is full") && Catch::Contains("3"));
    gate.open();
    queue.shutdown(ShutdownMode::Drain);
    CHECK(log.labels().size() == 4);
}

TEST_CASE("only one heavy task per device runs at a time while light work runs beside it", "[queue][devices]") {
    Gate gate;
    std::atomic<int> heavyNow{0}, maxHeavy{0}, lightRan{0};
    TaskQueueConfig config;
    config.workerCount = 3;
    TaskQueue queue(config, [&](const AudioTask& t, const ProgressCallback&, const CancellationToken& c) {
        if (t.requirements.computeIntensity == ComputeIntensity::Heavy) {
            int n = ++heavyNow;
            int seen = maxHeavy.load();
            while (n > seen && !maxHeavy.compare_exchange_weak(seen, n)) {}
            gate.pass(c);
            --heavyNow;
        } else {
            ++lightRan;
        }
        return TaskResult{};
    });
    std::vector<TaskHandle> heavy;
    for (int i = 0; i < 2; ++i) {
        AudioTask t = labelled("heavy" + std::to_string(i), TaskPriority::Normal, "gen" + std::to_string(i));
        t.requirements.computeIntensity = ComputeIntensity::Heavy;
        t.requirements.device = ComputeDevice::Cuda;
        heavy.push_back(queue.submit(t));
    }
    REQUIRE(eventually([&] { return heavyNow == 1; }));
    AudioTask light = labelled("light", TaskPriority::Low, "ana");
    auto lightHandle = queue.submit(light);
    CHECK(lightHandle.wait() == TaskState::Succeeded);  // ran beside the heavy task
    CHECK(heavyNow == 1);
    CHECK(heavy[1].state() == TaskState::Queued);
    gate.open();
    for (auto& h : heavy) CHECK(h.wait() == TaskState::Succeeded);
    CHECK(maxHeavy == 1);
}

TEST_CASE("tasks for the same service do not run concurrently", "[queue][devices]") {
    std::atomic<int> inService{0}, maxInService{0};
    TaskQueueConfig config;
    config.workerCount = 4;
    TaskQueue queue(config, [&](const AudioTask&, const ProgressCallback&, const CancellationToken&) {
        int n = ++inService;
        int seen = maxInService.load();
        while (n > seen && !maxInService.compare_exchange_weak(seen, n)) {}
        std::this_thread::sleep_for(1ms);
        --inService;
        return TaskResult{};
    });
    std::vector<TaskHandle> handles;
    for (int i = 0; i < 12; ++i) handles.push_back(queue.submit(labelled("t", TaskPriority::Normal, "wav2vec2")));
    for (auto& h : handles) CHECK(h.wait() == TaskState::Succeeded);
    CHECK(maxInService == 1);
}

TEST_CASE("shutdown with cancel under load finishes every task and joins", "[queue][shutdown]") {
    FakeService service("fake", TaskType::Analysis);
    service.steps = 50;
    service.stepDelay = 1ms;
    TaskQueueConfig config;
    config.workerCount = 2;
    config.maxQueuedTasks = 200;
    std::atomic<int> completions{0};
    std::vector<TaskHandle> handles;
    {
        TaskQueue queue(config, [&](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
            return service.run(t.input, p, c);
        });
        TaskCallbacks callbacks;
        callbacks.onComplete = [&](TaskId, TaskState, const std::string&) { ++completions; };
        for (int i = 0; i < 100; ++i)
            handles.push_back(queue.submit(labelled("t", TaskPriority::Normal, "s" + std::to_string(i % 4)), callbacks));
        REQUIRE(eventually([&] { return queue.runningCount() > 0; }));
        queue.shutdown(ShutdownMode::Cancel);
        CHECK_THROWS_AS(queue.submit(labelled("late")), TaskError);
        CHECK(queue.runningCount() == 0);
        CHECK(queue.snapshot().empty());
    }  // the destructor after an explicit shutdown is a no-op
    CHECK(completions == 100);
    int cancelled = 0;
    for (auto& h : handles) {
        REQUIRE(h.waitFor(0ms));
        if (h.state() == TaskState::Cancelled) ++cancelled;
    }
    CHECK(cancelled > 90);
}

TEST_CASE("shutdown with drain runs everything already queued", "[queue][shutdown]") {
    std::atomic<int> ran{0};
    TaskQueueConfig config;
    config.maxQueuedTasks = 100;
    TaskQueue queue(config, [&](const AudioTask&, const ProgressCallback&, const CancellationToken&) {
        ++ran;
        return TaskResult{};
    });
    std::vector<TaskHandle> handles;
    for (int i = 0; i < 50; ++i) handles.push_back(queue.submit(labelled("t")));
    queue.shutdown(ShutdownMode::Drain);
    CHECK(ran == 50);
    for (auto& h : handles) CHECK(h.state() == TaskState::Succeeded);
}

TEST_CASE("snapshot lists running tasks first with their state", "[queue]") {
    RunLog log;
    Gate gate;
    TaskQueue queue(oneWorker(), loggingRunner(log, gate));
    auto blocker = queue.submit(labelled("blocker"));
    REQUIRE(eventually([&] { return blocker.state() == TaskState::Running; }));
    queue.submit(labelled("waiting", TaskPriority::High));
    auto s = queue.snapshot();
    REQUIRE(s.size() == 2);
    CHECK(s[0].label == "blocker");
    CHECK(s[0].state == TaskState::Running);
    CHECK(s[1].label == "waiting");
    CHECK(s[1].state == TaskState::Queued);
    CHECK(queue.queuedCount() == 1);
    gate.open();
}

TEST_CASE("hundreds of tasks from several submitting threads all complete exactly once", "[queue][stress]") {
    FakeService analysis("analysis", TaskType::Analysis), generation("generation", TaskType::Generation);
    analysis.steps = 2;
    generation.steps = 3;
    TaskQueueConfig config;
    config.workerCount = 3;
    config.maxQueuedTasks = 1000;
    config.agingInterval = 2ms;
    TaskQueue queue(config, [&](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
        return (t.type == TaskType::Generation ? generation : analysis).run(t.input, p, c);
    });

    constexpr int submitters = 4, perSubmitter = 100;
    std::atomic<int> completions{0}, progressCalls{0};
    std::mutex handlesMutex;
    std::vector<TaskHandle> handles;
    std::vector<std::thread> threads;
    for (int s = 0; s < submitters; ++s) {
        threads.emplace_back([&, s] {
            std::mt19937 rng(s);
            for (int i = 0; i < perSubmitter; ++i) {
                AudioTask t;
                t.type = rng() % 2 ? TaskType::Generation : TaskType::Analysis;
                t.priority = static_cast<TaskPriority>(rng() % 4);
                t.requirements.computeIntensity = t.type == TaskType::Generation ? ComputeIntensity::Heavy : ComputeIntensity::Light;
                t.input.parameters["fail"] = rng() % 10 == 0;
                TaskCallbacks callbacks;
                callbacks.onProgress = [&](TaskId, const ProgressUpdate&) { ++progressCalls; };
                callbacks.onComplete = [&](TaskId, TaskState, const std::string&) { ++completions; };
                TaskHandle h = queue.submit(std::move(t), callbacks);
                if (rng() % 8 == 0) h.cancel();
                if (rng() % 16 == 0) queue.snapshot();
                std::lock_guard<std::mutex> lock(handlesMutex);
                handles.push_back(h);
            }
        });
    }
    for (auto& t : threads) t.join();
    for (auto& h : handles) h.wait();
    // A future is ready just before its onComplete runs, so the last callbacks may still be running.
    CHECK(eventually([&] { return completions == submitters * perSubmitter; }));
    std::map<TaskState, int> byState;
    for (auto& h : handles) ++byState[h.state()];
    CHECK(byState[TaskState::Succeeded] + byState[TaskState::Failed] + byState[TaskState::Cancelled] ==
          submitters * perSubmitter);
    CHECK(byState[TaskState::Succeeded] > 0);
    CHECK(byState[TaskState::Failed] > 0);
    CHECK(analysis.runs + generation.runs <= submitters * perSubmitter);
    CHECK(progressCalls > 0);
}

TEST_CASE("shutdown while threads are still submitting neither deadlocks nor leaks", "[queue][stress][shutdown]") {
    FakeService service("fake", TaskType::Analysis);
    service.steps = 5;
    TaskQueueConfig config;
    config.workerCount = 2;
    config.maxQueuedTasks = 50;
    auto queue = std::make_unique<TaskQueue>(config, [&](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
        return service.run(t.input, p, c);
    });
    std::atomic<int> accepted{0}, rejected{0};
    std::mutex handlesMutex;
    std::vector<TaskHandle> handles;
    std::vector<std::thread> threads;
    for (int s = 0; s < 3; ++s) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                try {
                    auto h = queue->submit(labelled("t"));
                    ++accepted;
                    std::lock_guard<std::mutex> lock(handlesMutex);
                    handles.push_back(h);
                } catch (const TaskError&) {
                    ++rejected;  // full or shutting down
                }
            }
        });
    }
    REQUIRE(eventually([&] { return accepted > 20; }));
    queue->shutdown(ShutdownMode::Cancel);
    for (auto& t : threads) t.join();
    queue.reset();
    CHECK(accepted + rejected == 600);
    for (auto& h : handles) CHECK(isFinished(h.state()));
}
