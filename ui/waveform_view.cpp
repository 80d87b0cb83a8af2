#include "waveform_view.h"

#include "clip.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace grym::ui {

namespace {
constexpr int kEnvelopeBuckets = 4096;  // enough for any window width, cheap to repaint
constexpr int kMargin = 6;
}  // namespace

WaveformView::WaveformView(QWidget* parent) : QWidget(parent), placeholder_(tr("No clip selected")) {
    setMouseTracking(false);
    setCursor(Qt::IBeamCursor);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void WaveformView::setAudio(std::shared_ptr<const AudioBuffer> audio) {
    audio_ = audio && !audio->empty() ? std::move(audio) : nullptr;
    playhead_ = 0.0;
    selection_.reset();
    selectionAnchor_.reset();
    computeEnvelope();
    update();
}

void WaveformView::setPlaceholderText(const QString& text) {
    placeholder_ = text;
    update();
}

void WaveformView::computeEnvelope() {
    minima_.clear();
    maxima_.clear();
    if (!audio_) return;
    const int64_t frames = audio_->frames();
    const int buckets = static_cast<int>(std::min<int64_t>(kEnvelopeBuckets, frames));
    minima_.resize(buckets);
    maxima_.resize(buckets);
    const int channels = audio_->channels;
    for (int b = 0; b < buckets; ++b) {
        const int64_t begin = frames * b / buckets;
        const int64_t end = std::max(begin + 1, frames * (b + 1) / buckets);
        float lo = 1.0f, hi = -1.0f;
        for (int64_t f = begin; f < end; ++f) {
            float sum = 0.0f;
            for (int c = 0; c < channels; ++c) sum += audio_->sample(f, c);
            const float v = sum / static_cast<float>(channels);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        minima_[b] = lo;
        maxima_[b] = hi;
    }
}

void WaveformView::setPlayhead(double seconds) {
    if (seconds == playhead_) return;
    playhead_ = seconds;
    update();
}

double WaveformView::secondsAt(int x) const {
    const int width = std::max(1, this->width() - 2 * kMargin);
    return std::clamp(static_cast<double>(x - kMargin) / width, 0.0, 1.0) * duration();
}

void WaveformView::setSelection(double startSeconds, double endSeconds) {
    if (!audio_) return;
    const double a = std::clamp(std::min(startSeconds, endSeconds), 0.0, duration());
    const double b = std::clamp(std::max(startSeconds, endSeconds), 0.0, duration());
    if (b <= a) return clearSelection();
    selection_ = std::make_pair(a, b);
    update();
    emit selectionChanged(a, b);
}

void WaveformView::clearSelection() {
    if (!selection_) return;
    selection_.reset();
    update();
    emit selectionChanged(0.0, 0.0);
}

void WaveformView::mousePressEvent(QMouseEvent* event) {
    if (!audio_ || event->button() != Qt::LeftButton) return;
    const double at = secondsAt(event->position().toPoint().x());
    if (event->modifiers() & Qt::ShiftModifier) {
        selectionAnchor_ = at;
        return;
    }
    selectionAnchor_.reset();
    emit seekRequested(at);
}

void WaveformView::mouseMoveEvent(QMouseEvent* event) {
    if (!audio_ || !(event->buttons() & Qt::LeftButton)) return;
    const double at = secondsAt(event->position().toPoint().x());
    if (selectionAnchor_) setSelection(*selectionAnchor_, at);
    else emit seekRequested(at);
}

void WaveformView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor background = palette().color(QPalette::Base);
    p.fillRect(rect(), background);
    const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
    const double mid = area.center().y();
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawLine(QPointF(area.left(), mid), QPointF(area.right(), mid));
    if (!audio_) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, placeholder_);
        return;
    }
    const int columns = std::max(1, static_cast<int>(area.width()));
    const int buckets = minima_.size();
    const double half = area.height() / 2.0;
    QPainterPath envelope;
    QVector<QPointF> lower;
    lower.reserve(columns);
    for (int x = 0; x < columns; ++x) {
        const int b0 = buckets * x / columns;
        const int b1 = std::max(b0 + 1, buckets * (x + 1) / columns);
        float lo = 1.0f, hi = -1.0f;
        for (int b = b0; b < b1 && b < buckets; ++b) {
            lo = std::min(lo, minima_[b]);
            hi = std::max(hi, maxima_[b]);
        }
        const double px = area.left() + x;
        const QPointF top(px, mid - std::clamp(hi, -1.0f, 1.0f) * half);
        if (x == 0) envelope.moveTo(top);
        else envelope.lineTo(top);
        lower.push_back(QPointF(px, mid - std::clamp(lo, -1.0f, 1.0f) * half + 0.5));
    }
    for (auto it = lower.crbegin(); it != lower.crend(); ++it) envelope.lineTo(*it);
    envelope.closeSubpath();

    const QColor accent = palette().color(QPalette::Highlight);
    const double playedX = area.left() + area.width() * (duration() > 0 ? playhead_ / duration() : 0.0);
    // Played part in the accent colour, the rest in a softer tone of it.
    p.save();
    p.setClipRect(QRectF(area.left(), area.top(), playedX - area.left(), area.height()));
    p.fillPath(envelope, accent);
    p.restore();
    p.save();
    p.setClipRect(QRectF(playedX, area.top(), area.right() - playedX + 1, area.height()));
    QColor rest = accent;
    rest.setAlphaF(0.45f);
    p.fillPath(envelope, rest);
    p.restore();

    if (selection_ && duration() > 0) {
        const double x0 = area.left() + area.width() * selection_->first / duration();
        const double x1 = area.left() + area.width() * selection_->second / duration();
        QColor shade = palette().color(QPalette::Highlight);
        shade.setAlphaF(0.25f);
        p.fillRect(QRectF(x0, area.top(), std::max(1.0, x1 - x0), area.height()), shade);
    }
    p.setPen(QPen(palette().color(QPalette::BrightText), 1.5));
    p.drawLine(QPointF(playedX, area.top()), QPointF(playedX, area.bottom()));
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(area.adjusted(4, 2, -4, -2), Qt::AlignTop | Qt::AlignRight,
               QStringLiteral("%1 / %2").arg(formatSeconds(playhead_), formatSeconds(duration())));
}

}  // namespace grym::ui
