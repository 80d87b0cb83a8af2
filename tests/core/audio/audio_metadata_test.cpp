// Metadata inside saved files: WAV LIST/INFO plus the settings chunk, FLAC Vorbis comments.
#include "audio/audio_file.h"
#include "common/error.h"
#include "core/test_files.h"
#include "signals.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

using namespace grym;
using grym::test::ScratchDir;

namespace {

AudioMetadata sampleMetadata() {
    AudioMetadata m;
    m.title = "rain on a tin roof, \"close\" — ünïcode";
    m.comment = "seed 7 · 3 steps";
    m.software = "grym-synth 9.9.9";
    m.date = "2026-12-03T12:00:00Z";
    m.settingsJson = R"({"prompt":"rain on a tin roof","seed":7,"steps":3,"note":"odd length!"})";
    return m;
}

// Where a RIFF chunk with this id starts in the file's bytes, or npos.
size_t riffChunk(const std::string& bytes, const char* id) {
    for (size_t pos = 12; pos + 8 <= bytes.size();) {
        uint32_t size = 0;
        std::memcpy(&size, bytes.data() + pos + 4, 4);
        if (bytes.compare(pos, 4, id) == 0) return pos;
        pos += 8 + size + (size & 1);
    }
    return std::string::npos;
}

}  // namespace

TEST_CASE("metadata round-trips through WAV (LIST/INFO and the settings chunk) with the samples unchanged",
          "[audio][metadata]") {
    ScratchDir dir("grym_metadata_wav");
    const AudioBuffer noise = test::makeNoise(0.5, 16000);
    for (const auto encoding : {SampleEncoding::Pcm16, SampleEncoding::Pcm24, SampleEncoding::Float32}) {
        INFO(toString(encoding));
        const std::string path = dir.file(std::string("tagged_") + toString(encoding) + ".wav");
        const std::string plainPath = dir.file(std::string("plain_") + toString(encoding) + ".wav");
        SaveOptions options{AudioFileFormat::FromExtension, encoding, sampleMetadata()};
        saveAudioFile(path, noise, options);
        saveAudioFile(plainPath, noise, {AudioFileFormat::FromExtension, encoding});

        const AudioMetadata back = readAudioMetadata(path);
        CHECK(back.title == sampleMetadata().title);
        CHECK(back.comment == sampleMetadata().comment);
        // libsndfile appends its own name to the software field.
        CHECK_THAT(back.software, Catch::StartsWith(sampleMetadata().software));
        CHECK(back.date == sampleMetadata().date);
        CHECK(back.settingsJson == sampleMetadata().settingsJson);
        CHECK(loadAudioFile(path).samples == loadAudioFile(plainPath).samples);

        // Read the RIFF chunks ourselves: what other tools see, not only what libsndfile gives back.
        const std::string bytes = test::readWholeFile(path);
        const size_t list = riffChunk(bytes, "LIST");
        REQUIRE(list != std::string::npos);
        CHECK(bytes.compare(list + 8, 4, "INFO") == 0);
        CHECK(bytes.find("INAM", list) != std::string::npos);
        const size_t settings = riffChunk(bytes, kSettingsChunkId);
        REQUIRE(settings != std::string::npos);
        CHECK(bytes.compare(settings + 8, sampleMetadata().settingsJson.size(), sampleMetadata().settingsJson) == 0);
        CHECK(readAudioMetadata(plainPath).empty());
    }
}

TEST_CASE("metadata round-trips through FLAC Vorbis comments with the samples unchanged", "[audio][metadata]") {
    ScratchDir dir("grym_metadata_flac");
    const AudioBuffer noise = test::makeNoise(0.5, 16000);
    for (const auto encoding : {SampleEncoding::Pcm16, SampleEncoding::Pcm24}) {
        INFO(toString(encoding));
        const std::string path = dir.file(std::string("tagged_") + toString(encoding) + ".flac");
        saveAudioFile(path, noise, {AudioFileFormat::FromExtension, encoding, sampleMetadata()});
        const AudioMetadata back = readAudioMetadata(path);
        CHECK(back.title == sampleMetadata().title);
        CHECK_THAT(back.software, Catch::StartsWith(sampleMetadata().software));
        CHECK(back.date == sampleMetadata().date);
        CHECK(back.settingsJson == sampleMetadata().settingsJson);
        CHECK(back.comment.empty());

        const std::string plainPath = dir.file(std::string("plain_") + toString(encoding) + ".flac");
        saveAudioFile(plainPath, noise, {AudioFileFormat::FromExtension, encoding});
        CHECK(loadAudioFile(path).samples == loadAudioFile(plainPath).samples);
        CHECK(readAudioMetadata(plainPath).empty());

        // The Vorbis comment block as any FLAC tool reads it: "field=value" entries.
        const std::string bytes = test::readWholeFile(path);
        CHECK(bytes.find("=" + sampleMetadata().title) != std::string::npos);
        CHECK(bytes.find("=" + sampleMetadata().settingsJson) != std::string::npos);
        // And as another program reads them (sox, through libFLAC), when it is installed.
        if (std::system("command -v sox >/dev/null 2>&1") == 0) {
            const std::string tags = dir.file("tags.txt");
            REQUIRE(std::system(("sox --i -a '" + path + "' > '" + tags + "'").c_str()) == 0);
            const std::string text = test::readWholeFile(tags);
            CHECK_THAT(text, Catch::Contains("title=" + sampleMetadata().title) &&
                                 Catch::Contains("comment=" + sampleMetadata().settingsJson));
        }
    }
}

TEST_CASE("reading metadata of a missing file names it", "[audio][metadata]") {
    CHECK_THROWS_WITH(readAudioMetadata("/nonexistent/clip.wav"), Catch::Contains("/nonexistent/clip.wav"));
}
