#include "api/http_server.h"

#include "api/clip_provenance.h"

#include "api/audio_api.h"
#include "api/web_assets.h"
#include "audio/audio_file.h"
#include "audio/clip_export.h"
#include "common/error.h"
#include "common/strings.h"

#include <algorithm>
#include <httplib.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>

namespace grym {

namespace {

void sendJson(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    // Invalid UTF-8 from the client can reach a body (a JSON parse error quotes the bytes it
    // stopped at): replace it instead of throwing, which turned a 400 into a 500 (found by the
    // abuse tests, http_abuse_test.cpp).
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void sendError(httplib::Response& res, int status, const std::string& message, const std::string& field = {}) {
    nlohmann::json err = {{"message", message}};
    if (!field.empty()) err["field"] = field;
    sendJson(res, status, {{"error", err}});
}

// "rain-on-a-tin-roof-12.flac": the prompt's words (ASCII letters and digits, at most 40
// characters) and the task id, safe to quote in a Content-Disposition header.
std::string downloadFileName(const ApiTaskRecord& record, ExportFormat format) {
    std::string words;
    const std::string prompt = record.request.is_object() ? record.request.value("prompt", std::string()) : std::string();
    for (const char c : prompt) {
        if (words.size() >= 40) break;
        if (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 128)
            words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        else if (!words.empty() && words.back() != '-')
            words += '-';
    }
    while (!words.empty() && words.back() == '-') words.pop_back();
    return (words.empty() ? std::string("clip") : words) + "-" + std::to_string(record.handle.id()) + fileExtension(format);
}

}  // namespace

struct HttpServer::Impl {
    AudioApi& api;
    HttpServerConfig config;
    httplib::Server server;
    std::thread thread;
    std::atomic<bool> running{false};
    int boundPort = 0;
    std::mutex admission;  // see admit()

    Impl(AudioApi& a, HttpServerConfig c) : api(a), config(std::move(c)) {}

    bool authorised(const httplib::Request& req) const {
        if (config.token.empty()) return true;
        return secretsEqual(req.get_header_value("Authorization"), "Bearer " + config.token);
    }

    size_t activeTasks() const {
        size_t n = 0;
        for (const auto& rec : api.tasks()) n += isFinished(rec.handle.state()) ? 0 : 1;
        return n;
    }

    // Runs `submit` when `more` tasks fit under the limit of active tasks, else answers 429. One
    // request at a time: checked and submitted separately, concurrent requests each saw room for
    // one more and together passed the limit (http_concurrency_test.cpp). Submitting only queues.
    template <class Submit>
    void admit(httplib::Response& res, size_t more, Submit submit) {
        std::lock_guard<std::mutex> lock(admission);
        if (activeTasks() + more > config.maxActiveTasks) return refuseTooManyTasks(res);
        submit();
    }
    void refuseTooManyTasks(httplib::Response& res) const {
        sendError(res, 429, "too many tasks are queued or running (limit " + std::to_string(config.maxActiveTasks) +
                                "); retry later");
    }

    std::optional<ApiTaskRecord> findTask(const httplib::Request& req, httplib::Response& res) const {
        TaskId id = 0;
        try {
            id = std::stoull(req.matches[1].str());
        } catch (const std::exception&) {
            sendError(res, 400, "task id must be a number", "id");
            return std::nullopt;
        }
        auto rec = api.task(id);
        if (!rec) sendError(res, 404, "no task " + std::to_string(id), "id");
        return rec;
    }

    nlohmann::json describe(const ApiTaskRecord& rec) const {
        nlohmann::json j = toJson(rec.handle.status());
        j["kind"] = rec.kind;
        j["request"] = rec.request;
        if (rec.handle.state() == TaskState::Succeeded) {
            const TaskResult r = rec.handle.result().get();
            j["result"] = r.data;
            j["metrics"] = r.metrics;
            if (r.audio) {
                j["audio"] = {{"sample_rate", r.audio->sampleRate},
                              {"channels", r.audio->channels},
                              {"duration", r.audio->duration()},
                              {"url", "/v1/tasks/" + std::to_string(rec.handle.id()) + "/audio"}};
            }
        }
        return j;
    }

    // Throws FieldError("body") when the body is not JSON, so the answer names it like any field.
    // A request body is a few hundred bytes of flat JSON; a parsed document costs far more memory
    // than its text (about 80 bytes per nesting level), so a body of a million '[' would take
    // gigabytes. Bodies over kMaxJsonBodyBytes or nested deeper than kMaxJsonDepth are refused
    // while parsing, before they are built.
    static constexpr size_t kMaxJsonBodyBytes = 256 * 1024;
    static constexpr int kMaxJsonDepth = 32;
    static nlohmann::json parseJsonBody(const httplib::Request& req) {
        if (req.body.size() > kMaxJsonBodyBytes)
            throw FieldError("body", "is larger than a JSON request may be (" + std::to_string(kMaxJsonBodyBytes / 1024) +
                                         " KB)");
        const auto limitDepth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
            if (depth > kMaxJsonDepth)
                throw FieldError("body", "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
            return true;
        };
        try {
            return nlohmann::json::parse(req.body, limitDepth);
        } catch (const FieldError&) {
            throw;
        } catch (const std::exception& e) {
            throw FieldError("body", std::string("is not valid JSON: ") + e.what());
        }
    }

    // The clip of a finished task named by `field` in a request body (inpaint, continue).
    AudioBuffer clipOfTask(const nlohmann::json& value, const char* field) const {
        if (!value.is_number_unsigned()) throw FieldError(field, "must be the id of a finished task");
        const auto id = value.get<TaskId>();
        auto rec = api.task(id);
        if (!rec) throw FieldError(field, "no task " + std::to_string(id));
        if (rec->handle.state() != TaskState::Succeeded)
            throw FieldError(field, "task " + std::to_string(id) + " is " + toString(rec->handle.state()) + ", not succeeded");
        const TaskResult source = rec->handle.result().get();
        if (!source.audio) throw FieldError(field, "task " + std::to_string(id) + " made no audio");
        return *source.audio;
    }

    void handleGenerate(const httplib::Request& req, httplib::Response& res) {
        nlohmann::json body = parseJsonBody(req);
        // Editing a finished task's clip: {"inpaint": ID, "range": "2.0:3.5"} or {"continue": ID}.
        std::optional<AudioBuffer> clip;
        std::optional<ClipRange> range;
        bool continuing = false;
        if (body.is_object()) {
            if (body.contains("inpaint") && body.contains("continue"))
                throw FieldError("continue", "a request either inpaints or continues a clip, not both");
            if (body.contains("inpaint")) {
                clip = clipOfTask(body["inpaint"], "inpaint");
                if (!body.contains("range") || !body["range"].is_string())
                    throw FieldError("range", "is required with inpaint, as \"START:END\" in seconds");
                range = parseClipRange(body["range"].get<std::string>());
                body.erase("inpaint");
                body.erase("range");
            } else if (body.contains("continue")) {
                clip = clipOfTask(body["continue"], "continue");
                continuing = true;
                body.erase("continue");
            } else if (body.contains("range")) {
                throw FieldError("range", "is only taken with inpaint");
            }
        }
        GenerateRequest request = parseGenerateRequest(body, api.limits());
        if (clip) {
            return admit(res, 1, [&] {
                TaskHandle h = continuing ? api.continueClip(*clip, request) : api.inpaintClip(*clip, request, *range);
                sendJson(res, 202, {{"id", h.id()}, {"ids", {h.id()}}, {"state", toString(h.state())},
                                    {"url", "/v1/tasks/" + std::to_string(h.id())}});
            });
        }
        // Each variation is its own task (seed, seed+1, ...): one more slot each.
        admit(res, static_cast<size_t>(request.variations), [&] {
            const auto handles = api.generateAudioBatch(request);
            nlohmann::json ids = nlohmann::json::array();
            for (const auto& h : handles) ids.push_back(h.id());
            const TaskHandle& first = handles.front();
            sendJson(res, 202, {{"id", first.id()},
                                {"ids", ids},
                                {"state", toString(first.state())},
                                {"url", "/v1/tasks/" + std::to_string(first.id())}});
        });
    }

    // A variation of a finished clip: the clip's own settings with the body's fields over them,
    // and a fresh seed unless the body gives one (the source's seed would repeat its noise).
    void handleVariation(const httplib::Request& req, httplib::Response& res) {
        auto rec = findTask(req, res);
        if (!rec) return;
        if (rec->handle.state() != TaskState::Succeeded)
            return sendError(res, 409, std::string("task is ") + toString(rec->handle.state()) + ", not succeeded", "id");
        const TaskResult source = rec->handle.result().get();
        if (!source.audio) return sendError(res, 409, "task " + std::to_string(rec->handle.id()) + " made no audio to vary", "id");
        nlohmann::json body = req.body.empty() ? nlohmann::json::object() : parseJsonBody(req);
        if (!body.is_object()) throw FieldError("body", "must be a JSON object");
        double strength = 0.5;
        if (body.contains("strength")) {
            if (!body["strength"].is_number()) throw FieldError("strength", "must be a number");
            strength = body["strength"].get<double>();
            body.erase("strength");
        }
        nlohmann::json settings = rec->request;
        for (const char* inherited : {"strength", "seed", "latents_file", "latents_key"}) settings.erase(inherited);
        settings["variations"] = 1;
        settings.update(body);
        const GenerateRequest request = parseGenerateRequest(settings, api.limits());
        if (request.variations != 1) throw FieldError("variations", "must be 1: a variation request makes one clip");
        admit(res, 1, [&] {
            TaskHandle h = api.generateVariation(*source.audio, request, strength);
            sendJson(res, 202, {{"id", h.id()}, {"state", toString(h.state())}, {"url", "/v1/tasks/" + std::to_string(h.id())}});
        });
    }

    void handleAnalyze(const httplib::Request& req, httplib::Response& res) {
        std::string bytes;
        std::string name = "upload";
        if (req.is_multipart_form_data()) {
            if (!req.has_file("file")) return sendError(res, 400, "multipart upload needs a \"file\" part", "file");
            const auto f = req.get_file_value("file");
            bytes = f.content;
            if (!f.filename.empty()) name = f.filename;
        } else {
            bytes = req.body;
        }
        if (bytes.empty()) return sendError(res, 400, "no audio in the request body", "file");
        // Refused before the upload is decoded when the limit is already reached; admit() below
        // decides for good.
        if (activeTasks() >= config.maxActiveTasks) return refuseTooManyTasks(res);
        AudioLimits limits;
        limits.maxDurationSeconds = api.limits().maxAnalyzeSeconds;
        AudioBuffer audio;
        try {
            audio = decodeAudioBytes(std::move(bytes), name, limits);
        } catch (const AudioError& e) {
            return sendError(res, 422, std::string("unreadable audio: ") + e.what(), "file");
        }
        admit(res, 1, [&] {
            TaskHandle h = api.analyzeAudio(std::move(audio));
            sendJson(res, 202, {{"id", h.id()}, {"state", toString(h.state())}, {"url", "/v1/tasks/" + std::to_string(h.id())}});
        });
    }

    void handleAudio(const httplib::Request& req, httplib::Response& res) {
        auto rec = findTask(req, res);
        if (!rec) return;
        if (rec->handle.state() != TaskState::Succeeded)
            return sendError(res, 409, std::string("task is ") + toString(rec->handle.state()) + ", not succeeded");
        const TaskResult r = rec->handle.result().get();
        if (!r.audio) return sendError(res, 404, "this task produced no audio");
        const std::string format = req.has_param("format") ? req.get_param_value("format") : "wav";
        if (format != "wav" && format != "flac") return sendError(res, 400, "format must be wav or flac", "format");
        SaveOptions options;
        options.format = format == "wav" ? AudioFileFormat::Wav : AudioFileFormat::Flac;
        options.encoding = format == "wav" ? SampleEncoding::Float32 : SampleEncoding::Pcm24;
        if (const auto provenance = provenanceOf(r)) options.metadata = toAudioMetadata(*provenance);
        res.status = 200;
        res.set_content(encodeAudioBytes(*r.audio, "task " + std::to_string(rec->handle.id()) + " audio." + format, options),
                        format == "wav" ? "audio/wav" : "audio/flac");
    }

    // A finished clip as a file for other tools, through the same export as the CLI's `export`
    // and the app's Export dialog (clip_export.h): trim, fades, loudness, WAV/FLAC/OGG.
    void handleExport(const httplib::Request& req, httplib::Response& res) {
        auto rec = findTask(req, res);
        if (!rec) return;
        ExportOptions options = parseExportQuery(req.params);
        if (rec->handle.state() != TaskState::Succeeded)
            return sendError(res, 409, std::string("task is ") + toString(rec->handle.state()) + ", not succeeded", "id");
        const TaskResult r = rec->handle.result().get();
        if (!r.audio) return sendError(res, 409, "task " + std::to_string(rec->handle.id()) + " made no audio to export", "id");
        if (const auto provenance = provenanceOf(r)) options.metadata = toAudioMetadata(*provenance);
        const std::string name = downloadFileName(*rec, options.format);
        EncodedExport exported;
        try {
            exported = api.encodeExport(*r.audio, name, options);
        } catch (const ExportSettingError& e) {
            return sendError(res, 400, e.what(), exportQueryField(e.setting()));
        }
        const ExportResult& result = exported.result;
        res.status = 200;
        res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
        res.set_header("X-Export-Duration", shortNumber(result.duration()));
        res.set_header("X-Export-Peak", shortNumber(result.peak));
        res.set_header("X-Export-Clipped", result.clipped() ? "true" : "false");
        if (result.loudnessBeforeLufs) {
            res.set_header("X-Export-Loudness-Before", shortNumber(*result.loudnessBeforeLufs));
            res.set_header("X-Export-Gain-dB", shortNumber(result.gainDb));
        }
        res.set_header("Access-Control-Expose-Headers",
                       "Content-Disposition, X-Export-Duration, X-Export-Peak, X-Export-Clipped, "
                       "X-Export-Loudness-Before, X-Export-Gain-dB");
        res.set_content(exported.bytes, mimeType(options.format));
    }

    // The task's status as server-sent events until it finishes. Each call of the provider waits
    // at most kEventPoll and returns, instead of looping until the task ends: cpp-httplib checks
    // between calls whether the server is stopping, and stop() waits for every handler, so a
    // stream of a task that never finished used to keep stop() (and the app's exit) waiting
    // forever. An unfinished task's status changes at every poll (its queued or run seconds), so
    // a write soon finds a client that went away and frees the handler thread.
    static constexpr std::chrono::milliseconds kEventPoll{200};
    void handleEvents(const httplib::Request& req, httplib::Response& res) {
        auto rec = findTask(req, res);
        if (!rec) return;
        struct Stream {
            TaskHandle handle;
            std::string lastPayload;
        };
        auto stream = std::make_shared<Stream>(Stream{rec->handle, {}});
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
            const TaskStatus s = stream->handle.status();
            const std::string payload = toJson(s).dump();
            if (payload != stream->lastPayload) {
                const std::string message =
                    std::string("event: ") + (isFinished(s.state) ? "done" : "progress") + "\ndata: " + payload + "\n\n";
                if (!sink.write(message.data(), message.size())) return false;  // the client went away
                stream->lastPayload = payload;
            }
            if (isFinished(s.state)) {
                sink.done();
                return true;
            }
            stream->handle.waitFor(kEventPoll);
            return true;
        });
    }

    // Runs before a request's body is read: see request_guard.h.
    httplib::Server::HandlerResponse screen(const httplib::Request& req, httplib::Response& res) const {
        RequestFacts facts{req.method, req.path, req.get_header_value("Host"), req.get_header_value("Origin"),
                           req.get_header_value("Content-Type"), req.get_header_value("Content-Length")};
        const GuardVerdict verdict =
            checkRequest(facts, RequestPolicy{config.host, config.allowedOrigins, config.maxBodyBytes});
        if (!verdict.allowOrigin.empty()) {
            res.set_header("Access-Control-Allow-Origin", verdict.allowOrigin);
            res.set_header("Vary", "Origin");
        }
        if (verdict.answeredPreflight) {
            res.status = 204;
            res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
            res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
            res.set_header("Access-Control-Max-Age", "600");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (verdict.status != 0) {
            // The body (if any) is left unread, so this connection cannot carry another request.
            if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) res.set_header("Connection", "close");
            sendError(res, verdict.status, verdict.message);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    }

    // The browser page, compiled in (web_assets.h). Served without a token: it holds no data,
    // and asks for the token itself before it calls the API.
    static void handlePageFile(const httplib::Request& req, httplib::Response& res) {
        const std::string path = req.path == "/" ? "/index.html" : req.path;
        for (const WebAsset& asset : webAssets()) {
            if (asset.path != path) continue;
            res.status = 200;
            res.set_content(std::string(asset.bytes), std::string(asset.contentType));
            res.set_header("Cache-Control", "no-cache");
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_header("Referrer-Policy", "no-referrer");
            // Only this server's own files and the page's own blobs: nothing loads from elsewhere.
            res.set_header("Content-Security-Policy",
                           "default-src 'self'; media-src 'self' blob:; img-src 'self' blob: data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'");
            return;
        }
        sendError(res, 404, "no such page or endpoint (the API is under /v1/, see /v1/openapi.json)");
    }

    void routes() {
        server.set_pre_routing_handler(
            [this](const httplib::Request& req, httplib::Response& res) { return screen(req, res); });
        auto guarded = [this](auto fn) {
            return [this, fn](const httplib::Request& req, httplib::Response& res) {
                if (!authorised(req)) return sendError(res, 401, "missing or wrong token (send Authorization: Bearer TOKEN)");
                try {
                    (this->*fn)(req, res);
                } catch (const FieldError& e) {
                    sendError(res, 400, e.what(), e.field());
                } catch (const TaskError& e) {
                    sendError(res, 503, e.what());
                } catch (const ApiError& e) {
                    sendError(res, 400, e.what());
                } catch (const std::exception& e) {
                    sendError(res, 500, e.what());
                }
            };
        };
        server.Post("/v1/generate", guarded(&Impl::handleGenerate));
        server.Post("/v1/analyze", guarded(&Impl::handleAnalyze));
        server.Post(R"(/v1/tasks/([^/]+)/variation)", guarded(&Impl::handleVariation));
        server.Get(R"(/v1/tasks/([^/]+)/audio)", guarded(&Impl::handleAudio));
        server.Get(R"(/v1/tasks/([^/]+)/export)", guarded(&Impl::handleExport));
        server.Get(R"(/v1/tasks/([^/]+)/events)", guarded(&Impl::handleEvents));
        server.Get(R"(/v1/tasks/([^/]+))", guarded(&Impl::handleTask));
        server.Delete(R"(/v1/tasks/([^/]+))", guarded(&Impl::handleCancel));
        server.Get("/v1/tasks", guarded(&Impl::handleList));
        server.Get("/v1/status", guarded(&Impl::handleStatus));
        server.Get("/v1/models", guarded(&Impl::handleModels));
        server.Get("/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
            sendJson(res, 200, openApiDocument());
        });
        server.Get(R"(/[^/]*)", handlePageFile);
        server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return;
            if (res.status == 413)
                return sendError(res, 413,
                                 "request body is larger than the server allows (send audio as "
                                 "application/octet-stream or multipart/form-data: form-urlencoded bodies "
                                 "are limited to 8 KB)");
            if (res.status == 404) return sendError(res, 404, "no such endpoint (see /v1/openapi.json)");
            sendError(res, res.status, "request failed");
        });
        server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "internal error";
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            sendError(res, 500, what);
        });
    }

    void handleTask(const httplib::Request& req, httplib::Response& res) {
        if (auto rec = findTask(req, res)) sendJson(res, 200, describe(*rec));
    }

    void handleCancel(const httplib::Request& req, httplib::Response& res) {
        auto rec = findTask(req, res);
        if (!rec) return;
        const bool cancelled = rec->handle.cancel();
        sendJson(res, 200, {{"id", rec->handle.id()}, {"cancelled", cancelled}, {"state", toString(rec->handle.state())}});
    }

    void handleList(const httplib::Request&, httplib::Response& res) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& rec : api.tasks()) {
            auto j = toJson(rec.handle.status());
            j["kind"] = rec.kind;
            list.push_back(j);
        }
        sendJson(res, 200, {{"tasks", list}});
    }

    void handleStatus(const httplib::Request&, httplib::Response& res) { sendJson(res, 200, api.getServiceStatus()); }
    void handleModels(const httplib::Request&, httplib::Response& res) {
        sendJson(res, 200, installedModelsJson(config.models));
    }
};

HttpServer::HttpServer(AudioApi& api, HttpServerConfig config) : impl_(std::make_unique<Impl>(api, std::move(config))) {
    if (!isLoopbackAddress(impl_->config.host) && impl_->config.token.empty())
        throw ApiError("refusing to listen on " + impl_->config.host +
                       " without a token: other machines could use this computer's models (pass --token)");
    if (impl_->config.port < 0 || impl_->config.port > 65535)
        throw FieldError("port", "must be between 0 and 65535");
    impl_->server.set_payload_max_length(impl_->config.maxBodyBytes);
    const int threads = std::max(1, impl_->config.threads);
    impl_->server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    impl_->routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start() {
    if (impl_->running) return impl_->boundPort;
    auto& s = impl_->server;
    int port = impl_->config.port;
    if (port == 0) {
        port = s.bind_to_any_port(impl_->config.host);
        if (port < 0) throw ApiError("cannot bind to " + impl_->config.host);
    } else if (!s.bind_to_port(impl_->config.host, port)) {
        throw ApiError("cannot listen on " + impl_->config.host + ":" + std::to_string(port) +
                       " (address in use or not permitted)");
    }
    impl_->boundPort = port;
    impl_->running = true;
    impl_->thread = std::thread([this] {
        impl_->server.listen_after_bind();
        impl_->running = false;
    });
    return port;
}

void HttpServer::stop() {
    if (!impl_) return;
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->running = false;
}

bool HttpServer::running() const { return impl_->running; }

int HttpServer::port() const { return impl_->boundPort; }

}  // namespace grym
