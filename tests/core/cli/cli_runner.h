#pragma once
// Runs the built grym-synth-cli (GRYM_CLI_PATH) as a user would, through the shell, and keeps
// its exit status, standard output and standard error apart.
#include "core/test_files.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace grym::test {

struct CliRun {
    int exitCode = -1;  // -1: killed by a signal
    std::string out, err;
};

// `arguments` is shell text after the program name (quote paths yourself); the output passes
// through two files in `scratchDir`.
inline CliRun runCli(const std::filesystem::path& scratchDir, const std::string& arguments) {
    const auto out = scratchDir / "stdout.txt", err = scratchDir / "stderr.txt";
    const std::string command =
        std::string("'") + GRYM_CLI_PATH + "' " + arguments + " >'" + out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, readWholeFile(out), readWholeFile(err)};
}

}  // namespace grym::test
