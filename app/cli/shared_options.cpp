#include "cli/shared_options.h"

#include "cli/typed_options.h"
#include "hub/cache_inventory.h"
#include "hub/hub_error.h"

#include <filesystem>

namespace grym::cli {

namespace {

const char* kRuntimeGroup = "Runtime";

}  // namespace

CLI::Option* addDeviceOption(CLI::App& command, torch::Device& device) {
    return addParsedOption(
               command, "--device",
               [destination = &device](const std::string& text) {
                   // torch::Device reads "cuda:0" but also device types this program cannot run on.
                   try {
                       const torch::Device parsed(text);
                       if (parsed.is_cpu() || parsed.is_cuda()) {
                           *destination = parsed;
                           return;
                       }
                   } catch (const std::exception&) {
                   }
                   rejectValue("--device", "takes cpu, cuda or cuda:N", text);
               },
               "where the model runs (default cpu)", "cpu|cuda|cuda:N")
        ->group(kRuntimeGroup);
}

CLI::Option* addDeviceOption(CLI::App& command, ComputeDevice& device) {
    return addChoiceOption<ComputeDevice>(command, "--device", device,
                                          {{"cpu", ComputeDevice::Cpu}, {"cuda", ComputeDevice::Cuda}},
                                          "where the model runs (default cpu)")
        ->group(kRuntimeGroup);
}

CLI::Option* addDtypeOption(CLI::App& command, torch::ScalarType& dtype) {
    return addChoiceOption<torch::ScalarType>(command, "--dtype", dtype,
                                              {{"fp32", torch::kFloat32},
                                               {"fp16", torch::kFloat16},
                                               {"bf16", torch::kBFloat16},
                                               {"float32", torch::kFloat32, false},
                                               {"float16", torch::kFloat16, false},
                                               {"bfloat16", torch::kBFloat16, false}},
                                              "compute type (default fp32; fp16 and bf16 need cuda)")
        ->group(kRuntimeGroup);
}

CLI::Option* addPrecisionOption(CLI::App& command, Precision& precision, const std::vector<Precision>& accepted) {
    std::vector<Choice<Precision>> choices;
    for (const Precision level : accepted) choices.push_back({toString(level), level});
    return addChoiceOption(command, "--precision", precision, choices,
                           "weights: float (fp16 and bf16 need cuda), int8 (on the CPU: linear layers compute in "
                           "int8, quantised while loading, and convolutions in bfloat16 where the CPU has it; "
                           "otherwise weight-only int8) or int4 weight-only (default fp32)")
        ->group(kRuntimeGroup);
}

CLI::Option* addLinearPrecisionOption(CLI::App& command, WeightQuantization& precision) {
    return addChoiceOption<WeightQuantization>(
               command, "--precision", precision,
               {{"fp32", WeightQuantization::None}, {"int8", WeightQuantization::Int8}},
               "fp32, or int8: linear layers quantised while loading and computed in int8 (CPU, fp32 only; "
               "the conv feature encoder stays float) (default fp32)")
        ->group(kRuntimeGroup);
}

CLI::Option* addThreadsOption(CLI::App& command, int& threads) {
    return addWholeNumberOption(command, "--threads", threads, "libtorch intra-op threads (default: libtorch's choice)",
                                1)
        ->group(kRuntimeGroup);
}

void applyThreads(int threads) {
    if (threads > 0) torch::set_num_threads(threads);
}

CLI::Option* addModelOption(CLI::App& command, std::string& folder, const std::string& whatItHolds) {
    return addParsedOption(
        command, "--model",
        [destination = &folder](const std::string& text) {
            // A folder is passed on as it is (a missing one is reported by the loader, naming
            // the files it expected); only a repo id is looked up, in the cache alone.
            std::error_code ec;
            if (std::filesystem::exists(text, ec) || !hub::looksLikeRepoId(text)) {
                *destination = text;
                return;
            }
            try {
                *destination = hub::resolveModelFolder(text, hub::HubEnvironment::fromProcessEnvironment()).string();
            } catch (const HubError& e) {
                throw CLI::ValidationError(std::string("--model: ") + e.what());
            }
        },
        whatItHolds + "; or a Hugging Face repo id (ORG/NAME) already in the HF cache", "DIR");
}

}  // namespace grym::cli
