#include "common/error.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include "core/numeric_bounds.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

// Writes a safetensors file by hand so the tests control every byte.
void writeRaw(const fs::path& path, const std::string& header, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << data;
}

fs::path tempPath(const std::string& name) {
    auto dir = fs::temp_directory_path() / "grym_safetensors_test";
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("a well-formed safetensors file reads back the stored values", "[weights]") {
    auto path = tempPath("good.safetensors");
    float values[3] = {1.5f, -2.0f, 3.25f};
    writeRaw(path, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"__metadata__":{"format":"pt"}})",
             std::string(reinterpret_cast<char*>(values), 12));
    grym::SafetensorsFile f(path.string());
    REQUIRE(f.tensors().size() == 1);
    auto t = f.tensor("w");
    CHECK(t.size(0) == 3);
    CHECK(t[2].item<float>() == 3.25f);
    CHECK(f.metadata().at("format") == "pt");
}

TEST_CASE("corrupt safetensors files are refused with a message naming the cause", "[weights]") {
    auto path = tempPath("bad.safetensors");
    SECTION("truncated data") {
        writeRaw(path, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})", std::string(8, '\0'));
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("outside"));
    }
    SECTION("size does not match shape") {
        writeRaw(path, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})", std::string(12, '\0'));
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("needs 8"));
    }
    SECTION("overlapping tensors") {
        writeRaw(path,
                 R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                 std::string(12, '\0'));
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("overlap"));
    }
    SECTION("unknown dtype") {
        writeRaw(path, R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", std::string(2, '\0'));
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("unsupported dtype"));
    }
    SECTION("invalid JSON") {
        writeRaw(path, "{not json", "");
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("not valid JSON"));
    }
    SECTION("header length past the end") {
        std::ofstream out(path, std::ios::binary);
        out.write("\xff\xff\x00\x00\x00\x00\x00\x00", 8);
        out.close();
        CHECK_THROWS_WITH(grym::SafetensorsFile(path.string()), Catch::Contains("past the end"));
    }
}

TEST_CASE("weight norm folds to the same weight in both stored forms", "[weights]") {
    torch::manual_seed(1);
    auto v = torch::randn({4, 3, 5});
    auto g = torch::rand({1, 1, 5}) + 0.5;  // norm over dim 2, as wav2vec2's positional conv
    auto expected = v * (g / v.pow(2).sum(std::vector<int64_t>{0, 1}, true).sqrt());
    grym::StateDict a{{"conv.weight_g", g}, {"conv.weight_v", v}};
    grym::StateDict b{{"conv.parametrizations.weight.original0", g}, {"conv.parametrizations.weight.original1", v}};
    grym::foldWeightNorm(a);
    grym::foldWeightNorm(b);
    REQUIRE(a.count("conv.weight"));
    REQUIRE(b.count("conv.weight"));
    // The same formula, perhaps summed in another order: float32 rounding of one norm.
    const double rtol = grym::test::roundingBound(torch::kFloat32, v.numel() / v.size(2), 1);
    CHECK(torch::allclose(a["conv.weight"], expected, rtol, 0.0));
    CHECK(torch::allclose(b["conv.weight"], expected, rtol, 0.0));
    CHECK(a.size() == 1);
}

TEST_CASE("loading names the missing, unexpected or mis-shaped key", "[weights]") {
    torch::nn::Linear linear(3, 2);
    grym::StateDict good{{"weight", torch::ones({2, 3})}, {"bias", torch::zeros({2})}};
    grym::loadModuleWeights(*linear, good);
    CHECK(linear->weight.sum().item<float>() == 6.0f);

    grym::StateDict missing{{"weight", torch::ones({2, 3})}};
    CHECK_THROWS_WITH(grym::loadModuleWeights(*linear, missing), Catch::Contains("missing tensor 'bias'"));
    grym::StateDict extra = good;
    extra["other"] = torch::ones({1});
    CHECK_THROWS_WITH(grym::loadModuleWeights(*linear, extra), Catch::Contains("unexpected tensor 'other'"));
    grym::StateDict shape{{"weight", torch::ones({3, 3})}, {"bias", torch::zeros({2})}};
    CHECK_THROWS_WITH(grym::loadModuleWeights(*linear, shape), Catch::Contains("'weight' has shape (3, 3)"));
    grym::StateDict buffer = good;
    buffer["position_ids"] = torch::ones({1});
    grym::ModuleWeightOptions opts;
    opts.ignoredKeySuffixes = {"position_ids"};
    CHECK_NOTHROW(grym::loadModuleWeights(*linear, buffer, opts));
}
