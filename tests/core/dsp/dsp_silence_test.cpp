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

namespace {

// Frames of frameSeconds every hopSeconds; each speaks for the hop-long slice around its
// centre. Whether a frame reaching across an edge counts as silent or not, the region's edge
// lands within half a frame plus half a hop of the true one.
double edgeResolution(const SilenceOptions& options = {}) { return (options.frameSeconds + options.hopSeconds) / 2; }

}  // namespace

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
    CHECK(regions[0].start == Approx(1.0).margin(edgeResolution()));
    CHECK(regions[0].end == Approx(1.5).margin(edgeResolution()));
    CHECK(regions[1].start == Approx(3.1).margin(edgeResolution()));
    CHECK(regions[1].end == static_cast<double>(audio.size()) / rate);  // the end of the signal
}

TEST_CASE("a quiet recording's pauses are found relative to its own level", "[dsp][silence]") {
    const int rate = 16000;
    std::vector<float> audio = grym::test::sine(300, 1.0, rate, 0.01);  // -40 dBFS content
    grym::test::append(audio, grym::test::whiteNoise(1.0, rate, 0.0001));  // -80 dBFS hiss
    grym::test::append(audio, grym::test::sine(300, 1.0, rate, 0.01));
    const auto regions = findSilentRegions(audio, rate);
    REQUIRE(regions.size() == 1);
    CHECK(regions[0].start == Approx(1.0).margin(edgeResolution()));
    CHECK(regions[0].end == Approx(2.0).margin(edgeResolution()));
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
    // The padding is digital silence: its region reaches its edge within the resolution. The
    // speech's own edges (marked where |x| first and last reaches -40 dBFS) are soft: a word
    // fades in over a few tens of ms (50 ms allowed) and its release rings on longer (100 ms),
    // above the -50 dBFS silence threshold.
    CHECK(regions.front().start == 0.0);
    CHECK(regions.front().end >= leadIn - edgeResolution());
    CHECK(regions.front().end <= speechStart + 0.05);
    CHECK(regions.back().end == Approx(duration));
    CHECK(regions.back().start >= speechEnd - 0.05);
    CHECK(regions.back().start <= speechEnd + 0.1);
    // Whatever pauses lie between the words, most of the speech is not called silent: a
    // sentence read fluently pauses for well under a quarter of its length.
    double silentInsideSpeech = 0;
    for (const auto& r : regions)
        silentInsideSpeech += std::max(0.0, std::min(r.end, speechEnd) - std::max(r.start, speechStart));
    CHECK(silentInsideSpeech < 0.25 * (speechEnd - speechStart));

    const auto features = computeDspFeatures(padded, rate);
    // Voiced: some of the speech (vowels are; pauses and fricatives are not), never the padding,
    // give or take the frames reaching across the speech's edges (one pitch frame each side).
    const PitchOptions pitch;
    const double edgeFrames = 2.0 * pitch.bufferSize / static_cast<double>(padded.size());
    CHECK(features.pitch.voicedRatio > 0.1);
    CHECK(features.pitch.voicedRatio < (speechEnd - speechStart) / duration + edgeFrames);
    // An adult voice's fundamental lies between 60 and 300 Hz.
    CHECK(features.pitch.medianFrequency > 60);
    CHECK(features.pitch.medianFrequency < 300);
}

TEST_CASE("silence options that cannot work are refused", "[dsp][silence]") {
    SilenceOptions bad;
    bad.hopSeconds = 0;
    CHECK_THROWS_AS(findSilentRegions(std::vector<float>(100, 0.0f), 16000, bad), grym::AudioError);
    CHECK_THROWS_AS(findSilentRegions(std::vector<float>(100, 0.0f), 0), grym::AudioError);
}
