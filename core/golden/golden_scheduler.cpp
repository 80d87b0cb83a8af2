#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/scheduler_factory.h"

#include <torch/torch.h>

#include <sstream>

namespace grym {

namespace {

std::string join(const std::vector<int64_t>& v) {
    std::ostringstream os;
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    return os.str();
}

}  // namespace

void runSchedulerGolden(GoldenCase& c) {
    torch::NoGradGuard noGrad;
    auto scheduler = audioldm::loadScheduler(c.path("scheduler_config.json"));
    const auto& spec = c.spec();
    if (c.hasTensor("alphas_cumprod")) c.compare("alphas_cumprod", scheduler->alphasCumprod());

    const auto timestepTable = spec.value("timesteps", nlohmann::json::object());
    for (const auto& [steps, expected] : timestepTable.items()) {
        scheduler->setTimesteps(std::stoll(steps));
        const auto want = expected.get<std::vector<int64_t>>();
        const auto& got = scheduler->timesteps();
        c.compareExact("timesteps[" + steps + "]", got == want, got == want ? "" : "got " + join(got) + ", want " + join(want));
    }

    const auto runs = spec.value("runs", nlohmann::json::array());
    for (const auto& run : runs) {
        const auto prefix = run.at("prefix").get<std::string>();
        scheduler->setTimesteps(run.at("steps").get<int64_t>());
        auto sample = c.tensor(prefix + ".initial");
        const auto timesteps = scheduler->timesteps();
        for (size_t i = 0; i < timesteps.size(); ++i) {
            const auto idx = std::to_string(i);
            sample = scheduler->step(c.tensor(prefix + ".model_output." + idx), timesteps[i], sample);
            c.compare(prefix + ".sample." + idx, sample);
        }
    }

    if (spec.contains("add_noise_timesteps")) {
        const auto original = c.tensor("add_noise.original"), noise = c.tensor("add_noise.noise");
        for (auto t : spec.at("add_noise_timesteps").get<std::vector<int64_t>>())
            c.compare("add_noise.t" + std::to_string(t), scheduler->addNoise(original, noise, t));
    }
}

}  // namespace grym
