#include "local_api_server.h"

#include "api/http_server.h"

#include <QSettings>

namespace grym::ui {

namespace {
constexpr char kEnabledKey[] = "localApi/enabled";
constexpr char kPortKey[] = "localApi/port";
constexpr char kTokenKey[] = "localApi/token";
}  // namespace

LocalApiSettings loadLocalApiSettings() {
    QSettings settings;
    LocalApiSettings s;
    s.enabled = settings.value(QLatin1String(kEnabledKey), s.enabled).toBool();
    s.port = settings.value(QLatin1String(kPortKey), s.port).toInt();
    s.token = settings.value(QLatin1String(kTokenKey), s.token).toString();
    return s;
}

void saveLocalApiSettings(const LocalApiSettings& s) {
    QSettings settings;
    settings.setValue(QLatin1String(kEnabledKey), s.enabled);
    settings.setValue(QLatin1String(kPortKey), s.port);
    settings.setValue(QLatin1String(kTokenKey), s.token);
}

LocalApiServer::LocalApiServer(AudioApi& api, QObject* parent) : QObject(parent), api_(api) {}

LocalApiServer::~LocalApiServer() { stop(); }

void LocalApiServer::stop() {
    if (!server_) return;
    server_->stop();
    server_.reset();
}

bool LocalApiServer::apply(const LocalApiSettings& settings) {
    saveLocalApiSettings(settings);
    const bool wasRunning = running();
    stop();
    if (settings.enabled) {
        HttpServerConfig config;
        config.host = kHost;
        config.port = settings.port;
        config.token = settings.token.toStdString();
        try {
            auto server = std::make_unique<HttpServer>(api_, config);
            server->start();
            server_ = std::move(server);
        } catch (const std::exception& e) {
            emit failed(tr("The local API could not start on port %1: %2").arg(settings.port).arg(QString::fromStdString(e.what())));
            if (wasRunning) emit stateChanged(false, QString());
            return false;
        }
    }
    if (wasRunning || running()) emit stateChanged(running(), url());
    return true;
}

bool LocalApiServer::running() const { return server_ && server_->running(); }

int LocalApiServer::port() const { return running() ? server_->port() : 0; }

QString LocalApiServer::url() const {
    return running() ? QStringLiteral("http://%1:%2/v1/").arg(QLatin1String(kHost)).arg(port()) : QString();
}

}  // namespace grym::ui
