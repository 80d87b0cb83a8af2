// Runs `grym-synth-cli info` as a user would, on files made by sox.
#include "core/cli/cli_runner.h"
#include "signals.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

namespace {

bool haveSox() { return std::system("command -v sox >/dev/null 2>&1") == 0; }

grym::test::CliRun runCli(const grym::test::ScratchDir& dir, const std::string& arguments) {
    return grym::test::runCli(dir.path(), arguments);
}

int countLines(const std::string& text) {
    int lines = 0;
    for (char c : text) lines += c == '\n';
    return lines;
}

}  // namespace

TEST_CASE("cli info reports sox-made WAV, FLAC and OGG files and one line for a corrupt file", "[audio][cli]") {
    if (!haveSox()) {
        WARN("sox is not installed; skipping the CLI info test");
        return;
    }
    grym::test::ScratchDir dir("grym_cli_info");
    const auto wav = dir.file("tone.wav"), flac = dir.file("tone.flac"), ogg = dir.file("tone.ogg");
    const auto corrupt = dir.file("corrupt.wav");
    REQUIRE(std::system(("sox -n -r 44100 -c 2 -b 16 '" + wav + "' synth 1.5 sine 440 vol 0.5").c_str()) == 0);
    REQUIRE(std::system(("sox -n -r 48000 -c 1 -b 24 '" + flac + "' synth 2 sine 1000 vol 0.25").c_str()) == 0);
    REQUIRE(std::system(("sox -n -r 22050 -c 1 '" + ogg + "' synth 1 sine 300 vol 0.5").c_str()) == 0);
    {  // a real WAV header cut off inside its fmt chunk
        std::ifstream in(wav, std::ios::binary);
        std::string head(30, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        std::ofstream(corrupt, std::ios::binary) << head;
    }

    const auto result = runCli(dir, "info '" + wav + "' '" + corrupt + "' '" + flac + "' '" + ogg + "'");
    INFO("stdout:\n" << result.out << "stderr:\n" << result.err);
    CHECK(result.exitCode == 1);
    CHECK(countLines(result.err) == 1);
    CHECK_THAT(result.err, Catch::Contains(corrupt));

    CHECK_THAT(result.out, Catch::Contains(wav) && Catch::Contains("WAV, PCM 16-bit") && Catch::Contains("channels: 2") &&
                               Catch::Contains("44100 Hz") && Catch::Contains("1.500 s"));
    CHECK_THAT(result.out, Catch::Contains(flac) && Catch::Contains("FLAC, PCM 24-bit") && Catch::Contains("48000 Hz") &&
                               Catch::Contains("2.000 s"));
    CHECK_THAT(result.out, Catch::Contains(ogg) && Catch::Contains("OGG, Vorbis") && Catch::Contains("22050 Hz"));
    // sox's "vol 0.5" gives a 0.5 peak: -6.02 dBFS, and RMS 3 dB below it.
    CHECK_THAT(result.out, Catch::Contains("peak:     0.5000 (-6.02 dBFS)") && Catch::Contains("(-9.03 dBFS)"));
    CHECK_THAT(result.out, Catch::Contains("(-12.04 dBFS)"));  // the FLAC's 0.25 peak
    CHECK_FALSE(result.out.find(corrupt) != std::string::npos);
}

TEST_CASE("cli info --json gives one object per file and an error entry for a bad one", "[audio][cli]") {
    grym::test::ScratchDir dir("grym_cli_info");
    const auto missing = dir.file("missing.wav");
    const auto result = runCli(dir, "info --json '" + missing + "'");
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.out, Catch::Contains("\"error\"") && Catch::Contains("no such file"));
    CHECK(runCli(dir, "info").exitCode == 2);
}
