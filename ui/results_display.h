#pragma once
// The results panel: waveform and spectrogram of the current clip (the latest result or the clip
// selected in the library), the task status (idle / generating / analysing / success / error)
// with a per-step progress bar and time remaining, the clip's metrics and analysis, and the
// actions Save, Export, Analyse and Variation, and the drag-out grip.
#include "clip.h"
#include "core_adapter.h"

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace grym::ui {

class DragOutHandle;
class SpectrogramView;
class WaveformView;

class ResultsDisplay : public QWidget {
    Q_OBJECT
public:
    enum class Status { Idle, Generating, Analysing, Success, Error, Cancelled };

    explicit ResultsDisplay(QWidget* parent = nullptr);

    void showClip(const Clip* clip);  // nullptr: nothing selected
    quint64 clipId() const { return clipId_; }
    void setStatus(Status status, const QString& message = {});
    Status status() const { return status_; }
    void setProgress(const TaskProgress& progress);
    void setPlayhead(double seconds);

    WaveformView* waveform() const { return waveform_; }
    SpectrogramView* spectrogram() const { return spectrogram_; }
    QLabel* statusLabel() const { return statusLabel_; }
    QProgressBar* progressBar() const { return progress_; }
    QTreeWidget* details() const { return details_; }
    QPushButton* saveButton() const { return save_; }
    QPushButton* exportButton() const { return export_; }
    DragOutHandle* dragOutHandle() const { return dragHandle_; }
    QPushButton* analyseButton() const { return analyse_; }
    QPushButton* variationButton() const { return variation_; }
    QString metricText(const QString& key) const;  // shown value of a metric, empty if absent

signals:
    void seekRequested(double seconds);
    void saveRequested();
    void exportRequested();
    // The grip or the waveform's selection was dragged: drag the clip (or selection) out.
    void dragOutRequested();
    void analyseRequested();
    void variationRequested();

private:
    void fillDetails(const Clip* clip);

    WaveformView* waveform_;
    SpectrogramView* spectrogram_;
    QLabel* title_;
    QLabel* statusLabel_;
    QLabel* remaining_;
    QProgressBar* progress_;
    QTreeWidget* details_;
    QPushButton* save_;
    QPushButton* export_;
    DragOutHandle* dragHandle_;
    QPushButton* analyse_;
    QPushButton* variation_;
    Status status_ = Status::Idle;
    quint64 clipId_ = 0;
};

// "1.5 GiB", "300 MiB", "12 KiB".
QString formatBytes(double bytes);
// Metric keys as people read them: "queue_wait_seconds" -> "Queue wait".
QString metricLabel(const QString& key);
QString metricValue(const QString& key, const nlohmann::json& value);

}  // namespace grym::ui
