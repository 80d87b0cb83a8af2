#include "models/cpu_features.h"

#include "platform/shared_library.h"

#include <ATen/Context.h>

namespace grym {

namespace {

// oneDNN's ISA bit sets (dnnl_cpu_isa_t in oneDNN 2.x and 3.x): avx512_core_bf16 is 0xe7, and
// every later ISA (AMX) contains its bits.
constexpr int kOneDnnAvx512CoreBf16 = 0xe7;

int oneDnnEffectiveIsa() {
    // libtorch carries oneDNN inside libtorch_cpu without its headers; the query is exported.
    using Query = int (*)();
    static const Query query = [] {
        const auto library = SharedLibrary::findLoaded({"libtorch_cpu.so", "libtorch_cpu.so.1.13", "libdnnl.so.2",
                                                        "libdnnl.so.3", "torch_cpu.dll", "dnnl.dll"});
        return library ? reinterpret_cast<Query>(library->symbol("dnnl_get_effective_cpu_isa")) : nullptr;
    }();
    return query ? query() : 0;
}

}  // namespace

bool cpuConvolvesInBFloat16() {
    if (!at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn()) return false;
    return (oneDnnEffectiveIsa() & kOneDnnAvx512CoreBf16) == kOneDnnAvx512CoreBf16;
}

}  // namespace grym
