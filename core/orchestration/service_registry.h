#pragma once
// The set of model services an application composed (no singleton: whoever builds the app
// owns one registry and hands references to the router, bridge and API). Thread-safe.
#include "orchestration/model_service.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace grym {

class ServiceRegistry {
public:
    // Throws TaskError when a service with the same id is already registered.
    void add(std::shared_ptr<ModelService> service);
    // nullptr when unknown.
    std::shared_ptr<ModelService> find(const std::string& id) const;
    // Throws TaskError naming the id and the registered ones when unknown.
    std::shared_ptr<ModelService> get(const std::string& id) const;
    // The first registered service of that type; throws TaskError when there is none.
    std::shared_ptr<ModelService> forType(TaskType type) const;
    // The first registered service of that type; nullptr when there is none.
    std::shared_ptr<ModelService> findForType(TaskType type) const;
    // Removes and returns the service with that id (nullptr when unknown). Tasks already
    // routed to it keep it alive until they finish.
    std::shared_ptr<ModelService> remove(const std::string& id);
    std::vector<std::shared_ptr<ModelService>> all() const;  // in registration order

private:
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<ModelService>> services_;
};

}  // namespace grym
