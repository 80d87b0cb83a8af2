#pragma once
// The generation panel: prompt, negative prompt, duration, diffusion steps, guidance scale, seed
// (randomise / lock), scheduler and number of takes. Each field is checked as it is typed;
// the reason for a bad value is shown beside it and Generate stays disabled until all are valid.
// The last submitted parameters are remembered (QSettings). While no generation model is
// installed, a note at the top says so and offers the download of the recommended one.
#include "core_adapter.h"

#include <QMap>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace grym::ui {

class GenerationForm : public QWidget {
    Q_OBJECT
public:
    enum class Field { Prompt, NegativePrompt, Duration, Steps, Guidance, Seed, Source };
    // What a generation does with the source clip, when there is one.
    enum class SourceUse { Vary, RegenerateSelection, Continue };

    explicit GenerationForm(QWidget* parent = nullptr);

    bool isValid() const;
    QString fieldError(Field field) const { return errors_.value(field); }
    GenerationRequest request() const;  // the form's values (meaningful when valid)
    int variations() const;

    // The limits the API validates against (AudioApi::limits()), so the form refuses exactly
    // what the API would, with the same bounds.
    void setLimits(const ApiLimits& limits);

    // While generating: Generate is disabled and Cancel enabled.
    void setBusy(bool busy);
    bool busy() const { return busy_; }
    // A variation starts from this clip's audio; clearSource() goes back to text only.
    void setSource(quint64 clipId, std::shared_ptr<const AudioBuffer> audio, const QString& name);
    void clearSource();
    // The range of the source clip selected in the waveform (nullopt: none). A new selection
    // switches the form to regenerating it.
    void setSelection(std::optional<ClipRange> range);
    std::optional<ClipRange> selection() const { return selection_; }
    SourceUse sourceUse() const;
    void setSourceUse(SourceUse use);

    // Shows the "no model yet" note with a button to download `recommendedRepo`; empty hides it.
    void offerModelDownload(const QString& recommendedRepo);
    bool offersModelDownload() const { return !offeredRepo_.isEmpty(); }

    // Fills the fields from a clip's recorded settings ("Use These Settings"): prompt, negative
    // prompt, length, steps, guidance, scheduler and the seed (locked, so the clip comes again).
    void applySettings(const GenerateRequest& settings);

    void resetToDefaults();
    void saveSettings() const;
    void restoreSettings();

    QPlainTextEdit* promptEdit() const { return prompt_; }
    QLineEdit* negativePromptEdit() const { return negative_; }
    QLineEdit* durationEdit() const { return duration_; }
    QLineEdit* stepsEdit() const { return steps_; }
    QLineEdit* guidanceEdit() const { return guidance_; }
    QLineEdit* seedEdit() const { return seed_; }
    QCheckBox* seedLockBox() const { return lockSeed_; }
    QComboBox* schedulerBox() const { return scheduler_; }
    QSpinBox* variationsBox() const { return variations_; }
    QCheckBox* loopBox() const { return loop_; }
    QComboBox* sourceUseBox() const { return sourceUse_; }
    QPushButton* generateButton() const { return generate_; }
    QPushButton* cancelButton() const { return cancel_; }
    QPushButton* resetButton() const { return reset_; }
    QPushButton* downloadModelButton() const { return downloadModel_; }
    QLabel* modelMissingLabel() const { return modelMissing_; }

signals:
    void generateRequested(const grym::ui::GenerationRequest& request, int variations);
    void cancelRequested();
    void validityChanged(bool valid);
    void downloadModelRequested(const QString& repoId);

private:
    void validate();
    void submit();
    void randomiseSeed();
    QLabel* makeErrorLabel();

    void describeLimits();

    ApiLimits limits_;  // the API's (setLimits); its defaults until then
    QPlainTextEdit* prompt_;
    QLineEdit* negative_;
    QLineEdit* duration_;
    QLineEdit* steps_;
    QLineEdit* guidance_;
    QLineEdit* seed_;
    QToolButton* dice_;
    QCheckBox* lockSeed_;
    QComboBox* scheduler_;
    QSpinBox* variations_;
    QCheckBox* loop_;
    QComboBox* sourceUse_;
    QLabel* sourceLabel_;
    QToolButton* clearSource_;
    QPushButton* generate_;
    QPushButton* cancel_;
    QPushButton* reset_;
    QLabel* modelMissing_;
    QPushButton* downloadModel_;
    QString offeredRepo_;
    QMap<Field, QLabel*> errorLabels_;
    QMap<Field, QString> errors_;
    bool busy_ = false;
    bool lastValid_ = false;
    quint64 sourceClipId_ = 0;
    std::shared_ptr<const AudioBuffer> sourceAudio_;
    QString sourceName_;
    std::optional<ClipRange> selection_;
    void describeSource();
};

}  // namespace grym::ui
