#include "clip_library.h"

#include "clip_drag.h"

#include <QFileInfo>
#include <QMimeData>
#include <QUrl>
#include <QFont>

#include <algorithm>

namespace grym::ui {

ClipLibrary::ClipLibrary(QObject* parent) : QAbstractTableModel(parent) {}

quint64 ClipLibrary::add(Clip clip) {
    clip.id = nextId_++;
    if (!clip.added.isValid()) clip.added = QDateTime::currentDateTime();
    beginInsertRows({}, 0, 0);
    clips_.prepend(std::move(clip));
    endInsertRows();
    return clips_.front().id;
}

int ClipLibrary::rowOf(quint64 id) const {
    for (int row = 0; row < clips_.size(); ++row)
        if (clips_[row].id == id) return row;
    return -1;
}

const Clip* ClipLibrary::find(quint64 id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &clips_[row];
}

Clip* ClipLibrary::find(quint64 id) {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &clips_[row];
}

bool ClipLibrary::remove(quint64 id) {
    const int row = rowOf(id);
    if (row < 0) return false;
    beginRemoveRows({}, row, row);
    clips_.removeAt(row);
    endRemoveRows();
    return true;
}

void ClipLibrary::setAnalysis(quint64 id, nlohmann::json analysis) {
    const int row = rowOf(id);
    if (row < 0) return;
    clips_[row].analysis = std::move(analysis);
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void ClipLibrary::setKept(quint64 id, bool kept) {
    const int row = rowOf(id);
    if (row < 0) return;
    clips_[row].kept = kept;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

QVector<quint64> ClipLibrary::takesOf(quint64 group) const {
    QVector<const Clip*> takes;
    if (group == 0) return {};
    for (const Clip& clip : clips_)
        if (clip.takeGroup == group) takes << &clip;
    std::sort(takes.begin(), takes.end(), [](const Clip* a, const Clip* b) { return a->takeIndex < b->takeIndex; });
    QVector<quint64> ids;
    for (const Clip* clip : takes) ids << clip->id;
    return ids;
}

int ClipLibrary::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : clips_.size(); }
int ClipLibrary::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ClipLibrary::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= clips_.size()) return {};
    const Clip& clip = clips_[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Name: return clip.name;
            case Duration: return formatSeconds(clip.duration());
            // "44.1 kHz" rather than "44100 Hz": the column stays narrow enough for the dock.
            case Rate: return QStringLiteral("%1 kHz").arg(clip.sampleRate() / 1000.0, 0, 'g', 4);
            case Source: return toDisplayString(clip.source);
            case Take:
                if (clip.takeGroup == 0) return {};
                return QStringLiteral("%1/%2%3").arg(clip.takeIndex).arg(clip.takeCount).arg(clip.kept ? QStringLiteral(" \u2605") : QString());
        }
    } else if (role == Qt::ToolTipRole) {
        QString tip = clip.filePath.isEmpty() ? clip.name : clip.filePath;
        if (clip.audio) tip += tr("\n%1 channel(s), %2 Hz, %3 s").arg(clip.audio->channels).arg(clip.sampleRate()).arg(clip.duration(), 0, 'f', 2);
        if (!clip.analysis.is_null()) tip += tr("\nanalysed");
        if (clip.settings.is_object()) tip += tr("\nprompt: %1").arg(QString::fromStdString(clip.settings.value("prompt", std::string())));
        if (clip.takeGroup != 0)
            tip += tr("\ntake %1 of %2, seed %3%4").arg(clip.takeIndex).arg(clip.takeCount)
                       .arg(clip.settings.is_object() ? clip.settings.value("seed", qint64(0)) : qint64(0))
                       .arg(clip.kept ? tr(", kept") : QString());
        return tip;
    } else if (role == Qt::FontRole && clip.kept) {
        QFont font;
        font.setBold(true);
        return font;
    } else if (role == Qt::TextAlignmentRole && (index.column() == Duration || index.column() == Rate)) {
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::UserRole) {
        return QVariant::fromValue(clip.id);
    }
    return {};
}

Qt::ItemFlags ClipLibrary::flags(const QModelIndex& index) const {
    Qt::ItemFlags flags = QAbstractTableModel::flags(index);
    if (index.isValid() && dragExporter_) flags |= Qt::ItemIsDragEnabled;
    return flags;
}

QStringList ClipLibrary::mimeTypes() const { return {QStringLiteral("text/uri-list")}; }

QMimeData* ClipLibrary::mimeData(const QModelIndexList& indexes) const {
    if (!dragExporter_) return nullptr;
    // A row's cells all come in `indexes`; each clip is written once.
    QList<QUrl> urls;
    QList<int> rows;
    for (const QModelIndex& index : indexes) {
        if (!index.isValid() || index.row() >= clips_.size() || rows.contains(index.row())) continue;
        rows << index.row();
        const QString path = dragExporter_->writeFile(clips_[index.row()]);
        if (!path.isEmpty()) urls << QUrl::fromLocalFile(path);
    }
    if (urls.isEmpty()) return nullptr;
    auto* mime = new QMimeData;
    mime->setUrls(urls);
    return mime;
}

QVariant ClipLibrary::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Name: return tr("Name");
        case Duration: return tr("Duration");
        case Rate: return tr("Rate");
        case Source: return tr("Source");
        case Take: return tr("Take");
    }
    return {};
}

}  // namespace grym::ui
