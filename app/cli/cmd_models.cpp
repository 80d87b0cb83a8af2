// `grym-synth-cli models pull|list|verify|rm`: models from the Hugging Face Hub, kept in the
// shared HF cache (core/hub), and what is installed in the models folder.
#include "cli/command_line.h"
#include "cli/progress_text.h"
#include "cli/commands.h"
#include "cli/typed_options.h"

#include "api/installed_services.h"
#include "common/strings.h"
#include "hub/cache_inventory.h"
#include "hub/hub_client.h"
#include "hub/hub_error.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace grym::cli {

namespace {

std::atomic<bool> pullInterrupted{false};
extern "C" void onPullInterrupt(int) { pullInterrupted.store(true); }

// One line of progress: redrawn in place on a terminal, else printed every few seconds so a
// log still shows the pull advancing.
class ProgressLine {
public:
    ProgressLine() : terminal_(isatty(STDERR_FILENO) != 0) {}

    void show(const hub::PullProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (!terminal_ && now - lastPrinted_ < std::chrono::seconds(5) && p.filesDone != p.filesTotal) return;
        lastPrinted_ = now;
        const double fraction = p.bytesTotal ? static_cast<double>(p.bytesDone) / p.bytesTotal : 1.0;
        constexpr int width = 24;
        const int filled = static_cast<int>(fraction * width);
        std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
        char percent[16];
        std::snprintf(percent, sizeof percent, "%3.0f%%", 100.0 * fraction);
        std::string line = bar + " " + percent + "  " + formatBytes(p.bytesDone) + " / " + formatBytes(p.bytesTotal) +
                           "  " + formatBytes(p.bytesPerSecond) + "/s  " + formatClock(p.secondsLeft) + " left  " +
                           std::to_string(p.filesDone) + "/" + std::to_string(p.filesTotal) + " files";
        if (terminal_) std::cerr << "\r" << line << "\x1b[K" << std::flush;
        else std::cerr << line << "\n";
        drawn_ = terminal_;
    }
    void finish() {
        if (drawn_) std::cerr << "\n";
        drawn_ = false;
    }

private:
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point lastPrinted_{};
};

struct PullCommandOptions {
    std::string repo;
    std::string revision = "main";
    std::vector<std::string> include;
    bool allowUnsupported = false;
};

int runPull(const PullCommandOptions& o) {
    hub::HubClient client(hub::HubEnvironment::fromProcessEnvironment());
    hub::PullOptions options;
    options.revision = o.revision;
    options.include = o.include;
    options.allowUnsupported = o.allowUnsupported;
    ProgressLine progress;
    options.progress = [&progress](const hub::PullProgress& p) { progress.show(p); };
    pullInterrupted.store(false);
    options.cancelled = [] { return pullInterrupted.load(); };
    const auto previous = std::signal(SIGINT, onPullInterrupt);
    struct RestoreHandler {
        decltype(previous) handler;
        ~RestoreHandler() { std::signal(SIGINT, handler); }
    } restore{previous};

    std::cerr << "pulling " << o.repo << " (" << o.revision << ") into " << client.cache().directory().string() << "\n";
    try {
        const hub::PullResult result = client.pull(o.repo, options);
        progress.finish();
        if (result.fromCacheOnly) std::cerr << "offline: using the snapshot already in the cache\n";
        std::cerr << result.filesDownloaded << " of " << result.files.size() << " files downloaded ("
                  << formatBytes(static_cast<double>(result.bytesDownloaded)) << "), "
                  << formatBytes(static_cast<double>(result.bytesTotal)) << " in all, commit " << result.commit << "\n";
        if (!result.support.supported && !result.support.reason.empty())
            std::cerr << "note: " << result.support.reason << "\n";
        std::cout << result.snapshotFolder.string() << "\n";
        return 0;
    } catch (const HubError& e) {
        progress.finish();
        if (e.kind() == HubErrorKind::Cancelled) {
            std::cerr << "models pull: cancelled; the partial download is kept: run the same command to resume\n";
            return 130;
        }
        throw;
    }
}

struct ListOptions {
    ModelLocations locations;
    bool json = false;
};

int runList(const ListOptions& o) {
    const nlohmann::json answer = installedModelsJson(o.locations);
    if (o.json) {
        std::cout << answer.dump(2) << "\n";
        return 0;
    }
    std::cout << "models folder: " << answer["modelsFolder"].get<std::string>() << "\n"
              << "HF cache:      " << answer["hubCache"].get<std::string>() << "\n\n";
    if (answer["models"].empty()) std::cout << "No models installed.\n";
    for (const auto& model : answer["models"]) {
        std::string status = model["supported"].get<bool>()
                                 ? "runs as " + model["service"].get<std::string>()
                                 : "cannot run: " + model["reason"].get<std::string>();
        if (model["partialBytes"].get<uint64_t>() > 0)
            status += " (" + formatBytes(model["partialBytes"].get<double>()) + " partly downloaded: pull again to resume)";
        char size[16];
        std::snprintf(size, sizeof size, "%10s", formatBytes(model["bytes"].get<double>()).c_str());
        std::cout << (model["source"] == "hf-cache" ? "hf-cache " : "folder   ") << size << "  "
                  << model["name"].get<std::string>() << "  " << status << "\n";
    }
    std::cout << "\nUsed now:\n";
    for (const auto& [service, choice] : answer["services"].items()) {
        std::string where = choice["folder"].get<std::string>();
        if (!choice["origin"].get<std::string>().empty()) where = choice["origin"].get<std::string>() + ": " + where;
        if (!choice["problem"].get<std::string>().empty()) where += " (" + choice["problem"].get<std::string>() + ")";
        std::cout << "  " << service << ": " << where << "\n";
    }
    std::cout << "\nRecommended (grym-synth-cli models pull REPO):\n";
    for (const auto& model : answer["recommended"])
        std::cout << "  " << (model["installed"].get<bool>() ? "[installed] " : "[ ]         ")
                  << model["repoId"].get<std::string>() << "  " << model["description"].get<std::string>() << "\n";
    return 0;
}

struct RepoOptions {
    std::string repo;
};

const char* statusName(hub::BlobCheck::Status status) {
    switch (status) {
        case hub::BlobCheck::Status::Ok: return "ok";
        case hub::BlobCheck::Status::Corrupt: return "CORRUPT";
        case hub::BlobCheck::Status::Missing: return "MISSING";
        case hub::BlobCheck::Status::Unverifiable: return "unverifiable";
    }
    return "?";
}

int runVerify(const RepoOptions& o) {
    const hub::HubEnvironment environment = hub::HubEnvironment::fromProcessEnvironment();
    const hub::VerifyReport report = hub::verifyCachedRepo(hub::HubCache(environment.cacheDirectory), o.repo);
    for (const hub::BlobCheck& check : report.files) {
        std::cout << statusName(check.status) << "  " << check.commit.substr(0, 12) << "  " << check.path;
        if (check.status != hub::BlobCheck::Status::Ok && !check.detail.empty()) std::cout << "  (" << check.detail << ")";
        std::cout << "\n";
    }
    using Status = hub::BlobCheck::Status;
    std::cout << report.files.size() << " files: " << report.count(Status::Ok) << " ok, " << report.count(Status::Corrupt)
              << " corrupt, " << report.count(Status::Missing) << " missing, " << report.count(Status::Unverifiable)
              << " unverifiable\n";
    if (!report.ok())
        std::cerr << "models verify: " << o.repo << " is damaged: run `grym-synth-cli models rm " << o.repo
                  << "` and pull it again\n";
    return report.ok() ? 0 : 1;
}

int runRemove(const RepoOptions& o) {
    const hub::HubEnvironment environment = hub::HubEnvironment::fromProcessEnvironment();
    const hub::HubCache cache(environment.cacheDirectory);
    uint64_t bytes = 0;
    for (const hub::CachedRepo& repo : hub::listCachedRepos(cache))
        if (repo.repoId == o.repo) bytes = repo.bytesOnDisk;
    hub::removeCachedRepo(cache, o.repo);
    std::cout << "removed " << o.repo << " from " << cache.directory().string() << " ("
              << formatBytes(static_cast<double>(bytes)) << " freed)\n";
    return 0;
}

void addRepoArgument(CLI::App& command, std::string& repo) {
    addParsedOption(
        command, "REPO",
        [&repo](const std::string& text) {
            try {
                hub::validateRepoId(text);
            } catch (const HubError&) {
                rejectValue("REPO", "takes a Hugging Face repo id, ORG/NAME", text);
            }
            repo = text;
        },
        "Hugging Face repo id, ORG/NAME", "")
        ->required();
}

}  // namespace

void addModelsCommand(CommandLine& commandLine) {
    CLI::App& models = commandLine.addCommand(
        commandLine.program(), "models",
        "get models from the Hugging Face Hub (shared HF cache: HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_ENDPOINT, "
        "HF_HUB_OFFLINE) and list what is installed",
        {});
    models.require_subcommand(1);

    auto [pull, p] = commandLine.addCommand<PullCommandOptions>(
        models, "pull", "download a model repo, only the files grym-synth needs, resumably (Ctrl+C, then run again)",
        runPull);
    addRepoArgument(pull, p.repo);
    addParsedOption(
        pull, "--revision",
        [&revision = p.revision](const std::string& text) {
            try {
                hub::validateRevision(text);
            } catch (const HubError&) {
                rejectValue("--revision", "takes a branch, tag or commit name", text);
            }
            revision = text;
        },
        "branch, tag or commit (default main)", "REV");
    pull.add_option("--include", p.include, "fetch exactly the files matching this glob (repeatable)")
        ->type_name("GLOB");
    pull.add_flag("--allow-unsupported", p.allowUnsupported, "download even an architecture grym-synth cannot run");

    auto [list, l] = commandLine.addCommand<ListOptions>(
        models, "list", "installed models (models folder and HF cache), what the services use, and the recommended ones",
        runList);
    addTextOption(list, "--models", l.locations.root, "models folder (default: $XDG_DATA_HOME/grym-synth/models)",
                  "DIR");
    list.add_flag("--json", l.json, "print JSON (the same as the HTTP API's GET /v1/models)");

    auto [verify, v] = commandLine.addCommand<RepoOptions>(
        models, "verify", "re-hash every file of a cached repo against its published hash", runVerify);
    addRepoArgument(verify, v.repo);

    auto [remove, r] =
        commandLine.addCommand<RepoOptions>(models, "rm", "delete a repo from the HF cache", runRemove);
    addRepoArgument(remove, r.repo);
}

}  // namespace grym::cli
