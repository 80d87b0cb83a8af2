#pragma once
// The commands of grym-synth-cli. Each adds its subcommand to the command line, with its
// options and the action that runs it (command_line.h); main() adds them all.
namespace grym::cli {

class CommandLine;

void addInfoCommand(CommandLine& commandLine);
void addGoldenCommand(CommandLine& commandLine);
void addAnalyzeCommand(CommandLine& commandLine);
void addGenerateCommand(CommandLine& commandLine);
void addBatchCommand(CommandLine& commandLine);
void addBenchCommand(CommandLine& commandLine);  // and its suites (bench.h)
void addConvertCommand(CommandLine& commandLine);
void addExportCommand(CommandLine& commandLine);
void addModelsCommand(CommandLine& commandLine);  // models pull|list|verify|rm
void addServeCommand(CommandLine& commandLine);
void addMakeRandomModelCommand(CommandLine& commandLine);
void addCompletionCommand(CommandLine& commandLine);

}  // namespace grym::cli
