#include "models/wav2vec2/ctc_decoder.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/wav2vec2/config.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

namespace grym {

namespace {

std::string tokenName(const nlohmann::json& cfg, const char* field, const std::string& fallback) {
    if (!cfg.contains(field) || cfg[field].is_null()) return fallback;
    const auto& v = cfg[field];
    if (v.is_string()) return v.get<std::string>();
    // AddedToken form: {"content": "<pad>", ...}
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return fallback;
}

}  // namespace

CtcVocabulary CtcVocabulary::load(const std::string& folder) {
    namespace fs = std::filesystem;
    const std::string vocabPath = (fs::path(folder) / "vocab.json").string();
    const nlohmann::json vocab = readJsonFile(vocabPath);
    if (!vocab.is_object()) throw ModelError(vocabPath + ": is not a JSON object of token -> id");
    std::unordered_map<int64_t, std::string> tokens;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        if (it.value().is_object())
            throw ModelError(vocabPath + ": entry '" + it.key() + "' is a nested vocabulary (multi-lingual vocab.json is not supported)");
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
            throw ModelError(vocabPath + ": token '" + it.key() + "' has id " + it.value().dump() + ", not a non-negative integer");
        tokens[it.value().get<int64_t>()] = it.key();
    }
    nlohmann::json tokenizerConfig = nlohmann::json::object();
    const fs::path tcPath = fs::path(folder) / "tokenizer_config.json";
    if (fs::exists(tcPath)) tokenizerConfig = readJsonFile(tcPath.string());
    if (!tokenizerConfig.is_object()) throw ModelError(tcPath.string() + ": is not a JSON object");
    return CtcVocabulary(std::move(tokens), tokenName(tokenizerConfig, "pad_token", "<pad>"),
                         tokenName(tokenizerConfig, "word_delimiter_token", "|"), vocabPath);
}

CtcVocabulary::CtcVocabulary(std::unordered_map<int64_t, std::string> tokens, const std::string& padToken,
                             const std::string& wordDelimiter, const std::string& source)
    : tokens_(std::move(tokens)), padToken_(padToken), wordDelimiter_(wordDelimiter) {
    bool found = false;
    for (const auto& [id, tok] : tokens_) {
        if (tok == padToken_) {
            blankId_ = id;
            found = true;
        }
    }
    if (!found) throw ModelError(source + ": the pad token '" + padToken_ + "' (the CTC blank) is not in the vocabulary");
}

const std::string& CtcVocabulary::token(int64_t id) const {
    auto it = tokens_.find(id);
    return it == tokens_.end() ? unknown_ : it->second;
}

std::string CtcVocabulary::decodeFrameIds(const std::vector<int64_t>& ids) const {
    std::string text;
    int64_t previous = -1;
    for (int64_t id : ids) {
        if (id == previous) continue;
        previous = id;
        const std::string& tok = token(id);
        if (tok == padToken_) continue;
        text += tok == wordDelimiter_ ? std::string(" ") : tok;
    }
    const auto first = text.find_first_not_of(" \t\n");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\n");
    return text.substr(first, last - first + 1);
}

std::string CtcVocabulary::greedyDecode(const torch::Tensor& logits, int64_t frames) const {
    if (logits.dim() != 2) throw ModelError("CTC decode: logits must be (frames, vocab)");
    torch::Tensor best = logits.detach().argmax(-1).to(torch::kCPU).to(torch::kInt64).contiguous();
    if (frames >= 0 && frames < best.size(0)) best = best.narrow(0, 0, frames).contiguous();
    const int64_t* p = best.data_ptr<int64_t>();
    return decodeFrameIds(std::vector<int64_t>(p, p + best.numel()));
}

}  // namespace grym
