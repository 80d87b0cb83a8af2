#pragma once
// `grym-synth-cli completion bash`: a bash completion script written from the program's own
// CLI::App, so it lists exactly the commands and options the parser accepts and never drifts
// from them. Packaging installs its output as share/bash-completion/completions/grym-synth-cli.
#include <CLI/CLI.hpp>

#include <string>

namespace grym::cli {

std::string bashCompletionScript(const CLI::App& program);

}  // namespace grym::cli
