#pragma once
// Chooses and builds the concrete scheduler (scheduler_ddim.h, scheduler_dpm.h) for a
// scheduler_config.json, optionally overridden by the user's choice.
#include "models/audioldm/scheduler_base.h"

#include <memory>
#include <optional>
#include <string>

namespace grym::audioldm {

// Builds the scheduler a scheduler_config.json names (`_class_name`), or `override` built
// from the same config (as diffusers' Scheduler.from_config(other.config) does).
std::unique_ptr<DiffusionScheduler> makeScheduler(const nlohmann::json& config, const std::string& source,
                                                  std::optional<SchedulerKind> override = std::nullopt,
                                                  double ddimEta = 0.0);
std::unique_ptr<DiffusionScheduler> loadScheduler(const std::string& configPath,
                                                  std::optional<SchedulerKind> override = std::nullopt,
                                                  double ddimEta = 0.0);

// "ddim" -> Ddim, "dpm++" / "dpm" / "dpmsolver++" -> DpmSolverMultistep; throws ModelError otherwise.
SchedulerKind parseSchedulerKind(const std::string& name);

}  // namespace grym::audioldm
