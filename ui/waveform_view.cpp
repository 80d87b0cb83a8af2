#include "waveform_view.h"

#include "clip.h"

#include <QApplication>
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
    setSelection(std::nullopt);
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

int WaveformView::xAt(double seconds) const {
    const int width = std::max(1, this->width() - 2 * kMargin);
    return kMargin + static_cast<int>(duration() > 0 ? seconds / duration() * width : 0.0);
}

void WaveformView::setSelection(std::optional<TimeRange> range) {
    if (range && audio_) {
        range->startSeconds = std::clamp(range->startSeconds, 0.0, duration());
        range->endSeconds = std::clamp(range->endSeconds, 0.0, duration());
        if (range->endSeconds < range->startSeconds) std::swap(range->startSeconds, range->endSeconds);
        if (range->length() * audio_->sampleRate < 1.0) range.reset();
    } else {
        range.reset();
    }
    const bool changed = range.has_value() != selection_.has_value() ||
                         (range && (range->startSeconds != selection_->startSeconds || range->endSeconds != selection_->endSeconds));
    selection_ = range;
    if (changed) {
        update();
        emit selectionChanged();
    }
}

void WaveformView::mousePressEvent(QMouseEvent* event) {
    gesture_ = Gesture::None;
    if (!audio_ || event->button() != Qt::LeftButton) return;
    const int x = event->position().toPoint().x();
    pressPosition_ = event->position().toPoint();
    anchorSeconds_ = secondsAt(x);
    if (event->modifiers() & Qt::ShiftModifier) {
        gesture_ = Gesture::Select;
        setSelection(std::nullopt);
    } else if (selection_ && x >= xAt(selection_->startSeconds) && x <= xAt(selection_->endSeconds)) {
        gesture_ = Gesture::DragFromSelection;  // a drag takes the selection out; a click seeks
    } else {
        gesture_ = Gesture::Seek;
        setSelection(std::nullopt);
        emit seekRequested(anchorSeconds_);
    }
}

void WaveformView::mouseMoveEvent(QMouseEvent* event) {
    if (!audio_ || !(event->buttons() & Qt::LeftButton)) return;
    const QPoint position = event->position().toPoint();
    switch (gesture_) {
        case Gesture::Seek: emit seekRequested(secondsAt(position.x())); break;
        case Gesture::Select: {
            const double t = secondsAt(position.x());
            setSelection(TimeRange{std::min(anchorSeconds_, t), std::max(anchorSeconds_, t)});
            break;
        }
        case Gesture::DragFromSelection:
            if ((position - pressPosition_).manhattanLength() >= QApplication::startDragDistance()) {
                gesture_ = Gesture::None;
                emit dragOutRequested();
            }
            break;
        case Gesture::None: break;
    }
}

void WaveformView::mouseReleaseEvent(QMouseEvent* event) {
    if (gesture_ == Gesture::DragFromSelection && event->button() == Qt::LeftButton) emit seekRequested(anchorSeconds_);
    gesture_ = Gesture::None;
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

    if (selection_) {
        QColor shade = palette().color(QPalette::Highlight).lighter(150);
        shade.setAlphaF(0.22f);
        const double left = area.left() + area.width() * selection_->startSeconds / duration();
        const double right = area.left() + area.width() * selection_->endSeconds / duration();
        p.fillRect(QRectF(left, area.top(), std::max(1.0, right - left), area.height()), shade);
    }

    p.setPen(QPen(palette().color(QPalette::BrightText), 1.5));
    p.drawLine(QPointF(playedX, area.top()), QPointF(playedX, area.bottom()));
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(area.adjusted(4, 2, -4, -2), Qt::AlignTop | Qt::AlignRight,
               QStringLiteral("%1 / %2").arg(formatSeconds(playhead_), formatSeconds(duration())));
}

}  // namespace grym::ui
