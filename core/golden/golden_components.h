#pragma once
// One runner per golden component; each lives in its own golden_<component>.cpp next to
// the model it exercises. A runner reads inputs from the case, runs our implementation,
// and calls GoldenCase::compare for every output the case lists.
namespace grym {

class GoldenCase;

void runTokenizerGolden(GoldenCase& c);
void runClapTextGolden(GoldenCase& c);
void runUnetGolden(GoldenCase& c);
void runVaeGolden(GoldenCase& c);
void runVocoderGolden(GoldenCase& c);
void runSchedulerGolden(GoldenCase& c);  // scheduler_ddim and scheduler_dpm(pp)
void runPipelineGolden(GoldenCase& c);
void runWav2vec2Golden(GoldenCase& c);

// Thrown by a runner for a component that is not implemented yet.
struct GoldenUnsupported {
    const char* what;
};

}  // namespace grym
