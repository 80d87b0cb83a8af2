#include "screenshot.h"

#include "audio_controls.h"
#include "audio_player.h"
#include "core_adapter.h"
#include "generation_form.h"
#include "main_window.h"
#include "results_display.h"
#include "takes_compare_dialog.h"
#include "waveform_view.h"

#include "common/json_reader.h"

#include <QApplication>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QStringList>
#include <QTimer>

#include <cstdio>

namespace grym::desktop {

namespace {

constexpr int kSettleMs = 2500;           // loads, the first graph refreshes and the layout
constexpr int kGenerationLimitMs = 600000;  // a real model on a slow CPU, not a hang
constexpr int kPollMs = 200;

void fail(const QString& why) {
    std::fprintf(stderr, "grym-synth --screenshot: %s\n", qPrintable(why));
    QApplication::exit(1);
}

// The window, with the comparison (a window of its own) painted where it sits over it, framed
// as a window manager would.
void save(ui::MainWindow& window, ui::TakesCompareDialog* comparison, const QString& out) {
    QPixmap shot = window.grab();
    if (comparison && comparison->isVisible()) {
        const QPoint at = comparison->mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0));
        QPainter painter(&shot);
        painter.drawPixmap(at, comparison->grab());
        painter.setPen(QPen(window.palette().color(QPalette::Highlight), 2));
        painter.drawRect(QRect(at, comparison->size()).adjusted(-1, -1, 0, 0));
    }
    if (!shot.save(out, "PNG")) return fail(QStringLiteral("could not write %1").arg(out));
    std::fprintf(stdout, "saved %s\n", qPrintable(out));
    QApplication::exit(0);
}

// Once every take is in, opens them in Compare Takes (when asked) and saves the shot.
void shootWhenGenerated(ui::MainWindow& window, const ScreenshotPlan& plan, int clipsBefore) {
    auto* poll = new QTimer(&window);
    auto* elapsed = new QElapsedTimer;
    elapsed->start();
    QObject::connect(poll, &QTimer::timeout, &window, [&window, plan, clipsBefore, poll, elapsed] {
        if (window.activeGenerations() > 0 && elapsed->elapsed() < kGenerationLimitMs) return;
        poll->stop();
        poll->deleteLater();
        delete elapsed;
        const int made = window.library()->count() - clipsBefore;
        if (made < plan.takes)
            return fail(QStringLiteral("%1 of %2 takes were generated (is a model installed? the status bar says: %3)")
                            .arg(made)
                            .arg(plan.takes)
                            .arg(window.results()->statusLabel()->text()));
        QPointer<ui::TakesCompareDialog> comparison;
        if (plan.compareTakes) {
            comparison = window.compareTakes(window.library()->at(0).id);
            if (!comparison) return fail(QStringLiteral("the generated clips are not a take group (ask for --takes 2 or more)"));
            // Lower right, so the library's take group stays in view beside it.
            comparison->move(window.mapToGlobal(QPoint(window.width() - comparison->width() - 24,
                                                       window.height() - comparison->height() - 48)));
            // As after a little listening: one take kept, the playhead inside the loop range.
            const QVector<quint64> takes = comparison->takes();
            if (takes.size() > 1) comparison->rowOf(takes[1])->keep->click();
            if (plan.selection) {
                comparison->setLoopRange(plan.selection);
                comparison->player()->seek(plan.selection->startSeconds + 0.4 * plan.selection->length());
            }
            comparison->controls()->loopBox()->setChecked(plan.selection.has_value());
        } else if (plan.selection) {
            window.results()->waveform()->setSelection(plan.selection);
        }
        QTimer::singleShot(1500, &window, [&window, comparison, out = plan.outPath] { save(window, comparison, out); });
    });
    poll->start(kPollMs);
}

}  // namespace

std::optional<ui::TimeRange> parseTimeRange(const QString& text) {
    const QStringList parts = text.split(QLatin1Char(':'));
    if (parts.size() != 2) return std::nullopt;
    bool startOk = false, endOk = false;
    const double start = parts[0].toDouble(&startOk), end = parts[1].toDouble(&endOk);
    if (!startOk || !endOk || !(start < end)) return std::nullopt;
    return ui::TimeRange{start, end};
}

void takeScreenshot(ui::MainWindow& window, const ScreenshotPlan& plan) {
    if (plan.generateSettingsPath.isEmpty()) {
        QTimer::singleShot(kSettleMs, &window, [&window, plan] {
            if (plan.selection) window.results()->waveform()->setSelection(plan.selection);
            save(window, nullptr, plan.outPath);
        });
        return;
    }
    GenerateRequest settings;
    try {
        settings = ui::CoreAdapter::requestFromSettings(readJsonFile(plan.generateSettingsPath.toStdString()));
    } catch (const std::exception& e) {
        QTimer::singleShot(0, &window, [why = QString::fromUtf8(e.what())] { fail(why); });
        return;
    }
    QTimer::singleShot(kSettleMs / 2, &window, [&window, plan, settings] {
        ui::GenerationForm* form = window.generationForm();
        form->applySettings(settings);
        form->variationsBox()->setValue(plan.takes);
        if (!form->isValid() || !form->generateButton()->isEnabled())
            return fail(QStringLiteral("the Generate form refuses %1").arg(plan.generateSettingsPath));
        const int before = window.library()->count();
        form->generateButton()->click();
        shootWhenGenerated(window, plan, before);
    });
}

}  // namespace grym::desktop
