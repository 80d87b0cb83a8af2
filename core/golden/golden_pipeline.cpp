#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/pipeline.h"

#include <torch/torch.h>

namespace grym {

void runPipelineGolden(GoldenCase& c) {
    auto pipeline = audioldm::AudioLdmPipeline::load(c.dir(), LoadOptions{c.device(), c.dtype()});
    for (const auto& run : c.spec().at("runs")) {
        const auto prefix = run.at("prefix").get<std::string>();
        audioldm::GenerationRequest request;
        request.prompt = run.at("prompt").get<std::string>();
        if (run.contains("negative_prompt") && !run.at("negative_prompt").is_null())
            request.negativePrompt = run.at("negative_prompt").get<std::string>();
        request.durationSeconds = run.at("audio_length_in_s").get<double>();
        request.steps = run.at("num_inference_steps").get<int64_t>();
        request.guidanceScale = run.at("guidance_scale").get<double>();
        request.initialLatents = c.input(prefix + ".latents");
        audioldm::GenerationOptions options;
        options.keepStepLatents = true;
        auto result = pipeline.generate(request, {}, nullptr, options);

        c.compare(prefix + ".prompt_embeds", result.promptEmbeds);
        for (size_t i = 0; i < result.stepLatents.size(); ++i)
            c.compare(prefix + ".step_latents." + std::to_string(i), result.stepLatents[i]);
        c.compareExact(prefix + ".steps", c.hasTensor(prefix + ".step_latents." + std::to_string(result.stepLatents.size() - 1)) &&
                                              !c.hasTensor(prefix + ".step_latents." + std::to_string(result.stepLatents.size())),
                       "number of denoising steps");
        c.compare(prefix + ".mel", result.mel);
        c.compare(prefix + ".audio", result.waveform);
    }
}

}  // namespace grym
