#pragma once
// A log-magnitude spectrogram of a clip (Hann-windowed STFT, dB colour map), with the playhead.
#include "audio/audio_buffer.h"

#include <QImage>
#include <QWidget>

#include <memory>

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
    const QImage& image() const { return image_; }
    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {200, 60}; }

signals:
    void seekRequested(double seconds);
    void imageReady();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    std::shared_ptr<const AudioBuffer> audio_;
    QImage image_;
    double playhead_ = 0.0;
    quint64 request_ = 0;  // only the latest request's image is shown
};

}  // namespace grym::ui
