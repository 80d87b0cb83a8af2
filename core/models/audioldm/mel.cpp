#include "models/audioldm/mel.h"

#include "common/error.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace grym::audioldm {

namespace {

// Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
constexpr double kLinearHzPerMel = 200.0 / 3.0;
constexpr double kBreakHz = 1000.0;
const double kBreakMel = kBreakHz / kLinearHzPerMel;
const double kLogStep = std::log(6.4) / 27.0;

double hzToMel(double hz) {
    return hz < kBreakHz ? hz / kLinearHzPerMel : kBreakMel + std::log(hz / kBreakHz) / kLogStep;
}

double melToHz(double mel) {
    return mel < kBreakMel ? mel * kLinearHzPerMel : kBreakHz * std::exp(kLogStep * (mel - kBreakMel));
}

}  // namespace

torch::Tensor slaneyMelFilterbank(const MelConfig& c) {
    const int64_t bins = c.nFft / 2 + 1;
    std::vector<double> fftFreqs(bins);
    for (int64_t k = 0; k < bins; ++k) fftFreqs[k] = static_cast<double>(k) * c.sampleRate / c.nFft;
    // band edges: melBands + 2 points evenly spaced on the mel scale
    std::vector<double> edges(c.melBands + 2);
    const double lo = hzToMel(c.fMin), hi = hzToMel(c.fMax);
    for (int64_t i = 0; i < c.melBands + 2; ++i) edges[i] = melToHz(lo + (hi - lo) * i / (c.melBands + 1));

    auto weights = torch::zeros({c.melBands, bins}, torch::kFloat64);
    auto w = weights.accessor<double, 2>();
    for (int64_t m = 0; m < c.melBands; ++m) {
        const double left = edges[m], centre = edges[m + 1], right = edges[m + 2];
        const double area = 2.0 / (right - left);  // each filter integrates to the same area
        for (int64_t k = 0; k < bins; ++k) {
            const double rising = (fftFreqs[k] - left) / (centre - left);
            const double falling = (right - fftFreqs[k]) / (right - centre);
            w[m][k] = std::max(0.0, std::min(rising, falling)) * area;
        }
    }
    return weights.to(torch::kFloat32);
}

torch::Tensor logMelSpectrogram(const torch::Tensor& waveform, const MelConfig& c) {
    if (waveform.dim() != 1) throw AudioError("log-mel: expected a mono waveform (samples,)");
    const int64_t pad = c.nFft / 2;
    if (waveform.size(0) <= pad)
        throw AudioError("log-mel: the clip is too short (" + std::to_string(waveform.size(0)) +
                         " samples; at least " + std::to_string(pad + 1) + " needed)");
    auto x = waveform.to(torch::kFloat32);
    // centred frames: reflect-pad half a window on each side
    auto padded = torch::reflection_pad1d(x.view({1, 1, -1}), {pad, pad}).view({-1});
    auto window = torch::hann_window(c.winLength, torch::TensorOptions().dtype(torch::kFloat32).device(x.device()));
    auto spectrum = torch::stft(padded, c.nFft, c.hopLength, c.winLength, window, /*normalized=*/false,
                                /*onesided=*/true, /*return_complex=*/true);   // (bins, frames)
    auto magnitude = torch::abs(spectrum);
    auto mel = torch::matmul(slaneyMelFilterbank(c).to(x.device()), magnitude);  // (melBands, frames)
    return torch::log(torch::clamp_min(mel, c.clampMin)).transpose(0, 1).contiguous();
}

}  // namespace grym::audioldm
