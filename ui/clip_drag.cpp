#include "clip_drag.h"

#include "core_adapter.h"

#include "api/clip_provenance.h"

#include <QDir>
#include <QDrag>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QUrl>
#include <QWidget>

namespace grym::ui {

namespace {

const QString kDragFormatKey = QStringLiteral("export/dragFormat");

// Characters file managers and other systems refuse in names, replaced so any clip name works.
QString safeFileStem(QString stem) {
    static const QString forbidden = QStringLiteral("/\\:*?\"<>|");
    for (QChar& c : stem)
        if (forbidden.contains(c) || c.unicode() < 0x20) c = QLatin1Char('_');
    stem = stem.trimmed();
    return stem.isEmpty() || stem.startsWith(QLatin1Char('.')) ? QStringLiteral("clip") + stem : stem;
}

}  // namespace

ClipDragExporter::ClipDragExporter(CoreAdapter* adapter, QString folder, QObject* parent)
    : QObject(parent), adapter_(adapter), folder_(std::move(folder)), format_(savedDragFormat()) {}

QString ClipDragExporter::baseFileName(const Clip& clip, const std::optional<TimeRange>& range, ExportFormat format) {
    QString stem = safeFileStem(QFileInfo(clip.name).completeBaseName());
    if (range) stem += QStringLiteral(" %1-%2 s").arg(range->startSeconds, 0, 'f', 2).arg(range->endSeconds, 0, 'f', 2);
    return stem + QString::fromLatin1(fileExtension(format));
}

QString ClipDragExporter::writeFile(const Clip& clip, const std::optional<TimeRange>& range) {
    if (!clip.audio || clip.audio->empty()) {
        emit failed(tr("%1 has no audio to drag out").arg(clip.name));
        return {};
    }
    QDir dir(folder_);
    if (!dir.mkpath(QStringLiteral("."))) {
        emit failed(tr("Cannot create the drag-out folder %1").arg(QDir::toNativeSeparators(folder_)));
        return {};
    }
    // A new name each time: a DAW may still reference a file an earlier drag wrote.
    const QString base = baseFileName(clip, range, format_);
    QString path = dir.filePath(base);
    const QFileInfo baseInfo(base);
    for (int n = 2; QFileInfo::exists(path); ++n)
        path = dir.filePath(QStringLiteral("%1 (%2).%3").arg(baseInfo.completeBaseName()).arg(n).arg(baseInfo.suffix()));

    ExportOptions options;
    options.format = format_;
    if (range) {
        options.trimStartSeconds = range->startSeconds;
        options.trimEndSeconds = range->endSeconds;
    }
    try {
        options.metadata = audioMetadataFromSettings(clip.settings, "the clip's settings");
        adapter_->api().exportClip(*clip.audio, path.toStdString(), options);
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
        return {};
    }
    emit fileWritten(path);
    return path;
}

QMimeData* ClipDragExporter::mimeDataFor(const Clip& clip, const std::optional<TimeRange>& range) {
    const QString path = writeFile(clip, range);
    if (path.isEmpty()) return nullptr;
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(path)});
    return mime;
}

void ClipDragExporter::startDrag(QWidget* source, const Clip& clip, const std::optional<TimeRange>& range) {
    QMimeData* mime = mimeDataFor(clip, range);
    if (!mime) return;
    auto* drag = new QDrag(source);
    drag->setMimeData(mime);
    drag->exec(Qt::CopyAction);
}

ExportFormat savedDragFormat() {
    const auto name = QSettings().value(kDragFormatKey).toString().toStdString();
    return parseExportFormat(name).value_or(ExportFormat::Wav24);
}

void saveDragFormat(ExportFormat format) { QSettings().setValue(kDragFormatKey, QString::fromLatin1(toString(format))); }

}  // namespace grym::ui
