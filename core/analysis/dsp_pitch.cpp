#include "analysis/dsp_pitch.h"

#include "analysis/dsp_fft.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {

YinPitchDetector::YinPitchDetector(int sampleRate, const PitchOptions& options) : sampleRate_(sampleRate), options_(options) {
    if (sampleRate <= 0) throw AudioError("pitch: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (!(options.minFrequency > 0 && options.maxFrequency > options.minFrequency && options.maxFrequency < sampleRate / 2.0))
        throw AudioError("pitch: frequency range " + std::to_string(options.minFrequency) + ".." +
                         std::to_string(options.maxFrequency) + " Hz does not fit sample rate " + std::to_string(sampleRate));
    // Integration window W and lag range [minLag, maxLag]: each frame reads W + maxLag samples.
    maxLag_ = static_cast<size_t>(std::ceil(sampleRate / options.minFrequency));
    minLag_ = std::max<size_t>(2, static_cast<size_t>(std::floor(sampleRate / options.maxFrequency)));
    window_ = maxLag_;
    span_ = window_ + maxLag_ + 1;
    hop_ = std::max<size_t>(1, static_cast<size_t>(std::llround(options.hopSeconds * sampleRate)));
    silence_ = std::pow(10.0, options.silenceDb / 20.0);
    // r(tau) = sum_{j<W} x[j] x[j+tau] for all tau at once: correlate the first W samples
    // with the whole span through one FFT of size >= W + span.
    fftSize_ = nextPowerOfTwo(window_ + span_);
    fft_.emplace(fftSize_);
    head_.resize(fftSize_);
    whole_.resize(fftSize_);
    difference_.resize(maxLag_ + 1);
    energy_.resize(span_ + 1);
}

void YinPitchDetector::appendFrame(const float* x, PitchTrack& track) {
    track.hopSeconds = static_cast<double>(hop_) / sampleRate_;
    energy_[0] = 0;
    for (size_t i = 0; i < span_; ++i) energy_[i + 1] = energy_[i] + static_cast<double>(x[i]) * x[i];
    const double frameRms = std::sqrt((energy_[window_] - energy_[0]) / window_);

    float frequency = 0, aperiodic = 1;
    if (frameRms >= silence_) {
        std::fill(head_.begin(), head_.end(), std::complex<double>{});
        std::fill(whole_.begin(), whole_.end(), std::complex<double>{});
        for (size_t i = 0; i < window_; ++i) head_[i] = x[i];
        for (size_t i = 0; i < span_; ++i) whole_[i] = x[i];
        fft_->forward(head_);
        fft_->forward(whole_);
        for (size_t k = 0; k < fftSize_; ++k) whole_[k] *= std::conj(head_[k]);
        fft_->inverse(whole_);  // whole[tau].real() = r(tau)

        // d(tau) = sum (x[j] - x[j+tau])^2 = E[0,W) + E[tau,tau+W) - 2 r(tau), then the
        // cumulative-mean normalisation d'(tau) = d(tau) * tau / sum_{k<=tau} d(k).
        double runningSum = 0;
        difference_[0] = 1;
        for (size_t tau = 1; tau <= maxLag_; ++tau) {
            const double d = std::max(0.0, energy_[window_] + (energy_[tau + window_] - energy_[tau]) - 2 * whole_[tau].real());
            runningSum += d;
            difference_[tau] = runningSum > 0 ? d * tau / runningSum : 1;
        }
        // First dip under the threshold, followed down to its local minimum.
        size_t best = 0;
        for (size_t tau = minLag_; tau <= maxLag_; ++tau) {
            if (difference_[tau] < options_.threshold) {
                while (tau + 1 <= maxLag_ && difference_[tau + 1] < difference_[tau]) ++tau;
                best = tau;
                break;
            }
        }
        if (best > 0) {
            // Parabolic interpolation around the minimum for sub-sample lag.
            double lag = static_cast<double>(best);
            if (best > 1 && best < maxLag_) {
                const double l = difference_[best - 1], c = difference_[best], r = difference_[best + 1];
                const double curvature = l - 2 * c + r;
                if (curvature > 0) lag += 0.5 * (l - r) / curvature;
            }
            frequency = static_cast<float>(sampleRate_ / lag);
            aperiodic = static_cast<float>(difference_[best]);
        }
    }
    track.frequencies.push_back(frequency);
    track.aperiodicity.push_back(aperiodic);
}

void YinPitchDetector::summarise(PitchTrack& track) {
    std::vector<float> voiced;
    for (float f : track.frequencies)
        if (f > 0) voiced.push_back(f);
    track.voicedRatio = track.frequencies.empty() ? 0.0 : static_cast<double>(voiced.size()) / track.frequencies.size();
    track.meanFrequency = track.medianFrequency = 0;
    if (!voiced.empty()) {
        double sum = 0;
        for (float f : voiced) sum += f;
        track.meanFrequency = sum / voiced.size();
        std::nth_element(voiced.begin(), voiced.begin() + voiced.size() / 2, voiced.end());
        track.medianFrequency = voiced[voiced.size() / 2];
    }
}

PitchTrack estimatePitch(const std::vector<float>& mono, int sampleRate, const PitchOptions& options) {
    YinPitchDetector detector(sampleRate, options);
    PitchTrack track;
    track.hopSeconds = static_cast<double>(detector.hop()) / sampleRate;
    for (size_t start = 0; start + detector.span() <= mono.size(); start += detector.hop())
        detector.appendFrame(mono.data() + start, track);
    YinPitchDetector::summarise(track);
    return track;
}

}  // namespace grym::dsp
