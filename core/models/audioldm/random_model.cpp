#include "models/audioldm/random_model.h"

#include "common/strings.h"

#include "common/error.h"
#include "platform/atomic_file.h"
#include "common/json_reader.h"
#include "weights/safetensors_writer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grym::audioldm {

namespace {

struct Component {
    const char* name;        // manifest key and folder
    const char* checkpoint;  // file name inside the folder
};

constexpr Component kComponents[] = {
    {"text_encoder", "model.safetensors"},
    {"unet", "diffusion_pytorch_model.safetensors"},
    {"vae", "diffusion_pytorch_model.safetensors"},
    {"vocoder", "model.safetensors"},
};

torch::ScalarType parseDtype(const std::string& name, const std::string& tensor) {
    if (name == "float32") return torch::kFloat32;
    if (name == "float16") return torch::kFloat16;
    if (name == "bfloat16") return torch::kBFloat16;
    if (name == "int64") return torch::kInt64;
    if (name == "int32") return torch::kInt32;
    throw ModelError("manifest.json: tensor '" + tensor + "' has unsupported dtype '" + name + "'");
}

// Values a trained model of this layout could plausibly hold: identity norms, zero biases,
// weights with variance 1/fan-in so activations neither vanish nor explode with depth.
torch::Tensor randomTensor(const TensorSpec& spec, at::Generator& generator) {
    const auto& name = spec.name;
    if (spec.dtype == torch::kInt64 || spec.dtype == torch::kInt32) {
        if (endsWith(name, "position_ids") && !spec.shape.empty())
            return torch::arange(spec.shape.back(), torch::kInt64).expand(spec.shape).contiguous().to(spec.dtype);
        return torch::zeros(spec.shape, spec.dtype);
    }
    const bool isNormWeight = (name.find("norm") != std::string::npos || name.find("LayerNorm") != std::string::npos) &&
                              endsWith(name, ".weight");
    torch::Tensor values;
    if (spec.shape.size() <= 1) {
        if (isNormWeight || name == "scale") values = torch::ones(spec.shape);
        else values = torch::zeros(spec.shape);
    } else {
        int64_t fanIn = 1;
        for (size_t d = 1; d < spec.shape.size(); ++d) fanIn *= spec.shape[d];
        values = torch::randn(spec.shape, generator, torch::kFloat32) * (1.0 / std::sqrt(static_cast<double>(fanIn)));
    }
    return values.to(spec.dtype);
}

void copyFile(const fs::path& from, const fs::path& to) {
    if (!fs::exists(from)) throw ModelError("missing '" + from.string() + "'");
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

}  // namespace

RandomModelSummary writeRandomAudioLdmModel(const std::string& fullConfigDir, const std::string& outDir,
                                            const std::string& tokenizerDir, uint64_t seed,
                                            const std::function<void(const std::string&)>& log) {
    const fs::path src(fullConfigDir), out(outDir);
    const auto manifestPath = (src / "manifest.json").string();
    if (!fs::exists(manifestPath))
        throw ModelError("'" + fullConfigDir + "' has no manifest.json listing the weights to create");
    fs::path tokenizer = tokenizerDir.empty() ? src / "tokenizer" : fs::path(tokenizerDir);
    if (tokenizerDir.empty() && !fs::exists(tokenizer / "vocab.json")) tokenizer = src.parent_path().parent_path() / "tokenizer";
    if (tokenizerDir.empty() && !fs::exists(tokenizer / "vocab.json"))
        tokenizer = fs::absolute(src).lexically_normal().parent_path().parent_path() / "tokenizer";
    if (!fs::exists(tokenizer / "vocab.json") || !fs::exists(tokenizer / "merges.txt"))
        throw ModelError("no tokenizer (vocab.json, merges.txt) found for '" + fullConfigDir +
                         "'; pass one with --tokenizer DIR");
    const auto manifest = readJsonFile(manifestPath);

    fs::create_directories(out);
    auto index = readJsonFile((src / "model_index.json").string());
    index["grym_random_weights"] = true;
    try {
        const std::string text = index.dump(2) + "\n";
        writeFileAtomically(out / "model_index.json", text.data(), text.size());
    } catch (const std::system_error& e) {
        throw ModelError((out / "model_index.json").string() + ": cannot write (" + e.what() + ")");
    }
    copyFile(src / "scheduler" / "scheduler_config.json", out / "scheduler" / "scheduler_config.json");
    for (const auto& entry : fs::directory_iterator(tokenizer))
        if (entry.is_regular_file()) copyFile(entry.path(), out / "tokenizer" / entry.path().filename());

    RandomModelSummary summary;
    at::Generator generator = at::detail::createCPUGenerator(seed);
    torch::NoGradGuard noGrad;
    for (const auto& component : kComponents) {
        if (!manifest.contains(component.name) || !manifest[component.name].contains("tensors"))
            throw ModelError(manifestPath + ": no tensors listed for '" + component.name + "'");
        copyFile(src / component.name / "config.json", out / component.name / "config.json");
        std::vector<TensorSpec> specs;
        for (const auto& [name, info] : manifest[component.name]["tensors"].items()) {
            TensorSpec spec{name, parseDtype(info.at("dtype").get<std::string>(), name),
                            info.at("shape").get<std::vector<int64_t>>()};
            specs.push_back(std::move(spec));
        }
        const auto path = (out / component.name / component.checkpoint).string();
        if (log) log(std::string("writing ") + path + " (" + std::to_string(specs.size()) + " tensors)");
        SafetensorsWriter writer(path, specs, {{"format", "pt"}, {"grym_random_weights", "true"}, {"seed", std::to_string(seed)}});
        for (const auto& spec : writer.specs()) {
            auto t = randomTensor(spec, generator);
            summary.parameters += static_cast<uint64_t>(t.numel());
            summary.bytes += t.nbytes();
            writer.write(t);
        }
        writer.finish();
    }
    return summary;
}

}  // namespace grym::audioldm
