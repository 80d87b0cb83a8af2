#include "orchestration/task_queue.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <thread>

namespace grym {

const char* toString(TaskState s) {
    switch (s) {
        case TaskState::Queued: return "queued";
        case TaskState::Running: return "running";
        case TaskState::Succeeded: return "succeeded";
        case TaskState::Failed: return "failed";
        case TaskState::Cancelled: return "cancelled";
    }
    return "?";
}

const char* toString(TaskPriority p) {
    switch (p) {
        case TaskPriority::Low: return "low";
        case TaskPriority::Normal: return "normal";
        case TaskPriority::High: return "high";
        case TaskPriority::Critical: return "critical";
    }
    return "?";
}

const char* toString(ComputeIntensity c) { return c == ComputeIntensity::Heavy ? "heavy" : "light"; }

bool isFinished(TaskState s) {
    return s == TaskState::Succeeded || s == TaskState::Failed || s == TaskState::Cancelled;
}

namespace detail {

using Clock = std::chrono::steady_clock;

// Fields above `mutex` are fixed at submission; the ones below it are guarded by it.
struct TaskRecord {
    TaskId id = 0;
    uint64_t sequence = 0;
    AudioTask task;
    TaskCallbacks callbacks;
    std::string serviceKey;
    std::function<Clock::time_point()> clock;
    Clock::time_point submitted;
    CancellationToken token;
    std::promise<TaskResult> promise;
    std::shared_future<TaskResult> future;

    mutable std::mutex mutex;
    TaskState state = TaskState::Queued;
    ProgressUpdate progress;
    std::string error;
    Clock::time_point started;
    Clock::time_point finished;

    // Moves the task to a final state exactly once; returns false if it already was final.
    // The future is made ready before onComplete runs, and no lock is held during onComplete.
    bool finish(TaskState finalState, std::optional<TaskResult> result, std::exception_ptr failure,
                const std::string& message) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (isFinished(state)) return false;
            if (state == TaskState::Queued) started = clock();
            state = finalState;
            error = message;
            finished = clock();
            if (finalState == TaskState::Succeeded) progress.fraction = 1.0;
        }
        if (result)
            promise.set_value(std::move(*result));
        else
            promise.set_exception(failure);
        if (callbacks.onComplete) {
            try {
                callbacks.onComplete(id, finalState, message);
            } catch (...) {
                // A throwing callback must not take a worker down; the task's outcome stands.
            }
        }
        return true;
    }

    bool cancelBeforeStart(const std::string& why) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (state != TaskState::Queued) return false;
        }
        TaskCancelled error(why);
        return finish(TaskState::Cancelled, std::nullopt, std::make_exception_ptr(error), why);
    }

    TaskStatus status() const {
        TaskStatus s;
        s.id = id;
        s.type = task.type;
        s.priority = task.priority;
        s.serviceId = task.serviceId;
        s.label = task.label;
        const auto now = clock();
        std::lock_guard<std::mutex> lock(mutex);
        s.state = state;
        s.progress = progress;
        s.error = error;
        const auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
        if (state == TaskState::Queued) {
            s.queuedSeconds = seconds(now - submitted);
        } else {
            s.queuedSeconds = seconds(started - submitted);
            s.runSeconds = seconds((isFinished(state) ? finished : now) - started);
        }
        return s;
    }
};

}  // namespace detail

// ---- TaskHandle ----

TaskHandle::TaskHandle(std::shared_ptr<detail::TaskRecord> record) : record_(std::move(record)) {}

namespace {
const detail::TaskRecord& checked(const std::shared_ptr<detail::TaskRecord>& record) {
    if (!record) throw TaskError("TaskHandle: this handle does not refer to a task");
    return *record;
}
}  // namespace

TaskId TaskHandle::id() const { return checked(record_).id; }

TaskState TaskHandle::state() const {
    const auto& r = checked(record_);
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.state;
}

ProgressUpdate TaskHandle::progress() const {
    const auto& r = checked(record_);
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.progress;
}

std::string TaskHandle::error() const {
    const auto& r = checked(record_);
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.error;
}

TaskStatus TaskHandle::status() const { return checked(record_).status(); }

bool TaskHandle::cancel() {
    checked(record_);
    if (record_->cancelBeforeStart("task " + std::to_string(record_->id) + " was cancelled before it started"))
        return true;
    std::lock_guard<std::mutex> lock(record_->mutex);
    if (record_->state != TaskState::Running) return false;
    record_->token.cancel();
    return true;
}

std::shared_future<TaskResult> TaskHandle::result() const { return checked(record_).future; }

TaskState TaskHandle::wait() const {
    checked(record_).future.wait();
    return state();
}

bool TaskHandle::waitFor(std::chrono::milliseconds timeout) const {
    return checked(record_).future.wait_for(timeout) == std::future_status::ready;
}

// ---- TaskQueue ----

struct TaskQueue::State {
    mutable std::mutex mutex;
    std::condition_variable wake;  // work may have become runnable, or shutdown began
    std::vector<std::shared_ptr<detail::TaskRecord>> pending;
    std::vector<std::shared_ptr<detail::TaskRecord>> running;
    std::set<ComputeDevice> heavyBusy;
    std::set<std::string> servicesBusy;
    TaskId nextId = 1;
    bool stopping = false;

    std::mutex joinMutex;  // serialises concurrent shutdown() calls
    std::vector<std::thread> workers;
    bool joined = false;
};

TaskQueue::TaskQueue(TaskQueueConfig config, TaskRunner runner)
    : config_(std::move(config)), runner_(std::move(runner)), state_(std::make_unique<State>()) {
    if (!runner_) throw TaskError("TaskQueue: no task runner was given");
    if (config_.workerCount == 0) throw TaskError("TaskQueue: workerCount must be at least 1");
    if (config_.maxQueuedTasks == 0) throw TaskError("TaskQueue: maxQueuedTasks must be at least 1");
    if (config_.agingInterval.count() <= 0) throw TaskError("TaskQueue: agingInterval must be positive");
    if (!config_.clock) config_.clock = [] { return std::chrono::steady_clock::now(); };
    state_->workers.reserve(config_.workerCount);
    for (size_t i = 0; i < config_.workerCount; ++i) state_->workers.emplace_back([this] { workerLoop(); });
}

TaskQueue::~TaskQueue() { shutdown(ShutdownMode::Cancel); }

namespace {

// Out of memory, however it is reported: std::bad_alloc from C++ allocations, or libtorch's
// c10::Error from its CPU allocator ("DefaultCPUAllocator: can't allocate memory") or its CUDA
// caching allocator ("CUDA out of memory"), possibly wrapped in a model's own error. Recognised
// by type or by text, since the orchestration layer does not link torch.
bool isOutOfMemory(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
    const std::string what = e.what();
    for (const char* sign : {"out of memory", "can't allocate memory", "Cannot allocate memory"})
        if (what.find(sign) != std::string::npos) return true;
    return false;
}

// What failed and what the user can do; libtorch's messages carry a backtrace after the first line.
std::string outOfMemoryMessage(const std::string& task, const std::exception& e) {
    std::string cause = dynamic_cast<const std::bad_alloc*>(&e) ? "an allocation failed" : e.what();
    cause = cause.substr(0, cause.find('\n'));
    return task + " ran out of memory (" + cause +
           "); it was stopped and the other tasks go on. Free memory (close other programs or unload "
           "models) or ask for less: a shorter duration, fewer variations or a lower precision";
}

void pruneFinished(std::vector<std::shared_ptr<detail::TaskRecord>>& pending) {
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [](const auto& r) {
                                     std::lock_guard<std::mutex> lock(r->mutex);
                                     return r->state != TaskState::Queued;
                                 }),
                  pending.end());
}

}  // namespace

TaskHandle TaskQueue::submit(AudioTask task, TaskCallbacks callbacks) {
    auto record = std::make_shared<detail::TaskRecord>();
    record->task = std::move(task);
    record->callbacks = std::move(callbacks);
    record->serviceKey = record->task.serviceId.empty() ? toString(record->task.type) : record->task.serviceId;
    record->clock = config_.clock;
    record->future = record->promise.get_future().share();
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->stopping) throw TaskError("the task queue is shutting down and accepts no new tasks");
        if (state_->pending.size() >= config_.maxQueuedTasks) pruneFinished(state_->pending);
        if (state_->pending.size() >= config_.maxQueuedTasks)
            throw TaskError("the task queue is full (" + std::to_string(config_.maxQueuedTasks) +
                            " tasks waiting); try again when some have finished");
        record->id = state_->nextId++;
        record->sequence = record->id;
        record->submitted = config_.clock();
        state_->pending.push_back(record);
    }
    state_->wake.notify_one();
    return TaskHandle(record);
}

bool TaskQueue::cancel(TaskId id) {
    std::shared_ptr<detail::TaskRecord> found;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        for (const auto* list : {&state_->pending, &state_->running})
            for (const auto& r : *list)
                if (r->id == id) found = r;
    }
    return found ? TaskHandle(found).cancel() : false;
}

void TaskQueue::shutdown(ShutdownMode mode) {
    std::vector<std::shared_ptr<detail::TaskRecord>> dropped;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        for (const auto& worker : state_->workers)
            if (worker.get_id() == std::this_thread::get_id())
                throw TaskError("TaskQueue::shutdown was called from one of its own workers (a task callback); "
                                "call it from another thread");
        state_->stopping = true;
        if (mode == ShutdownMode::Cancel) {
            dropped.swap(state_->pending);
            for (const auto& r : state_->running) r->token.cancel();
        }
    }
    state_->wake.notify_all();
    for (const auto& r : dropped)
        r->cancelBeforeStart("task " + std::to_string(r->id) + " was cancelled because the task queue shut down");

    std::lock_guard<std::mutex> joinLock(state_->joinMutex);
    if (state_->joined) return;
    for (auto& worker : state_->workers) worker.join();
    state_->joined = true;
}

std::vector<TaskStatus> TaskQueue::snapshot() const {
    std::vector<std::shared_ptr<detail::TaskRecord>> records;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        records = state_->running;
        records.insert(records.end(), state_->pending.begin(), state_->pending.end());
    }
    std::vector<TaskStatus> out;
    out.reserve(records.size());
    for (const auto& r : records) {
        TaskStatus s = r->status();
        if (!isFinished(s.state)) out.push_back(std::move(s));
    }
    return out;
}

size_t TaskQueue::queuedCount() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return static_cast<size_t>(std::count_if(state_->pending.begin(), state_->pending.end(), [](const auto& r) {
        std::lock_guard<std::mutex> recordLock(r->mutex);
        return r->state == TaskState::Queued;
    }));
}

size_t TaskQueue::runningCount() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->running.size();
}

void TaskQueue::workerLoop() {
    using detail::TaskRecord;
    State& st = *state_;

    // The runnable task with the highest aged priority (oldest first among equals), or pending.end().
    // Called with st.mutex held.
    const auto pickNext = [&]() {
        pruneFinished(st.pending);
        const auto now = config_.clock();
        auto best = st.pending.end();
        int64_t bestPriority = 0;
        for (auto it = st.pending.begin(); it != st.pending.end(); ++it) {
            const TaskRecord& r = **it;
            const auto& req = r.task.requirements;
            if (req.computeIntensity == ComputeIntensity::Heavy && st.heavyBusy.count(req.device)) continue;
            if (st.servicesBusy.count(r.serviceKey)) continue;
            const int64_t aged = std::max<int64_t>(0, (now - r.submitted) / config_.agingInterval);
            const int64_t effective = static_cast<int64_t>(r.task.priority) + aged;
            if (best == st.pending.end() || effective > bestPriority ||
                (effective == bestPriority && r.sequence < (*best)->sequence)) {
                best = it;
                bestPriority = effective;
            }
        }
        return best;
    };

    for (;;) {
        std::shared_ptr<TaskRecord> record;
        {
            std::unique_lock<std::mutex> lock(st.mutex);
            auto next = st.pending.end();
            st.wake.wait(lock, [&] {
                next = pickNext();
                return next != st.pending.end() || (st.stopping && st.pending.empty());
            });
            if (next == st.pending.end()) return;  // stopping and nothing left to run
            record = *next;
            st.pending.erase(next);
            {
                std::lock_guard<std::mutex> recordLock(record->mutex);
                if (record->state != TaskState::Queued) continue;  // cancelled meanwhile
                record->state = TaskState::Running;
                record->started = config_.clock();
            }
            const auto& req = record->task.requirements;
            if (req.computeIntensity == ComputeIntensity::Heavy) st.heavyBusy.insert(req.device);
            st.servicesBusy.insert(record->serviceKey);
            st.running.push_back(record);
        }

        const ProgressCallback progress = [record](const ProgressUpdate& update) {
            {
                std::lock_guard<std::mutex> lock(record->mutex);
                record->progress = update;
            }
            if (!record->callbacks.onProgress) return;
            try {
                record->callbacks.onProgress(record->id, update);
            } catch (...) {
                // A throwing observer must not fail the task it observes.
            }
        };
        const std::string what = "task " + std::to_string(record->id) + " (" + toString(record->task.type) +
                                 (record->task.serviceId.empty() ? "" : " on " + record->task.serviceId) + ")";
        try {
            TaskResult result = runner_(record->task, progress, record->token);
            record->finish(TaskState::Succeeded, std::move(result), nullptr, "");
        } catch (const TaskCancelled&) {
            const std::string message = what + " was cancelled while running";
            record->finish(TaskState::Cancelled, std::nullopt, std::make_exception_ptr(TaskCancelled(message)),
                           message);
        } catch (const Error& e) {
            record->finish(TaskState::Failed, std::nullopt, std::current_exception(),
                           isOutOfMemory(e) ? outOfMemoryMessage(what, e) : what + " failed: " + e.what());
        } catch (const std::exception& e) {
            const std::string message = isOutOfMemory(e) ? outOfMemoryMessage(what, e) : what + " failed: " + e.what();
            record->finish(TaskState::Failed, std::nullopt, std::make_exception_ptr(TaskError(message)), message);
        } catch (...) {
            const std::string message = what + " failed with an unknown exception";
            record->finish(TaskState::Failed, std::nullopt, std::make_exception_ptr(TaskError(message)), message);
        }

        {
            std::lock_guard<std::mutex> lock(st.mutex);
            const auto& req = record->task.requirements;
            if (req.computeIntensity == ComputeIntensity::Heavy) st.heavyBusy.erase(req.device);
            st.servicesBusy.erase(record->serviceKey);
            st.running.erase(std::find(st.running.begin(), st.running.end(), record));
        }
        st.wake.notify_all();  // a heavy slot or a service may have come free
    }
}

}  // namespace grym
