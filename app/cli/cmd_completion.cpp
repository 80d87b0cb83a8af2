// `grym-synth-cli completion bash`: prints the shell completion script (bash_completion.h).
#include "cli/bash_completion.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/typed_options.h"

#include <iostream>
#include <memory>

namespace grym::cli {

void addCompletionCommand(CommandLine& commandLine) {
    const CLI::App& program = commandLine.program();
    auto [command, shell] = commandLine.addCommand<std::string>(
        commandLine.program(), "completion",
        "print the bash completion script",
        [program = &program](const std::string&) {  // bash is the one shell SHELL accepts
            std::cout << bashCompletionScript(*program);
            return 0;
        });
    addChoiceOption<std::string>(command, "SHELL", shell, {{"bash", "bash"}}, "the shell to complete for")->required();
    command.footer("Source the output, or install it as share/bash-completion/completions/grym-synth-cli.");
}

}  // namespace grym::cli
