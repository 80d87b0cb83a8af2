#pragma once
// grym-synth-cli's one command-line parser: a CLI::App with a subcommand per command (and a
// subcommand per bench suite). Each command adds its subcommand, its options bound to state it
// owns, and the action to run once the whole line has parsed. run() then prints the generated
// help (stdout, status 0), or one usage error naming the option and the value with a hint to
// run --help (stderr, status 2), or runs the command that was named last.
#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace grym::cli {

// What a command does once its options are parsed. Returns the exit status (0 success,
// 1 failure); a std::exception it throws is reported as "grym-synth-cli COMMAND: message", status 1.
using CommandAction = std::function<int()>;

class CommandLine {
public:
    CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    CLI::App& program() { return program_; }
    const CLI::App& program() const { return program_; }

    // Adds the command `name` under `parent` (the program or another command).
    CLI::App& addCommand(CLI::App& parent, const std::string& name, const std::string& description,
                         CommandAction action);

    template <typename Options>
    struct AddedCommand {
        CLI::App& command;
        Options& options;  // bind the command's options to its fields
    };
    // The same for a command whose options fill an `Options` value that `run` then receives.
    template <typename Options, typename Run>
    AddedCommand<Options> addCommand(CLI::App& parent, const std::string& name, const std::string& description,
                                     Run run) {
        auto options = std::make_shared<Options>();
        CLI::App& command = addCommand(parent, name, description, [options, run] { return run(*options); });
        return {command, *options};
    }

    int run(int argc, const char* const* argv);

private:
    CLI::App program_;
    std::map<const CLI::App*, CommandAction> actions_;
};

// "grym-synth-cli bench quantization" for that subcommand.
std::string commandPath(const CLI::App& command);

}  // namespace grym::cli
