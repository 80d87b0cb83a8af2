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

#include <algorithm>
#include <chrono>
#include <functional>
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

// The clip as mono at `sampleRate`, at its own level.
torch::Tensor monoWaveform(const AudioBuffer& audio, int sampleRate) {
    if (audio.empty() || audio.channels <= 0 || audio.sampleRate <= 0)
        throw AudioError("the source clip is empty");
    AudioBuffer rate = audio.sampleRate == sampleRate ? audio : resample(audio, sampleRate);
    auto interleaved = torch::from_blob(const_cast<float*>(rate.samples.data()),
                                        {rate.frames(), static_cast<int64_t>(rate.channels)}, torch::kFloat32);
    return interleaved.mean(1).clone();
}

// A mono waveform mean-removed and peak-normalised to 0.5, as AudioLDM's training data was;
// `gain` receives the factor applied (so generated audio can be put back at the clip's level).
torch::Tensor normalisedWaveform(const torch::Tensor& mono, double* gain = nullptr) {
    auto centred = mono - mono.mean();
    const double peak = centred.abs().max().item<double>();
    const double g = peak > 0 ? 0.5 / peak : 1.0;
    if (gain) *gain = g;
    return centred * g;
}

// The clip as a 16 kHz mono waveform, mean-removed and peak-normalised to 0.5.
torch::Tensor prepareSourceWaveform(const AudioBuffer& audio, int sampleRate) {
    return normalisedWaveform(monoWaveform(audio, sampleRate));
}

// `x` with `pad` frames of its other end on each side of `dim`, so convolutions see the time
// axis as a circle (seamless loops).
torch::Tensor wrapAround(const torch::Tensor& x, int64_t pad, int64_t dim) {
    if (pad <= 0) return x;
    const int64_t length = x.size(dim);
    return torch::cat({x.slice(dim, length - pad, length), x, x.slice(dim, 0, pad)}, dim);
}

// Writes `piece` into `out` from `at` on, fading linearly from what `out` holds to `piece`
// over the first `fade` samples and back to what `out` holds over the last `fadeOut` samples
// (`out` grows as needed).
void crossfadeInto(std::vector<float>& out, size_t at, const std::vector<float>& piece, size_t fade,
                   size_t fadeOut = 0) {
    if (out.size() < at + piece.size()) out.resize(at + piece.size(), 0.0f);
    fade = std::min(fade, piece.size());
    fadeOut = std::min(fadeOut, piece.size());
    for (size_t i = 0; i < piece.size(); ++i) {
        float w = i < fade ? static_cast<float>(i + 1) / static_cast<float>(fade + 1) : 1.0f;
        const size_t left = piece.size() - i;  // samples from i to the piece's end
        if (left <= fadeOut) w = std::min(w, static_cast<float>(left) / static_cast<float>(fadeOut + 1));
        out[at + i] = (1.0f - w) * out[at + i] + w * piece[i];
    }
}

std::vector<float> rowSamples(const torch::Tensor& row, double scale) {
    auto data = (row * scale).to(torch::kCPU, torch::kFloat32).contiguous();
    return {data.data_ptr<float>(), data.data_ptr<float>() + data.numel()};
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

    int64_t scale() const { return vae->config().latentDownsampling(); }
    // The checkpoint's own length (UNet sample_size latent frames) and the share neighbouring
    // windows overlap.
    int64_t windowFrames() const { return std::max<int64_t>(unet->config().sampleSize, 1); }
    int64_t overlapFrames() const { return std::max<int64_t>(windowFrames() / 4, 1); }
    int64_t hop() const { return vocoder->config().hopLength(); }
    int64_t samplesPerLatentFrame() const { return scale() * hop(); }

    // Guided noise prediction; `wrap` > 0 lets the UNet see the time axis as a circle.
    torch::Tensor predictNoise(const torch::Tensor& latents, int64_t t, const torch::Tensor& embeds, double guidance,
                               bool guided, int64_t wrap) const {
        auto input = wrapAround(latents, wrap, 2);
        if (guided) input = torch::cat({input, input}, 0);
        auto prediction = unet->forward(input, static_cast<double>(t), embeds);
        if (guided) {
            auto parts = prediction.chunk(2, 0);
            prediction = parts[0] + guidance * (parts[1] - parts[0]);
        }
        return wrap > 0 ? prediction.slice(2, wrap, wrap + latents.size(2)) : prediction;
    }

    // Scaled latents -> mel (B, 1, h·f, bins), circular when `wrap` > 0.
    torch::Tensor latentsToMel(const torch::Tensor& latents, int64_t wrap) const {
        auto mel = vae->decode((1.0 / vae->latentScalingFactor()) * wrapAround(latents, wrap, 2).to(device, dtype));
        return wrap > 0 ? mel.slice(2, wrap * scale(), (wrap + latents.size(2)) * scale()) : mel;
    }

    // mel (B, 1, frames, bins) -> (B, frames·hop) float32 on the CPU, circular when `wrap` > 0.
    torch::Tensor melToSamples(const torch::Tensor& mel, int64_t wrap) {  // the vocoder's forward is not const
        const int64_t frames = mel.size(2);
        auto waveform = vocoder->forward(wrapAround(mel.squeeze(1), wrap, 1).to(device, dtype))
                            .to(torch::kCPU, torch::kFloat32);
        const int64_t start = wrap * hop();
        const int64_t want = frames * hop();
        if (waveform.size(1) < start + want)
            waveform = torch::constant_pad_nd(waveform, {0, start + want - waveform.size(1)});
        return waveform.slice(1, start, start + want);
    }

    // Scaled latents (posterior mean) of a (B, 1, frames, bins) mel.
    torch::Tensor encodeMel(const torch::Tensor& mel) const {
        return vae->encode(mel.to(device, dtype)).mean * vae->latentScalingFactor();
    }

    // What every window of one request shares: conditioning, the seeded generator and the
    // step count that progress and cancellation run on.
    struct WindowRun {
        const GenerationRequest& request;
        torch::Tensor embeds;
        bool guided = false;
        at::Generator& generator;
        std::function<void(int done)> stepDone;   // reports progress and checks for cancel
        std::vector<torch::Tensor>* stepLatents = nullptr;
        std::vector<int64_t> timesteps;
        int done = 0;
    };

    // One window of masked diffusion (AudioLDM's inpainting): where `keep` is 1 the latents
    // are replaced, before every step, by `held` noised to that step, so the model fills the
    // rest around them; where it is 0 the model is free. `keep` (1, 1, frames, 1) may ramp
    // between the two for a crossfade. `wrap` > 0: the time axis is a circle.
    torch::Tensor denoiseWindow(WindowRun& run, int64_t frames, const torch::Tensor& held, const torch::Tensor& keep,
                                int64_t wrap) const {
        const auto& r = run.request;
        auto scheduler = makeScheduler(schedulerConfig, schedulerSource, r.scheduler, r.ddimEta);
        scheduler->setTimesteps(r.steps);
        run.timesteps = scheduler->timesteps();
        const std::vector<int64_t> shape{r.variations, unet->config().inChannels, frames,
                                         vocoder->config().modelInDim / scale()};
        auto latents = torch::randn(shape, run.generator, torch::kFloat32).to(device, dtype) * scheduler->initNoiseSigma();
        torch::Tensor heldNoise, heldAll, keepMask;
        if (held.defined()) {
            heldNoise = torch::randn(shape, run.generator, torch::kFloat32).to(device, dtype);
            heldAll = held.to(device, dtype).expand(shape);
            keepMask = keep.to(device, dtype);
        }
        for (const auto t : run.timesteps) {
            if (held.defined()) latents = keepMask * scheduler->addNoise(heldAll, heldNoise, t) + (1 - keepMask) * latents;
            auto prediction = predictNoise(latents, t, run.embeds, r.guidanceScale, run.guided, wrap);
            latents = scheduler->step(prediction, t, latents, &run.generator);
            if (run.stepLatents) run.stepLatents->push_back(latents.to(torch::kCPU, torch::kFloat32));
            run.stepDone(++run.done);
        }
        if (held.defined()) latents = keepMask * heldAll + (1 - keepMask) * latents;
        return latents;
    }

    static torch::Tensor keepFirst(int64_t frames, int64_t heldFrames) {
        auto keep = torch::zeros({1, 1, frames, 1}, torch::kFloat32);
        if (heldFrames > 0) keep.slice(2, 0, heldFrames).fill_(1.0);
        return keep;
    }

    // One window of a sequence: latent frames [start, start + frames) of the timeline, the
    // first `heldFrames` of them shared with (and held to) the window before.
    struct WindowSpan {
        int64_t start = 0;
        int64_t frames = 0;
        int64_t heldFrames = 0;
    };

    // Overlapping windows over `totalFrames` latent frames whose first `prefixFrames` are
    // already known: each window starts `overlap` frames before the previous one ends, the last
    // one ends with the timeline (overlapping more when that is shorter than a window).
    std::vector<WindowSpan> planWindows(int64_t totalFrames, int64_t prefixFrames) const {
        const int64_t window = windowFrames();
        const int64_t overlap = overlapFrames();
        std::vector<WindowSpan> plan;
        int64_t end = prefixFrames;
        while (end < totalFrames) {
            const int64_t start = end == 0 ? 0 : std::max<int64_t>(0, std::min(end - overlap, totalFrames - window));
            const int64_t frames = std::min(window, totalFrames - start);
            plan.push_back({start, frames, end - start});
            end = start + frames;
        }
        return plan;
    }

    // The windows of an inpainting span whose range ends at span frame `rangeEnd`: those of
    // planWindows up to the first that reaches past the range (a later one would only redo
    // frames the clip keeps).
    std::vector<WindowSpan> planInpaintWindows(int64_t spanFrames, int64_t rangeEnd) const {
        auto plan = planWindows(spanFrames, 0);
        const auto past = std::find_if(plan.begin(), plan.end(), [&](const WindowSpan& w) { return w.start + w.frames > rangeEnd; });
        if (past != plan.end()) plan.erase(past + 1, plan.end());
        return plan;
    }

    int64_t countWindows(int64_t totalFrames, int64_t prefixFrames) const {
        return static_cast<int64_t>(planWindows(totalFrames, prefixFrames).size());
    }

    // The clean latents of the first and the last window of a sequence (a loop's seam holds both).
    struct WindowEnds {
        torch::Tensor first;
        torch::Tensor last;
        int64_t lastStart = 0;
    };

    // Overlapping windows over `totalFrames` latent frames, each new window holding its
    // overlap to the previous window's latents (`prefix`, clean latents of the timeline's
    // first frames, is held by the first window: a continuation). Audio and mel are joined
    // with a linear crossfade over each overlap; only one window's latents are ever denoised
    // at once. Writes mono rows into `rows` from sample `offset` on (each row already holds
    // what comes before, at `level` × the generated scale).
    WindowEnds generateWindows(WindowRun& run, int64_t totalFrames, const torch::Tensor& prefix, int64_t offset,
                               double level, std::vector<std::vector<float>>& rows, GenerationResult& result) {
        const int64_t spl = samplesPerLatentFrame();
        const int rate = static_cast<int>(vocoder->config().samplingRate);
        torch::Tensor previous = prefix;  // clean latents of the frames [previousStart, previousEnd)
        int64_t previousStart = 0, previousEnd = prefix.defined() ? prefix.size(2) : 0;
        std::vector<torch::Tensor> mels;
        WindowEnds ends;
        result.windows = 0;
        for (const auto& w : planWindows(totalFrames, previousEnd)) {
            torch::Tensor held;
            if (w.heldFrames > 0) {
                held = torch::zeros({run.request.variations, previous.size(1), w.frames, previous.size(3)}, previous.options());
                held.slice(2, 0, w.heldFrames).copy_(previous.slice(2, w.start - previousStart, previousEnd - previousStart));
            }
            auto latents = denoiseWindow(run, w.frames, held, keepFirst(w.frames, w.heldFrames), 0);
            auto mel = latentsToMel(latents, 0);
            auto samples = melToSamples(mel, 0);
            for (int64_t b = 0; b < samples.size(0); ++b)
                crossfadeInto(rows[static_cast<size_t>(b)], static_cast<size_t>(offset + w.start * spl),
                              rowSamples(samples[b], level), static_cast<size_t>(w.heldFrames * spl));
            if (w.heldFrames > 0)
                result.joinSeconds.push_back(static_cast<double>(offset + w.start * spl + w.heldFrames * spl / 2) / rate);
            mels.push_back(mel.to(torch::kCPU, torch::kFloat32).slice(2, w.heldFrames * scale()));
            if (!ends.first.defined()) ends.first = latents;
            previous = latents;
            previousStart = w.start;
            previousEnd = w.start + w.frames;
            ++result.windows;
        }
        ends.last = previous;
        ends.lastStart = previousStart;
        result.mel = torch::cat(mels, 2);
        return ends;
    }

    // Inpainting over latent frames [spanStart, spanStart + spanFrames) of a clip whose
    // normalised log-mel is `clipMel` (frames, bins): consecutive overlapping windows, each
    // holding the clip's own latents outside [rangeStart, rangeEnd) (the hold fading out over
    // `edge` frames inside each edge of the range) and the previous window's fresh latents in
    // its overlap. Returns the generated audio of the span (up to the last window's end) per
    // variation, at `level`, joined with a crossfade over each overlap; result.mel gets its
    // decoded mel.
    std::vector<std::vector<float>> inpaintWindows(WindowRun& run, const torch::Tensor& clipMel, int64_t spanStart,
                                                   int64_t spanFrames, int64_t rangeStart, int64_t rangeEnd,
                                                   int64_t edge, double level, GenerationResult& result) {
        const int64_t f = scale();
        const int64_t spl = samplesPerLatentFrame();
        const int rate = static_cast<int>(vocoder->config().samplingRate);
        auto mel = clipMel;
        const int64_t wantFrames = (spanStart + spanFrames) * f;
        if (mel.size(0) < wantFrames)
            mel = torch::cat({mel, torch::full({wantFrames - mel.size(0), mel.size(1)}, std::log(MelConfig{}.clampMin))}, 0);
        // Held outside the range; inside, the hold fades out over `edge` frames at each end.
        auto keep = torch::ones({1, 1, spanFrames, 1}, torch::kFloat32);
        const int64_t a = rangeStart - spanStart, b = rangeEnd - spanStart;
        keep.slice(2, a, b).fill_(0.0);
        for (int64_t i = 0; i < edge; ++i) {
            const float w = 1.0f - static_cast<float>(i + 1) / static_cast<float>(edge + 1);
            keep[0][0][a + i][0] = w;
            keep[0][0][b - 1 - i][0] = w;
        }
        std::vector<std::vector<float>> pieces(static_cast<size_t>(run.request.variations));
        std::vector<torch::Tensor> mels;
        torch::Tensor previous;  // clean latents of the previous window, from span frame previousStart
        int64_t previousStart = 0;
        result.windows = 0;
        for (const auto& w : planInpaintWindows(spanFrames, b)) {
            const int64_t from = (spanStart + w.start) * f;
            auto held = encodeMel(mel.slice(0, from, from + w.frames * f).reshape({1, 1, w.frames * f, -1}));
            auto windowKeep = keep.slice(2, w.start, w.start + w.frames).clone();
            if (w.heldFrames > 0) {
                held = held.repeat({run.request.variations, 1, 1, 1});
                held.slice(2, 0, w.heldFrames).copy_(previous.slice(2, w.start - previousStart, w.start - previousStart + w.heldFrames));
                windowKeep.slice(2, 0, w.heldFrames).fill_(1.0);
            }
            auto latents = denoiseWindow(run, w.frames, held, windowKeep, 0);
            auto decoded = latentsToMel(latents, 0);
            auto samples = melToSamples(decoded, 0);
            for (int64_t v = 0; v < samples.size(0); ++v)
                crossfadeInto(pieces[static_cast<size_t>(v)], static_cast<size_t>(w.start * spl),
                              rowSamples(samples[v], level), static_cast<size_t>(w.heldFrames * spl));
            if (w.heldFrames > 0)
                result.joinSeconds.push_back(static_cast<double>((spanStart + w.start) * spl + w.heldFrames * spl / 2) / rate);
            mels.push_back(decoded.to(torch::kCPU, torch::kFloat32).slice(2, w.heldFrames * f));
            previous = latents;
            previousStart = w.start;
            ++result.windows;
        }
        result.mel = torch::cat(mels, 2);
        return pieces;
    }

    // Closes a loop generated as windows over `totalFrames`: one more window straddles the
    // loop point, its latents the timeline's last `tail` frames followed by its first `head`,
    // with its first and last `overlap` frames held to the latents the sequence already has
    // there (`ends`), and the frames around the loop point denoised afresh. Its audio is
    // crossfaded in over the held frames on both sides, so the end flows into the start.
    void closeLoop(WindowRun& run, int64_t totalFrames, const WindowEnds& ends, std::vector<std::vector<float>>& rows,
                   GenerationResult& result) {
        const int64_t window = windowFrames();
        const int64_t overlap = std::min(overlapFrames(), window / 2);
        const int64_t tail = window / 2, head = window - tail;
        const int64_t f = scale();
        const int64_t spl = samplesPerLatentFrame();
        const int rate = static_cast<int>(vocoder->config().samplingRate);
        const int64_t tailStart = totalFrames - tail;
        auto held = torch::cat({ends.last.slice(2, tailStart - ends.lastStart, totalFrames - ends.lastStart),
                                ends.first.slice(2, 0, head)}, 2);
        auto keep = torch::zeros({1, 1, window, 1}, torch::kFloat32);
        keep.slice(2, 0, overlap).fill_(1.0);
        keep.slice(2, window - overlap, window).fill_(1.0);
        auto latents = denoiseWindow(run, window, held, keep, 0);
        auto mel = latentsToMel(latents, 0);
        auto samples = melToSamples(mel, 0);
        const auto tailSamples = static_cast<size_t>(tail * spl), fade = static_cast<size_t>(overlap * spl);
        for (int64_t v = 0; v < samples.size(0); ++v) {
            const auto piece = rowSamples(samples[v], 1.0);
            const auto split = piece.begin() + static_cast<std::ptrdiff_t>(tailSamples);
            auto& row = rows[static_cast<size_t>(v)];
            crossfadeInto(row, static_cast<size_t>(tailStart * spl), std::vector<float>(piece.begin(), split), fade);
            crossfadeInto(row, 0, std::vector<float>(split, piece.end()), 0, fade);
        }
        // The mel shows the fresh frames (the held ones are the sequence's own latents).
        auto seamMel = mel.to(torch::kCPU, torch::kFloat32);
        result.mel.slice(2, (tailStart + overlap) * f, totalFrames * f).copy_(seamMel.slice(2, overlap * f, tail * f));
        result.mel.slice(2, 0, (head - overlap) * f).copy_(seamMel.slice(2, tail * f, (window - overlap) * f));
        result.joinSeconds.push_back(static_cast<double>(tailStart * spl + overlap * spl / 2) / rate);
        result.joinSeconds.push_back(static_cast<double>((head - overlap) * spl + overlap * spl / 2) / rate);
        ++result.windows;
    }
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
    // The vocoder is not quantised, but at int8 its convolutions take the same faster arithmetic
    // as the other models' (bfloat16 where the CPU has it).
    if (options.precision == WeightQuantization::Int8 && options.int8Arithmetic)
        impl->vocoder->computeConvolutionsInBFloat16();
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
    if (level == WeightQuantization::Int8 && int8Arithmetic) impl_->vocoder->computeConvolutionsInBFloat16();
    impl_->quantization = level;
    return total;
}

WeightQuantization AudioLdmPipeline::quantization() const { return impl_->quantization; }

double AudioLdmPipeline::defaultDurationSeconds() const {
    const auto& voc = impl_->vocoder->config();
    const double secondsPerFrame = static_cast<double>(voc.hopLength()) / static_cast<double>(voc.samplingRate);
    return static_cast<double>(impl_->unet->config().sampleSize * impl_->vae->config().latentDownsampling()) * secondsPerFrame;
}

int64_t AudioLdmPipeline::windowLatentFrames() const { return impl_->windowFrames(); }
int64_t AudioLdmPipeline::windowOverlapLatentFrames() const { return impl_->overlapFrames(); }

torch::Tensor AudioLdmPipeline::clipMel(const AudioBuffer& clip) const {
    torch::NoGradGuard noGrad;
    MelConfig melConfig;
    melConfig.sampleRate = sampleRate();
    melConfig.melBands = impl_->vocoder->config().modelInDim;
    return logMelSpectrogram(prepareSourceWaveform(clip, sampleRate()), melConfig);
}

torch::Tensor AudioLdmPipeline::encodeMel(const torch::Tensor& mel) const {
    torch::NoGradGuard noGrad;
    return impl_->encodeMel(mel);
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
    if ((request.inpaintRange || request.continueSource) && !request.sourceAudio)
        throw ModelError("inpainting and continuing need a source clip");
    if (request.inpaintRange && request.continueSource)
        throw ModelError("a request either inpaints a range or continues a clip, not both");
    if (request.loop && request.sourceAudio)
        throw ModelError("a loop is generated from the prompt alone, not from a source clip");
    double seconds = request.durationSeconds > 0 ? request.durationSeconds : defaultDurationSeconds();
    if (request.durationSeconds <= 0 && request.sourceAudio) seconds = request.sourceAudio->duration();
    if (request.inpaintRange) seconds = std::min(seconds, kMaxDurationSeconds);  // checked against the clip below
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

    const bool multiWindow = !request.sourceAudio && !request.loop && layout.latentHeight > windowLatentFrames();
    if (multiWindow || request.loop || request.inpaintRange || request.continueSource) {
        if (request.initialLatents.defined())
            throw ModelError("starting latents are only taken for a single-window text-to-audio generation");
        at::Generator generator = at::detail::createCPUGenerator(request.seed);
        Impl::WindowRun run{request, embeds, guided, generator, {}, nullptr, {}, 0};
        if (options.keepStepLatents) run.stepLatents = &result.stepLatents;
        const int64_t windowFrames = windowLatentFrames();
        const int64_t spl = impl_->samplesPerLatentFrame();
        const int rate = sampleRate();
        std::vector<std::vector<float>> rows(static_cast<size_t>(n));
        int64_t keepSamples = layout.audioSamples;
        int64_t windowCount = 1;

        torch::Tensor sourceMono, sourceMel;
        double gain = 1.0;
        if (request.sourceAudio) {
            sourceMono = monoWaveform(*request.sourceAudio, rate);
            MelConfig melConfig;
            melConfig.sampleRate = rate;
            melConfig.melBands = impl_->vocoder->config().modelInDim;
            sourceMel = logMelSpectrogram(normalisedWaveform(sourceMono, &gain), melConfig);
        }
        const int64_t sourceSamples = sourceMono.defined() ? sourceMono.size(0) : 0;
        const int64_t sourceFrames = sourceSamples / spl;  // whole latent frames inside the clip
        int64_t prefixFrames = 0, inpaintStart = 0, inpaintEnd = 0, spanStart = 0, spanFrames = 0, edge = 0;
        if (request.continueSource) {
            if (sourceFrames < 1) throw ModelError("the clip is too short to continue (under one latent frame)");
            prefixFrames = std::min(impl_->overlapFrames(), sourceFrames);
            windowCount = impl_->countWindows(prefixFrames + layout.latentHeight, prefixFrames);
        } else if (request.inpaintRange) {
            const auto& range = *request.inpaintRange;
            const double clipSeconds = static_cast<double>(sourceSamples) / rate;
            if (!(range.startSeconds >= 0 && range.endSeconds > range.startSeconds && range.endSeconds <= clipSeconds + 1e-6))
                throw ModelError("the inpainting range " + std::to_string(range.startSeconds) + ":" +
                                 std::to_string(range.endSeconds) + " s must lie inside the clip (0:" +
                                 std::to_string(clipSeconds) + " s) and end after it starts");
            const int64_t clipFrames = layoutFor(clipSeconds).latentHeight;
            inpaintStart = static_cast<int64_t>(std::floor(range.startSeconds * rate / static_cast<double>(spl)));
            inpaintEnd = std::min(clipFrames, static_cast<int64_t>(std::ceil(range.endSeconds * rate / static_cast<double>(spl))));
            if (inpaintEnd - inpaintStart <= windowFrames) {
                // One window centred on the range, as much of the clip around it as fits.
                spanFrames = std::min(clipFrames, windowFrames);
                spanStart = std::clamp<int64_t>((inpaintStart + inpaintEnd - spanFrames) / 2, 0, clipFrames - spanFrames);
            } else {
                // Windows over the range with a window overlap of the clip held on each side.
                spanStart = std::max<int64_t>(0, inpaintStart - impl_->overlapFrames());
                spanFrames = std::min(clipFrames, inpaintEnd + impl_->overlapFrames()) - spanStart;
            }
            edge = std::min<int64_t>(std::max<int64_t>(windowFrames / 16, 1), (inpaintEnd - inpaintStart) / 2);
            windowCount = static_cast<int64_t>(impl_->planInpaintWindows(spanFrames, inpaintEnd - spanStart).size());
        } else if (multiWindow) {
            windowCount = impl_->countWindows(layout.latentHeight, 0);
        } else if (request.loop && layout.latentHeight > windowFrames) {
            windowCount = impl_->countWindows(layout.latentHeight, 0) + 1;  // and the window across the loop point
        }
        result.windows = windowCount;
        const int totalSteps = static_cast<int>(windowCount * request.steps);
        StepClock clock;
        clock.start();
        run.stepDone = [&](int done) {
            checkCancelled();
            report("denoising", 0.9 * done / totalSteps, done, totalSteps, clock.remaining(done, totalSteps));
        };
        checkCancelled();

        if (multiWindow) {
            impl_->generateWindows(run, layout.latentHeight, {}, 0, 1.0, rows, result);
        } else if (request.continueSource) {
            // The clip's last window (at most) is encoded; its last prefixFrames are held.
            const int64_t context = std::min(windowFrames, sourceFrames);
            const int64_t scale = impl_->scale();
            auto tailMel = sourceMel.slice(0, (sourceFrames - context) * scale, sourceFrames * scale);
            auto tail = impl_->encodeMel(tailMel.view({1, 1, context * scale, -1}));
            auto prefix = tail.slice(2, context - prefixFrames, context);
            const int64_t offset = (sourceFrames - prefixFrames) * spl;
            auto kept = rowSamples(sourceMono.slice(0, 0, offset + prefixFrames * spl), 1.0);
            for (auto& row : rows) row = kept;
            impl_->generateWindows(run, prefixFrames + layout.latentHeight, prefix, offset, 1.0 / gain, rows, result);
            keepSamples = sourceFrames * spl + layout.audioSamples;
        } else if (request.inpaintRange) {
            const auto generated = impl_->inpaintWindows(run, sourceMel, spanStart, spanFrames, inpaintStart, inpaintEnd,
                                                         edge, 1.0 / gain, result);
            // The clip is kept as it was outside the range; the range fades in and out over the
            // frames where the latents were cross-faded.
            const auto original = rowSamples(sourceMono, 1.0);
            const int64_t from = inpaintStart * spl, to = std::min(inpaintEnd * spl, sourceSamples);
            const int64_t fade = std::max<int64_t>(edge * spl, 1);
            for (int64_t v = 0; v < n; ++v) {
                auto row = original;
                const auto& piece = generated[static_cast<size_t>(v)];
                for (int64_t i = from; i < to; ++i) {
                    const double w = std::min({1.0, static_cast<double>(i - from + 1) / static_cast<double>(fade + 1),
                                               static_cast<double>(to - i) / static_cast<double>(fade + 1)});
                    const float g = piece[static_cast<size_t>(i - spanStart * spl)];
                    row[static_cast<size_t>(i)] = static_cast<float>((1.0 - w) * row[static_cast<size_t>(i)] + w * g);
                }
                rows[static_cast<size_t>(v)] = std::move(row);
            }
            if (from > 0) result.joinSeconds.push_back(static_cast<double>(from) / rate);
            if (to < sourceSamples) result.joinSeconds.push_back(static_cast<double>(to) / rate);
            std::sort(result.joinSeconds.begin(), result.joinSeconds.end());
            keepSamples = sourceSamples;
        } else if (layout.latentHeight > windowFrames) {  // a loop longer than one window
            const auto ends = impl_->generateWindows(run, layout.latentHeight, {}, 0, 1.0, rows, result);
            impl_->closeLoop(run, layout.latentHeight, ends, rows, result);
            std::sort(result.joinSeconds.begin(), result.joinSeconds.end());
            keepSamples = layout.latentHeight * spl;  // a whole number of latent frames: the loop's period
        } else {  // a loop within one window: the time axis wrapped into a circle
            const int64_t height = layout.latentHeight;
            const int64_t wrap = std::max<int64_t>(std::min(height / 2, impl_->overlapFrames()), 1);
            auto latents = impl_->denoiseWindow(run, height, {}, {}, wrap);
            auto mel = impl_->latentsToMel(latents, wrap);
            auto samples = impl_->melToSamples(mel, wrap * impl_->scale());
            result.mel = mel.to(torch::kCPU, torch::kFloat32);
            for (int64_t v = 0; v < n; ++v) rows[static_cast<size_t>(v)] = rowSamples(samples[v], 1.0);
            keepSamples = height * spl;  // a whole number of latent frames: the loop's period
        }
        result.timesteps = run.timesteps;
        checkCancelled();
        report("decoding", 0.9, totalSteps, totalSteps, -1);
        std::vector<torch::Tensor> waves;
        for (auto& row : rows) {
            row.resize(static_cast<size_t>(keepSamples), 0.0f);
            AudioBuffer buffer;
            buffer.sampleRate = rate;
            buffer.channels = 1;
            buffer.samples = row;
            waves.push_back(torch::from_blob(row.data(), {keepSamples}, torch::kFloat32).clone());
            if (request.outputSampleRate > 0 && request.outputSampleRate != rate) {
                if (request.loop) {
                    // Resampled as three periods so the filter sees the loop on both sides.
                    AudioBuffer three = buffer;
                    for (int k = 0; k < 2; ++k) three.samples.insert(three.samples.end(), row.begin(), row.end());
                    auto converted = resample(three, request.outputSampleRate);
                    const auto period = static_cast<size_t>(std::llround(static_cast<double>(keepSamples) *
                                                                         request.outputSampleRate / rate));
                    buffer.sampleRate = request.outputSampleRate;
                    buffer.samples.assign(converted.samples.begin() + static_cast<std::ptrdiff_t>(period),
                                          converted.samples.begin() + static_cast<std::ptrdiff_t>(std::min(2 * period, converted.samples.size())));
                    buffer.samples.resize(period, 0.0f);
                } else {
                    buffer = resample(buffer, request.outputSampleRate);
                }
            }
            result.audio.push_back(std::move(buffer));
        }
        result.waveform = torch::stack(waves);
        result.seconds = secondsSince(started);
        report("done", 1.0, totalSteps, totalSteps, 0.0);
        return result;
    }

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
