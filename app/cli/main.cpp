// grym-synth-cli: the headless entry point.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "models/cpu_threads.h"

int main(int argc, char** argv) {
    grym::useOneCpuThreadPool();  // before any model runs (models/cpu_threads.h says why)
    grym::cli::CommandLine commandLine;
    grym::cli::addInfoCommand(commandLine);
    grym::cli::addGoldenCommand(commandLine);
    grym::cli::addAnalyzeCommand(commandLine);
    grym::cli::addGenerateCommand(commandLine);
    grym::cli::addBatchCommand(commandLine);
    grym::cli::addBenchCommand(commandLine);
    grym::cli::addConvertCommand(commandLine);
    grym::cli::addExportCommand(commandLine);
    grym::cli::addModelsCommand(commandLine);
    grym::cli::addServeCommand(commandLine);
    grym::cli::addMakeRandomModelCommand(commandLine);
    grym::cli::addCompletionCommand(commandLine);
    return commandLine.run(argc, argv);
}
