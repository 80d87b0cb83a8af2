#include "golden/golden_case.h"
#include "golden/golden_components.h"

#include "models/audioldm/clap_text.h"

#include <torch/torch.h>

namespace grym {

void runClapTextGolden(GoldenCase& c) {
    const audioldm::ClapTextEncoder encoder = audioldm::ClapTextEncoder::load(c.dir(), LoadOptions{c.device(), c.dtype()});
    const torch::Tensor ids = c.tensor("input_ids");
    const torch::Tensor mask = c.tensor("attention_mask");

    audioldm::ClapTextForwardOptions full;
    full.hiddenStates = true;
    const audioldm::ClapTextOutput out = encoder.forward(ids, mask, full);

    std::vector<std::string> outputs;
    for (const auto& name : c.spec().value("outputs", nlohmann::json::array())) outputs.push_back(name.get<std::string>());
    for (const auto& name : outputs) {
        if (name == "last_hidden_state") c.compare(name, out.lastHiddenState);
        else if (name == "pooler_output") c.compare(name, out.poolerOutput);
        else if (name == "text_embeds") c.compare(name, out.textEmbeds);
        else if (name == "text_embeds_normalized") c.compare(name, out.textEmbedsNormalized);
        else if (name.rfind("hidden_states.", 0) == 0) {
            const size_t index = std::stoul(name.substr(14));
            if (index >= out.hiddenStates.size())
                c.compareExact(name, false, "the model has only " + std::to_string(out.hiddenStates.size()) + " hidden states");
            else
                c.compare(name, out.hiddenStates[index]);
        } else {
            c.compareExact(name, false, "unknown output name");
        }
    }

    // The pipeline runs the encoder only up to the last attended token; that must give the
    // same conditioning as the full padded run.
    audioldm::ClapTextForwardOptions trimmed;
    trimmed.trimPadding = true;
    const audioldm::ClapTextOutput shortRun = encoder.forward(ids, mask, trimmed);
    c.report().comparisons.push_back(compareTensors("text_embeds_normalized (trimmed)", shortRun.textEmbedsNormalized,
                                                    c.tensor("text_embeds_normalized"), c.toleranceRelativeL2(),
                                                    c.toleranceMaxAbs()));
}

}  // namespace grym
