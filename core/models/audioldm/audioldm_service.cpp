#include "models/audioldm/audioldm_service.h"

#include "common/elapsed.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "models/audioldm/pipeline.h"
#include "models/audioldm/scheduler_factory.h"
#include "weights/safetensors.h"

#include <torch/torch.h>

#include <chrono>
#include <random>

namespace grym::audioldm {

namespace {

torch::Device torchDevice(ComputeDevice d) { return d == ComputeDevice::Cuda ? torch::kCUDA : torch::kCPU; }

// The compute dtype: weight-only int8/int4 keep activations in float32 on the CPU and float16
// on CUDA.
torch::ScalarType torchDtype(Precision p, ComputeDevice d) {
    switch (p) {
        case Precision::Fp32: return torch::kFloat32;
        case Precision::Fp16:
        case Precision::Bf16:
            if (d != ComputeDevice::Cuda)
                throw ModelError(std::string("AudioLDM: precision ") + toString(p) +
                                 " is only supported on CUDA; use fp32, int8 or int4 on the CPU");
            return p == Precision::Fp16 ? torch::kFloat16 : torch::kBFloat16;
        case Precision::Int8:
        case Precision::Int4: return d == ComputeDevice::Cuda ? torch::kFloat16 : torch::kFloat32;
    }
    throw ModelError(std::string("AudioLDM: unknown precision ") + toString(p));
}

WeightQuantization weightQuantization(Precision p) {
    if (p == Precision::Int8) return WeightQuantization::Int8;
    if (p == Precision::Int4) return WeightQuantization::Int4;
    return WeightQuantization::None;
}

// Starting latents saved as safetensors: the tensor `key`, or "latents", or the only one there.
torch::Tensor readLatentsFile(const std::string& file, const std::string& key) {
    try {
        SafetensorsFile f(file);
        std::string name = key;
        if (name.empty()) {
            if (f.contains("latents")) {
                name = "latents";
            } else if (f.tensors().size() == 1) {
                name = f.tensors().front().name;
            } else {
                std::string names;
                for (const auto& t : f.tensors()) names += (names.empty() ? "" : ", ") + t.name;
                throw TaskError(file + " holds several tensors (" + names + "); name one with latents_key");
            }
        }
        if (!f.contains(name)) throw TaskError(file + " has no tensor named '" + name + "'");
        return f.tensor(name).to(torch::kFloat32).clone();
    } catch (const ModelError& e) {
        throw TaskError(std::string("cannot read starting latents: ") + e.what());
    }
}

}  // namespace

AudioLdmService::AudioLdmService(AudioLdmServiceOptions options) : options_(std::move(options)) {
    info_.id = "audioldm";
    info_.device = options_.device;
    info_.precision = options_.precision;
    info_.modelPath = options_.modelPath;
}

AudioLdmService::~AudioLdmService() = default;

ServiceInfo AudioLdmService::info() const {
    ServiceInfo copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        copy = info_;
    }
    copy.estimatedMemoryBytes = estimatedMemoryBytes();
    return copy;
}

uint64_t AudioLdmService::estimatedMemoryBytes() const {
    std::lock_guard<std::mutex> lock(estimateMutex_);
    if (estimatedBytes_ == 0) {
        try {  // reads only the checkpoint headers, once
            estimatedBytes_ =
                estimatePipelineMemoryBytes(options_.modelPath, torchDtype(options_.precision, options_.device));
        } catch (const Error&) {
            return 0;  // unknown until the folder is valid; load() reports why
        }
    }
    return estimatedBytes_;
}

void AudioLdmService::setStatus(ServiceStatus status, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    info_.status = status;
    info_.statusMessage = message;
}

void AudioLdmService::load() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (pipeline_) return;
        info_.status = ServiceStatus::Loading;
        info_.statusMessage.clear();
    }
    const auto start = std::chrono::steady_clock::now();
    try {
        if (options_.device == ComputeDevice::Cuda && !torch::cuda::is_available())
            throw ModelError("AudioLDM: CUDA was requested but this build or machine has no CUDA device");
        const LoadOptions load{torchDevice(options_.device), torchDtype(options_.precision, options_.device),
                               weightQuantization(options_.precision)};
        auto pipeline = std::make_shared<AudioLdmPipeline>(AudioLdmPipeline::load(options_.modelPath, load));
        std::lock_guard<std::mutex> lock(mutex_);
        pipeline_ = std::move(pipeline);
        info_.status = ServiceStatus::Ready;
        info_.loadSeconds = secondsSince(start);
        if (pipeline_->randomWeights()) info_.statusMessage = "random weights (benchmark model)";
    } catch (const std::exception& e) {
        setStatus(ServiceStatus::Failed, e.what());
        throw;
    }
}

void AudioLdmService::unload() {
    std::shared_ptr<AudioLdmPipeline> released;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        released = std::move(pipeline_);
        info_.status = ServiceStatus::Unloaded;
        info_.statusMessage.clear();
    }
    released.reset();  // the weights are freed here unless a run still holds them
}

TaskResult AudioLdmService::run(const TaskInput& input, const ProgressCallback& progress,
                                const CancellationToken& cancel) {
    std::shared_ptr<AudioLdmPipeline> pipeline;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!pipeline_) throw TaskError("the audioldm service is not loaded");
        pipeline = pipeline_;
        info_.status = ServiceStatus::Busy;
    }
    struct ReadyAgain {
        AudioLdmService* self;
        ~ReadyAgain() {
            std::lock_guard<std::mutex> lock(self->mutex_);
            if (self->info_.status == ServiceStatus::Busy) self->info_.status = ServiceStatus::Ready;
        }
    } readyAgain{this};

    const JsonReader p(input.parameters, "audioldm task parameters", throwTaskError);
    if (input.prompt.empty()) throw TaskError("generation needs a prompt");
    GenerationRequest request;
    request.prompt = input.prompt;
    request.negativePrompt = p.string("negative_prompt", "");
    request.steps = p.integer("steps", request.steps);
    request.guidanceScale = p.number("guidance", request.guidanceScale);
    // Without a seed the service draws one and reports it, so any result can be reproduced.
    if (p.has("seed")) {
        const int64_t seed = p.integer("seed");
        if (seed < 0) p.reject("seed", "must not be negative");
        request.seed = static_cast<uint64_t>(seed);
    } else {
        request.seed = std::random_device{}() & 0x7fffffffu;
    }
    request.durationSeconds = p.number("duration", 0.0);
    request.ddimEta = p.number("eta", 0.0);
    request.strength = p.number("strength", request.strength);
    request.outputSampleRate = static_cast<int>(p.integer("sample_rate", 0));
    if (p.integer("variations", 1) != 1)
        p.reject("variations", "the audioldm service returns one clip per task; submit one task per variation "
                               "(with seeds seed, seed+1, ...)");
    const auto scheduler = p.string("scheduler", "");
    try {
        if (!scheduler.empty()) request.scheduler = parseSchedulerKind(scheduler);
    } catch (const ModelError& e) {
        throw TaskError(e.what());
    }
    if (input.audio) request.sourceAudio = input.audio;
    const auto latentsFile = p.string("latents_file", "");
    if (!latentsFile.empty()) request.initialLatents = readLatentsFile(latentsFile, p.string("latents_key", ""));

    auto result = pipeline->generate(request, progress, &cancel);
    TaskResult out;
    out.audio = std::move(result.audio.front());
    const double seconds = out.audio->duration();
    out.data = {{"seed", request.seed},
                {"steps", request.steps},
                {"timesteps", result.timesteps},
                {"scheduler", scheduler.empty() ? "model default" : scheduler},
                {"duration", seconds},
                {"sample_rate", out.audio->sampleRate},
                {"random_weights", pipeline->randomWeights()},
                {"variation_of_input", input.audio.has_value()}};
    out.metrics = {{"generation_seconds", result.seconds},
                   {"realtime_factor", seconds > 0 ? result.seconds / seconds : 0.0}};
    return out;
}

}  // namespace grym::audioldm
