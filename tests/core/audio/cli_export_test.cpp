// Runs `grym-synth-cli export` as a user would: a trimmed, faded, normalised FLAC from a WAV,
// and one-line errors for bad options and an unwritable destination.
#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "core/cli/cli_runner.h"
#include "loudness_meter.h"
#include "signals.h"

#include <catch2/catch.hpp>

#include <filesystem>

namespace {

grym::AudioBuffer makeTonesInNoise(double seconds, int rate) {
    grym::AudioBuffer audio = grym::test::makeNoise(seconds, rate, 2, 0.05, 3);
    const grym::AudioBuffer tone = grym::test::makeSine(330.0, seconds, rate, 2, 0.2);
    for (size_t i = 0; i < audio.samples.size(); ++i) audio.samples[i] += tone.samples[i];
    return audio;
}

}  // namespace

TEST_CASE("cli export writes a trimmed, faded FLAC at the loudness asked for", "[audio][cli][export]") {
    grym::test::ScratchDir dir("grym_cli_export");
    const auto in = dir.file("source take.wav"), out = dir.file("for the daw.flac");
    grym::saveAudioFile(in, makeTonesInNoise(4.0, 48000));

    const auto run = grym::test::runCli(
        dir.path(), "export '" + in + "' '" + out + "' --trim 0.5:3 --fade-in 0.1 --fade-out 0.5 --normalize -14 --format flac");
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.out, Catch::Contains(out) && Catch::Contains("FLAC 24-bit") && Catch::Contains("2.500 s") &&
                            Catch::Contains("-> -14.0 LUFS"));
    grym::AudioFileInfo info;
    const grym::AudioBuffer written = grym::loadAudioFile(out, {}, &info);
    CHECK(info.container == "FLAC");
    CHECK(written.frames() == 120000);
    CHECK(written.samples[0] == 0.0f);
    CHECK(written.samples[written.samples.size() - 1] == 0.0f);
    CHECK(std::abs(grym::test::measureLufs(written) - (-14.0)) <= 0.1);

    SECTION("the format follows the extension when --format is not given") {
        const auto ogg = dir.file("preview.ogg");
        REQUIRE(grym::test::runCli(dir.path(), "export '" + in + "' '" + ogg + "' --trim :1").exitCode == 0);
        CHECK(grym::probeAudioFile(ogg).container == "OGG");
        CHECK(grym::loadAudioFile(ogg).frames() == 48000);
    }
}

TEST_CASE("cli export refuses bad options and names an unwritable destination", "[audio][cli][export]") {
    grym::test::ScratchDir dir("grym_cli_export_errors");
    const auto in = dir.file("in.wav");
    grym::saveAudioFile(in, grym::test::makeSine(440.0, 1.0, 16000));

    const auto badFormat = grym::test::runCli(dir.path(), "export '" + in + "' out.mp3 --format mp3");
    CHECK(badFormat.exitCode == 2);
    CHECK_THAT(badFormat.err, Catch::Contains("--format takes wav16, wav24, wavf, flac or ogg, got 'mp3'"));
    const auto badTrim = grym::test::runCli(dir.path(), "export '" + in + "' out.wav --trim 3");
    CHECK(badTrim.exitCode == 2);
    CHECK_THAT(badTrim.err, Catch::Contains("--trim expects START:END"));
    const auto noExtension = grym::test::runCli(dir.path(), "export '" + in + "' '" + dir.file("out") + "'");
    CHECK(noExtension.exitCode == 1);
    CHECK_THAT(noExtension.err, Catch::Contains("cannot tell the format"));

    const auto missing = dir.file("gone/out.wav");
    const auto unwritable = grym::test::runCli(dir.path(), "export '" + in + "' '" + missing + "'");
    CHECK(unwritable.exitCode == 1);
    CHECK_THAT(unwritable.err, Catch::StartsWith("grym-synth-cli export: ") && Catch::Contains(missing) && Catch::Contains("does not exist"));
    const auto tooLong = grym::test::runCli(dir.path(), "export '" + in + "' '" + dir.file("o.wav") + "' --trim 0.5:2");
    CHECK(tooLong.exitCode == 1);
    CHECK_THAT(tooLong.err, Catch::Contains("past the clip's end"));
    CHECK_FALSE(std::filesystem::exists(dir.file("o.wav")));
}

TEST_CASE("cli export keeps a generated clip's settings in the file it writes", "[audio][cli][export][provenance]") {
    grym::test::ScratchDir dir("grym_cli_export_settings");
    grym::ClipProvenance settings;
    settings.prompt = "rain on a tin roof";
    settings.seed = 99;
    settings.steps = 25;
    settings.guidance = 3.0;
    settings.scheduler = "dpm++";
    settings.durationSeconds = 2.0;
    settings.sampleRate = 48000;
    settings.modelId = "cvssp/audioldm-s-full-v2";
    settings.device = "cpu";
    settings.precision = "int8";
    settings.version = "0.1.0";
    settings.created = "2026-12-03T12:00:00Z";
    const auto in = dir.file("generated.wav"), out = dir.file("trimmed.ogg");
    grym::saveAudioFile(in, makeTonesInNoise(2.0, 48000),
                        {grym::AudioFileFormat::FromExtension, grym::SampleEncoding::Float32, grym::toAudioMetadata(settings)});
    const auto run = grym::test::runCli(dir.path(), "export '" + in + "' '" + out + "' --trim 0.5:1.5");
    INFO("stdout:\n" << run.out << "stderr:\n" << run.err);
    REQUIRE(run.exitCode == 0);
    const auto back = grym::readProvenance(out);
    REQUIRE(back);
    CHECK(grym::toJson(*back) == grym::toJson(settings));
}
