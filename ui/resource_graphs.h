#pragma once
// Live resource graphs (Qt Charts): RAM and VRAM used and their running peak over the last
// minutes, read from the MemoryMonitor's ring buffer through the adapter several times a second.
// The memory axis follows what is in use (not the machine's size), so a 0.5 GiB process fills
// the chart; the warning and error thresholds are drawn only while they fall inside that range
// and are otherwise named in the summary line. VRAM is drawn (and in the legend) only when there
// is a GPU. Below: the timing of recent tasks (queue wait, model load, run, decode) with their
// speed in steps per second; before the first task a sentence says what will appear there.
#include "core_adapter.h"

#include <QTimer>
#include <QWidget>

class QBarCategoryAxis;
class QBarSet;
class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QStackedWidget;
class QStackedBarSeries;
class QValueAxis;

namespace grym::ui {

class ResourceGraphs : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 400;          // at least twice a second
    static constexpr double kWindowSeconds = 300.0;  // the last five minutes
    static constexpr int kTasksShown = 8;

    explicit ResourceGraphs(CoreAdapter* adapter, QWidget* parent = nullptr);

    void refresh();
    void addTaskTiming(const TaskOutcome& outcome);
    int refreshCount() const { return refreshCount_; }
    QLineSeries* ramUsedSeries() const { return ramUsed_; }
    QLineSeries* vramUsedSeries() const { return vramUsed_; }
    QLineSeries* warningSeries() const { return warning_; }
    QLineSeries* errorSeries() const { return error_; }
    QValueAxis* memoryAxis() const { return memoryAxis_; }
    QChartView* taskChartView() const { return taskView_; }
    QLabel* taskPlaceholder() const { return taskPlaceholder_; }
    // The top of the memory axis for data peaking at `topGiB`: a step of the 1-2-5 series
    // with about a fifth of headroom, never below 0.25 GiB.
    static double memoryAxisTop(double topGiB);
    QBarSet* runSet() const { return runSet_; }
    QLabel* summaryLabel() const { return summary_; }
    QTimer* timer() { return &timer_; }

private:
    CoreAdapter* adapter_;
    QTimer timer_;
    QChart* memoryChart_;
    QLineSeries* ramUsed_;
    QLineSeries* ramPeak_;
    QLineSeries* vramUsed_;
    QLineSeries* vramPeak_;
    QLineSeries* warning_;
    QLineSeries* error_;
    QValueAxis* timeAxis_;
    QValueAxis* memoryAxis_;
    QChart* taskChart_;
    QStackedBarSeries* taskSeries_;
    QBarSet* queueSet_;
    QBarSet* loadSet_;
    QBarSet* runSet_;
    QBarSet* decodeSet_;
    QBarCategoryAxis* taskAxis_;
    QValueAxis* secondsAxis_;
    QLabel* summary_;
    QStackedWidget* taskStack_;
    QLabel* taskPlaceholder_;
    QChartView* taskView_;
    QStringList taskNames_;
    int refreshCount_ = 0;
};

}  // namespace grym::ui
