#pragma once
// A shared library opened at run time (dlopen / LoadLibrary), so optional vendor libraries such
// as NVIDIA's management library are used where installed and never needed to build or start.
#include <memory>
#include <string>
#include <vector>

namespace grym {

class SharedLibrary {
public:
    // The first of `names` that loads, or nullptr when none does.
    static std::unique_ptr<SharedLibrary> openFirst(const std::vector<std::string>& names);
    // The first of `names` that this process has already loaded, or nullptr: never loads one.
    static std::unique_ptr<SharedLibrary> findLoaded(const std::vector<std::string>& names);
    ~SharedLibrary();
    SharedLibrary(const SharedLibrary&) = delete;
    SharedLibrary& operator=(const SharedLibrary&) = delete;

    // The address of an exported function, or nullptr; cast it to the function's type.
    void* symbol(const char* name) const;

private:
    explicit SharedLibrary(void* handle) : handle_(handle) {}
    void* handle_;
};

// The file names NVIDIA's management library (NVML) and CUDA runtime have on this platform.
std::vector<std::string> nvmlLibraryNames();
std::vector<std::string> cudaRuntimeLibraryNames();

}  // namespace grym
