// `grym-synth-cli make-random-model FULL_CONFIG_DIR OUT_DIR`: a full-size AudioLDM folder with
// random weights, for benchmarks and tests only.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/typed_options.h"

#include "common/elapsed.h"
#include "models/audioldm/random_model.h"

#include <chrono>
#include <iostream>
#include <memory>

namespace grym::cli {

namespace {

struct RandomModelOptions {
    std::string configDir, outDir, tokenizer;
    uint64_t seed = 0;
};

int runMakeRandomModel(const RandomModelOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    auto summary = audioldm::writeRandomAudioLdmModel(o.configDir, o.outDir, o.tokenizer, o.seed,
                                                      [](const std::string& line) { std::cerr << line << "\n"; });
    const double seconds = secondsSince(start);
    std::cout << "wrote " << o.outDir << ": " << summary.parameters << " random parameters ("
              << summary.bytes / (1024 * 1024) << " MiB) in " << seconds << " s; marked as random weights\n";
    return 0;
}

}  // namespace

void addMakeRandomModelCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<RandomModelOptions>(
        commandLine.program(), "make-random-model",
        "a full-size AudioLDM folder with RANDOM weights, for benchmarks and tests only", runMakeRandomModel);
    command
        .add_option("FULL_CONFIG_DIR", options.configDir,
                    "configs and manifest.json of the model to imitate (e.g. golden/full_configs/audioldm-s-full-v2)")
        ->required()
        ->type_name("");
    command.add_option("OUT_DIR", options.outDir, "folder to write")->required()->type_name("");
    addTextOption(command, "--tokenizer", options.tokenizer, "tokenizer folder to copy in", "DIR");
    addWholeNumberOption(command, "--seed", options.seed, "random seed" + defaultNote(0), uint64_t{0});
}

}  // namespace grym::cli
