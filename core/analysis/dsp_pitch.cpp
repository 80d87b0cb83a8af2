#include "analysis/dsp_pitch.h"

#include "analysis/aubio_hop_input.h"
#include "common/error.h"

#include <algorithm>
#include <string>

namespace grym::dsp {

struct PitchTracker::State {
    struct Deleter {
        void operator()(aubio_pitch_t* p) const { del_aubio_pitch(p); }
    };
    std::unique_ptr<aubio_pitch_t, Deleter> detector;
    AubioHopInput input;
    AubioVector output{new_fvec(1)};
    PitchTrack track;
    bool finished = false;

    State(int sampleRate, const PitchOptions& o) : input(static_cast<size_t>(std::max(1, o.hopSize))) {
        if (sampleRate <= 0) throw AudioError("pitch: sample rate " + std::to_string(sampleRate) + " is not positive");
        if (o.hopSize < 1 || o.bufferSize < o.hopSize)
            throw AudioError("pitch: buffer " + std::to_string(o.bufferSize) + " and hop " + std::to_string(o.hopSize) +
                             " samples: the hop must be at least 1 and at most the buffer");
        detector.reset(new_aubio_pitch(o.method.c_str(), static_cast<uint_t>(o.bufferSize), static_cast<uint_t>(o.hopSize),
                                       static_cast<uint_t>(sampleRate)));
        if (!detector) throw AudioError("pitch: aubio refused method '" + o.method + "' with buffer " + std::to_string(o.bufferSize) + " at " +
                                        std::to_string(sampleRate) + " Hz");
        aubio_pitch_set_unit(detector.get(), "Hz");
        track.hopSeconds = static_cast<double>(o.hopSize) / sampleRate;
    }
    void analyse(const fvec_t& hop) {
        aubio_pitch_do(detector.get(), &hop, output.get());
        const float f = output->data[0];
        track.frequencies.push_back(f > 0 ? f : 0.0f);
        track.confidence.push_back(std::clamp(static_cast<float>(aubio_pitch_get_confidence(detector.get())), 0.0f, 1.0f));
    }
};

PitchTracker::PitchTracker(int sampleRate, const PitchOptions& options) : state_(std::make_unique<State>(sampleRate, options)) {}
PitchTracker::~PitchTracker() = default;
PitchTracker::PitchTracker(PitchTracker&&) noexcept = default;
PitchTracker& PitchTracker::operator=(PitchTracker&&) noexcept = default;

size_t PitchTracker::heldSamples() const { return state_->input.held(); }

void PitchTracker::push(const float* mono, size_t count) {
    if (state_->finished) throw AudioError("pitch: the track was already finished");
    state_->input.push(mono, count, [this](const fvec_t& hop) { state_->analyse(hop); });
}

PitchTrack PitchTracker::finish() {
    if (state_->finished) throw AudioError("pitch: the track was already finished");
    state_->finished = true;
    state_->input.flush([this](const fvec_t& hop) { state_->analyse(hop); });
    summarisePitch(state_->track);
    return std::move(state_->track);
}

void summarisePitch(PitchTrack& track) {
    std::vector<float> voiced;
    for (float f : track.frequencies)
        if (f > 0) voiced.push_back(f);
    track.voicedRatio = track.frequencies.empty() ? 0.0 : static_cast<double>(voiced.size()) / track.frequencies.size();
    track.meanFrequency = track.medianFrequency = 0;
    if (voiced.empty()) return;
    double sum = 0;
    for (float f : voiced) sum += f;
    track.meanFrequency = sum / voiced.size();
    std::nth_element(voiced.begin(), voiced.begin() + voiced.size() / 2, voiced.end());
    track.medianFrequency = voiced[voiced.size() / 2];
}

PitchTrack estimatePitch(const std::vector<float>& mono, int sampleRate, const PitchOptions& options) {
    PitchTracker tracker(sampleRate, options);
    tracker.push(mono.data(), mono.size());
    return tracker.finish();
}

}  // namespace grym::dsp
