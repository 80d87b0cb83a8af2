#include "cli/commands.h"

#include <iostream>

namespace grym::cli {

int runBench(const Args&) {
    std::cerr << "grym-synth-cli: this command is not available in this build yet\n";
    return 2;
}

}  // namespace grym::cli
