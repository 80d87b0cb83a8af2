#pragma once
// Greedy CTC decoding as transformers' Wav2Vec2CTCTokenizer does it: best token per frame,
// repeats collapsed, the blank (pad token) dropped, the word delimiter turned into a space,
// the result stripped.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace grym {

class CtcVocabulary {
public:
    // vocab.json: {"token": id, ...}. tokenizer_config.json (optional, same folder) may name
    // pad_token and word_delimiter_token; the defaults are "<pad>" and "|".
    static CtcVocabulary load(const std::string& folder);
    CtcVocabulary(std::unordered_map<int64_t, std::string> tokens, const std::string& padToken, const std::string& wordDelimiter,
                  const std::string& source = "vocab.json");

    int64_t blankId() const { return blankId_; }
    const std::string& token(int64_t id) const;
    size_t size() const { return tokens_.size(); }

    // ids: one per frame (already the argmax); repeats collapse, blanks vanish.
    std::string decodeFrameIds(const std::vector<int64_t>& ids) const;
    // logits: (frames, vocab) of one clip. Only the first `frames` rows count when given (padded batches).
    std::string greedyDecode(const torch::Tensor& logits, int64_t frames = -1) const;

private:
    std::unordered_map<int64_t, std::string> tokens_;
    std::string padToken_;
    std::string wordDelimiter_;
    std::string unknown_ = "<unk>";
    int64_t blankId_ = 0;
};

}  // namespace grym
