#include "cli/commands.h"

#include "common/elapsed.h"

#include "models/audioldm/random_model.h"

#include <chrono>
#include <iostream>

namespace grym::cli {

int runMakeRandomModel(const Args& args) {
    std::vector<std::string> positional;
    std::string tokenizer;
    uint64_t seed = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if ((a == "--tokenizer" || a == "--seed") && i + 1 < args.size()) {
            if (a == "--tokenizer") tokenizer = args[++i];
            else seed = std::stoull(args[++i]);
        } else if (a == "-h" || a == "--help") {
            positional.clear();
            break;
        } else if (!a.empty() && a[0] == '-') {
            std::cerr << "make-random-model: unknown option '" << a << "'\n";
            return 2;
        } else {
            positional.push_back(a);
        }
    }
    if (positional.size() != 2) {
        std::cerr << "usage: grym-synth-cli make-random-model FULL_CONFIG_DIR OUT_DIR [--tokenizer DIR] [--seed N]\n"
                     "  Writes a full-size AudioLDM folder with RANDOM weights (for benchmarks and tests only),\n"
                     "  shaped as FULL_CONFIG_DIR/manifest.json lists (e.g. golden/full_configs/audioldm-s-full-v2).\n";
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    auto summary = audioldm::writeRandomAudioLdmModel(positional[0], positional[1], tokenizer, seed,
                                                      [](const std::string& line) { std::cerr << line << "\n"; });
    const double seconds = secondsSince(start);
    std::cout << "wrote " << positional[1] << ": " << summary.parameters << " random parameters ("
              << summary.bytes / (1024 * 1024) << " MiB) in " << seconds << " s; marked as random weights\n";
    return 0;
}

}  // namespace grym::cli
