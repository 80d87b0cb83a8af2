// Export for other tools: trim, fades, loudness normalisation, the five formats, the errors.
#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "audio/clip_export.h"
#include "audio/loudness_normalise.h"
#include "common/error.h"
#include "loudness_meter.h"
#include "signals.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

using namespace grym;
using grym::test::measureLufs;
using grym::test::ScratchDir;

namespace {

// A two-tone stereo clip with some noise: broadband enough that Vorbis keeps its loudness.
AudioBuffer makeMusicLike(double seconds, int sampleRate, double amplitude) {
    AudioBuffer audio = test::makeNoise(seconds, sampleRate, 2, amplitude * 0.3, 11);
    const AudioBuffer low = test::makeSine(220.0, seconds, sampleRate, 2, amplitude * 0.5);
    const AudioBuffer high = test::makeSine(1760.0, seconds, sampleRate, 2, amplitude * 0.2);
    for (size_t i = 0; i < audio.samples.size(); ++i) audio.samples[i] += low.samples[i] + high.samples[i];
    return audio;
}

AudioBuffer makeConstant(double seconds, int sampleRate, float value) {
    AudioBuffer audio = test::makeSilence(seconds, sampleRate, 1);
    for (float& v : audio.samples) v = value;
    return audio;
}

std::string shellOutput(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    std::string out;
    if (!pipe) return out;
    std::array<char, 256> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe.get())) out += buffer.data();
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

bool haveSoxi() { return std::system("command -v soxi >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("export trims to exactly the frames of the range and keeps them unchanged", "[audio][export]") {
    ScratchDir dir("grym_export_trim");
    const AudioBuffer clip = test::makeNoise(4.0, 48000, 2, 0.5);
    ExportOptions options;
    options.format = ExportFormat::WavFloat;
    options.trimStartSeconds = 0.5;
    options.trimEndSeconds = 3.0;
    const auto path = dir.file("trimmed.wav");
    const ExportResult result = exportClip(clip, path, options);
    CHECK(result.frames == 120000);

    const AudioBuffer decoded = loadAudioFile(path);
    REQUIRE(decoded.frames() == 120000);
    REQUIRE(decoded.channels == 2);
    const size_t offset = 24000 * 2;
    size_t mismatches = 0;
    for (size_t i = 0; i < decoded.samples.size(); ++i) mismatches += decoded.samples[i] != clip.samples[offset + i];
    CHECK(mismatches == 0);

    SECTION("an open-ended trim runs to the clip's end") {
        options.trimStartSeconds = 1.25;
        options.trimEndSeconds.reset();
        CHECK(exportClip(clip, path, options).frames == 4 * 48000 - 60000);
        CHECK(loadAudioFile(path).frames() == 4 * 48000 - 60000);
    }
}

TEST_CASE("export fades rise linearly from silence and fall linearly to silence", "[audio][export]") {
    ScratchDir dir("grym_export_fades");
    const int rate = 8000;
    const AudioBuffer clip = makeConstant(2.0, rate, 0.5f);
    ExportOptions options;
    options.format = ExportFormat::WavFloat;
    options.fadeInSeconds = 0.1;   // 800 frames
    options.fadeOutSeconds = 0.5;  // 4000 frames
    const auto path = dir.file("faded.wav");
    exportClip(clip, path, options);
    const AudioBuffer out = loadAudioFile(path);
    REQUIRE(out.frames() == 2 * rate);
    const int64_t in = 800, fadeOut = 4000, total = out.frames();

    CHECK(out.samples[0] == 0.0f);
    CHECK(out.samples[total - 1] == 0.0f);
    CHECK(out.samples[in / 2] == Approx(0.25).margin(1e-6));
    CHECK(out.samples[in] == 0.5f);
    CHECK(out.samples[total - fadeOut - 1] == 0.5f);
    CHECK(out.samples[total - 1 - fadeOut / 2] == Approx(0.25).margin(1e-6));
    // A linear ramp from 0 to a has an RMS of a / sqrt(3); the middle keeps the full level.
    CHECK(test::rmsOf(out, 0, in) == Approx(0.5 / std::sqrt(3.0)).epsilon(2e-3));
    CHECK(test::rmsOf(out, total - fadeOut, total) == Approx(0.5 / std::sqrt(3.0)).epsilon(2e-3));
    CHECK(test::rmsOf(out, in, total - fadeOut) == Approx(0.5).epsilon(1e-6));
    for (int64_t f = 1; f < in; ++f) REQUIRE(out.samples[f] > out.samples[f - 1]);
    for (int64_t f = total - fadeOut; f < total; ++f) REQUIRE(out.samples[f] < out.samples[f - 1]);
}

TEST_CASE("loudness normalisation meets the target within 0.1 LU in every format, as libebur128 measures the file",
          "[audio][export][loudness]") {
    ScratchDir dir("grym_export_loudness");
    const AudioBuffer clip = makeMusicLike(3.0, 44100, 0.2);
    const double before = measureLufs(clip);
    REQUIRE(std::isfinite(before));
    CHECK(integratedLoudnessLufs(clip) == Approx(before).margin(1e-9));

    struct Case {
        ExportFormat format;
        const char* name;
        double target;
    };
    // -14 LUFS pushes this clip's peaks past full scale: only a float file keeps them.
    for (const Case& c : {Case{ExportFormat::WavFloat, "a.wav", -14.0}, Case{ExportFormat::Wav16, "b.wav", -23.0},
                          Case{ExportFormat::Wav24, "c.wav", -20.0}, Case{ExportFormat::Flac, "d.flac", -18.0},
                          Case{ExportFormat::OggVorbis, "e.ogg", -23.0}}) {
        ExportOptions options;
        options.format = c.format;
        options.normaliseLufs = c.target;
        const auto path = dir.file(c.name);
        const ExportResult result = exportClip(clip, path, options);
        INFO(toString(c.format) << " to " << c.target << " LUFS, peak " << result.peak);
        REQUIRE(result.loudnessBeforeLufs);
        CHECK(*result.loudnessBeforeLufs == Approx(before).margin(1e-9));
        CHECK(result.gainDb == Approx(c.target - before).margin(1e-9));
        CHECK_FALSE(result.clipped());
        // The normalised audio meets the target; the lossless files keep it, Vorbis within its
        // coding error (measured about 0.11 LU on this clip).
        CHECK(std::abs(measureLufs(renderExport(clip, options, path)) - c.target) <= 0.1);
        const double codecTolerance = c.format == ExportFormat::OggVorbis ? 0.3 : 0.1;
        CHECK(std::abs(measureLufs(loadAudioFile(path)) - c.target) <= codecTolerance);
    }
}

TEST_CASE("each export format decodes with the header that soxi reports", "[audio][export][sox]") {
    if (!haveSoxi()) {
        WARN("soxi is not installed; skipping the header check");
        return;
    }
    ScratchDir dir("grym_export_formats");
    const AudioBuffer clip = makeMusicLike(1.5, 48000, 0.3);
    struct Case {
        ExportFormat format;
        const char* name;
        const char* soxType;
        const char* soxEncoding;
        const char* soxBits;
        const char* container;
        const char* encoding;
    };
    for (const Case& c : {Case{ExportFormat::Wav16, "x16.wav", "wav", "Signed Integer PCM", "16", "WAV", "PCM 16-bit"},
                          Case{ExportFormat::Wav24, "x24.wav", "wav", "Signed Integer PCM", "24", "WAV", "PCM 24-bit"},
                          Case{ExportFormat::WavFloat, "xf.wav", "wav", "Floating Point PCM", "32", "WAV", "float 32-bit"},
                          Case{ExportFormat::Flac, "x.flac", "flac", "FLAC", "24", "FLAC", "PCM 24-bit"},
                          Case{ExportFormat::OggVorbis, "x.ogg", "vorbis", "Vorbis", "0", "OGG", "Vorbis"}}) {
        ExportOptions options;
        options.format = c.format;
        const auto path = dir.file(c.name);
        exportClip(clip, path, options);
        INFO(c.name);
        const std::string quoted = " '" + path + "' 2>/dev/null";
        CHECK(shellOutput("soxi -t" + quoted) == c.soxType);
        CHECK(shellOutput("soxi -e" + quoted) == c.soxEncoding);
        CHECK(shellOutput("soxi -b" + quoted) == c.soxBits);
        CHECK(shellOutput("soxi -r" + quoted) == "48000");
        CHECK(shellOutput("soxi -c" + quoted) == "2");
        CHECK(shellOutput("soxi -s" + quoted) == "72000");

        AudioFileInfo info;
        const AudioBuffer decoded = loadAudioFile(path, {}, &info);
        CHECK(info.container == c.container);
        CHECK(info.encoding == c.encoding);
        CHECK(decoded.frames() == 72000);
        CHECK(decoded.sampleRate == 48000);
    }
}

TEST_CASE("export refuses settings that do not fit the clip, naming the file and the setting", "[audio][export]") {
    ScratchDir dir("grym_export_errors");
    const AudioBuffer clip = test::makeSine(440.0, 2.0, 16000, 1, 0.5);
    const auto path = dir.file("out.wav");
    auto refusal = [&](const ExportOptions& options, const std::string& where = "") {
        const std::string target = where.empty() ? path : where;
        try {
            exportClip(clip, target, options);
        } catch (const AudioError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    ExportOptions options;
    options.trimStartSeconds = 2.5;
    CHECK_THAT(refusal(options), Catch::StartsWith(path) && Catch::Contains("trim start 2.5 s"));
    options = {};
    options.trimStartSeconds = 1.0;
    options.trimEndSeconds = 0.5;
    CHECK_THAT(refusal(options), Catch::Contains("trim end 0.5 s is not after trim start 1 s"));
    options = {};
    options.trimEndSeconds = 3.0;
    CHECK_THAT(refusal(options), Catch::Contains("past the clip's end"));
    options = {};
    options.fadeInSeconds = -0.1;
    CHECK_THAT(refusal(options), Catch::Contains("fade-in -0.1 s"));
    options = {};
    options.fadeInSeconds = 1.5;
    options.fadeOutSeconds = 1.0;
    CHECK_THAT(refusal(options), Catch::Contains("longer than the exported 2 s"));
    options = {};
    options.normaliseLufs = 5.0;
    CHECK_THAT(refusal(options), Catch::Contains("target loudness 5") && Catch::Contains("-70..0 LUFS"));
    options = {};
    options.format = ExportFormat::Flac;
    CHECK_THAT(refusal(options), Catch::Contains("format flac") && Catch::Contains("writes .flac files"));
    CHECK_FALSE(std::filesystem::exists(path));

    SECTION("silence has no loudness to normalise") {
        ExportOptions normalise;
        normalise.normaliseLufs = -14.0;
        const AudioBuffer silence = test::makeSilence(1.0, 16000);
        CHECK_THROWS_WITH(exportClip(silence, path, normalise), Catch::StartsWith(path) && Catch::Contains("silent"));
    }
    SECTION("a missing or unwritable folder is named, and an existing file survives a failed export") {
        const auto missing = dir.file("no such folder/out.wav");
        CHECK_THAT(refusal({}, missing), Catch::Contains(missing) && Catch::Contains("does not exist"));
        const auto blocker = dir.file("plain file");
        std::ofstream(blocker) << "x";
        CHECK_THAT(refusal({}, blocker + "/out.wav"), Catch::Contains("is not a folder"));
        if (geteuid() != 0) {  // root writes anywhere
            const auto locked = dir.path() / "locked";
            std::filesystem::create_directory(locked);
            chmod(locked.c_str(), 0500);
            const std::string lockedFile = (locked / "out.wav").string();
            CHECK_THAT(refusal({}, lockedFile), Catch::Contains(lockedFile) && Catch::Contains("cannot save"));
            chmod(locked.c_str(), 0700);
        }
        exportClip(clip, path, {});
        const auto size = std::filesystem::file_size(path);
        ExportOptions bad;
        bad.fadeOutSeconds = 9.0;
        CHECK_THROWS_AS(exportClip(clip, path, bad), AudioError);
        CHECK(std::filesystem::file_size(path) == size);
        CHECK(loadAudioFile(path).frames() == clip.frames());
    }
}

TEST_CASE("export format names and extensions round-trip", "[audio][export]") {
    for (ExportFormat format : allExportFormats()) {
        CHECK(parseExportFormat(toString(format)) == format);
        CHECK(exportFormatForPath(std::string("clip") + fileExtension(format)).has_value());
    }
    CHECK_FALSE(parseExportFormat("mp3"));
    CHECK(exportFormatForPath("Take 1.WAV") == ExportFormat::Wav24);
    CHECK(exportFormatForPath("a.oga") == ExportFormat::OggVorbis);
    CHECK_FALSE(exportFormatForPath("a.mp3"));
}

TEST_CASE("an export in memory is the file exportClip writes, with the clip's metadata", "[audio][export]") {
    ScratchDir dir("grym_export_bytes");
    const AudioBuffer clip = makeMusicLike(1.0, 44100, 0.3);
    for (ExportFormat format : allExportFormats()) {
        CAPTURE(toString(format));
        ExportOptions options;
        options.format = format;
        options.trimStartSeconds = 0.25;
        options.fadeInSeconds = 0.1;
        options.normaliseLufs = -20.0;
        options.metadata.title = "a bell";
        options.metadata.settingsJson = R"({"prompt":"a bell"})";
        const std::string path = dir.file(std::string("take") + fileExtension(format));
        const ExportResult written = exportClip(clip, path, options);
        const EncodedExport encoded = encodeExport(clip, path, options);
        std::ifstream in(path, std::ios::binary);
        const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (format != ExportFormat::OggVorbis)  // Vorbis streams carry a random serial number
            CHECK(encoded.bytes == file);
        CHECK(encoded.result.frames == written.frames);
        CHECK(encoded.result.gainDb == written.gainDb);
        CHECK(encoded.result.path == path);
        const AudioMetadata metadata = readAudioMetadata(path);
        CHECK(metadata.title == "a bell");
        CHECK(metadata.settingsJson == options.metadata.settingsJson);
        CHECK(decodeAudioBytes(encoded.bytes, path).frames() == written.frames);
    }
}

TEST_CASE("an export's refusal says which setting it refused", "[audio][export]") {
    const AudioBuffer clip = test::makeSine(440.0, 1.0, 16000, 1, 0.5);
    auto refused = [&](const ExportOptions& options, const std::string& name = "out.wav") {
        try {
            encodeExport(clip, name, options);
        } catch (const ExportSettingError& e) {
            return e.setting();
        }
        FAIL("the export was not refused");
        return ExportSetting::Clip;
    };
    ExportOptions o;
    o.trimStartSeconds = 1.5;
    CHECK(refused(o) == ExportSetting::TrimStart);
    o = {};
    o.trimEndSeconds = 2.0;
    CHECK(refused(o) == ExportSetting::TrimEnd);
    o = {};
    o.fadeInSeconds = 2.0;
    CHECK(refused(o) == ExportSetting::FadeIn);
    o = {};
    o.fadeInSeconds = 0.5;
    o.fadeOutSeconds = 0.75;
    CHECK(refused(o) == ExportSetting::FadeOut);
    o = {};
    o.normaliseLufs = -80.0;
    CHECK(refused(o) == ExportSetting::Loudness);
    CHECK(refused({}, "out.flac") == ExportSetting::Format);
    CHECK(refused({}, "") == ExportSetting::Format);
    CHECK_THROWS_AS(encodeExport(AudioBuffer{}, "out.wav", {}), ExportSettingError);
    CHECK(mimeType(ExportFormat::Wav16) == std::string("audio/wav"));
    CHECK(mimeType(ExportFormat::Flac) == std::string("audio/flac"));
    CHECK(mimeType(ExportFormat::OggVorbis) == std::string("audio/ogg"));
}
