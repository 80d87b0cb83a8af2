#include "analysis/dsp_loudness.h"

#include "common/error.h"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace grym::dsp {
namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

double amplitudeToDecibels(double amplitude) { return amplitude > 0 ? 20.0 * std::log10(amplitude) : kMinusInfinity; }

// libebur128 answers -HUGE_VAL for "no gated block"; anything not finite reads as -inf here.
double finiteOrMinusInfinity(double lufs) { return std::isfinite(lufs) ? lufs : kMinusInfinity; }

}  // namespace

struct LoudnessMeter::State {
    ebur128_state* meter = nullptr;
    int channels = 0;
    size_t stepFrames = 0;      // 100 ms: how often the short-term loudness is sampled
    size_t framesToStep = 0;    // until the next sample of it
    double shortTermMax = kMinusInfinity;

    ~State() {
        if (meter) ebur128_destroy(&meter);
    }
    void sampleShortTerm() {
        double lufs = kMinusInfinity;
        if (ebur128_loudness_shortterm(meter, &lufs) == EBUR128_SUCCESS) shortTermMax = std::max(shortTermMax, finiteOrMinusInfinity(lufs));
    }
};

LoudnessMeter::LoudnessMeter(int sampleRate, int channels) : state_(std::make_unique<State>()) {
    // libebur128 accepts 16 Hz .. 2.8 MHz; below 10 Hz a 100 ms step would be empty.
    if (sampleRate < 16) throw AudioError("loudness: sample rate " + std::to_string(sampleRate) + " Hz is too low");
    if (channels < 1) throw AudioError("loudness: channel count " + std::to_string(channels) + " is not positive");
    state_->meter = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(sampleRate),
                                 EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_S | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_SAMPLE_PEAK);
    if (!state_->meter)
        throw AudioError("loudness: libebur128 cannot measure " + std::to_string(channels) + " channels at " + std::to_string(sampleRate) + " Hz");
    state_->channels = channels;
    state_->stepFrames = static_cast<size_t>(std::llround(0.1 * sampleRate));
    state_->framesToStep = state_->stepFrames;
}

LoudnessMeter::~LoudnessMeter() = default;
LoudnessMeter::LoudnessMeter(LoudnessMeter&&) noexcept = default;
LoudnessMeter& LoudnessMeter::operator=(LoudnessMeter&&) noexcept = default;

void LoudnessMeter::add(const float* interleaved, size_t frames) {
    State& s = *state_;
    // Cut at every 100 ms step, so the short-term loudness is read on the same grid whatever
    // the block sizes (and as ffmpeg's ebur128 filter reads it).
    while (frames > 0) {
        const size_t now = std::min(frames, s.framesToStep);
        if (ebur128_add_frames_float(s.meter, interleaved, now) != EBUR128_SUCCESS) throw AudioError("loudness: libebur128 refused a block");
        interleaved += now * static_cast<size_t>(s.channels);
        frames -= now;
        s.framesToStep -= now;
        if (s.framesToStep == 0) {
            s.sampleShortTerm();
            s.framesToStep = s.stepFrames;
        }
    }
}

LoudnessResult LoudnessMeter::result() const {
    const State& s = *state_;
    LoudnessResult r{kMinusInfinity, s.shortTermMax, 0.0, kMinusInfinity, kMinusInfinity};
    double value = 0;
    if (ebur128_loudness_global(s.meter, &value) == EBUR128_SUCCESS) r.integratedLufs = finiteOrMinusInfinity(value);
    if (ebur128_loudness_range(s.meter, &value) == EBUR128_SUCCESS && std::isfinite(value)) r.loudnessRangeLu = value;
    // A signal shorter than one 3 s window still has a short-term loudness: all of it so far.
    if (!std::isfinite(r.shortTermMaxLufs) && ebur128_loudness_shortterm(s.meter, &value) == EBUR128_SUCCESS)
        r.shortTermMaxLufs = finiteOrMinusInfinity(value);
    double truePeak = 0, samplePeak = 0;
    for (int c = 0; c < s.channels; ++c) {
        double peak = 0;
        if (ebur128_true_peak(s.meter, static_cast<unsigned>(c), &peak) == EBUR128_SUCCESS) truePeak = std::max(truePeak, peak);
        if (ebur128_sample_peak(s.meter, static_cast<unsigned>(c), &peak) == EBUR128_SUCCESS) samplePeak = std::max(samplePeak, peak);
    }
    r.truePeakDbtp = amplitudeToDecibels(truePeak);
    r.samplePeakDbfs = amplitudeToDecibels(samplePeak);
    return r;
}

LoudnessResult measureLoudness(const std::vector<float>& interleaved, int sampleRate, int channels) {
    LoudnessMeter meter(sampleRate, channels);
    meter.add(interleaved.data(), interleaved.size() / static_cast<size_t>(std::max(1, channels)));
    return meter.result();
}

}  // namespace grym::dsp
