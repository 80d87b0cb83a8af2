#pragma once
// A log-magnitude spectrogram of a clip (Hann-windowed STFT, dB colour map), with the playhead.
// A click seeks; Shift+drag selects a time range, the same one the waveform shows (ResultsDisplay
// keeps the two in step), so a range to inpaint can be picked where it is seen best.
#include "audio/audio_buffer.h"
#include "clip.h"

#include <QImage>
#include <QWidget>

#include <memory>
#include <optional>

namespace grym::ui {

// Magnitudes in dB, [column][bin], from a mono mix of the clip; at most maxColumns columns.
struct Spectrogram {
    int columns = 0;
    int bins = 0;
    std::vector<float> decibels;  // columns * bins, column-major
    float at(int column, int bin) const { return decibels[static_cast<size_t>(column) * bins + bin]; }
};
Spectrogram computeSpectrogram(const AudioBuffer& audio, int fftSize = 512, int maxColumns = 1024);
// The spectrogram as a picture: high frequencies at the top, the clip's top 90 dB coloured.
QImage renderSpectrogram(const AudioBuffer& audio);

class SpectrogramView : public QWidget {
    Q_OBJECT
public:
    explicit SpectrogramView(QWidget* parent = nullptr);

    // The image is computed on a pool thread (long clips take tens of milliseconds) and shown
    // when ready; imageReady() follows.
    void setAudio(std::shared_ptr<const AudioBuffer> audio);
    void setPlayhead(double seconds);
    // The range shown shaded; set from outside (the waveform's selection) without a signal.
    void setSelection(std::optional<TimeRange> range);
    std::optional<TimeRange> selection() const { return selection_; }
    const QImage& image() const { return image_; }
    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {200, 60}; }

signals:
    void seekRequested(double seconds);
    // Shift+drag chose a range (nullopt: a Shift+click cleared it).
    void selectionChosen(std::optional<grym::ui::TimeRange> range);
    void imageReady();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    double secondsAt(double x) const;

    std::shared_ptr<const AudioBuffer> audio_;
    QImage image_;
    double playhead_ = 0.0;
    std::optional<TimeRange> selection_;
    bool selecting_ = false;
    double anchorSeconds_ = 0.0;
    quint64 request_ = 0;  // only the latest request's image is shown
};

}  // namespace grym::ui
