#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/vocoder.h"

#include <torch/torch.h>

namespace grym {

void runVocoderGolden(GoldenCase& c) {
    torch::NoGradGuard noGrad;
    auto vocoder = audioldm::loadVocoder(c.dir());
    vocoder->to(c.device(), c.dtype());
    c.compare("waveform", vocoder->forward(c.input("mel")));
    c.compare("waveform_unbatched", vocoder->forward(c.input("mel_unbatched")));
}

}  // namespace grym
