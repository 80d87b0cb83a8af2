#pragma once
// Helpers for driving the real window in tests: make audio files, drop them, wait for signals.
#include "audio/audio_buffer.h"
#include "audio/audio_file.h"

#include <QApplication>
#include <QDropEvent>
#include <QMimeData>
#include <QTest>
#include <QUrl>
#include <QWidget>

#include <cmath>
#include <string>

namespace grym::test {

inline AudioBuffer tone(double seconds, int rate = 16000, int channels = 1, double frequency = 440.0) {
    AudioBuffer audio;
    audio.sampleRate = rate;
    audio.channels = channels;
    const auto frames = static_cast<size_t>(seconds * rate);
    audio.samples.resize(frames * channels);
    for (size_t i = 0; i < frames; ++i)
        for (int c = 0; c < channels; ++c)
            audio.samples[i * channels + c] = static_cast<float>(0.4 * std::sin(2.0 * M_PI * frequency * i / rate));
    return audio;
}

inline void writeTone(const QString& path, double seconds, int rate = 16000, int channels = 1) {
    saveAudioFile(path.toStdString(), tone(seconds, rate, channels));
}

// Drops local files on `target` the way a file manager does (enter, move, drop).
inline void dropFiles(QWidget* target, const QStringList& paths) {
    QMimeData mime;
    QList<QUrl> urls;
    for (const QString& p : paths) urls << QUrl::fromLocalFile(p);
    mime.setUrls(urls);
    const QPointF where = QPointF(target->rect().center());
    QDragEnterEvent enter(where.toPoint(), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QDropEvent drop(where, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
}

template <typename Predicate>
bool waitFor(Predicate predicate, int timeoutMs = 5000) {
    return QTest::qWaitFor(predicate, timeoutMs);
}

}  // namespace grym::test
