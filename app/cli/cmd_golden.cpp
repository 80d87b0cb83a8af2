// `grym-synth-cli golden CASE_DIR...`: runs each golden reference case through our models and
// prints every comparison; the status is 1 when any case failed.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "golden/golden_case.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace grym::cli {

namespace {

int runGolden(const std::vector<std::string>& caseDirs) {
    int failed = 0;
    for (const auto& dir : caseDirs) {
        const GoldenReport r = runGoldenCase(dir);
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
    auto [command, caseDirs] = commandLine.addCommand<std::vector<std::string>>(
        commandLine.program(), "golden", "check our models against golden reference cases", runGolden);
    command.add_option("CASE_DIR", caseDirs, "golden case folders (each with a case.json)")->required()->type_name("");
}

}  // namespace grym::cli
