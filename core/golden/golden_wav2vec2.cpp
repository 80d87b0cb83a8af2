// Golden runner for wav2vec2 cases: raw clips -> our feature extractor -> our model, compared
// with every output the case lists; the decode check runs greedy CTC on the case's logits.
#include "golden/golden_case.h"
#include "golden/golden_components.h"

#include "common/error.h"
#include "models/wav2vec2/ctc_decoder.h"
#include "models/wav2vec2/feature_extractor.h"
#include "models/wav2vec2/model.h"

#include <torch/torch.h>

#include <filesystem>

namespace grym {

namespace {

std::vector<float> clipFromTensor(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kFloat32).contiguous().view(-1);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// The case's batch: the clips its reference call fed to the model, in order.
std::vector<std::vector<float>> caseClips(const GoldenCase& c) {
    const int64_t batch = c.tensor("input_values").size(0);
    std::vector<std::vector<float>> clips;
    for (int64_t i = 0; i < batch; ++i) clips.push_back(clipFromTensor(c.tensor("raw." + std::to_string(i))));
    return clips;
}

}  // namespace

void runWav2vec2Golden(GoldenCase& c) {
    const std::string dir = c.dir();
    const auto pre = loadWav2vec2PreprocessorConfig(c.path("preprocessor_config.json"));
    const Wav2vec2Batch batch = prepareWav2vec2Batch(caseClips(c), pre);
    if (c.hasTensor("attention_mask"))
        c.compareExact("attention_mask", torch::equal(batch.attentionMask, c.tensor("attention_mask").to(torch::kInt64)));

    const Wav2vec2Model model = Wav2vec2Model::load(dir, LoadOptions{c.device(), c.dtype()});
    // The reference passes a mask exactly when the case lists one (models whose feature
    // extractor returns masks); base models take the zero-padded batch alone.
    const torch::Tensor mask = c.hasTensor("attention_mask") ? batch.attentionMask : torch::Tensor();
    const Wav2vec2Output out = model.forward(batch.inputValues.to(c.device(), c.dtype()),
                                             mask.defined() ? mask.to(c.device()) : mask, /*allHiddenStates=*/true);

    for (const auto& nameJson : c.spec().at("outputs")) {
        const std::string name = nameJson.get<std::string>();
        if (name == "input_values") c.compare(name, batch.inputValues);
        else if (name == "extract_features") c.compare(name, out.extractFeatures);
        else if (name == "logits") {
            if (!out.logits.defined()) throw ModelError(dir + ": case lists logits but the checkpoint has no CTC head");
            c.compare(name, out.logits);
        } else if (name == "last_hidden_state") c.compare(name, out.lastHiddenState);
        else if (name.rfind("hidden_states.", 0) == 0) {
            const size_t index = std::stoul(name.substr(14));
            if (index >= out.hiddenStates.size())
                throw ModelError(dir + ": case lists " + name + " but the model gives " + std::to_string(out.hiddenStates.size()) +
                                 " hidden states");
            c.compare(name, out.hiddenStates[index]);
        } else {
            throw ModelError(dir + "/case.json: output '" + name + "' is not one the wav2vec2 runner knows");
        }
    }

    if (c.spec().contains("decode")) {
        const auto& decode = c.spec().at("decode");
        const std::string expected = decode.value("text", std::string());
        const torch::Tensor logits = c.tensor(decode.value("logits", std::string("decode.logits")));
        const CtcVocabulary vocab = CtcVocabulary::load(dir);
        const std::string text = vocab.greedyDecode(logits.dim() == 3 ? logits[0] : logits);
        c.compareExact("decode", text == expected, "\"" + text + "\" vs \"" + expected + "\"");
    }
}

}  // namespace grym
