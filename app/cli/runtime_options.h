#pragma once
// The option loop the sub-commands share: "--name VALUE" options, "--flag" switches and
// positional arguments, with usage errors that name the option; and --device / --dtype for the
// commands that run a torch model.
#include "cli/commands.h"

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "orchestration/model_service.h"

namespace grym {
struct Wav2vec2RuntimeOptions;
}

namespace grym::cli {

// A bad command line: the command prints it with its usage and exits with status 2.
class UsageError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct OptionSpec {
    std::set<std::string> valueOptions;  // take the next argument as their value
    std::set<std::string> flagOptions;   // take no value
    bool positionals = false;            // whether non-option arguments are allowed
};

class CliOptions {
public:
    bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
    std::string text(const std::string& name, const std::string& fallback = "") const;
    // Throw UsageError naming the option when its value is not a number.
    double number(const std::string& name, double fallback) const;
    int integer(const std::string& name, int fallback) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

private:
    friend CliOptions parseOptions(const Args& args, const OptionSpec& spec);
    std::map<std::string, std::string> values_;  // the last occurrence wins
    std::set<std::string> flags_;
    std::vector<std::string> positionals_;
};

// Throws UsageError for an unknown option, a missing value or an unexpected positional.
CliOptions parseOptions(const Args& args, const OptionSpec& spec);

// The option names parseRuntimeOptions reads, to add to an OptionSpec's valueOptions.
std::set<std::string> runtimeOptionNames();
// --device cpu|cuda[:N] and --dtype fp32|fp16|bf16 (or float32|float16|bfloat16).
void parseRuntimeOptions(const CliOptions& options, Wav2vec2RuntimeOptions& runtime);

// --precision fp32|fp16|bf16|int8|int4 for the generation commands; throws UsageError otherwise.
Precision parsePrecisionName(const std::string& name);

}  // namespace grym::cli
