#pragma once
// Hashes through OpenSSL's EVP interface (libcrypto): the Hub names LFS blobs by their sha256
// and ordinary files by their git blob id, sha1("blob <size>\0" + content).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace grym::hub {

enum class DigestAlgorithm { Sha256, Sha1 };

// Incremental digest; feed bytes with update(), read the lowercase hex with finishHex().
class ContentDigest {
public:
    explicit ContentDigest(DigestAlgorithm algorithm = DigestAlgorithm::Sha256);
    ~ContentDigest();
    ContentDigest(const ContentDigest&) = delete;
    ContentDigest& operator=(const ContentDigest&) = delete;

    void update(const void* data, size_t size);
    void update(const std::string& text) { update(text.data(), text.size()); }
    // Ends the digest; the object starts over afterwards.
    std::string finishHex();
    void reset();

private:
    struct Context;
    std::unique_ptr<Context> context_;
    DigestAlgorithm algorithm_;
};

// sha256 of a whole file, read in large blocks. Throws HubError(Cache) when it cannot be read.
std::string sha256OfFile(const std::filesystem::path& path);

// The git blob id of a whole file (what the Hub reports as blobId for files not kept in LFS).
std::string gitBlobIdOfFile(const std::filesystem::path& path);

// Feeds the first `length` bytes of `path` into `digest` (for resuming a partial download).
void digestFilePrefix(const std::filesystem::path& path, uint64_t length, ContentDigest& digest);

bool isHexDigest(const std::string& text, size_t length);

}  // namespace grym::hub
