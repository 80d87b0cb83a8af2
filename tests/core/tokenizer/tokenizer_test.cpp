#include "common/error.h"
#include "golden/golden_case.h"
#include "models/audioldm/tokenizer.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const std::string kTokenizerDir = std::string(GRYM_TEST_DATA_DIR) + "/tokenizer";

const grym::audioldm::RobertaTokenizer& sharedTokenizer() {
    static const grym::audioldm::RobertaTokenizer tokenizer = grym::audioldm::RobertaTokenizer::load(kTokenizerDir);
    return tokenizer;
}

std::vector<int64_t> concat(std::initializer_list<std::vector<int64_t>> parts) {
    std::vector<int64_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("the tokenizer reproduces every id, padding and decode of the golden case", "[tokenizer][golden]") {
    const grym::GoldenReport report = grym::runGoldenCase(std::string(GRYM_TEST_DATA_DIR) + "/golden/tokenizer_shared");
    INFO(report.error);
    for (const auto& c : report.comparisons) {
        INFO(c.output << ": " << c.note);
        CHECK(c.passed);
    }
    CHECK(report.comparisons.size() > 40);
    CHECK(report.passed());
}

TEST_CASE("the tokenizer reads RoBERTa's special token ids and length limit", "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    CHECK(tok.bosId() == 0);
    CHECK(tok.padId() == 1);
    CHECK(tok.eosId() == 2);
    CHECK(tok.unkId() == 3);
    CHECK(tok.maskId() == tok.vocabSize() - 1);
    CHECK(tok.modelMaxLength() == 512);
}

TEST_CASE("decoding the ids of a text gives the text back, whatever its script", "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    for (const std::string text : {"a dog barking", "  two  spaces\tand tab\n", "naïve café über", "Ελληνικά κείμενα",
                                   "日本語のテキスト", "emoji 🎵🥁 mix", "mixed123numbers456", "x"}) {
        INFO(text);
        CHECK(tok.decode(tok.encode(text)) == text);
    }
}

TEST_CASE("a prompt of only whitespace as Python counts it (tab, U+001F, U+3000) gives no tokens, as transformers does",
          "[tokenizer]") {
    // transformers' RobertaTokenizer returns no tokens for a text whose str.strip() is empty, and
    // Python's whitespace includes the separators U+001C..U+001F; the same characters beside a word
    // are kept (checked against transformers 4.9 with the golden tokenizer).
    const auto& tok = sharedTokenizer();
    for (const std::string blank : {"\t", "\x1f", "\x1c", " \t\n", "\xc2\x85", "\xc2\xa0", "\xe3\x80\x80"}) {
        INFO(blank);
        CHECK(tok.tokenize(blank).empty());
        CHECK(tok.encode(blank) == std::vector<int64_t>{tok.bosId(), tok.eosId()});
        for (const std::string withWord : {blank + "a", "a" + blank, "a" + blank + "b"}) {
            INFO(withWord);
            CHECK(tok.decode(tok.encode(withWord)) == withWord);
        }
    }
}

TEST_CASE("special token strings in the text are kept whole and <mask> swallows the space before it",
          "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    const auto ids = tok.encode("a dog <mask> barks</s>");
    const auto expected =
        concat({{tok.bosId()}, tok.tokenize("a dog"), {tok.maskId()}, tok.tokenize(" barks"), {tok.eosId()}, {tok.eosId()}});
    CHECK(ids == expected);
    CHECK(tok.decode(ids, /*skipSpecialTokens=*/false) == "<s>a dog<mask> barks</s></s>");
    CHECK(tok.decode(ids) == "a dog barks");
}

TEST_CASE("letters, digits and symbols are split into separate pieces before BPE", "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    CHECK(tok.tokenize("abc123") == concat({tok.tokenize("abc"), tok.tokenize("123")}));
    CHECK(tok.tokenize("dogs!!") == concat({tok.tokenize("dogs"), tok.tokenize("!!")}));
    CHECK(tok.tokenize("it's") == concat({tok.tokenize("it"), tok.tokenize("'s")}));
}

TEST_CASE("pipeline encoding truncates long texts and pads short ones with a mask", "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    const auto longText = tok.encodePadded("one two three four five six seven eight nine ten", 6);
    REQUIRE(longText.inputIds.size() == 6);
    CHECK(longText.inputIds.front() == tok.bosId());
    CHECK(longText.inputIds.back() == tok.eosId());
    CHECK(longText.attentionMask == std::vector<int64_t>(6, 1));
    const auto body = tok.tokenize("one two three four");
    CHECK(std::vector<int64_t>(longText.inputIds.begin() + 1, longText.inputIds.end() - 1) ==
          std::vector<int64_t>(body.begin(), body.begin() + 4));

    const auto shortText = tok.encodePadded("dog", 6);
    CHECK(shortText.inputIds == concat({{tok.bosId()}, tok.tokenize("dog"), {tok.eosId()},
                                        std::vector<int64_t>(6 - 2 - tok.tokenize("dog").size(), tok.padId())}));
    CHECK(shortText.attentionMask.size() == 6);
    CHECK(shortText.attentionMask[0] == 1);
    CHECK(shortText.attentionMask.back() == 0);

    const auto batch = tok.encodeBatch({"dog", "a cat meows"});
    CHECK(batch.inputIds.sizes() == torch::IntArrayRef({2, 512}));
    CHECK(batch.attentionMask.sizes() == torch::IntArrayRef({2, 512}));
    CHECK(batch.inputIds.scalar_type() == torch::kInt64);
    CHECK(batch.attentionMask.sum().item<int64_t>() ==
          static_cast<int64_t>(tok.encode("dog").size() + tok.encode("a cat meows").size()));
}

TEST_CASE("broken bytes are replaced on decode and rejected on encode", "[tokenizer]") {
    const auto& tok = sharedTokenizer();
    // A rare four-byte character is split into several byte-level tokens; the first of
    // them alone is an incomplete character.
    const std::string clef = "\xF0\x9D\x84\x9E";  // U+1D11E MUSICAL SYMBOL G CLEF
    const auto ids = tok.tokenize(clef);
    REQUIRE(ids.size() >= 2);
    CHECK(tok.decode({ids[0]}) == "\xEF\xBF\xBD");
    CHECK(tok.decode(ids) == clef);
    CHECK_THROWS_AS(tok.encode(std::string("bad \xC3\x28 bytes")), grym::ModelError);
    CHECK_THROWS_AS(tok.decode({tok.vocabSize() + 5}), grym::ModelError);
    CHECK_THROWS_AS(tok.encodePadded("dog", 1), grym::ModelError);
}

TEST_CASE("a tokenizer folder without its vocabulary is reported by file name", "[tokenizer]") {
    const fs::path dir = fs::temp_directory_path() / "grym_tokenizer_missing_vocab";
    fs::create_directories(dir);
    std::ofstream(dir / "merges.txt") << "#version: 0.2\n";
    try {
        auto tok = grym::audioldm::RobertaTokenizer::load(dir.string());
        FAIL("loading should have thrown");
    } catch (const grym::ModelError& e) {
        CHECK(std::string(e.what()).find("vocab.json") != std::string::npos);
    }
    CHECK_THROWS_AS(grym::audioldm::RobertaTokenizer::load((dir / "nope").string()), grym::ModelError);
}

TEST_CASE("a merges file with a malformed line is rejected with its line number", "[tokenizer]") {
    const fs::path dir = fs::temp_directory_path() / "grym_tokenizer_bad_merges";
    fs::create_directories(dir);
    fs::copy_file(fs::path(kTokenizerDir) / "vocab.json", dir / "vocab.json", fs::copy_options::overwrite_existing);
    std::ofstream(dir / "merges.txt") << "#version: 0.2\nĠ t\nbroken\n";
    try {
        auto tok = grym::audioldm::RobertaTokenizer::load(dir.string());
        FAIL("loading should have thrown");
    } catch (const grym::ModelError& e) {
        CHECK(std::string(e.what()).find("line 3") != std::string::npos);
    }
}
