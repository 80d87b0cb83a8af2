#include "analysis/dsp_features.h"
#include "analysis/dsp_silence.h"
#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

using namespace grym::dsp;

TEST_CASE("silence between tones is found to within 20 ms", "[dsp][silence]") {
    const int rate = 16000;
    std::vector<float> audio = grym::test::sine(300, 1.0, rate, 0.5);
    grym::test::append(audio, std::vector<float>(rate / 2, 0.0f));    // 1.0 - 1.5 s
    grym::test::append(audio, grym::test::sine(500, 1.0, rate, 0.5));
    grym::test::append(audio, std::vector<float>(rate / 10, 0.0f));   // 0.1 s: too short to report
    grym::test::append(audio, grym::test::sine(500, 0.5, rate, 0.5));
    grym::test::append(audio, std::vector<float>(rate, 0.0f));        // 3.1 - 4.1 s
    const auto regions = findSilentRegions(audio, rate);
    REQUIRE(regions.size() == 2);
    CHECK(regions[0].start == Approx(1.0).margin(0.02));
    CHECK(regions[0].end == Approx(1.5).margin(0.02));
    CHECK(regions[1].start == Approx(3.1).margin(0.02));
    CHECK(regions[1].end == Approx(4.1).margin(1e-9));
}

TEST_CASE("a quiet recording's pauses are found relative to its own level", "[dsp][silence]") {
    const int rate = 16000;
    std::vector<float> audio = grym::test::sine(300, 1.0, rate, 0.01);  // -40 dBFS content
    grym::test::append(audio, grym::test::whiteNoise(1.0, rate, 0.0001));  // -80 dBFS hiss
    grym::test::append(audio, grym::test::sine(300, 1.0, rate, 0.01));
    const auto regions = findSilentRegions(audio, rate);
    REQUIRE(regions.size() == 1);
    CHECK(regions[0].start == Approx(1.0).margin(0.02));
    CHECK(regions[0].end == Approx(2.0).margin(0.02));
    CHECK(findSilentRegions(std::vector<float>(rate, 0.0f), rate).size() == 1);
    CHECK(findSilentRegions({}, rate).empty());
}

TEST_CASE("speech padded with silence: the padding is found, the speech is not silent", "[dsp][silence]") {
    if (std::system("command -v espeak-ng >/dev/null 2>&1") != 0) {
        WARN("espeak-ng is not installed; skipping the speech test");
        return;
    }
    const auto path = std::filesystem::temp_directory_path() / ("grym_speech_" + std::to_string(getpid()) + ".wav");
    const std::string command = "espeak-ng -w '" + path.string() + "' \"The quick brown fox jumps over the lazy dog.\"";
    REQUIRE(std::system(command.c_str()) == 0);
    const grym::AudioBuffer speech = grym::mixToMono(grym::loadAudioFile(path.string()));
    std::filesystem::remove(path);
    const int rate = speech.sampleRate;

    // Where the speech really starts and ends: espeak adds a little quiet of its own.
    size_t first = 0, last = speech.samples.size();
    while (first < last && std::fabs(speech.samples[first]) < 0.01f) ++first;
    while (last > first && std::fabs(speech.samples[last - 1]) < 0.01f) --last;
    REQUIRE(last > first);
    const double leadIn = 1.0, tail = 1.5;
    const double speechStart = leadIn + static_cast<double>(first) / rate;
    const double speechEnd = leadIn + static_cast<double>(last) / rate;

    std::vector<float> padded(static_cast<size_t>(leadIn * rate), 0.0f);
    grym::test::append(padded, speech.samples);
    grym::test::append(padded, std::vector<float>(static_cast<size_t>(tail * rate), 0.0f));
    const double duration = static_cast<double>(padded.size()) / rate;

    const auto regions = findSilentRegions(padded, rate);
    REQUIRE(regions.size() >= 2);
    CHECK(regions.front().start == 0.0);
    CHECK(regions.front().end >= leadIn - 0.02);
    CHECK(regions.front().end <= speechStart + 0.05);
    CHECK(regions.back().end == Approx(duration));
    CHECK(regions.back().start >= speechEnd - 0.05);
    CHECK(regions.back().start <= speechEnd + 0.1);
    // Whatever pauses lie between the words, most of the speech is not called silent.
    double silentInsideSpeech = 0;
    for (const auto& r : regions)
        silentInsideSpeech += std::max(0.0, std::min(r.end, speechEnd) - std::max(r.start, speechStart));
    CHECK(silentInsideSpeech < 0.25 * (speechEnd - speechStart));

    const auto features = computeDspFeatures(padded, rate);
    CHECK(features.pitch.voicedRatio > 0.1);
    CHECK(features.pitch.voicedRatio < (speechEnd - speechStart) / duration + 0.05);
    CHECK(features.pitch.medianFrequency > 60);
    CHECK(features.pitch.medianFrequency < 300);
}

TEST_CASE("silence options that cannot work are refused", "[dsp][silence]") {
    SilenceOptions bad;
    bad.hopSeconds = 0;
    CHECK_THROWS_AS(findSilentRegions(std::vector<float>(100, 0.0f), 16000, bad), grym::AudioError);
    CHECK_THROWS_AS(findSilentRegions(std::vector<float>(100, 0.0f), 0), grym::AudioError);
}
