#include "orchestration/service_registry.h"

#include "common/error.h"

namespace grym {

namespace {
std::string registeredIds(const std::vector<std::shared_ptr<ModelService>>& services) {
    std::string ids;
    for (const auto& s : services) ids += (ids.empty() ? "" : ", ") + s->id();
    return ids.empty() ? "none" : ids;
}
}  // namespace

void ServiceRegistry::add(std::shared_ptr<ModelService> service) {
    if (!service) throw TaskError("ServiceRegistry::add: the service is null");
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& s : services_)
        if (s->id() == service->id()) throw TaskError("a service with id '" + service->id() + "' is already registered");
    services_.push_back(std::move(service));
}

std::shared_ptr<ModelService> ServiceRegistry::find(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& s : services_)
        if (s->id() == id) return s;
    return nullptr;
}

std::shared_ptr<ModelService> ServiceRegistry::get(const std::string& id) const {
    if (auto s = find(id)) return s;
    std::lock_guard<std::mutex> lock(mutex_);
    throw TaskError("no model service '" + id + "' is available (registered: " + registeredIds(services_) + ")");
}

std::shared_ptr<ModelService> ServiceRegistry::findForType(TaskType type) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& s : services_)
        if (s->taskType() == type) return s;
    return nullptr;
}

std::shared_ptr<ModelService> ServiceRegistry::remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = services_.begin(); it != services_.end(); ++it)
        if ((*it)->id() == id) {
            auto removed = std::move(*it);
            services_.erase(it);
            return removed;
        }
    return nullptr;
}

std::shared_ptr<ModelService> ServiceRegistry::forType(TaskType type) const {
    if (auto s = findForType(type)) return s;
    std::lock_guard<std::mutex> lock(mutex_);
    throw TaskError(std::string("no ") + toString(type) + " service is available (registered: " +
                    registeredIds(services_) + ")");
}

std::vector<std::shared_ptr<ModelService>> ServiceRegistry::all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return services_;
}

}  // namespace grym
