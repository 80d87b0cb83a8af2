// libFuzzer target for the tokenizers: the RoBERTa byte-level BPE tokenizer (AudioLDM's prompt
// encoder) and wav2vec2's CTC vocabulary. The first byte picks what the rest is:
//   0: a prompt (any bytes) for the full RoBERTa tokenizer in tests/data/tokenizer: valid UTF-8
//      must tokenize and decode back to itself, anything else must raise grym::ModelError;
//   1-5: the contents of one file of a tiny tokenizer folder (vocab.json, merges.txt,
//      tokenizer_config.json, special_tokens_map.json, added_tokens.json), loaded and used;
//   6: a wav2vec2 vocab.json for the CTC decoder.
// Files must load or raise grym::ModelError; any other exception escapes and is reported.
// Run: `build-fuzz/tests/fuzz/fuzz_tokenizer -max_total_time=60 tests/fuzz/corpus_tokenizer`.
#include "common/error.h"
#include "fuzz_scratch.h"
#include "models/audioldm/tokenizer.h"
#include "models/wav2vec2/ctc_decoder.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> readFolder(const fs::path& folder) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        files[entry.path().filename().string()] = text.str();
    }
    return files;
}

bool isValidUtf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
        if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return false;
        uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += static_cast<size_t>(extra) + 1;
    }
    return true;
}

void fuzzPrompt(const std::string& text) {
    static const grym::audioldm::RobertaTokenizer tokenizer = grym::audioldm::RobertaTokenizer::load(GRYM_FUZZ_DATA_DIR "/tokenizer");
    try {
        const std::vector<int64_t> ids = tokenizer.tokenize(text);
        for (int64_t id : ids)
            if (id < 0 || id >= tokenizer.vocabSize()) std::abort();
        (void)tokenizer.encodePadded(text);
        // Byte-level BPE loses nothing but whitespace: decoding's clean-up removes spaces as
        // transformers does (" n't" -> "n't", " ?" -> "?"), special tokens written in the text
        // ("<mask>") may take the spaces around them, and a prompt that is only whitespace as
        // Python counts it (a tab, U+001C..U+001F, U+3000...) gives no tokens at all, as in
        // transformers (checked against its RobertaTokenizer; tokenizer_test covers it).
        const auto withoutSpaces = [](std::string s) {
            s.erase(std::remove_if(s.begin(), s.end(),
                                   [](char c) {
                                       const auto u = static_cast<unsigned char>(c);
                                       return std::isspace(u) || std::iscntrl(u);
                                   }),
                    s.end());
            return s;
        };
        if (text.find('<') == std::string::npos && withoutSpaces(tokenizer.decode(ids, false)) != withoutSpaces(text))
            std::abort();
    } catch (const grym::ModelError&) {
        if (isValidUtf8(text)) std::abort();  // only invalid UTF-8 may be refused
    }
}

void fuzzTokenizerFile(int which, const uint8_t* data, size_t size) {
    static const grym::fuzz::ScratchFolder scratch;
    static const auto base = readFolder(GRYM_FUZZ_DATA_DIR "/golden/audioldm_pipeline_ddim/tokenizer");
    static const char* names[] = {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
                                  "added_tokens.json"};
    std::error_code ec;
    fs::remove(scratch.path() / "added_tokens.json", ec);
    for (const auto& [name, text] : base)
        scratch.write(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
    scratch.write(names[which], data, size);
    try {
        const auto tokenizer = grym::audioldm::RobertaTokenizer::load(scratch.path().string());
        const auto ids = tokenizer.encode("a dog barking <mask> in the rain");
        (void)tokenizer.decode(ids);
        (void)tokenizer.encodeBatch({"", "hello world"}, 8);
    } catch (const grym::ModelError&) {
    }
}

void fuzzCtcVocabulary(const uint8_t* data, size_t size) {
    static const grym::fuzz::ScratchFolder scratch;
    scratch.write("vocab.json", data, size);
    try {
        const auto vocabulary = grym::CtcVocabulary::load(scratch.path().string());
        std::vector<int64_t> ids;
        for (int64_t id = 0; id < static_cast<int64_t>(vocabulary.size()) && id < 64; ++id) ids.push_back(id);
        (void)vocabulary.decodeFrameIds(ids);
    } catch (const grym::ModelError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] % 7;
    if (mode == 0) fuzzPrompt(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    else if (mode <= 5) fuzzTokenizerFile(mode - 1, data + 1, size - 1);
    else fuzzCtcVocabulary(data + 1, size - 1);
    return 0;
}
