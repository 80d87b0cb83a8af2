// grym-synth-cli convert DIR [--force]: writes .safetensors beside a model folder's PyTorch
// weights (pytorch_model.bin, diffusion_pytorch_model.bin, sharded .bin indexes), so later
// loads map them directly. Read by the restricted reader: nothing in the pickles runs.
#include "cli/command_line.h"
#include "cli/commands.h"

#include "weights/checkpoint_conversion.h"

#include <iostream>
#include <string>

namespace grym::cli {

namespace {

struct ConvertOptions {
    std::string folder;
    bool force = false;
};

int runConvert(const ConvertOptions& options) {
    const auto results = convertPytorchWeights(options.folder, options.force);
    if (results.empty()) {
        std::cerr << options.folder << ": no PyTorch weights (pytorch_model.bin, diffusion_pytorch_model.bin, ...) found\n";
        return 1;
    }
    for (const auto& r : results) {
        if (r.converted) std::cout << "converted " << r.source << " -> " << r.target << " (" << r.tensors << " tensors)\n";
        else std::cout << "kept      " << r.target << " (already there; --force replaces it)\n";
    }
    return 0;
}

}  // namespace

void addConvertCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<ConvertOptions>(
        commandLine.program(), "convert", "write .safetensors beside a model folder's PyTorch .bin weights",
        runConvert);
    command.add_option("DIR", options.folder, "model folder (its sub-folders too)")->required()->type_name("");
    command.add_flag("--force", options.force, "replace .safetensors files that are already there");
}

}  // namespace grym::cli
