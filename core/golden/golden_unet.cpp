#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/unet.h"

#include <torch/torch.h>

namespace grym {

// unet(sample, timestep, encoder_hidden_states=None, class_labels) for every entry of calls[].
void runUnetGolden(GoldenCase& c) {
    const auto unet = audioldm::UNet::load(c.dir(), LoadOptions{c.device(), c.dtype()});
    for (const auto& call : c.spec().at("calls")) {
        const std::string prefix = call.at("prefix").get<std::string>();
        const auto classLabels =
            c.hasTensor(prefix + ".class_labels") ? c.tensor(prefix + ".class_labels") : torch::Tensor();
        const auto out = unet.forward(c.tensor(prefix + ".sample"), c.tensor(prefix + ".timestep"), classLabels);
        c.compare(prefix + ".out", out);
    }
}

}  // namespace grym
