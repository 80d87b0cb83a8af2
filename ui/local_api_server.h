#pragma once
// Settings ▸ Local API: serves the app's own AudioApi over HTTP (grym::HttpServer), so scripts
// and other tools can drive the running app. Loopback only; an optional bearer token; the
// choice is remembered in QSettings and restored at the next start.
#include <QObject>
#include <QString>

#include <memory>

namespace grym {
class AudioApi;
class HttpServer;
}  // namespace grym

namespace grym::ui {

struct LocalApiSettings {
    bool enabled = false;
    int port = 8765;  // 0: any free port
    QString token;    // empty: no token (loopback only either way)
};

LocalApiSettings loadLocalApiSettings();
void saveLocalApiSettings(const LocalApiSettings& settings);

class LocalApiServer : public QObject {
    Q_OBJECT
public:
    static constexpr const char* kHost = "127.0.0.1";

    // `api` must outlive this object (the app's adapter owns it).
    explicit LocalApiServer(AudioApi& api, QObject* parent = nullptr);
    ~LocalApiServer() override;  // stops the server

    // Starts, restarts with new settings, or stops, and remembers the settings. Returns false
    // (and emits failed) when the port cannot be bound; the server is then off.
    bool apply(const LocalApiSettings& settings);
    bool running() const;
    int port() const;     // the bound port, 0 when stopped
    QString url() const;  // "http://127.0.0.1:PORT/v1/", empty when stopped

signals:
    void stateChanged(bool running, const QString& url);
    void failed(const QString& message);

private:
    void stop();

    AudioApi& api_;
    std::unique_ptr<HttpServer> server_;
};

}  // namespace grym::ui
