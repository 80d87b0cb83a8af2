#pragma once
// The one reader of JSON fields in the core: model configs (config.json, scheduler_config.json,
// model_index.json, tokenizer and preprocessor files), task parameters and API request bodies.
// Absent (or null) fields take the caller's default; a present field must have the right type
// and a usable value, and every refusal names the source, the field and the value found:
//
//     unet/config.json: field 'act_fn' = "tanh": not supported (supported: silu, swish, gelu, relu, mish)
//
// Configs are refused with ModelError (the default), task parameters with TaskError, API bodies
// with the API's FieldError: the reader is given the thrower.
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace grym {

// Parses a JSON file. Python's json module writes Infinity, -Infinity and NaN (diffusers'
// lambda_min_clipped is -Infinity by default), which strict JSON rejects: outside strings they are
// read as the largest finite double (with its sign) and as null, so a NaN field counts as absent.
// Throws ModelError naming the path and saying whether the file is missing, unreadable or not JSON.
nlohmann::json readJsonFile(const std::string& path);
// The same for text in memory; `source` names it in the error.
nlohmann::json parseJsonText(const std::string& text, const std::string& source);

// A field the reader refused.
struct FieldRejection {
    std::string source;  // the file, "task parameters", "request", ...
    std::string field;
    std::string value;   // the value found, as JSON (shortened); empty when the field is absent
    std::string why;
    // "SOURCE: field 'FIELD' = VALUE: WHY", or "SOURCE: field 'FIELD' is missing[: WHY]".
    std::string message() const;
};

// Throws the layer's error for a rejection (it must throw).
using RejectionThrower = void (*)(const FieldRejection&);
[[noreturn]] void throwModelError(const FieldRejection& rejection);
[[noreturn]] void throwTaskError(const FieldRejection& rejection);

class JsonReader {
public:
    // `json` must outlive the reader. null reads as an empty object; any other non-object is refused.
    JsonReader(const nlohmann::json& json, std::string source, RejectionThrower raise = throwModelError);

    const std::string& source() const { return source_; }
    const nlohmann::json& json() const { return json_; }

    bool has(const std::string& field) const;       // present and not null
    bool contains(const std::string& field) const;  // present, null included
    // The field's value; refused when it is absent.
    const nlohmann::json& at(const std::string& field) const;
    // A nested object (absent: an empty one), read with the same thrower; its source is
    // "SOURCE (field)".
    JsonReader object(const std::string& field) const;

    // Required forms refuse an absent field; forms with a fallback return it for an absent or
    // null field. Present values of the wrong type are refused either way.
    int64_t integer(const std::string& field) const;  // whole numbers written as 2.0 count
    int64_t integer(const std::string& field, int64_t fallback) const;
    int64_t positive(const std::string& field, int64_t fallback) const;  // 1 .. 2^24 (sizes, counts)
    double number(const std::string& field) const;
    double number(const std::string& field, double fallback) const;
    bool boolean(const std::string& field) const;
    bool boolean(const std::string& field, bool fallback) const;
    std::string string(const std::string& field) const;
    std::string string(const std::string& field, const std::string& fallback) const;
    std::vector<int64_t> integers(const std::string& field) const;
    std::vector<int64_t> integers(const std::string& field, const std::vector<int64_t>& fallback) const;
    std::vector<double> numbers(const std::string& field, const std::vector<double>& fallback) const;
    std::vector<std::vector<int64_t>> integerLists(const std::string& field,
                                                   const std::vector<std::vector<int64_t>>& fallback) const;
    std::vector<std::string> strings(const std::string& field) const;
    std::vector<std::string> strings(const std::string& field, const std::vector<std::string>& fallback) const;
    // A field diffusers allows as one integer (for every block) or one per block.
    std::vector<int64_t> integersPerBlock(const std::string& field, size_t blocks) const;

    // One of `choices` by name (absent or null: `fallback`); any other name is refused with the list.
    template <typename E>
    E choice(const std::string& field, std::initializer_list<std::pair<const char*, E>> choices, E fallback) const {
        if (!has(field)) return fallback;
        const std::string name = string(field);
        std::string names;
        for (const auto& [n, value] : choices) {
            if (name == n) return value;
            names += (names.empty() ? "" : ", ") + std::string(n);
        }
        reject(field, "not supported (supported: " + names + ")");
    }
    // A string field that, when present, must be one of `allowed` (a switch we implement one way of).
    void requireOneOf(const std::string& field, std::initializer_list<const char*> allowed) const;
    // The field must be absent or null (we do not implement what it switches on).
    void requireNull(const std::string& field, const std::string& why) const;
    // The field must be absent, false, or a list of falses.
    void requireFalse(const std::string& field, const std::string& why) const;

    // Refuses the field with its value as found.
    [[noreturn]] void reject(const std::string& field, const std::string& why) const;

private:
    const nlohmann::json& present(const std::string& field) const;  // has(), else refused as missing
    int64_t toInteger(const std::string& field, const nlohmann::json& value, const char* expected) const;

    const nlohmann::json& json_;
    std::string source_;
    RejectionThrower raise_;
};

}  // namespace grym
