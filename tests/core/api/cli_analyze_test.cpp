// `grym-synth-cli analyze` as a user runs it: the command goes through the AudioApi.
#include "audio/audio_file.h"
#include "core/cli/cli_runner.h"
#include "core/measurement_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

using grym::test::CliRun;
using grym::test::runCli;

TEST_CASE("cli analyze reports DSP features as JSON and names files it cannot read", "[api][cli]") {
    const fs::path dir = fs::temp_directory_path() / ("grym-cli-analyze-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    grym::AudioBuffer tone;
    tone.sampleRate = 16000;
    tone.channels = 1;
    for (int i = 0; i < 16000; ++i) tone.samples.push_back(0.3f * static_cast<float>(std::sin(2 * M_PI * 440.0 * i / 16000)));
    const fs::path wav = dir / "tone.wav";
    grym::saveAudioFile(wav.string(), tone);

    const CliRun ok = runCli(dir, "analyze --json '" + wav.string() + "'");
    REQUIRE(ok.exitCode == 0);
    const auto report = nlohmann::json::parse(ok.out);
    CHECK(report["features"]["duration_s"].get<double>() == Approx(1.0));
    CHECK(report["features"]["pitch_hz"].get<double>() == Approx(440.0).epsilon(grym::test::kPitchTolerance));
    CHECK(report["metrics"].contains("analysis_seconds"));

    const CliRun missing = runCli(dir, "analyze '" + wav.string() + "' '" + (dir / "absent.wav").string() + "'");
    CHECK(missing.exitCode == 1);
    CHECK_THAT(missing.out, Catch::Contains("tone.wav"));
    CHECK_THAT(missing.err, Catch::Contains("absent.wav"));

    const CliRun badOption = runCli(dir, "analyze --dtype fp12 '" + wav.string() + "'");
    CHECK(badOption.exitCode == 2);
    CHECK_THAT(badOption.err, Catch::Contains("--dtype takes fp32, fp16 or bf16"));
    fs::remove_all(dir);
}
