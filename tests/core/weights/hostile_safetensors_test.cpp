// A hand-made corpus of truncated, corrupt and hostile safetensors files and model folders:
// every one must give a ModelError naming the file and the cause, never a crash.
#include "common/error.h"
#include "models/wav2vec2/model.h"
#include "weights/weight_source.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> withHeader(const std::string& header, const std::string& data = {}) {
    std::vector<uint8_t> bytes;
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>((n >> (8 * i)) & 0xff));
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return bytes;
}

std::string parseError(std::vector<uint8_t> bytes) {
    try {
        grym::SafetensorsFile f(std::move(bytes), "corpus.safetensors");
    } catch (const grym::ModelError& e) {
        return e.what();
    }
    return "(accepted)";
}

fs::path freshDir(const std::string& name) {
    auto dir = fs::temp_directory_path() / ("grym_hostile_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

void writeBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

const std::string kBaseCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";

}  // namespace

TEST_CASE("every file of the hostile safetensors corpus is refused with its cause", "[weights][hostile]") {
    struct Sample {
        const char* what;
        std::vector<uint8_t> bytes;
        const char* cause;
    };
    const std::string f32x2(8, '\0');
    const std::vector<Sample> corpus = {
        {"empty file", {}, "too short"},
        {"seven bytes", {1, 0, 0, 0, 0, 0, 0}, "too short"},
        {"header length beyond the sane limit", {0, 0, 0, 0, 0, 0, 0, 1, '{', '}'}, "limit"},
        {"header length past the end", {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, "past the end"},
        {"header of NUL bytes", withHeader(std::string(16, '\0')), "not valid JSON"},
        {"truncated JSON", withHeader(R"({"w":{"dtype":"F32","sha)"), "not valid JSON"},
        {"header is a list", withHeader("[1,2,3]"), "not a JSON object"},
        {"entry is a number", withHeader(R"({"w":7})"), "not an object"},
        {"dtype missing", withHeader(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", f32x2), "dtype"},
        {"dtype not a string", withHeader(R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", f32x2), "dtype"},
        {"unknown dtype", withHeader(R"({"w":{"dtype":"F8_E4M3X","shape":[2],"data_offsets":[0,2]}})", f32x2), "unsupported dtype"},
        {"shape missing", withHeader(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", f32x2), "shape"},
        {"negative dimension", withHeader(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2), "negative"},
        {"fractional dimension", withHeader(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", f32x2), "non-integer"},
        {"overflowing shape", withHeader(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", f32x2), "absurdly large"},
        {"three offsets", withHeader(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", f32x2), "data_offsets"},
        {"negative offset", withHeader(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", f32x2), "data_offsets"},
        {"offsets reversed", withHeader(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", f32x2), "end before"},
        {"offset beyond 2^64", withHeader(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999]}})", f32x2), "data_offsets"},
        {"range past the data", withHeader(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", f32x2), "outside"},
        {"size disagrees with shape", withHeader(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", f32x2), "needs 4"},
        {"overlapping tensors", withHeader(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32x2), "overlap"},
        {"metadata not an object", withHeader(R"({"__metadata__":[1]})"), "__metadata__"},
    };
    for (const auto& sample : corpus) {
        INFO(sample.what);
        const std::string message = parseError(sample.bytes);
        CHECK_THAT(message, Catch::Contains("corpus.safetensors") && Catch::Contains(sample.cause));
    }
}

TEST_CASE("a BOOL tensor whose bytes are not 0 or 1 is refused when read", "[weights][hostile]") {
    const std::string bytes = std::string("\x01\x00", 2) + std::string("\x02", 1);
    grym::SafetensorsFile f(withHeader(R"({"ok":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]},"bad":{"dtype":"BOOL","shape":[1],"data_offsets":[2,3]}})", bytes),
                            "bools.safetensors");
    CHECK(f.tensor("ok")[0].item<bool>());
    CHECK_THROWS_WITH(f.tensor("bad"), Catch::Contains("bools.safetensors") && Catch::Contains("'bad'") && Catch::Contains("byte 2"));
}

TEST_CASE("deeply nested or huge JSON headers do not crash the parser", "[weights][hostile]") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK_THAT(parseError(withHeader(deep)), Catch::Contains("not a JSON object"));
    std::string many = "{";
    for (int i = 0; i < 20000; ++i) many += (i ? "," : "") + std::string("\"t") + std::to_string(i) + R"(":{"dtype":"U8","shape":[0],"data_offsets":[0,0]})";
    many += "}";
    grym::SafetensorsFile f(withHeader(many), "many.safetensors");
    CHECK(f.tensors().size() == 20000);
}

TEST_CASE("a truncated copy of a real checkpoint is refused at every cut", "[weights][hostile]") {
    std::ifstream in(kBaseCase + "/model.safetensors", std::ios::binary);
    const std::vector<uint8_t> whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(whole.size() > 1000);
    CHECK_NOTHROW(grym::SafetensorsFile(whole, "whole"));
    for (size_t cut : {size_t(0), size_t(5), size_t(8), size_t(100), whole.size() / 2, whole.size() - 1}) {
        INFO("cut at " << cut);
        CHECK_THROWS_AS(grym::SafetensorsFile(std::vector<uint8_t>(whole.begin(), whole.begin() + cut), "cut"), grym::ModelError);
    }
    // Flipping bytes anywhere must give either a valid file or a ModelError, never a crash.
    for (size_t i = 0; i < 400; ++i) {
        auto bytes = whole;
        bytes[(i * 7919) % std::min<size_t>(bytes.size(), 4096)] ^= static_cast<uint8_t>(1u << (i % 8));
        try {
            grym::SafetensorsFile f(std::move(bytes), "flipped");
            for (const auto& t : f.tensors()) (void)f.tensor(t.name).sum();
        } catch (const grym::ModelError&) {
        }
    }
}

TEST_CASE("sharded checkpoints load through their index, and a broken index is refused", "[weights][hostile]") {
    const auto dir = freshDir("sharded");
    grym::saveSafetensors((dir / "model-00001-of-00002.safetensors").string(), {{"a", torch::arange(4.0f)}});
    grym::saveSafetensors((dir / "model-00002-of-00002.safetensors").string(), {{"b", torch::ones({2, 2}, torch::kInt64)}});
    auto writeIndex = [&](const std::string& text) { std::ofstream(dir / "model.safetensors.index.json") << text; };
    writeIndex(R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})");
    const auto sd = grym::loadCheckpoint(dir.string(), "model");
    REQUIRE(sd.size() == 2);
    CHECK(sd.at("a")[3].item<float>() == 3.0f);
    CHECK(sd.at("b").scalar_type() == torch::kInt64);

    writeIndex(R"({"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"), Catch::Contains("'c'") && Catch::Contains("model-00002-of-00002"));
    writeIndex(R"({"weight_map":{"a":"../../etc/passwd"}})");
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"), Catch::Contains("plain file name"));
    writeIndex(R"({"weight_map":{"a":"model-00003-of-00002.safetensors"}})");
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"), Catch::Contains("model-00003-of-00002.safetensors") && Catch::Contains("cannot open"));
    writeIndex(R"({"metadata":{}})");
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"), Catch::Contains("weight_map"));
    writeIndex("{oops");
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"), Catch::Contains("index.json") && Catch::Contains("not valid JSON"));
}

TEST_CASE("a model folder with missing files says which file is missing", "[weights][hostile]") {
    const auto dir = freshDir("folder");
    CHECK_THROWS_WITH(grym::Wav2vec2Model::load((dir / "nowhere").string()), Catch::Contains("does not exist"));
    CHECK_THROWS_WITH(grym::Wav2vec2Model::load(dir.string()), Catch::Contains("config.json") && Catch::Contains("missing"));
    fs::copy_file(kBaseCase + "/config.json", dir / "config.json");
    CHECK_THROWS_WITH(grym::Wav2vec2Model::load(dir.string()),
                      Catch::Contains("no model.safetensors") && Catch::Contains("no pytorch_model.bin"));
    std::ofstream(dir / "pytorch_model.bin") << "not really a pickle";
    CHECK_THROWS_WITH(grym::loadCheckpoint(dir.string(), "model"),
                      Catch::Contains("pytorch_model.bin") && Catch::Contains("not a PyTorch checkpoint"));
    writeBytes(dir / "model.safetensors", withHeader(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "abc"));
    CHECK_THROWS_WITH(grym::Wav2vec2Model::load(dir.string()), Catch::Contains("model.safetensors") && Catch::Contains("outside"));
    // A well-formed file holding the wrong tensors names the first surprise.
    grym::saveSafetensors((dir / "model.safetensors").string(), {{"text_model.embeddings.word_embeddings.weight", torch::zeros({4, 4})}});
    CHECK_THROWS_WITH(grym::Wav2vec2Model::load(dir.string()), Catch::Contains("text_model.embeddings.word_embeddings.weight"));
}
