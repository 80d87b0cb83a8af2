#include "analysis/dsp_seams.h"

#include "analysis/dsp_fft.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace grym::dsp {

namespace {

double medianOf(std::vector<double> values) {
    if (values.empty()) return 0.0;
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

// A ratio that stays finite for silent clips (0 / 0 is "no change").
double ratioTo(double value, double typical) {
    constexpr double kTiny = 1e-12;
    return value / std::max(typical, kTiny);
}

// Log-magnitude spectrum of the Hann-windowed frame starting at `start`.
std::vector<double> logSpectrum(const std::vector<float>& mono, size_t start, size_t length, Fft& fft,
                                const std::vector<float>& window) {
    std::vector<float> frame(length);
    for (size_t i = 0; i < length; ++i) frame[i] = mono[start + i] * window[i];
    std::vector<double> power;
    fft.powerSpectrum(frame.data(), length, power);
    // Floored about 70 dB below a full-scale tone, so the phase-dependent leakage of quiet
    // bins does not count as change.
    const double floor = 1e-7 * static_cast<double>(length) * static_cast<double>(length);
    for (auto& p : power) p = 0.5 * std::log(p + floor);
    return power;
}

double fluxBetween(const std::vector<double>& before, const std::vector<double>& after) {
    double rise = 0.0;
    for (size_t k = 0; k < before.size(); ++k) rise += std::max(0.0, after[k] - before[k]);
    return rise;
}

}  // namespace

SeamMeasure measureSeam(const std::vector<float>& mono, size_t seam, const SeamOptions& options) {
    const size_t frame = options.frameLength;
    if (seam < 2 * frame || seam + 2 * frame > mono.size())
        throw AudioError("a joint at sample " + std::to_string(seam) + " needs " + std::to_string(2 * frame) +
                         " samples on each side; the clip has " + std::to_string(mono.size()));
    SeamMeasure m;
    std::vector<double> steps;
    steps.reserve(mono.size());
    for (size_t i = 1; i < mono.size(); ++i) steps.push_back(std::abs(double(mono[i]) - double(mono[i - 1])));
    m.sampleJumpRatio = ratioTo(std::abs(double(mono[seam]) - double(mono[seam - 1])), medianOf(steps));

    // Half-overlapping frames laid so that one is centred on the joint: a click or a change
    // of sound shows as a rise into that frame or out of it.
    const size_t hop = frame / 2;
    const size_t centred = seam - frame / 2;
    const size_t first = centred % hop;
    Fft fft(frame);
    const auto window = hannWindow(frame);
    std::vector<double> fluxes;
    double seamFlux = 0.0;
    std::vector<double> previous = logSpectrum(mono, first, frame, fft, window);
    for (size_t start = first + hop; start + frame <= mono.size(); start += hop) {
        auto current = logSpectrum(mono, start, frame, fft, window);
        const double flux = fluxBetween(previous, current);
        fluxes.push_back(flux);
        if (start == centred || start == centred + hop) seamFlux = std::max(seamFlux, flux);
        previous = std::move(current);
    }
    m.spectralFluxRatio = ratioTo(seamFlux, medianOf(fluxes));
    return m;
}

SeamMeasure measureLoopPoint(const std::vector<float>& mono, const SeamOptions& options) {
    // Turned half way round, the loop's joint sits in the middle with the clip on both sides.
    std::vector<float> turned(mono.size());
    const size_t half = mono.size() / 2;
    std::rotate_copy(mono.begin(), mono.begin() + static_cast<std::ptrdiff_t>(half), mono.end(), turned.begin());
    return measureSeam(turned, mono.size() - half, options);
}

nlohmann::json toJson(const SeamMeasure& m) {
    return {{"sample_jump_ratio", m.sampleJumpRatio}, {"spectral_flux_ratio", m.spectralFluxRatio}};
}

}  // namespace grym::dsp
