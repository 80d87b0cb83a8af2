#pragma once
// Converts a model folder's PyTorch weights to safetensors once, so later loads map the
// safetensors files directly (`grym-synth-cli convert DIR`).
#include <cstddef>
#include <string>
#include <vector>

namespace grym {

struct WeightConversion {
    std::string source;     // the PyTorch file or shard index
    std::string target;     // the .safetensors file or index beside it
    size_t tensors = 0;
    bool converted = false; // false: the target was already there and was left alone
};

// For `folder` and every folder below it, converts the PyTorch checkpoint each model loader
// would read (stems "model" and "diffusion_pytorch_model", see loadCheckpoint) into
// `<stem>.safetensors`, or into `<stem>-NNNNN-of-NNNNN.safetensors` shards plus
// `<stem>.safetensors.index.json` for a sharded one. Every file is written beside its source
// under a temporary name, read back and compared byte for byte, then renamed into place.
// Existing targets are kept unless `overwrite`. Throws ModelError (naming the file) on failure.
std::vector<WeightConversion> convertPytorchWeights(const std::string& folder, bool overwrite = false);

}  // namespace grym
