#include "analysis/dsp_rhythm.h"

#include "analysis/aubio_hop_input.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace grym::dsp {
namespace {

void checkAubioFraming(const char* what, int sampleRate, int bufferSize, int hopSize) {
    if (sampleRate <= 0) throw AudioError(std::string(what) + ": sample rate " + std::to_string(sampleRate) + " is not positive");
    if (hopSize < 1 || bufferSize < hopSize)
        throw AudioError(std::string(what) + ": buffer " + std::to_string(bufferSize) + " and hop " + std::to_string(hopSize) +
                         " samples: the hop must be at least 1 and at most the buffer");
}

}  // namespace

OnsetFraming onsetFraming(int sampleRate, const OnsetOptions& options) {
    OnsetFraming framing{options.bufferSize, options.hopSize};
    if (framing.bufferSize == 0 && sampleRate > 0) {
        const double scaled = 512.0 * sampleRate / 44100.0;
        framing.bufferSize = 1 << std::max(5, static_cast<int>(std::lround(std::log2(scaled))));
    }
    if (framing.hopSize == 0) framing.hopSize = framing.bufferSize / 2;
    return framing;
}

struct OnsetDetector::State {
    struct Deleter {
        void operator()(aubio_onset_t* o) const { del_aubio_onset(o); }
    };
    std::unique_ptr<aubio_onset_t, Deleter> detector;
    AubioHopInput input;
    AubioVector output{new_fvec(1)};
    OnsetTrack track;
    bool finished = false;

    State(int sampleRate, const OnsetOptions& o, OnsetFraming f) : input(static_cast<size_t>(std::max(1, f.hopSize))) {
        checkAubioFraming("onsets", sampleRate, f.bufferSize, f.hopSize);
        detector.reset(new_aubio_onset(o.method.c_str(), static_cast<uint_t>(f.bufferSize), static_cast<uint_t>(f.hopSize),
                                       static_cast<uint_t>(sampleRate)));
        if (!detector) throw AudioError("onsets: aubio refused method '" + o.method + "' with buffer " + std::to_string(f.bufferSize));
        track.frameRate = static_cast<double>(sampleRate) / f.hopSize;
    }
    void analyse(const fvec_t& hop) {
        aubio_onset_do(detector.get(), &hop, output.get());
        track.envelope.push_back(static_cast<float>(aubio_onset_get_descriptor(detector.get())));
        if (output->data[0] != 0) track.times.push_back(aubio_onset_get_last_s(detector.get()));
    }
};

OnsetDetector::OnsetDetector(int sampleRate, const OnsetOptions& options)
    : state_(std::make_unique<State>(sampleRate, options, onsetFraming(sampleRate, options))) {}
OnsetDetector::~OnsetDetector() = default;
OnsetDetector::OnsetDetector(OnsetDetector&&) noexcept = default;
OnsetDetector& OnsetDetector::operator=(OnsetDetector&&) noexcept = default;
size_t OnsetDetector::heldSamples() const { return state_->input.held(); }

void OnsetDetector::push(const float* mono, size_t count) {
    if (state_->finished) throw AudioError("onsets: the detector was already finished");
    state_->input.push(mono, count, [this](const fvec_t& hop) { state_->analyse(hop); });
}

OnsetTrack OnsetDetector::finish() {
    if (state_->finished) throw AudioError("onsets: the detector was already finished");
    state_->finished = true;
    state_->input.flush([this](const fvec_t& hop) { state_->analyse(hop); });
    return std::move(state_->track);
}

double tempoFromBeats(const std::vector<double>& beats) {
    if (beats.size() < 3) return 0;
    std::vector<double> intervals;
    for (size_t i = 1; i < beats.size(); ++i) intervals.push_back(beats[i] - beats[i - 1]);
    std::nth_element(intervals.begin(), intervals.begin() + intervals.size() / 2, intervals.end());
    const double median = intervals[intervals.size() / 2];
    return median > 0 ? 60.0 / median : 0.0;
}

OnsetTrack detectOnsets(const std::vector<float>& mono, int sampleRate, const OnsetOptions& options) {
    OnsetDetector detector(sampleRate, options);
    detector.push(mono.data(), mono.size());
    return detector.finish();
}

TempoEstimate estimateTempo(const std::vector<float>& envelope, double frameRate, const TempoOptions& options) {
    if (!(frameRate > 0)) throw AudioError("tempo: frame rate " + std::to_string(frameRate) + " is not positive");
    if (!(options.minBpm > 0 && options.maxBpm > options.minBpm))
        throw AudioError("tempo: BPM range " + std::to_string(options.minBpm) + ".." + std::to_string(options.maxBpm) + " is empty");
    TempoEstimate estimate;
    const size_t n = envelope.size();
    const auto minLag = std::max<size_t>(1, static_cast<size_t>(std::floor(60.0 * frameRate / options.maxBpm)));
    const auto maxLag = static_cast<size_t>(std::ceil(60.0 * frameRate / options.minBpm));
    if (n < minLag + 3) return estimate;

    const double mean = std::accumulate(envelope.begin(), envelope.end(), 0.0) / n;
    std::vector<double> centred(n);
    for (size_t i = 0; i < n; ++i) centred[i] = envelope[i] - mean;
    const size_t lastLag = std::min(maxLag + 1, n - 1);
    std::vector<double> acf(lastLag + 1, 0.0);
    for (size_t lag = 0; lag <= lastLag; ++lag)
        for (size_t i = 0; i + lag < n; ++i) acf[lag] += centred[i] * centred[i + lag];
    if (acf[0] <= 0) return estimate;

    size_t best = 0;
    double bestScore = 0;
    for (size_t lag = minLag; lag < lastLag; ++lag) {
        // Only true local maxima count: a rising edge at the range limit is not a period.
        if (acf[lag] <= 0 || acf[lag] < acf[lag - 1] || acf[lag] < acf[lag + 1]) continue;
        const double octaves = std::log2(60.0 * frameRate / lag / options.preferredBpm) / options.priorOctaves;
        const double score = acf[lag] * std::exp(-0.5 * octaves * octaves);
        if (score > bestScore) {
            bestScore = score;
            best = lag;
        }
    }
    if (best == 0) return estimate;
    double lag = static_cast<double>(best);
    const double l = acf[best - 1], c = acf[best], r = acf[best + 1];
    if (const double curvature = l - 2 * c + r; curvature < 0) lag += 0.5 * (l - r) / curvature;
    estimate.bpm = 60.0 * frameRate / lag;
    estimate.confidence = std::clamp(acf[best] / acf[0], 0.0, 1.0);
    return estimate;
}

}  // namespace grym::dsp
