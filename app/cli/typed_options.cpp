#include "cli/typed_options.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace grym::cli {

namespace {

// Whole-text parses: leading spaces, a trailing unit or a second number are not accepted.
template <typename Value>
std::optional<Value> parseWhole(const std::string& text) {
    Value value{};
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || stop != end || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::string optionNameForMessages(const std::string& names) {
    std::string shortest, longest;
    size_t start = 0;
    while (start <= names.size()) {
        const size_t comma = names.find(',', start);
        const std::string name = names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name.rfind("--", 0) == 0) longest = name;
        else if (shortest.empty()) shortest = name;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return longest.empty() ? shortest : longest;
}

void rejectValue(const std::string& option, const std::string& expectation, const std::string& text) {
    throw CLI::ValidationError(option + " " + expectation + ", got '" + text + "'");
}

CLI::Option* addParsedOption(CLI::App& command, const std::string& names,
                             std::function<void(const std::string&)> parse, const std::string& description,
                             const std::string& typeName) {
    return command.add_option_function<std::string>(names, std::move(parse), description)->type_name(typeName);
}

CLI::Option* addTextOption(CLI::App& command, const std::string& names, std::string& target,
                           const std::string& description, const std::string& typeName) {
    return command.add_option(names, target, description)->type_name(typeName);
}

double parseNumber(const std::string& option, const std::string& text) {
    const auto value = parseWhole<double>(text);
    if (!value || !std::isfinite(*value)) rejectValue(option, "expects a number", text);
    return *value;
}

CLI::Option* addNumberOption(CLI::App& command, const std::string& names, double& target,
                             const std::string& description, const std::string& typeName) {
    const std::string option = optionNameForMessages(names);
    return addParsedOption(
        command, names, [destination = &target, option](const std::string& text) { *destination = parseNumber(option, text); },
        description, typeName);
}

int64_t parseWholeNumber(const std::string& option, const std::string& text, int64_t min, int64_t max) {
    std::optional<int64_t> value = parseWhole<int64_t>(text);
    if (!value) {
        // "1e3" is a whole number written as a decimal; "2.5" and "zero" are not.
        const double number = parseNumber(option, text);
        if (number != std::floor(number) || std::abs(number) >= 9.2e18) rejectValue(option, "expects a whole number", text);
        value = static_cast<int64_t>(number);
    }
    if (*value < min) rejectValue(option, "expects a whole number of at least " + std::to_string(min), text);
    if (*value > max) rejectValue(option, "expects a whole number of at most " + std::to_string(max), text);
    return *value;
}

std::string defaultNote(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return std::string(" (default ") + text + ")";
}

std::string listInWords(const std::vector<std::string>& names) {
    std::string words;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) words += i + 1 == names.size() ? " or " : ", ";
        words += names[i];
    }
    return words;
}

std::string listAsTypeName(const std::vector<std::string>& names) {
    std::string joined;
    for (const auto& name : names) joined += (joined.empty() ? "" : "|") + name;
    return joined;
}

}  // namespace grym::cli
