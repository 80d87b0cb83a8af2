#include "models/audioldm/tokenizer.h"

#include "common/error.h"
#include "common/json_reader.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace fs = std::filesystem;

namespace grym::audioldm {

namespace {

// GPT-2's pre-tokenisation: English contractions, letter runs, number runs and runs of
// other symbols (each optionally led by one space), then whitespace. `\s+(?!\S)` leaves the
// last space of a run to lead the following word.
constexpr const char* kPreTokenPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Tokenizations of pre-tokens are cached; the cache is dropped when it grows past this.
constexpr size_t kMaxCachedPieces = 200000;

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes one well-formed UTF-8 character at s[i]; returns its length (0 if malformed).
size_t readUtf8(const std::string& s, size_t i, uint32_t& cp) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    return len;
}

// Python's bytes.decode("utf-8", errors="replace"): every maximal ill-formed subpart
// becomes one U+FFFD, as the reference tokenizer's decode does.
std::string decodeUtf8Lossy(const std::string& bytes) {
    std::string out;
    size_t i = 0;
    const size_t n = bytes.size();
    const auto at = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
    while (i < n) {
        const unsigned char c = at(i);
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) need = 2, lo = 0xA0;
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
        else if (c == 0xED) need = 2, hi = 0x9F;
        else if (c == 0xF0) need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) need = 3, hi = 0x8F;
        size_t taken = 1;
        bool complete = need > 0;
        for (size_t k = 0; k < need; ++k) {
            const size_t pos = i + 1 + k;
            const unsigned char minB = k == 0 ? lo : 0x80, maxB = k == 0 ? hi : 0xBF;
            if (pos >= n || at(pos) < minB || at(pos) > maxB) {
                complete = false;
                break;
            }
            ++taken;
        }
        if (complete) out.append(bytes, i, taken);
        else out += "\xEF\xBF\xBD";
        i += taken;
    }
    return out;
}

// Python's str.isspace() for one code point.
bool isPythonSpace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

std::string stripLeft(const std::string& s) {
    size_t i = 0;
    uint32_t cp = 0;
    while (i < s.size()) {
        const size_t len = readUtf8(s, i, cp);
        if (len == 0 || !isPythonSpace(cp)) break;
        i += len;
    }
    return s.substr(i);
}

std::string stripRight(const std::string& s) {
    size_t end = s.size();
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        uint32_t cp = 0;
        if (readUtf8(s, start, cp) != end - start || !isPythonSpace(cp)) break;
        end = start;
    }
    return s.substr(0, end);
}

std::string readTextFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(path.string() + ": cannot open (a RoBERTa tokenizer folder needs it)");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// An added token as the reference library describes it: its text, and whether whitespace
// next to it is swallowed.
struct AddedToken {
    std::string content;
    bool lstrip = false;
    bool rstrip = false;
};

// tokenizer_config.json writes special tokens either as a string or as a serialised
// AddedToken object {"content": ..., "lstrip": ..., "rstrip": ...}.
std::optional<AddedToken> parseAddedToken(const nlohmann::json& value, const std::string& where) {
    if (value.is_null()) return std::nullopt;
    AddedToken token;
    if (value.is_string()) {
        token.content = value.get<std::string>();
    } else if (value.is_object() && value.contains("content") && value["content"].is_string()) {
        token.content = value["content"].get<std::string>();
        token.lstrip = value.value("lstrip", false);
        token.rstrip = value.value("rstrip", false);
    } else {
        throw ModelError(where + ": expected a token string or an object with \"content\"");
    }
    if (token.content.empty()) throw ModelError(where + ": a special token may not be empty");
    return token;
}

class Pcre2Pattern {
public:
    explicit Pcre2Pattern(const char* pattern) {
        int code = 0;
        PCRE2_SIZE offset = 0;
        code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                              &code, &offset, nullptr);
        if (!code_) throw ModelError("tokenizer: cannot compile the pre-tokenisation pattern: " + message(code));
        pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
    }
    ~Pcre2Pattern() { pcre2_code_free(code_); }
    Pcre2Pattern(const Pcre2Pattern&) = delete;
    Pcre2Pattern& operator=(const Pcre2Pattern&) = delete;

    // Every non-overlapping match, left to right (Python's re.findall).
    std::vector<std::string> findAll(const std::string& text) const {
        std::vector<std::string> pieces;
        std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
            pcre2_match_data_create_from_pattern(code_, nullptr), &pcre2_match_data_free);
        if (!match) throw ModelError("tokenizer: out of memory while matching");
        const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
        PCRE2_SIZE offset = 0;
        uint32_t options = 0;  // the first call validates the UTF-8; later calls skip that
        while (offset < text.size()) {
            const int rc = pcre2_match(code_, subject, text.size(), offset, options, match.get(), nullptr);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
            if (rc < 0) {
                if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
                    throw ModelError("tokenizer: the text is not valid UTF-8 (byte " + std::to_string(ovector[0]) +
                                     ": " + message(rc) + ")");
                throw ModelError("tokenizer: matching the pre-tokenisation pattern failed: " + message(rc));
            }
            options = PCRE2_NO_UTF_CHECK;
            if (ovector[1] == ovector[0]) {  // cannot happen with this pattern; guard against looping
                ++offset;
                continue;
            }
            pieces.emplace_back(text, ovector[0], ovector[1] - ovector[0]);
            offset = ovector[1];
        }
        return pieces;
    }

private:
    static std::string message(int code) {
        std::array<PCRE2_UCHAR, 256> buffer{};
        pcre2_get_error_message(code, buffer.data(), buffer.size());
        return reinterpret_cast<const char*>(buffer.data());
    }

    pcre2_code* code_ = nullptr;
};

}  // namespace

struct RobertaTokenizer::Impl {
    std::string folder;
    std::unordered_map<std::string, int64_t> tokenToId;
    std::unordered_map<int64_t, std::string> idToToken;
    std::unordered_map<std::string, int> mergeRanks;  // "left right" -> rank
    std::array<std::string, 256> byteToSymbol;        // UTF-8 text of each byte's printable stand-in
    std::unordered_map<uint32_t, unsigned char> symbolToByte;
    std::unique_ptr<Pcre2Pattern> preTokenizer;

    std::vector<AddedToken> addedTokens;          // kept whole when they appear in the text
    std::unordered_set<int64_t> specialIds;       // dropped by decode(skipSpecialTokens)
    std::unordered_set<int64_t> nonSpecialAddedIds;
    int64_t bos = 0, eos = 0, pad = 0, unk = 0, mask = 0;
    int64_t modelMaxLength = 0;
    bool addPrefixSpace = false;
    bool padLeft = false;
    bool truncateLeft = false;
    bool cleanUpSpaces = true;

    mutable std::mutex cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache;

    void buildByteMap() {
        // GPT-2's table: printable Latin-1 bytes stand for themselves, the others are moved
        // to 256, 257, ... in byte order so that no token contains whitespace or controls.
        std::vector<bool> printable(256, false);
        for (int b = '!'; b <= '~'; ++b) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
        uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const uint32_t cp = printable[b] ? static_cast<uint32_t>(b) : next++;
            byteToSymbol[b].clear();
            appendUtf8(byteToSymbol[b], cp);
            symbolToByte[cp] = static_cast<unsigned char>(b);
        }
    }

    void readVocabulary() {
        const fs::path path = fs::path(folder) / "vocab.json";
        const nlohmann::json vocab = readJsonFile(path.string());
        if (!vocab.is_object() || vocab.empty())
            throw ModelError(path.string() + ": expected an object mapping tokens to ids");
        for (const auto& [token, id] : vocab.items()) {
            if (!id.is_number_integer() || id.get<int64_t>() < 0)
                throw ModelError(path.string() + ": token '" + token + "' has no non-negative integer id");
            tokenToId[token] = id.get<int64_t>();
            idToToken[id.get<int64_t>()] = token;
        }
    }

    void readMerges() {
        const fs::path path = fs::path(folder) / "merges.txt";
        std::istringstream in(readTextFile(path));
        std::string line;
        int rank = 0;
        size_t lineNumber = 0;
        while (std::getline(in, line)) {
            ++lineNumber;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty() || (lineNumber == 1 && line.rfind("#version", 0) == 0)) continue;
            const size_t space = line.find(' ');
            if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
                line.find(' ', space + 1) != std::string::npos)
                throw ModelError(path.string() + ": line " + std::to_string(lineNumber) +
                                 " is not a merge of the form 'left right'");
            mergeRanks.emplace(line, rank++);  // a repeated merge keeps its first (best) rank
        }
    }

    // Id of a token, adding it after the vocabulary (as the reference does) when absent.
    int64_t idOfAddedToken(const std::string& content) {
        auto it = tokenToId.find(content);
        if (it != tokenToId.end()) return it->second;
        int64_t next = 0;
        for (const auto& kv : idToToken) next = std::max(next, kv.first + 1);
        tokenToId[content] = next;
        idToToken[next] = content;
        return next;
    }

    void readConfig() {
        const fs::path configPath = fs::path(folder) / "tokenizer_config.json";
        const fs::path mapPath = fs::path(folder) / "special_tokens_map.json";
        const fs::path addedPath = fs::path(folder) / "added_tokens.json";
        nlohmann::json config = fs::exists(configPath) ? readJsonFile(configPath.string()) : nlohmann::json::object();
        const nlohmann::json specialMap =
            fs::exists(mapPath) ? readJsonFile(mapPath.string()) : nlohmann::json::object();
        if (!specialMap.is_object())
            throw ModelError(mapPath.string() + ": expected a JSON object of special tokens, got " + specialMap.type_name());
        const JsonReader fields(config, configPath.string());
        fields.requireOneOf("tokenizer_class", {"RobertaTokenizer", "RobertaTokenizerFast"});

        // Explicitly registered added tokens (ids fixed by the file).
        if (config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
            for (const auto& [idText, spec] : config["added_tokens_decoder"].items()) {
                int64_t id = 0;
                try {
                    id = std::stoll(idText);
                } catch (const std::exception&) {
                    throw ModelError(configPath.string() + ": added_tokens_decoder key '" + idText + "' is not an id");
                }
                auto token = parseAddedToken(spec, configPath.string() + ": added_tokens_decoder." + idText);
                tokenToId[token->content] = id;
                idToToken[id] = token->content;
                addedTokens.push_back(*token);
                const bool special = spec.is_object() && spec.value("special", false);
                if (special) specialIds.insert(id);
                else nonSpecialAddedIds.insert(id);
            }
        }
        if (fs::exists(addedPath)) {
            const nlohmann::json added = readJsonFile(addedPath.string());
            if (!added.is_object()) throw ModelError(addedPath.string() + ": expected an object of token -> id");
            for (const auto& [content, id] : added.items()) {
                if (!id.is_number_integer())
                    throw ModelError(addedPath.string() + ": token '" + content + "' has no integer id");
                tokenToId[content] = id.get<int64_t>();
                idToToken[id.get<int64_t>()] = content;
                addedTokens.push_back({content, false, false});
                nonSpecialAddedIds.insert(id.get<int64_t>());
            }
        }

        // RoBERTa's special tokens; <mask> swallows the whitespace before it by default.
        const auto special = [&](const char* field, const char* fallback, bool lstrip) {
            AddedToken token{fallback, lstrip, false};
            if (auto t = parseAddedToken(config.value(field, nlohmann::json()), configPath.string() + ": " + field)) {
                token.content = t->content;
                if (config[field].is_object()) token.lstrip = t->lstrip, token.rstrip = t->rstrip;
            }
            if (auto t = parseAddedToken(specialMap.value(field, nlohmann::json()), mapPath.string() + ": " + field)) {
                token.content = t->content;
                if (specialMap[field].is_object()) token.lstrip = t->lstrip, token.rstrip = t->rstrip;
            }
            const int64_t id = idOfAddedToken(token.content);
            nonSpecialAddedIds.erase(id);
            specialIds.insert(id);
            auto existing = std::find_if(addedTokens.begin(), addedTokens.end(),
                                         [&](const AddedToken& a) { return a.content == token.content; });
            if (existing == addedTokens.end()) addedTokens.push_back(token);
            else *existing = token;
            return id;
        };
        bos = special("bos_token", "<s>", false);
        eos = special("eos_token", "</s>", false);
        special("sep_token", "</s>", false);
        special("cls_token", "<s>", false);
        unk = special("unk_token", "<unk>", false);
        pad = special("pad_token", "<pad>", false);
        mask = special("mask_token", "<mask>", true);
        // Longest first, so that a token containing another is matched whole.
        std::stable_sort(addedTokens.begin(), addedTokens.end(),
                         [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });

        const double maxLength = fields.number("model_max_length", 0.0);
        if (maxLength < 0) fields.reject("model_max_length", "must be a non-negative number");
        // The reference writes a huge number (1e30) for "no limit".
        if (maxLength < 1e9) modelMaxLength = static_cast<int64_t>(maxLength);
        addPrefixSpace = fields.boolean("add_prefix_space", false);
        cleanUpSpaces = fields.boolean("clean_up_tokenization_spaces", true);
        padLeft = fields.choice<bool>("padding_side", {{"left", true}, {"right", false}}, false);
        truncateLeft = fields.choice<bool>("truncation_side", {{"left", true}, {"right", false}}, false);
    }

    // Byte-level BPE of one pre-token, merged by rank until no known pair is left.
    std::vector<int64_t> bpe(const std::string& piece) const {
        std::vector<std::string> symbols;
        symbols.reserve(piece.size());
        for (unsigned char b : piece) symbols.push_back(byteToSymbol[b]);
        while (symbols.size() > 1) {
            int bestRank = std::numeric_limits<int>::max();
            size_t bestAt = 0;
            for (size_t i = 0; i + 1 < symbols.size(); ++i) {
                auto it = mergeRanks.find(symbols[i] + " " + symbols[i + 1]);
                if (it != mergeRanks.end() && it->second < bestRank) bestRank = it->second, bestAt = i;
            }
            if (bestRank == std::numeric_limits<int>::max()) break;
            const std::string left = symbols[bestAt], right = symbols[bestAt + 1];
            // Merge every occurrence of the best pair, left to right, without overlaps.
            std::vector<std::string> merged;
            merged.reserve(symbols.size());
            for (size_t i = 0; i < symbols.size(); ++i) {
                if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
                    merged.push_back(left + right);
                    ++i;
                } else {
                    merged.push_back(symbols[i]);
                }
            }
            symbols.swap(merged);
        }
        std::vector<int64_t> ids;
        ids.reserve(symbols.size());
        for (const auto& s : symbols) {
            auto it = tokenToId.find(s);
            ids.push_back(it != tokenToId.end() ? it->second : unk);
        }
        return ids;
    }

    std::vector<int64_t> cachedBpe(const std::string& piece) const {
        {
            std::lock_guard<std::mutex> lock(cacheMutex);
            auto it = cache.find(piece);
            if (it != cache.end()) return it->second;
        }
        std::vector<int64_t> ids = bpe(piece);
        std::lock_guard<std::mutex> lock(cacheMutex);
        if (cache.size() >= kMaxCachedPieces) cache.clear();
        cache.emplace(piece, ids);
        return ids;
    }

    // The text split around added tokens: (segment, -1) for plain text, ("", id) for a token.
    std::vector<std::pair<std::string, int64_t>> splitAddedTokens(const std::string& text) const {
        std::vector<std::pair<std::string, int64_t>> parts;
        std::string current;
        bool stripNextLeft = false;
        size_t i = 0;
        while (i < text.size()) {
            const AddedToken* found = nullptr;
            for (const auto& token : addedTokens) {
                if (text.compare(i, token.content.size(), token.content) == 0) {
                    found = &token;
                    break;
                }
            }
            if (!found) {
                current += text[i++];
                continue;
            }
            if (stripNextLeft) current = stripLeft(current);
            if (found->lstrip) current = stripRight(current);
            if (!current.empty()) parts.emplace_back(current, -1);
            current.clear();
            parts.emplace_back(std::string(), tokenToId.at(found->content));
            stripNextLeft = found->rstrip;
            i += found->content.size();
        }
        if (stripNextLeft) current = stripLeft(current);
        if (!current.empty()) parts.emplace_back(current, -1);
        return parts;
    }

    std::vector<int64_t> tokenize(std::string text) const {
        // The reference gives no tokens at all for a text that is only whitespace (while
        // whitespace around words is kept).
        if (stripLeft(text).empty()) return {};
        if (addPrefixSpace) text.insert(text.begin(), ' ');
        std::vector<int64_t> ids;
        for (const auto& [segment, addedId] : splitAddedTokens(text)) {
            if (addedId >= 0) {
                ids.push_back(addedId);
                continue;
            }
            for (const auto& piece : preTokenizer->findAll(segment)) {
                const auto pieceIds = cachedBpe(piece);
                ids.insert(ids.end(), pieceIds.begin(), pieceIds.end());
            }
        }
        return ids;
    }

    std::string tokensToText(const std::vector<std::string>& tokens) const {
        std::string bytes;
        for (const auto& token : tokens) {
            size_t i = 0;
            while (i < token.size()) {
                uint32_t cp = 0;
                const size_t len = readUtf8(token, i, cp);
                if (len == 0) {  // not UTF-8 in the vocabulary itself: pass the byte through
                    bytes += token[i++];
                    continue;
                }
                auto it = symbolToByte.find(cp);
                if (it != symbolToByte.end()) bytes += static_cast<char>(it->second);
                else bytes.append(token, i, len);
                i += len;
            }
        }
        return decodeUtf8Lossy(bytes);
    }
};

RobertaTokenizer RobertaTokenizer::load(const std::string& folder) {
    if (!fs::is_directory(folder))
        throw ModelError(folder + ": not a folder (expected a tokenizer folder with vocab.json and merges.txt)");
    auto impl = std::make_unique<Impl>();
    impl->folder = folder;
    impl->buildByteMap();
    impl->readVocabulary();
    impl->readMerges();
    impl->readConfig();
    impl->preTokenizer = std::make_unique<Pcre2Pattern>(kPreTokenPattern);
    return RobertaTokenizer(std::move(impl));
}

RobertaTokenizer::RobertaTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RobertaTokenizer::~RobertaTokenizer() = default;
RobertaTokenizer::RobertaTokenizer(RobertaTokenizer&&) noexcept = default;
RobertaTokenizer& RobertaTokenizer::operator=(RobertaTokenizer&&) noexcept = default;

std::vector<int64_t> RobertaTokenizer::tokenize(const std::string& text) const { return impl_->tokenize(text); }

std::vector<int64_t> RobertaTokenizer::encode(const std::string& text) const {
    std::vector<int64_t> ids{impl_->bos};
    const auto body = tokenize(text);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(impl_->eos);
    return ids;
}

PaddedEncoding RobertaTokenizer::encodePadded(const std::string& text, int64_t maxLength) const {
    if (maxLength <= 0) maxLength = impl_->modelMaxLength;
    if (maxLength <= 0)
        throw ModelError(impl_->folder + ": tokenizer_config.json sets no model_max_length; pass a max length");
    if (maxLength < 2)
        throw ModelError("tokenizer: max length " + std::to_string(maxLength) + " cannot hold <s> and </s>");
    std::vector<int64_t> body = tokenize(text);
    const size_t room = static_cast<size_t>(maxLength - 2);
    if (body.size() > room) {
        if (impl_->truncateLeft) body.erase(body.begin(), body.end() - static_cast<std::ptrdiff_t>(room));
        else body.resize(room);
    }
    std::vector<int64_t> ids{impl_->bos};
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(impl_->eos);
    std::vector<int64_t> mask(ids.size(), 1);
    const size_t padding = static_cast<size_t>(maxLength) - ids.size();
    if (impl_->padLeft) {
        ids.insert(ids.begin(), padding, impl_->pad);
        mask.insert(mask.begin(), padding, 0);
    } else {
        ids.insert(ids.end(), padding, impl_->pad);
        mask.insert(mask.end(), padding, 0);
    }
    return {std::move(ids), std::move(mask)};
}

TokenBatch RobertaTokenizer::encodeBatch(const std::vector<std::string>& texts, int64_t maxLength) const {
    if (texts.empty()) throw ModelError("tokenizer: encodeBatch needs at least one text");
    std::vector<int64_t> ids, mask;
    int64_t length = 0;
    for (const auto& text : texts) {
        PaddedEncoding e = encodePadded(text, maxLength);
        length = static_cast<int64_t>(e.inputIds.size());
        ids.insert(ids.end(), e.inputIds.begin(), e.inputIds.end());
        mask.insert(mask.end(), e.attentionMask.begin(), e.attentionMask.end());
    }
    const auto batch = static_cast<int64_t>(texts.size());
    const auto options = torch::TensorOptions().dtype(torch::kInt64);
    return {torch::tensor(ids, options).view({batch, length}), torch::tensor(mask, options).view({batch, length})};
}

std::string RobertaTokenizer::decode(const std::vector<int64_t>& ids, bool skipSpecialTokens) const {
    // Plain tokens are joined byte-wise; non-special added tokens stand apart, separated by
    // spaces, as in the reference's decode.
    std::vector<std::string> parts;
    std::vector<std::string> run;
    for (int64_t id : ids) {
        auto it = impl_->idToToken.find(id);
        if (it == impl_->idToToken.end())
            throw ModelError("tokenizer: id " + std::to_string(id) + " is not in the vocabulary (" +
                             std::to_string(vocabSize()) + " ids)");
        if (skipSpecialTokens && impl_->specialIds.count(id)) continue;
        if (impl_->nonSpecialAddedIds.count(id)) {
            if (!run.empty()) parts.push_back(impl_->tokensToText(run));
            run.clear();
            parts.push_back(it->second);
        } else {
            run.push_back(it->second);
        }
    }
    if (!run.empty()) parts.push_back(impl_->tokensToText(run));
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) text += (i ? " " : "") + parts[i];
    if (impl_->cleanUpSpaces) {
        // The reference's clean_up_tokenization: drop spaces before punctuation and contractions.
        static const std::pair<const char*, const char*> kCleanUps[] = {
            {" .", "."},     {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
            {" n't", "n't"}, {" 'm", "'m"},   {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : kCleanUps) {
            const std::string f(from), t(to);
            std::string out;
            size_t pos = 0, hit;
            while ((hit = text.find(f, pos)) != std::string::npos) {
                out.append(text, pos, hit - pos);
                out += t;
                pos = hit + f.size();
            }
            out.append(text, pos, std::string::npos);
            text.swap(out);
        }
    }
    return text;
}

int64_t RobertaTokenizer::modelMaxLength() const { return impl_->modelMaxLength; }
int64_t RobertaTokenizer::vocabSize() const { return static_cast<int64_t>(impl_->idToToken.size()); }
int64_t RobertaTokenizer::bosId() const { return impl_->bos; }
int64_t RobertaTokenizer::eosId() const { return impl_->eos; }
int64_t RobertaTokenizer::padId() const { return impl_->pad; }
int64_t RobertaTokenizer::unkId() const { return impl_->unk; }
int64_t RobertaTokenizer::maskId() const { return impl_->mask; }

}  // namespace grym::audioldm
