// HubClient::pull against a loopback server that answers like the Hugging Face Hub.
#include "fake_hub.h"
#include "hub_test_support.h"

#include "hub/hub_error.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace grym;
using namespace grym::test;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenPipeline = fs::path(GRYM_TEST_DATA_DIR) / "golden" / "audioldm_pipeline_ddim";

// A small wav2vec2 repo in the transformers layout, with one large LFS weight file.
std::map<std::string, std::string> wav2vec2RepoFiles(size_t weightBytes) {
    return {{"config.json", R"({"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForCTC"]})"},
            {"preprocessor_config.json", R"({"sampling_rate": 16000})"},
            {"vocab.json", R"({"<pad>": 0, "A": 1})"},
            {"model.safetensors", patternedBytes(weightBytes, 7)}};
}

std::string blobNameFor(const FakeRepoFile& file) { return file.lfs ? file.sha256 : file.gitOid; }

HubErrorKind pullErrorKind(hub::HubClient& client, const std::string& repo, const hub::PullOptions& options = {},
                                std::string* message = nullptr) {
    try {
        client.pull(repo, options);
    } catch (const HubError& error) {
        if (message) *message = error.what();
        return error.kind();
    }
    FAIL("the pull of " << repo << " succeeded but should have failed");
    return HubErrorKind::Protocol;
}

}  // namespace

TEST_CASE("a pull lays a diffusers repo out as huggingface_hub does: blobs, relative snapshot links, refs/main",
          "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const FakeRepo& repo = server.addRepoFromFolder("cvssp/golden-ddim", kGoldenPipeline);
    const ScratchFolder& scratch = session.scratch;
    hub::HubClient client = session.newClient();

    hub::PullResult result = client.pull("cvssp/golden-ddim");

    fs::path repoFolder = scratch.path() / "models--cvssp--golden-ddim";
    CHECK(result.commit == repo.commit);
    CHECK(result.snapshotFolder == repoFolder / "snapshots" / repo.commit);
    CHECK(readWholeFile(repoFolder / "refs" / "main") == repo.commit);
    CHECK(result.support.supported);
    CHECK(result.support.architecture == "AudioLDMPipeline");

    // Every file of the pipeline except the golden case's own data (case.json, io.safetensors).
    std::vector<std::string> expected;
    for (const FakeRepoFile& file : repo.files)
        if (file.path != "case.json" && file.path != "io.safetensors") expected.push_back(file.path);
    std::sort(expected.begin(), expected.end());
    CHECK(result.files == expected);

    uint64_t expectedBytes = 0;
    for (const std::string& path : expected) {
        const FakeRepoFile& file = *repo.find(path);
        expectedBytes += file.content.size();
        fs::path link = result.snapshotFolder / path;
        INFO(path);
        REQUIRE(fs::is_symlink(link));
        fs::path target = fs::read_symlink(link);
        CHECK(target.is_relative());
        CHECK(fs::equivalent(link.parent_path() / target, repoFolder / "blobs" / blobNameFor(file)));
        CHECK(readWholeFile(link) == readWholeFile(kGoldenPipeline / path));
    }
    CHECK(result.bytesTotal == expectedBytes);
    CHECK(result.bytesDownloaded == expectedBytes);
    for (const auto& entry : fs::directory_iterator(repoFolder / "blobs"))
        CHECK(entry.path().extension() != ".incomplete");
    CHECK(fs::is_directory(scratch.path() / ".locks" / "models--cvssp--golden-ddim"));
    // LFS files went through the redirect to the blob store; small files came from resolve.
    CHECK(server.stats("unet/diffusion_pytorch_model.safetensors").requests == 1);
    CHECK(server.stats("model_index.json").requests == 1);
    CHECK(server.stats("case.json").requests == 0);
}

TEST_CASE("a second pull of a complete snapshot downloads nothing", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepoFromFolder("cvssp/golden-ddim", kGoldenPipeline);
    hub::HubClient client = session.newClient();
    client.pull("cvssp/golden-ddim");
    server.resetCounters();

    hub::PullResult again = session.newClient().pull("cvssp/golden-ddim");

    CHECK(again.bytesDownloaded == 0);
    CHECK(again.filesDownloaded == 0);
    CHECK(server.apiRequests() == 1);  // only "what is main now?"
    CHECK(server.resolveRequests() == 0);
    CHECK(server.storeRequests() == 0);
}

TEST_CASE("a connection dropped mid-blob is resumed with Range, not restarted", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 3 << 20;
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(size));
    server.dropConnectionAfter("model.safetensors", 1 << 20);
    hub::HubClient client = session.newClient();

    hub::PullResult result = client.pull("facebook/wav2vec2-test");

    FakeFileStats stats = server.stats("model.safetensors");
    REQUIRE(stats.ranges.size() == 2);
    CHECK(stats.ranges[0].empty());
    CHECK(stats.ranges[1] == "bytes=" + std::to_string(1 << 20) + "-");
    CHECK(stats.bytesSent == size);  // each byte crossed the wire once
    CHECK(readWholeFile(result.snapshotFolder / "model.safetensors") == repo.find("model.safetensors")->content);
}

TEST_CASE("a partial blob left by an earlier process is resumed from where it ends", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 2 << 20, kept = 700000;
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(size));
    const FakeRepoFile& weights = *repo.find("model.safetensors");
    const ScratchFolder& scratch = session.scratch;
    writeWholeFile(scratch.path() / "models--facebook--wav2vec2-test" / "blobs" / (weights.sha256 + ".incomplete"),
                   weights.content.substr(0, kept));

    hub::PullResult result = session.newClient().pull("facebook/wav2vec2-test");

    FakeFileStats stats = server.stats("model.safetensors");
    REQUIRE(stats.ranges.size() == 1);
    CHECK(stats.ranges[0] == "bytes=" + std::to_string(kept) + "-");
    CHECK(stats.bytesSent == size - kept);
    CHECK(result.bytesDownloaded < size);
    CHECK(readWholeFile(result.snapshotFolder / "model.safetensors") == weights.content);
}

TEST_CASE("a corrupted blob is refused, deleted, and nothing is left at its snapshot path", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(300000));
    server.corrupt("model.safetensors");
    const ScratchFolder& scratch = session.scratch;
    hub::HubClient client = session.newClient();

    std::string message;
    CHECK(pullErrorKind(client, "facebook/wav2vec2-test", {}, &message) == HubErrorKind::ChecksumMismatch);
    CHECK_THAT(message, Catch::Contains("model.safetensors") && Catch::Contains(repo.find("model.safetensors")->sha256));

    fs::path repoFolder = scratch.path() / "models--facebook--wav2vec2-test";
    fs::path snapshot = repoFolder / "snapshots" / repo.commit;
    const std::string sha = repo.find("model.safetensors")->sha256;
    CHECK_FALSE(fs::exists(repoFolder / "blobs" / sha));
    CHECK_FALSE(fs::exists(repoFolder / "blobs" / (sha + ".incomplete")));
    CHECK_FALSE(fs::exists(fs::symlink_status(snapshot / "model.safetensors")));
    CHECK_FALSE(fs::exists(repoFolder / "refs" / "main"));  // the incomplete snapshot is not named
}

TEST_CASE("a gated repo fails without a token and works with HF_TOKEN or the token file", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("org/gated-wav2vec2", wav2vec2RepoFiles(200000));
    server.setGated("org/gated-wav2vec2", "hf_test_secret");
    const ScratchFolder& scratch = session.scratch;

    SECTION("no token: the error says to accept the licence and set HF_TOKEN") {
        hub::HubClient client = session.newClient();
        std::string message;
        CHECK(pullErrorKind(client, "org/gated-wav2vec2", {}, &message) == HubErrorKind::Unauthorized);
        CHECK_THAT(message, Catch::Contains("HF_TOKEN") && Catch::Contains("licence") &&
                                Catch::Contains(server.endpoint() + "/org/gated-wav2vec2"));
    }
    SECTION("a wrong token is refused with its own message") {
        hub::HubClient client = session.newClient("hf_wrong");
        std::string message;
        CHECK(pullErrorKind(client, "org/gated-wav2vec2", {}, &message) == HubErrorKind::Unauthorized);
        CHECK_THAT(message, Catch::Contains("refused the access token"));
    }
    SECTION("HF_TOKEN from the environment") {
        ScopedEnvironment env;
        env.set("HF_ENDPOINT", server.endpoint());
        env.set("HF_HUB_CACHE", scratch.path().string());
        env.set("HF_TOKEN", "hf_test_secret");
        env.set("HF_HUB_OFFLINE", std::nullopt);
        hub::HubClient client(hub::HubEnvironment::fromProcessEnvironment(), quickRetries());
        hub::PullResult result = client.pull("org/gated-wav2vec2");
        CHECK(fs::exists(result.snapshotFolder / "model.safetensors"));
        // The token went to the Hub, never to the blob store on another port.
        CHECK(server.storeRequests() == 1);
        CHECK(server.authorizationHeadersAtStore() == 0);
    }
    SECTION("the token file in HF_HOME") {
        ScopedEnvironment env;
        env.set("HF_ENDPOINT", server.endpoint());
        env.set("HF_HOME", (scratch.path() / "hf-home").string());
        env.set("HF_HUB_CACHE", std::nullopt);
        env.set("HUGGINGFACE_HUB_CACHE", std::nullopt);
        env.set("HF_TOKEN", std::nullopt);
        env.set("HUGGING_FACE_HUB_TOKEN", std::nullopt);
        env.set("HF_TOKEN_PATH", std::nullopt);
        env.set("HF_HUB_OFFLINE", std::nullopt);
        writeWholeFile(scratch.path() / "hf-home" / "token", "hf_test_secret\n");
        hub::HubClient client(hub::HubEnvironment::fromProcessEnvironment(), quickRetries());
        hub::PullResult result = client.pull("org/gated-wav2vec2");
        CHECK(result.snapshotFolder.string().rfind((scratch.path() / "hf-home" / "hub").string(), 0) == 0);
        CHECK(fs::exists(result.snapshotFolder / "model.safetensors"));
    }
}

TEST_CASE("an unknown repo or revision is named in the error", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(1000));
    hub::HubClient client = session.newClient();
    std::string message;
    CHECK(pullErrorKind(client, "nobody/no-such-model", {}, &message) == HubErrorKind::RepoNotFound);
    CHECK_THAT(message, Catch::Contains("nobody/no-such-model"));
    hub::PullOptions options;
    options.revision = "v9";
    CHECK(pullErrorKind(client, "facebook/wav2vec2-test", options, &message) == HubErrorKind::RevisionNotFound);
    CHECK_THAT(message, Catch::Contains("'v9'"));
    CHECK(pullErrorKind(client, "not a repo") == HubErrorKind::InvalidArgument);
}

TEST_CASE("server errors are retried with back-off, and given up on after the last attempt", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(100000));

    SECTION("two 503s, then success") {
        server.failWith("model.safetensors", 503, 2);
        hub::PullResult result = session.newClient().pull("facebook/wav2vec2-test");
        CHECK(server.stats("model.safetensors").requests == 3);
        CHECK(fs::exists(result.snapshotFolder / "model.safetensors"));
    }
    SECTION("503 every time") {
        server.failWith("model.safetensors", 503, 100);
        hub::HubClient client = session.newClient();
        std::string message;
        CHECK(pullErrorKind(client, "facebook/wav2vec2-test", {}, &message) == HubErrorKind::Network);
        CHECK_THAT(message, Catch::Contains("model.safetensors") && Catch::Contains("503"));
        CHECK(server.stats("model.safetensors").requests == static_cast<size_t>(quickRetries().retry.maxAttempts));
    }
}

TEST_CASE("cancel keeps the partial blob, and the next pull resumes it with progress to the end", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 4 << 20;
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(size));
    server.throttle("model.safetensors", 64 << 10, std::chrono::milliseconds(4));
    const ScratchFolder& scratch = session.scratch;
    const std::string sha = repo.find("model.safetensors")->sha256;
    fs::path partial = scratch.path() / "models--facebook--wav2vec2-test" / "blobs" / (sha + ".incomplete");

    std::atomic<bool> cancel{false};
    hub::PullOptions options;
    options.cancelled = [&] { return cancel.load(); };
    options.progress = [&](const hub::PullProgress& progress) {
        if (progress.file == "model.safetensors" && progress.bytesDone > (1u << 20)) cancel = true;
    };
    hub::HubClient first = session.newClient();
    CHECK(pullErrorKind(first, "facebook/wav2vec2-test", options) == HubErrorKind::Cancelled);
    REQUIRE(fs::exists(partial));
    const uint64_t kept = fs::file_size(partial);
    CHECK(kept > 0);
    CHECK(kept < size);
    server.resetCounters();

    std::vector<hub::PullProgress> reports;
    hub::PullOptions resume;
    resume.progress = [&](const hub::PullProgress& progress) { reports.push_back(progress); };
    hub::PullResult result = session.newClient().pull("facebook/wav2vec2-test", resume);

    FakeFileStats stats = server.stats("model.safetensors");
    REQUIRE(stats.ranges.size() == 1);
    CHECK(stats.ranges[0] == "bytes=" + std::to_string(kept) + "-");
    CHECK(stats.bytesPerRequest[0] == size - kept);
    CHECK(readWholeFile(result.snapshotFolder / "model.safetensors") == repo.find("model.safetensors")->content);
    REQUIRE_FALSE(reports.empty());
    CHECK(reports.back().bytesDone == reports.back().bytesTotal);
    CHECK(reports.back().bytesTotal == result.bytesTotal);
    CHECK(reports.back().filesDone == reports.back().filesTotal);
    CHECK(std::any_of(reports.begin(), reports.end(), [](const auto& p) { return p.bytesPerSecond > 0 && p.secondsLeft >= 0; }));
}

TEST_CASE("two pulls of the same repo at once share the work through the lock files", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    const size_t size = 2 << 20;
    const FakeRepo& repo = server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(size));
    server.throttle("model.safetensors", 128 << 10, std::chrono::milliseconds(5));
    const ScratchFolder& scratch = session.scratch;

    std::vector<std::string> failures(2);
    std::vector<std::thread> pulls;
    for (int i = 0; i < 2; ++i)
        pulls.emplace_back([&, i] {
            try {
                session.newClient().pull("facebook/wav2vec2-test");
            } catch (const std::exception& error) {
                failures[i] = error.what();
            }
        });
    for (auto& pull : pulls) pull.join();

    CHECK(failures[0].empty());
    CHECK(failures[1].empty());
    CHECK(server.stats("model.safetensors").bytesSent == size);  // fetched once, by whichever came first
    fs::path snapshot = scratch.path() / "models--facebook--wav2vec2-test" / "snapshots" / repo.commit;
    CHECK(readWholeFile(snapshot / "model.safetensors") == repo.find("model.safetensors")->content);
}

TEST_CASE("an architecture grym-synth cannot run is refused before any weights are fetched", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("someone/stable-diffusion", {{"model_index.json", R"({"_class_name": "StableDiffusionPipeline",
                                                  "unet": ["diffusers", "UNet2DConditionModel"]})"},
                                                 {"unet/config.json", "{}"},
                                                 {"unet/diffusion_pytorch_model.safetensors", patternedBytes(200000, 3)}});
    server.addRepo("someone/bert", {{"config.json", R"({"model_type": "bert", "architectures": ["BertModel"]})"},
                                    {"model.safetensors", patternedBytes(1000, 4)}});
    hub::HubClient client = session.newClient();

    std::string message;
    CHECK(pullErrorKind(client, "someone/stable-diffusion", {}, &message) == HubErrorKind::Unsupported);
    CHECK_THAT(message, Catch::Contains("StableDiffusionPipeline") && Catch::Contains("AudioLDMPipeline"));
    CHECK(pullErrorKind(client, "someone/bert", {}, &message) == HubErrorKind::Unsupported);
    CHECK_THAT(message, Catch::Contains("BertModel") && Catch::Contains("wav2vec2"));
    CHECK(server.storeRequests() == 0);

    hub::PullOptions anyway;
    anyway.allowUnsupported = true;
    hub::PullResult result = client.pull("someone/stable-diffusion", anyway);
    CHECK_FALSE(result.support.supported);
    CHECK(fs::exists(result.snapshotFolder / "unet" / "diffusion_pytorch_model.safetensors"));
}

TEST_CASE("the pull takes safetensors over bin and skips fp16, onnx, flax and tf copies; --include overrides",
          "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    std::map<std::string, std::string> files = wav2vec2RepoFiles(5000);
    files["tokenizer_config.json"] = "{}";
    files["special_tokens_map.json"] = "{}";
    files["pytorch_model.bin"] = patternedBytes(5000, 11);
    files["model.fp16.safetensors"] = patternedBytes(2500, 12);
    files["onnx/model.onnx"] = patternedBytes(3000, 13);
    files["flax_model.msgpack"] = patternedBytes(3000, 14);
    files["tf_model.h5"] = patternedBytes(3000, 15);
    files["README.md"] = "# a model";
    server.addRepo("facebook/wav2vec2-test", files);
    hub::HubClient client = session.newClient();

    hub::PullResult result = client.pull("facebook/wav2vec2-test");
    CHECK(result.files == std::vector<std::string>{"config.json", "model.safetensors", "preprocessor_config.json",
                                                   "special_tokens_map.json", "tokenizer_config.json", "vocab.json"});
    CHECK(server.storeRequests() == 1);

    hub::PullOptions onlyBin;
    onlyBin.include = {"*.bin", "config.json"};
    hub::PullResult bin = client.pull("facebook/wav2vec2-test", onlyBin);
    CHECK(bin.files == std::vector<std::string>{"config.json", "pytorch_model.bin"});
    CHECK(fs::exists(bin.snapshotFolder / "pytorch_model.bin"));
}

TEST_CASE("a pull refuses to start when the disk lacks the space it needs", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(100000));
    hub::HubClient client = session.newClient();
    hub::PullOptions options;
    options.reserveFreeBytes = uint64_t(1) << 62;  // more than any disk has
    std::string message;
    CHECK(pullErrorKind(client, "facebook/wav2vec2-test", options, &message) == HubErrorKind::DiskFull);
    CHECK_THAT(message, Catch::Contains("free"));
    CHECK(server.storeRequests() == 0);
}

TEST_CASE("libcurl takes the proxy from http_proxy, and NO_PROXY bypasses it", "[hub]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepo("facebook/wav2vec2-test", wav2vec2RepoFiles(1000));
    // A stand-in proxy that counts what reaches it and refuses to forward.
    httplib::Server proxy;
    std::atomic<int> proxied{0};
    proxy.set_pre_routing_handler([&](const httplib::Request&, httplib::Response& res) {
        ++proxied;
        res.status = 502;
        return httplib::Server::HandlerResponse::Handled;
    });
    int proxyPort = proxy.bind_to_any_port("127.0.0.1");
    std::thread proxyThread([&] { proxy.listen_after_bind(); });
    while (!proxy.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));

    const ScratchFolder& scratch = session.scratch;
    ScopedEnvironment env;
    env.set("http_proxy", "http://127.0.0.1:" + std::to_string(proxyPort));
    env.set("no_proxy", std::nullopt);
    env.set("NO_PROXY", std::nullopt);
    hub::HubClientOptions options = quickRetries();
    options.retry.maxAttempts = 1;
    {
        hub::HubClient client(fakeHubEnvironment(server, scratch.path()), options);
        CHECK_THROWS_AS(client.fetchRepoInfo("facebook/wav2vec2-test", "main"), HubError);
    }
    CHECK(proxied > 0);
    CHECK(server.apiRequests() == 0);

    env.set("NO_PROXY", "127.0.0.1");
    int before = proxied;
    hub::HubClient client(fakeHubEnvironment(server, scratch.path()), options);
    CHECK(client.fetchRepoInfo("facebook/wav2vec2-test", "main").files.size() == 4);
    CHECK(proxied == before);
    proxy.stop();
    proxyThread.join();
}

#ifdef GRYM_CLI_PATH
TEST_CASE("a golden pipeline case pulled from the fake Hub passes `grym-synth-cli golden` in its snapshot", "[hub][cli]") {
    FakeHubSession session;
    FakeHub& server = session.server;
    server.addRepoFromFolder("cvssp/golden-ddim", kGoldenPipeline);
    const ScratchFolder& scratch = session.scratch;
    hub::PullOptions everything;
    everything.include = {"*"};
    hub::PullResult result = session.newClient().pull("cvssp/golden-ddim", everything);
    std::string command = "'" + std::string(GRYM_CLI_PATH) + "' golden '" + result.snapshotFolder.string() + "' >'" +
                          (scratch.path() / "golden.log").string() + "' 2>&1";
    int status = std::system(command.c_str());
    INFO(readWholeFile(scratch.path() / "golden.log"));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
#endif
