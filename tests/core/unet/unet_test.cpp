#include "common/error.h"
#include "models/audioldm/unet.h"
#include "core/quantization_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <string>

using grym::audioldm::UNet;
using grym::audioldm::UNetConfig;

namespace {

const std::string kCaseDir = std::string(GRYM_TEST_DATA_DIR) + "/golden/unet_a";

nlohmann::json goldenConfig() {
    std::ifstream in(kCaseDir + "/config.json");
    return nlohmann::json::parse(in);
}

// The error message from parsing `json`, or "" when it parses.
std::string configError(const nlohmann::json& json) {
    try {
        UNetConfig::fromJson(json, "test/config.json");
    } catch (const grym::ModelError& e) {
        return e.what();
    }
    return "";
}

using grym::test::relativeError;

}  // namespace

TEST_CASE("the AudioLDM UNet config parses with the diffusers head-count quirk", "[unet]") {
    const auto c = UNetConfig::fromJson(goldenConfig(), "config.json");
    CHECK(c.blockOutChannels == std::vector<int64_t>{16, 32, 32});
    // attention_head_dim = 8 means eight heads, not eight channels per head.
    CHECK(c.attentionHeads == std::vector<int64_t>{8, 8, 8});
    CHECK(c.classEmbedType == "simple_projection");
    CHECK(c.classEmbeddingsConcat);
    CHECK(c.resnetTimeEmbedDim() == 2 * 4 * 16);
    CHECK(c.featureMapDownsampling() == 4);
}

TEST_CASE("unsupported UNet config values are rejected by field name", "[unet]") {
    struct Bad {
        const char* field;
        nlohmann::json value;
    };
    const Bad cases[] = {
        {"down_block_types", {"DownBlock2D", "AttnDownBlock2D", "CrossAttnDownBlock2D"}},
        {"up_block_types", {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2DX"}},
        {"mid_block_type", "UNetMidBlock2DSimpleCrossAttn"},
        {"class_embed_type", "timestep"},
        {"cross_attention_dim", 768},
        {"addition_embed_type", "text"},
        {"resnet_time_scale_shift", "scale_shift"},
        {"time_embedding_type", "fourier"},
        {"num_class_embeds", 10},
        {"norm_num_groups", 5},
        {"attention_head_dim", 3},
        {"only_cross_attention", true},
        {"dual_cross_attention", true},
        {"act_fn", "tanh"},
        {"encoder_hid_dim", 512},
        {"time_cond_proj_dim", 16},
        {"conv_in_kernel", 2},
    };
    for (const auto& bad : cases) {
        auto json = goldenConfig();
        json[bad.field] = bad.value;
        const auto message = configError(json);
        INFO(bad.field << " -> " << message);
        CHECK(message.find(std::string("'") + bad.field + "'") != std::string::npos);
    }
    auto json = goldenConfig();
    json.erase("block_out_channels");
    CHECK(configError(json).find("block_out_channels") != std::string::npos);
}

TEST_CASE("odd latent sizes keep their shape through the UNet", "[unet]") {
    const auto unet = UNet::load(kCaseDir);
    torch::manual_seed(3);
    for (auto hw : {std::pair<int64_t, int64_t>{13, 16}, {7, 5}, {1, 1}, {9, 3}}) {
        const auto sample = torch::randn({1, 8, hw.first, hw.second});
        const auto out = unet.forward(sample, 250.0, torch::randn({1, 16}));
        CHECK(out.sizes() == sample.sizes());
        CHECK(torch::isfinite(out).all().item<bool>());
    }
}

TEST_CASE("a batch gives each entry what it gives alone, with per-entry timesteps", "[unet]") {
    const auto unet = UNet::load(kCaseDir);
    torch::manual_seed(4);
    const auto sample = torch::randn({2, 8, 8, 12});
    const auto labels = torch::randn({2, 16});
    const auto both = unet.forward(sample, torch::tensor({10, 700}), labels);
    const auto first = unet.forward(sample.narrow(0, 0, 1), 10.0, labels.narrow(0, 0, 1));
    const auto second = unet.forward(sample.narrow(0, 1, 1), 700.0, labels.narrow(0, 1, 1));
    // Batched kernels may sum in another order: float32 rounding of the golden UNet's size.
    const double bound = grym::test::roundingBound(
        torch::kFloat32, grym::test::networkSize(grym::loadCheckpoint(kCaseDir, "diffusion_pytorch_model")));
    CHECK(relativeError(both.narrow(0, 0, 1), first) < bound);
    CHECK(relativeError(both.narrow(0, 1, 1), second) < bound);
}

TEST_CASE("the UNet refuses inputs it cannot run", "[unet]") {
    const auto unet = UNet::load(kCaseDir);
    const auto labels = torch::zeros({1, 16});
    CHECK_THROWS_AS(unet.forward(torch::zeros({1, 4, 8, 8}), 1.0, labels), grym::ModelError);
    CHECK_THROWS_AS(unet.forward(torch::zeros({1, 8, 8, 8}), 1.0), grym::ModelError);  // no class labels
    CHECK_THROWS_AS(unet.forward(torch::zeros({1, 8, 8, 8}), 1.0, torch::zeros({1, 7})), grym::ModelError);
    CHECK_THROWS_AS(unet.forward(torch::zeros({2, 8, 8, 8}), torch::tensor({1, 2, 3}), torch::zeros({2, 16})),
                    grym::ModelError);
}

TEST_CASE("the class embedding may be added instead of concatenated, and linear projections used", "[unet]") {
    auto json = goldenConfig();
    json["class_embeddings_concat"] = false;
    json["use_linear_projection"] = true;
    json["transformer_layers_per_block"] = 2;
    json["time_embedding_act_fn"] = "silu";
    const auto config = UNetConfig::fromJson(json, "test");
    CHECK(config.resnetTimeEmbedDim() == 64);
    const auto unet = UNet::randomlyInitialised(config);
    const auto out = unet.forward(torch::randn({2, 8, 6, 10}), torch::tensor({5, 6}), torch::randn({2, 16}));
    CHECK(out.sizes() == torch::IntArrayRef({2, 8, 6, 10}));
    CHECK(torch::isfinite(out).all().item<bool>());
}

TEST_CASE("the sinusoidal time embedding puts cosines first when flipped", "[unet]") {
    const auto emb = grym::audioldm::timestepEmbedding(torch::tensor({0.0, 3.0}), 8, true, 0.0);
    REQUIRE(emb.sizes() == torch::IntArrayRef({2, 8}));
    CHECK(torch::equal(emb[0].narrow(0, 0, 4), torch::ones({4})));   // cos(0), exact
    CHECK(torch::equal(emb[0].narrow(0, 4, 4), torch::zeros({4})));  // sin(0), exact
    // Frequency i is 10000^(-i/4): the first is 1, so the first pair is cos(3), sin(3).
    // float32 sin/cos of a float32 argument: within a few unit roundoffs of the exact value.
    const double margin = 4 * grym::test::unitRoundoff(torch::kFloat32);
    CHECK(emb[1][0].item<double>() == Approx(std::cos(3.0)).margin(margin));
    CHECK(emb[1][4].item<double>() == Approx(std::sin(3.0)).margin(margin));
    CHECK(grym::audioldm::timestepEmbedding(torch::tensor({1.0}), 7, false, 1.0).size(1) == 7);
}
