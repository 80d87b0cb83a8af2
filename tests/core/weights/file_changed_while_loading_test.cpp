// A weight file that another program truncates while grym-synth has it mapped: the reads past
// its new end must neither stop the process (SIGBUS) nor load silently wrong weights.
#include "common/error.h"
#include "platform/mapped_file.h"
#include "core/test_files.h"
#include "weights/module_loader.h"
#include "weights/safetensors.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <vector>

#ifndef _WIN32

namespace fs = std::filesystem;

TEST_CASE("pages of a mapped file that shrank read as zeros and mark the mapping, instead of stopping the process",
          "[weights][mapped_file]") {
    grym::test::ScratchFolder scratch;
    const fs::path path = scratch.path() / "shrinks.bin";
    const size_t size = 64 * 1024;
    {
        std::vector<char> bytes(size, '\x5a');
        std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    const fs::path other = scratch.path() / "stays.bin";
    std::ofstream(other, std::ios::binary) << "unchanged";

    grym::MappedFile mapped(path.string());
    grym::MappedFile intact(other.string());
    CHECK_FALSE(grym::MappedFile::lostPagesAt(mapped.data()));
    fs::resize_file(path, 4096);

    const volatile uint8_t* bytes = mapped.data();
    CHECK(bytes[100] == 0x5a);           // still inside the file
    CHECK(bytes[size - 1] == 0);         // past its new end: a zero page, not SIGBUS
    CHECK(grym::MappedFile::lostPagesAt(mapped.data() + 10));
    CHECK_FALSE(grym::MappedFile::lostPagesAt(intact.data()));
    CHECK(intact.data()[0] == 'u');
}

TEST_CASE("a checkpoint truncated between opening and copying its weights is reported by name, on every thread",
          "[weights][mapped_file]") {
    grym::test::ScratchFolder scratch;
    const std::string path = (scratch.path() / "model.safetensors").string();
    torch::nn::Linear layer(torch::nn::LinearOptions(1024, 1024));  // 4 MiB: copied by several threads
    grym::StateDict saved;
    for (const auto& p : layer->named_parameters()) saved[p.key()] = p.value().detach().clone();
    grym::saveSafetensors(path, saved);

    const grym::StateDict views = grym::loadSafetensors(path);  // views into the mapped file
    fs::resize_file(path, 4096);

    torch::nn::Linear target(torch::nn::LinearOptions(1024, 1024));
    grym::ModuleWeightOptions options;
    options.source = path;
    try {
        grym::loadModuleWeights(*target, views, options);
        FAIL("loading from a truncated file succeeded");
    } catch (const grym::ModelError& e) {
        const std::string message = e.what();
        CHECK(message.find(path) != std::string::npos);
        CHECK(message.find("changed on disk") != std::string::npos);
    }
}

TEST_CASE("weights from a file that stays whole load without a lost-page report", "[weights][mapped_file]") {
    grym::test::ScratchFolder scratch;
    const std::string path = (scratch.path() / "model.safetensors").string();
    torch::nn::Linear layer(torch::nn::LinearOptions(512, 512));
    grym::StateDict saved;
    for (const auto& p : layer->named_parameters()) saved[p.key()] = p.value().detach().clone();
    grym::saveSafetensors(path, saved);
    const grym::StateDict views = grym::loadSafetensors(path);
    torch::nn::Linear target(torch::nn::LinearOptions(512, 512));
    grym::loadModuleWeights(*target, views, {});
    CHECK(torch::equal(target->weight, layer->weight));
}

#endif
