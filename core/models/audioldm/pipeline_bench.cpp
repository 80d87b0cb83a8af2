#include "models/audioldm/pipeline_bench.h"

#include "common/process_memory.h"
#include "models/audioldm/json_fields.h"
#include "models/audioldm/pipeline.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace grym::audioldm {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Best of `repeats` runs (the first run also pays for one-time allocations).
template <typename F>
double bestOf(int repeats, F&& f) {
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < std::max(1, repeats); ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best = std::min(best, secondsSince(start));
    }
    return best;
}

}  // namespace

nlohmann::json runAudioLdmBenchmark(const AudioLdmBenchOptions& options,
                                    const std::function<void(const std::string&)>& log) {
    auto say = [&](const std::string& s) {
        if (log) log(s);
    };
    if (options.threads > 0) torch::set_num_threads(options.threads);
    torch::NoGradGuard noGrad;
    nlohmann::json out;
    out["benchmark"] = "audioldm";
    out["model"] = options.modelDir;
    out["threads"] = torch::get_num_threads();
    out["libtorch"] = TORCH_VERSION;

    say("loading " + options.modelDir);
    auto start = std::chrono::steady_clock::now();
    auto pipeline = AudioLdmPipeline::load(options.modelDir);
    out["load_seconds"] = secondsSince(start);
    out["random_weights"] = pipeline.randomWeights();
    out["parameter_bytes"] = pipeline.parameterBytes();

    const auto layout = pipeline.layoutFor(options.seconds);
    nlohmann::json components;
    say("text encoder (batch 2)");
    torch::Tensor embeds;
    components["text_encoder_batch2_seconds"] =
        bestOf(options.repeats, [&] { embeds = pipeline.encodePrompts({"", "a dog barking in the rain"}); });

    const std::vector<int64_t> latentShape{2, 8, layout.latentHeight, layout.latentWidth};
    auto latents = torch::randn(latentShape);
    say("UNet step (batch 2)");
    components["unet_step_batch2_seconds"] = bestOf(options.repeats, [&] { pipeline.denoise(latents, 500, embeds); });
    components["unet_latent_shape"] = latentShape;
    say("VAE decode");
    torch::Tensor mel;
    components["vae_decode_seconds"] =
        bestOf(options.repeats, [&] { mel = pipeline.decodeLatents(latents.slice(0, 0, 1)); });
    say("vocoder");
    components["vocoder_seconds"] = bestOf(options.repeats, [&] { pipeline.melToWaveform(mel); });
    components["vocoder_frames"] = mel.size(2);
    out["components"] = components;

    nlohmann::json endToEnd = nlohmann::json::array();
    for (auto steps : options.endToEndSteps) {
        say("end to end, " + std::to_string(steps) + " steps");
        GenerationRequest request;
        request.prompt = "a dog barking in the rain";
        request.steps = steps;
        request.durationSeconds = options.seconds;
        auto result = pipeline.generate(request);
        endToEnd.push_back({{"steps", steps},
                            {"audio_seconds", options.seconds},
                            {"seconds", result.seconds},
                            {"realtime_factor", result.seconds / options.seconds}});
    }
    out["end_to_end"] = endToEnd;
    out["peak_rss_bytes"] = peakResidentBytes();

    if (!options.referenceTimingPath.empty()) {
        const auto reference = readJsonFile(options.referenceTimingPath);
        const auto& ref = reference.at("reference_seconds_openblas");
        nlohmann::json ratios;
        auto ratio = [&](const char* ours, const char* theirs) {
            if (ref.contains(theirs)) ratios[ours] = components[ours].get<double>() / ref.at(theirs).get<double>();
        };
        ratio("unet_step_batch2_seconds", "unet_forward_batch2_latent_8x128x16");
        ratio("vae_decode_seconds", "vae_decode_latent_8x128x16");
        ratio("vocoder_seconds", "vocoder_512_frames");
        ratio("text_encoder_batch2_seconds", "clap_text_batch2_padded_to_512");
        out["ratio_to_reference_openblas"] = ratios;
        out["reference"] = options.referenceTimingPath;
    }
    return out;
}

}  // namespace grym::audioldm
