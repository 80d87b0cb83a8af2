#include "generation_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSettings>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace grym::ui {

namespace {

constexpr qint64 kMaxSeed = 2147483647;  // seeds are 31-bit so every backend accepts them

struct Defaults {
    static constexpr double duration = 5.0;
    static constexpr int steps = 50;
    static constexpr double guidance = 2.5;
    static constexpr int variations = 1;
};

// Parses `text` as a number in [lo, hi]; on failure returns the reason.
QString checkNumber(const QString& text, double lo, double hi, bool integer, const QString& unit, double* value) {
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) return QObject::tr("required");
    bool ok = false;
    const double parsed = integer ? static_cast<double>(trimmed.toLongLong(&ok)) : trimmed.toDouble(&ok);
    if (!ok) return integer ? QObject::tr("must be a whole number") : QObject::tr("must be a number");
    if (parsed < lo || parsed > hi)
        return QObject::tr("must be between %1 and %2%3").arg(lo).arg(hi).arg(unit);
    if (value) *value = parsed;
    return {};
}

}  // namespace

GenerationForm::GenerationForm(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("generationForm"));
    prompt_ = new QPlainTextEdit(this);
    prompt_->setObjectName(QStringLiteral("promptEdit"));
    prompt_->setPlaceholderText(tr("Describe the sound, e.g. \"rain on a tin roof, distant thunder\""));
    prompt_->setTabChangesFocus(true);
    prompt_->setFixedHeight(prompt_->fontMetrics().lineSpacing() * 4 + 12);
    negative_ = new QLineEdit(this);
    negative_->setObjectName(QStringLiteral("negativePromptEdit"));
    negative_->setPlaceholderText(tr("optional: what to avoid, e.g. \"low quality, noise\""));
    duration_ = new QLineEdit(this);
    duration_->setObjectName(QStringLiteral("durationEdit"));
    steps_ = new QLineEdit(this);
    steps_->setObjectName(QStringLiteral("stepsEdit"));
    guidance_ = new QLineEdit(this);
    guidance_->setObjectName(QStringLiteral("guidanceEdit"));
    seed_ = new QLineEdit(this);
    seed_->setObjectName(QStringLiteral("seedEdit"));
    for (QLineEdit* edit : {duration_, steps_, guidance_, seed_}) edit->setMaximumWidth(110);
    describeLimits();
    dice_ = new QToolButton(this);
    dice_->setObjectName(QStringLiteral("randomiseSeedButton"));
    dice_->setText(tr("Randomise"));
    dice_->setToolTip(tr("Draw a new random seed"));
    lockSeed_ = new QCheckBox(tr("Lock"), this);
    lockSeed_->setObjectName(QStringLiteral("seedLockBox"));
    lockSeed_->setToolTip(tr("Locked: every generation uses this seed. Unlocked: a new seed is drawn each time."));
    scheduler_ = new QComboBox(this);
    scheduler_->setObjectName(QStringLiteral("schedulerBox"));
    scheduler_->addItem(tr("DDIM"), QStringLiteral("ddim"));
    scheduler_->addItem(tr("DPM-Solver++"), QStringLiteral("dpm++"));
    variations_ = new QSpinBox(this);
    variations_->setObjectName(QStringLiteral("variationsBox"));
    variations_->setRange(1, limits_.maxVariations);
    variations_->setMaximumWidth(110);
    scheduler_->setMaximumWidth(160);
    variations_->setToolTip(tr("How many takes to generate, each with the next seed; they form a group in the library"));
    loop_ = new QCheckBox(tr("Seamless &loop"), this);
    loop_->setObjectName(QStringLiteral("seamlessLoopBox"));
    loop_->setToolTip(tr("The clip's end flows into its start (any duration: beyond the model's window the loop is made of windows); "
                         "the loop point is checked and reported, and playback loops it"));
    sourceUse_ = new QComboBox(this);
    sourceUse_->setObjectName(QStringLiteral("sourceUseBox"));
    sourceUse_->addItem(tr("Vary the clip"), static_cast<int>(SourceUse::Vary));
    sourceUse_->addItem(tr("Regenerate the selected range"), static_cast<int>(SourceUse::RegenerateSelection));
    sourceUse_->addItem(tr("Continue the clip by Duration"), static_cast<int>(SourceUse::Continue));
    sourceUse_->setToolTip(tr("Select a range with Shift+drag in the waveform to regenerate only that range"));
    sourceLabel_ = new QLabel(this);
    sourceLabel_->setObjectName(QStringLiteral("sourceLabel"));
    sourceLabel_->setWordWrap(true);
    clearSource_ = new QToolButton(this);
    clearSource_->setText(tr("Text only"));
    clearSource_->setToolTip(tr("Generate from the prompt alone, not from a clip"));
    generate_ = new QPushButton(tr("Generate"), this);
    generate_->setObjectName(QStringLiteral("generateButton"));
    generate_->setDefault(true);
    generate_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    cancel_->setIcon(style()->standardIcon(QStyle::SP_BrowserStop));
    reset_ = new QPushButton(tr("Reset"), this);
    reset_->setObjectName(QStringLiteral("resetButton"));
    reset_->setToolTip(tr("Back to the default parameters"));
    modelMissing_ = new QLabel(this);
    modelMissing_->setObjectName(QStringLiteral("modelMissingLabel"));
    modelMissing_->setWordWrap(true);
    downloadModel_ = new QPushButton(tr("Download AudioLDM…"), this);
    downloadModel_->setObjectName(QStringLiteral("downloadModelButton"));
    downloadModel_->setIcon(style()->standardIcon(QStyle::SP_ArrowDown));

    auto* grid = new QGridLayout;
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(4);
    int row = 0;
    auto addRow = [&](const QString& label, QWidget* field, Field key) {
        auto* l = new QLabel(label, this);
        l->setBuddy(field);
        grid->addWidget(l, row, 0);
        grid->addWidget(field, row, 1);
        QLabel* error = makeErrorLabel();
        errorLabels_[key] = error;
        grid->addWidget(error, row, 2);
        ++row;
    };
    auto* promptLabel = new QLabel(tr("&Prompt"), this);
    promptLabel->setBuddy(prompt_);
    grid->addWidget(promptLabel, row++, 0, 1, 3);
    grid->addWidget(prompt_, row++, 0, 1, 3);
    errorLabels_[Field::Prompt] = makeErrorLabel();
    grid->addWidget(errorLabels_[Field::Prompt], row++, 0, 1, 3);
    grid->addWidget(new QLabel(tr("Negative prompt"), this), row++, 0, 1, 3);
    grid->addWidget(negative_, row++, 0, 1, 3);
    errorLabels_[Field::NegativePrompt] = makeErrorLabel();
    grid->addWidget(errorLabels_[Field::NegativePrompt], row++, 0, 1, 3);
    addRow(tr("&Duration (s)"), duration_, Field::Duration);
    addRow(tr("&Steps"), steps_, Field::Steps);
    addRow(tr("&Guidance"), guidance_, Field::Guidance);
    auto* seedRow = new QWidget(this);
    auto* seedLayout = new QHBoxLayout(seedRow);
    seedLayout->setContentsMargins(0, 0, 0, 0);
    seedLayout->addWidget(seed_);
    seedLayout->addWidget(dice_);
    seedLayout->addWidget(lockSeed_);
    seedLayout->addStretch();
    addRow(tr("S&eed"), seedRow, Field::Seed);
    auto* schedulerLabel = new QLabel(tr("S&cheduler"), this);
    schedulerLabel->setBuddy(scheduler_);
    grid->addWidget(schedulerLabel, row, 0);
    grid->addWidget(scheduler_, row++, 1);
    auto* variationsLabel = new QLabel(tr("&Takes"), this);
    variationsLabel->setBuddy(variations_);
    grid->addWidget(variationsLabel, row, 0);
    grid->addWidget(variations_, row++, 1);
    grid->addWidget(loop_, row++, 1);
    grid->setColumnStretch(2, 1);

    auto* sourceRow = new QHBoxLayout;
    sourceRow->addWidget(sourceLabel_, 1);
    sourceRow->addWidget(sourceUse_);
    sourceRow->addWidget(clearSource_);
    errorLabels_[Field::Source] = makeErrorLabel();
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(reset_);
    buttons->addStretch();
    buttons->addWidget(cancel_);
    buttons->addWidget(generate_);

    auto* modelRow = new QVBoxLayout;
    modelRow->addWidget(modelMissing_);
    modelRow->addWidget(downloadModel_, 0, Qt::AlignLeft);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(modelRow);
    layout->addLayout(grid);
    layout->addLayout(sourceRow);
    layout->addWidget(errorLabels_[Field::Source]);
    layout->addStretch();
    layout->addLayout(buttons);

    connect(prompt_, &QPlainTextEdit::textChanged, this, &GenerationForm::validate);
    for (QLineEdit* edit : {negative_, duration_, steps_, guidance_, seed_})
        connect(edit, &QLineEdit::textChanged, this, &GenerationForm::validate);
    connect(dice_, &QToolButton::clicked, this, &GenerationForm::randomiseSeed);
    connect(generate_, &QPushButton::clicked, this, &GenerationForm::submit);
    connect(cancel_, &QPushButton::clicked, this, &GenerationForm::cancelRequested);
    connect(reset_, &QPushButton::clicked, this, &GenerationForm::resetToDefaults);
    connect(clearSource_, &QToolButton::clicked, this, &GenerationForm::clearSource);
    connect(sourceUse_, &QComboBox::currentIndexChanged, this, [this] {
        describeSource();
        validate();
    });
    connect(loop_, &QCheckBox::toggled, this, &GenerationForm::validate);
    connect(downloadModel_, &QPushButton::clicked, this, [this] { emit downloadModelRequested(offeredRepo_); });

    resetToDefaults();
    restoreSettings();
    clearSource();
    offerModelDownload({});
    setBusy(false);
}

QLabel* GenerationForm::makeErrorLabel() {
    auto* label = new QLabel(this);
    label->setObjectName(QStringLiteral("fieldError"));
    label->setWordWrap(true);
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, QColor(0xff, 0x6b, 0x6b));
    label->setPalette(pal);
    QFont font = label->font();
    font.setPointSizeF(font.pointSizeF() * 0.9);
    label->setFont(font);
    label->hide();
    return label;
}

void GenerationForm::setLimits(const ApiLimits& limits) {
    limits_ = limits;
    variations_->setRange(1, limits_.maxVariations);
    describeLimits();
    validate();
}

void GenerationForm::describeLimits() {
    duration_->setToolTip(tr("Length of the generated audio in seconds (%1–%2)").arg(limits_.minGenerateSeconds).arg(limits_.maxGenerateSeconds));
    steps_->setToolTip(tr("Diffusion steps: more is slower and usually cleaner (1–%1)").arg(limits_.maxSteps));
    guidance_->setToolTip(tr("How closely to follow the prompt (0–%1); 2–4 suits most prompts").arg(limits_.maxGuidance));
}

void GenerationForm::validate() {
    errors_.clear();
    const QString prompt = prompt_->toPlainText().trimmed();
    if (prompt.isEmpty()) errors_[Field::Prompt] = tr("Describe the sound you want.");
    else if (static_cast<size_t>(prompt.size()) > limits_.maxPromptChars)
        errors_[Field::Prompt] = tr("Too long: %1 characters, at most %2.").arg(prompt.size()).arg(static_cast<qulonglong>(limits_.maxPromptChars));
    if (static_cast<size_t>(negative_->text().trimmed().size()) > limits_.maxPromptChars)
        errors_[Field::NegativePrompt] = tr("Too long: at most %1 characters.").arg(static_cast<qulonglong>(limits_.maxPromptChars));
    if (QString e = checkNumber(duration_->text(), limits_.minGenerateSeconds, limits_.maxGenerateSeconds, false, tr(" s"), nullptr); !e.isEmpty())
        errors_[Field::Duration] = e;
    if (QString e = checkNumber(steps_->text(), 1, limits_.maxSteps, true, {}, nullptr); !e.isEmpty())
        errors_[Field::Steps] = e;
    if (QString e = checkNumber(guidance_->text(), 0, limits_.maxGuidance, false, {}, nullptr); !e.isEmpty())
        errors_[Field::Guidance] = e;
    if (QString e = checkNumber(seed_->text(), 0, kMaxSeed, true, {}, nullptr); !e.isEmpty())
        errors_[Field::Seed] = e;
    if (sourceAudio_ && sourceUse() == SourceUse::RegenerateSelection && !selection_)
        errors_[Field::Source] = tr("Select the range to regenerate: Shift+drag in the waveform.");
    if (sourceAudio_ && loop_->isChecked())
        errors_[Field::Source] = tr("A loop is made from the prompt alone: untick Seamless loop or choose Text only.");

    for (auto it = errorLabels_.begin(); it != errorLabels_.end(); ++it) {
        const QString error = errors_.value(it.key());
        it.value()->setText(error);
        it.value()->setVisible(!error.isEmpty());
    }
    // Empty prompt at start-up is not an error worth shouting about: only hint at it.
    if (prompt_->toPlainText().isEmpty()) errorLabels_[Field::Prompt]->hide();
    const bool valid = errors_.isEmpty();
    generate_->setEnabled(valid && !busy_);
    generate_->setToolTip(valid ? tr("Generate (Ctrl+Return)") : tr("Fix the highlighted fields first"));
    if (valid != lastValid_) {
        lastValid_ = valid;
        emit validityChanged(valid);
    }
}

bool GenerationForm::isValid() const { return errors_.isEmpty(); }

GenerationRequest GenerationForm::request() const {
    GenerationRequest r;
    r.settings.prompt = prompt_->toPlainText().trimmed().toStdString();
    r.settings.negativePrompt = negative_->text().trimmed().toStdString();
    r.settings.durationSeconds = duration_->text().trimmed().toDouble();
    r.settings.steps = steps_->text().trimmed().toInt();
    r.settings.guidanceScale = guidance_->text().trimmed().toDouble();
    r.settings.seed = seed_->text().trimmed().toLongLong();
    r.settings.scheduler = scheduler_->currentData().toString().toStdString();
    r.settings.loop = loop_->isChecked();
    r.sourceAudio = sourceAudio_;
    r.sourceClipId = sourceClipId_;
    if (sourceAudio_ && sourceUse() == SourceUse::RegenerateSelection) r.inpaintRange = selection_;
    if (sourceAudio_ && sourceUse() == SourceUse::Continue) r.continueSource = true;
    return r;
}

int GenerationForm::variations() const { return variations_->value(); }

void GenerationForm::submit() {
    validate();
    if (!isValid() || busy_) return;
    if (!lockSeed_->isChecked()) randomiseSeed();
    saveSettings();
    emit generateRequested(request(), variations());
}

void GenerationForm::randomiseSeed() {
    seed_->setText(QString::number(QRandomGenerator::global()->bounded(kMaxSeed)));
}

void GenerationForm::setBusy(bool busy) {
    busy_ = busy;
    cancel_->setEnabled(busy);
    generate_->setText(busy ? tr("Generating…") : tr("Generate"));
    validate();
}

void GenerationForm::setSource(quint64 clipId, std::shared_ptr<const AudioBuffer> audio, const QString& name) {
    if (clipId != sourceClipId_) selection_.reset();
    sourceClipId_ = clipId;
    sourceAudio_ = std::move(audio);
    sourceName_ = name;
    describeSource();
    sourceLabel_->show();
    sourceUse_->show();
    clearSource_->show();
    validate();
}

void GenerationForm::applySettings(const GenerateRequest& settings) {
    prompt_->setPlainText(QString::fromStdString(settings.prompt));
    negative_->setText(QString::fromStdString(settings.negativePrompt));
    duration_->setText(QString::number(settings.durationSeconds, 'g', 6));
    steps_->setText(QString::number(settings.steps));
    guidance_->setText(QString::number(settings.guidanceScale, 'g', 6));
    if (settings.seed) {
        seed_->setText(QString::number(*settings.seed));
        lockSeed_->setChecked(true);
    }
    const int scheduler = scheduler_->findData(QString::fromStdString(settings.scheduler));
    if (scheduler >= 0) scheduler_->setCurrentIndex(scheduler);
    clearSource();
    validate();
}

void GenerationForm::clearSource() {
    sourceClipId_ = 0;
    sourceAudio_.reset();
    sourceName_.clear();
    selection_.reset();
    sourceLabel_->clear();
    sourceLabel_->hide();
    sourceUse_->setCurrentIndex(0);
    sourceUse_->hide();
    clearSource_->hide();
    validate();
}

void GenerationForm::setSelection(std::optional<ClipRange> range) {
    selection_ = range;
    if (range && sourceAudio_) setSourceUse(SourceUse::RegenerateSelection);
    describeSource();
    validate();
}

GenerationForm::SourceUse GenerationForm::sourceUse() const {
    return static_cast<SourceUse>(sourceUse_->currentData().toInt());
}

void GenerationForm::setSourceUse(SourceUse use) {
    sourceUse_->setCurrentIndex(sourceUse_->findData(static_cast<int>(use)));
}

void GenerationForm::describeSource() {
    if (!sourceAudio_) return;
    const QString name = sourceName_.toHtmlEscaped();
    switch (sourceUse()) {
        case SourceUse::Vary: sourceLabel_->setText(tr("Variation of <b>%1</b>").arg(name)); break;
        case SourceUse::RegenerateSelection:
            sourceLabel_->setText(selection_ ? tr("Regenerate %1–%2 s of <b>%3</b>")
                                                   .arg(selection_->startSeconds, 0, 'f', 2)
                                                   .arg(selection_->endSeconds, 0, 'f', 2)
                                                   .arg(name)
                                             : tr("Regenerate a range of <b>%1</b>").arg(name));
            break;
        case SourceUse::Continue: sourceLabel_->setText(tr("Continue <b>%1</b> by Duration").arg(name)); break;
    }
}

void GenerationForm::offerModelDownload(const QString& recommendedRepo) {
    offeredRepo_ = recommendedRepo;
    modelMissing_->setText(tr("<b>No generation model yet.</b> Download %1 (recommended) from Hugging Face, or put an "
                              "AudioLDM folder in the models folder (Tools ▸ Model Manager).").arg(recommendedRepo.toHtmlEscaped()));
    downloadModel_->setToolTip(tr("Open the Model Manager at %1").arg(recommendedRepo));
    modelMissing_->setVisible(!recommendedRepo.isEmpty());
    downloadModel_->setVisible(!recommendedRepo.isEmpty());
}

void GenerationForm::resetToDefaults() {
    negative_->clear();
    duration_->setText(QString::number(Defaults::duration));
    steps_->setText(QString::number(Defaults::steps));
    guidance_->setText(QString::number(Defaults::guidance));
    lockSeed_->setChecked(false);
    randomiseSeed();
    scheduler_->setCurrentIndex(0);
    variations_->setValue(Defaults::variations);
    loop_->setChecked(false);
    validate();
}

void GenerationForm::saveSettings() const {
    QSettings settings;
    settings.beginGroup(QStringLiteral("generation"));
    settings.setValue(QStringLiteral("prompt"), prompt_->toPlainText());
    settings.setValue(QStringLiteral("negativePrompt"), negative_->text());
    settings.setValue(QStringLiteral("duration"), duration_->text());
    settings.setValue(QStringLiteral("steps"), steps_->text());
    settings.setValue(QStringLiteral("guidance"), guidance_->text());
    settings.setValue(QStringLiteral("seed"), seed_->text());
    settings.setValue(QStringLiteral("seedLocked"), lockSeed_->isChecked());
    settings.setValue(QStringLiteral("scheduler"), scheduler_->currentData());
    settings.setValue(QStringLiteral("variations"), variations_->value());
    settings.setValue(QStringLiteral("loop"), loop_->isChecked());
    settings.endGroup();
}

void GenerationForm::restoreSettings() {
    QSettings settings;
    settings.beginGroup(QStringLiteral("generation"));
    if (!settings.contains(QStringLiteral("steps"))) return;
    prompt_->setPlainText(settings.value(QStringLiteral("prompt")).toString());
    negative_->setText(settings.value(QStringLiteral("negativePrompt")).toString());
    duration_->setText(settings.value(QStringLiteral("duration")).toString());
    steps_->setText(settings.value(QStringLiteral("steps")).toString());
    guidance_->setText(settings.value(QStringLiteral("guidance")).toString());
    seed_->setText(settings.value(QStringLiteral("seed")).toString());
    lockSeed_->setChecked(settings.value(QStringLiteral("seedLocked")).toBool());
    const int scheduler = scheduler_->findData(settings.value(QStringLiteral("scheduler")));
    if (scheduler >= 0) scheduler_->setCurrentIndex(scheduler);
    variations_->setValue(settings.value(QStringLiteral("variations"), 1).toInt());
    loop_->setChecked(settings.value(QStringLiteral("loop"), false).toBool());
    settings.endGroup();
    validate();
}

}  // namespace grym::ui
