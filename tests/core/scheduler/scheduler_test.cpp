#include "common/error.h"
#include "golden/golden_case.h"
#include "models/audioldm/scheduler_ddim.h"
#include "models/audioldm/scheduler_dpm.h"
#include "models/audioldm/scheduler_factory.h"
#include "core/numeric_bounds.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

using namespace grym;
using namespace grym::audioldm;

namespace {

// AudioLDM's stock scheduler settings.
nlohmann::json audioLdmConfig(const std::string& className = "DDIMScheduler") {
    return nlohmann::json{{"_class_name", className},  {"beta_start", 0.0015},  {"beta_end", 0.0195},
                          {"beta_schedule", "scaled_linear"}, {"num_train_timesteps", 1000},
                          {"set_alpha_to_one", false}, {"steps_offset", 1}, {"prediction_type", "epsilon"}};
}

double maxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// First-order worst case for `steps` scheduler updates in float32, each `opsPerStep` roundings
// of values up to `scale`: an error made at a step is carried on with a gain of at most
// 1/sqrt(alpha_bar) (recovering x0 divides by it), so the error stays below
// steps · opsPerStep · u · scale / sqrt(min alpha_bar).
double schedulerRoundingBound(size_t steps, int opsPerStep, double scale, double minAlphaBar) {
    return static_cast<double>(steps) * opsPerStep * grym::test::unitRoundoff(torch::kFloat32) * scale /
           std::sqrt(minAlphaBar);
}

}  // namespace

TEST_CASE("schedulers match diffusers on the golden cases", "[scheduler]") {
    for (const char* name : {"scheduler_ddim", "scheduler_dpmpp"}) {
        auto report = runGoldenCase(std::string(GRYM_TEST_DATA_DIR) + "/golden/" + name);
        INFO(name << ": " << report.error);
        for (const auto& cmp : report.comparisons)
            if (!cmp.passed) INFO(cmp.output << " rel " << cmp.relativeL2 << " abs " << cmp.maxAbs << " " << cmp.note);
        CHECK(report.passed());
        CHECK(report.comparisons.size() > 10);
    }
}

TEST_CASE("DDIM timestep spacings follow the config", "[scheduler]") {
    auto config = audioLdmConfig();
    config["steps_offset"] = 0;
    config["timestep_spacing"] = "trailing";
    auto trailing = makeScheduler(config, "test");
    trailing->setTimesteps(10);
    CHECK(trailing->timesteps() == std::vector<int64_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99});
    config["timestep_spacing"] = "linspace";
    auto linspace = makeScheduler(config, "test");
    linspace->setTimesteps(10);
    CHECK(linspace->timesteps() == std::vector<int64_t>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0});
    config["timestep_spacing"] = "leading";
    config["steps_offset"] = 1;
    auto leading = makeScheduler(config, "test");
    leading->setTimesteps(4);
    CHECK(leading->timesteps() == std::vector<int64_t>{751, 501, 251, 1});
}

TEST_CASE("switching a DDIM config to DPM-Solver++ takes DPM-Solver's own spacing", "[scheduler]") {
    auto dpm = makeScheduler(audioLdmConfig(), "test", SchedulerKind::DpmSolverMultistep);
    CHECK(dpm->kind() == SchedulerKind::DpmSolverMultistep);
    dpm->setTimesteps(10);
    CHECK(dpm->timesteps() == std::vector<int64_t>{999, 899, 799, 699, 599, 500, 400, 300, 200, 100});
    CHECK(parseSchedulerKind("dpm++") == SchedulerKind::DpmSolverMultistep);
    CHECK(parseSchedulerKind("ddim") == SchedulerKind::Ddim);
    CHECK_THROWS_WITH(parseSchedulerKind("euler"), Catch::Contains("euler"));
}

TEST_CASE("an exact noise prediction walks DDIM along the forward process", "[scheduler]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(3);
    auto x0 = torch::randn({1, 4, 5, 6}), noise = torch::randn({1, 4, 5, 6});
    for (const char* prediction : {"epsilon", "v_prediction", "sample"}) {
        auto config = audioLdmConfig();
        config["prediction_type"] = prediction;
        auto ddim = makeScheduler(config, "test");
        ddim->setTimesteps(5);
        const auto ts = ddim->timesteps();
        const auto& abar = ddim->alphasCumprod();
        auto sample = ddim->addNoise(x0, noise, ts[0]);
        for (size_t i = 0; i + 1 < ts.size(); ++i) {
            const double a = abar[ts[i]].item<double>();
            torch::Tensor output = std::string(prediction) == "epsilon" ? noise
                                 : std::string(prediction) == "sample"  ? x0
                                 : std::sqrt(a) * noise - std::sqrt(1 - a) * x0;
            sample = ddim->step(output, ts[i], sample);
            INFO(prediction << " step " << i);
            // A DDIM update is about eight multiplications and additions (predict x0 and the
            // noise, re-mix them); addNoise adds three more.
            const double scale = std::max(x0.abs().max().item<double>(), noise.abs().max().item<double>());
            const double bound = schedulerRoundingBound(i + 2, 8, scale, abar[ts[0]].item<double>());
            CHECK(maxDiff(sample, ddim->addNoise(x0, noise, ts[i + 1])) < bound);
        }
    }
}

TEST_CASE("DPM-Solver++ recovers the clean sample from exact predictions", "[scheduler]") {
    torch::NoGradGuard noGrad;
    torch::manual_seed(4);
    auto x0 = torch::randn({1, 2, 3, 4}), noise = torch::randn({1, 2, 3, 4});
    for (const char* solverType : {"midpoint", "heun"}) {
        auto config = audioLdmConfig("DPMSolverMultistepScheduler");
        config["solver_type"] = solverType;
        config["prediction_type"] = "sample";
        auto dpm = makeScheduler(config, "test");
        dpm->setTimesteps(8);
        auto sample = dpm->addNoise(x0, noise, dpm->timesteps()[0]);
        for (auto t : dpm->timesteps()) sample = dpm->step(x0, t, sample);
        // With a perfect x0 every update stays on the forward process; the last step lands
        // on the noise level of t = 0.
        const double a0 = dpm->alphasCumprod()[0].item<double>();
        INFO(solverType);
        // A second-order multistep update mixes two predictions with exponential weights: about
        // sixteen roundings per step (schedulerRoundingBound).
        const double scale = std::max(x0.abs().max().item<double>(), noise.abs().max().item<double>());
        const double minAlphaBar = dpm->alphasCumprod()[dpm->timesteps().front()].item<double>();
        CHECK(maxDiff(sample, std::sqrt(a0) * x0 + std::sqrt(1 - a0) * noise) <
              schedulerRoundingBound(dpm->timesteps().size() + 1, 16, scale, minAlphaBar));
    }
}

TEST_CASE("DDIM with eta > 0 is reproducible for a seeded generator", "[scheduler]") {
    torch::NoGradGuard noGrad;
    auto run = [](uint64_t seed) {
        auto ddim = makeScheduler(audioLdmConfig(), "test", std::nullopt, 0.7);
        ddim->setTimesteps(3);
        at::Generator generator = at::detail::createCPUGenerator(seed);
        auto sample = torch::ones({1, 2, 2, 2});
        for (auto t : ddim->timesteps()) sample = ddim->step(torch::zeros_like(sample), t, sample, &generator);
        return sample;
    };
    CHECK(torch::equal(run(11), run(11)));
    CHECK_FALSE(torch::equal(run(11), run(12)));
}

TEST_CASE("scheduler configs with unsupported values are rejected by field", "[scheduler]") {
    auto config = audioLdmConfig();
    config["beta_schedule"] = "sigmoid";
    CHECK_THROWS_WITH(makeScheduler(config, "s.json"), Catch::Contains("beta_schedule") && Catch::Contains("sigmoid"));
    config = audioLdmConfig();
    config["prediction_type"] = "flow";
    CHECK_THROWS_WITH(makeScheduler(config, "s.json"), Catch::Contains("prediction_type"));
    config = audioLdmConfig("DPMSolverMultistepScheduler");
    config["algorithm_type"] = "sde-dpmsolver++";
    CHECK_THROWS_WITH(makeScheduler(config, "s.json"), Catch::Contains("algorithm_type"));
    config = audioLdmConfig("EulerDiscreteScheduler");
    CHECK_THROWS_WITH(makeScheduler(config, "s.json"), Catch::Contains("EulerDiscreteScheduler"));
    auto ddim = makeScheduler(audioLdmConfig(), "s.json");
    CHECK_THROWS_AS(ddim->setTimesteps(0), ModelError);
    CHECK_THROWS_AS(ddim->step(torch::zeros({1}), 1, torch::zeros({1})), ModelError);
}
