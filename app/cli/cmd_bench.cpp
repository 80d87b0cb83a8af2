#include "cli/commands.h"

#include <iostream>

namespace grym::cli {

int runBenchWav2vec2(const Args& args);  // cmd_bench_wav2vec2.cpp

int runBench(const Args& args) {
    if (!args.empty() && args[0] == "wav2vec2") return runBenchWav2vec2(Args(args.begin() + 1, args.end()));
    std::cerr << "grym-synth-cli: this command is not available in this build yet\n";
    return 2;
}

}  // namespace grym::cli
