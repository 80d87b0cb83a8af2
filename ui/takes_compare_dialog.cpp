#include "takes_compare_dialog.h"

#include "audio_controls.h"
#include "audio_player.h"
#include "clip_library.h"
#include "waveform_view.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace grym::ui {

namespace {

constexpr int kWaveformHeight = 84;

qint64 seedOf(const Clip& clip) {
    if (clip.settings.is_object() && clip.settings.contains("seed")) return clip.settings.value("seed", qint64(0));
    return clip.metrics.is_object() ? clip.metrics.value("seed", qint64(0)) : 0;
}

QString promptOf(const Clip& clip) {
    return clip.settings.is_object() ? QString::fromStdString(clip.settings.value("prompt", std::string())) : QString();
}

}  // namespace

TakesCompareDialog::TakesCompareDialog(const ClipLibrary* library, quint64 group, QWidget* parent)
    : QDialog(parent), library_(library), group_(group), player_(new AudioPlayer(this)) {
    setObjectName(QStringLiteral("takesCompareDialog"));
    setWindowTitle(tr("Compare Takes"));
    // The take that sounds stands out: its button in the accent colour (the style's own checked
    // look is too faint on the dark theme).
    setStyleSheet(QStringLiteral("QToolButton#takeButton:checked { background: %1; color: %2; border: 1px solid %1; border-radius: 3px; }")
                      .arg(palette().color(QPalette::Highlight).name(), palette().color(QPalette::HighlightedText).name()));

    title_ = new QLabel(this);
    title_->setObjectName(QStringLiteral("takesTitle"));
    title_->setWordWrap(true);
    QFont titleFont = title_->font();
    titleFont.setBold(true);
    title_->setFont(titleFont);
    auto* hint = new QLabel(tr("Keys 1–9 or a take's button switch takes at the same position; a click in a waveform switches "
                               "to that take there. Shift+drag selects a range in every take: with Loop on, it loops."),
                            this);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);

    auto* rowsHost = new QWidget(this);
    rowsLayout_ = new QVBoxLayout(rowsHost);
    rowsLayout_->setContentsMargins(0, 0, 0, 0);
    rowsLayout_->setSpacing(4);
    empty_ = new QLabel(tr("No takes of this group are left in the library."), rowsHost);
    empty_->setAlignment(Qt::AlignCenter);
    empty_->hide();
    rowsLayout_->addWidget(empty_);
    rowsLayout_->addStretch(1);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(rowsHost);

    controls_ = new AudioControls(player_, this);
    controls_->loopBox()->setToolTip(tr("Loop the selected range (Shift+drag in any take), or the whole take without one"));
    controls_->installShortcuts(this);

    moreLikeThis_ = new QPushButton(tr("More Like This"), this);
    moreLikeThis_->setToolTip(tr("New takes that vary the take that is playing"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(moreLikeThis_, QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(moreLikeThis_, &QPushButton::clicked, this, [this] {
        if (active_ != 0) emit moreLikeThisRequested(active_);
    });

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title_);
    layout->addWidget(hint);
    layout->addWidget(scroll, 1);
    layout->addWidget(controls_);
    layout->addWidget(buttons);

    for (int key = 0; key < kMaxKeyedTakes; ++key) {
        auto* shortcut = new QShortcut(QKeySequence(Qt::Key_1 + key), this);
        shortcut->setContext(Qt::WindowShortcut);
        connect(shortcut, &QShortcut::activated, this, [this, key] { activateTakeAt(key); });
    }
    connect(player_, &AudioPlayer::positionChanged, this, [this](double seconds) {
        for (const TakeRow& row : std::as_const(rows_)) row.waveform->setPlayhead(seconds);
    });
    connect(library_, &QAbstractItemModel::rowsInserted, this, &TakesCompareDialog::syncWithLibrary);
    connect(library_, &QAbstractItemModel::rowsRemoved, this, &TakesCompareDialog::syncWithLibrary);
    connect(library_, &QAbstractItemModel::dataChanged, this, &TakesCompareDialog::syncWithLibrary);
    connect(library_, &QAbstractItemModel::modelReset, this, &TakesCompareDialog::syncWithLibrary);

    syncWithLibrary();
    resize(980, std::min(760, 170 + static_cast<int>(rows_.size()) * (kWaveformHeight + 16)));
}

TakesCompareDialog::~TakesCompareDialog() = default;

QVector<quint64> TakesCompareDialog::takes() const {
    QVector<quint64> ids;
    for (const TakeRow& row : rows_) ids << row.clipId;
    return ids;
}

const TakesCompareDialog::TakeRow* TakesCompareDialog::rowOf(quint64 clipId) const {
    for (const TakeRow& row : rows_)
        if (row.clipId == clipId) return &row;
    return nullptr;
}

TakesCompareDialog::TakeRow TakesCompareDialog::makeRow(const Clip& clip) {
    TakeRow row;
    row.clipId = clip.id;
    auto* frame = new QFrame;
    frame->setFrameShape(QFrame::StyledPanel);
    row.widget = frame;
    row.take = new QToolButton(frame);
    row.take->setObjectName(QStringLiteral("takeButton"));
    row.take->setCheckable(true);
    row.take->setToolButtonStyle(Qt::ToolButtonTextOnly);
    row.take->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("9  Take 16/16  ")));
    row.take->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    row.waveform = new WaveformView(frame);
    row.waveform->setFixedHeight(kWaveformHeight);
    row.waveform->setAudio(clip.audio);
    row.keep = new QToolButton(frame);
    row.keep->setCheckable(true);
    row.keep->setToolTip(tr("Keep this take (marked \u2605 in the library)"));
    row.discard = new QToolButton(frame);
    row.discard->setText(tr("Discard"));
    row.discard->setToolTip(tr("Remove this take from the library (it stays in the history)"));
    for (QToolButton* button : {row.keep, row.discard}) button->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);

    auto* verdict = new QVBoxLayout;
    verdict->addWidget(row.keep);
    verdict->addWidget(row.discard);
    verdict->addStretch(1);
    auto* layout = new QHBoxLayout(frame);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(row.take);
    layout->addWidget(row.waveform, 1);
    layout->addLayout(verdict);

    const quint64 id = clip.id;
    connect(row.take, &QToolButton::clicked, this, [this, id] { activateTake(id); });
    connect(row.keep, &QToolButton::clicked, this, [this, id](bool kept) { emit keepRequested(id, kept); });
    connect(row.discard, &QToolButton::clicked, this, [this, id] { emit discardRequested(id); });
    connect(row.waveform, &WaveformView::seekRequested, this, [this, id](double seconds) {
        activateTake(id);
        player_->seek(seconds);
    });
    WaveformView* waveform = row.waveform;
    connect(row.waveform, &WaveformView::selectionChanged, this, [this, waveform] {
        if (!applyingRange_) setLoopRange(waveform->selection());
    });
    const QSignalBlocker quiet(row.waveform);
    row.waveform->setSelection(loopRange_);
    row.waveform->setPlayhead(player_->position());
    return row;
}

void TakesCompareDialog::syncWithLibrary() {
    const QVector<quint64> ids = library_->takesOf(group_);
    int activeIndex = 0;
    for (int i = 0; i < rows_.size(); ++i)
        if (rows_[i].clipId == active_) activeIndex = i;
    for (auto it = rows_.begin(); it != rows_.end();) {
        if (ids.contains(it->clipId)) {
            ++it;
            continue;
        }
        delete it->widget;
        it = rows_.erase(it);
    }
    for (quint64 id : ids)
        if (!rowOf(id)) rows_.push_back(makeRow(*library_->find(id)));
    std::sort(rows_.begin(), rows_.end(), [&ids](const TakeRow& a, const TakeRow& b) { return ids.indexOf(a.clipId) < ids.indexOf(b.clipId); });
    for (int i = 0; i < rows_.size(); ++i) rowsLayout_->insertWidget(i, rows_[i].widget);  // moves a row already there

    QString prompt;
    for (int i = 0; i < rows_.size(); ++i) {
        const Clip& clip = *library_->find(rows_[i].clipId);
        if (prompt.isEmpty()) prompt = promptOf(clip);
        const QString key = i < kMaxKeyedTakes ? QString::number(i + 1) : QStringLiteral("  ");
        rows_[i].take->setText(tr("%1  Take %2/%3\nseed %4").arg(key).arg(clip.takeIndex).arg(clip.takeCount).arg(seedOf(clip)));
        rows_[i].take->setToolTip(tr("Play take %1 from the same position%2")
                                      .arg(clip.takeIndex)
                                      .arg(i < kMaxKeyedTakes ? tr(" (key %1)").arg(i + 1) : QString()));
        const QSignalBlocker quiet(rows_[i].keep);
        rows_[i].keep->setChecked(clip.kept);
        rows_[i].keep->setText(clip.kept ? tr("\u2605 Kept") : tr("Keep"));
    }
    title_->setText(rows_.isEmpty() ? tr("No takes")
                    : prompt.isEmpty() ? tr("%n take(s)", nullptr, static_cast<int>(rows_.size()))
                                       : tr("\u201c%1\u201d: %n take(s)", nullptr, static_cast<int>(rows_.size())).arg(prompt));
    empty_->setVisible(rows_.isEmpty());

    if (rows_.isEmpty()) {
        active_ = 0;
        player_->setAudio(nullptr);
    } else if (!rowOf(active_)) {
        // The take that played was discarded: the one now in its place plays on from here.
        activateTake(rows_[std::min(activeIndex, static_cast<int>(rows_.size()) - 1)].clipId);
    }
    showActive();
}

void TakesCompareDialog::activateTakeAt(int index) {
    if (index >= 0 && index < rows_.size()) activateTake(rows_[index].clipId);
}

void TakesCompareDialog::activateTake(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip || !rowOf(clipId)) return;
    if (clipId != active_) {
        if (player_->audio()) {
            player_->switchAudio(clip->audio);
        } else {
            player_->setAudio(clip->audio);
            player_->setLoopRange(loopRange_);
        }
        active_ = clipId;
    }
    showActive();
}

void TakesCompareDialog::showActive() {
    // The take that sounds in the accent colour, the others grey.
    QPalette muted = palette();
    muted.setColor(QPalette::Highlight, palette().color(QPalette::PlaceholderText));
    for (const TakeRow& row : std::as_const(rows_)) {
        const bool active = row.clipId == active_;
        row.take->setChecked(active);
        row.waveform->setPalette(active ? palette() : muted);
    }
    moreLikeThis_->setEnabled(active_ != 0);
}

void TakesCompareDialog::setLoopRange(std::optional<TimeRange> range) {
    applyingRange_ = true;
    for (const TakeRow& row : std::as_const(rows_)) row.waveform->setSelection(range);
    applyingRange_ = false;
    // As the waveforms clamped it (to a clip, or to nothing shorter than a frame).
    loopRange_ = rows_.isEmpty() ? range : rows_.front().waveform->selection();
    player_->setLoopRange(loopRange_);
}

void TakesCompareDialog::hideEvent(QHideEvent* event) {
    player_->stop();
    QDialog::hideEvent(event);
}

}  // namespace grym::ui
