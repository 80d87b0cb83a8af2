// The torch-free half of the PyTorch checkpoint reader: zip directory, restricted unpickler and
// bounds checks, against fixtures written by a real torch.save (tests/data/torch_checkpoints,
// made by make_torch_checkpoints.py there) and against hand-made hostile archives.
#include "common/error.h"
#include "weights/pytorch_checkpoint.h"
#include "weights/restricted_unpickler.h"
#include "weights/zip_archive.h"

#include "core/weights/torch_archive_builder.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace fs = std::filesystem;
using grym::test::Bytes;
using grym::test::makeZip;
using grym::test::PickleWriter;
using grym::test::singleTensorArchive;

namespace {

const std::string kFixtures = std::string(GRYM_TEST_DATA_DIR) + "/torch_checkpoints";
const char* const kPwnedMarker = "/tmp/grym_pickle_fixture_was_executed";

Bytes readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string openError(Bytes bytes, const grym::UnpicklerLimits& limits = {}) {
    try {
        grym::PytorchCheckpoint checkpoint(std::move(bytes), "crafted.pt", limits);
    } catch (const grym::ModelError& e) {
        return e.what();
    }
    return "(accepted)";
}

std::string pickleError(const std::string& pickle, const grym::UnpicklerLimits& limits = {}) {
    try {
        grym::unpickleStateDict(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), "crafted.pkl", limits);
    } catch (const grym::ModelError& e) {
        return e.what();
    }
    return "(accepted)";
}

// The safetensors twin written beside each fixture: header, data area, and per-tensor layout.
struct Twin {
    nlohmann::json header;
    Bytes file;
    uint64_t dataStart = 0;
    explicit Twin(const std::string& path) : file(readBytes(path)) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<size_t>(i)];
        header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
        dataStart = 8 + n;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (auto it = header.begin(); it != header.end(); ++it)
            if (it.key() != "__metadata__") out.push_back(it.key());
        return out;
    }
    Bytes bytes(const std::string& name) const {
        const auto& offsets = header.at(name).at("data_offsets");
        return Bytes(file.begin() + static_cast<std::ptrdiff_t>(dataStart + offsets[0].get<uint64_t>()),
                     file.begin() + static_cast<std::ptrdiff_t>(dataStart + offsets[1].get<uint64_t>()));
    }
    nlohmann::json layout(const std::string& name) const {
        return nlohmann::json::parse(header.at("__metadata__").at(name).get<std::string>());
    }
};

// The tensor's elements in row-major order, gathered through its strides from the storage bytes.
Bytes gather(const grym::PytorchCheckpoint& checkpoint, const grym::PickledTensor& t) {
    const auto& storage = checkpoint.storages().at(t.storageKey);
    const auto bytes = checkpoint.storageBytes(t.storageKey);
    const size_t width = static_cast<size_t>(storage.elementBytes);
    int64_t count = 1;
    for (auto s : t.shape) count *= s;
    Bytes out;
    std::vector<int64_t> index(t.shape.size(), 0);
    for (int64_t n = 0; n < count; ++n) {
        int64_t element = t.storageOffset;
        for (size_t d = 0; d < index.size(); ++d) element += index[d] * t.strides[d];
        const uint8_t* p = bytes.data + static_cast<size_t>(element) * width;
        out.insert(out.end(), p, p + width);
        for (size_t d = index.size(); d-- > 0;) {
            if (++index[d] < t.shape[d]) break;
            index[d] = 0;
        }
    }
    return out;
}

const grym::PickledTensor& tensorNamed(const grym::PytorchCheckpoint& c, const std::string& name) {
    for (const auto& t : c.tensors())
        if (t.name == name) return t;
    FAIL("no tensor " << name);
    throw 0;
}

// Every tensor of `checkpoint` against the twin: dtype, shape, strides, offset, shared storages
// and every byte.
void checkAgainstTwin(const grym::PytorchCheckpoint& checkpoint, const Twin& twin) {
    REQUIRE(checkpoint.tensors().size() == twin.names().size());
    std::map<int, std::string> storageOfTwinId;
    for (const auto& name : twin.names()) {
        INFO(name);
        const auto& t = tensorNamed(checkpoint, name);
        const auto& spec = twin.header.at(name);
        CHECK(checkpoint.storages().at(t.storageKey).dtype == spec.at("dtype").get<std::string>());
        CHECK(t.shape == spec.at("shape").get<std::vector<int64_t>>());
        const auto layout = twin.layout(name);
        CHECK(t.strides == layout.at("stride").get<std::vector<int64_t>>());
        CHECK(t.storageOffset == layout.at("offset").get<int64_t>());
        // Tensors sharing a storage in torch share one storage key here, and only those.
        const int id = layout.at("storage").get<int>();
        if (storageOfTwinId.count(id)) CHECK(storageOfTwinId[id] == t.storageKey);
        storageOfTwinId.emplace(id, t.storageKey);
        CHECK(gather(checkpoint, t) == twin.bytes(name));
    }
    std::set<std::string> keys;
    for (const auto& [id, key] : storageOfTwinId) keys.insert(key);
    CHECK(keys.size() == storageOfTwinId.size());
}

}  // namespace

TEST_CASE("a torch.save checkpoint reads as the tensors torch saved, bit for bit", "[weights][pytorch]") {
    const Twin twin(kFixtures + "/mixed.safetensors");
    for (const char* file : {"mixed.pt", "mixed_protocol4.pt"}) {
        INFO(file);
        const grym::PytorchCheckpoint checkpoint(kFixtures + "/" + file);
        checkAgainstTwin(checkpoint, twin);
        CHECK(tensorNamed(checkpoint, "parameter").parameter);
        CHECK_FALSE(tensorNamed(checkpoint, "half").parameter);
        CHECK(tensorNamed(checkpoint, "shared.slice").storageOffset == 5);
    }
}

TEST_CASE("the zip reader finds entries through zip64 records and padded local headers", "[weights][pytorch]") {
    // Repack every entry of the real fixture: once through zip64 records, once unaligned.
    const grym::ZipArchive original(std::make_shared<grym::MappedFile>(readBytes(kFixtures + "/mixed.pt")), "mixed.pt");
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& e : original.entries()) {
        const auto bytes = original.storedBytes(e);
        entries.emplace_back(e.name, std::string(reinterpret_cast<const char*>(bytes.data), static_cast<size_t>(bytes.size)));
    }
    const Twin twin(kFixtures + "/mixed.safetensors");
    grym::test::ZipOptions zip64;
    zip64.zip64 = true;
    zip64.alignment = 64;
    checkAgainstTwin(grym::PytorchCheckpoint(makeZip(entries, zip64), "zip64.pt"), twin);
    const auto archive = grym::ZipArchive(std::make_shared<grym::MappedFile>(makeZip(entries, zip64)), "zip64.pt");
    CHECK(archive.storedBytes(*archive.find("mixed/data/0")).offset % 64 == 0);
    checkAgainstTwin(grym::PytorchCheckpoint(makeZip(entries), "plain.pt"), twin);

    grym::test::ZipOptions deflated;
    deflated.method = 8;
    CHECK_THAT(openError(makeZip(entries, deflated)), Catch::Contains("data.pkl") && Catch::Contains("compressed"));
}

TEST_CASE("hostile pickles run nothing: their globals stay inert", "[weights][pytorch][hostile]") {
    std::remove(kPwnedMarker);
    CHECK_THROWS_WITH(grym::PytorchCheckpoint(kFixtures + "/hostile/os_system.pt"),
                      Catch::Contains("os_system.pt") && Catch::Contains("a call to posix.system (never run)") &&
                          Catch::Contains("not a state dict"));
    CHECK_THROWS_WITH(grym::PytorchCheckpoint(kFixtures + "/hostile/builtins_eval.pt"),
                      Catch::Contains("eval (never run)"));
    CHECK_THROWS_WITH(grym::PytorchCheckpoint(kFixtures + "/hostile/tensor_from_eval.pt"),
                      Catch::Contains("storage is a call to __builtin__.eval (never run)"));

    // A real tensor beside a hostile entry loads; the entry is an inert placeholder.
    const grym::PytorchCheckpoint beside(kFixtures + "/hostile/inert_beside_tensor.pt");
    REQUIRE(beside.tensors().size() == 1);
    CHECK(beside.tensors()[0].name == "weight");
    CHECK(beside.inertGlobals().count("posix.system") == 1);
    float values[4];
    std::memcpy(values, beside.storageBytes("0").data, sizeof values);
    CHECK(values[3] == 4.0f);

    // The same through os.system spelled as such, and through STACK_GLOBAL, REDUCE and NEWOBJ.
    PickleWriter p;
    p.raw("}").string("a").global("os", "system").string("touch " + std::string(kPwnedMarker)).raw("\x85R");
    p.raw("s").string("b").string("builtins").string("exec").raw("\x93").string("import os").raw("\x85R").raw("s");
    p.string("c").global("subprocess", "Popen").raw(")\x81").raw("s");
    const auto state = p.done();
    const std::string where = "crafted.pkl";
    CHECK_THAT(pickleError(state), Catch::Contains("not a state dict") || Catch::Contains("(accepted)"));
    const auto result = grym::unpickleStateDict(reinterpret_cast<const uint8_t*>(state.data()), state.size(), where);
    CHECK(result.tensors.empty());
    CHECK(result.inertGlobals == std::set<std::string>{"builtins.exec", "os.system", "subprocess.Popen"});
    CHECK_FALSE(fs::exists(kPwnedMarker));
}

TEST_CASE("the legacy and other non-zip formats get a clear error", "[weights][pytorch][hostile]") {
    CHECK_THROWS_WITH(grym::PytorchCheckpoint(kFixtures + "/legacy.pt"),
                      Catch::Contains("legacy.pt") && Catch::Contains("legacy (pre-1.6)") && Catch::Contains("Re-save"));
    CHECK_THAT(openError(Bytes{'h', 'e', 'l', 'l', 'o'}), Catch::Contains("not a PyTorch checkpoint"));
    CHECK_THAT(openError(makeZip({{"weights/other.txt", "x"}})), Catch::Contains("without data.pkl"));
    CHECK_THAT(openError(makeZip({{"m/data.pkl", PickleWriter().raw("}").done()}})), Catch::Contains("holds no tensors"));
    CHECK_THAT(openError(makeZip({{"m/data.pkl", "."}, {"m/byteorder", "big"}})), Catch::Contains("'big' byte order"));
}

TEST_CASE("every truncation of a real checkpoint is refused with a ModelError", "[weights][pytorch][hostile]") {
    const Bytes whole = readBytes(kFixtures + "/mixed.pt");
    for (size_t length = 0; length < whole.size(); ++length) {
        const std::string error = openError(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length)));
        INFO(length << ": " << error);
        CHECK(error.rfind("crafted.pt", 0) == 0);
    }
}

TEST_CASE("flipped bytes in a real checkpoint never crash the reader", "[weights][pytorch][hostile]") {
    const Bytes whole = readBytes(kFixtures + "/mixed.pt");
    for (size_t i = 0; i < 4000; ++i) {
        Bytes bytes = whole;
        bytes[(i * 7919) % bytes.size()] ^= static_cast<uint8_t>(1u << (i % 8));
        bytes[(i * 104729 + 13) % bytes.size()] ^= 0xff;
        openError(std::move(bytes));  // a ModelError or a consistent checkpoint, nothing else
    }
}

TEST_CASE("tensor offsets, sizes, strides and storages are checked against the archive", "[weights][pytorch][hostile]") {
    const std::string fourFloats(16, '\0');
    auto error = [&](const std::string& type, const std::string& key, int64_t numel, int64_t offset,
                     const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides, const std::string& data) {
        return openError(singleTensorArchive("w", type, key, numel, offset, sizes, strides, data));
    };
    CHECK(error("FloatStorage", "0", 4, 0, {2, 2}, {2, 1}, fourFloats) == "(accepted)");
    CHECK(error("FloatStorage", "0", 4, 1, {3}, {1}, fourFloats) == "(accepted)");
    CHECK(error("FloatStorage", "0", 4, 3, {0, 5}, {100, 100}, fourFloats) == "(accepted)");
    CHECK_THAT(error("FloatStorage", "0", 4, 2, {3}, {1}, fourFloats), Catch::Contains("'w'") && Catch::Contains("reaches past"));
    CHECK_THAT(error("FloatStorage", "0", 4, 4, {1}, {1}, fourFloats), Catch::Contains("reaches past"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, {2, 2}, {3, 1}, fourFloats), Catch::Contains("reaches past"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, {3, 2}, {INT64_MAX / 2, 1}, fourFloats), Catch::Contains("reaches past"));
    CHECK_THAT(error("FloatStorage", "0", 4, INT64_MAX, {1}, {1}, fourFloats), Catch::Contains("reaches past"));
    CHECK_THAT(error("FloatStorage", "0", 4, 9, {0}, {1}, fourFloats), Catch::Contains("only 4"));
    CHECK_THAT(error("FloatStorage", "0", 4, -1, {1}, {1}, fourFloats), Catch::Contains("storage offset is negative"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, {-2}, {1}, fourFloats), Catch::Contains("size[0] is negative"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, {2}, {-1}, fourFloats), Catch::Contains("stride[0] is negative"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, {2, 2}, {1}, fourFloats), Catch::Contains("2 sizes but 1 strides"));
    CHECK_THAT(error("FloatStorage", "0", 4, 0, std::vector<int64_t>(65, 1), std::vector<int64_t>(65, 1), fourFloats),
               Catch::Contains("65 dimensions"));
    // Huge claimed sizes are compared with the bytes present, never allocated.
    CHECK_THAT(error("FloatStorage", "0", INT64_MAX, 0, {1}, {1}, fourFloats), Catch::Contains("claims 9223372036854775807 elements"));
    CHECK_THAT(error("FloatStorage", "0", 1ll << 40, 0, {1}, {1}, fourFloats), Catch::Contains("holds 16 bytes"));
    CHECK_THAT(error("DoubleStorage", "0", 4, 0, {1}, {1}, fourFloats), Catch::Contains("DoubleStorage"));
    CHECK_THAT(error("FloatStorage", "0", -4, 0, {1}, {1}, fourFloats), Catch::Contains("negative"));
    CHECK_THAT(error("ComplexFloatStorage", "0", 2, 0, {1}, {1}, fourFloats), Catch::Contains("torch.ComplexFloatStorage is not supported"));
    CHECK_THAT(error("FloatStorage", "../../x", 4, 0, {1}, {1}, fourFloats), Catch::Contains("not a plain name"));
    // A storage the pickle names but the archive lacks.
    PickleWriter p;
    p.raw("}").string("w").tensor("FloatStorage", "7", 4, 0, {1}, {1}).raw("s");
    CHECK_THAT(openError(makeZip({{"archive/data.pkl", p.done()}})), Catch::Contains("storage '7' has no entry archive/data/7"));
    // One storage claimed with two types.
    PickleWriter twice;
    twice.raw("}").string("a").tensor("FloatStorage", "0", 4, 0, {1}, {1}).raw("s");
    twice.string("b").tensor("IntStorage", "0", 4, 0, {1}, {1}).raw("s");
    CHECK_THAT(openError(makeZip({{"archive/data.pkl", twice.done()}, {"archive/data/0", fourFloats}})),
               Catch::Contains("FloatStorage") && Catch::Contains("IntStorage"));
}

TEST_CASE("recursion bombs and oversized pickles hit limits, not the stack or the heap", "[weights][pytorch][hostile]") {
    using namespace std::string_literals;
    CHECK_THAT(pickleError("\x80\x02"s + std::string(200000, '(') + "."), Catch::Contains("MARKs nested deeper than 1000"));
    // A list nested 100000 deep inside the state dict: built iteratively, refused by depth.
    PickleWriter deep;
    deep.raw("}").string("k").raw(std::string(100000, ']')).raw(std::string(99999, 'a')).raw("s");
    CHECK_THAT(pickleError(deep.done()), Catch::Contains("'k.0.0.0") && Catch::Contains("nested deeper than 100 levels"));
    // A list that contains itself is walked once.
    PickleWriter cycle;
    cycle.raw("}").string("k").raw("]q\x00h\x00"s).raw("as");
    CHECK(pickleError(cycle.done()) == "(accepted)");
    // Dicts shared 2^60 ways are walked once each.
    PickleWriter shared;
    shared.raw("}q\x00"s);
    for (int i = 0; i < 60; ++i) shared.raw("}(").string("a").raw("h\x00"s).string("b").raw("h\x00uq\x00"s);
    CHECK(pickleError(shared.done()) == "(accepted)");

    grym::UnpicklerLimits small;
    small.maxValues = 1000;
    CHECK_THAT(pickleError("\x80\x02"s + std::string(2000, 'N') + ".", small), Catch::Contains("more than 1000 objects"));
    small = {};
    small.maxStack = 1000;
    std::string gets = "\x80\x02Nq\x00"s;
    for (int i = 0; i < 2000; ++i) gets += "h\x00"s;
    CHECK_THAT(pickleError(gets + ".", small), Catch::Contains("stack grows past 1000"));
    small = {};
    small.maxContainerItems = 1000;
    std::string appends = "\x80\x02]q\x00("s;
    for (int i = 0; i < 2000; ++i) appends += "h\x00"s;
    CHECK_THAT(pickleError(appends + "e.", small), Catch::Contains("more than 1000 container items"));

    CHECK_THAT(pickleError("\x80\x02X\xff\xff\xff\x7f" "abc."s), Catch::Contains("runs past the end"));
    CHECK_THAT(pickleError("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff" "abc."s), Catch::Contains("runs past the end"));
    CHECK_THAT(pickleError("\x80\x02Nr\xff\xff\xff\xff."s), Catch::Contains("memo index 4294967295"));
    CHECK_THAT(pickleError("\x80\x02h\x05."s), Catch::Contains("memo entry 5 is read before"));
    CHECK_THAT(pickleError("\x80\x02\x8a\x09" "123456789."s), Catch::Contains("9 bytes is too large"));
    CHECK_THAT(pickleError("\x80\x02" "cos\nsystem"s), Catch::Contains("without a line end"));
    CHECK_THAT(pickleError("\x80\x02(S'ls'\nios\nsystem\n."s), Catch::Contains("unsupported pickle opcode 0x53"));
    CHECK_THAT(pickleError("\x80\x02R."s), Catch::Contains("stack underflow"));
    CHECK_THAT(pickleError("\x80\x02"s), Catch::Contains("ends in the middle"));
    CHECK_THAT(pickleError("\x80\x07}."s), Catch::Contains("protocol 7"));
}

TEST_CASE("nested state dicts, lists and integer keys give dotted names", "[weights][pytorch]") {
    const grym::PytorchCheckpoint checkpoint(kFixtures + "/mixed.pt");
    std::set<std::string> names;
    for (const auto& t : checkpoint.tensors()) names.insert(t.name);
    CHECK(names.count("encoder.layers.0.weight") == 1);
    CHECK(names.count("linear.weight") == 1);
    CHECK(names.count("linear.bias") == 1);
    CHECK(names.count("epoch") == 0);

    PickleWriter p;
    p.raw("}").string("layers").raw("]").raw("(").raw("}").string("w").tensor("FloatStorage", "0", 4, 0, {1}, {1}).raw("s");
    p.raw("}").integer(3).tensor("FloatStorage", "0", 4, 1, {1}, {1}).raw("s").raw("es");
    const auto text = p.done();
    const auto result = grym::unpickleStateDict(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "nested.pkl");
    REQUIRE(result.tensors.size() == 2);
    CHECK(result.tensors[0].name == "layers.0.w");
    CHECK(result.tensors[1].name == "layers.1.3");

    PickleWriter clash;
    clash.raw("}").string("a.b").tensor("FloatStorage", "0", 4, 0, {1}, {1}).raw("s");
    clash.string("a").raw("}").string("b").tensor("FloatStorage", "0", 4, 0, {1}, {1}).raw("ss");
    CHECK_THAT(pickleError(clash.done()), Catch::Contains("two tensors are named 'a.b'"));

    PickleWriter quantised;
    quantised.raw("}").string("q").global("torch._utils", "_rebuild_qtensor").raw(")R").raw("s");
    CHECK_THAT(pickleError(quantised.done()), Catch::Contains("'q' is built by torch._utils._rebuild_qtensor"));
}
