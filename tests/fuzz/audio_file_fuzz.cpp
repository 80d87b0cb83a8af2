// libFuzzer target for audio decoding through our loader (core/audio/audio_file.h): any bytes,
// whatever container libsndfile recognises in them (WAV, FLAC, OGG/Vorbis, MP3, AIFF, ...), must
// either decode to finite samples within the limits or raise grym::AudioError. Both the
// whole-file loader and the block reader are driven. libsndfile itself is fuzzed upstream (OSS-Fuzz);
// what is under test here is our header checks, limits and NaN scan around it.
// Run: `build-fuzz/tests/fuzz/fuzz_audio_file -max_total_time=60 tests/fuzz/corpus_audio`.
#include "audio/audio_file.h"
#include "common/error.h"
#include "fuzz_scratch.h"

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const grym::fuzz::ScratchFolder scratch;
    const std::string path = scratch.write("input.audio", data, size);
    // A short duration limit keeps each run's memory small; the limit check is under test too.
    grym::AudioLimits limits;
    limits.maxDurationSeconds = 5.0;
    try {
        grym::AudioFileInfo info;
        const grym::AudioBuffer audio = grym::loadAudioFile(path, limits, &info);
        if (audio.channels <= 0 || audio.sampleRate < limits.minSampleRate) std::abort();
        if (audio.samples.size() % static_cast<size_t>(audio.channels) != 0) std::abort();
        for (float s : audio.samples)
            if (!std::isfinite(s)) std::abort();
    } catch (const grym::AudioError&) {
    }
    try {
        grym::AudioFileReader reader(path, limits);
        for (int block = 0; block < 64; ++block)
            if (reader.read(4096).samples.empty()) break;
    } catch (const grym::AudioError&) {
    }
    return 0;
}
