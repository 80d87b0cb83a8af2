#include "hub/content_digest.h"

#include "hub/hub_error.h"

#include <openssl/evp.h>

#include <cctype>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;

namespace grym::hub {

struct ContentDigest::Context {
    EVP_MD_CTX* handle = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(handle); }
};

ContentDigest::ContentDigest(DigestAlgorithm algorithm)
    : context_(std::make_unique<Context>()), algorithm_(algorithm) {
    if (!context_->handle) throw HubError(HubErrorKind::Cache, "OpenSSL could not allocate a digest context");
    reset();
}

ContentDigest::~ContentDigest() = default;

void ContentDigest::reset() {
    const EVP_MD* md = algorithm_ == DigestAlgorithm::Sha256 ? EVP_sha256() : EVP_sha1();
    if (EVP_DigestInit_ex(context_->handle, md, nullptr) != 1)
        throw HubError(HubErrorKind::Cache, "OpenSSL could not start a digest");
}

void ContentDigest::update(const void* data, size_t size) {
    if (size > 0 && EVP_DigestUpdate(context_->handle, data, size) != 1)
        throw HubError(HubErrorKind::Cache, "OpenSSL digest update failed");
}

std::string ContentDigest::finishHex() {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_->handle, bytes, &length) != 1)
        throw HubError(HubErrorKind::Cache, "OpenSSL digest finish failed");
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(kHex[bytes[i] >> 4]);
        hex.push_back(kHex[bytes[i] & 15]);
    }
    reset();
    return hex;
}

void digestFilePrefix(const fs::path& path, uint64_t length, ContentDigest& digest) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw HubError(HubErrorKind::Cache, "cannot read " + path.string());
    std::vector<char> block(1 << 20);
    uint64_t left = length;
    while (left > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, block.size()));
        in.read(block.data(), static_cast<std::streamsize>(want));
        size_t got = static_cast<size_t>(in.gcount());
        if (got == 0) throw HubError(HubErrorKind::Cache, "cannot read " + path.string() + ": it is shorter than expected");
        digest.update(block.data(), got);
        left -= got;
    }
}

std::string sha256OfFile(const fs::path& path) {
    ContentDigest digest(DigestAlgorithm::Sha256);
    digestFilePrefix(path, fs::file_size(path), digest);
    return digest.finishHex();
}

std::string gitBlobIdOfFile(const fs::path& path) {
    uint64_t size = fs::file_size(path);
    ContentDigest digest(DigestAlgorithm::Sha1);
    std::string header = "blob " + std::to_string(size);
    digest.update(header.data(), header.size() + 1);  // git hashes the terminating NUL too
    digestFilePrefix(path, size, digest);
    return digest.finishHex();
}

bool isHexDigest(const std::string& text, size_t length) {
    if (text.size() != length) return false;
    for (char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace grym::hub
