#include "golden/golden_case.h"
#include "golden/golden_components.h"
#include "models/audioldm/vae.h"

#include <torch/torch.h>

namespace grym {

// decoded = vae.decode(latents); posterior = vae.encode(mel) -> mean, std, logvar.
void runVaeGolden(GoldenCase& c) {
    const auto vae = audioldm::Vae::load(c.dir(), LoadOptions{c.device(), c.dtype()});
    if (c.hasTensor("latents")) c.compare("decoded", vae.decode(c.tensor("latents")));
    if (c.hasTensor("mel")) {
        const auto posterior = vae.encode(c.tensor("mel"));
        c.compare("posterior_mean", posterior.mean);
        c.compare("posterior_std", posterior.std);
        c.compare("posterior_logvar", posterior.logvar);
    }
}

}  // namespace grym
