#include "weights/checkpoint_conversion.h"

#include "common/strings.h"

#include "common/error.h"
#include "platform/atomic_file.h"
#include "weights/pytorch_tensors.h"
#include "weights/weight_source.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grym {
namespace {

const char* const kWeightStems[] = {"model", "diffusion_pytorch_model"};

// "pytorch_model-00001-of-00002.bin" -> "model-00001-of-00002.safetensors", as transformers names them.
std::string safetensorsShardName(const std::string& shard, const std::string& stem) {
    const std::string pytorch = pytorchStem(stem);
    std::string name = shard.rfind(pytorch, 0) == 0 ? stem + shard.substr(pytorch.size()) : shard;
    return fs::path(name).replace_extension(".safetensors").string();
}

// Writes `tensors` to `target` through a temporary file, reads it back and compares every byte.
uint64_t writeVerified(const StateDict& tensors, const fs::path& target) {
    const fs::path partial = target.string() + ".partial";
    saveSafetensors(partial.string(), tensors);
    try {
        const StateDict written = loadSafetensors(partial.string());
        for (const auto& [name, tensor] : tensors) {
            const auto it = written.find(name);
            const torch::Tensor source = tensor.contiguous();
            if (it == written.end() || it->second.scalar_type() != source.scalar_type() ||
                it->second.sizes() != source.sizes() ||
                std::memcmp(it->second.data_ptr(), source.data_ptr(), source.nbytes()) != 0)
                throw ModelError(partial.string() + ": tensor '" + name + "' does not read back as written");
        }
    } catch (...) {
        std::error_code ignored;
        fs::remove(partial, ignored);
        throw;
    }
    std::error_code error;
    fs::rename(partial, target, error);
    if (error) throw ModelError(target.string() + ": cannot move the converted file into place (" + error.message() + ")");
    return fs::file_size(target);
}

WeightConversion convertOne(const fs::path& dir, const std::string& stem, const std::string& source, bool overwrite) {
    WeightConversion result;
    result.source = source;
    const bool sharded = endsWith(source, ".index.json");
    const fs::path target = dir / (stem + (sharded ? ".safetensors.index.json" : ".safetensors"));
    result.target = target.string();
    if (fs::exists(target) && !overwrite) return result;

    if (!sharded) {
        const StateDict tensors = loadPytorchCheckpoint(source);
        writeVerified(tensors, target);
        result.tensors = tensors.size();
        result.converted = true;
        return result;
    }
    nlohmann::json weightMap = nlohmann::json::object();
    uint64_t totalBytes = 0;
    for (const auto& [shard, names] : readShardIndex(source)) {
        const std::string shardPath = (dir / shard).string();
        const StateDict all = loadPytorchCheckpoint(shardPath);
        StateDict tensors;
        for (const auto& name : names) {
            const auto it = all.find(name);
            if (it == all.end()) throw ModelError(shardPath + ": index says it holds '" + name + "' but it does not");
            tensors[name] = it->second;
            totalBytes += it->second.nbytes();
        }
        const std::string targetShard = safetensorsShardName(shard, stem);
        writeVerified(tensors, dir / targetShard);
        for (const auto& name : names) weightMap[name] = targetShard;
        result.tensors += tensors.size();
    }
    const nlohmann::json index = {{"metadata", {{"total_size", totalBytes}}}, {"weight_map", weightMap}};
    try {
        const std::string text = index.dump(2) + "\n";
        writeFileAtomically(target, text.data(), text.size());
    } catch (const std::system_error& e) {
        throw ModelError(target.string() + ": cannot write (" + e.what() + ")");
    }
    result.converted = true;
    return result;
}

}  // namespace

std::vector<WeightConversion> convertPytorchWeights(const std::string& folder, bool overwrite) {
    if (!fs::is_directory(folder)) throw ModelError(folder + ": is not a folder");
    std::vector<fs::path> dirs = {fs::path(folder)};
    for (const auto& entry : fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied))
        if (entry.is_directory()) dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end());
    std::vector<WeightConversion> results;
    for (const auto& dir : dirs)
        for (const char* stem : kWeightStems) {
            const std::string source = findPytorchCheckpointFile(dir.string(), stem);
            if (!source.empty()) results.push_back(convertOne(dir, stem, source, overwrite));
        }
    return results;
}

}  // namespace grym
