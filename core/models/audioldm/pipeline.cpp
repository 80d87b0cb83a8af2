#include "models/audioldm/pipeline.h"

#include "common/elapsed.h"

#include "audio/resampler.h"
#include "common/error.h"
#include "models/audioldm/blocks.h"
#include "models/audioldm/clap_text.h"
#include "common/json_reader.h"
#include "models/audioldm/mel.h"
#include "models/audioldm/scheduler_factory.h"
#include "models/audioldm/tokenizer.h"
#include "models/audioldm/unet.h"
#include "models/audioldm/vae.h"
#include "models/audioldm/vocoder.h"
#include "weights/weight_source.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace grym::audioldm {

namespace {

constexpr const char* kRandomWeightsKey = "grym_random_weights";
constexpr int64_t kMaxVariations = 16;
constexpr double kMaxDurationSeconds = 60.0;

struct PipelinePart {
    const char* folder;
    std::vector<const char*> files;  // any one of each group must exist; "|" separates alternatives
    const char* weights = nullptr;   // the checkpoint stem loadCheckpoint reads, if the part has weights
};

const std::vector<PipelinePart>& pipelineParts() {
    static const std::vector<PipelinePart> parts = {
        {"tokenizer", {"vocab.json", "merges.txt"}},
        {"text_encoder", {"config.json"}, "model"},
        {"unet", {"config.json"}, "diffusion_pytorch_model"},
        {"vae", {"config.json"}, "diffusion_pytorch_model"},
        {"vocoder", {"config.json"}, "model"},
        {"scheduler", {"scheduler_config.json"}},
    };
    return parts;
}

bool anyExists(const fs::path& dir, const std::string& alternatives) {
    size_t start = 0;
    while (true) {
        const auto bar = alternatives.find('|', start);
        if (fs::exists(dir / alternatives.substr(start, bar - start))) return true;
        if (bar == std::string::npos) return false;
        start = bar + 1;
    }
}

// The denoising loop's notion of time left: the mean step time so far times the steps left.
class StepClock {
public:
    void start() { begin_ = std::chrono::steady_clock::now(); }
    double elapsed() const {
        return secondsSince(begin_);
    }
    double remaining(int done, int total) const { return done > 0 ? elapsed() / done * (total - done) : -1.0; }

private:
    std::chrono::steady_clock::time_point begin_ = std::chrono::steady_clock::now();
};

AudioBuffer monoBuffer(const torch::Tensor& row, int sampleRate) {
    auto data = row.to(torch::kCPU, torch::kFloat32).contiguous();
    AudioBuffer out;
    out.sampleRate = sampleRate;
    out.channels = 1;
    out.samples.assign(data.data_ptr<float>(), data.data_ptr<float>() + data.numel());
    return out;
}

// The clip as a 16 kHz mono waveform, mean-removed and peak-normalised to 0.5 as AudioLDM's
// training data was.
torch::Tensor prepareSourceWaveform(const AudioBuffer& audio, int sampleRate) {
    if (audio.empty() || audio.channels <= 0 || audio.sampleRate <= 0)
        throw AudioError("the source clip for a variation is empty");
    AudioBuffer rate = audio.sampleRate == sampleRate ? audio : resample(audio, sampleRate);
    auto interleaved = torch::from_blob(const_cast<float*>(rate.samples.data()),
                                        {rate.frames(), static_cast<int64_t>(rate.channels)}, torch::kFloat32);
    auto mono = interleaved.mean(1);
    mono = mono - mono.mean();
    const double peak = mono.abs().max().item<double>();
    if (peak > 0) mono = mono * (0.5 / peak);
    return mono.clone();
}

}  // namespace

struct AudioLdmPipeline::Impl {
    std::string folder;
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
    std::unique_ptr<RobertaTokenizer> tokenizer;
    std::unique_ptr<ClapTextEncoder> textEncoder;
    std::unique_ptr<UNet> unet;
    std::unique_ptr<Vae> vae;
    Vocoder vocoder{nullptr};
    nlohmann::json schedulerConfig;
    std::string schedulerSource;
    bool randomWeights = false;
    WeightQuantization quantization = WeightQuantization::None;
};

void validatePipelineFolder(const std::string& folder) {
    const fs::path root(folder);
    if (!fs::is_directory(root))
        throw ModelError("no AudioLDM model at '" + folder +
                         "': put a diffusers AudioLDM checkpoint there (for example cvssp/audioldm-s-full-v2 "
                         "with its model_index.json, tokenizer/, text_encoder/, unet/, vae/, vocoder/ and scheduler/)");
    std::vector<std::string> missing;
    if (!fs::exists(root / "model_index.json")) missing.push_back("model_index.json");
    for (const auto& part : pipelineParts()) {
        const auto dir = root / part.folder;
        if (!fs::is_directory(dir)) {
            missing.push_back(std::string(part.folder) + "/");
            continue;
        }
        for (const auto* file : part.files)
            if (!anyExists(dir, file)) missing.push_back(std::string(part.folder) + "/" + file);
        if (part.weights && findCheckpointFile(dir.string(), part.weights).empty())
            missing.push_back(std::string(part.folder) + "/" + part.weights + ".safetensors (or its PyTorch .bin)");
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        throw ModelError("'" + folder + "' is not a complete AudioLDM pipeline folder; missing: " + list +
                         " (expected a diffusers AudioLDM checkpoint such as cvssp/audioldm-s-full-v2, with "
                         ".safetensors or PyTorch .bin weights)");
    }
    const auto index = readJsonFile((root / "model_index.json").string());
    const JsonReader fields(index, folder + "/model_index.json");
    if (fields.string("_class_name", "AudioLDMPipeline") != "AudioLDMPipeline")
        fields.reject("_class_name", "not AudioLDMPipeline (AudioLDM 2 and other pipelines are not supported)");
}

AudioLdmPipeline::AudioLdmPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AudioLdmPipeline::~AudioLdmPipeline() = default;
AudioLdmPipeline::AudioLdmPipeline(AudioLdmPipeline&&) noexcept = default;
AudioLdmPipeline& AudioLdmPipeline::operator=(AudioLdmPipeline&&) noexcept = default;

AudioLdmPipeline AudioLdmPipeline::load(const std::string& folder, const LoadOptions& options) {
    validatePipelineFolder(folder);
    const fs::path root(folder);
    auto impl = std::make_unique<Impl>();
    impl->folder = folder;
    impl->device = options.device;
    impl->dtype = options.dtype;
    const auto index = readJsonFile((root / "model_index.json").string());
    impl->randomWeights = JsonReader(index, (root / "model_index.json").string()).boolean(kRandomWeightsKey, false);

    impl->tokenizer = std::make_unique<RobertaTokenizer>(RobertaTokenizer::load((root / "tokenizer").string()));
    impl->textEncoder = std::make_unique<ClapTextEncoder>(ClapTextEncoder::load((root / "text_encoder").string(), options));
    impl->unet = std::make_unique<UNet>(UNet::load((root / "unet").string(), options));
    impl->vae = std::make_unique<Vae>(Vae::load((root / "vae").string(), options));
    impl->vocoder = Vocoder::load((root / "vocoder").string(), {options.device, options.dtype});
    impl->quantization = options.precision;
    impl->schedulerSource = (root / "scheduler" / "scheduler_config.json").string();
    impl->schedulerConfig = readJsonFile(impl->schedulerSource);
    makeScheduler(impl->schedulerConfig, impl->schedulerSource);  // reject unsupported configs now

    // The parts must agree with each other.
    const auto& unetConfig = impl->unet->config();
    const auto& vaeConfig = impl->vae->config();
    if (unetConfig.inChannels != vaeConfig.latentChannels || unetConfig.outChannels != vaeConfig.latentChannels)
        throw ModelError(folder + ": the UNet works on " + std::to_string(unetConfig.inChannels) +
                         " latent channels but the VAE has " + std::to_string(vaeConfig.latentChannels));
    if (unetConfig.projectionClassEmbeddingsInputDim != impl->textEncoder->config().projectionDim)
        throw ModelError(folder + ": the UNet expects " +
                         std::to_string(unetConfig.projectionClassEmbeddingsInputDim) +
                         "-dim text embeddings but the text encoder projects to " +
                         std::to_string(impl->textEncoder->config().projectionDim));
    if (impl->vocoder->config().modelInDim % vaeConfig.latentDownsampling() != 0)
        throw ModelError(folder + ": the vocoder's " + std::to_string(impl->vocoder->config().modelInDim) +
                         " mel bands are not a multiple of the VAE scale factor " +
                         std::to_string(vaeConfig.latentDownsampling()));
    // A folder of random weights (make-random-model) loads: randomWeights() lets each front end
    // say so in its own way (the CLI prints a note, the service a status message).
    return AudioLdmPipeline(std::move(impl));
}

bool AudioLdmPipeline::randomWeights() const { return impl_->randomWeights; }
const std::string& AudioLdmPipeline::folder() const { return impl_->folder; }
torch::Device AudioLdmPipeline::device() const { return impl_->device; }
torch::ScalarType AudioLdmPipeline::dtype() const { return impl_->dtype; }
int AudioLdmPipeline::sampleRate() const { return static_cast<int>(impl_->vocoder->config().samplingRate); }

uint64_t AudioLdmPipeline::parameterBytes() const {
    return impl_->unet->parameterBytes() + impl_->vae->parameterBytes() +
           modelBytes(impl_->textEncoder->module()) + moduleParameterBytes(*impl_->vocoder);
}

QuantizationReport AudioLdmPipeline::quantizeWeights(WeightQuantization level, bool int8Arithmetic) {
    QuantizationReport total;
    total.level = level;
    auto add = [&total](const QuantizationReport& part) {
        total.layers += part.layers;
        total.bytesBefore += part.bytesBefore;
        total.bytesAfter += part.bytesAfter;
        total.layerBytesBefore += part.layerBytesBefore;
        total.layerBytesAfter += part.layerBytesAfter;
        total.int8ComputeLayers += part.int8ComputeLayers;
    };
    add(impl_->unet->quantizeWeights(level, int8Arithmetic));
    add(impl_->vae->quantizeWeights(level, int8Arithmetic));
    add(impl_->textEncoder->quantizeWeights(level, int8Arithmetic));
    impl_->quantization = level;
    return total;
}

WeightQuantization AudioLdmPipeline::quantization() const { return impl_->quantization; }

double AudioLdmPipeline::defaultDurationSeconds() const {
    const auto& voc = impl_->vocoder->config();
    const double secondsPerFrame = static_cast<double>(voc.hopLength()) / static_cast<double>(voc.samplingRate);
    return static_cast<double>(impl_->unet->config().sampleSize * impl_->vae->config().latentDownsampling()) * secondsPerFrame;
}

LatentLayout AudioLdmPipeline::layoutFor(double seconds) const {
    const auto& voc = impl_->vocoder->config();
    const int64_t scale = impl_->vae->config().latentDownsampling();
    // The same float arithmetic as the reference, so lengths agree to the frame.
    const double secondsPerFrame = static_cast<double>(voc.hopLength()) / static_cast<double>(voc.samplingRate);
    LatentLayout layout;
    layout.melFrames = static_cast<int64_t>(seconds / secondsPerFrame);
    if (layout.melFrames % scale != 0)
        layout.melFrames = static_cast<int64_t>(std::ceil(static_cast<double>(layout.melFrames) / scale)) * scale;
    layout.latentHeight = layout.melFrames / scale;
    layout.latentWidth = voc.modelInDim / scale;
    layout.audioSamples = static_cast<int64_t>(seconds * static_cast<double>(voc.samplingRate));
    return layout;
}

torch::Tensor AudioLdmPipeline::encodePrompts(const std::vector<std::string>& prompts, int64_t maxLength) const {
    torch::NoGradGuard noGrad;
    return impl_->textEncoder->encodePrompts(prompts, *impl_->tokenizer, maxLength);
}

torch::Tensor AudioLdmPipeline::denoise(const torch::Tensor& latents, int64_t timestep,
                                        const torch::Tensor& embeds) const {
    torch::NoGradGuard noGrad;
    return impl_->unet->forward(latents.to(impl_->device, impl_->dtype), static_cast<double>(timestep),
                                embeds.to(impl_->device, impl_->dtype));
}

torch::Tensor AudioLdmPipeline::decodeLatents(const torch::Tensor& latents) const {
    torch::NoGradGuard noGrad;
    return impl_->vae->decode((1.0 / impl_->vae->latentScalingFactor()) * latents.to(impl_->device, impl_->dtype));
}

torch::Tensor AudioLdmPipeline::melToWaveform(const torch::Tensor& mel) const {
    torch::NoGradGuard noGrad;
    auto spectrogram = mel.dim() == 4 ? mel.squeeze(1) : mel;  // (B, frames, mel)
    return impl_->vocoder->forward(spectrogram.to(impl_->device, impl_->dtype)).to(torch::kCPU, torch::kFloat32);
}

GenerationResult AudioLdmPipeline::generate(const GenerationRequest& request, const ProgressCallback& progress,
                                            const CancellationToken* cancel,
                                            const GenerationOptions& options) const {
    auto report = [&](const char* stage, double fraction, int step, int total, double remaining) {
        if (progress) progress(ProgressUpdate{fraction, step, total, stage, remaining});
    };
    auto checkCancelled = [&] {
        if (cancel) cancel->throwIfCancelled();
    };
    if (request.steps < 1 || request.steps > 1000)
        throw ModelError("steps must be between 1 and 1000, got " + std::to_string(request.steps));
    if (!std::isfinite(request.guidanceScale))
        throw ModelError("guidance scale must be a finite number");
    if (request.variations < 1 || request.variations > kMaxVariations)
        throw ModelError("variations must be between 1 and " + std::to_string(kMaxVariations) + ", got " +
                         std::to_string(request.variations));
    if (!(request.strength >= 0.0 && request.strength <= 1.0))
        throw ModelError("strength must be between 0 and 1, got " + std::to_string(request.strength));
    double seconds = request.durationSeconds > 0 ? request.durationSeconds : defaultDurationSeconds();
    if (request.durationSeconds <= 0 && request.sourceAudio) seconds = request.sourceAudio->duration();
    if (!(seconds <= kMaxDurationSeconds))
        throw ModelError("duration must be at most " + std::to_string(static_cast<int>(kMaxDurationSeconds)) +
                         " seconds");
    const LatentLayout layout = layoutFor(seconds);
    if (layout.melFrames <= 0 || layout.audioSamples <= 0)
        throw ModelError("duration " + std::to_string(seconds) + " s is too short for even one frame");

    torch::NoGradGuard noGrad;
    const auto started = std::chrono::steady_clock::now();
    const int64_t n = request.variations;
    const auto& device = impl_->device;
    const auto dtype = impl_->dtype;
    GenerationResult result;

    // 1. Text conditioning, [negative; positive] when guided.
    report("encoding", 0.0, 0, static_cast<int>(request.steps), -1);
    const bool guided = request.guidanceScale > 1.0;
    auto positive = encodePrompts({request.prompt});
    torch::Tensor embeds;
    if (guided) {
        // The reference pads and truncates the negative prompt to the embedding width
        // (projection_dim) rather than to model_max_length; for the published checkpoints the
        // two are both 512, for smaller models the difference is visible.
        auto negative = encodePrompts({request.negativePrompt}, positive.size(1));
        result.promptEmbeds = torch::cat({negative, positive}, 0);
        embeds = torch::cat({negative.repeat({n, 1}), positive.repeat({n, 1})}, 0);
    } else {
        result.promptEmbeds = positive;
        embeds = positive.repeat({n, 1});
    }
    embeds = embeds.to(device, dtype);
    checkCancelled();

    // 2. Starting latents: the seeded noise is drawn on the CPU so a seed means the same
    // noise on every device.
    auto scheduler = makeScheduler(impl_->schedulerConfig, impl_->schedulerSource, request.scheduler, request.ddimEta);
    scheduler->setTimesteps(request.steps);
    std::vector<int64_t> timesteps = scheduler->timesteps();
    at::Generator generator = at::detail::createCPUGenerator(request.seed);
    const std::vector<int64_t> shape{n, impl_->unet->config().inChannels, layout.latentHeight, layout.latentWidth};
    torch::Tensor latents;
    if (request.initialLatents.defined()) {
        if (request.initialLatents.sizes() != torch::IntArrayRef(shape)) {
            std::ostringstream want, got;
            want << torch::IntArrayRef(shape);
            got << request.initialLatents.sizes();
            throw ModelError("initial latents have shape " + got.str() + "; this request needs " + want.str());
        }
        latents = request.initialLatents.to(device, dtype);
    } else {
        latents = torch::randn(shape, generator, torch::kFloat32).to(device, dtype);
    }
    latents = latents * scheduler->initNoiseSigma();

    if (request.sourceAudio) {
        // Audio-to-audio: noise the clip's latents to the strength's timestep, denoise from there.
        report("encoding", 0.0, 0, static_cast<int>(request.steps), -1);
        MelConfig melConfig;
        melConfig.sampleRate = sampleRate();
        melConfig.melBands = impl_->vocoder->config().modelInDim;
        auto mel = logMelSpectrogram(prepareSourceWaveform(*request.sourceAudio, sampleRate()), melConfig);
        const int64_t frames = mel.size(0);
        if (frames >= layout.melFrames) mel = mel.slice(0, 0, layout.melFrames);
        else mel = torch::cat({mel, torch::full({layout.melFrames - frames, mel.size(1)}, std::log(melConfig.clampMin))}, 0);
        auto posterior = impl_->vae->encode(mel.view({1, 1, layout.melFrames, -1}).to(device, dtype));
        auto clean = posterior.sample(torch::randn(posterior.mean.sizes(), generator, torch::kFloat32).to(device, dtype));
        clean = (clean * impl_->vae->latentScalingFactor()).repeat({n, 1, 1, 1});
        const auto keep = std::min<int64_t>(static_cast<int64_t>(request.steps * request.strength), request.steps);
        timesteps.erase(timesteps.begin(), timesteps.begin() + (request.steps - keep));
        if (timesteps.empty()) {
            latents = clean;
        } else {
            auto noise = torch::randn(shape, generator, torch::kFloat32).to(device, dtype);
            latents = scheduler->addNoise(clean, noise, timesteps.front());
        }
    }
    result.timesteps = timesteps;

    // 3. Denoising with classifier-free guidance.
    const int total = static_cast<int>(timesteps.size());
    StepClock clock;
    clock.start();
    for (int i = 0; i < total; ++i) {
        checkCancelled();
        const auto t = timesteps[static_cast<size_t>(i)];
        auto input = guided ? torch::cat({latents, latents}, 0) : latents;
        auto noisePrediction = impl_->unet->forward(input, static_cast<double>(t), embeds);
        if (guided) {
            auto parts = noisePrediction.chunk(2, 0);
            noisePrediction = parts[0] + request.guidanceScale * (parts[1] - parts[0]);
        }
        latents = scheduler->step(noisePrediction, t, latents, &generator);
        if (options.keepStepLatents) result.stepLatents.push_back(latents.to(torch::kCPU, torch::kFloat32));
        report("denoising", 0.9 * (i + 1) / total, i + 1, total, clock.remaining(i + 1, total));
    }
    checkCancelled();

    // 4. Latents -> mel -> waveform, cropped to the requested length.
    report("decoding", 0.9, total, total, -1);
    result.mel = decodeLatents(latents);
    checkCancelled();
    auto waveform = melToWaveform(result.mel);
    result.waveform = waveform.slice(1, 0, std::min<int64_t>(layout.audioSamples, waveform.size(1))).contiguous();
    result.mel = result.mel.to(torch::kCPU, torch::kFloat32);

    for (int64_t b = 0; b < n; ++b) {
        auto buffer = monoBuffer(result.waveform[b], sampleRate());
        if (request.outputSampleRate > 0 && request.outputSampleRate != buffer.sampleRate)
            buffer = resample(buffer, request.outputSampleRate);
        result.audio.push_back(std::move(buffer));
    }
    result.seconds = secondsSince(started);
    report("done", 1.0, total, total, 0.0);
    return result;
}

uint64_t estimatePipelineMemoryBytes(const std::string& folder, torch::ScalarType dtype) {
    validatePipelineFolder(folder);
    uint64_t elements = 0;
    for (const auto& part : pipelineParts())
        if (part.weights) elements += checkpointElementCount((fs::path(folder) / part.folder).string(), part.weights);
    const uint64_t weights = elements * c10::elementSize(dtype);
    // Activations of the UNet at batch 2 and of the VAE/vocoder on a few seconds of audio stay
    // well under half the weights for AudioLDM's sizes; 256 MiB covers small models' overhead.
    return weights + weights / 2 + (256ull << 20);
}

}  // namespace grym::audioldm
