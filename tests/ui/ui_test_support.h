#pragma once
// Helpers for driving the real window in tests: make audio files, drop them, wait for signals.
#include "audio/audio_file.h"
#include "ui/test_audio.h"

#include <QApplication>
#include <QDropEvent>
#include <QMimeData>
#include <QTest>
#include <QUrl>
#include <QWidget>

#include <cmath>
#include <string>

namespace grym::test {

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
