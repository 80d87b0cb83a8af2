#include "models/audioldm/scheduler_factory.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/audioldm/scheduler_ddim.h"
#include "models/audioldm/scheduler_dpm.h"

#include <nlohmann/json.hpp>

namespace grym::audioldm {

SchedulerKind parseSchedulerKind(const std::string& name) {
    if (name == "ddim" || name == "DDIM" || name == "DDIMScheduler") return SchedulerKind::Ddim;
    if (name == "dpm++" || name == "dpm" || name == "dpmsolver++" || name == "DPMSolverMultistepScheduler")
        return SchedulerKind::DpmSolverMultistep;
    throw ModelError("unknown scheduler '" + name + "' (choose ddim or dpm++)");
}

std::unique_ptr<DiffusionScheduler> makeScheduler(const nlohmann::json& config, const std::string& source,
                                                  std::optional<SchedulerKind> override, double ddimEta) {
    const JsonReader fields(config, source);
    const auto className = fields.string("_class_name", "DDIMScheduler");
    std::optional<SchedulerKind> named;
    if (className == "DDIMScheduler") named = SchedulerKind::Ddim;
    else if (className == "DPMSolverMultistepScheduler") named = SchedulerKind::DpmSolverMultistep;
    if (!named && !override)
        fields.reject("_class_name", "not supported (supported: DDIMScheduler, DPMSolverMultistepScheduler)");
    const SchedulerKind kind = override.value_or(*named);

    nlohmann::json effective = config;
    if (!named || kind != *named) {
        // Switching schedulers keeps the noise schedule but, as diffusers does for the stock
        // AudioLDM configs (which never chose a spacing), the spacing is the new scheduler's own.
        effective.erase("timestep_spacing");
    }
    if (kind == SchedulerKind::Ddim) return std::make_unique<DdimScheduler>(parseDdimConfig(effective, source), ddimEta);
    return std::make_unique<DpmSolverMultistepScheduler>(parseDpmSolverConfig(effective, source));
}

std::unique_ptr<DiffusionScheduler> loadScheduler(const std::string& configPath, std::optional<SchedulerKind> override,
                                                  double ddimEta) {
    return makeScheduler(readJsonFile(configPath), configPath, override, ddimEta);
}

}  // namespace grym::audioldm
