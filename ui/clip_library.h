#pragma once
// The clip library: every dropped, opened and generated clip, newest first.
#include "clip.h"

#include <QAbstractTableModel>
#include <QVector>

namespace grym::ui {

class ClipDragExporter;

class ClipLibrary : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Duration, Rate, Source, Take, ColumnCount };

    explicit ClipLibrary(QObject* parent = nullptr);

    // Adds the clip at the top and returns its id (assigned here).
    quint64 add(Clip clip);
    const Clip* find(quint64 id) const;
    Clip* find(quint64 id);
    const Clip& at(int row) const { return clips_[row]; }
    int rowOf(quint64 id) const;
    int count() const { return clips_.size(); }
    bool remove(quint64 id);
    void setAnalysis(quint64 id, nlohmann::json analysis);
    void setKept(quint64 id, bool kept);
    // The clips of a take group, in take order.
    QVector<quint64> takesOf(quint64 group) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // Rows drag out of the app as files written by `exporter` (drag-out); without one they
    // do not drag.
    void setDragExporter(ClipDragExporter* exporter) { dragExporter_ = exporter; }
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;
    Qt::DropActions supportedDragActions() const override { return Qt::CopyAction; }

private:
    QVector<Clip> clips_;  // index 0 is the newest
    quint64 nextId_ = 1;
    ClipDragExporter* dragExporter_ = nullptr;
};

}  // namespace grym::ui
