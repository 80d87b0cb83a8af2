#include "platform/mapped_file.h"

#include "common/error.h"

#ifdef _WIN32
#include "platform/windows_api.h"
#else
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace grym {

MappedFile::MappedFile(std::vector<uint8_t> bytes) : owned_(std::move(bytes)) {
    data_ = owned_.data();
    size_ = owned_.size();
}

#ifdef _WIN32
void MappedFile::releasePages(const void*, uint64_t) const {}

// The path is converted from UTF-8 so that checkpoints under non-ASCII user folders open.
MappedFile::MappedFile(const std::string& path) {
    const std::wstring widePath = std::filesystem::u8path(path).wstring();
    const HANDLE file = ::CreateFileW(widePath.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                      FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        throw ModelError(path + ": cannot open (Windows error " + std::to_string(::GetLastError()) + ")");
    file_ = file;
    LARGE_INTEGER size{};
    if (!::GetFileSizeEx(file_, &size)) {
        ::CloseHandle(file_);
        throw ModelError(path + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(size.QuadPart);
    if (size_ > 0) {
        mapping_ = ::CreateFileMappingW(file_, nullptr, PAGE_READONLY, 0, 0, nullptr);
        const void* p = mapping_ ? ::MapViewOfFile(mapping_, FILE_MAP_READ, 0, 0, 0) : nullptr;
        if (!p) {
            const auto error = ::GetLastError();
            if (mapping_) ::CloseHandle(mapping_);
            ::CloseHandle(file_);
            throw ModelError(path + ": cannot map into memory (Windows error " + std::to_string(error) + ")");
        }
        data_ = static_cast<const uint8_t*>(p);
    }
}

MappedFile::~MappedFile() {
    if (data_ && mapping_) ::UnmapViewOfFile(data_);
    if (mapping_) ::CloseHandle(mapping_);
    if (file_) ::CloseHandle(file_);
}

bool MappedFile::lostPagesAt(const void*) { return false; }
#else
namespace {

// Why process-wide state: a signal handler can reach nothing else. The table holds the mappings
// that are open now, as lock-free slots, so the handler can tell a read past the end of one of
// our shrunk files (recoverable) from any other bus error (left to the previous handler).
struct MappingSlot {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    std::atomic<bool> lostPages{false};
};
constexpr size_t kMappingSlots = 256;
std::array<MappingSlot, kMappingSlots> mappingSlots;
struct sigaction previousBusAction {};
std::once_flag busHandlerInstalled;

MappingSlot* slotHolding(uintptr_t address) {
    for (auto& slot : mappingSlots) {
        const uintptr_t begin = slot.begin.load(std::memory_order_acquire);
        if (begin != 0 && address >= begin && address < slot.end.load(std::memory_order_acquire)) return &slot;
    }
    return nullptr;
}

// Pages of a file that shrank after it was mapped raise SIGBUS when touched. Over such a page
// (only in our own mappings) an anonymous zero page is mapped, so the read that faulted runs
// again and completes on whichever thread it was, and the mapping is marked for its reader.
void onBusError(int signal, siginfo_t* info, void* context) {
    const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
    if (MappingSlot* slot = slotHolding(address)) {
        const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        void* start = reinterpret_cast<void*>(address & ~(page - 1));
        if (::mmap(start, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            slot->lostPages.store(true, std::memory_order_release);
            return;
        }
    }
    if (previousBusAction.sa_flags & SA_SIGINFO) {
        if (previousBusAction.sa_sigaction) previousBusAction.sa_sigaction(signal, info, context);
        return;
    }
    if (previousBusAction.sa_handler != SIG_IGN && previousBusAction.sa_handler != SIG_DFL) {
        previousBusAction.sa_handler(signal);
        return;
    }
    // Not ours: the default action, when the faulting instruction runs again.
    ::sigaction(SIGBUS, &previousBusAction, nullptr);
}

void installBusHandler() {
    struct sigaction action {};
    action.sa_sigaction = onBusError;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &previousBusAction);
}

void registerMapping(const uint8_t* data, uint64_t size) {
    std::call_once(busHandlerInstalled, installBusHandler);
    for (auto& slot : mappingSlots) {
        uintptr_t expected = 0;
        if (slot.begin.compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(data))) {
            slot.lostPages.store(false, std::memory_order_release);
            slot.end.store(reinterpret_cast<uintptr_t>(data) + size, std::memory_order_release);
            return;
        }
    }
    // All slots taken (hundreds of files mapped at once): this mapping is read unguarded.
}

void unregisterMapping(const uint8_t* data) {
    for (auto& slot : mappingSlots) {
        if (slot.begin.load(std::memory_order_acquire) == reinterpret_cast<uintptr_t>(data)) {
            slot.end.store(0, std::memory_order_release);
            slot.begin.store(0, std::memory_order_release);
            return;
        }
    }
}

}  // namespace

bool MappedFile::lostPagesAt(const void* address) {
    const MappingSlot* slot = slotHolding(reinterpret_cast<uintptr_t>(address));
    return slot && slot->lostPages.load(std::memory_order_acquire);
}

MappedFile::MappedFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw ModelError(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw ModelError(path + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
        if (p == MAP_FAILED) {
            ::close(fd_);
            throw ModelError(path + ": cannot map into memory (" + std::strerror(errno) + ")");
        }
        data_ = static_cast<const uint8_t*>(p);
        registerMapping(data_, size_);
    }
}

MappedFile::~MappedFile() {
    if (data_ && owned_.empty() && fd_ >= 0) {
        unregisterMapping(data_);
        ::munmap(const_cast<uint8_t*>(data_), size_);
    }
    if (fd_ >= 0) ::close(fd_);
}

void MappedFile::releasePages(const void* begin, uint64_t bytes) const {
    if (!owned_.empty() || !data_ || bytes == 0) return;
    const auto start = reinterpret_cast<uintptr_t>(begin);
    const auto mapStart = reinterpret_cast<uintptr_t>(data_);
    if (start < mapStart || start + bytes > mapStart + size_) return;
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    // Only pages wholly inside the range: a neighbour's bytes on a shared page stay resident.
    const uintptr_t first = (start + page - 1) / page * page;
    const uintptr_t last = (start + bytes) / page * page;
    // MADV_DONTNEED on a read-only private file mapping drops clean pages only; it cannot fail
    // in a way that matters (the worst case is pages staying resident).
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}
#endif

}  // namespace grym
