#include "analysis/dsp_pitch.h"

#include "analysis/dsp_fft.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {

PitchTrack estimatePitch(const std::vector<float>& mono, int sampleRate, const PitchOptions& options) {
    if (sampleRate <= 0) throw AudioError("pitch: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (!(options.minFrequency > 0 && options.maxFrequency > options.minFrequency && options.maxFrequency < sampleRate / 2.0))
        throw AudioError("pitch: frequency range " + std::to_string(options.minFrequency) + ".." +
                         std::to_string(options.maxFrequency) + " Hz does not fit sample rate " + std::to_string(sampleRate));
    // Integration window W and lag range [minLag, maxLag]: each frame reads W + maxLag samples.
    const auto maxLag = static_cast<size_t>(std::ceil(sampleRate / options.minFrequency));
    const auto minLag = std::max<size_t>(2, static_cast<size_t>(std::floor(sampleRate / options.maxFrequency)));
    const size_t window = maxLag;
    const size_t span = window + maxLag + 1;
    const auto hop = std::max<size_t>(1, static_cast<size_t>(std::llround(options.hopSeconds * sampleRate)));

    PitchTrack track;
    track.hopSeconds = static_cast<double>(hop) / sampleRate;
    if (mono.size() < span) return track;

    // r(tau) = sum_{j<W} x[j] x[j+tau] for all tau at once: correlate the first W samples
    // with the whole span through one FFT of size >= W + span.
    Fft fft(nextPowerOfTwo(window + span));
    std::vector<std::complex<double>> head(fft.size()), whole(fft.size());
    std::vector<double> difference(maxLag + 1), energy(span + 1);
    const double silence = std::pow(10.0, options.silenceDb / 20.0);
    std::vector<float> voiced;

    for (size_t start = 0; start + span <= mono.size(); start += hop) {
        const float* x = mono.data() + start;
        energy[0] = 0;
        for (size_t i = 0; i < span; ++i) energy[i + 1] = energy[i] + static_cast<double>(x[i]) * x[i];
        const double frameRms = std::sqrt((energy[window] - energy[0]) / window);

        float frequency = 0, aperiodic = 1;
        if (frameRms >= silence) {
            std::fill(head.begin(), head.end(), std::complex<double>{});
            std::fill(whole.begin(), whole.end(), std::complex<double>{});
            for (size_t i = 0; i < window; ++i) head[i] = x[i];
            for (size_t i = 0; i < span; ++i) whole[i] = x[i];
            fft.forward(head);
            fft.forward(whole);
            for (size_t k = 0; k < fft.size(); ++k) whole[k] *= std::conj(head[k]);
            fft.inverse(whole);  // whole[tau].real() = r(tau)

            // d(tau) = sum (x[j] - x[j+tau])^2 = E[0,W) + E[tau,tau+W) - 2 r(tau), then the
            // cumulative-mean normalisation d'(tau) = d(tau) * tau / sum_{k<=tau} d(k).
            double runningSum = 0;
            difference[0] = 1;
            for (size_t tau = 1; tau <= maxLag; ++tau) {
                const double d = std::max(0.0, energy[window] + (energy[tau + window] - energy[tau]) - 2 * whole[tau].real());
                runningSum += d;
                difference[tau] = runningSum > 0 ? d * tau / runningSum : 1;
            }
            // First dip under the threshold, followed down to its local minimum.
            size_t best = 0;
            for (size_t tau = minLag; tau <= maxLag; ++tau) {
                if (difference[tau] < options.threshold) {
                    while (tau + 1 <= maxLag && difference[tau + 1] < difference[tau]) ++tau;
                    best = tau;
                    break;
                }
            }
            if (best > 0) {
                // Parabolic interpolation around the minimum for sub-sample lag.
                double lag = static_cast<double>(best);
                if (best > 1 && best < maxLag) {
                    const double l = difference[best - 1], c = difference[best], r = difference[best + 1];
                    const double curvature = l - 2 * c + r;
                    if (curvature > 0) lag += 0.5 * (l - r) / curvature;
                }
                frequency = static_cast<float>(sampleRate / lag);
                aperiodic = static_cast<float>(difference[best]);
                voiced.push_back(frequency);
            }
        }
        track.frequencies.push_back(frequency);
        track.aperiodicity.push_back(aperiodic);
    }

    if (!track.frequencies.empty()) track.voicedRatio = static_cast<double>(voiced.size()) / track.frequencies.size();
    if (!voiced.empty()) {
        double sum = 0;
        for (float f : voiced) sum += f;
        track.meanFrequency = sum / voiced.size();
        std::nth_element(voiced.begin(), voiced.begin() + voiced.size() / 2, voiced.end());
        track.medianFrequency = voiced[voiced.size() / 2];
    }
    return track;
}

}  // namespace grym::dsp
