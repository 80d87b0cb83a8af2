// grym-synth-cli convert DIR [--force]: writes .safetensors beside a model folder's PyTorch
// weights (pytorch_model.bin, diffusion_pytorch_model.bin, sharded .bin indexes), so later
// loads map them directly. Read by the restricted reader: nothing in the pickles runs.
#include "cli/commands.h"

#include "weights/checkpoint_conversion.h"

#include <iostream>

namespace grym::cli {

int runConvert(const Args& args) {
    const char* usage = "usage: grym-synth-cli convert DIR [--force]\n"
                        "Writes .safetensors weights beside the PyTorch .bin weights in DIR and its sub-folders;\n"
                        "--force replaces .safetensors files that are already there.\n";
    std::string folder;
    bool force = false;
    for (const auto& a : args) {
        if (a == "--force") force = true;
        else if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (folder.empty() && a.rfind("-", 0) != 0) folder = a;
        else {
            std::cerr << usage;
            return 2;
        }
    }
    if (folder.empty()) {
        std::cerr << usage;
        return 2;
    }
    const auto results = convertPytorchWeights(folder, force);
    if (results.empty()) {
        std::cerr << folder << ": no PyTorch weights (pytorch_model.bin, diffusion_pytorch_model.bin, ...) found\n";
        return 1;
    }
    for (const auto& r : results) {
        if (r.converted) std::cout << "converted " << r.source << " -> " << r.target << " (" << r.tensors << " tensors)\n";
        else std::cout << "kept      " << r.target << " (already there; --force replaces it)\n";
    }
    return 0;
}

}  // namespace grym::cli
