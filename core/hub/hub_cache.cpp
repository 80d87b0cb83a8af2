#include "hub/hub_cache.h"

#include "hub/content_digest.h"
#include "hub/hub_error.h"
#include "hub/cache_files.h"
#include "platform/atomic_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <system_error>

namespace fs = std::filesystem;

namespace grym::hub {

namespace {

constexpr const char* kModelPrefix = "models--";
constexpr const char* kSeparator = "--";

bool isNameCharacter(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// One part of a repo id: letters, digits, - _ . ; not starting or ending with - or .,
// no "--" or ".." (the Hub refuses those, and "--" would make the cache folder name ambiguous).
bool isValidNamePart(const std::string& part) {
    if (part.empty() || part.size() > 96) return false;
    for (char c : part)
        if (!isNameCharacter(c)) return false;
    if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') return false;
    return part.find("--") == std::string::npos && part.find("..") == std::string::npos;
}

}  // namespace

void validateRepoId(const std::string& repoId) {
    size_t slash = repoId.find('/');
    bool valid = slash == std::string::npos
                     ? isValidNamePart(repoId)
                     : isValidNamePart(repoId.substr(0, slash)) && isValidNamePart(repoId.substr(slash + 1));
    if (!valid)
        throw HubError(HubErrorKind::InvalidArgument,
                       "'" + repoId + "' is not a Hugging Face repo id: expected ORG/NAME, e.g. cvssp/audioldm-s-full-v2");
}

void validateRevision(const std::string& revision) {
    bool valid = !revision.empty() && revision.size() <= 256 && revision.front() != '/' &&
                 revision.back() != '/' && revision.find("..") == std::string::npos &&
                 revision.find('\\') == std::string::npos && revision.find("//") == std::string::npos;
    for (char c : revision)
        if (static_cast<unsigned char>(c) < 0x20 || c == ' ') valid = false;
    if (!valid) throw HubError(HubErrorKind::InvalidArgument, "'" + revision + "' is not a valid revision (branch, tag or commit)");
}

void validateRepoFilePath(const std::string& path) {
    bool valid = !path.empty() && path.front() != '/' && path.find('\\') == std::string::npos &&
                 path.find('\0') == std::string::npos;
    size_t start = 0;
    while (valid && start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..") valid = false;
        start = end + 1;
    }
    if (!valid) throw HubError(HubErrorKind::Protocol, "the server listed an unsafe file path '" + path + "'");
}

bool looksLikeRepoId(const std::string& text) {
    size_t slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) return false;
    return isValidNamePart(text.substr(0, slash)) && isValidNamePart(text.substr(slash + 1));
}

bool isCommitHash(const std::string& revision) { return isHexDigest(revision, 40); }

std::vector<std::string> snapshotFiles(const fs::path& snapshot) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(snapshot, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) continue;  // a link to a blob is not a folder, so it is listed
        files.push_back(it->path().lexically_relative(snapshot).generic_string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

HubCache::HubCache(fs::path directory) : directory_(std::move(directory)) {}

std::string HubCache::folderNameFor(const std::string& repoId) {
    std::string name = kModelPrefix;
    for (char c : repoId) {
        if (c == '/') name += kSeparator;
        else name += c;
    }
    return name;
}

std::optional<std::string> HubCache::repoIdFromFolderName(const std::string& folderName) {
    std::string prefix = kModelPrefix;
    if (folderName.rfind(prefix, 0) != 0) return std::nullopt;
    std::string rest = folderName.substr(prefix.size());
    size_t separator = rest.find(kSeparator);
    std::string repoId = separator == std::string::npos ? rest : rest.substr(0, separator) + "/" + rest.substr(separator + 2);
    try {
        validateRepoId(repoId);
    } catch (const HubError&) {
        return std::nullopt;
    }
    return repoId;
}

fs::path HubCache::repoFolder(const std::string& repoId) const { return directory_ / folderNameFor(repoId); }

fs::path HubCache::blobsFolder(const std::string& repoId) const { return repoFolder(repoId) / "blobs"; }

fs::path HubCache::blobPath(const std::string& repoId, const std::string& etag) const {
    return blobsFolder(repoId) / etag;
}

fs::path HubCache::incompletePath(const std::string& repoId, const std::string& etag) const {
    return blobsFolder(repoId) / (etag + ".incomplete");
}

fs::path HubCache::snapshotFolder(const std::string& repoId, const std::string& commit) const {
    return repoFolder(repoId) / "snapshots" / commit;
}

fs::path HubCache::lockFolder(const std::string& repoId) const { return directory_ / ".locks" / folderNameFor(repoId); }

fs::path HubCache::lockPath(const std::string& repoId, const std::string& etag) const {
    return lockFolder(repoId) / (etag + ".lock");
}

std::optional<std::string> HubCache::readRef(const std::string& repoId, const std::string& revision) const {
    std::ifstream in(repoFolder(repoId) / "refs" / revision);
    std::string commit;
    if (!in || !std::getline(in, commit)) return std::nullopt;
    while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
    if (!isCommitHash(commit)) return std::nullopt;
    return commit;
}

void HubCache::writeRef(const std::string& repoId, const std::string& revision, const std::string& commit) const {
    if (revision == commit) return;
    if (readRef(repoId, revision) == commit) return;
    const fs::path ref = repoFolder(repoId) / "refs" / revision;
    std::error_code ec;
    fs::create_directories(ref.parent_path(), ec);
    try {
        writeFileAtomically(ref, commit.data(), commit.size());
    } catch (const std::system_error& e) {
        throw HubError(HubErrorKind::Cache, "cannot write " + ref.string() + ": " + e.what());
    }
}

std::optional<fs::path> HubCache::snapshotFor(const std::string& repoId, const std::string& revision) const {
    std::optional<std::string> commit = isCommitHash(revision) ? std::optional<std::string>(revision)
                                                               : readRef(repoId, revision);
    if (!commit) return std::nullopt;
    fs::path folder = snapshotFolder(repoId, *commit);
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return std::nullopt;
    return folder;
}

void HubCache::linkSnapshotFile(const std::string& repoId, const std::string& commit, const std::string& path,
                                const std::string& etag) const {
    linkOrCopy(blobPath(repoId, etag), snapshotFolder(repoId, commit) / path);
}

}  // namespace grym::hub
