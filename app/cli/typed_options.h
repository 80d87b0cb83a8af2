#pragma once
// Options whose values are checked as they are parsed, worded the same way in every command:
//   --steps expects a number, got 'zero'
//   --iterations expects a whole number of at least 1, got '0'
//   --dtype takes fp32, fp16 or bf16, got 'fp12'
// CLI11's own conversions word these differently for every type and do not always name the
// value; here a bad value is thrown as CLI::ValidationError carrying the full sentence, which
// the command line prints as it is, with exit status 2 (command_line.cpp).
//
// The type name each option gets is what --help shows after it and what the bash completion
// reads (bash_completion.cpp): lower-case words "a|b|c" (or one word) list the choices (words
// with capitals, like cuda:N, are placeholders and not offered), a name ending in DIR completes
// folders, one holding FILE or a dot (OUT.wav) completes files, anything else completes nothing.
// A positional argument has no type name (help shows its name alone), and the completion reads
// its name (FILE, CASE_DIR) the same way.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace grym::cli {

// The name a message uses for an option given as CLI11 names ("-o,--output" -> "--output";
// "FILE" for a positional).
std::string optionNameForMessages(const std::string& names);

// Throws CLI::ValidationError "OPTION EXPECTATION, got 'TEXT'".
[[noreturn]] void rejectValue(const std::string& option, const std::string& expectation, const std::string& text);

// An option whose value `parse` converts, throwing through rejectValue when it cannot.
CLI::Option* addParsedOption(CLI::App& command, const std::string& names,
                             std::function<void(const std::string&)> parse, const std::string& description,
                             const std::string& typeName);

CLI::Option* addTextOption(CLI::App& command, const std::string& names, std::string& target,
                           const std::string& description, const std::string& typeName = "TEXT");

// A finite number (no "inf" or "nan").
double parseNumber(const std::string& option, const std::string& text);
CLI::Option* addNumberOption(CLI::App& command, const std::string& names, double& target,
                             const std::string& description, const std::string& typeName = "NUMBER");

// A whole number in [min, max]: "zero" is not a number, "2.5" not a whole one.
int64_t parseWholeNumber(const std::string& option, const std::string& text, int64_t min, int64_t max);

// The largest value of Integer that int64 holds: no option needs more.
template <typename Integer>
constexpr int64_t largestWholeNumber() {
    return std::numeric_limits<Integer>::max() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(std::numeric_limits<Integer>::max());
}

// `Target` is Integer, or std::optional<Integer> for a value that stays unset unless given.
template <typename Integer, typename Target>
CLI::Option* addWholeNumberOption(CLI::App& command, const std::string& names, Target& target,
                                  const std::string& description, int64_t min, int64_t max,
                                  const std::string& typeName = "N") {
    static_assert(std::is_integral_v<Integer>, "whole-number options hold an integer type");
    const std::string option = optionNameForMessages(names);
    return addParsedOption(
        command, names,
        [destination = &target, option, min, max](const std::string& text) {
            *destination = static_cast<Integer>(parseWholeNumber(option, text, min, max));
        },
        description, typeName);
}

template <typename Integer>
CLI::Option* addWholeNumberOption(CLI::App& command, const std::string& names, Integer& target,
                                  const std::string& description,
                                  Integer min = std::numeric_limits<Integer>::min(), const std::string& typeName = "N") {
    return addWholeNumberOption<Integer>(command, names, target, description, static_cast<int64_t>(min),
                                         largestWholeNumber<Integer>(), typeName);
}

template <typename Integer>
CLI::Option* addWholeNumberOption(CLI::App& command, const std::string& names, std::optional<Integer>& target,
                                  const std::string& description,
                                  Integer min = std::numeric_limits<Integer>::min(), const std::string& typeName = "N") {
    return addWholeNumberOption<Integer>(command, names, target, description, static_cast<int64_t>(min),
                                         largestWholeNumber<Integer>(), typeName);
}

// One accepted spelling of a choice; unlisted ones are accepted aliases that help and error
// messages leave out (float32 beside fp32).
template <typename T>
struct Choice {
    std::string name;
    T value;
    bool listed = true;
};

// " (default 5.12)": the default a description mentions, read from the value the option would
// change so the two cannot disagree.
std::string defaultNote(double value);

// "a, b or c" and "a|b|c" of the listed names.
std::string listInWords(const std::vector<std::string>& names);
std::string listAsTypeName(const std::vector<std::string>& names);

template <typename T>
CLI::Option* addChoiceOption(CLI::App& command, const std::string& names, T& target, std::vector<Choice<T>> choices,
                             const std::string& description) {
    std::vector<std::string> listed;
    for (const auto& choice : choices)
        if (choice.listed) listed.push_back(choice.name);
    const std::string option = optionNameForMessages(names);
    const std::string expectation = "takes " + listInWords(listed);
    return addParsedOption(
        command, names,
        [destination = &target, option, expectation, choices](const std::string& text) {
            for (const auto& choice : choices)
                if (choice.name == text) {
                    *destination = choice.value;
                    return;
                }
            rejectValue(option, expectation, text);
        },
        description, listAsTypeName(listed));
}

}  // namespace grym::cli
