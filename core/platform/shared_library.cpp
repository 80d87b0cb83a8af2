#include "platform/shared_library.h"

#ifdef _WIN32
#include "platform/windows_api.h"
#else
#include <dlfcn.h>
#endif

namespace grym {

#ifdef _WIN32

std::unique_ptr<SharedLibrary> SharedLibrary::openFirst(const std::vector<std::string>& names) {
    for (const auto& name : names)
        if (HMODULE module = ::LoadLibraryA(name.c_str())) return std::unique_ptr<SharedLibrary>(new SharedLibrary(module));
    return nullptr;
}

std::unique_ptr<SharedLibrary> SharedLibrary::findLoaded(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        HMODULE module = nullptr;
        // Without GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT: counted, so FreeLibrary balances it.
        if (::GetModuleHandleExA(0, name.c_str(), &module) && module)
            return std::unique_ptr<SharedLibrary>(new SharedLibrary(module));
    }
    return nullptr;
}

SharedLibrary::~SharedLibrary() { ::FreeLibrary(static_cast<HMODULE>(handle_)); }

void* SharedLibrary::symbol(const char* name) const {
    return reinterpret_cast<void*>(::GetProcAddress(static_cast<HMODULE>(handle_), name));
}

std::vector<std::string> nvmlLibraryNames() { return {"nvml.dll"}; }
std::vector<std::string> cudaRuntimeLibraryNames() { return {"cudart64_12.dll", "cudart64_110.dll"}; }

#else

std::unique_ptr<SharedLibrary> SharedLibrary::openFirst(const std::vector<std::string>& names) {
    for (const auto& name : names)
        if (void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle));
    return nullptr;
}

std::unique_ptr<SharedLibrary> SharedLibrary::findLoaded(const std::vector<std::string>& names) {
    for (const auto& name : names)
        if (void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD))
            return std::unique_ptr<SharedLibrary>(new SharedLibrary(handle));
    return nullptr;
}

SharedLibrary::~SharedLibrary() { ::dlclose(handle_); }

void* SharedLibrary::symbol(const char* name) const { return ::dlsym(handle_, name); }

std::vector<std::string> nvmlLibraryNames() { return {"libnvidia-ml.so.1"}; }
std::vector<std::string> cudaRuntimeLibraryNames() { return {"libcudart.so", "libcudart.so.12", "libcudart.so.11.0"}; }

#endif

}  // namespace grym
