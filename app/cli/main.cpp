// grym-synth-cli: the headless entry point.
#include "cli/commands.h"

#include <cstring>
#include <functional>
#include <iostream>
#include <map>

namespace {

struct Command {
    std::function<int(const grym::cli::Args&)> run;
    const char* summary;
};

const std::map<std::string, Command>& commands() {
    using namespace grym::cli;
    static const std::map<std::string, Command> table = {
        {"info", {runInfo, "info FILE...                 format, channels, rate, duration, peak, RMS"}},
        {"golden", {runGolden, "golden CASE_DIR...           check our models against golden reference cases"}},
        {"analyze", {runAnalyze, "analyze FILE... [--model DIR] [--json]   features, patterns, metrics"}},
        {"generate", {runGenerate, "generate \"PROMPT\" -o OUT.wav [options]   text-to-audio with AudioLDM"}},
        {"bench", {runBench, "bench [--json] ...           performance suite"}},
        {"convert", {runConvert, "convert DIR [--force]         write .safetensors beside a model folder's PyTorch .bin weights"}},
        {"serve", {runServe, "serve [--host H] [--port N] [--token T]   local HTTP API"}},
        {"bench-quantization", {runBenchQuantization, "bench-quantization UNET_DIR [--level int8|int4]   UNet memory/speed per weight quantisation"}},
        {"make-random-model", {runMakeRandomModel, "make-random-model FULL_CONFIG_DIR OUT_DIR   random-weight model for benchmarks"}},
    };
    return table;
}

void usage(std::ostream& os) {
    os << "grym-synth-cli " << GRYM_VERSION << " - local generative audio\n\nUsage: grym-synth-cli COMMAND [ARGS]\n\n";
    for (const auto& [name, cmd] : commands()) os << "  " << cmd.summary << "\n";
    os << "\n  --version                    print the version\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(std::cerr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--version" || name == "version") {
        std::cout << "grym-synth-cli " << GRYM_VERSION << "\n";
        return 0;
    }
    if (name == "--help" || name == "-h" || name == "help") {
        usage(std::cout);
        return 0;
    }
    auto it = commands().find(name);
    if (it == commands().end()) {
        std::cerr << "grym-synth-cli: unknown command '" << name << "'\n\n";
        usage(std::cerr);
        return 2;
    }
    grym::cli::Args args(argv + 2, argv + argc);
    try {
        return it->second.run(args);
    } catch (const std::exception& e) {
        std::cerr << "grym-synth-cli " << name << ": " << e.what() << "\n";
        return 1;
    }
}
