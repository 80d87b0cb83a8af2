// `grym-synth-cli golden [--device D] [--dtype T] CASE_DIR...`: runs each golden reference case
// through our models and prints every comparison; the status is 1 when any case failed.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/shared_options.h"
#include "golden/golden_case.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace grym::cli {

namespace {

struct GoldenOptions {
    std::vector<std::string> caseDirs;
    GoldenRuntime runtime;
};

int runGolden(const GoldenOptions& options) {
    const auto& caseDirs = options.caseDirs;
    const GoldenRuntime& runtime = options.runtime;
    if (runtime.device.is_cuda() || runtime.dtype != torch::kFloat32) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "models on %s in %s (tokenizer and scheduler cases on the CPU); relative L2 bound at least %.2e\n",
                      runtime.device.str().c_str(), c10::toString(runtime.dtype),
                      goldenRelativeTolerance(0.0, runtime.dtype));
        std::cout << line;
    }
    int failed = 0;
    for (const auto& dir : caseDirs) {
        const GoldenReport r = runGoldenCase(dir, runtime);
        std::cout << (r.passed() ? "PASS " : "FAIL ") << dir << " [" << r.component << "]\n";
        for (const auto& c : r.comparisons) {
            char line[512];
            std::snprintf(line, sizeof line, "  %-4s %-28s rel_l2 %.3e  max_abs %.3e%s%s\n", c.passed ? "ok" : "BAD",
                          c.output.c_str(), c.relativeL2, c.maxAbs, c.note.empty() ? "" : "  ", c.note.c_str());
            std::cout << line;
        }
        if (!r.error.empty()) std::cout << "  error: " << r.error << "\n";
        if (r.comparisons.empty() && r.error.empty()) std::cout << "  error: the case produced no comparisons\n";
        if (!r.passed()) ++failed;
    }
    if (caseDirs.size() > 1) std::cout << (caseDirs.size() - failed) << "/" << caseDirs.size() << " cases passed\n";
    return failed ? 1 : 0;
}

}  // namespace

void addGoldenCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<GoldenOptions>(
        commandLine.program(), "golden", "check our models against golden reference cases", runGolden);
    command.add_option("CASE_DIR", options.caseDirs, "golden case folders (each with a case.json)")
        ->required()
        ->type_name("");
    addDeviceOption(command, options.runtime.device);
    addDtypeOption(command, options.runtime.dtype)
        ->description("compute type of the models (default fp32; fp16 and bf16 need cuda and compare with wider "
                      "bounds: relative L2 at least 64 unit roundoffs, docs/GPU.md)");
}

}  // namespace grym::cli
