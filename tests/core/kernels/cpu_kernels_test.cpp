// CI runs the numeric tests twice: with this CPU's kernels, and with the kernels another CPU
// would get (ATEN_CPU_CAPABILITY=default, ONEDNN_MAX_CPU_ISA=SSE41, OPENBLAS_CORETYPE=Nehalem;
// see scripts/setup.sh). This checks that libtorch and the libraries under it really honour
// those settings, so the second run is not the first one again.
#include <ATen/Version.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace {

bool otherCpuKernelsExpected() {
    const char* value = std::getenv("GRYM_EXPECT_OTHER_CPU_KERNELS");
    return value && std::string(value) == "1";
}

// ATen picks oneDNN for bfloat16 matmuls from the CPU's own flags (any AVX-512 machine), not
// from ONEDNN_MAX_CPU_ISA; capped at SSE4.1, oneDNN then has no bfloat16 primitive and the matmul
// throws. A CPU that really has only SSE4.1 takes ATen's own kernels there, so the other-CPU run
// turns ATen's use of oneDNN off before any test runs (set up at load time, like the variables).
[[maybe_unused]] const bool atenOneDnnOffForOtherCpu = [] {
    if (otherCpuKernelsExpected()) at::globalContext().setUserEnabledMkldnn(false);
    return true;
}();

// oneDNN's dnnl_get_effective_cpu_isa(), looked up at run time: libtorch loads oneDNN but does
// not install its headers. 0 when this libtorch has no oneDNN.
int oneDnnEffectiveIsa() {
    using Query = int (*)();
    auto query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
    return query ? query() : 0;
}

// OpenBLAS's openblas_get_corename(), lower-cased; "" when the BLAS is not OpenBLAS.
std::string openBlasCore() {
    using Query = char* (*)();
    auto query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!query) return "";
    std::string name = query();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name;
}

// ATen's vectorised-kernel level as libtorch reports it in its build summary ("CPU capability
// usage: AVX2"); get_cpu_capability() itself is not exported.
std::string atenCapability() {
    const std::string config = at::show_config();
    const std::string key = "CPU capability usage: ";
    const auto at = config.find(key);
    if (at == std::string::npos) return "";
    const auto end = config.find('\n', at);
    return config.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
}

}  // namespace

TEST_CASE("the other-CPU kernel settings are honoured by libtorch, oneDNN and OpenBLAS", "[kernels]") {
    // Run one convolution and one matrix product so every library has picked its kernels.
    const auto image = torch::randn({1, 4, 16, 16});
    const auto filter = torch::randn({8, 4, 3, 3});
    const auto out = torch::conv2d(image, filter);
    const auto product = torch::mm(torch::randn({64, 64}), torch::randn({64, 64}));
    REQUIRE(torch::isfinite(out).all().item<bool>());
    REQUIRE(torch::isfinite(product).all().item<bool>());

    const std::string capability = atenCapability();
    const int isa = oneDnnEffectiveIsa();
    const std::string blas = openBlasCore();
    INFO("ATen capability '" << capability << "', oneDNN ISA 0x" << std::hex << isa << std::dec
                            << ", OpenBLAS core '" << blas << "'");
    if (!otherCpuKernelsExpected()) {
        SUCCEED("this CPU's own kernels");
        return;
    }
    CHECK(capability == "NO AVX");  // how libtorch names the DEFAULT (generic) kernels
    // dnnl_cpu_isa_sse41 is 0x1 in oneDNN 2.x; without oneDNN there is nothing to restrict.
    if (isa != 0) CHECK(isa == 0x1);
    CHECK_FALSE(at::globalContext().userEnabledMkldnn());
    if (!blas.empty()) CHECK(blas == "nehalem");
}
