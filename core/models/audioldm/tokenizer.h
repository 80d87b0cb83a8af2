#pragma once
// RoBERTa's byte-level BPE tokenizer (the one AudioLDM's CLAP text encoder was trained with),
// read from a Hugging Face tokenizer folder: vocab.json, merges.txt and, when present,
// tokenizer_config.json / special_tokens_map.json.
//
// Encoding follows the reference slow tokenizer step by step: special-token strings in the
// text are kept whole, the rest is split with GPT-2's pre-tokenisation pattern (real Unicode
// letter/number classes through PCRE2), every piece's UTF-8 bytes are mapped to printable
// symbols, merged by BPE rank, and looked up in the vocabulary.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grym::audioldm {

// One text as the pipeline feeds it to the text encoder.
struct PaddedEncoding {
    std::vector<int64_t> inputIds;       // exactly maxLength ids: <s> … </s> then <pad>s
    std::vector<int64_t> attentionMask;  // 1 for real tokens, 0 for padding
};

// A batch of PaddedEncodings as int64 tensors of shape [batch, maxLength].
struct TokenBatch {
    torch::Tensor inputIds;
    torch::Tensor attentionMask;
};

class RobertaTokenizer {
public:
    // Reads the tokenizer folder; throws ModelError naming the file and field at fault. The
    // models' X::load(folder, LoadOptions) without options: a tokenizer holds no tensors.
    static RobertaTokenizer load(const std::string& folder);
    ~RobertaTokenizer();
    RobertaTokenizer(RobertaTokenizer&&) noexcept;
    RobertaTokenizer& operator=(RobertaTokenizer&&) noexcept;

    // Ids of the text alone, without <s>/</s>. Throws ModelError if text is not valid UTF-8.
    std::vector<int64_t> tokenize(const std::string& text) const;

    // `tokenizer(text).input_ids`: <s> ids </s>, no truncation.
    std::vector<int64_t> encode(const std::string& text) const;

    // `tokenizer(text, padding="max_length", max_length=L, truncation=True)` with
    // L = maxLength, or model_max_length when maxLength <= 0.
    PaddedEncoding encodePadded(const std::string& text, int64_t maxLength = 0) const;
    TokenBatch encodeBatch(const std::vector<std::string>& texts, int64_t maxLength = 0) const;

    // `tokenizer.decode(ids, skip_special_tokens=...)`; undecodable bytes become U+FFFD.
    // Throws ModelError for an id outside the vocabulary.
    std::string decode(const std::vector<int64_t>& ids, bool skipSpecialTokens = true) const;

    int64_t modelMaxLength() const;  // 0 when the folder does not set one
    int64_t vocabSize() const;       // number of ids (vocabulary plus added tokens)
    int64_t bosId() const;
    int64_t eosId() const;
    int64_t padId() const;
    int64_t unkId() const;
    int64_t maskId() const;

private:
    struct Impl;
    explicit RobertaTokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace grym::audioldm
