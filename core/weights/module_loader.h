#pragma once
// Puts checkpoint tensors into a torch::nn::Module whose parameter and buffer names
// match the checkpoint keys one to one. Anything missing, unexpected or mis-shaped is an
// error naming the key: a loader that silently skips a tensor is a loader that lies.
#include "weights/weight_source.h"

#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace grym {

struct ModuleWeightOptions {
    // Checkpoint keys that are known non-weights (e.g. "position_ids"); a key is ignored
    // when it ends with one of these.
    std::vector<std::string> ignoredKeySuffixes;
    // Prefix to strip from checkpoint keys before matching (e.g. "text_model.").
    std::string stripPrefix;
    // Human-readable name of the checkpoint for messages.
    std::string source;
    // Called with each tensor's module key (after stripPrefix) once its shape is checked; when it
    // returns true it has taken the tensor itself (e.g. quantised it into its layer) and nothing
    // is copied into the module's own parameter. Empty: every tensor is copied.
    std::function<bool(const std::string& key, const torch::Tensor& tensor)> takeTensor;
};

// Folds weight-norm pairs into plain weights, in both stored forms:
//   X.weight_g + X.weight_v                                   -> X.weight
//   X.parametrizations.weight.original0 (g) + .original1 (v)  -> X.weight
// The norm dimension is the one dimension where g is not 1 (torch stores g with keepdim).
void foldWeightNorm(StateDict& weights);

// Copies every tensor into the module (converted to the parameter's dtype and device), one at a
// time (allocating parameters that are placeholders of their shape first), handing each memory-mapped tensor's pages back to the OS once consumed
// (weights/mapped_tensor.h), so the checkpoint and the model are not resident side by side.
// Throws ModelError on a missing key, an unexpected key or a shape mismatch.
void loadModuleWeights(torch::nn::Module& module, const StateDict& weights, const ModuleWeightOptions& options = {});

// Bytes every parameter and buffer of `module` takes on its device (quantised weights live in
// buffers): the one count behind every model's parameterBytes().
uint64_t moduleParameterBytes(const torch::nn::Module& module);

// Throws ModelError naming the first tensor that holds NaN or Inf.
void checkFinite(const torch::nn::Module& module, const std::string& source);

}  // namespace grym
