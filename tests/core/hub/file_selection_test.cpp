// Which files a pull takes, and which architectures grym-synth accepts (no network here).
#include "hub/file_selection.h"
#include "hub/hub_error.h"
#include "hub/model_support.h"

#include <catch2/catch.hpp>

using namespace grym;
using Files = std::vector<std::string>;

TEST_CASE("weights: a plain safetensors file wins over bin, and variants or other formats are never taken", "[hub]") {
    CHECK(hub::selectWeightFiles({"model.safetensors", "pytorch_model.bin", "model.fp16.safetensors", "tf_model.h5"}, "") ==
          Files{"model.safetensors"});
    CHECK(hub::selectWeightFiles({"pytorch_model.bin", "pytorch_model.fp16.bin", "flax_model.msgpack"}, "") ==
          Files{"pytorch_model.bin"});
    CHECK(hub::selectWeightFiles({"unet/diffusion_pytorch_model.non_ema.bin", "unet/diffusion_pytorch_model.bin",
                                  "unet/diffusion_flax_model.msgpack"}, "unet") ==
          Files{"unet/diffusion_pytorch_model.bin"});
    CHECK(hub::selectWeightFiles({"model.onnx", "model.ckpt", "flax_model.msgpack", "tf_model.h5", "onnx/model.onnx"}, "").empty());
    // Files in a subfolder are not the folder's weights.
    CHECK(hub::selectWeightFiles({"onnx/model.safetensors", "pytorch_model.bin"}, "") == Files{"pytorch_model.bin"});
}

TEST_CASE("weights: a sharded checkpoint comes with its index and every shard of the same name", "[hub]") {
    Files repo = {"model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                  "model.fp16-00001-of-00002.safetensors", "model.fp16.safetensors.index.json",
                  "pytorch_model.bin.index.json", "pytorch_model-00001-of-00001.bin"};
    CHECK(hub::selectWeightFiles(repo, "") == Files{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                                     "model.safetensors.index.json"});
    Files binOnly = {"pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"};
    CHECK(hub::selectWeightFiles(binOnly, "") == Files{"pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin",
                                                        "pytorch_model.bin.index.json"});
}

TEST_CASE("a diffusers pipeline takes model_index.json and each named component's configs and best weights", "[hub]") {
    nlohmann::json modelIndex = {{"_class_name", "AudioLDMPipeline"},
                                 {"_diffusers_version", "0.25.1"},
                                 {"unet", {"diffusers", "UNet2DConditionModel"}},
                                 {"text_encoder", {"transformers", "ClapTextModelWithProjection"}},
                                 {"tokenizer", {"transformers", "RobertaTokenizerFast"}},
                                 {"scheduler", {"diffusers", "DDIMScheduler"}},
                                 {"safety_checker", {nullptr, nullptr}}};
    Files repo = {"model_index.json", "README.md", "audioldm-s-full.ckpt",
                  "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.bin",
                  "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_flax_model.msgpack",
                  "text_encoder/config.json", "text_encoder/pytorch_model.bin", "text_encoder/model.fp16.safetensors",
                  "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
                  "tokenizer/special_tokens_map.json", "scheduler/scheduler_config.json",
                  "safety_checker/config.json", "safety_checker/model.safetensors", "vae/config.json",
                  "vae/diffusion_pytorch_model.safetensors", "onnx/unet/model.onnx"};
    CHECK(hub::selectPipelineFiles(repo, modelIndex) ==
          Files{"model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json",
                "text_encoder/pytorch_model.bin", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
                "tokenizer/tokenizer_config.json", "tokenizer/vocab.json", "unet/config.json",
                "unet/diffusion_pytorch_model.safetensors"});
}

TEST_CASE("a transformers model takes its configs, vocab, tokenizer files and best weights", "[hub]") {
    Files repo = {"config.json", "preprocessor_config.json", "vocab.json", "tokenizer_config.json",
                  "special_tokens_map.json", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
                  ".gitattributes", "README.md", "alphabet.json"};
    CHECK(hub::selectTransformersFiles(repo) == Files{"config.json", "preprocessor_config.json", "pytorch_model.bin",
                                                      "special_tokens_map.json", "tokenizer_config.json", "vocab.json"});
}

TEST_CASE("include globs pick exactly the matching files, across folders as Python's fnmatch does", "[hub]") {
    Files repo = {"model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors", "vae/config.json"};
    CHECK(hub::selectIncludedFiles(repo, {"unet/*"}) == Files{"unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors"});
    CHECK(hub::selectIncludedFiles(repo, {"*.json"}) == Files{"model_index.json", "unet/config.json", "vae/config.json"});
    CHECK_THROWS_AS(hub::selectIncludedFiles(repo, {"*.ckpt"}), HubError);
}

TEST_CASE("only AudioLDM pipelines and wav2vec2 models count as runnable, with the reason otherwise", "[hub]") {
    CHECK(hub::assessDiffusersPipeline({{"_class_name", "AudioLDMPipeline"}}).supported);
    hub::ModelSupport sd = hub::assessDiffusersPipeline({{"_class_name", "StableDiffusionPipeline"}});
    CHECK_FALSE(sd.supported);
    CHECK_THAT(sd.reason, Catch::Contains("StableDiffusionPipeline"));
    CHECK(hub::assessDiffusersPipeline({{"_class_name", "AudioLDM2Pipeline"}}).supported == false);

    CHECK(hub::assessTransformersModel({{"architectures", {"Wav2Vec2ForCTC"}}, {"model_type", "wav2vec2"}}).supported);
    CHECK(hub::assessTransformersModel({{"architectures", {"Wav2Vec2Model"}}}).architecture == "Wav2Vec2Model");
    CHECK(hub::assessTransformersModel({{"model_type", "wav2vec2"}}).supported);
    hub::ModelSupport bert = hub::assessTransformersModel({{"architectures", {"BertModel"}}, {"model_type", "bert"}});
    CHECK_FALSE(bert.supported);
    CHECK_THAT(bert.reason, Catch::Contains("BertModel"));
    CHECK_FALSE(hub::assessTransformersModel({{"architectures", {"Wav2Vec2ForPreTraining"}}, {"model_type", "wav2vec2"}}).supported);
}
