#include "generation_history.h"

#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "platform/atomic_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace grym::ui {

namespace {

constexpr auto kSettingsSuffix = ".json";

// "20261203-121500-123_seed42": sortable by time, and says which take it is.
QString entryBaseName(const QDateTime& when, qint64 seed) {
    return when.toString(QStringLiteral("yyyyMMdd-HHmmss-zzz")) + QStringLiteral("_seed%1").arg(seed);
}

}  // namespace

GenerationHistory::GenerationHistory(QString folder) : folder_(std::move(folder)) {}

HistoryEntry GenerationHistory::record(const AudioBuffer& audio, const nlohmann::json& settings) {
    if (!QDir().mkpath(folder_))
        throw AudioError("history folder '" + folder_.toStdString() + "': cannot create it");
    const QDir dir(folder_);
    HistoryEntry entry;
    entry.created = QDateTime::currentDateTimeUtc();
    entry.settings = settings.is_object() ? settings : nlohmann::json::object();
    QString base = entryBaseName(entry.created, entry.seed());
    for (int n = 2; QFileInfo::exists(dir.filePath(base + kSettingsSuffix)) || QFileInfo::exists(dir.filePath(base + ".wav")); ++n)
        base = entryBaseName(entry.created, entry.seed()) + QStringLiteral("_%1").arg(n);
    entry.audioPath = dir.filePath(base + QStringLiteral(".wav"));
    entry.settingsPath = dir.filePath(base + kSettingsSuffix);

    SaveOptions options;
    options.encoding = SampleEncoding::Float32;  // exactly what the model made
    options.metadata = audioMetadataFromSettings(entry.settings, "generation settings");
    saveAudioFile(entry.audioPath.toStdString(), audio, options);

    nlohmann::json beside = entry.settings;
    beside["audio"] = QFileInfo(entry.audioPath).fileName().toStdString();
    beside["recorded"] = entry.created.toString(Qt::ISODateWithMs).toStdString();
    const std::string text = beside.dump(2) + "\n";
    try {
        writeFileAtomically(std::filesystem::u8path(entry.settingsPath.toStdString()), text.data(), text.size());
    } catch (const std::system_error& e) {
        throw AudioError("history file '" + entry.settingsPath.toStdString() + "': cannot write it (" + e.what() + ")");
    }
    return entry;
}

QVector<HistoryEntry> GenerationHistory::entries(QStringList* problems) const {
    QVector<HistoryEntry> found;
    const QDir dir(folder_);
    const QStringList names = dir.entryList({QStringLiteral("*") + kSettingsSuffix}, QDir::Files, QDir::Name);
    for (const QString& name : names) {
        const QString path = dir.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            if (problems) *problems << QStringLiteral("%1: cannot be read").arg(path);
            continue;
        }
        const nlohmann::json json = nlohmann::json::parse(file.readAll().toStdString(), nullptr, false);
        if (!json.is_object() || !json.contains("audio") || !json["audio"].is_string()) {
            if (problems) *problems << QStringLiteral("%1: not a history entry").arg(path);
            continue;
        }
        HistoryEntry entry;
        entry.settingsPath = path;
        entry.audioPath = dir.filePath(QString::fromStdString(json["audio"].get<std::string>()));
        if (!QFileInfo::exists(entry.audioPath)) {
            if (problems) *problems << QStringLiteral("%1: its audio %2 is missing").arg(path, entry.audioPath);
            continue;
        }
        entry.settings = json;
        entry.settings.erase("audio");
        entry.settings.erase("recorded");
        entry.created = QDateTime::fromString(QString::fromStdString(json.value("recorded", std::string())), Qt::ISODateWithMs);
        if (!entry.created.isValid()) entry.created = QFileInfo(path).lastModified().toUTC();
        found << entry;
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const HistoryEntry& a, const HistoryEntry& b) { return a.created > b.created; });
    return found;
}

QVector<HistoryEntry> GenerationHistory::matching(const QVector<HistoryEntry>& entries, const QString& text) {
    const QStringList words = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    QVector<HistoryEntry> result;
    for (const HistoryEntry& entry : entries) {
        const QString haystack =
            entry.prompt() + QLatin1Char(' ') + QString::fromStdString(entry.settings.value("negative_prompt", std::string()));
        if (std::all_of(words.begin(), words.end(),
                        [&](const QString& w) { return haystack.contains(w, Qt::CaseInsensitive); }))
            result << entry;
    }
    return result;
}

}  // namespace grym::ui
