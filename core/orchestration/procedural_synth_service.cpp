#include "orchestration/procedural_synth_service.h"

#include "common/math_constants.h"
#include "common/elapsed.h"

#include "common/error.h"
#include "common/json_reader.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace grym {

namespace {

struct Partial {
    double frequency;
    double amplitude;
    int table;          // waveform brightness
    double envelopeRate;
};

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

// One partial per word: the word's hash places it in 80..2000 Hz (log scale) and sets its colour.
std::vector<Partial> partialsFor(const std::string& prompt, int tables) {
    std::vector<Partial> partials;
    std::istringstream words(prompt);
    std::string w;
    while (words >> w) {
        const uint64_t h = fnv1a(w);
        const double position = static_cast<double>(h & 0xffff) / 65535.0;
        Partial p;
        p.frequency = 80.0 * std::pow(2000.0 / 80.0, position);
        p.amplitude = 0.3 + 0.7 * static_cast<double>((h >> 16) & 0xff) / 255.0;
        p.table = static_cast<int>((h >> 24) % static_cast<uint64_t>(tables));
        p.envelopeRate = 0.2 + 3.0 * static_cast<double>((h >> 32) & 0xff) / 255.0;
        partials.push_back(p);
    }
    if (partials.empty()) partials.push_back(Partial{220.0, 1.0, 0, 1.0});
    return partials;
}

JsonReader synthParameters(const TaskInput& input) {
    return JsonReader(input.parameters, "procedural-synth parameters", throwTaskError);
}

double positiveParameter(const JsonReader& parameters, const char* name, double fallback, double max) {
    const double x = parameters.number(name, fallback);
    if (!(x > 0) || x > max) parameters.reject(name, "expected more than 0 and at most " + std::to_string(max));
    return x;
}

}  // namespace

ServiceInfo ProceduralSynthService::info() const {
    std::lock_guard<std::mutex> lock(mutex_);
    ServiceInfo i;
    i.id = id();
    i.status = status_;
    i.device = ComputeDevice::Cpu;
    i.precision = Precision::Fp32;
    i.loadSeconds = loadSeconds_;
    i.estimatedMemoryBytes = estimatedMemoryBytes();
    i.modelPath = "(built in: procedural DSP synthesis, not a neural model)";
    return i;
}

uint64_t ProceduralSynthService::estimatedMemoryBytes() const {
    return static_cast<uint64_t>(kTables) * kTableSize * sizeof(float);
}

void ProceduralSynthService::load() {
    const auto start = std::chrono::steady_clock::now();
    std::vector<float> tables(static_cast<size_t>(kTables) * kTableSize);
    for (int t = 0; t < kTables; ++t) {
        const int harmonics = t + 1;
        float peak = 0.0f;
        for (int i = 0; i < kTableSize; ++i) {
            double v = 0.0;
            for (int h = 1; h <= harmonics; ++h) v += std::sin(2.0 * kPi * h * i / kTableSize) / h;
            tables[static_cast<size_t>(t) * kTableSize + i] = static_cast<float>(v);
            peak = std::max(peak, static_cast<float>(std::fabs(v)));
        }
        for (int i = 0; i < kTableSize; ++i) tables[static_cast<size_t>(t) * kTableSize + i] /= peak;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    wavetables_ = std::move(tables);
    status_ = ServiceStatus::Ready;
    loadSeconds_ = secondsSince(start);
}

void ProceduralSynthService::unload() {
    std::lock_guard<std::mutex> lock(mutex_);
    wavetables_.clear();
    wavetables_.shrink_to_fit();
    status_ = ServiceStatus::Unloaded;
}

TaskCostEstimate ProceduralSynthService::estimateCost(const TaskInput& input) const {
    TaskCostEstimate c;
    const double duration = positiveParameter(synthParameters(input), "duration", 5.0, kMaxDurationSeconds);
    // Two buffers (the signal and one step's target) of the requested length.
    c.workingMemoryBytes = static_cast<uint64_t>(2 * duration * kSampleRate * sizeof(float));
    c.intensity = ComputeIntensity::Heavy;
    return c;
}

TaskResult ProceduralSynthService::run(const TaskInput& input, const ProgressCallback& progress,
                                       const CancellationToken& cancel) {
    const JsonReader parameters = synthParameters(input);
    const double duration = positiveParameter(parameters, "duration", 5.0, kMaxDurationSeconds);
    const int steps = static_cast<int>(positiveParameter(parameters, "steps", 20, 1000));
    const uint64_t seed = static_cast<uint64_t>(parameters.integer("seed", 0));
    std::vector<float> tables;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (status_ != ServiceStatus::Ready)
            throw TaskError(std::string("procedural-synth is ") + toString(status_) + "; load it first");
        tables = wavetables_;
        status_ = ServiceStatus::Busy;
    }
    struct ReadyAgain {
        ProceduralSynthService* self;
        ~ReadyAgain() {
            std::lock_guard<std::mutex> lock(self->mutex_);
            if (self->status_ == ServiceStatus::Busy) self->status_ = ServiceStatus::Ready;
        }
    } readyAgain{this};

    const auto start = std::chrono::steady_clock::now();
    const size_t n = static_cast<size_t>(duration * kSampleRate);
    const std::vector<Partial> partials = partialsFor(input.prompt, kTables);

    // Start from seeded noise and move towards the rendered target a little more each step,
    // re-rendering the target with a brightness that opens up as the steps go on.
    std::vector<float> signal(n), target(n);
    uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (auto& s : signal) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        s = static_cast<float>(static_cast<double>(state >> 40) / static_cast<double>(1ULL << 24) - 0.5);
    }
    for (int step = 0; step < steps; ++step) {
        cancel.throwIfCancelled();
        std::fill(target.begin(), target.end(), 0.0f);
        const double openness = static_cast<double>(step + 1) / steps;
        for (const Partial& p : partials) {
            const int table = std::min(kTables - 1, static_cast<int>(p.table * openness));
            const float* wave = &tables[static_cast<size_t>(table) * kTableSize];
            const double increment = p.frequency * kTableSize / kSampleRate;
            double phase = 0.0;
            for (size_t i = 0; i < n; ++i) {
                const double t = static_cast<double>(i) / kSampleRate;
                const double envelope = p.amplitude * (1.0 - std::exp(-8.0 * t)) * std::exp(-p.envelopeRate * t / duration);
                target[i] += static_cast<float>(envelope * wave[static_cast<size_t>(phase)]);
                phase += increment;
                if (phase >= kTableSize) phase -= kTableSize;
            }
        }
        const float blend = 1.0f / static_cast<float>(steps - step);
        for (size_t i = 0; i < n; ++i) signal[i] += blend * (target[i] - signal[i]);
        if (progress) {
            ProgressUpdate u;
            u.step = step + 1;
            u.totalSteps = steps;
            u.fraction = static_cast<double>(step + 1) / steps;
            u.stage = "synthesising";
            progress(u);
        }
    }
    float peak = 0.0f;
    for (float s : signal) peak = std::max(peak, std::fabs(s));
    if (peak > 0) {
        const float gain = 0.9f / peak;
        for (auto& s : signal) s *= gain;
    }

    TaskResult r;
    AudioBuffer audio;
    audio.sampleRate = kSampleRate;
    audio.channels = 1;
    audio.samples = std::move(signal);
    r.audio = std::move(audio);
    r.data = {{"workload", "procedural DSP synthesis (not a neural model)"}, {"partials", partials.size()}};
    r.metrics = {{"steps", steps},
                 {"durationSeconds", duration},
                 {"seconds", secondsSince(start)}};
    return r;
}

}  // namespace grym
