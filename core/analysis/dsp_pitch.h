#pragma once
// Fundamental frequency by YIN (de Cheveigné & Kawahara, 2002).
#include "analysis/dsp_fft.h"

#include <complex>
#include <cstddef>
#include <optional>
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

// YIN one frame at a time, for streams: frame k reads span() samples from k * hop().
// appendFrame() adds the frame's pitch to `track`; summarise() fills the ratio, median and
// mean once every frame is in.
class YinPitchDetector {
public:
    YinPitchDetector(int sampleRate, const PitchOptions& options = {});
    size_t span() const { return span_; }
    size_t hop() const { return hop_; }
    void appendFrame(const float* x, PitchTrack& track);
    static void summarise(PitchTrack& track);

private:
    int sampleRate_;
    PitchOptions options_;
    size_t maxLag_ = 0, minLag_ = 0, window_ = 0, span_ = 0, hop_ = 0;
    double silence_ = 0;
    size_t fftSize_ = 0;
    std::optional<Fft> fft_;
    std::vector<std::complex<double>> head_, whole_;
    std::vector<double> difference_, energy_;
};

}  // namespace grym::dsp
