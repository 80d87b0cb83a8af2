#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/vocoder.h"

#include <torch/torch.h>

namespace grym {

void runVocoderGolden(GoldenCase& c) {
    torch::NoGradGuard noGrad;
    auto vocoder = audioldm::Vocoder::load(c.dir(), LoadOptions{c.device(), c.dtype()});
    c.compare("waveform", vocoder->forward(c.input("mel")));
    c.compare("waveform_unbatched", vocoder->forward(c.input("mel_unbatched")));
}

}  // namespace grym
