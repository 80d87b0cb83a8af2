#pragma once
// Helpers for driving the real window in tests: make audio files, drop them, wait for signals.
#include "audio/audio_file.h"
#include "ui/test_audio.h"

#include <QApplication>
#include <QDropEvent>
#include <QMouseEvent>
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

// Shift+drag across `widget` at mid-height, as a user selects a range in a waveform. (QTest's
// own mouseMove carries no pressed button.)
inline void shiftDrag(QWidget* widget, int fromX, int toX) {
    const int y = widget->height() / 2;
    QTest::mousePress(widget, Qt::LeftButton, Qt::ShiftModifier, QPoint(fromX, y));
    QMouseEvent move(QEvent::MouseMove, QPointF(toX, y), widget->mapToGlobal(QPointF(toX, y)), Qt::NoButton,
                     Qt::LeftButton, Qt::ShiftModifier);
    QApplication::sendEvent(widget, &move);
    QTest::mouseRelease(widget, Qt::LeftButton, Qt::ShiftModifier, QPoint(toX, y));
}

template <typename Predicate>
bool waitFor(Predicate predicate, int timeoutMs = 5000) {
    return QTest::qWaitFor(predicate, timeoutMs);
}

}  // namespace grym::test
