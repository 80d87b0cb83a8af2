#include "models/cpu_threads.h"

#include "platform/shared_library.h"

#include <torch/torch.h>

namespace grym {

namespace {

std::vector<std::string> openBlasLibraryNames() {
#ifdef _WIN32
    return {"libopenblas.dll", "openblas.dll"};
#else
    // Debian's libtorch links the BLAS through the libblas.so.3 alternative, which is OpenBLAS's
    // when it is installed.
    return {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"};
#endif
}

}  // namespace

CpuThreadPools useOneCpuThreadPool(int threads) {
    if (threads > 0) torch::set_num_threads(threads);
    CpuThreadPools pools;
    pools.computeThreads = torch::get_num_threads();
    const auto blas = SharedLibrary::findLoaded(openBlasLibraryNames());
    if (!blas) return pools;
    using SetThreads = void (*)(int);
    using GetThreads = int (*)();
    const auto setThreads = reinterpret_cast<SetThreads>(blas->symbol("openblas_set_num_threads"));
    const auto getThreads = reinterpret_cast<GetThreads>(blas->symbol("openblas_get_num_threads"));
    if (!setThreads || !getThreads) return pools;  // another BLAS (e.g. the reference one): no pool
    pools.blasLibrary = "OpenBLAS";
    pools.blasThreadsBefore = getThreads();
    setThreads(1);
    pools.blasThreadsNow = getThreads();
    return pools;
}

}  // namespace grym
