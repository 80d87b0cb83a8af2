// GUI event-loop latency while a generation runs: how long a queued event posted from another
// thread waits before the GUI thread handles it. Prints JSON (p50/p99/max in ms; target p99 < 16).
//   grym-gui-latency-bench [--steps N] [--step-ms MS] [--duration S] [--variations N] [--json FILE]
// The generation service is a test double that keeps a core busy for each step, as a real
// diffusion step does; the window shows progress, adds the clips, draws waveform, spectrogram
// and graphs exactly as in use.
#include "core_adapter.h"
#include "generation_form.h"
#include "main_window.h"
#include "theme.h"

#include "support/fake_services.h"

#include <QApplication>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Options {
    int steps = 50;
    int stepMs = 40;
    double duration = 10.0;
    int variations = 2;
    QString jsonPath;
};

Options parse(const QStringList& args) {
    Options o;
    for (int i = 1; i + 1 < args.size(); i += 2) {
        const QString& key = args[i];
        const QString& value = args[i + 1];
        if (key == QLatin1String("--steps")) o.steps = value.toInt();
        else if (key == QLatin1String("--step-ms")) o.stepMs = value.toInt();
        else if (key == QLatin1String("--duration")) o.duration = value.toDouble();
        else if (key == QLatin1String("--variations")) o.variations = value.toInt();
        else if (key == QLatin1String("--json")) o.jsonPath = value;
        else {
            std::cerr << "unknown option " << key.toStdString() << "\n";
            std::exit(2);
        }
    }
    return o;
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
    return values[index];
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QTemporaryDir settingsDir;
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("grym-synth-bench"));
    QApplication::setApplicationName(QStringLiteral("grym-synth-bench"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    grym::ui::applyTheme(app);
    const Options options = parse(QApplication::arguments());

    auto generator = std::make_shared<grym::test::FakeGenerationService>();
    generator->burnCpu = true;
    generator->stepTime = std::chrono::milliseconds(options.stepMs);
    auto api = std::make_shared<grym::AudioApi>();
    api->addService(generator);
    grym::ui::CoreAdapter adapter(api);
    grym::ui::MainWindow window(&adapter);
    window.resize(1400, 880);
    window.show();

    grym::ui::GenerationForm* form = window.generationForm();
    form->promptEdit()->setPlainText(QStringLiteral("a steam train passing a level crossing"));
    form->durationEdit()->setText(QString::number(options.duration));
    form->stepsEdit()->setText(QString::number(options.steps));
    form->variationsBox()->setValue(options.variations);

    // The probe: a thread posts a timestamped event every 2 ms; the GUI thread records the wait.
    std::mutex mutex;
    std::vector<double> latenciesMs;
    std::atomic<bool> probing{true};
    QObject receiver;
    std::thread prober([&] {
        while (probing.load()) {
            const auto sent = std::chrono::steady_clock::now();
            QMetaObject::invokeMethod(&receiver, [&, sent] {
                const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
                std::lock_guard<std::mutex> lock(mutex);
                latenciesMs.push_back(ms);
            }, Qt::QueuedConnection);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });

    QElapsedTimer wall;
    QTimer::singleShot(200, &window, [&] {
        wall.start();
        form->generateButton()->click();
    });
    QTimer poll;
    poll.setInterval(50);
    QObject::connect(&poll, &QTimer::timeout, &app, [&] {
        if (wall.isValid() && window.activeGenerations() == 0) QApplication::quit();
    });
    poll.start();
    app.exec();
    probing = false;
    prober.join();
    QCoreApplication::processEvents();  // the probes still in flight

    std::vector<double> samples;
    {
        std::lock_guard<std::mutex> lock(mutex);
        samples = latenciesMs;
    }
    const double p99 = percentile(samples, 0.99);
    const nlohmann::json report = {
        {"benchmark", "gui_event_loop_latency"},
        {"platform", QApplication::platformName().toStdString()},
        {"samples", samples.size()},
        {"p50_ms", percentile(samples, 0.50)},
        {"p99_ms", p99},
        {"max_ms", samples.empty() ? 0.0 : *std::max_element(samples.begin(), samples.end())},
        {"target_p99_ms", 16.0},
        {"meets_target", p99 < 16.0},
        {"generation", {{"tasks", options.variations}, {"steps", options.steps}, {"step_ms", options.stepMs},
                        {"duration_seconds", options.duration}, {"clips_made", window.library()->count()},
                        {"wall_seconds", wall.elapsed() / 1000.0}}},
    };
    const std::string text = report.dump(2);
    std::cout << text << "\n";
    if (!options.jsonPath.isEmpty()) {
        QFile out(options.jsonPath);
        if (!out.open(QIODevice::WriteOnly)) {
            std::cerr << "cannot write " << options.jsonPath.toStdString() << "\n";
            return 1;
        }
        out.write(QByteArray::fromStdString(text + "\n"));
    }
    return window.library()->count() == options.variations ? 0 : 1;
}
