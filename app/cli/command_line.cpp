#include "cli/command_line.h"

#include <iostream>
#include <regex>

namespace grym::cli {

namespace {

constexpr const char* kProgram = "grym-synth-cli";

// The command named last on the line: the one that runs, or whose help or error is shown.
const CLI::App& chosenCommand(const CLI::App& program) {
    const CLI::App* command = &program;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().back();
    return *command;
}

// One line naming the option and the value. Our own options already throw such a sentence
// (typed_options.h); CLI11's own errors are reworded where their text does not say it plainly.
std::string describeError(const CLI::App& program, const CLI::App& command, const CLI::ParseError& error) {
    const std::string text = error.what();
    // A word the parser did not take explains an extra and often a missing one ("grym-synth-cli
    // frob" is missing its command because frob is none).
    const auto left = program.remaining(true);
    if (!left.empty() && (dynamic_cast<const CLI::ExtrasError*>(&error) || dynamic_cast<const CLI::RequiredError*>(&error))) {
        const std::string& first = left.front();
        if (!first.empty() && first[0] == '-') return "unknown option '" + first + "'";
        if (&command == &program) return "unknown command '" + first + "'";
        return "unexpected argument '" + first + "'";
    }
    std::smatch match;
    // "--steps: 1 required N missing": the option came last or was followed by another option.
    static const std::regex missingValue(R"(^(\S+): \d+ required .* missing$)");
    if (std::regex_match(text, match, missingValue)) return match[1].str() + " needs a value";
    // "Could not convert: --json = maybe": a value given to a switch.
    static const std::regex notConverted(R"(^Could not convert: (\S+) = (.*)$)");
    if (std::regex_match(text, match, notConverted))
        return match[1].str() + " is a switch (true or false), got '" + match[2].str() + "'";
    return text;
}

}  // namespace

std::string commandPath(const CLI::App& command) {
    std::string path = command.get_name();
    for (const CLI::App* parent = command.get_parent(); parent; parent = parent->get_parent())
        path = parent->get_name() + " " + path;
    return path;
}

CommandLine::CommandLine() : program_(std::string(kProgram) + " " + GRYM_VERSION + " - local generative audio", kProgram) {
    program_.set_version_flag("--version", std::string(kProgram) + " " + GRYM_VERSION, "print the version and exit");
    program_.set_help_flag("-h,--help", "print this help and exit");
    program_.require_subcommand(1);
    // As every parser before CLI11 did: a repeated option keeps its last value.
    program_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    program_.get_formatter()->column_width(38);
    program_.footer(std::string("Run '") + kProgram + " COMMAND --help' for the options of a command.");
}

CLI::App& CommandLine::addCommand(CLI::App& parent, const std::string& name, const std::string& description,
                                  CommandAction action) {
    CLI::App* command = parent.add_subcommand(name, description);
    command->footer("");  // CLI11 hands the program's footer down; it speaks of COMMAND, not of options
    actions_[command] = std::move(action);
    return *command;
}

int CommandLine::run(int argc, const char* const* argv) {
    if (argc < 2) {
        std::cerr << program_.help();
        return 2;
    }
    try {
        program_.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << program_.help();  // CLI11 hands this on to the command that was named
        return 0;
    } catch (const CLI::CallForVersion& version) {
        std::cout << version.what() << "\n";
        return 0;
    } catch (const CLI::ParseError& error) {
        const CLI::App& command = chosenCommand(program_);
        std::cerr << commandPath(command) << ": " << describeError(program_, command, error) << "\n"
                  << "Run '" << commandPath(command) << " --help' for "
                  << (&command == &program_ ? "the commands" : "its options") << ".\n";
        return 2;
    }
    const CLI::App& command = chosenCommand(program_);
    const auto action = actions_.find(&command);
    if (action == actions_.end() || !action->second) {
        std::cerr << program_.help();
        return 2;
    }
    try {
        return action->second();
    } catch (const std::exception& e) {
        std::cerr << commandPath(command) << ": " << e.what() << "\n";
        return 1;
    }
}

}  // namespace grym::cli
