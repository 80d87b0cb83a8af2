#include "hub/file_selection.h"

#include "hub/hub_error.h"
#include "hub/cache_files.h"

#include <algorithm>
#include <regex>
#include <set>

namespace grym::hub {

namespace {

// Tokenizer and feature-extractor files that are not JSON.
const std::set<std::string> kTokenizerTextFiles = {"merges.txt", "vocab.txt", "spiece.model",
                                                   "sentencepiece.bpe.model", "tokenizer.model"};
// What a transformers (wav2vec2) model needs beside its weights.
const std::set<std::string> kTransformersSupportFiles = {
    "config.json",          "preprocessor_config.json", "vocab.json",       "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "merges.txt", "vocab.txt"};

std::string folderPrefix(const std::string& folder) { return folder.empty() ? std::string() : folder + "/"; }

// Names of the files directly inside `folder` (not in its subfolders).
std::vector<std::string> namesInFolder(const std::vector<std::string>& repoFiles, const std::string& folder) {
    std::string prefix = folderPrefix(folder);
    std::vector<std::string> names;
    for (const std::string& path : repoFiles) {
        if (path.compare(0, prefix.size(), prefix) != 0) continue;
        std::string name = path.substr(prefix.size());
        if (!name.empty() && name.find('/') == std::string::npos) names.push_back(name);
    }
    return names;
}

bool isWeightIndex(const std::string& name) { return name.size() > 11 && name.compare(name.size() - 11, 11, ".index.json") == 0; }

std::vector<std::string> sortedUnique(std::vector<std::string> paths) {
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

// The weight file names of one extension, compiled once for every pull: std::regex's compiler
// fills the C++ locale's narrow-character cache (std::ctype<char>::narrow) without a lock, so
// two pulls choosing their files at once raced there (found by ThreadSanitizer,
// hub_concurrency_test.cpp); a static is compiled under its initialisation guard instead.
struct WeightFileNames {
    // A plain base name (letters and _ only: no ".fp16" variant part), optionally a shard number.
    std::regex single, shard, index;
    explicit WeightFileNames(const std::string& extension)
        : single("^[A-Za-z_]+\\." + extension + "$"),
          shard("^([A-Za-z_]+)-[0-9]+-of-[0-9]+\\." + extension + "$"),
          index("^([A-Za-z_]+)\\." + extension + "\\.index\\.json$") {}
};

const WeightFileNames& weightFileNames(const std::string& extension) {
    static const WeightFileNames safetensors("safetensors"), bin("bin");
    return extension == "safetensors" ? safetensors : bin;
}

}  // namespace

std::vector<std::string> selectWeightFiles(const std::vector<std::string>& repoFiles, const std::string& folder) {
    std::vector<std::string> names = namesInFolder(repoFiles, folder);
    std::string prefix = folderPrefix(folder);
    for (const char* extension : {"safetensors", "bin"}) {
        const auto& [single, shard, index] = weightFileNames(extension);
        std::vector<std::string> chosen;
        for (const std::string& name : names)
            if (std::regex_match(name, single)) chosen.push_back(prefix + name);
        if (!chosen.empty()) return sortedUnique(chosen);
        std::smatch match;
        for (const std::string& name : names) {
            if (!std::regex_match(name, match, index)) continue;
            std::string base = match[1];
            chosen.push_back(prefix + name);
            for (const std::string& candidate : names) {
                std::smatch shardMatch;
                if (std::regex_match(candidate, shardMatch, shard) && shardMatch[1] == base)
                    chosen.push_back(prefix + candidate);
            }
        }
        if (!chosen.empty()) return sortedUnique(chosen);
    }
    return {};
}

std::vector<std::string> selectPipelineFiles(const std::vector<std::string>& repoFiles, const nlohmann::json& modelIndex) {
    std::vector<std::string> chosen = {"model_index.json"};
    if (!modelIndex.is_object()) return chosen;
    for (const auto& [component, value] : modelIndex.items()) {
        // Components are ["library", "Class"]; keys starting with _ are pipeline metadata, and a
        // [null, null] entry is an optional component the repo leaves out.
        if (component.empty() || component.front() == '_' || !value.is_array() || value.size() != 2 ||
            value[0].is_null() || value[1].is_null())
            continue;
        for (const std::string& name : namesInFolder(repoFiles, component)) {
            bool isConfig = name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 && !isWeightIndex(name);
            if (isConfig || kTokenizerTextFiles.count(name)) chosen.push_back(component + "/" + name);
        }
        for (std::string& weight : selectWeightFiles(repoFiles, component)) chosen.push_back(std::move(weight));
    }
    return sortedUnique(chosen);
}

std::vector<std::string> selectTransformersFiles(const std::vector<std::string>& repoFiles) {
    std::vector<std::string> chosen;
    for (const std::string& name : namesInFolder(repoFiles, ""))
        if (kTransformersSupportFiles.count(name)) chosen.push_back(name);
    for (std::string& weight : selectWeightFiles(repoFiles, "")) chosen.push_back(std::move(weight));
    return sortedUnique(chosen);
}

std::vector<std::string> selectIncludedFiles(const std::vector<std::string>& repoFiles,
                                             const std::vector<std::string>& includeGlobs) {
    std::vector<std::string> chosen;
    for (const std::string& path : repoFiles)
        for (const std::string& pattern : includeGlobs)
            if (globMatches(pattern, path)) {
                chosen.push_back(path);
                break;
            }
    if (chosen.empty()) {
        std::string patterns;
        for (const std::string& pattern : includeGlobs) patterns += (patterns.empty() ? "" : ", ") + pattern;
        throw HubError(HubErrorKind::InvalidArgument, "no file of the repo matches --include " + patterns);
    }
    return sortedUnique(chosen);
}

}  // namespace grym::hub
