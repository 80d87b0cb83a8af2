#include "orchestration/task_router.h"

#include "common/elapsed.h"

#include "common/error.h"
#include "common/json_reader.h"

#include <algorithm>
#include <cmath>

namespace grym {

namespace {

using Clock = std::chrono::steady_clock;

bool holdsMemory(ServiceStatus s) {
    return s == ServiceStatus::Ready || s == ServiceStatus::Busy || s == ServiceStatus::Loading;
}

bool runnable(ServiceStatus s) { return s == ServiceStatus::Ready || s == ServiceStatus::Busy; }

std::string megabytes(uint64_t bytes) {
    return std::to_string(static_cast<long long>(std::llround(bytes / (1024.0 * 1024.0)))) + " MiB";
}

// Audio seconds for analysis, requested seconds x diffusion steps for generation: the
// "duration" and "steps" task parameters the generation services read.
double workUnitsOf(TaskType type, const TaskInput& input) {
    const double audioSeconds = input.audio ? input.audio->duration() : 0.0;
    if (type == TaskType::Analysis) return audioSeconds;
    const JsonReader parameters(input.parameters, "task parameters", throwTaskError);
    const double seconds = parameters.number("duration", audioSeconds > 0 ? audioSeconds : 0.0);
    const double steps = parameters.number("steps", 1.0);
    return seconds * std::max(1.0, steps);
}

}  // namespace

// ---- ServiceLease ----

ServiceLease::ServiceLease(TaskRouter* router, std::string serviceId)
    : router_(router), serviceId_(std::move(serviceId)) {}

ServiceLease::~ServiceLease() { release(); }

ServiceLease::ServiceLease(ServiceLease&& other) noexcept
    : router_(std::exchange(other.router_, nullptr)), serviceId_(std::move(other.serviceId_)) {}

ServiceLease& ServiceLease::operator=(ServiceLease&& other) noexcept {
    if (this != &other) {
        release();
        router_ = std::exchange(other.router_, nullptr);
        serviceId_ = std::move(other.serviceId_);
    }
    return *this;
}

void ServiceLease::release() {
    if (router_) router_->releaseLease(serviceId_);
    router_ = nullptr;
}

// ---- TaskRouter ----

TaskRouter::TaskRouter(ServiceRegistry& registry, TaskRouterConfig config) : registry_(registry), config_(config) {}

TaskAnalysis TaskRouter::analyzeTask(TaskType type, const TaskInput& input, std::optional<TaskPriority> priority,
                                     const std::string& serviceId) const {
    auto service = serviceId.empty() ? registry_.forType(type) : registry_.get(serviceId);
    if (service->taskType() != type)
        throw TaskError("service '" + service->id() + "' runs " + toString(service->taskType()) + " tasks, not " +
                        toString(type));
    const TaskCostEstimate cost = service->estimateCost(input);
    const ServiceInfo info = service->info();

    TaskAnalysis a;
    a.serviceId = service->id();
    a.type = type;
    a.priority = priority.value_or(TaskPriority::Normal);
    a.workUnits = workUnitsOf(type, input);
    a.requirements.memoryBytes = cost.workingMemoryBytes;
    a.requirements.computeIntensity = cost.intensity;
    a.requirements.device = info.device;
    a.modelMemoryBytes = holdsMemory(info.status) ? 0 : service->estimatedMemoryBytes();
    if (cost.computeSeconds >= 0) {
        a.requirements.expectedDurationSeconds = cost.computeSeconds;
        a.estimateSource = "service";
    } else {
        std::lock_guard<std::mutex> lock(stateMutex_);
        auto it = secondsPerUnit_.find(a.serviceId);
        if (it != secondsPerUnit_.end() && a.workUnits > 0) {
            a.requirements.expectedDurationSeconds = it->second * a.workUnits;
            a.estimateSource = "observed";
        } else {
            a.estimateSource = "unknown";
        }
    }
    return a;
}

AudioTask TaskRouter::makeTask(TaskType type, TaskInput input, std::optional<TaskPriority> priority,
                               const std::string& serviceId, std::string label) const {
    const TaskAnalysis a = analyzeTask(type, input, priority, serviceId);
    AudioTask task;
    task.type = type;
    task.priority = a.priority;
    task.requirements = a.requirements;
    task.serviceId = a.serviceId;
    task.input = std::move(input);
    task.label = std::move(label);
    return task;
}

bool TaskRouter::tryLease(const ModelService& service) {
    const std::string id = service.id();
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (evicting_[id] || !runnable(service.info().status)) return false;
    ++leases_[id];
    lastUsed_[id] = Clock::now();
    return true;
}

void TaskRouter::releaseLease(const std::string& serviceId) {
    std::lock_guard<std::mutex> lock(stateMutex_);
    auto it = leases_.find(serviceId);
    if (it != leases_.end() && it->second > 0) --it->second;
    lastUsed_[serviceId] = Clock::now();
}

uint64_t TaskRouter::loadedMemoryBytes() const {
    uint64_t total = 0;
    for (const auto& s : registry_.all())
        if (holdsMemory(s->info().status)) total += s->estimatedMemoryBytes();
    return total;
}

RoutedTask TaskRouter::routeTask(const TaskAnalysis& analysis) {
    auto service = registry_.get(analysis.serviceId);
    if (tryLease(*service)) return RoutedTask{service, analysis, ServiceLease(this, service->id())};

    std::lock_guard<std::mutex> loadLock(loadMutex_);
    if (tryLease(*service)) return RoutedTask{service, analysis, ServiceLease(this, service->id())};

    // Choose idle services to unload, least recently used first, until the new one fits.
    std::vector<std::shared_ptr<ModelService>> victims;
    const uint64_t needed = service->estimatedMemoryBytes() + analysis.requirements.memoryBytes;
    if (config_.memoryLimitBytes > 0) {
        std::lock_guard<std::mutex> lock(stateMutex_);
        uint64_t used = 0;
        std::vector<std::shared_ptr<ModelService>> idle;
        std::string inUse;
        for (const auto& s : registry_.all()) {
            if (s == service || !holdsMemory(s->info().status)) continue;
            used += s->estimatedMemoryBytes();
            if (leases_[s->id()] == 0)
                idle.push_back(s);
            else
                inUse += (inUse.empty() ? "" : ", ") + s->id() + " (" + megabytes(s->estimatedMemoryBytes()) + ")";
        }
        std::sort(idle.begin(), idle.end(), [&](const auto& a, const auto& b) {
            return lastUsed_[a->id()] < lastUsed_[b->id()];
        });
        for (const auto& s : idle) {
            if (used + needed <= config_.memoryLimitBytes) break;
            victims.push_back(s);
            used -= s->estimatedMemoryBytes();
        }
        if (used + needed > config_.memoryLimitBytes)
            throw TaskError("cannot load '" + service->id() + "' (needs " + megabytes(needed) +
                            ") within the memory limit of " + megabytes(config_.memoryLimitBytes) + ": " +
                            megabytes(used) + " are held by services in use" +
                            (inUse.empty() ? std::string() : ": " + inUse));
        for (const auto& v : victims) evicting_[v->id()] = true;
    }
    for (const auto& v : victims) {
        try {
            v->unload();
        } catch (...) {
            // A service that fails to unload keeps its memory; loading goes on and may still fit.
        }
        std::lock_guard<std::mutex> lock(stateMutex_);
        evicting_[v->id()] = false;
    }

    if (config_.freeMemoryBytes && !holdsMemory(service->info().status)) {
        const uint64_t modelBytes = service->estimatedMemoryBytes();
        const uint64_t freeBytes = config_.freeMemoryBytes();
        if (freeBytes > 0 && modelBytes > freeBytes)
            throw TaskError("cannot load '" + service->id() + "': it needs about " + megabytes(modelBytes) +
                            " of memory but only " + megabytes(freeBytes) +
                            " are free; close other programs or choose a smaller model or precision");
    }
    service->load();
    const ServiceInfo info = service->info();
    if (!runnable(info.status))
        throw TaskError("service '" + service->id() + "' did not become ready after loading (status " +
                        toString(info.status) + (info.statusMessage.empty() ? "" : ": " + info.statusMessage) + ")");
    {
        std::lock_guard<std::mutex> lock(stateMutex_);
        ++leases_[service->id()];
        lastUsed_[service->id()] = Clock::now();
    }
    return RoutedTask{service, analysis, ServiceLease(this, service->id())};
}

void TaskRouter::recordRun(const std::string& serviceId, double workUnits, double seconds) {
    if (!(workUnits > 0) || !(seconds >= 0)) return;
    const double rate = seconds / workUnits;
    std::lock_guard<std::mutex> lock(stateMutex_);
    auto it = secondsPerUnit_.find(serviceId);
    if (it == secondsPerUnit_.end())
        secondsPerUnit_[serviceId] = rate;
    else
        it->second = 0.7 * it->second + 0.3 * rate;  // smooth, but follow drift (warm-up, thermal)
}

TaskRunner TaskRouter::runner() {
    return [this](const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel) {
        const TaskAnalysis analysis = analyzeTask(task.type, task.input, task.priority, task.serviceId);
        if (analysis.modelMemoryBytes > 0 && progress) {
            ProgressUpdate loading;
            loading.stage = "loading";
            progress(loading);
        }
        RoutedTask routed = routeTask(analysis);
        cancel.throwIfCancelled();
        const auto start = Clock::now();
        TaskResult result = routed.service->run(task.input, progress, cancel);
        const double seconds = secondsSince(start);
        recordRun(analysis.serviceId, analysis.workUnits, seconds);
        if (result.metrics.is_object() && !result.metrics.contains("runSeconds")) result.metrics["runSeconds"] = seconds;
        return result;
    };
}

}  // namespace grym
