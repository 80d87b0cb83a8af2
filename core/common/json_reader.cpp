#include "common/json_reader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace grym {

namespace {

// Infinity, -Infinity and NaN outside strings become the largest finite double and null.
std::string replacePythonNumberLiterals(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) out += text[++i];
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
            out += c;
        } else if (text.compare(i, 8, "Infinity") == 0) {
            out += "1.7976931348623157e308";
            i += 7;
        } else if (text.compare(i, 3, "NaN") == 0) {
            out += "null";
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

const nlohmann::json& emptyObject() {
    static const nlohmann::json empty = nlohmann::json::object();
    return empty;
}

std::string shortened(const nlohmann::json& value) {
    std::string text = value.dump();
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

constexpr int64_t kLargestSize = int64_t{1} << 24;

}  // namespace

nlohmann::json parseJsonText(const std::string& text, const std::string& source) {
    try {
        return nlohmann::json::parse(replacePythonNumberLiterals(text));
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(source + ": not valid JSON (" + e.what() + ")");
    }
}

nlohmann::json readJsonFile(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw ModelError(path + ": file is missing");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(path + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    return parseJsonText(text.str(), path);
}

std::string FieldRejection::message() const {
    if (value.empty()) return source + ": field '" + field + "' is missing" + (why.empty() ? "" : ": " + why);
    return source + ": field '" + field + "' = " + value + ": " + why;
}

void throwModelError(const FieldRejection& rejection) { throw ModelError(rejection.message()); }
void throwTaskError(const FieldRejection& rejection) { throw TaskError(rejection.message()); }

JsonReader::JsonReader(const nlohmann::json& json, std::string source, RejectionThrower raise)
    : json_(json.is_null() ? emptyObject() : json), source_(std::move(source)), raise_(raise) {
    if (!json_.is_object()) {
        FieldRejection r{source_, "", shortened(json_), "expected a JSON object"};
        raise_(r);
        throw ModelError(r.message());
    }
}

bool JsonReader::has(const std::string& field) const {
    auto it = json_.find(field);
    return it != json_.end() && !it->is_null();
}

bool JsonReader::contains(const std::string& field) const { return json_.contains(field); }

void JsonReader::reject(const std::string& field, const std::string& why) const {
    FieldRejection r{source_, field, contains(field) ? shortened(json_.at(field)) : std::string(), why};
    raise_(r);
    throw ModelError(r.message());  // a thrower that returns is a bug; still refuse
}

const nlohmann::json& JsonReader::at(const std::string& field) const {
    if (!contains(field)) reject(field, "");
    return json_.at(field);
}

const nlohmann::json& JsonReader::present(const std::string& field) const {
    if (!has(field)) reject(field, contains(field) ? "expected a value, not null" : "");
    return json_.at(field);
}

JsonReader JsonReader::object(const std::string& field) const {
    if (!has(field)) return JsonReader(emptyObject(), source_ + " (" + field + ")", raise_);
    if (!json_.at(field).is_object()) reject(field, "expected an object");
    return JsonReader(json_.at(field), source_ + " (" + field + ")", raise_);
}

int64_t JsonReader::toInteger(const std::string& field, const nlohmann::json& v, const char* expected) const {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        reject(field, "too large");
    if (v.is_number_integer()) return v.get<int64_t>();
    // Some configs write whole numbers as 2.0.
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
    }
    reject(field, expected);
}

int64_t JsonReader::integer(const std::string& field) const {
    return toInteger(field, present(field), "expected an integer");
}

int64_t JsonReader::integer(const std::string& field, int64_t fallback) const {
    return has(field) ? integer(field) : fallback;
}

int64_t JsonReader::positive(const std::string& field, int64_t fallback) const {
    if (!has(field)) return fallback;
    const int64_t n = integer(field);
    if (n <= 0) reject(field, "must be a positive integer");
    if (n > kLargestSize) reject(field, "is implausibly large");
    return n;
}

double JsonReader::number(const std::string& field) const {
    const auto& v = present(field);
    if (!v.is_number()) reject(field, "expected a number");
    return v.get<double>();
}

double JsonReader::number(const std::string& field, double fallback) const {
    return has(field) ? number(field) : fallback;
}

bool JsonReader::boolean(const std::string& field) const {
    const auto& v = present(field);
    if (!v.is_boolean()) reject(field, "expected true or false");
    return v.get<bool>();
}

bool JsonReader::boolean(const std::string& field, bool fallback) const {
    return has(field) ? boolean(field) : fallback;
}

std::string JsonReader::string(const std::string& field) const {
    const auto& v = present(field);
    if (!v.is_string()) reject(field, "expected a string");
    return v.get<std::string>();
}

std::string JsonReader::string(const std::string& field, const std::string& fallback) const {
    return has(field) ? string(field) : fallback;
}

std::vector<int64_t> JsonReader::integers(const std::string& field) const {
    const auto& v = present(field);
    if (!v.is_array()) reject(field, "expected a list of integers");
    std::vector<int64_t> out;
    for (const auto& e : v) out.push_back(toInteger(field, e, "expected a list of integers"));
    return out;
}

std::vector<int64_t> JsonReader::integers(const std::string& field, const std::vector<int64_t>& fallback) const {
    return has(field) ? integers(field) : fallback;
}

std::vector<double> JsonReader::numbers(const std::string& field, const std::vector<double>& fallback) const {
    if (!has(field)) return fallback;
    const auto& v = json_.at(field);
    if (!v.is_array()) reject(field, "expected a list of numbers");
    std::vector<double> out;
    for (const auto& e : v) {
        if (!e.is_number()) reject(field, "expected a list of numbers");
        out.push_back(e.get<double>());
    }
    return out;
}

std::vector<std::vector<int64_t>> JsonReader::integerLists(const std::string& field,
                                                           const std::vector<std::vector<int64_t>>& fallback) const {
    if (!has(field)) return fallback;
    const auto& v = json_.at(field);
    if (!v.is_array()) reject(field, "expected a list of lists of integers");
    std::vector<std::vector<int64_t>> out;
    for (const auto& list : v) {
        if (!list.is_array()) reject(field, "expected a list of lists of integers");
        out.emplace_back();
        for (const auto& e : list) out.back().push_back(toInteger(field, e, "expected a list of lists of integers"));
    }
    return out;
}

std::vector<std::string> JsonReader::strings(const std::string& field) const {
    const auto& v = present(field);
    if (!v.is_array()) reject(field, "expected a list of strings");
    std::vector<std::string> out;
    for (const auto& e : v) {
        if (!e.is_string()) reject(field, "expected a list of strings");
        out.push_back(e.get<std::string>());
    }
    return out;
}

std::vector<std::string> JsonReader::strings(const std::string& field, const std::vector<std::string>& fallback) const {
    return has(field) ? strings(field) : fallback;
}

std::vector<int64_t> JsonReader::integersPerBlock(const std::string& field, size_t blocks) const {
    if (present(field).is_number()) return std::vector<int64_t>(blocks, integer(field));
    auto list = integers(field);
    if (list.size() != blocks)
        reject(field, "expected one integer or one per block (" + std::to_string(blocks) + ")");
    return list;
}

void JsonReader::requireOneOf(const std::string& field, std::initializer_list<const char*> allowed) const {
    if (!has(field)) return;
    const std::string value = string(field);
    std::string names;
    for (const char* a : allowed) {
        if (value == a) return;
        names += (names.empty() ? "" : ", ") + std::string(a);
    }
    reject(field, "not supported (supported: " + names + ")");
}

void JsonReader::requireNull(const std::string& field, const std::string& why) const {
    if (has(field)) reject(field, why);
}

void JsonReader::requireFalse(const std::string& field, const std::string& why) const {
    if (!has(field)) return;
    const auto& v = json_.at(field);
    if (v.is_boolean() && !v.get<bool>()) return;
    // A per-block list of falses means the same thing.
    if (v.is_array()) {
        bool allFalse = true;
        for (const auto& e : v) allFalse = allFalse && e.is_boolean() && !e.get<bool>();
        if (allFalse) return;
    }
    reject(field, why);
}

}  // namespace grym
