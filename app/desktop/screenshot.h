#pragma once
// `grym-synth --screenshot OUT.png`: the window as a user sees it, saved by the app itself (no
// screenshot tool), for the README. Optionally it first generates takes with the installed
// model and opens them in Compare Takes, which is then drawn over the window where it sits.
#include "clip.h"

#include <QString>

#include <optional>

namespace grym::ui {
class MainWindow;
}

namespace grym::desktop {

struct ScreenshotPlan {
    QString outPath;
    // Selected before the shot: in the shown clip's waveform, or the loop range of Compare Takes.
    std::optional<ui::TimeRange> selection;
    // A settings JSON file (the history folder's format: prompt, seed, steps, guidance, duration)
    // to generate `takes` takes of before the shot; empty: no generation.
    QString generateSettingsPath;
    int takes = 1;
    bool compareTakes = false;  // open the generated takes in Compare Takes
};

// Reads "START:END" seconds; none when the text is not two numbers with START < END.
std::optional<ui::TimeRange> parseTimeRange(const QString& text);

// Carries out `plan` on the shown window and quits the application with 0 once the PNG is
// written, 1 when anything failed (said on stderr).
void takeScreenshot(ui::MainWindow& window, const ScreenshotPlan& plan);

}  // namespace grym::desktop
