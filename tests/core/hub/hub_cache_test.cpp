// The HF cache outside a pull: offline lookups of a cache that huggingface_hub made, listing,
// verifying and removing repos, resolving a repo id to a folder, and reading the environment.
#include "fake_hub.h"
#include "hub_test_support.h"

#include "hub/cache_inventory.h"
#include "hub/content_digest.h"
#include "hub/hub_error.h"
#include "hub/cache_files.h"
#include "platform/file_lock.h"

#include <catch2/catch.hpp>

using namespace grym;
using namespace grym::test;
namespace fs = std::filesystem;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kConfig = R"({"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForCTC"]})";

// Lays out models--facebook--wav2vec2-python the way huggingface_hub's hf_hub_download does:
// blobs named by sha256 (LFS) or git blob id, relative links in snapshots/, refs/main.
fs::path writePythonStyleCache(const fs::path& cache, const std::string& weights) {
    fs::path repo = cache / "models--facebook--wav2vec2-python";
    writeWholeFile(repo / "blobs" / gitBlobIdHex(kConfig), kConfig);
    writeWholeFile(repo / "blobs" / sha256Hex(weights), weights);
    fs::path snapshot = repo / "snapshots" / kCommit;
    fs::create_directories(snapshot);
    fs::create_symlink(fs::path("..") / ".." / "blobs" / gitBlobIdHex(kConfig), snapshot / "config.json");
    fs::create_symlink(fs::path("..") / ".." / "blobs" / sha256Hex(weights), snapshot / "model.safetensors");
    writeWholeFile(repo / "refs" / "main", kCommit);
    return snapshot;
}

hub::HubEnvironment offlineEnvironment(const fs::path& cache) {
    hub::HubEnvironment environment;
    environment.endpoint = "http://127.0.0.1:9";  // discard port: any request would fail
    environment.cacheDirectory = cache;
    environment.offline = true;
    return environment;
}

}  // namespace

TEST_CASE("a cache laid out by huggingface_hub is found with HF_HUB_OFFLINE=1 without a byte fetched", "[hub]") {
    ScratchFolder scratch;
    const std::string weights = patternedBytes(4096, 21);
    fs::path snapshot = writePythonStyleCache(scratch.path(), weights);
    ScopedEnvironment env;
    env.set("HF_HUB_CACHE", scratch.path().string());
    env.set("HF_HUB_OFFLINE", "1");
    env.set("HF_ENDPOINT", "http://127.0.0.1:9");
    hub::HubClient client(hub::HubEnvironment::fromProcessEnvironment());
    REQUIRE(client.environment().offline);

    hub::PullResult result = client.pull("facebook/wav2vec2-python");
    CHECK(result.fromCacheOnly);
    CHECK(result.commit == kCommit);
    CHECK(result.snapshotFolder == snapshot);
    CHECK(result.files == std::vector<std::string>{"config.json", "model.safetensors"});
    CHECK(result.support.supported);
    CHECK(readWholeFile(result.snapshotFolder / "model.safetensors") == weights);

    CHECK(hub::resolveModelFolder("facebook/wav2vec2-python", client.environment()) == snapshot);

    try {
        client.pull("facebook/not-downloaded");
        FAIL("an offline pull of a repo that is not cached succeeded");
    } catch (const HubError& error) {
        CHECK(error.kind() == HubErrorKind::Offline);
        CHECK_THAT(error.what(), Catch::Contains("HF_HUB_OFFLINE") && Catch::Contains("facebook/not-downloaded"));
    }
}

TEST_CASE("a repo id or a folder resolves to a model folder; anything else is named in the error", "[hub]") {
    ScratchFolder scratch;
    fs::path snapshot = writePythonStyleCache(scratch.path(), "weights");
    hub::HubEnvironment environment = offlineEnvironment(scratch.path());
    environment.offline = false;

    CHECK(hub::resolveModelFolder(scratch.path().string(), environment) == scratch.path());
    CHECK(hub::resolveModelFolder("facebook/wav2vec2-python", environment) == snapshot);
    CHECK(hub::resolveModelFolder("facebook/wav2vec2-python", environment, kCommit) == snapshot);
    try {
        hub::resolveModelFolder("cvssp/audioldm-s-full-v2", environment);
        FAIL("an uncached repo id resolved");
    } catch (const HubError& error) {
        CHECK_THAT(error.what(), Catch::Contains("models pull cvssp/audioldm-s-full-v2"));
    }
    CHECK_THROWS_AS(hub::resolveModelFolder("/no/such/folder/at/all", environment), HubError);
}

TEST_CASE("list shows each cached repo with its revision, size, files and whether grym-synth runs it", "[hub]") {
    FakeHub server;
    const FakeRepo& runnable = server.addRepoFromFolder("cvssp/golden-ddim", fs::path(GRYM_TEST_DATA_DIR) / "golden" / "audioldm_pipeline_ddim");
    server.addRepo("someone/bert", {{"config.json", R"({"architectures": ["BertModel"]})"}, {"model.safetensors", "xyz"}});
    ScratchFolder scratch;
    hub::HubClient client(fakeHubEnvironment(server, scratch.path()), quickRetries());
    hub::PullResult pulled = client.pull("cvssp/golden-ddim");
    hub::PullOptions anyway;
    anyway.allowUnsupported = true;
    client.pull("someone/bert", anyway);
    writeWholeFile(scratch.path() / "models--someone--bert" / "blobs" / (std::string(64, 'a') + ".incomplete"), "12345");

    std::vector<hub::CachedRepo> repos = hub::listCachedRepos(hub::HubCache(scratch.path()));
    REQUIRE(repos.size() == 2);
    CHECK(repos[0].repoId == "cvssp/golden-ddim");
    REQUIRE(repos[0].revisions.size() == 1);
    CHECK(repos[0].revisions[0].commit == runnable.commit);
    CHECK(repos[0].revisions[0].refs == std::vector<std::string>{"main"});
    CHECK(repos[0].revisions[0].files == pulled.files);
    CHECK(repos[0].revisions[0].bytes == pulled.bytesTotal);
    CHECK(repos[0].bytesOnDisk == pulled.bytesTotal);
    CHECK(repos[0].support.supported);
    CHECK(repos[1].repoId == "someone/bert");
    CHECK_FALSE(repos[1].support.supported);
    CHECK(repos[1].partialBytes == 5);
    CHECK(hub::listCachedRepos(hub::HubCache(scratch.path() / "missing")).empty());
}

TEST_CASE("verify re-hashes every blob and names a damaged or missing one", "[hub]") {
    FakeHub server;
    std::map<std::string, std::string> files = {{"config.json", kConfig}, {"model.safetensors", patternedBytes(70000, 5)}};
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", files);
    ScratchFolder scratch;
    hub::HubClient client(fakeHubEnvironment(server, scratch.path()), quickRetries());
    client.pull("facebook/wav2vec2-test");
    hub::HubCache cache(scratch.path());
    hub::RepoInfo info = client.fetchRepoInfo("facebook/wav2vec2-test", "main");

    hub::VerifyReport clean = hub::verifyCachedRepo(cache, "facebook/wav2vec2-test");
    CHECK(clean.ok());
    CHECK(clean.count(hub::BlobCheck::Status::Ok) == 2);
    CHECK(hub::verifyCachedRepo(cache, "facebook/wav2vec2-test", &info).count(hub::BlobCheck::Status::Ok) == 2);

    fs::path weightsBlob = cache.blobPath("facebook/wav2vec2-test", repo.find("model.safetensors")->sha256);
    std::string damaged = files["model.safetensors"];
    damaged[100] ^= 1;
    writeWholeFile(weightsBlob, damaged);
    for (const hub::RepoInfo* against : std::vector<const hub::RepoInfo*>{nullptr, &info}) {
        hub::VerifyReport report = hub::verifyCachedRepo(cache, "facebook/wav2vec2-test", against);
        CHECK_FALSE(report.ok());
        REQUIRE(report.count(hub::BlobCheck::Status::Corrupt) == 1);
        for (const hub::BlobCheck& check : report.files)
            if (check.status == hub::BlobCheck::Status::Corrupt) CHECK(check.path == "model.safetensors");
    }
    fs::remove(weightsBlob);
    CHECK(hub::verifyCachedRepo(cache, "facebook/wav2vec2-test").count(hub::BlobCheck::Status::Missing) == 1);
    CHECK_THROWS_AS(hub::verifyCachedRepo(cache, "facebook/not-here"), HubError);
}

TEST_CASE("rm deletes a repo and its locks, but not while a download holds a lock", "[hub]") {
    ScratchFolder scratch;
    writePythonStyleCache(scratch.path(), "weights");
    hub::HubCache cache(scratch.path());
    fs::path lockFile = cache.lockPath("facebook/wav2vec2-python", sha256Hex("weights"));
    {
        FileLock downloading(lockFile, {});
        CHECK_THROWS_AS(hub::removeCachedRepo(cache, "facebook/wav2vec2-python"), HubError);
        CHECK(fs::exists(cache.repoFolder("facebook/wav2vec2-python")));
    }
    hub::removeCachedRepo(cache, "facebook/wav2vec2-python");
    CHECK_FALSE(fs::exists(cache.repoFolder("facebook/wav2vec2-python")));
    CHECK_FALSE(fs::exists(cache.lockFolder("facebook/wav2vec2-python")));
    CHECK(hub::listCachedRepos(cache).empty());
    CHECK_THROWS_AS(hub::removeCachedRepo(cache, "facebook/wav2vec2-python"), HubError);
}

TEST_CASE("the environment is read the way huggingface_hub reads it", "[hub]") {
    ScratchFolder scratch;
    ScopedEnvironment env;
    for (const char* name : {"HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN",
                             "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"})
        env.set(name, std::nullopt);
    env.set("HOME", scratch.path().string());

    hub::HubEnvironment defaults = hub::HubEnvironment::fromProcessEnvironment();
    CHECK(defaults.endpoint == "https://huggingface.co");
    CHECK(defaults.cacheDirectory == scratch.path() / ".cache" / "huggingface" / "hub");
    CHECK(defaults.token.empty());
    CHECK_FALSE(defaults.offline);

    writeWholeFile(scratch.path() / "home" / "token", "  hf_from_file \n");
    env.set("HF_HOME", (scratch.path() / "home").string());
    env.set("HF_ENDPOINT", "http://127.0.0.1:8080/");
    hub::HubEnvironment fromHome = hub::HubEnvironment::fromProcessEnvironment();
    CHECK(fromHome.endpoint == "http://127.0.0.1:8080");
    CHECK(fromHome.cacheDirectory == scratch.path() / "home" / "hub");
    CHECK(fromHome.token == "hf_from_file");

    env.set("HF_HUB_CACHE", (scratch.path() / "elsewhere").string());
    env.set("HF_TOKEN", "hf_from_env");
    for (const char* on : {"1", "true", "YES", "On"}) {
        env.set("HF_HUB_OFFLINE", on);
        CHECK(hub::HubEnvironment::fromProcessEnvironment().offline);
    }
    env.set("HF_HUB_OFFLINE", "0");
    hub::HubEnvironment explicitValues = hub::HubEnvironment::fromProcessEnvironment();
    CHECK_FALSE(explicitValues.offline);
    CHECK(explicitValues.cacheDirectory == scratch.path() / "elsewhere");
    CHECK(explicitValues.token == "hf_from_env");
}

TEST_CASE("repo ids, revisions and server-listed paths are validated before they touch the disk", "[hub]") {
    CHECK_NOTHROW(hub::validateRepoId("cvssp/audioldm-s-full-v2"));
    CHECK_NOTHROW(hub::validateRepoId("gpt2"));
    for (const char* bad : {"", "../x", "a/b/c", "a//b", "-a/b", "a/b.", "a--b/c", "a/b c"})
        CHECK_THROWS_AS(hub::validateRepoId(bad), HubError);
    CHECK_NOTHROW(hub::validateRevision("refs/pr/1"));
    CHECK_THROWS_AS(hub::validateRevision("../main"), HubError);

    nlohmann::json hostile = {{"sha", kCommit}, {"siblings", {{{"rfilename", "../../.bashrc"}, {"size", 1}}}}};
    CHECK_THROWS_AS(hub::parseRepoInfo("a/b", hostile), HubError);
    nlohmann::json badHash = {{"sha", kCommit}, {"siblings", {{{"rfilename", "x.bin"}, {"lfs", {{"sha256", "123"}}}}}}};
    CHECK_THROWS_AS(hub::parseRepoInfo("a/b", badHash), HubError);
    CHECK(hub::HubCache::folderNameFor("cvssp/audioldm-m-full") == "models--cvssp--audioldm-m-full");
    CHECK(hub::HubCache::repoIdFromFolderName("models--cvssp--audioldm-m-full") == std::optional<std::string>("cvssp/audioldm-m-full"));
    CHECK_FALSE(hub::HubCache::repoIdFromFolderName("datasets--a--b").has_value());
}

TEST_CASE("digests match the published sha256 and git blob id test vectors", "[hub]") {
    hub::ContentDigest sha256;
    sha256.update("ab");
    sha256.update("c");
    CHECK(sha256.finishHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ScratchFolder scratch;
    writeWholeFile(scratch.path() / "hello.txt", "hello\n");
    // `echo hello | git hash-object --stdin`
    CHECK(hub::gitBlobIdOfFile(scratch.path() / "hello.txt") == "ce013625030ba8dba906f756967f9e9ca394464a");
    CHECK(hub::sha256OfFile(scratch.path() / "hello.txt") == sha256Hex("hello\n"));
}
