#pragma once
// The options several commands share, each defined once here and added to the commands that
// take it: --device, --dtype, --precision, --threads and --model. The runtime ones are listed
// under their own "Runtime" heading in --help.
#include "models/load_options.h"
#include "orchestration/model_service.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace grym::cli {

// --device for a torch model run directly: cpu, cuda or cuda:N.
CLI::Option* addDeviceOption(CLI::App& command, torch::Device& device);
// --device for a model service: cpu or cuda (the service picks the GPU).
CLI::Option* addDeviceOption(CLI::App& command, ComputeDevice& device);

// --dtype fp32|fp16|bf16 (float32, float16, bfloat16 accepted too): the compute type of a model
// run directly.
CLI::Option* addDtypeOption(CLI::App& command, torch::ScalarType& dtype);

// --precision of a model service, limited to the levels the command can run.
CLI::Option* addPrecisionOption(CLI::App& command, Precision& precision,
                                const std::vector<Precision>& accepted = {Precision::Fp32, Precision::Fp16,
                                                                          Precision::Bf16, Precision::Int8,
                                                                          Precision::Int4});

// --precision fp32|int8 of a model run directly whose linear layers can compute in int8 (wav2vec2):
// int8 quantises them while loading and runs them through the quantized engine (CPU, float32).
CLI::Option* addLinearPrecisionOption(CLI::App& command, WeightQuantization& precision);

// --threads N (at least 1); `threads` stays 0, libtorch's own choice, unless it is given.
CLI::Option* addThreadsOption(CLI::App& command, int& threads);
// Applies a --threads value to libtorch's intra-op pool (nothing for 0).
void applyThreads(int threads);

// --model DIR: `whatItHolds` says which model folder the command reads.
CLI::Option* addModelOption(CLI::App& command, std::string& folder, const std::string& whatItHolds);

}  // namespace grym::cli
