#include "cli/commands.h"
#include "golden/golden_case.h"

#include <cstdio>
#include <iostream>

namespace grym::cli {

int runGolden(const Args& args) {
    if (args.empty()) {
        std::cerr << "usage: grym-synth-cli golden CASE_DIR...\n";
        return 2;
    }
    int failed = 0;
    for (const auto& dir : args) {
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
    if (args.size() > 1) std::cout << (args.size() - failed) << "/" << args.size() << " cases passed\n";
    return failed ? 1 : 0;
}

}  // namespace grym::cli
