#pragma once
// The log-mel spectrogram AudioLDM's VAE was trained on (16 kHz, n_fft 1024, hop 160,
// window 1024 Hann, 64 Slaney-scale mel bands from 0 to 8000 Hz with Slaney area
// normalisation, natural log of the magnitude clamped at 1e-5). Used to start a
// generation from an existing clip (audio-to-audio variation).
#include <torch/types.h>

#include <cstdint>

namespace grym::audioldm {

struct MelConfig {
    int64_t sampleRate = 16000;
    int64_t nFft = 1024;
    int64_t hopLength = 160;
    int64_t winLength = 1024;
    int64_t melBands = 64;
    double fMin = 0.0;
    double fMax = 8000.0;
    double clampMin = 1e-5;
};

// (melBands, nFft/2 + 1) float32: triangular Slaney-scale filters, area-normalised (librosa's
// htk=False, norm="slaney").
torch::Tensor slaneyMelFilterbank(const MelConfig& config);

// waveform (samples,) at config.sampleRate -> (frames, melBands) with frames = samples/hop + 1
// (centred frames, reflect-padded edges).
torch::Tensor logMelSpectrogram(const torch::Tensor& waveform, const MelConfig& config = {});

}  // namespace grym::audioldm
