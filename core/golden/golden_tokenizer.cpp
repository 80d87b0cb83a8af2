#include "golden/golden_case.h"
#include "golden/golden_components.h"

#include "common/error.h"
#include "models/audioldm/tokenizer.h"

#include <algorithm>
#include <sstream>

namespace grym {

namespace {

std::string idList(const std::vector<int64_t>& ids) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
    os << "]";
    return os.str();
}

// The text as a one-line label: control characters escaped, long texts shortened.
std::string shortQuote(const std::string& text) {
    size_t end = std::min<size_t>(text.size(), 40);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // whole characters
    std::string label;
    for (size_t i = 0; i < end; ++i) {
        const char ch = text[i];
        if (ch == '\n') label += "\\n";
        else if (ch == '\t') label += "\\t";
        else if (static_cast<unsigned char>(ch) < 0x20) label += "?";
        else label += ch;
    }
    return "'" + label + (end < text.size() ? "...'" : "'");
}

// The ids expected by an entry; the case stores them as JSON arrays.
std::vector<int64_t> idsOf(const nlohmann::json& entry, const char* field, const std::string& where) {
    if (!entry.contains(field) || !entry[field].is_array())
        throw ModelError(where + ": entry has no '" + field + "' array");
    return entry[field].get<std::vector<int64_t>>();
}

void compareIds(GoldenCase& c, const std::string& name, const std::vector<int64_t>& ours,
                const std::vector<int64_t>& expected) {
    const bool equal = ours == expected;
    c.compareExact(name, equal, equal ? std::string() : "ours " + idList(ours) + " expected " + idList(expected));
}

}  // namespace

void runTokenizerGolden(GoldenCase& c) {
    const auto& spec = c.spec();
    const std::string where = c.path("case.json");
    const auto tokenizer = audioldm::RobertaTokenizer::load(c.path(spec.value("tokenizer_dir", std::string("tokenizer"))));

    for (const auto& entry : spec.value("plain", nlohmann::json::array())) {
        const std::string text = entry.at("text").get<std::string>();
        compareIds(c, "plain " + shortQuote(text), tokenizer.encode(text), idsOf(entry, "input_ids", where));
    }
    for (const auto& entry : spec.value("pipeline", nlohmann::json::array())) {
        const std::string text = entry.at("text").get<std::string>();
        const audioldm::PaddedEncoding ours = tokenizer.encodePadded(text);
        compareIds(c, "pipeline ids " + shortQuote(text), ours.inputIds, idsOf(entry, "input_ids", where));
        compareIds(c, "pipeline mask " + shortQuote(text), ours.attentionMask, idsOf(entry, "attention_mask", where));
    }
    for (const auto& entry : spec.value("decode", nlohmann::json::array())) {
        const std::string expected = entry.at("text").get<std::string>();
        const std::string ours = tokenizer.decode(idsOf(entry, "input_ids", where));
        c.compareExact("decode " + shortQuote(expected), ours == expected,
                       ours == expected ? std::string() : "ours '" + ours + "'");
    }
}

}  // namespace grym
