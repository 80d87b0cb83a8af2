#include "common/error.h"
#include "models/audioldm/vae.h"
#include "core/quantization_bounds.h"
#include "weights/weight_source.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using grym::audioldm::Vae;
using grym::audioldm::VaeConfig;
using grym::audioldm::VaeDecodeOptions;

namespace {

const std::string kCaseDir = std::string(GRYM_TEST_DATA_DIR) + "/golden/vae_a";

nlohmann::json goldenConfig() {
    std::ifstream in(kCaseDir + "/config.json");
    return nlohmann::json::parse(in);
}

using grym::test::relativeError;

// Two float32 decodes of the golden VAE that sum in other orders (batched or not, another tile,
// another kernel): its widest sum and its number of layers give the rounding bound.
double vaeRoundingBound() {
    return grym::test::roundingBound(torch::kFloat32,
                                     grym::test::networkSize(grym::loadCheckpoint(kCaseDir, "diffusion_pytorch_model")));
}

// Writes float32 tensors as a safetensors file.
void writeSafetensors(const fs::path& path, const grym::StateDict& tensors) {
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, tensor] : tensors) {
        const auto t = tensor.to(torch::kFloat32).contiguous();
        const size_t begin = data.size();
        data.append(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float));
        header[name] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
    }
    const std::string text = header.dump();
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << text << data;
}

}  // namespace

TEST_CASE("decoding a batch slice by slice equals decoding it whole", "[vae]") {
    const auto vae = Vae::load(kCaseDir);
    torch::manual_seed(1);
    const auto latents = torch::randn({3, 8, 6, 16});
    VaeDecodeOptions whole;
    whole.sliceBatch = false;
    const auto full = vae.decode(latents, whole);
    const auto sliced = vae.decode(latents);
    CHECK(full.sizes() == torch::IntArrayRef({3, 1, 24, 64}));
    CHECK(relativeError(sliced, full) < vaeRoundingBound());  // batched kernels may sum in another order
}

TEST_CASE("tiled decoding along time covers the clip and cross-fades the seams", "[vae]") {
    const auto vae = Vae::load(kCaseDir);
    torch::manual_seed(2);
    const auto latents = torch::randn({2, 8, 23, 16});
    const auto full = vae.decode(latents);

    VaeDecodeOptions bigTile;
    bigTile.tileLatentFrames = 23;  // one window: exactly the whole decode
    CHECK(relativeError(vae.decode(latents, bigTile), full) < vaeRoundingBound());

    VaeDecodeOptions tiled;
    tiled.tileLatentFrames = 8;
    tiled.tileOverlapLatentFrames = 3;
    const auto out = vae.decode(latents, tiled);
    REQUIRE(out.sizes() == full.sizes());
    CHECK(torch::isfinite(out).all().item<bool>());
    // The first window alone covers the first 5 latent frames (before any seam): there the
    // output is that window's own decode.
    const auto firstWindow = vae.decode(latents.narrow(2, 0, 8));
    CHECK(relativeError(out.narrow(2, 0, 5 * 4), firstWindow.narrow(2, 0, 5 * 4)) < vaeRoundingBound());

    VaeDecodeOptions bad;
    bad.tileLatentFrames = 4;
    bad.tileOverlapLatentFrames = 4;
    CHECK_THROWS_AS(vae.decode(latents, bad), grym::ModelError);
}

TEST_CASE("the posterior clamps the log-variance and samples as mean + std * noise", "[vae]") {
    const auto vae = Vae::load(kCaseDir);
    torch::manual_seed(5);
    const auto posterior = vae.encode(torch::randn({2, 1, 16, 64}));
    CHECK(posterior.mean.sizes() == torch::IntArrayRef({2, 8, 4, 16}));
    CHECK(posterior.logvar.min().item<double>() >= -30.0);
    CHECK(posterior.logvar.max().item<double>() <= 20.0);
    CHECK(torch::allclose(posterior.std, (0.5 * posterior.logvar).exp()));
    const auto noise = torch::randn_like(posterior.mean);
    CHECK(torch::allclose(posterior.sample(noise), posterior.mean + posterior.std * noise));
    CHECK(vae.latentScalingFactor() == Approx(0.75));
    CHECK(vae.config().latentDownsampling() == 4);
}

TEST_CASE("a VAE checkpoint with the older attention names loads the same", "[vae]") {
    auto weights = grym::loadSafetensors(kCaseDir + "/diffusion_pytorch_model.safetensors");
    grym::StateDict old;
    for (const auto& [name, tensor] : weights) {
        std::string n = name;
        for (auto [from, to] : {std::pair<std::string, std::string>{".to_q.", ".query."},
                                {".to_k.", ".key."},
                                {".to_v.", ".value."},
                                {".to_out.0.", ".proj_attn."}}) {
            const auto pos = n.find(from);
            if (pos != std::string::npos) n.replace(pos, from.size(), to);
        }
        // Older conversions kept the projections as 1x1 convolutions.
        old[n] = (n != name && tensor.dim() == 2) ? tensor.unsqueeze(-1).unsqueeze(-1) : tensor;
    }
    const auto dir = fs::temp_directory_path() / "grym_vae_old_names";
    fs::create_directories(dir);
    fs::copy_file(kCaseDir + "/config.json", dir / "config.json", fs::copy_options::overwrite_existing);
    writeSafetensors(dir / "diffusion_pytorch_model.safetensors", old);

    const auto current = Vae::load(kCaseDir);
    const auto renamed = Vae::load(dir.string());
    const auto latents = torch::randn({1, 8, 4, 16});
    // The same weights, run as 1x1 convolutions instead of linears: other kernels, same sums.
    CHECK(relativeError(renamed.decode(latents), current.decode(latents)) < vaeRoundingBound());
}

TEST_CASE("unsupported VAE config values are rejected by field name", "[vae]") {
    const std::pair<const char*, nlohmann::json> cases[] = {
        {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D", "AttnDownEncoderBlock2D"}},
        {"up_block_types", {"UpDecoderBlock2D"}},
        {"norm_num_groups", 7},
        {"shift_factor", 0.1},
        {"act_fn", "tanh"},
        {"_class_name", "VQModel"},
    };
    for (const auto& [field, value] : cases) {
        auto json = goldenConfig();
        json[field] = value;
        std::string message;
        try {
            VaeConfig::fromJson(json, "vae/config.json");
        } catch (const grym::ModelError& e) {
            message = e.what();
        }
        INFO(field << " -> " << message);
        CHECK(message.find(std::string("'") + field + "'") != std::string::npos);
    }
}

TEST_CASE("a VAE without mid-block attention or quant convs builds and runs", "[vae]") {
    auto json = goldenConfig();
    json["mid_block_add_attention"] = false;
    json["use_quant_conv"] = false;
    json["use_post_quant_conv"] = false;
    const auto vae = Vae::randomlyInitialised(VaeConfig::fromJson(json, "test"));
    const auto mel = vae.decode(torch::randn({1, 8, 5, 16}));
    CHECK(mel.sizes() == torch::IntArrayRef({1, 1, 20, 64}));
    CHECK(vae.encode(mel).mean.sizes() == torch::IntArrayRef({1, 8, 5, 16}));
}

// Bounds derived from the weights' own quantisation noise (quantization_bounds.h); measured on
// the golden checkpoint: 0.022 (int8) and 0.37 (int4) for decode.
TEST_CASE("a weight-quantised VAE decodes and encodes close to float", "[vae][quantization]") {
    using grym::audioldm::WeightQuantization;
    const auto level = GENERATE(WeightQuantization::Int8, WeightQuantization::Int4);
    INFO(grym::audioldm::toString(level));
    auto vae = Vae::load(kCaseDir);
    torch::manual_seed(7);
    const auto latents = torch::randn({1, 8, 6, 16});
    const auto mel = torch::randn({1, 1, 24, 64});
    const auto decoded = vae.decode(latents);
    const auto mean = vae.encode(mel).mean;
    const uint64_t bytes = vae.parameterBytes();

    const auto report = vae.quantizeWeights(level);
    CHECK(report.layers > 10);
    CHECK(vae.parameterBytes() == report.bytesAfter);
    CHECK(vae.parameterBytes() < bytes / 2);
    const double noise = grym::test::largestWeightNoise(grym::loadCheckpoint(kCaseDir, "diffusion_pytorch_model"), level);
    const double bound = grym::test::quantisedOutputBound(noise, report.layers) + vaeRoundingBound();
    const double decodeError = relativeError(vae.decode(latents), decoded);
    const double encodeError = relativeError(vae.encode(mel).mean, mean);
    INFO("decode " << decodeError << ", encode " << encodeError);
    CHECK(decodeError < bound);
    CHECK(encodeError < bound);
}
