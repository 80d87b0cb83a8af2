// grym-synth-cli's command line as a user meets it: generated help for every command, one
// usage-error style (status 2, the option and the value named, a hint to run --help), and the
// bash completion script. The commands are discovered from the program's own help, so a new
// command is covered without editing this file.
#include "core/cli/cli_runner.h"
#include "core/test_files.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A scratch folder that runs the program with its output kept there.
class CliScratch : public grym::test::ScratchFolder {
public:
    grym::test::CliRun run(const std::string& arguments) const { return grym::test::runCli(path(), arguments); }
};

// The names listed under "Subcommands:" in a help text.
std::vector<std::string> subcommandsIn(const std::string& help) {
    std::vector<std::string> names;
    std::istringstream lines(help);
    bool inList = false;
    for (std::string line; std::getline(lines, line);) {
        if (line == "Subcommands:") {
            inList = true;
            continue;
        }
        if (!inList) continue;
        if (line.empty() || line[0] != ' ') break;
        std::istringstream words(line);
        std::string name;
        words >> name;
        names.push_back(name);
    }
    return names;
}

// Every command path ("info", "bench quantization", ...) below `path`, found through --help.
void discoverCommands(const CliScratch& scratch, const std::string& path, std::vector<std::string>& out) {
    const auto help = scratch.run(path + " --help");
    REQUIRE(help.exitCode == 0);
    for (const auto& name : subcommandsIn(help.out)) {
        const std::string child = path.empty() ? name : path + " " + name;
        out.push_back(child);
        discoverCommands(scratch, child, out);
    }
}

// Discovered once: every test case walks the same program.
const std::vector<std::string>& allCommands(const CliScratch& scratch) {
    static const std::vector<std::string> commands = [&] {
        std::vector<std::string> found;
        discoverCommands(scratch, "", found);
        return found;
    }();
    return commands;
}

int countLines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("every command's --help exits 0 with its generated help on stdout", "[cli]") {
    const CliScratch scratch;
    const auto& commands = allCommands(scratch);
    // The discovery must find the commands the program is known to have, or the checks below
    // would pass on nothing.
    for (const char* known : {"info", "golden", "analyze", "generate", "batch", "bench", "bench service",
                              "bench wav2vec2", "bench audioldm", "bench quantization", "convert", "serve",
                              "make-random-model", "completion"})
        CHECK(std::find(commands.begin(), commands.end(), known) != commands.end());

    const auto top = scratch.run("--help");
    CHECK(top.exitCode == 0);
    CHECK_THAT(top.out, Catch::StartsWith(std::string("grym-synth-cli ") + GRYM_VERSION) &&
                            Catch::Contains("Usage: grym-synth-cli"));
    for (const auto& command : commands) {
        for (const char* flag : {"--help", "-h"}) {
            INFO(command << " " << flag);
            const auto help = scratch.run(command + " " + flag);
            CHECK(help.exitCode == 0);
            CHECK(help.err.empty());
            CHECK_THAT(help.out, Catch::Contains("Usage: grym-synth-cli " + command + " ") &&
                                     Catch::Contains("-h,--help"));
        }
    }
}

TEST_CASE("a bad option value exits 2 with one line naming the option and the value, and a hint", "[cli]") {
    const CliScratch scratch;
    struct BadValue {
        const char* command;
        const char* arguments;
        const char* expected;  // the message part naming the option and what it takes
        const char* value;
    };
    // One per command. info and convert have switches only, given a value here; models takes only
    // its subcommands, so the unknown-option test covers it.
    const std::vector<BadValue> cases = {
        {"info", "--json=maybe a.wav", "--json is a switch", "maybe"},
        {"golden", "--dtype fp12 case", "--dtype takes fp32, fp16 or bf16", "fp12"},
        {"convert", "--force=always model", "--force is a switch", "always"},
        {"analyze", "--dtype fp12 a.wav", "--dtype takes fp32, fp16 or bf16", "fp12"},
        {"analyze", "--window soon a.wav", "--window expects a number", "soon"},
        {"analyze", "--device tpu a.wav", "--device takes cpu, cuda or cuda:N", "tpu"},
        {"generate", "rain -o x.wav --model m --steps zero", "--steps expects a number", "zero"},
        {"generate", "rain -o x.wav --model m --steps 2.5", "--steps expects a whole number", "2.5"},
        {"generate", "rain -o x.wav --model m --precision fp8", "--precision takes fp32, fp16, bf16, int8 or int4",
         "fp8"},
        {"generate", "rain -o x.wav --model m --device tpu", "--device takes cpu or cuda", "tpu"},
        {"generate", "rain -o x.wav --model m --bits 12", "--bits takes 16, 24 or 32", "12"},
        {"batch", "m.jsonl --out o --format mp3", "--format takes flac or wav", "mp3"},
        {"batch", "m.jsonl --out o --shard 3/3", "--shard takes I/N with 0 <= I < N", "3/3"},
        {"bench", "--iterations 0", "--iterations expects a whole number of at least 1", "0"},
        {"bench service", "--service nothing", "--service takes audioldm or procedural-synth", "nothing"},
        {"bench wav2vec2", "--config c --threads 0", "--threads expects a whole number of at least 1", "0"},
        {"bench wav2vec2", "--config c --dtype fp12", "--dtype takes fp32, fp16 or bf16", "fp12"},
        {"bench audioldm", "--model m --steps 10,x", "--steps takes whole numbers separated by commas", "10,x"},
        {"bench audioldm", "--model m --precision fp8", "--precision takes fp32, fp16, bf16, int8 or int4", "fp8"},
        {"bench quantization", "unet --level int3", "--level takes none, int8 or int4", "int3"},
        {"bench peak", "--threads 0", "--threads expects a whole number of at least 1", "0"},
        {"export", "a.wav b.wav --fade-in soon", "--fade-in expects a number", "soon"},
        {"export", "a.wav b.wav --format mp3", "--format takes wav16, wav24, wavf, flac or ogg", "mp3"},
        {"serve", "--port 70000", "--port expects a whole number of at most 65535", "70000"},
        {"make-random-model", "configs out --seed -1", "--seed expects a whole number of at least 0", "-1"},
        {"completion", "zsh", "SHELL takes bash", "zsh"},
        {"models pull", "org/name --revision ../main", "--revision takes a branch, tag or commit name", "../main"},
        {"models pull", "../etc", "REPO takes a Hugging Face repo id, ORG/NAME", "../etc"},
        {"models list", "--json=maybe", "--json is a switch", "maybe"},
        {"models verify", "a/b/c", "REPO takes a Hugging Face repo id, ORG/NAME", "a/b/c"},
        {"models rm", "'org/'", "REPO takes a Hugging Face repo id, ORG/NAME", "org/"},
    };
    std::vector<std::string> covered;
    for (const auto& c : cases) {
        INFO(c.command << " " << c.arguments);
        const auto run = scratch.run(std::string(c.command) + " " + c.arguments);
        CHECK(run.exitCode == 2);
        CHECK(run.out.empty());
        CHECK(countLines(run.err) == 2);
        CHECK_THAT(run.err, Catch::StartsWith("grym-synth-cli " + std::string(c.command) + ": ") &&
                                Catch::Contains(c.expected) && Catch::Contains(std::string("'") + c.value + "'") &&
                                Catch::Contains("Run 'grym-synth-cli " + std::string(c.command) + " --help'"));
        covered.push_back(c.command);
    }
    for (const auto& command : allCommands(scratch)) {
        INFO(command);
        if (command != "models") CHECK(std::find(covered.begin(), covered.end(), command) != covered.end());
    }
}

TEST_CASE("an unknown option or command exits 2 naming it", "[cli]") {
    const CliScratch scratch;
    for (const auto& command : allCommands(scratch)) {
        INFO(command);
        const auto run = scratch.run(command + " --no-such-option");
        CHECK(run.exitCode == 2);
        CHECK(run.out.empty());
        CHECK_THAT(run.err, Catch::StartsWith("grym-synth-cli " + command + ": unknown option '--no-such-option'"));
    }
    const auto unknown = scratch.run("frobnicate");
    CHECK(unknown.exitCode == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'") &&
                                Catch::Contains("Run 'grym-synth-cli --help'"));

    const auto missing = scratch.run("generate rain --model m");
    CHECK(missing.exitCode == 2);
    CHECK_THAT(missing.err, Catch::Contains("--output is required"));
    const auto excluded = scratch.run("generate rain -o x.wav --model m --input a.wav --latents l.safetensors");
    CHECK(excluded.exitCode == 2);
    CHECK_THAT(excluded.err, Catch::Contains("--input") && Catch::Contains("--latents"));

    const auto bare = scratch.run("");
    CHECK(bare.exitCode == 2);
    CHECK_THAT(bare.err, Catch::Contains("Usage: grym-synth-cli"));
    const auto version = scratch.run("--version");
    CHECK(version.exitCode == 0);
    CHECK(version.out == std::string("grym-synth-cli ") + GRYM_VERSION + "\n");
}

TEST_CASE("the bash completion script knows every command and completes with it", "[cli]") {
    const CliScratch scratch;
    const auto script = scratch.run("completion bash");
    REQUIRE(script.exitCode == 0);
    CHECK(script.err.empty());
    CHECK_THAT(script.out, Catch::Contains("complete -o filenames -F _grym_synth_cli grym-synth-cli"));
    for (const auto& command : allCommands(scratch)) {
        std::string key = "grym-synth-cli/" + command;
        std::replace(key.begin(), key.end(), ' ', '/');
        INFO(key);
        CHECK_THAT(script.out, Catch::Contains(key + ")"));
    }

    if (std::system("command -v bash >/dev/null 2>&1") != 0) {
        WARN("bash is not installed; the completion script is not run");
        return;
    }
    const auto scriptFile = scratch.path() / "grym-synth-cli.bash";
    std::ofstream(scriptFile) << script.out;
    // Completes as bash would after "grym-synth-cli bench q", "... generate x --scheduler "
    // and "... analyze --dt".
    const auto probe = scratch.path() / "probe.sh";
    std::ofstream(probe) << "source '" << scriptFile.string() << "'\n"
                         << "complete_line() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                            "COMPREPLY=(); _grym_synth_cli; echo \"${COMPREPLY[*]}\"; }\n"
                            "complete_line grym-synth-cli bench q\n"
                            "complete_line grym-synth-cli generate x --scheduler ''\n"
                            "complete_line grym-synth-cli analyze --dt\n";
    const std::string command = "bash '" + probe.string() + "' > '" + (scratch.path() / "completions.txt").string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    CHECK(grym::test::readWholeFile(scratch.path() / "completions.txt") == "quantization\nddim dpm++\n--dtype\n");
}
