// The tolerances `grym-synth-cli golden --dtype` compares with (docs/GPU.md): a case's own in
// float32, widened to 64 unit roundoffs of float16 / bfloat16, max-abs scaled by the same factor.
#include "golden/golden_case.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace grym;

TEST_CASE("golden tolerances stay the case's own in float32 and widen by the dtype's rounding in float16 and bfloat16",
          "[golden]") {
    CHECK(goldenRelativeTolerance(1e-5, torch::kFloat32) == 1e-5);
    CHECK(goldenAbsoluteTolerance(1e-5, 1e-4, torch::kFloat32) == 1e-4);

    const double fp16 = 64.0 * std::ldexp(1.0, -11);
    const double bf16 = 64.0 * std::ldexp(1.0, -8);
    CHECK(goldenRelativeTolerance(1e-5, torch::kFloat16) == fp16);
    CHECK(goldenRelativeTolerance(1e-5, torch::kBFloat16) == bf16);
    CHECK(goldenAbsoluteTolerance(1e-5, 1e-4, torch::kFloat16) == Approx(1e-4 * fp16 / 1e-5));
    // A case already looser than the dtype keeps its own bounds.
    CHECK(goldenRelativeTolerance(0.5, torch::kBFloat16) == 0.5);
    CHECK(goldenAbsoluteTolerance(0.5, 2.0, torch::kBFloat16) == 2.0);
}

TEST_CASE("a golden case's inputs move to the runtime's device and dtype; integer inputs keep their type", "[golden]") {
    GoldenRuntime runtime;
    runtime.dtype = torch::kFloat64;  // on the CPU: a dtype other than the stored float32
    const GoldenCase c(std::string(GRYM_TEST_DATA_DIR) + "/golden/clap_text_a", runtime);
    CHECK(c.toleranceRelativeL2() == 1e-5);  // the case's own: float64 rounds less than float32
    const auto ids = c.input("input_ids");
    CHECK_FALSE(ids.is_floating_point());
    CHECK(ids.scalar_type() == c.tensor("input_ids").scalar_type());
    const auto hidden = c.input("last_hidden_state");
    CHECK(hidden.scalar_type() == torch::kFloat64);
    CHECK(hidden.device().is_cpu());
    CHECK(torch::equal(hidden.to(torch::kFloat32), c.tensor("last_hidden_state")));
}
