#pragma once
// One pool of compute threads on the CPU. libtorch spreads its kernels (and oneDNN's) over its
// own OpenMP threads; Debian's libtorch also calls OpenBLAS, which keeps a second pool of
// pthreads of the same size. The two take turns on the same cores and each spins (sched_yield)
// while the other works: measured on the 2-core development machine, a UNet step took 2.2 times
// as long and a third of its processor time went to the kernel. So the BLAS library's own pool
// is switched off (it then runs on whichever thread calls it, inside libtorch's parallel
// regions) and the heavy matrix products go through oneDNN on libtorch's threads
// (models/dense_linear.h).
#include <string>

namespace grym {

struct CpuThreadPools {
    int computeThreads = 0;     // libtorch's intra-op threads now
    std::string blasLibrary;    // the BLAS whose pool was found ("OpenBLAS"), or empty
    int blasThreadsBefore = 0;  // its pool's size before (0: none found)
    int blasThreadsNow = 0;
};

// Sets libtorch's intra-op threads to `threads` (> 0; 0 keeps libtorch's choice) and a BLAS
// library already loaded into the process to compute on the calling thread. Idempotent; call it
// at start-up, before any model runs.
CpuThreadPools useOneCpuThreadPool(int threads = 0);

}  // namespace grym
