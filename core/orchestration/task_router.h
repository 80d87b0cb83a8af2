#pragma once
// TaskRouter: decides which service runs a task and what it will cost, keeps the set of
// loaded models inside a memory limit.
//
// analyzeTask  - service, priority and estimated memory / compute time for a task, from the
//                service's cost model (its config) and the input (audio length, duration, steps),
//                refined by the run times the router has observed.
// routeTask    - the ready service plus the task's config, holding a lease that marks the service
//                in use. Loads the service when needed, first unloading idle services (least
//                recently used first) when the loaded models would pass the memory limit.
// runner()     - a TaskRunner for TaskQueue that does analyzeTask + routeTask + run.
//
// Thread-safe. Loading and unloading are serialised (one at a time); routing to an already
// loaded service does not wait for them. The router must outlive its leases and runners.
#include "orchestration/memory_monitor.h"
#include "orchestration/service_registry.h"
#include "orchestration/task_queue.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace grym {

struct TaskAnalysis {
    std::string serviceId;
    TaskType type = TaskType::Analysis;
    TaskPriority priority = TaskPriority::Normal;
    TaskRequirements requirements;     // memoryBytes: the task's working memory
    uint64_t modelMemoryBytes = 0;     // the service's loaded weights (0 if already loaded)
    double workUnits = 0.0;            // audio seconds (analysis) or seconds x steps (generation)
    std::string estimateSource;        // "service", "observed" or "unknown" (for the compute time)

    uint64_t totalMemoryBytes() const { return requirements.memoryBytes + modelMemoryBytes; }
};

struct TaskRouterConfig {
    uint64_t memoryLimitBytes = 0;  // models loaded at once must fit; 0 = no limit
    // The system memory a model being loaded may still take (MemAvailable by default; 0 when it
    // cannot be read, which skips the check). A model whose estimate exceeds it is refused before
    // loading, with both sizes named, instead of driving the machine into swap or the OOM killer.
    std::function<uint64_t()> freeMemoryBytes = [] { return readMemorySnapshot(nullptr).systemAvailableBytes; };
};

class TaskRouter;

// Marks a service in use while alive; an in-use service is never unloaded to make room.
class ServiceLease {
public:
    ServiceLease() = default;
    ServiceLease(TaskRouter* router, std::string serviceId);
    ~ServiceLease();
    ServiceLease(ServiceLease&& other) noexcept;
    ServiceLease& operator=(ServiceLease&& other) noexcept;
    ServiceLease(const ServiceLease&) = delete;
    ServiceLease& operator=(const ServiceLease&) = delete;
    void release();

private:
    TaskRouter* router_ = nullptr;
    std::string serviceId_;
};

struct RoutedTask {
    std::shared_ptr<ModelService> service;
    TaskAnalysis analysis;  // what the router decided from (service, memory, work units)
    ServiceLease lease;
};

class TaskRouter {
public:
    TaskRouter(ServiceRegistry& registry, TaskRouterConfig config = {});

    // Picks the service: `serviceId` if given, else the first service of `type`.
    TaskAnalysis analyzeTask(TaskType type, const TaskInput& input,
                             std::optional<TaskPriority> priority = std::nullopt,
                             const std::string& serviceId = "") const;
    // An AudioTask ready for TaskQueue::submit, with requirements and service filled in.
    AudioTask makeTask(TaskType type, TaskInput input, std::optional<TaskPriority> priority = std::nullopt,
                       const std::string& serviceId = "", std::string label = "") const;

    // Throws TaskError when the service cannot fit under the memory limit even after unloading
    // every idle service, and the service's own error when loading fails.
    RoutedTask routeTask(const TaskAnalysis& analysis);

    // Runs tasks for a TaskQueue: analyse, route, run, and learn the observed run time.
    TaskRunner runner();

    // Feeds the observed-speed model behind analyzeTask's compute-time estimates.
    void recordRun(const std::string& serviceId, double workUnits, double seconds);
    // Sum of estimatedMemoryBytes() over loaded services.
    uint64_t loadedMemoryBytes() const;
    const TaskRouterConfig& config() const { return config_; }
    ServiceRegistry& registry() { return registry_; }

private:
    friend class ServiceLease;
    void releaseLease(const std::string& serviceId);
    bool tryLease(const ModelService& service);

    ServiceRegistry& registry_;
    TaskRouterConfig config_;

    mutable std::mutex stateMutex_;  // leases_, lastUsed_, evicting_, secondsPerUnit_
    std::map<std::string, int> leases_;
    std::map<std::string, std::chrono::steady_clock::time_point> lastUsed_;
    std::map<std::string, bool> evicting_;
    std::map<std::string, double> secondsPerUnit_;
    std::mutex loadMutex_;  // one load/unload sequence at a time
};

}  // namespace grym
