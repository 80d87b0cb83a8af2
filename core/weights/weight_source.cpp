#include "weights/weight_source.h"

#include "common/error.h"
#include "common/strings.h"
#include "weights/pytorch_checkpoint.h"
#include "weights/pytorch_tensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grym {

namespace {

uint64_t shapeElements(const std::vector<int64_t>& shape) {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

// One format: a single file, or the shards a `*.index.json` names (each shard in that format).
class FormatSource : public WeightSource {
public:
    explicit FormatSource(std::string path) : WeightSource(std::move(path)) {}

    StateDict load() const override {
        if (!sharded()) return loadFile(path());
        StateDict out;
        for (const auto& [shard, names] : readShardIndex(path())) {
            const std::string file = shardPath(shard);
            const StateDict tensors = loadFile(file);
            for (const auto& n : names) {
                const auto it = tensors.find(n);
                if (it == tensors.end()) throw ModelError(file + ": index says it holds '" + n + "' but it does not");
                out[n] = it->second;
            }
        }
        return out;
    }

    uint64_t elementCount() const override {
        if (!sharded()) return fileElementCount(path());
        uint64_t n = 0;
        for (const auto& [shard, names] : readShardIndex(path())) n += fileElementCount(shardPath(shard));
        return n;
    }

protected:
    virtual StateDict loadFile(const std::string& file) const = 0;
    virtual uint64_t fileElementCount(const std::string& file) const = 0;

private:
    bool sharded() const { return endsWith(path(), ".index.json"); }
    std::string shardPath(const std::string& shard) const { return (fs::path(path()).parent_path() / shard).string(); }
};

class SafetensorsSource final : public FormatSource {
public:
    using FormatSource::FormatSource;

protected:
    StateDict loadFile(const std::string& file) const override { return loadSafetensors(file); }
    uint64_t fileElementCount(const std::string& file) const override {
        uint64_t n = 0;
        const SafetensorsFile header(file);  // kept alive: tensors() refers into it
        for (const auto& t : header.tensors()) n += shapeElements(t.shape);
        return n;
    }
};

class PytorchCheckpointSource final : public FormatSource {
public:
    using FormatSource::FormatSource;

protected:
    StateDict loadFile(const std::string& file) const override { return loadPytorchCheckpoint(file); }
    uint64_t fileElementCount(const std::string& file) const override {
        uint64_t n = 0;
        const PytorchCheckpoint header(file);  // kept alive: tensors() refers into it
        for (const auto& t : header.tensors()) n += shapeElements(t.shape);
        return n;
    }
};

}  // namespace

std::map<std::string, std::set<std::string>> readShardIndex(const std::string& indexPath) {
    const fs::path index(indexPath);
    nlohmann::json j;
    try {
        std::ifstream in(index);
        j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw ModelError(index.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw ModelError(index.string() + ": has no \"weight_map\" object");
    std::map<std::string, std::set<std::string>> byShard;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string()) throw ModelError(index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
        const std::string shard = it.value().get<std::string>();
        if (shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos || shard.find("..") != std::string::npos)
            throw ModelError(index.string() + ": shard name '" + shard + "' must be a plain file name");
        byShard[shard].insert(it.key());
    }
    return byShard;
}

std::string pytorchStem(const std::string& stem) { return stem == "model" ? "pytorch_model" : stem; }

std::string findPytorchCheckpointFile(const std::string& folder, const std::string& stem) {
    const fs::path dir(folder);
    const std::string pytorch = pytorchStem(stem);
    for (const std::string& name : {pytorch + ".bin", pytorch + ".bin.index.json", stem + ".pt", stem + ".pth", stem + ".ckpt", stem + ".bin"})
        if (fs::is_regular_file(dir / name)) return (dir / name).string();
    return {};
}

std::string findCheckpointFile(const std::string& folder, const std::string& stem) {
    const fs::path dir(folder);
    for (const std::string& name : {stem + ".safetensors", stem + ".safetensors.index.json"})
        if (fs::is_regular_file(dir / name)) return (dir / name).string();
    return findPytorchCheckpointFile(folder, stem);
}

std::unique_ptr<WeightSource> findWeightSource(const std::string& folder, const std::string& stem) {
    std::string path = findCheckpointFile(folder, stem);
    if (path.empty()) return nullptr;
    if (endsWith(path, ".safetensors") || endsWith(path, ".safetensors.index.json"))
        return std::make_unique<SafetensorsSource>(std::move(path));
    return std::make_unique<PytorchCheckpointSource>(std::move(path));
}

std::unique_ptr<WeightSource> openWeightSource(const std::string& folder, const std::string& stem) {
    if (!fs::is_directory(fs::path(folder))) throw ModelError(folder + ": model folder does not exist");
    auto source = findWeightSource(folder, stem);
    if (!source) {
        const std::string pytorch = pytorchStem(stem);
        throw ModelError(folder + ": no " + stem + ".safetensors (or " + stem + ".safetensors.index.json) and no " +
                         pytorch + ".bin (or " + pytorch + ".bin.index.json): the model's weights are missing");
    }
    return source;
}

StateDict loadCheckpoint(const std::string& folder, const std::string& stem) { return openWeightSource(folder, stem)->load(); }

uint64_t checkpointElementCount(const std::string& folder, const std::string& stem) {
    const auto source = findWeightSource(folder, stem);
    return source ? source->elementCount() : 0;
}

}  // namespace grym
