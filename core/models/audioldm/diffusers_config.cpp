#include "models/audioldm/diffusers_config.h"

#include "common/error.h"

#include <fstream>

namespace grym::audioldm {

ConfigReader::ConfigReader(nlohmann::json json, std::string source)
    : json_(std::move(json)), source_(std::move(source)) {
    if (!json_.is_object()) throw ModelError(source_ + ": the config is not a JSON object");
}

ConfigReader ConfigReader::fromFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ModelError(path + ": cannot open the model config");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw ModelError(path + ": not valid JSON (" + e.what() + ")");
    }
    return ConfigReader(std::move(j), path);
}

bool ConfigReader::has(const std::string& field) const {
    auto it = json_.find(field);
    return it != json_.end() && !it->is_null();
}

const nlohmann::json& ConfigReader::at(const std::string& field) const {
    if (!has(field)) throw ModelError(source_ + ": required field '" + field + "' is missing");
    return json_.at(field);
}

void ConfigReader::reject(const std::string& field, const std::string& why) const {
    std::string value = json_.contains(field) ? json_.at(field).dump() : std::string("(absent)");
    throw ModelError(source_ + ": field '" + field + "' = " + value + " is not supported: " + why);
}

int64_t ConfigReader::integer(const std::string& field) const {
    const auto& v = at(field);
    if (!v.is_number_integer()) {
        // Some configs write whole numbers as 2.0.
        if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
            return static_cast<int64_t>(v.get<double>());
        reject(field, "expected an integer");
    }
    return v.get<int64_t>();
}

int64_t ConfigReader::integer(const std::string& field, int64_t fallback) const {
    return has(field) ? integer(field) : fallback;
}

double ConfigReader::number(const std::string& field, double fallback) const {
    if (!has(field)) return fallback;
    const auto& v = json_.at(field);
    if (!v.is_number()) reject(field, "expected a number");
    return v.get<double>();
}

bool ConfigReader::boolean(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    const auto& v = json_.at(field);
    if (!v.is_boolean()) reject(field, "expected true or false");
    return v.get<bool>();
}

std::string ConfigReader::string(const std::string& field, const std::string& fallback) const {
    if (!has(field)) return fallback;
    const auto& v = json_.at(field);
    if (!v.is_string()) reject(field, "expected a string");
    return v.get<std::string>();
}

std::vector<int64_t> ConfigReader::integers(const std::string& field) const {
    const auto& v = at(field);
    if (!v.is_array()) reject(field, "expected a list of integers");
    std::vector<int64_t> out;
    for (const auto& e : v) {
        if (!e.is_number_integer()) reject(field, "expected a list of integers");
        out.push_back(e.get<int64_t>());
    }
    return out;
}

std::vector<std::string> ConfigReader::strings(const std::string& field) const {
    const auto& v = at(field);
    if (!v.is_array()) reject(field, "expected a list of strings");
    std::vector<std::string> out;
    for (const auto& e : v) {
        if (!e.is_string()) reject(field, "expected a list of strings");
        out.push_back(e.get<std::string>());
    }
    return out;
}

std::vector<int64_t> ConfigReader::integersPerBlock(const std::string& field, size_t blocks) const {
    const auto& v = at(field);
    if (v.is_number()) return std::vector<int64_t>(blocks, integer(field));
    auto list = integers(field);
    if (list.size() != blocks)
        reject(field, "expected one integer or one per block (" + std::to_string(blocks) + ")");
    return list;
}

void ConfigReader::requireNull(const std::string& field, const std::string& why) const {
    if (has(field)) reject(field, why);
}

std::string ConfigReader::requireOneOf(const std::string& field, std::initializer_list<const char*> allowed,
                                       const std::string& fallback) const {
    const std::string value = string(field, fallback);
    std::string list;
    for (const char* a : allowed) {
        if (value == a) return value;
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    reject(field, "supported values are " + list);
}

void ConfigReader::requireFalse(const std::string& field, const std::string& why) const {
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

}  // namespace grym::audioldm
