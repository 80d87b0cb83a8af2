#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "signals.h"

#include <catch2/catch.hpp>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

using namespace grym;
using grym::test::ScratchDir;

namespace {

// The AudioError a call throws, as text; fails the test if it throws anything else or nothing.
std::string audioErrorFrom(const std::function<void()>& call) {
    try {
        call();
    } catch (const AudioError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected grym::AudioError, got another exception: " << e.what());
    }
    FAIL("expected grym::AudioError, nothing was thrown");
    return {};
}

// Formats our saver does not write (OGG, AIFF, MP3) are made with libsndfile directly.
bool writeWithSndfile(const std::string& path, int format, const AudioBuffer& audio) {
    SF_INFO info{};
    info.samplerate = audio.sampleRate;
    info.channels = audio.channels;
    info.format = format;
    if (!sf_format_check(&info)) return false;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!file) return false;
    const sf_count_t written = sf_writef_float(file, audio.samples.data(), audio.frames());
    sf_close(file);
    return written == audio.frames();
}

void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

double maxAbsDifference(const AudioBuffer& a, const AudioBuffer& b) {
    double worst = 0;
    for (size_t i = 0; i < a.samples.size(); ++i) worst = std::max(worst, std::fabs(double(a.samples[i]) - b.samples[i]));
    return worst;
}

}  // namespace

TEST_CASE("WAV saves and loads back in every sample encoding", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const AudioBuffer noise = test::makeNoise(0.5, 22050, 2);
    struct Case { SampleEncoding encoding; double tolerance; const char* encodingName; };
    // PCM within one step of its bit depth (measurement_bounds.h); float32 stores the samples as they are.
    for (const Case& c : {Case{SampleEncoding::Pcm16, test::pcmStep(16), "PCM 16-bit"},
                          Case{SampleEncoding::Pcm24, test::pcmStep(24), "PCM 24-bit"},
                          Case{SampleEncoding::Float32, 0.0, "float 32-bit"}}) {
        DYNAMIC_SECTION(toString(c.encoding)) {
            const auto path = dir.file(std::string("noise_") + toString(c.encoding) + ".wav");
            saveAudioFile(path, noise, {AudioFileFormat::FromExtension, c.encoding});
            AudioFileInfo info;
            const AudioBuffer back = loadAudioFile(path, {}, &info);
            CHECK(info.container == "WAV");
            CHECK(info.encoding == c.encodingName);
            CHECK(back.sampleRate == 22050);
            CHECK(back.channels == 2);
            REQUIRE(back.frames() == noise.frames());
            CHECK(maxAbsDifference(back, noise) <= c.tolerance);
        }
    }
}

TEST_CASE("FLAC saves and loads back losslessly at 16 and 24 bits", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const AudioBuffer sine = test::makeSine(1000, 0.5, 48000, 1);
    for (auto encoding : {SampleEncoding::Pcm16, SampleEncoding::Pcm24}) {
        const auto path = dir.file(std::string("sine_") + toString(encoding) + ".flac");
        saveAudioFile(path, sine, {AudioFileFormat::FromExtension, encoding});
        AudioFileInfo info;
        const AudioBuffer back = loadAudioFile(path, {}, &info);
        CHECK(info.container == "FLAC");
        REQUIRE(back.frames() == sine.frames());
        CHECK(maxAbsDifference(back, sine) <= test::pcmStep(encoding == SampleEncoding::Pcm16 ? 16 : 24));
    }
}

TEST_CASE("OGG/Vorbis, AIFF and MP3 files load with their tone intact", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const AudioBuffer sine = test::makeSine(440, 1.0, 44100, 1, 0.5);
    struct Case { const char* name; int format; const char* container; double frameSlack; };
    for (const Case& c : {Case{"tone.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "OGG", 0},
                          Case{"tone.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, "AIFF", 0},
                          Case{"tone.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "MP3", 0.05}}) {
        DYNAMIC_SECTION(c.name) {
            const auto path = dir.file(c.name);
            if (!writeWithSndfile(path, c.format, sine)) {
                WARN("this libsndfile cannot write " << c.name << "; skipping its load check");
                continue;
            }
            AudioFileInfo info;
            const AudioBuffer back = loadAudioFile(path, {}, &info);
            CHECK(info.container == c.container);
            CHECK(back.sampleRate == 44100);
            CHECK(back.channels == 1);
            // Lossy codecs may pad a little (MP3 frames); the tone itself must survive.
            CHECK(std::abs(back.duration() - 1.0) <= c.frameSlack + 1e-9);
            const int64_t n = back.frames();
            CHECK(test::measureFrequency(back, n / 4, 3 * n / 4) ==
                  Approx(440).epsilon(test::crossingFrequencyBound(n / 4, 3 * n / 4, 440, back.sampleRate)));
            // A requirement, not a rounding bound: a lossy codec keeps the level within 1 dB
            // (0.05 of 0.5 is 0.8 dB); AIFF's PCM is within a step.
            CHECK(peakAmplitude(back) == Approx(0.5).margin(0.05));
        }
    }
}

TEST_CASE("probing reads the header without decoding", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("stereo.wav");
    saveAudioFile(path, test::makeSine(200, 2.0, 16000, 2), {AudioFileFormat::Wav, SampleEncoding::Pcm24});
    const AudioFileInfo info = probeAudioFile(path);
    CHECK(info.path == path);
    CHECK(info.channels == 2);
    CHECK(info.sampleRate == 16000);
    CHECK(info.frames == 32000);
    CHECK(info.duration() == Approx(2.0));
    CHECK(info.encoding == "PCM 24-bit");
}

TEST_CASE("PCM output clips out-of-range samples and float output keeps them", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    AudioBuffer loud = test::makeSine(100, 0.1, 8000, 1, 2.0);
    saveAudioFile(dir.file("loud16.wav"), loud);
    saveAudioFile(dir.file("loud32.wav"), loud, {AudioFileFormat::Wav, SampleEncoding::Float32});
    // Clipped to the largest 16-bit code, 1 - 2^-15; float keeps the crest, which 80 samples per
    // period put on sample 20: 2.0 in float32.
    CHECK(peakAmplitude(loadAudioFile(dir.file("loud16.wav"))) <= 1.0f);
    CHECK(peakAmplitude(loadAudioFile(dir.file("loud16.wav"))) >= 1.0 - test::pcmStep(16));
    CHECK(peakAmplitude(loadAudioFile(dir.file("loud32.wav"))) == Approx(2.0).epsilon(test::kFloatRoundoff));
}

TEST_CASE("loading a missing, empty or folder path names the file and the cause", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto missing = dir.file("nothing_here.wav");
    auto msg = audioErrorFrom([&] { loadAudioFile(missing); });
    CHECK_THAT(msg, Catch::Contains(missing) && Catch::Contains("no such file"));

    const auto empty = dir.file("empty.wav");
    writeBytes(empty, "");
    msg = audioErrorFrom([&] { loadAudioFile(empty); });
    CHECK_THAT(msg, Catch::Contains(empty) && Catch::Contains("empty"));

    msg = audioErrorFrom([&] { loadAudioFile(dir.path().string()); });
    CHECK_THAT(msg, Catch::Contains("is a folder"));
}

TEST_CASE("truncated, corrupt and unsupported files are refused with a reason", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto good = dir.file("good.wav");
    saveAudioFile(good, test::makeSine(440, 0.2, 16000));
    const std::string bytes = readBytes(good);

    SECTION("header cut short") {
        const auto path = dir.file("truncated.wav");
        writeBytes(path, bytes.substr(0, 30));
        CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }), Catch::Contains(path));
    }
    SECTION("corrupt chunk structure") {
        std::string broken = bytes;
        for (size_t i = 12; i < 36; ++i) broken[i] = static_cast<char>(0xA5);  // overwrite the fmt chunk
        const auto path = dir.file("corrupt.wav");
        writeBytes(path, broken);
        CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }), Catch::Contains(path));
    }
    SECTION("text that is not audio") {
        const auto path = dir.file("notes.mp3");
        writeBytes(path, "these are meeting notes, not an MP3\n");
        CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }),
                   Catch::Contains(path) && Catch::Contains("not a recognised audio format"));
    }
    SECTION("random bytes") {
        std::string noise(4096, '\0');
        std::mt19937 rng(3);
        for (char& c : noise) c = static_cast<char>(rng());
        const auto path = dir.file("random.flac");
        writeBytes(path, noise);
        CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }), Catch::Contains(path));
    }
    SECTION("a data chunk cut short still loads what is there") {
        const auto path = dir.file("short_data.wav");
        writeBytes(path, bytes.substr(0, 44 + 1000));
        const AudioBuffer partial = loadAudioFile(path);
        CHECK(partial.frames() == 500);
    }
}

TEST_CASE("a file holding zero frames is refused", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("zero.wav");
    AudioBuffer nothing = test::makeSilence(0.0, 16000);
    REQUIRE(writeWithSndfile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, nothing));
    CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }), Catch::Contains(path) && Catch::Contains("no audio"));
}

TEST_CASE("absurd sample rates in a header are refused", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto good = dir.file("good.wav");
    saveAudioFile(good, test::makeSine(440, 0.2, 16000));
    std::string bytes = readBytes(good);
    REQUIRE(bytes.substr(12, 4) == "fmt ");
    // The canonical header stores the rate at byte 24 and the byte rate at 28 (little-endian).
    auto patchRate = [&](uint32_t rate) {
        std::string patched = bytes;
        const uint32_t byteRate = rate * 2;
        for (int i = 0; i < 4; ++i) {
            patched[24 + i] = static_cast<char>((rate >> (8 * i)) & 0xff);
            patched[28 + i] = static_cast<char>((byteRate >> (8 * i)) & 0xff);
        }
        return patched;
    };
    for (uint32_t rate : {0u, 3u, 2000000000u}) {
        const auto path = dir.file("rate_" + std::to_string(rate) + ".wav");
        writeBytes(path, patchRate(rate));
        CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path); }), Catch::Contains(path));
    }
    // A plausible-looking rate outside a caller's configured range names the rate.
    AudioLimits narrow;
    narrow.minSampleRate = 22050;
    CHECK_THAT(audioErrorFrom([&] { loadAudioFile(good, narrow); }),
               Catch::Contains("sample rate 16000 Hz") && Catch::Contains("22050"));
}

TEST_CASE("NaN and Inf samples are refused on load and on save", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        AudioBuffer audio = test::makeSine(440, 0.5, 8000, 2);
        audio.samples[2 * 3000 + 1] = bad;  // frame 3000, channel 1
        const auto path = dir.file(std::isnan(bad) ? "nan.wav" : "inf.wav");
        // Our saver refuses, so write the poisoned float file with libsndfile itself.
        CHECK_THAT(audioErrorFrom([&] { saveAudioFile(path, audio, {AudioFileFormat::Wav, SampleEncoding::Float32}); }),
                   Catch::Contains("non-finite") && Catch::Contains("frame 3000"));
        REQUIRE(writeWithSndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, audio));
        const auto msg = audioErrorFrom([&] { loadAudioFile(path); });
        CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("non-finite") && Catch::Contains("frame 3000") &&
                            Catch::Contains("channel 1") && Catch::Contains(std::isnan(bad) ? "NaN" : "Inf"));
    }
}

TEST_CASE("files longer than the configured limit are refused before decoding", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("three_seconds.flac");
    saveAudioFile(path, test::makeNoise(3.0, 8000));
    AudioLimits limits;
    limits.maxDurationSeconds = 2.5;
    CHECK_THAT(audioErrorFrom([&] { loadAudioFile(path, limits); }),
               Catch::Contains(path) && Catch::Contains("3 s long") && Catch::Contains("2.5 s"));
    limits.maxDurationSeconds = 3.0;
    CHECK(loadAudioFile(path, limits).frames() == 24000);
}

TEST_CASE("saving to an unwritable place names the path and leaves nothing behind", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const AudioBuffer tone = test::makeSine(440, 0.1, 8000);
    const auto intoMissingFolder = dir.file("no_such_folder/out.wav");
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(intoMissingFolder, tone); }),
               Catch::Contains(intoMissingFolder) && Catch::Contains("does not exist"));

    const auto plainFile = dir.file("plain.txt");
    writeBytes(plainFile, "x");
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(plainFile + "/out.wav", tone); }), Catch::Contains("is not a folder"));
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(dir.path().string(), tone); }), Catch::Contains("cannot save"));
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(dir.file("out.mp3"), tone); }), Catch::Contains("'.mp3'"));
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(dir.file("out.flac"), tone, {AudioFileFormat::Flac, SampleEncoding::Float32}); }),
               Catch::Contains("FLAC cannot store 32-bit float"));
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(dir.file("empty.wav"), test::makeSilence(0, 8000)); }),
               Catch::Contains("no audio"));
}

TEST_CASE("a failed save keeps the previous file intact", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("keep.flac");
    const AudioBuffer original = test::makeSine(440, 0.2, 16000);
    saveAudioFile(path, original);
    const std::string before = readBytes(path);

    // FLAC allows at most 8 channels, so libsndfile refuses this one part-way into the save.
    AudioBuffer wide = test::makeNoise(0.1, 16000, 9);
    CHECK_THAT(audioErrorFrom([&] { saveAudioFile(path, wide); }), Catch::Contains(path));
    AudioBuffer poisoned = original;
    poisoned.samples[10] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(saveAudioFile(path, poisoned), AudioError);

    CHECK(readBytes(path) == before);
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
    CHECK(entries == 1);  // no temporary files left over
}

TEST_CASE("a successful save replaces an existing file", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("replace.wav");
    saveAudioFile(path, test::makeSine(440, 0.2, 16000));
    saveAudioFile(path, test::makeSine(440, 0.7, 16000));
    CHECK(loadAudioFile(path).duration() == Approx(0.7));
}

TEST_CASE("reading block by block gives the same audio as loading the whole file", "[audio][file]") {
    ScratchDir dir("grym_audio_file");
    const auto path = dir.file("blocks.flac");
    const AudioBuffer noise = test::makeNoise(1.0, 22050, 2);
    saveAudioFile(path, noise, {AudioFileFormat::Flac, SampleEncoding::Pcm24});
    const AudioBuffer whole = loadAudioFile(path);
    AudioFileReader reader(path);
    CHECK(reader.info().frames == 22050);
    AudioBuffer joined;
    for (AudioBuffer block = reader.read(5000); !block.empty(); block = reader.read(5000)) {
        CHECK(block.frames() <= 5000);
        CHECK(block.channels == 2);
        joined.samples.insert(joined.samples.end(), block.samples.begin(), block.samples.end());
    }
    CHECK(reader.framesRead() == 22050);
    CHECK(joined.samples == whole.samples);
    CHECK_THROWS_AS(reader.read(0), AudioError);
}

TEST_CASE("a block reader names the frame of a NaN in a later block", "[audio][file][errors]") {
    ScratchDir dir("grym_audio_file");
    AudioBuffer audio = test::makeSine(440, 1.0, 8000, 1);
    audio.samples[6001] = std::numeric_limits<float>::infinity();
    const auto path = dir.file("late_inf.wav");
    REQUIRE(writeWithSndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, audio));
    AudioFileReader reader(path);
    reader.read(4000);
    CHECK_THAT(audioErrorFrom([&] { reader.read(4000); }), Catch::Contains("frame 6001") && Catch::Contains("Inf"));
}

TEST_CASE("audio encoded in memory is the file saveAudioFile writes, and decodes back to the same samples",
          "[audio][file][memory]") {
    ScratchDir dir("grym_audio_memory");
    const AudioBuffer stereo = test::makeNoise(0.2, 22050, 2);
    const SaveOptions floatWav{AudioFileFormat::Wav, SampleEncoding::Float32};
    const std::string bytes = encodeAudioBytes(stereo, "download.wav", floatWav);
    saveAudioFile(dir.file("saved.wav"), stereo, floatWav);
    std::ifstream saved(dir.file("saved.wav"), std::ios::binary);
    const std::string onDisk((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
    CHECK(bytes == onDisk);

    AudioFileInfo info;
    const AudioBuffer decoded = decodeAudioBytes(bytes, "upload.wav", {}, &info);
    CHECK(info.path == "upload.wav");
    CHECK(info.container == "WAV");
    CHECK(decoded.sampleRate == 22050);
    CHECK(decoded.channels == 2);
    CHECK(decoded.samples == stereo.samples);  // float32 is stored exactly

    // FLAC writes seek back to finish its header: the in-memory file must allow that too.
    const std::string flac = encodeAudioBytes(stereo, "download.flac", {AudioFileFormat::Flac, SampleEncoding::Pcm24});
    const AudioBuffer fromFlac = decodeAudioBytes(flac, "upload.flac");
    REQUIRE(fromFlac.samples.size() == stereo.samples.size());
    for (size_t i = 0; i < stereo.samples.size(); ++i)
        REQUIRE(std::fabs(fromFlac.samples[i] - stereo.samples[i]) <= 1.0f / (1 << 23));
}

TEST_CASE("audio decoded from memory names the upload in its errors and applies the limits", "[audio][file][memory][errors]") {
    CHECK_THAT(audioErrorFrom([] { decodeAudioBytes("", "empty.wav"); }),
               Catch::Contains("empty.wav") && Catch::Contains("empty"));
    CHECK_THAT(audioErrorFrom([] { decodeAudioBytes(std::string(512, 'x'), "notes.txt"); }),
               Catch::Contains("notes.txt") && Catch::Contains("not a recognised audio format"));
    const std::string threeSeconds = encodeAudioBytes(test::makeSine(440, 3.0, 8000), "tone.wav");
    AudioLimits limits;
    limits.maxDurationSeconds = 2.5;
    CHECK_THAT(audioErrorFrom([&] { decodeAudioBytes(threeSeconds, "tone.wav", limits); }),
               Catch::Contains("tone.wav") && Catch::Contains("3 s long"));
}
