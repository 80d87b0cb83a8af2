#pragma once
// AudioLDM text-to-audio (diffusers' AudioLDMPipeline): CLAP text embedding -> classifier-free
// guided latent diffusion in the UNet -> VAE decode to a log-mel -> HiFi-GAN vocoder -> 16 kHz
// audio. Also audio-to-audio variation: a clip's log-mel is encoded by the VAE, noised to a
// strength and denoised with the prompt.
#include "audio/audio_buffer.h"
#include "models/audioldm/scheduler_base.h"
#include "models/audioldm/weight_quantization.h"
#include "orchestration/model_service.h"

#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grym::audioldm {

// A stretch of a clip, in seconds from its start.
struct TimeRange {
    double startSeconds = 0.0;
    double endSeconds = 0.0;
};

struct GenerationRequest {
    std::string prompt;
    std::string negativePrompt;          // empty: the empty string, as the reference does
    double guidanceScale = 2.5;          // <= 1 disables classifier-free guidance
    int64_t steps = 10;
    uint64_t seed = 0;
    double durationSeconds = 0.0;        // <= 0: the model's default length
    int64_t variations = 1;              // waveforms per prompt
    std::optional<SchedulerKind> scheduler;  // override of scheduler/scheduler_config.json
    double ddimEta = 0.0;
    // Starting latents (variations, latent_channels, frames/f, mel/f); replaces the seeded noise.
    torch::Tensor initialLatents;
    // Audio-to-audio: start from this clip (any rate/channels) instead of pure noise.
    std::optional<AudioBuffer> sourceAudio;
    double strength = 0.6;               // 0 keeps the clip, 1 ignores it
    int outputSampleRate = 0;            // 0: the vocoder's rate; else resampled (libsamplerate)
    // With sourceAudio, instead of a variation: regenerate only this range of the clip
    // (inpainting); the rest of the clip is kept.
    std::optional<TimeRange> inpaintRange;
    // With sourceAudio, instead of a variation: append durationSeconds that carry on from the
    // clip's end.
    bool continueSource = false;
    // The clip's end flows into its start (the time axis wraps around while denoising).
    bool loop = false;
};

// What one generation gives back, with the intermediates the golden checks compare.
struct GenerationResult {
    std::vector<AudioBuffer> audio;      // one mono buffer per variation
    torch::Tensor promptEmbeds;          // (2·B or B, projection_dim): [negative; positive] with guidance
    std::vector<torch::Tensor> stepLatents;  // latents after each denoising step (if asked)
    torch::Tensor mel;                   // VAE output (B, 1, frames, mel)
    torch::Tensor waveform;              // (B, samples) after cropping, at the vocoder's rate
    std::vector<int64_t> timesteps;
    double seconds = 0.0;
    int64_t windows = 1;                 // denoising windows (more than one beyond the model's length)
    // Where in `audio` newly generated material meets other material (window joins, the edges
    // of an inpainted range, the start of a continuation), in seconds.
    std::vector<double> joinSeconds;
};

struct GenerationOptions {
    bool keepStepLatents = false;
};

// Length arithmetic of the reference pipeline for a duration in seconds.
struct LatentLayout {
    int64_t melFrames = 0;      // multiple of the VAE scale factor
    int64_t latentHeight = 0;   // melFrames / f
    int64_t latentWidth = 0;    // mel bins / f
    int64_t audioSamples = 0;   // int(seconds · sampling_rate)
};

class AudioLdmPipeline {
public:
    // Loads a diffusers AudioLDM folder (model_index.json, tokenizer/, text_encoder/, unet/,
    // vae/, vocoder/, scheduler/). Throws ModelError naming what is missing or wrong.
    // Every part on options.device in options.dtype; the UNet, VAE and text encoder quantised
    // to options.precision (the vocoder stays in the compute dtype).
    static AudioLdmPipeline load(const std::string& folder, const LoadOptions& options = {});
    ~AudioLdmPipeline();
    AudioLdmPipeline(AudioLdmPipeline&&) noexcept;
    AudioLdmPipeline& operator=(AudioLdmPipeline&&) noexcept;

    GenerationResult generate(const GenerationRequest& request, const ProgressCallback& progress = {},
                              const CancellationToken* cancel = nullptr,
                              const GenerationOptions& options = {}) const;

    // The L2-normalised CLAP embeddings of `prompts`, (N, projection_dim), each tokenized to
    // maxLength tokens (model_max_length when <= 0).
    torch::Tensor encodePrompts(const std::vector<std::string>& prompts, int64_t maxLength = 0) const;

    LatentLayout layoutFor(double seconds) const;
    // The length the checkpoint was built for (UNet sample_size × VAE scale factor mel frames);
    // longer requests are generated as overlapping windows of this length.
    double defaultDurationSeconds() const;
    int64_t windowLatentFrames() const;
    // Latent frames neighbouring windows share (and a continuation holds from its clip).
    int64_t windowOverlapLatentFrames() const;

    // The normalised log-mel (frames, mel bins) the VAE sees for a clip (16 kHz mono, mean
    // removed, peak 0.5), and the scaled latents (posterior mean) of a (B, 1, frames, bins) mel.
    torch::Tensor clipMel(const AudioBuffer& clip) const;
    torch::Tensor encodeMel(const torch::Tensor& mel) const;
    int sampleRate() const;
    const std::string& folder() const;
    torch::Device device() const;
    torch::ScalarType dtype() const;
    // True when the folder was written by make-random-model (weights carry no knowledge).
    bool randomWeights() const;
    // Bytes the loaded weights take.
    uint64_t parameterBytes() const;

    // Weight-only int8/int4 for the UNet, the VAE and the CLAP text encoder; the vocoder stays
    // in the compute dtype. Returns what the three models saved together.
    // int8Arithmetic: LoadOptions::int8Arithmetic (false here: weight-only, as before).
    QuantizationReport quantizeWeights(WeightQuantization level, bool int8Arithmetic = false);
    WeightQuantization quantization() const;

    // Timing of the components, for benchmarks (each runs on the pipeline's device).
    torch::Tensor denoise(const torch::Tensor& latents, int64_t timestep, const torch::Tensor& embeds) const;
    torch::Tensor decodeLatents(const torch::Tensor& latents) const;        // -> mel (B, 1, frames, mel)
    torch::Tensor melToWaveform(const torch::Tensor& mel) const;            // -> (B, samples)

private:
    struct Impl;
    explicit AudioLdmPipeline(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Checks a folder has every part of an AudioLDM pipeline; throws ModelError listing what is missing.
void validatePipelineFolder(const std::string& folder);

// Estimated memory a loaded pipeline needs (weights from the configs + a working set), without
// loading it. Throws ModelError when the folder's configs cannot be read.
uint64_t estimatePipelineMemoryBytes(const std::string& folder, torch::ScalarType dtype = torch::kFloat32);

}  // namespace grym::audioldm
