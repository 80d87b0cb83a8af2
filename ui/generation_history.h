#pragma once
// The history folder: every generation the app finishes is written there at once, the audio
// (32-bit float WAV with its settings embedded) and its settings as JSON beside it, each by an
// atomic write (temporary file, flush, rename). The JSON is written second, so an entry whose
// JSON is there has its audio complete: a crash at any moment loses at most the generation
// being written, never one already listed, and leaves no half-written entry.
#include "audio/audio_buffer.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVector>

#include <nlohmann/json.hpp>

namespace grym::ui {

struct HistoryEntry {
    QString audioPath;
    QString settingsPath;
    nlohmann::json settings;   // core's ClipProvenance JSON
    QDateTime created;         // when it was recorded (UTC)

    QString prompt() const { return QString::fromStdString(settings.value("prompt", std::string())); }
    qint64 seed() const { return settings.value("seed", qint64(0)); }
};

class GenerationHistory {
public:
    explicit GenerationHistory(QString folder);
    const QString& folder() const { return folder_; }

    // Writes one finished generation; creates the folder when needed. Throws grym::AudioError
    // naming the file that could not be written (folder not writable, disk full).
    HistoryEntry record(const AudioBuffer& audio, const nlohmann::json& settings);

    // Every complete entry, newest first. Unreadable JSON files are skipped (named in `problems`).
    QVector<HistoryEntry> entries(QStringList* problems = nullptr) const;

    // The entries whose prompt (or negative prompt) contains every word of `text`, any case.
    static QVector<HistoryEntry> matching(const QVector<HistoryEntry>& entries, const QString& text);

private:
    QString folder_;
};

}  // namespace grym::ui
