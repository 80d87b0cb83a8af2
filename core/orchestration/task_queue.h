#pragma once
// TaskQueue: a bounded, prioritised queue of AudioTasks run by a fixed pool of worker threads.
//
// Scheduling
//   - Higher priority first; FIFO among tasks of equal effective priority.
//   - Ageing: every `agingInterval` a task waits raises its effective priority by one level,
//     so low-priority work is never starved by a stream of higher-priority submissions.
//   - At most one Heavy task per ComputeDevice runs at a time; Light tasks run beside it.
//   - At most one task per service key (AudioTask::serviceId, or the task type when empty)
//     runs at a time, because a ModelService runs one task at a time.
//   - submit() throws TaskError when the queue already holds `maxQueuedTasks` waiting tasks,
//     or after shutdown() began.
//
// Threads and callbacks
//   - Tasks run on the queue's worker threads through the TaskRunner given at construction.
//   - TaskCallbacks::onProgress is called on the worker thread running the task.
//   - TaskCallbacks::onComplete is called exactly once per task: on the worker thread that ran
//     it, or, for a task cancelled before it started, on the thread that called
//     TaskHandle::cancel() / TaskQueue::shutdown(). Callbacks are never called while the
//     queue's lock is held, so they may call back into the queue (submit, cancel, snapshot),
//     but they should be quick: a GUI posts the update to its own thread (queued signal).
//   - The future in TaskHandle::result() is ready before onComplete is called.
//
// Shutdown
//   shutdown(Drain) stops accepting tasks and runs everything already queued; shutdown(Cancel)
//   cancels the running tasks (cooperatively, through their CancellationToken) and every queued
//   one. Both join the workers. The destructor does shutdown(Cancel).
#include "common/error.h"
#include "orchestration/model_service.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace grym {

using TaskId = uint64_t;

enum class TaskState { Queued, Running, Succeeded, Failed, Cancelled };
enum class TaskPriority { Low = 0, Normal = 1, High = 2, Critical = 3 };
// ComputeIntensity is declared in model_service.h.

const char* toString(TaskState s);
const char* toString(TaskPriority p);
const char* toString(ComputeIntensity c);
bool isFinished(TaskState s);

struct TaskRequirements {
    uint64_t memoryBytes = 0;               // working memory the task needs
    ComputeIntensity computeIntensity = ComputeIntensity::Light;
    double expectedDurationSeconds = -1.0;  // -1 when unknown
    ComputeDevice device = ComputeDevice::Cpu;
};

struct AudioTask {
    TaskType type = TaskType::Analysis;
    TaskPriority priority = TaskPriority::Normal;
    TaskRequirements requirements;
    TaskInput input;
    std::string serviceId;  // the service to run it ("wav2vec2", "audioldm"); empty: by type
    std::string label;      // shown in UIs and logs
};

struct TaskCallbacks {
    std::function<void(TaskId, const ProgressUpdate&)> onProgress;
    // state is Succeeded, Failed or Cancelled; error is empty on success.
    std::function<void(TaskId, TaskState state, const std::string& error)> onComplete;
};

// A copy of one task's public state (for UIs and the API).
struct TaskStatus {
    TaskId id = 0;
    TaskType type = TaskType::Analysis;
    TaskPriority priority = TaskPriority::Normal;
    TaskState state = TaskState::Queued;
    ProgressUpdate progress;
    std::string serviceId;
    std::string label;
    std::string error;
    double queuedSeconds = 0.0;   // time spent waiting before it started (so far, if still queued)
    double runSeconds = 0.0;      // time spent running (so far, if still running)
};

// Runs one task on the calling worker thread: resolves the service and calls ModelService::run.
// Throws TaskCancelled when `cancel` fires, grym::Error on failure.
using TaskRunner = std::function<TaskResult(const AudioTask&, const ProgressCallback&, const CancellationToken&)>;

struct TaskQueueConfig {
    size_t workerCount = 2;
    size_t maxQueuedTasks = 64;                       // waiting tasks, not counting running ones
    std::chrono::milliseconds agingInterval{5000};    // wait that earns one priority level
    // Time source, replaceable so tests can drive ageing without sleeping.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

namespace detail {
struct TaskRecord;
}

// Shared handle to one submitted task; cheap to copy; stays valid after the queue is gone.
class TaskHandle {
public:
    TaskHandle() = default;
    explicit TaskHandle(std::shared_ptr<detail::TaskRecord> record);

    bool valid() const { return record_ != nullptr; }
    TaskId id() const;
    TaskState state() const;
    ProgressUpdate progress() const;
    std::string error() const;  // empty unless Failed or Cancelled
    TaskStatus status() const;

    // Queued: removed from the queue at once. Running: its CancellationToken fires and the
    // service stops at its next check. Finished: no effect. Returns false if already finished.
    bool cancel();

    // The result, or the task's exception (TaskCancelled, or the service's grym::Error).
    std::shared_future<TaskResult> result() const;
    // Blocks until finished; returns the final state.
    TaskState wait() const;
    bool waitFor(std::chrono::milliseconds timeout) const;

private:
    std::shared_ptr<detail::TaskRecord> record_;
};

enum class ShutdownMode { Drain, Cancel };

class TaskQueue {
public:
    TaskQueue(TaskQueueConfig config, TaskRunner runner);
    ~TaskQueue();
    TaskQueue(const TaskQueue&) = delete;
    TaskQueue& operator=(const TaskQueue&) = delete;

    // Throws TaskError when the queue is full or shutting down.
    TaskHandle submit(AudioTask task, TaskCallbacks callbacks = {});

    // Returns false if the task is unknown to this queue or already finished.
    bool cancel(TaskId id);
    void shutdown(ShutdownMode mode = ShutdownMode::Cancel);

    std::vector<TaskStatus> snapshot() const;  // queued and running tasks, running first
    size_t queuedCount() const;
    size_t runningCount() const;
    const TaskQueueConfig& config() const { return config_; }

private:
    struct State;
    void workerLoop();

    TaskQueueConfig config_;
    TaskRunner runner_;
    std::unique_ptr<State> state_;
};

}  // namespace grym
