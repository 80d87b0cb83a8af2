#pragma once
// Drag-out: a clip (or a selected part of it) dragged from the library or the waveform to a
// file manager or a DAW arrives there as a real audio file. The file is written (through the
// AudioApi's export) into the drag-out folder before the drag starts, in the format chosen in
// File ▸ Drag-out Format, and the drag carries its file URL (text/uri-list), which file managers
// and DAWs on every desktop read. Files are kept, not cleaned up: a DAW may reference them in place.
#include "audio/clip_export.h"
#include "clip.h"

#include <QObject>
#include <QString>

#include <optional>

class QMimeData;
class QWidget;

namespace grym::ui {

class CoreAdapter;

class ClipDragExporter : public QObject {
    Q_OBJECT
public:
    // `folder` is created on first use.
    ClipDragExporter(CoreAdapter* adapter, QString folder, QObject* parent = nullptr);

    QString folder() const { return folder_; }
    ExportFormat format() const { return format_; }
    void setFormat(ExportFormat format) { format_ = format; }

    // Writes the clip (or the range of it) into the folder under a name not yet taken there
    // ("rain texture.wav", "rain texture 1.20-3.50 s.wav", "rain texture (2).wav") and returns
    // its path; empty after emitting failed(message).
    QString writeFile(const Clip& clip, const std::optional<TimeRange>& range = std::nullopt);
    // The mime data of a drag of that file (its URL); nullptr after failed(message).
    QMimeData* mimeDataFor(const Clip& clip, const std::optional<TimeRange>& range = std::nullopt);
    // Runs a copy drag of the clip from `source` (blocks until it is dropped or abandoned).
    void startDrag(QWidget* source, const Clip& clip, const std::optional<TimeRange>& range = std::nullopt);

    // The file name a drag of this clip gets before de-duplication (no folder).
    static QString baseFileName(const Clip& clip, const std::optional<TimeRange>& range, ExportFormat format);

signals:
    void failed(const QString& message);
    void fileWritten(const QString& path);

private:
    CoreAdapter* adapter_;
    QString folder_;
    ExportFormat format_ = ExportFormat::Wav24;
};

// The drag-out format remembered in the settings ("export/dragFormat"); WAV 24-bit by default.
ExportFormat savedDragFormat();
void saveDragFormat(ExportFormat format);

}  // namespace grym::ui
