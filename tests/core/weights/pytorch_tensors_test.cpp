// PyTorch checkpoints as torch tensors: views into the mapping that honour storage offsets and
// strides and share storages as torch did, loaded through loadCheckpoint as every model loader
// does, and converted to safetensors. Fixtures: tests/data/torch_checkpoints (real torch.save).
#include "common/error.h"
#include "weights/checkpoint_conversion.h"
#include "weights/pytorch_tensors.h"
#include "weights/weight_source.h"

#include "core/weights/torch_archive_builder.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(GRYM_TEST_DATA_DIR) + "/torch_checkpoints";

fs::path freshDir(const std::string& name) {
    auto dir = fs::temp_directory_path() / ("grym_pytorch_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

bool sameBits(const torch::Tensor& a, const torch::Tensor& b) {
    const auto x = a.contiguous(), y = b.contiguous();
    if (x.scalar_type() != y.scalar_type() || x.sizes() != y.sizes()) return false;
    // memcmp may not be given the null data pointer of an empty tensor, even for 0 bytes.
    return x.nbytes() == 0 || std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

void checkEqualBits(const grym::StateDict& loaded, const grym::StateDict& twin) {
    REQUIRE(loaded.size() == twin.size());
    for (const auto& [name, expected] : twin) {
        INFO(name);
        REQUIRE(loaded.count(name) == 1);
        CHECK(sameBits(loaded.at(name), expected));
    }
}

}  // namespace

TEST_CASE("PyTorch tensors are views that keep torch's strides, offsets and shared storages", "[weights][pytorch]") {
    const auto loaded = grym::loadPytorchCheckpoint(kFixtures + "/mixed.pt");
    const grym::SafetensorsFile twinFile(kFixtures + "/mixed.safetensors");
    checkEqualBits(loaded, grym::loadSafetensors(kFixtures + "/mixed.safetensors"));

    std::map<int, const torch::Tensor*> byStorage;
    for (const auto& [name, tensor] : loaded) {
        INFO(name);
        const auto layout = nlohmann::json::parse(twinFile.metadata().at(name));
        CHECK(tensor.strides().vec() == layout.at("stride").get<std::vector<int64_t>>());
        CHECK(tensor.storage_offset() == layout.at("offset").get<int64_t>());
        const int storage = layout.at("storage").get<int>();
        if (byStorage.count(storage) && tensor.numel() > 0) CHECK(tensor.storage().data() == byStorage[storage]->storage().data());
        byStorage.emplace(storage, &tensor);
    }
    const auto& base = loaded.at("shared.base");
    CHECK_FALSE(loaded.at("shared.transposed").is_contiguous());
    CHECK(loaded.at("shared.slice").data_ptr() == static_cast<void*>(base.data_ptr<float>() + 5));
    CHECK(loaded.at("expanded").stride(0) == 0);
    CHECK(loaded.at("mask").scalar_type() == torch::kBool);
    CHECK(loaded.at("bfloat16").scalar_type() == torch::kBFloat16);
    CHECK(loaded.at("scalar").dim() == 0);
    CHECK(std::isnan(base[0].item<float>()));
    // The views outlive the reader and the mapping stays valid.
    CHECK(loaded.at("int64")[0].item<int64_t>() == -(int64_t{1} << 62));

    checkEqualBits(grym::loadPytorchCheckpoint(kFixtures + "/mixed_protocol4.pt"), grym::loadSafetensors(kFixtures + "/mixed.safetensors"));
}

TEST_CASE("loadCheckpoint reads Hugging Face PyTorch names when no safetensors file is there", "[weights][pytorch]") {
    for (const auto& [folder, stem] : std::vector<std::pair<std::string, std::string>>{
             {"transformers", "model"}, {"diffusers", "diffusion_pytorch_model"}, {"sharded", "model"}}) {
        INFO(folder);
        const std::string dir = kFixtures + "/" + folder;
        checkEqualBits(grym::loadCheckpoint(dir, stem), grym::loadSafetensors(dir + "/twin.safetensors"));
        CHECK(grym::checkpointElementCount(dir, stem) == grym::checkpointElementCount(dir, "twin"));
    }
    CHECK(grym::findCheckpointFile(kFixtures + "/sharded", "model") == kFixtures + "/sharded/pytorch_model.bin.index.json");

    const auto empty = freshDir("neither");
    CHECK_THROWS_WITH(grym::loadCheckpoint(empty.string(), "diffusion_pytorch_model"),
                      Catch::Contains("no diffusion_pytorch_model.safetensors") && Catch::Contains("no diffusion_pytorch_model.bin"));
    CHECK(grym::checkpointElementCount(empty.string(), "model") == 0);

    // A hostile pickle under the expected name is refused, and nothing runs.
    fs::copy_file(kFixtures + "/hostile/os_system.pt", empty / "pytorch_model.bin");
    CHECK_THROWS_WITH(grym::loadCheckpoint(empty.string(), "model"), Catch::Contains("pytorch_model.bin") && Catch::Contains("never run"));
    // A shard the index names but that lacks the tensor.
    const auto sharded = freshDir("bad_shard");
    for (const auto& entry : fs::directory_iterator(kFixtures + "/sharded")) fs::copy_file(entry.path(), sharded / entry.path().filename());
    std::ofstream(sharded / "pytorch_model.bin.index.json") << R"({"weight_map":{"nope":"pytorch_model-00001-of-00002.bin"}})";
    CHECK_THROWS_WITH(grym::loadCheckpoint(sharded.string(), "model"), Catch::Contains("'nope'") && Catch::Contains("00001-of-00002.bin"));
}

TEST_CASE("unaligned storages are copied and bool storages must hold 0 or 1", "[weights][pytorch][hostile]") {
    float values[3] = {1.5f, -2.0f, 3.25f};
    const std::string bytes(reinterpret_cast<const char*>(values), sizeof values);
    grym::test::PickleWriter p;
    p.raw("}").string("w").tensor("FloatStorage", "0", 3, 1, {2}, {1}).raw("s");
    grym::test::ZipOptions offByOne;
    offByOne.alignment = 4;
    offByOne.remainder = 1;
    const auto archive = grym::test::makeZip({{"a/data.pkl", p.done()}, {"a/data/0", bytes}}, offByOne);
    const grym::PytorchCheckpoint checkpoint(archive, "unaligned.pt");
    REQUIRE(checkpoint.storageBytes("0").offset % 4 != 0);
    const auto w = grym::pytorchStateDict(checkpoint).at("w");
    CHECK(w[0].item<float>() == -2.0f);
    CHECK(w[1].item<float>() == 3.25f);

    const auto flags = grym::test::singleTensorArchive("m", "BoolStorage", "0", 3, 0, {3}, {1}, std::string("\x01\x02\x00", 3));
    CHECK_THROWS_WITH(grym::pytorchStateDict(grym::PytorchCheckpoint(flags, "bool.pt")), Catch::Contains("holds the byte 2"));
}

TEST_CASE("convert writes safetensors beside PyTorch weights, bit for bit, once", "[weights][pytorch]") {
    const auto root = freshDir("convert");
    fs::copy(kFixtures + "/transformers", root / "text_encoder");
    fs::copy(kFixtures + "/diffusers", root / "unet");
    fs::copy(kFixtures + "/sharded", root / "vocoder");
    const auto results = grym::convertPytorchWeights(root.string());
    REQUIRE(results.size() == 3);
    for (const auto& r : results) CHECK(r.converted);
    CHECK(fs::exists(root / "text_encoder" / "model.safetensors"));
    CHECK(fs::exists(root / "unet" / "diffusion_pytorch_model.safetensors"));
    CHECK(fs::exists(root / "vocoder" / "model-00001-of-00002.safetensors"));
    for (const auto& [folder, stem] : std::vector<std::pair<std::string, std::string>>{
             {"text_encoder", "model"}, {"unet", "diffusion_pytorch_model"}, {"vocoder", "model"}}) {
        INFO(folder);
        const auto dir = (root / folder).string();
        const std::string read = grym::findCheckpointFile(dir, stem);
        CHECK(read.find(".safetensors") != std::string::npos);
        checkEqualBits(grym::loadCheckpoint(dir, stem), grym::loadSafetensors(dir + "/twin.safetensors"));
    }
    for (const auto& entry : fs::recursive_directory_iterator(root)) CHECK(entry.path().extension() != ".partial");

    // A second run keeps what is there; --force rewrites it.
    for (const auto& r : grym::convertPytorchWeights(root.string())) CHECK_FALSE(r.converted);
    for (const auto& r : grym::convertPytorchWeights(root.string(), true)) CHECK(r.converted);
    CHECK_THROWS_WITH(grym::convertPytorchWeights((root / "missing").string()), Catch::Contains("is not a folder"));
}

TEST_CASE("the pickled golden cases hold the same weights as their safetensors originals", "[weights][pytorch]") {
    const fs::path pickled = fs::path(GRYM_TEST_DATA_DIR) / "golden_pickled";
    const fs::path original = fs::path(GRYM_TEST_DATA_DIR) / "golden";
    int compared = 0;
    for (const auto& entry : fs::recursive_directory_iterator(pickled)) {
        if (entry.path().extension() != ".bin") continue;
        const fs::path dir = entry.path().parent_path();
        const std::string stem = entry.path().stem() == "pytorch_model" ? "model" : entry.path().stem().string();
        INFO(entry.path().string());
        const fs::path twin = original / fs::relative(dir, pickled);
        REQUIRE(grym::findCheckpointFile(twin.string(), stem).find(".safetensors") != std::string::npos);
        checkEqualBits(grym::loadCheckpoint(dir.string(), stem), grym::loadCheckpoint(twin.string(), stem));
        ++compared;
    }
    CHECK(compared >= 10);
}
