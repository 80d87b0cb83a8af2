#include "export_dialog.h"

#include "clip.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace grym::ui {

namespace {

QDoubleSpinBox* secondsBox(QWidget* parent, const char* name, double maximum) {
    auto* box = new QDoubleSpinBox(parent);
    box->setObjectName(QString::fromLatin1(name));
    box->setDecimals(3);
    box->setSingleStep(0.1);
    box->setRange(0.0, maximum);
    box->setSuffix(QStringLiteral(" s"));
    return box;
}

QString withExtension(const QString& path, ExportFormat format) {
    const QFileInfo info(path);
    const QString stem = info.suffix().isEmpty() ? path : path.left(path.size() - info.suffix().size() - 1);
    return stem + QString::fromLatin1(fileExtension(format));
}

}  // namespace

ExportDialog::ExportDialog(double clipSeconds, const QString& suggestedPath, const std::optional<TimeRange>& selection,
                           QWidget* parent)
    : QDialog(parent), clipSeconds_(clipSeconds) {
    setWindowTitle(tr("Export Clip"));
    setObjectName(QStringLiteral("exportDialog"));
    QSettings settings;

    format_ = new QComboBox(this);
    format_->setObjectName(QStringLiteral("exportFormat"));
    for (ExportFormat f : allExportFormats())
        format_->addItem(QString::fromLatin1(displayName(f)), QString::fromLatin1(toString(f)));
    const int saved = format_->findData(settings.value(QStringLiteral("export/format"), QStringLiteral("wav24")));
    format_->setCurrentIndex(saved >= 0 ? saved : 1);

    path_ = new QLineEdit(this);
    path_->setObjectName(QStringLiteral("exportPath"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);

    trimStart_ = secondsBox(this, "exportTrimStart", clipSeconds);
    trimEnd_ = secondsBox(this, "exportTrimEnd", clipSeconds);
    trimStart_->setValue(selection ? selection->startSeconds : 0.0);
    trimEnd_->setValue(selection ? selection->endSeconds : clipSeconds);
    fadeIn_ = secondsBox(this, "exportFadeIn", clipSeconds);
    fadeOut_ = secondsBox(this, "exportFadeOut", clipSeconds);
    fadeIn_->setValue(settings.value(QStringLiteral("export/fadeIn"), 0.0).toDouble());
    fadeOut_->setValue(settings.value(QStringLiteral("export/fadeOut"), 0.0).toDouble());
    auto* trimRow = new QHBoxLayout;
    trimRow->addWidget(trimStart_);
    trimRow->addWidget(new QLabel(tr("to"), this));
    trimRow->addWidget(trimEnd_);

    normalise_ = new QCheckBox(tr("&Normalise loudness to"), this);
    normalise_->setObjectName(QStringLiteral("exportNormalise"));
    normalise_->setChecked(settings.value(QStringLiteral("export/normalise"), false).toBool());
    target_ = new QDoubleSpinBox(this);
    target_->setObjectName(QStringLiteral("exportTarget"));
    target_->setRange(-70.0, 0.0);
    target_->setDecimals(1);
    target_->setSuffix(QStringLiteral(" LUFS"));
    target_->setValue(settings.value(QStringLiteral("export/targetLufs"), -14.0).toDouble());
    target_->setToolTip(tr("Integrated loudness (EBU R128). Streaming services play at about -14 LUFS, "
                           "broadcast at -23 LUFS."));
    auto* loudnessRow = new QHBoxLayout;
    loudnessRow->addWidget(normalise_);
    loudnessRow->addWidget(target_);
    loudnessRow->addStretch(1);

    problem_ = new QLabel(this);
    problem_->setObjectName(QStringLiteral("exportProblem"));
    problem_->setWordWrap(true);
    problem_->setStyleSheet(QStringLiteral("color: #ff6b6b"));

    auto* form = new QFormLayout;
    form->addRow(tr("&Format"), format_);
    form->addRow(tr("F&ile"), pathRow);
    form->addRow(tr("&Keep"), trimRow);
    form->addRow(tr("Fade &in"), fadeIn_);
    form->addRow(tr("Fade &out"), fadeOut_);
    form->addRow(tr("Loudness"), loudnessRow);
    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    connect(buttons_, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(problem_);
    layout->addWidget(buttons_);

    path_->setText(withExtension(suggestedPath, options().format));
    connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChosen);
    connect(path_, &QLineEdit::textChanged, this, &ExportDialog::revalidate);
    for (QDoubleSpinBox* box : {trimStart_, trimEnd_, fadeIn_, fadeOut_, target_})
        connect(box, &QDoubleSpinBox::valueChanged, this, &ExportDialog::revalidate);
    connect(normalise_, &QCheckBox::toggled, this, &ExportDialog::revalidate);
    revalidate();
}

ExportOptions ExportDialog::options() const {
    ExportOptions o;
    o.format = parseExportFormat(format_->currentData().toString().toStdString()).value_or(ExportFormat::Wav24);
    o.trimStartSeconds = trimStart_->value();
    // The whole clip is "to the end", so rounding in the box never drops the last frame.
    if (trimEnd_->value() < clipSeconds_ - 0.0005) o.trimEndSeconds = trimEnd_->value();
    o.fadeInSeconds = fadeIn_->value();
    o.fadeOutSeconds = fadeOut_->value();
    if (normalise_->isChecked()) o.normaliseLufs = target_->value();
    return o;
}

QString ExportDialog::path() const { return path_->text().trimmed(); }

QString ExportDialog::problem() const {
    const ExportOptions o = options();
    const double end = o.trimEndSeconds.value_or(clipSeconds_);
    if (path().isEmpty()) return tr("Choose a file to export to.");
    if (const auto implied = exportFormatForPath(path().toStdString());
        !implied || QString::fromLatin1(fileExtension(*implied)) != QString::fromLatin1(fileExtension(o.format)))
        return tr("%1 files end in %2.").arg(QString::fromLatin1(displayName(o.format)), QString::fromLatin1(fileExtension(o.format)));
    if (end <= o.trimStartSeconds) return tr("The end of the range must come after its start.");
    if (o.fadeInSeconds + o.fadeOutSeconds > end - o.trimStartSeconds + 1e-9)
        return tr("The fades together (%1 s) are longer than the %2 s exported.")
            .arg(o.fadeInSeconds + o.fadeOutSeconds, 0, 'f', 3)
            .arg(end - o.trimStartSeconds, 0, 'f', 3);
    return {};
}

void ExportDialog::revalidate() {
    const QString text = problem();
    problem_->setText(text);
    problem_->setVisible(!text.isEmpty());
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(text.isEmpty());
}

void ExportDialog::formatChosen() {
    if (!path().isEmpty()) path_->setText(withExtension(path(), options().format));
    revalidate();
}

void ExportDialog::browse() {
    const ExportFormat format = options().format;
    const QString pattern = tr("%1 (*%2)").arg(QString::fromLatin1(displayName(format)), QString::fromLatin1(fileExtension(format)));
    const QString chosen = QFileDialog::getSaveFileName(this, tr("Export clip"), path(), pattern);
    if (!chosen.isEmpty()) path_->setText(withExtension(chosen, format));
}

void ExportDialog::accept() {
    if (!problem().isEmpty()) return;
    QSettings settings;
    const ExportOptions o = options();
    settings.setValue(QStringLiteral("export/format"), QString::fromLatin1(toString(o.format)));
    settings.setValue(QStringLiteral("export/fadeIn"), o.fadeInSeconds);
    settings.setValue(QStringLiteral("export/fadeOut"), o.fadeOutSeconds);
    settings.setValue(QStringLiteral("export/normalise"), normalise_->isChecked());
    settings.setValue(QStringLiteral("export/targetLufs"), target_->value());
    settings.setValue(QStringLiteral("paths/lastExportDir"), QFileInfo(path()).absolutePath());
    QDialog::accept();
}

}  // namespace grym::ui
