#include "spectrogram_view.h"

#include "analysis/dsp_fft.h"

#include <QCoreApplication>
#include <QMouseEvent>
#include <QPointer>
#include <QThreadPool>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace grym::ui {

namespace {

// A perceptually ordered dark-to-bright ramp (deep blue, violet, orange, pale yellow).
QRgb colourFor(float level) {
    static const QColor stops[] = {QColor(8, 8, 24), QColor(46, 22, 94), QColor(132, 38, 129),
                                   QColor(221, 73, 84), QColor(252, 161, 72), QColor(252, 246, 188)};
    constexpr int last = static_cast<int>(std::size(stops)) - 1;
    const float x = std::clamp(level, 0.0f, 1.0f) * last;
    const int i = std::min(static_cast<int>(x), last - 1);
    const float t = x - static_cast<float>(i);
    auto mix = [t](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
    return qRgb(mix(stops[i].red(), stops[i + 1].red()), mix(stops[i].green(), stops[i + 1].green()),
                mix(stops[i].blue(), stops[i + 1].blue()));
}

}  // namespace

Spectrogram computeSpectrogram(const AudioBuffer& audio, int fftSize, int maxColumns) {
    Spectrogram result;
    const int64_t frames = audio.frames();
    if (frames == 0 || fftSize < 2 || (fftSize & (fftSize - 1)) != 0 || maxColumns < 1) return result;
    const int64_t hop = std::max<int64_t>(fftSize / 4, (frames + maxColumns - 1) / maxColumns);
    result.columns = static_cast<int>(std::max<int64_t>(1, (frames + hop - 1) / hop));
    result.bins = fftSize / 2;
    result.decibels.assign(static_cast<size_t>(result.columns) * result.bins, -120.0f);
    dsp::Fft fft(static_cast<size_t>(fftSize));
    const std::vector<float> window = dsp::hannWindow(static_cast<size_t>(fftSize));
    std::vector<float> frame(fftSize);
    std::vector<double> power;
    for (int column = 0; column < result.columns; ++column) {
        const int64_t centre = column * hop;
        for (int i = 0; i < fftSize; ++i) {
            const int64_t at = centre - fftSize / 2 + i;
            float value = 0.0f;
            if (at >= 0 && at < frames) {
                for (int c = 0; c < audio.channels; ++c) value += audio.sample(at, c);
                value /= static_cast<float>(audio.channels);
            }
            frame[i] = value * window[i];
        }
        fft.powerSpectrum(frame.data(), frame.size(), power);
        for (int bin = 0; bin < result.bins; ++bin) {
            // Amplitude of a full-scale sine reads as 0 dB.
            const double magnitude = std::sqrt(power[bin]) * 2.0 / fftSize;
            result.decibels[static_cast<size_t>(column) * result.bins + bin] =
                static_cast<float>(20.0 * std::log10(std::max(magnitude, 1e-6)));
        }
    }
    return result;
}

QImage renderSpectrogram(const AudioBuffer& audio) {
    const Spectrogram spec = computeSpectrogram(audio);
    if (spec.columns == 0) return {};
    float peak = -120.0f;
    for (float db : spec.decibels) peak = std::max(peak, db);
    const float floor = peak - 90.0f;
    QImage image(spec.columns, spec.bins, QImage::Format_RGB32);
    for (int bin = 0; bin < spec.bins; ++bin) {
        auto* row = reinterpret_cast<QRgb*>(image.scanLine(spec.bins - 1 - bin));
        for (int column = 0; column < spec.columns; ++column)
            row[column] = colourFor((spec.at(column, bin) - floor) / (peak - floor));
    }
    return image;
}

SpectrogramView::SpectrogramView(QWidget* parent) : QWidget(parent) { setAttribute(Qt::WA_OpaquePaintEvent); }

void SpectrogramView::setAudio(std::shared_ptr<const AudioBuffer> audio) {
    audio_ = audio && !audio->empty() ? std::move(audio) : nullptr;
    playhead_ = 0.0;
    selection_.reset();
    selecting_ = false;
    image_ = QImage();
    const quint64 request = ++request_;
    update();
    if (!audio_) return;
    QPointer<SpectrogramView> self(this);
    QThreadPool::globalInstance()->start([self, request, audio = audio_] {
        QImage image = renderSpectrogram(*audio);
        QMetaObject::invokeMethod(qApp, [self, request, image = std::move(image)] {
            if (!self || self->request_ != request) return;
            self->image_ = image;
            self->update();
            emit self->imageReady();
        }, Qt::QueuedConnection);
    });
}

void SpectrogramView::setPlayhead(double seconds) {
    if (seconds == playhead_) return;
    playhead_ = seconds;
    update();
}

void SpectrogramView::setSelection(std::optional<TimeRange> range) {
    selection_ = audio_ ? range : std::nullopt;
    update();
}

double SpectrogramView::secondsAt(double x) const {
    return audio_ && width() > 0 ? std::clamp(x / width(), 0.0, 1.0) * audio_->duration() : 0.0;
}

void SpectrogramView::mousePressEvent(QMouseEvent* event) {
    if (!audio_ || event->button() != Qt::LeftButton || width() <= 0) return;
    anchorSeconds_ = secondsAt(event->position().x());
    selecting_ = event->modifiers() & Qt::ShiftModifier;
    if (!selecting_) emit seekRequested(anchorSeconds_);
}

void SpectrogramView::mouseMoveEvent(QMouseEvent* event) {
    if (!selecting_ || !audio_) return;
    const double t = secondsAt(event->position().x());
    selection_ = TimeRange{std::min(anchorSeconds_, t), std::max(anchorSeconds_, t)};
    update();
}

void SpectrogramView::mouseReleaseEvent(QMouseEvent* event) {
    if (!selecting_ || !audio_ || event->button() != Qt::LeftButton) return;
    selecting_ = false;
    const double t = secondsAt(event->position().x());
    const TimeRange range{std::min(anchorSeconds_, t), std::max(anchorSeconds_, t)};
    // Less than one sample is a Shift+click: it clears the selection.
    if (range.length() * audio_->sampleRate < 1.0) selection_.reset();
    else selection_ = range;
    update();
    emit selectionChosen(selection_);
}

void SpectrogramView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(8, 8, 24));
    if (image_.isNull()) {
        p.setPen(QColor(255, 255, 255, 90));
        p.drawText(rect(), Qt::AlignCenter, tr("Spectrogram"));
        return;
    }
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    p.drawImage(rect(), image_);
    if (selection_ && audio_->duration() > 0) {
        const double from = width() * selection_->startSeconds / audio_->duration();
        const double to = width() * selection_->endSeconds / audio_->duration();
        p.fillRect(QRectF(from, 0, std::max(to - from, 1.0), height()), QColor(255, 255, 255, 60));
        p.setPen(QPen(QColor(255, 255, 255, 170), 1.0));
        p.drawLine(QPointF(from, 0), QPointF(from, height()));
        p.drawLine(QPointF(to, 0), QPointF(to, height()));
    }
    const double x = audio_->duration() > 0 ? width() * playhead_ / audio_->duration() : 0.0;
    p.setPen(QPen(QColor(255, 255, 255, 200), 1.5));
    p.drawLine(QPointF(x, 0), QPointF(x, height()));
    p.setPen(QColor(255, 255, 255, 160));
    p.drawText(rect().adjusted(6, 4, -6, -4), Qt::AlignTop | Qt::AlignLeft,
               tr("%1 kHz").arg(audio_->sampleRate / 2000.0, 0, 'f', 1));
}

}  // namespace grym::ui
