#pragma once
// Fundamental frequency by YIN (de Cheveigné & Kawahara, 2002).
#include <vector>

namespace grym::dsp {

struct PitchOptions {
    double minFrequency = 50.0;     // Hz; sets the longest lag and the integration window
    double maxFrequency = 1000.0;   // Hz; sets the shortest lag
    double hopSeconds = 0.01;
    double threshold = 0.15;        // on the cumulative-mean-normalised difference
    double silenceDb = -50.0;       // frames quieter than this (RMS, dBFS) are unvoiced
};

struct PitchTrack {
    double hopSeconds = 0;
    std::vector<float> frequencies;  // Hz per frame; 0 where unvoiced
    std::vector<float> aperiodicity; // the normalised difference at the chosen lag (0 = perfectly periodic)
    double voicedRatio = 0;          // voiced frames / all frames
    double medianFrequency = 0;      // over voiced frames; 0 if none
    double meanFrequency = 0;
};

PitchTrack estimatePitch(const std::vector<float>& mono, int sampleRate, const PitchOptions& options = {});

}  // namespace grym::dsp
