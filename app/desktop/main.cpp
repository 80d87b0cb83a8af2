// grym-synth: the desktop application.
//   grym-synth [FILE|FOLDER...]          open the window with these clips loaded
//   grym-synth --screenshot OUT.png ...  load, wait for the window to settle, save it as PNG, quit
#include "core_adapter.h"
#include "desktop_wiring.h"
#include "main_window.h"
#include "screenshot.h"
#include "theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QStatusBar>

#include <cstdio>
#include <cstdlib>

namespace {

// Qt's own message for a missing display ("could not load the Qt platform plugin xcb …
// Reinstalling the application may fix this problem") sends people the wrong way. On Linux a
// window needs X11 or Wayland, unless QT_QPA_PLATFORM names another platform (offscreen, vnc).
bool displayAvailable() {
#if defined(__linux__)
    auto set = [](const char* name) {
        const char* value = std::getenv(name);
        return value && *value;
    };
    return set("DISPLAY") || set("WAYLAND_DISPLAY") || set("QT_QPA_PLATFORM");
#else
    return true;
#endif
}

}  // namespace

int main(int argc, char** argv) {
    if (!displayAvailable()) {
        std::fprintf(stderr,
                     "grym-synth: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open.\n"
                     "grym-synth: without one, use grym-synth-cli (generate, analyze, info; --help lists them) or its\n"
                     "grym-synth: local HTTP API: grym-synth-cli serve\n");
        return 1;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("grym-synth"));
    QApplication::setOrganizationName(QStringLiteral("grym-synth"));
    QApplication::setApplicationVersion(QStringLiteral(GRYM_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/grym-synth.svg")));
    grym::ui::applyTheme(app);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Text-to-audio generation and audio analysis, locally."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Save a PNG of the main window to FILE once the clips are loaded, then quit."),
                                        QStringLiteral("FILE"));
    parser.addOption(screenshot);
    const QCommandLineOption select(QStringLiteral("select"),
                                    QStringLiteral("With --screenshot: select START:END seconds of the shown clip's waveform first."),
                                    QStringLiteral("START:END"));
    parser.addOption(select);
    const QCommandLineOption generate(QStringLiteral("generate"),
                                      QStringLiteral("With --screenshot: generate with the settings in FILE (JSON: prompt, seed, steps, "
                                                     "guidance, duration, as the history folder holds them) first."),
                                      QStringLiteral("FILE"));
    parser.addOption(generate);
    const QCommandLineOption takes(QStringLiteral("takes"), QStringLiteral("With --generate: how many takes (default 1)."),
                                   QStringLiteral("N"), QStringLiteral("1"));
    parser.addOption(takes);
    const QCommandLineOption compare(QStringLiteral("compare"),
                                     QStringLiteral("With --generate and --takes 2 or more: show the takes in Compare Takes, "
                                                    "with --select as the loop range."));
    parser.addOption(compare);
    parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Audio files or folders to open."), QStringLiteral("[FILE...]"));
    parser.process(app);

    // One AudioApi for the window and the optional local HTTP API (Tools ▸ Serve Local API).
    grym::AudioApiConfig config;
    config.queue.workerCount = 2;  // a generation and an analysis may run side by side
    grym::ui::CoreAdapter adapter(std::make_shared<grym::AudioApi>(config));
    adapter.startMemoryMonitor();
    grym::desktop::DesktopCore core(adapter);
    for (const QString& line : core.report()) std::fprintf(stderr, "grym-synth: %s\n", qPrintable(line));
    grym::ui::MainWindow window(&adapter);
    QObject::connect(&window, &grym::ui::MainWindow::modelsFolderChanged, &window,
                     [&core, &window](const QString& folder) {
                         core.useModelsFolder(folder);
                         window.statusBar()->showMessage(core.report().join(QStringLiteral("; ")), 10000);
                     });
    QObject::connect(&window, &grym::ui::MainWindow::modelRegistered, &window, [&core, &window] {
        core.reload();
        window.statusBar()->showMessage(core.report().join(QStringLiteral("; ")), 10000);
    });
    window.restoreHistory();  // the clips generated in earlier sessions (and before a crash)
    window.show();
    window.openPaths(parser.positionalArguments());

    if (parser.isSet(screenshot)) {
        grym::desktop::ScreenshotPlan plan;
        plan.outPath = parser.value(screenshot);
        if (parser.isSet(select)) {
            plan.selection = grym::desktop::parseTimeRange(parser.value(select));
            if (!plan.selection) {
                std::fprintf(stderr, "grym-synth: --select takes START:END seconds with START < END, got '%s'\n", qPrintable(parser.value(select)));
                return 2;
            }
        }
        plan.generateSettingsPath = parser.value(generate);
        bool takesOk = false;
        plan.takes = parser.value(takes).toInt(&takesOk);
        if (!takesOk || plan.takes < 1) {
            std::fprintf(stderr, "grym-synth: --takes takes a whole number from 1, got '%s'\n", qPrintable(parser.value(takes)));
            return 2;
        }
        plan.compareTakes = parser.isSet(compare);
        grym::desktop::takeScreenshot(window, plan);
    }
    return app.exec();
}
