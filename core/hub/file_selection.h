#pragma once
// Which files of a repo a pull fetches. A published repo usually carries several copies of the
// same weights (fp16, flax, onnx, ckpt, .bin beside .safetensors); a user needs one. Rules:
//  - diffusers pipeline (model_index.json): model_index.json and, for every component it names,
//    that folder's config/tokenizer files and its best weights;
//  - transformers model (config.json): the configs, vocab and tokenizer files and the best weights
//    at the repo root;
//  - best weights in a folder: a plain `.safetensors` file (or a `.safetensors.index.json` with
//    its shards), else the same for `.bin`; a name with a variant part (model.fp16.safetensors,
//    diffusion_pytorch_model.non_ema.bin) or another format (.msgpack, .onnx, .ckpt, .h5) never;
//  - an explicit include list of shell globs replaces all of the above.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grym::hub {

// The weight files to take from one folder of the repo ("" for the root).
std::vector<std::string> selectWeightFiles(const std::vector<std::string>& repoFiles, const std::string& folder);

std::vector<std::string> selectPipelineFiles(const std::vector<std::string>& repoFiles, const nlohmann::json& modelIndex);
std::vector<std::string> selectTransformersFiles(const std::vector<std::string>& repoFiles);
// Throws HubError(InvalidArgument) when no file matches any pattern.
std::vector<std::string> selectIncludedFiles(const std::vector<std::string>& repoFiles,
                                             const std::vector<std::string>& includeGlobs);

}  // namespace grym::hub
