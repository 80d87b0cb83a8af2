#include "resource_graphs.h"

#include "results_display.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPen>
#include <QStackedBarSeries>
#include <QStackedWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace grym::ui {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

QLineSeries* makeLine(QChart* chart, const QString& name, const QColor& colour, Qt::PenStyle style, qreal width) {
    auto* series = new QLineSeries(chart);
    series->setName(name);
    QPen pen(colour, width, style);
    pen.setCosmetic(true);
    series->setPen(pen);
    chart->addSeries(series);
    return series;
}

QChart* makeChart(const QString& title) {
    auto* chart = new QChart;
    chart->setTheme(QChart::ChartThemeDark);
    chart->setBackgroundBrush(QColor(0x1f, 0x23, 0x2a));
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitle(title);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont legendFont = chart->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.8);
    chart->legend()->setFont(legendFont);
    chart->legend()->setMarkerShape(QLegend::MarkerShapeRectangle);
    chart->setAnimationOptions(QChart::NoAnimation);
    QFont font = chart->titleFont();
    font.setBold(true);
    chart->setTitleFont(font);
    return chart;
}

double seriesMax(const QLineSeries* series) {
    double top = 0.0;
    for (const QPointF& p : series->points()) top = std::max(top, p.y());
    return top;
}

}  // namespace

ResourceGraphs::ResourceGraphs(CoreAdapter* adapter, QWidget* parent) : QWidget(parent), adapter_(adapter) {
    setObjectName(QStringLiteral("resourceGraphs"));
    memoryChart_ = makeChart(tr("Memory (GiB)"));
    ramUsed_ = makeLine(memoryChart_, tr("RAM"), QColor(0x4e, 0xa1, 0xff), Qt::SolidLine, 2);
    ramPeak_ = makeLine(memoryChart_, tr("RAM peak"), QColor(0x4e, 0xa1, 0xff), Qt::DotLine, 1);
    vramUsed_ = makeLine(memoryChart_, tr("VRAM"), QColor(0x3e, 0xcf, 0x8e), Qt::SolidLine, 2);
    vramPeak_ = makeLine(memoryChart_, tr("VRAM peak"), QColor(0x3e, 0xcf, 0x8e), Qt::DotLine, 1);
    warning_ = makeLine(memoryChart_, tr("warn"), QColor(0xf0, 0xb4, 0x29), Qt::DashLine, 1);
    error_ = makeLine(memoryChart_, tr("error"), QColor(0xff, 0x6b, 0x6b), Qt::DashLine, 1);
    // The peaks are dotted twins of their lines: the legend names the lines only.
    for (QLineSeries* peak : {ramPeak_, vramPeak_})
        for (QLegendMarker* marker : memoryChart_->legend()->markers(peak)) marker->setVisible(false);
    timeAxis_ = new QValueAxis(memoryChart_);
    timeAxis_->setRange(-kWindowSeconds, 0);
    timeAxis_->setLabelFormat(QStringLiteral("%.0f s"));
    timeAxis_->setTickCount(6);
    memoryAxis_ = new QValueAxis(memoryChart_);
    memoryAxis_->setRange(0, 1);
    memoryAxis_->setLabelFormat(QStringLiteral("%.1f"));
    memoryChart_->addAxis(timeAxis_, Qt::AlignBottom);
    memoryChart_->addAxis(memoryAxis_, Qt::AlignLeft);
    for (QAbstractSeries* series : memoryChart_->series()) {
        series->attachAxis(timeAxis_);
        series->attachAxis(memoryAxis_);
    }

    taskChart_ = makeChart(tr("Task timing (s)"));
    queueSet_ = new QBarSet(tr("queue"), taskChart_);
    loadSet_ = new QBarSet(tr("load"), taskChart_);
    runSet_ = new QBarSet(tr("run"), taskChart_);
    decodeSet_ = new QBarSet(tr("decode"), taskChart_);
    taskSeries_ = new QStackedBarSeries(taskChart_);
    taskSeries_->append({queueSet_, loadSet_, runSet_, decodeSet_});
    taskChart_->addSeries(taskSeries_);
    // After addSeries: the chart theme repaints bar sets as they join.
    queueSet_->setColor(QColor(0x8a, 0x8f, 0x98));
    loadSet_->setColor(QColor(0xf0, 0xb4, 0x29));
    runSet_->setColor(QColor(0x4e, 0xa1, 0xff));
    decodeSet_->setColor(QColor(0xb4, 0x8c, 0xff));
    for (QBarSet* set : {queueSet_, loadSet_, runSet_, decodeSet_}) set->setBorderColor(set->color());
    taskAxis_ = new QBarCategoryAxis(taskChart_);
    secondsAxis_ = new QValueAxis(taskChart_);
    secondsAxis_->setRange(0, 1);
    secondsAxis_->setLabelFormat(QStringLiteral("%.1f"));
    secondsAxis_->applyNiceNumbers();
    taskChart_->addAxis(taskAxis_, Qt::AlignBottom);
    taskChart_->addAxis(secondsAxis_, Qt::AlignLeft);
    taskSeries_->attachAxis(taskAxis_);
    taskSeries_->attachAxis(secondsAxis_);

    auto* memoryView = new QChartView(memoryChart_, this);
    memoryView->setObjectName(QStringLiteral("memoryChart"));
    memoryView->setRenderHint(QPainter::Antialiasing);
    memoryView->setMinimumHeight(170);
    taskView_ = new QChartView(taskChart_, this);
    taskView_->setObjectName(QStringLiteral("taskChart"));
    taskView_->setRenderHint(QPainter::Antialiasing);
    taskView_->setMinimumHeight(150);
    // An empty bar chart reads as broken: until the first task, say what will be drawn there.
    taskPlaceholder_ = new QLabel(
        tr("<b>Task timing</b><br><br>Each generation and analysis you run appears here as a bar: time waiting "
           "in the queue, loading the model, running and decoding, with the speed in steps per second.<br><br>"
           "Nothing has run yet."),
        this);
    taskPlaceholder_->setObjectName(QStringLiteral("taskPlaceholder"));
    taskPlaceholder_->setWordWrap(true);
    taskPlaceholder_->setAlignment(Qt::AlignCenter);
    taskPlaceholder_->setMargin(16);
    taskPlaceholder_->setStyleSheet(QStringLiteral("background: #1f232a; color: #8a8f98; border-radius: 4px;"));
    taskStack_ = new QStackedWidget(this);
    taskStack_->addWidget(taskPlaceholder_);
    taskStack_->addWidget(taskView_);
    taskStack_->setMinimumHeight(150);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("resourceSummary"));
    summary_->setWordWrap(true);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(summary_);
    layout->addWidget(memoryView, 3);
    layout->addWidget(taskStack_, 2);

    timer_.setInterval(kRefreshMs);
    connect(&timer_, &QTimer::timeout, this, &ResourceGraphs::refresh);
    timer_.start();
    refresh();
}

void ResourceGraphs::refresh() {
    ++refreshCount_;
    const QVector<ResourceSample> samples = adapter_->resourceHistory();
    QList<QPointF> ramUsed, ramPeak, vramUsed, vramPeak;
    double peakRam = 0.0, peakVram = 0.0;
    const double now = samples.isEmpty() ? 0.0 : samples.back().timeSeconds;
    for (const ResourceSample& s : samples) {
        const double t = s.timeSeconds - now;
        if (t < -kWindowSeconds) continue;
        peakRam = std::max(peakRam, s.ramUsed / kGiB);
        ramUsed << QPointF(t, s.ramUsed / kGiB);
        ramPeak << QPointF(t, peakRam);
        if (s.vramTotal > 0) {
            peakVram = std::max(peakVram, s.vramUsed / kGiB);
            vramUsed << QPointF(t, s.vramUsed / kGiB);
            vramPeak << QPointF(t, peakVram);
        }
    }
    ramUsed_->replace(ramUsed);
    ramPeak_->replace(ramPeak);
    vramUsed_->replace(vramUsed);
    vramPeak_->replace(vramPeak);
    const bool haveGpu = !vramUsed.isEmpty();
    for (QLineSeries* vram : {vramUsed_, vramPeak_}) vram->setVisible(haveGpu);
    for (QLegendMarker* marker : memoryChart_->legend()->markers(vramUsed_)) marker->setVisible(haveGpu);

    // The axis follows the memory in use; thresholds far above it would flatten the lines.
    const double top = memoryAxisTop(std::max({seriesMax(ramPeak_), seriesMax(vramPeak_)}));
    memoryAxis_->setRange(0, top);
    // Ticks on round numbers: 1, 2.5 and 5 (x10^n) divide into fifths, 2 into quarters.
    const double mantissa = top / std::pow(10.0, std::floor(std::log10(top)));
    memoryAxis_->setTickCount(std::abs(mantissa - 2.0) < 1e-9 ? 5 : 6);
    memoryAxis_->setLabelFormat(top < 1.0 ? QStringLiteral("%.2f") : QStringLiteral("%.1f"));
    const ResourceThresholds thresholds = adapter_->resourceThresholds();
    QStringList offScale;
    auto drawThreshold = [&](QLineSeries* line, quint64 bytes, const QString& name) {
        const bool inRange = bytes > 0 && bytes / kGiB <= top;
        if (inRange) line->replace({QPointF(-kWindowSeconds, bytes / kGiB), QPointF(0, bytes / kGiB)});
        else line->clear();
        line->setVisible(inRange);
        for (QLegendMarker* marker : memoryChart_->legend()->markers(line)) marker->setVisible(inRange);
        if (bytes > 0 && !inRange) offScale << tr("%1 at %2").arg(name, formatBytes(static_cast<double>(bytes)));
    };
    drawThreshold(warning_, thresholds.warningBytes, tr("warning"));
    drawThreshold(error_, thresholds.errorBytes, tr("error"));

    if (samples.isEmpty()) {
        summary_->setText(tr("No memory samples yet: the memory monitor is not running."));
    } else {
        const ResourceSample& last = samples.back();
        QString text = tr("RAM %1 of %2 (peak %3) · process %4")
                           .arg(formatBytes(last.ramUsed), formatBytes(last.ramTotal), formatBytes(peakRam * kGiB), formatBytes(last.processRss));
        text += last.vramTotal > 0 ? tr(" · VRAM %1 of %2").arg(formatBytes(last.vramUsed), formatBytes(last.vramTotal)) : tr(" · no GPU");
        if (!offScale.isEmpty()) text += tr(" · alerts: %1").arg(offScale.join(QStringLiteral(", ")));
        summary_->setText(text);
    }
}

double ResourceGraphs::memoryAxisTop(double topGiB) {
    const double wanted = std::max(topGiB * 1.2, 0.25);
    double step = std::pow(10.0, std::floor(std::log10(wanted)));
    for (double factor : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (step * factor >= wanted) return step * factor;
    return step * 10.0;
}

void ResourceGraphs::addTaskTiming(const TaskOutcome& outcome) {
    if (outcome.state != TaskOutcome::State::Succeeded) return;
    taskStack_->setCurrentWidget(taskView_);
    const nlohmann::json& m = outcome.metrics;
    auto seconds = [&m](const char* key) { return m.contains(key) && m[key].is_number() ? m[key].get<double>() : 0.0; };
    const double decode = seconds("decode_seconds");
    const double run = std::max(0.0, seconds("run_seconds") - decode);
    if (taskNames_.size() == kTasksShown) {
        taskNames_.removeFirst();
        for (QBarSet* set : {queueSet_, loadSet_, runSet_, decodeSet_}) set->remove(0);
    }
    taskNames_ << QStringLiteral("#%1 %2").arg(outcome.taskId).arg(outcome.type == TaskType::Generation ? tr("gen") : tr("ana"));
    queueSet_->append(seconds("queue_wait_seconds"));
    loadSet_->append(seconds("model_load_seconds"));
    runSet_->append(run);
    decodeSet_->append(decode);
    taskAxis_->setCategories(taskNames_);
    double top = 0.1;
    for (int i = 0; i < taskNames_.size(); ++i)
        top = std::max(top, queueSet_->at(i) + loadSet_->at(i) + runSet_->at(i) + decodeSet_->at(i));
    secondsAxis_->setRange(0, top * 1.15);
    secondsAxis_->applyNiceNumbers();
    if (m.contains("steps_per_second") && m["steps_per_second"].is_number())
        taskChart_->setTitle(tr("Task timing (s) — last: %1 steps/s").arg(m["steps_per_second"].get<double>(), 0, 'f', 1));
}

}  // namespace grym::ui
