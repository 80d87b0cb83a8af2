// grym-synth: the desktop application.
//   grym-synth [FILE|FOLDER...]          open the window with these clips loaded
//   grym-synth --screenshot OUT.png ...  load, wait for the window to settle, save it as PNG, quit
#include "core_adapter.h"
#include "desktop_wiring.h"
#include "main_window.h"
#include "results_display.h"
#include "waveform_view.h"
#include "theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QStatusBar>
#include <QTimer>

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
        const QString out = parser.value(screenshot);
        const QStringList range = parser.value(select).split(QLatin1Char(':'));
        // Give the loads, the first graph refreshes and the layout time to settle.
        QTimer::singleShot(2500, &window, [&window, out, range] {
            if (range.size() == 2)
                window.results()->waveform()->setSelection(grym::ui::TimeRange{range[0].toDouble(), range[1].toDouble()});
            const bool saved = window.grab().save(out, "PNG");
            std::fprintf(saved ? stdout : stderr, saved ? "saved %s\n" : "could not write %s\n", qPrintable(out));
            QApplication::exit(saved ? 0 : 1);
        });
    }
    return app.exec();
}
