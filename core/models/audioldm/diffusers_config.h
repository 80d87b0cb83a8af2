#pragma once
// Typed reading of a diffusers config.json. Every error names the file and the field, and
// every unsupported value is rejected by name rather than silently ignored: a model built from
// a config we only half understood would load and then produce wrong numbers.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace grym::audioldm {

class ConfigReader {
public:
    ConfigReader(nlohmann::json json, std::string source);
    // Parses `path`; throws ModelError when it is missing or not a JSON object.
    static ConfigReader fromFile(const std::string& path);

    const std::string& source() const { return source_; }
    const nlohmann::json& json() const { return json_; }

    // Present and not null.
    bool has(const std::string& field) const;

    int64_t integer(const std::string& field) const;
    int64_t integer(const std::string& field, int64_t fallback) const;
    double number(const std::string& field, double fallback) const;
    bool boolean(const std::string& field, bool fallback) const;
    std::string string(const std::string& field, const std::string& fallback) const;
    std::vector<int64_t> integers(const std::string& field) const;
    std::vector<std::string> strings(const std::string& field) const;
    // A field diffusers allows as either one integer (used for every block) or one per block.
    std::vector<int64_t> integersPerBlock(const std::string& field, size_t blocks) const;

    // The field must be absent or null (we do not implement what it switches on).
    void requireNull(const std::string& field, const std::string& why) const;
    // The field, when present, must be one of `allowed` (absent/null counts as `fallback`).
    std::string requireOneOf(const std::string& field, std::initializer_list<const char*> allowed,
                             const std::string& fallback) const;
    // A boolean field that must be false (or absent).
    void requireFalse(const std::string& field, const std::string& why) const;

    [[noreturn]] void reject(const std::string& field, const std::string& why) const;

private:
    const nlohmann::json& at(const std::string& field) const;
    nlohmann::json json_;
    std::string source_;
};

}  // namespace grym::audioldm
