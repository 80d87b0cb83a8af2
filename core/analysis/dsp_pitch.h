#pragma once
// Fundamental frequency by aubio (YIN-FFT by default: Brossier's spectral YIN), on a mono
// signal at its own rate.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace grym::dsp {

struct PitchOptions {
    std::string method = "yinfft";  // any aubio pitch method
    int bufferSize = 2048;          // samples per analysis window (aubiopitch -B)
    int hopSize = 256;              // samples between frames (aubiopitch -H)
};

struct PitchTrack {
    double hopSeconds = 0;
    std::vector<float> frequencies;  // Hz per frame; 0 where aubio finds no pitch (unvoiced or silent)
    std::vector<float> confidence;   // aubio's confidence per frame, 0..1
    double voicedRatio = 0;          // frames with a pitch / all frames
    double medianFrequency = 0;      // over frames with a pitch; 0 if none
    double meanFrequency = 0;
};

// Fed mono samples block by block; frame k covers the window ending at sample (k + 1) * hop,
// as in aubio's tools. finish() zero-pads the last partial hop and summarises. Call it once.
class PitchTracker {
public:
    PitchTracker(int sampleRate, const PitchOptions& options = {});  // throws AudioError for options aubio refuses
    ~PitchTracker();
    PitchTracker(PitchTracker&&) noexcept;
    PitchTracker& operator=(PitchTracker&&) noexcept;

    void push(const float* mono, size_t count);
    PitchTrack finish();
    size_t heldSamples() const;  // samples waiting for their hop to complete

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Ratio, median and mean from the frame frequencies.
void summarisePitch(PitchTrack& track);

PitchTrack estimatePitch(const std::vector<float>& mono, int sampleRate, const PitchOptions& options = {});

}  // namespace grym::dsp
