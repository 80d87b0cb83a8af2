#pragma once
// Loudness after ITU-R BS.1770-4 / EBU R128 (and Tech 3342 for the loudness range), measured by
// libebur128 on every channel of the signal at its own rate.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace grym::dsp {

struct LoudnessResult {
    double integratedLufs;       // -inf when no 400 ms block passes the gates (silence, too short)
    double shortTermMaxLufs;     // loudest 3 s window, sampled every 100 ms (shorter signals: all of it)
    double loudnessRangeLu;      // EBU Tech 3342; 0 when too short to have a distribution
    double truePeakDbtp;         // 4x oversampled peak over all channels, dB relative to full scale
    double samplePeakDbfs;       // largest |sample| over all channels
};

// Fed interleaved frames block by block (a long recording never has to be in memory): add()
// any number of times, then result(). Channels map to BS.1770's weights in WAV order
// (L, R, C, LFE (not counted), Ls, Rs); a mono signal is one channel of weight 1, as in
// libebur128 and ffmpeg's ebur128 filter.
class LoudnessMeter {
public:
    LoudnessMeter(int sampleRate, int channels);  // throws AudioError for a bad rate or channel count
    ~LoudnessMeter();
    LoudnessMeter(LoudnessMeter&&) noexcept;
    LoudnessMeter& operator=(LoudnessMeter&&) noexcept;

    void add(const float* interleaved, size_t frames);
    LoudnessResult result() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// One-shot: `interleaved` holds frames x channels samples.
LoudnessResult measureLoudness(const std::vector<float>& interleaved, int sampleRate, int channels = 1);

}  // namespace grym::dsp
