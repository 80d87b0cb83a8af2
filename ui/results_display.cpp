#include "results_display.h"

#include "spectrogram_view.h"
#include "drag_out_handle.h"
#include "waveform_view.h"

#include "common/strings.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QVBoxLayout>

namespace grym::ui {

QString formatBytes(double bytes) { return QString::fromStdString(grym::formatBytes(bytes)); }

QString metricLabel(const QString& key) {
    QString label = key;
    for (const char* suffix : {"_seconds", "_bytes"})
        if (label.endsWith(QLatin1String(suffix))) label.chop(static_cast<int>(qstrlen(suffix)));
    label.replace(QLatin1Char('_'), QLatin1Char(' '));
    if (!label.isEmpty()) label[0] = label[0].toUpper();
    return label;
}

QString metricValue(const QString& key, const nlohmann::json& value) {
    if (value.is_number()) {
        const double v = value.get<double>();
        if (key.endsWith(QLatin1String("_seconds"))) return v < 1.0 ? QStringLiteral("%1 ms").arg(v * 1000.0, 0, 'f', 0) : QStringLiteral("%1 s").arg(v, 0, 'f', 2);
        if (key.endsWith(QLatin1String("_bytes"))) return formatBytes(v);
        if (key.contains(QLatin1String("parameters")) && v >= 1e6) return QStringLiteral("%1 M").arg(v / 1e6, 0, 'f', 1);
        if (value.is_number_integer()) return QString::number(value.get<long long>());
        return QString::number(v, 'g', 5);
    }
    if (value.is_string()) return QString::fromStdString(value.get<std::string>());
    if (value.is_boolean()) return value.get<bool>() ? QObject::tr("yes") : QObject::tr("no");
    if (value.is_array()) {
        QStringList parts;
        for (const auto& item : value) {
            parts << metricValue({}, item);
            if (parts.size() == 8) {
                parts << QStringLiteral("… (%1)").arg(value.size());
                break;
            }
        }
        return parts.join(QStringLiteral(", "));
    }
    return QString::fromStdString(value.dump());
}

namespace {

// An object may carry "units" (key -> unit, as the analysis features do): each value is shown
// with its unit, and the map itself is not listed.
void addJson(QTreeWidgetItem* parent, const nlohmann::json& object) {
    const nlohmann::json units = object.value("units", nlohmann::json::object());
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key() == "units" && it->is_object()) continue;
        const QString key = QString::fromStdString(it.key());
        auto* item = new QTreeWidgetItem(parent, {metricLabel(key)});
        item->setData(0, Qt::UserRole, key);
        if (it->is_object()) {
            addJson(item, *it);
            continue;
        }
        QString text = metricValue(key, *it);
        const auto unit = units.find(it.key());
        if (unit != units.end() && unit->is_string() && !it->is_null() && !text.isEmpty())
            text += QLatin1Char(' ') + QString::fromStdString(unit->get<std::string>());
        item->setText(1, text);
    }
}

}  // namespace

ResultsDisplay::ResultsDisplay(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("resultsDisplay"));
    title_ = new QLabel(this);
    title_->setObjectName(QStringLiteral("resultTitle"));
    QFont titleFont = title_->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    titleFont.setBold(true);
    title_->setFont(titleFont);
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusLabel_ = new QLabel(this);
    statusLabel_->setObjectName(QStringLiteral("statusLabel"));
    statusLabel_->setWordWrap(true);
    statusLabel_->setTextFormat(Qt::RichText);
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("progressBar"));
    progress_->setRange(0, 1000);
    progress_->setTextVisible(true);
    progress_->setMaximumHeight(18);
    remaining_ = new QLabel(this);
    remaining_->setObjectName(QStringLiteral("remainingLabel"));
    waveform_ = new WaveformView(this);
    waveform_->setObjectName(QStringLiteral("waveform"));
    spectrogram_ = new SpectrogramView(this);
    spectrogram_->setObjectName(QStringLiteral("spectrogram"));
    details_ = new QTreeWidget(this);
    details_->setObjectName(QStringLiteral("details"));
    details_->setColumnCount(2);
    details_->setHeaderLabels({tr("Metric"), tr("Value")});
    details_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    details_->setRootIsDecorated(true);
    details_->setAlternatingRowColors(true);
    save_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Save…"), this);
    save_->setObjectName(QStringLiteral("saveButton"));
    save_->setToolTip(tr("Save the clip as WAV or FLAC"));
    export_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Export…"), this);
    export_->setObjectName(QStringLiteral("exportButton"));
    export_->setToolTip(tr("Export with trim, fades and loudness normalisation as WAV, FLAC or OGG"));
    dragHandle_ = new DragOutHandle(this);
    analyse_ = new QPushButton(style()->standardIcon(QStyle::SP_FileDialogContentsView), tr("Analyse"), this);
    analyse_->setObjectName(QStringLiteral("analyseButton"));
    analyse_->setToolTip(tr("Run the wav2vec2 analysis on this clip"));
    variation_ = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), tr("Variation"), this);
    variation_->setObjectName(QStringLiteral("variationButton"));
    variation_->setToolTip(tr("Use this clip as the starting point of a new generation"));

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(analyse_);
    header->addWidget(variation_);
    header->addWidget(save_);
    header->addWidget(export_);
    header->addWidget(dragHandle_);
    auto* statusRow = new QHBoxLayout;
    statusRow->addWidget(statusLabel_, 1);
    statusRow->addWidget(remaining_);
    auto* views = new QSplitter(Qt::Vertical, this);
    views->addWidget(waveform_);
    views->addWidget(spectrogram_);
    views->addWidget(details_);
    views->setStretchFactor(0, 3);
    views->setStretchFactor(1, 3);
    views->setStretchFactor(2, 2);
    views->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 4);
    layout->addLayout(header);
    layout->addLayout(statusRow);
    layout->addWidget(progress_);
    layout->addWidget(views, 1);

    connect(waveform_, &WaveformView::seekRequested, this, &ResultsDisplay::seekRequested);
    connect(spectrogram_, &SpectrogramView::seekRequested, this, &ResultsDisplay::seekRequested);
    // One selection, shown in both views: the waveform holds it (inpaint, drag-out and loop
    // ranges read it there); a range chosen in the spectrogram is set on the waveform.
    connect(spectrogram_, &SpectrogramView::selectionChosen, waveform_, &WaveformView::setSelection);
    connect(waveform_, &WaveformView::selectionChanged, spectrogram_,
            [this] { spectrogram_->setSelection(waveform_->selection()); });
    connect(save_, &QPushButton::clicked, this, &ResultsDisplay::saveRequested);
    connect(export_, &QPushButton::clicked, this, &ResultsDisplay::exportRequested);
    connect(dragHandle_, &DragOutHandle::dragStarted, this, &ResultsDisplay::dragOutRequested);
    connect(waveform_, &WaveformView::dragOutRequested, this, &ResultsDisplay::dragOutRequested);
    connect(analyse_, &QPushButton::clicked, this, &ResultsDisplay::analyseRequested);
    connect(variation_, &QPushButton::clicked, this, &ResultsDisplay::variationRequested);
    showClip(nullptr);
    setStatus(Status::Idle);
}

void ResultsDisplay::showClip(const Clip* clip) {
    clipId_ = clip ? clip->id : 0;
    const auto audio = clip ? clip->audio : nullptr;
    waveform_->setAudio(audio);
    spectrogram_->setAudio(audio);
    title_->setText(clip ? clip->name : tr("Drop audio files here, or generate a sound"));
    for (QPushButton* button : {save_, export_, analyse_, variation_}) button->setEnabled(clip != nullptr);
    dragHandle_->setEnabled(clip != nullptr && clip->audio);
    fillDetails(clip);
}

void ResultsDisplay::fillDetails(const Clip* clip) {
    details_->clear();
    if (!clip) return;
    auto* clipItem = new QTreeWidgetItem(details_, {tr("Clip")});
    new QTreeWidgetItem(clipItem, {tr("Source"), toDisplayString(clip->source)});
    if (!clip->filePath.isEmpty()) new QTreeWidgetItem(clipItem, {tr("File"), clip->filePath});
    if (clip->audio) {
        new QTreeWidgetItem(clipItem, {tr("Duration"), QStringLiteral("%1 s").arg(clip->duration(), 0, 'f', 2)});
        new QTreeWidgetItem(clipItem, {tr("Sample rate"), QStringLiteral("%1 Hz").arg(clip->sampleRate())});
        new QTreeWidgetItem(clipItem, {tr("Channels"), QString::number(clip->audio->channels)});
    }
    if (clip->metrics.is_object() && !clip->metrics.empty()) {
        auto* metrics = new QTreeWidgetItem(details_, {tr("Metrics")});
        addJson(metrics, clip->metrics);
    }
    if (clip->settings.is_object()) {  // what it was generated with (Generate ▸ Use These Settings)
        auto* settings = new QTreeWidgetItem(details_, {tr("Generated with")});
        addJson(settings, clip->settings);
    }
    if (clip->analysis.is_object()) {
        auto* analysis = new QTreeWidgetItem(details_, {tr("Analysis")});
        addJson(analysis, clip->analysis);
    }
    details_->expandAll();
}

QString ResultsDisplay::metricText(const QString& key) const {
    for (QTreeWidgetItemIterator it(details_); *it; ++it)
        if ((*it)->data(0, Qt::UserRole).toString() == key) return (*it)->text(1);
    return {};
}

void ResultsDisplay::setStatus(Status status, const QString& message) {
    status_ = status;
    QString name, colour;
    switch (status) {
        case Status::Idle: name = tr("Idle"); colour = QStringLiteral("#8a8f98"); break;
        case Status::Generating: name = tr("Generating"); colour = QStringLiteral("#4ea1ff"); break;
        case Status::Analysing: name = tr("Analysing"); colour = QStringLiteral("#b48cff"); break;
        case Status::Success: name = tr("Done"); colour = QStringLiteral("#3ecf8e"); break;
        case Status::Error: name = tr("Error"); colour = QStringLiteral("#ff6b6b"); break;
        case Status::Cancelled: name = tr("Cancelled"); colour = QStringLiteral("#f0b429"); break;
    }
    statusLabel_->setText(QStringLiteral("<span style='color:%1;font-weight:600'>\u25CF %2</span>%3")
                              .arg(colour, name, message.isEmpty() ? QString() : QStringLiteral(" &nbsp;") + message.toHtmlEscaped()));
    const bool running = status == Status::Generating || status == Status::Analysing;
    progress_->setVisible(running);
    remaining_->setVisible(running);
    if (running) {
        progress_->setValue(0);
        progress_->setFormat(tr("starting…"));
        remaining_->clear();
    }
}

void ResultsDisplay::setProgress(const TaskProgress& progress) {
    progress_->setValue(static_cast<int>(progress.fraction * 1000.0));
    QString text = progress.stage.isEmpty() ? tr("working") : progress.stage;
    if (progress.totalSteps > 0) text += tr(" — step %1 of %2").arg(progress.step).arg(progress.totalSteps);
    progress_->setFormat(text + QStringLiteral("  %p%"));
    remaining_->setText(progress.secondsRemaining >= 0 ? tr("about %1 left").arg(formatSeconds(progress.secondsRemaining)) : QString());
}

void ResultsDisplay::setPlayhead(double seconds) {
    waveform_->setPlayhead(seconds);
    spectrogram_->setPlayhead(seconds);
}

}  // namespace grym::ui
