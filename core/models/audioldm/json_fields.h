#pragma once
// Typed reads of model config fields (config.json, scheduler_config.json) that fail with
// a message naming the file, the field and what was wrong with it.
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grym::audioldm {

class JsonFields {
public:
    JsonFields(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {}

    bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }

    template <typename T>
    T get(const std::string& key) const {
        if (!j_.contains(key)) throw ModelError(source_ + ": missing field '" + key + "'");
        return as<T>(key, j_.at(key));
    }

    template <typename T>
    T get(const std::string& key, const T& fallback) const {
        return has(key) ? as<T>(key, j_.at(key)) : fallback;
    }

    [[noreturn]] void unsupported(const std::string& key, const std::string& value, const std::string& why) const {
        throw ModelError(source_ + ": unsupported " + key + " = " + value + " (" + why + ")");
    }

    const std::string& source() const { return source_; }

private:
    template <typename T>
    T as(const std::string& key, const nlohmann::json& v) const {
        try {
            return v.get<T>();
        } catch (const nlohmann::json::exception&) {
            throw ModelError(source_ + ": field '" + key + "' has the wrong type (" + v.dump() + ")");
        }
    }

    const nlohmann::json& j_;
    std::string source_;
};

// Parses a JSON file; throws ModelError naming the path when it is missing or malformed.
nlohmann::json readJsonFile(const std::string& path);

}  // namespace grym::audioldm
