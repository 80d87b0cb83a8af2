#pragma once
// Onsets by aubio, tempo by the autocorrelation of an onset envelope, on a mono signal at its own rate.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace grym::dsp {

struct OnsetOptions {
    std::string method = "hfc";  // aubio's onset detection function (aubioonset's default)
    // Samples per window and between windows; 0: aubioonset's 512 and 256 at 44.1 kHz, scaled
    // to the rate (to the nearest power of two: 256 / 128 at 16 kHz, 1024 / 512 at 96 kHz).
    // aubio's defaults unscaled find no onset at all in a 16 kHz click track.
    int bufferSize = 0;
    int hopSize = 0;
};

// The framing OnsetOptions resolve to at `sampleRate`.
struct OnsetFraming {
    int bufferSize = 0;
    int hopSize = 0;
};
OnsetFraming onsetFraming(int sampleRate, const OnsetOptions& options = {});

struct OnsetTrack {
    double frameRate = 0;         // detection-function values per second (rate / hop)
    std::vector<float> envelope;  // aubio's onset detection function, one value per hop
    std::vector<double> times;    // seconds, as aubio places them (delay-compensated)
};

struct TempoOptions {
    double minBpm = 30.0;
    double maxBpm = 300.0;
    double preferredBpm = 120.0;  // centre of a broad (one-octave) prior against octave errors
    double priorOctaves = 1.0;
};

struct TempoEstimate {
    double bpm = 0;         // 0 when there is no periodicity to measure
    double confidence = 0;  // the autocorrelation at the chosen lag over that at lag 0 (0..1)
};

// Fed mono samples block by block; finish() zero-pads the last partial hop.
class OnsetDetector {
public:
    OnsetDetector(int sampleRate, const OnsetOptions& options = {});  // throws AudioError for options aubio refuses
    ~OnsetDetector();
    OnsetDetector(OnsetDetector&&) noexcept;
    OnsetDetector& operator=(OnsetDetector&&) noexcept;
    void push(const float* mono, size_t count);
    OnsetTrack finish();
    size_t heldSamples() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// The tempo of beat times (aubiotrack's output): 60 / the median interval between consecutive
// beats (robust to a missed or an extra beat); 0 with fewer than 3 beats.
double tempoFromBeats(const std::vector<double>& beats);

OnsetTrack detectOnsets(const std::vector<float>& mono, int sampleRate, const OnsetOptions& options = {});
// Tempo is our own code, not aubio's beat tracker: measured on click tracks, aubio 0.4.9's
// tracker lost the beat at 16 kHz with every framing tried (this estimator holds 2 % there from
// 72 to 176 BPM, dsp_rhythm_test) and at its default framing read 146 for 150 BPM at 44.1 kHz;
// on the corpus's 120 BPM tracks at 44.1 and 48 kHz both agree (analysis_peers_test). Known
// limit: at 44.1 kHz this estimator halves 150 and 176 BPM (the prior favours 120 +- an octave).
// The beat period is the lag at which the envelope best matches itself (autocorrelation of the
// mean-removed envelope, weighted by the prior), refined between frames.
TempoEstimate estimateTempo(const std::vector<float>& envelope, double frameRate, const TempoOptions& options = {});

}  // namespace grym::dsp
