#pragma once
// Onsets and tempo from an onset-strength envelope (one value per analysis frame).
#include <vector>

namespace grym::dsp {

struct OnsetOptions {
    double delta = 0.07;             // a peak must exceed the local mean by this (envelope scaled to max 1)
    double peakWindowSeconds = 0.03; // a peak is the maximum within +/- this
    double meanWindowSeconds = 0.1;  // the local mean looks back this far (and ahead peakWindow)
    double minGapSeconds = 0.05;     // onsets closer than this are merged into the first
};

// Times (seconds) of the envelope's peaks; frame t is centred at t / frameRate seconds.
std::vector<double> pickOnsets(const std::vector<float>& envelope, double frameRate, const OnsetOptions& options = {});

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

// The beat period is the lag at which the envelope best matches itself (autocorrelation
// of the mean-removed envelope, weighted by the prior), refined between frames.
TempoEstimate estimateTempo(const std::vector<float>& envelope, double frameRate, const TempoOptions& options = {});

}  // namespace grym::dsp
