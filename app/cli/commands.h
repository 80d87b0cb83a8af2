#pragma once
// Sub-commands of grym-synth-cli. Each takes the arguments after its name and returns
// the process exit code (0 success, 1 failure, 2 usage error).
#include <string>
#include <vector>

namespace grym::cli {

using Args = std::vector<std::string>;

int runInfo(const Args& args);
int runGolden(const Args& args);
int runAnalyze(const Args& args);
int runGenerate(const Args& args);
int runBench(const Args& args);
int runServe(const Args& args);
int runMakeRandomModel(const Args& args);
int runBenchQuantization(const Args& args);
int runConvert(const Args& args);

}  // namespace grym::cli
