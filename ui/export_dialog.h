#pragma once
// File ▸ Export Clip…: where and how to write the current clip for other tools — the format
// (WAV 16/24-bit/float, FLAC, OGG Vorbis), a trim (the waveform's selection by default), fades
// and loudness normalisation to a target in LUFS. The dialog only gathers ExportOptions; the
// export itself runs through the adapter (CoreAdapter::exportClip). The last choices are
// remembered in the settings.
#include "audio/clip_export.h"
#include "clip.h"

#include <QDialog>

#include <optional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;

namespace grym::ui {


class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // `suggestedPath` names the file (its extension follows the format); `selection`, when
    // given, sets the trim.
    ExportDialog(double clipSeconds, const QString& suggestedPath, const std::optional<TimeRange>& selection,
                 QWidget* parent = nullptr);

    ExportOptions options() const;
    QString path() const;
    // Why the settings cannot be exported (shown under the form, OK disabled); empty when they can.
    QString problem() const;

    QComboBox* formatBox() const { return format_; }
    QLineEdit* pathEdit() const { return path_; }
    QDoubleSpinBox* trimStartBox() const { return trimStart_; }
    QDoubleSpinBox* trimEndBox() const { return trimEnd_; }
    QDoubleSpinBox* fadeInBox() const { return fadeIn_; }
    QDoubleSpinBox* fadeOutBox() const { return fadeOut_; }
    QCheckBox* normaliseBox() const { return normalise_; }
    QDoubleSpinBox* targetBox() const { return target_; }
    QDialogButtonBox* buttons() const { return buttons_; }

    void accept() override;  // remembers the choices

private:
    void browse();
    void formatChosen();
    void revalidate();

    double clipSeconds_;
    QComboBox* format_;
    QLineEdit* path_;
    QDoubleSpinBox* trimStart_;
    QDoubleSpinBox* trimEnd_;
    QDoubleSpinBox* fadeIn_;
    QDoubleSpinBox* fadeOut_;
    QCheckBox* normalise_;
    QDoubleSpinBox* target_;
    QLabel* problem_;
    QDialogButtonBox* buttons_;
};

}  // namespace grym::ui
