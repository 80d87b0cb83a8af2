#include "models/cpu_threads.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <dlfcn.h>

TEST_CASE("one CPU thread pool: libtorch keeps its threads and OpenBLAS computes on the calling thread",
          "[perf][threads]") {
    const int torchThreads = torch::get_num_threads();
    const auto pools = grym::useOneCpuThreadPool();
    CHECK(pools.computeThreads == torchThreads);
    CHECK(torch::get_num_threads() == torchThreads);
    using GetThreads = int (*)();
    const auto openBlasThreads = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (!openBlasThreads) {
        // Another BLAS (official libtorch builds bring MKL, threaded by libtorch's own pool).
        CHECK(pools.blasLibrary.empty());
        return;
    }
    CHECK(pools.blasLibrary == "OpenBLAS");
    CHECK(pools.blasThreadsNow == 1);
    CHECK(openBlasThreads() == 1);
    // Again: nothing changes, and the pool sizes it reports are the ones now in place.
    const auto again = grym::useOneCpuThreadPool();
    CHECK(again.blasThreadsBefore == 1);
    CHECK(again.blasThreadsNow == 1);
    // A thread count given is libtorch's from then on.
    grym::useOneCpuThreadPool(1);
    CHECK(torch::get_num_threads() == 1);
    grym::useOneCpuThreadPool(torchThreads);
    CHECK(torch::get_num_threads() == torchThreads);
}
