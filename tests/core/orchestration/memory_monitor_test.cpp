#include "support/fake_services.h"
#include "orchestration/memory_monitor.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

using namespace grym;
using namespace grym::test;
using namespace std::chrono_literals;

namespace {

// A scripted memory source and clock: the test sets the next RSS and advances time.
struct Script {
    std::atomic<uint64_t> rss{0};
    std::atomic<int64_t> millis{0};

    MemoryMonitorConfig config() {
        MemoryMonitorConfig c;
        c.source = [this] {
            MemorySnapshot s;
            s.processRssBytes = rss;
            s.systemTotalBytes = 1000;
            s.systemUsedBytes = rss / 2;
            return s;
        };
        c.clock = [this] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(millis.load())); };
        c.sampleInterval = 1ms;
        return c;
    }
    void sample(MemoryMonitor& m, uint64_t value, int64_t advanceMillis = 100) {
        millis += advanceMillis;
        rss = value;
        m.snapshot();
    }
};

}  // namespace

TEST_CASE("the real readers report plausible system and process memory", "[monitor]") {
    const MemorySnapshot s = readMemorySnapshot(nullptr);
    CHECK(s.systemTotalBytes > 0);
    CHECK(s.systemAvailableBytes <= s.systemTotalBytes);
    CHECK(s.processRssBytes > 0);
    CHECK(s.processPeakRssBytes >= s.processRssBytes);
    GpuMemoryReader gpu;  // no GPU needed: it just reports unavailable
    if (gpu.available()) {
        const GpuMemory g = gpu.read();
        CHECK(g.totalBytes >= g.usedBytes);
    } else {
        CHECK_FALSE(gpu.read().available);
    }
}

TEST_CASE("tracking spans report duration, start, end and peak", "[monitor]") {
    Script script;
    MemoryMonitor monitor(script.config());
    script.rss = 100;
    monitor.startTracking("load");
    script.sample(monitor, 500);
    script.rss = 50;
    monitor.startTracking("inner");
    script.sample(monitor, 300);
    const MemoryProfile inner = monitor.endTracking("inner");
    script.sample(monitor, 200);
    const MemoryProfile load = monitor.endTracking("load");

    CHECK(load.start.processRssBytes == 100);
    CHECK(load.end.processRssBytes == 200);
    CHECK(load.peakBytes == 500);
    CHECK(load.peak.processRssBytes == 500);
    CHECK(load.durationSeconds == Approx(0.3));
    CHECK(load.samples == 7);  // its start, 3 samples, inner's start and end, its end
    CHECK(inner.peakBytes == 300);
    CHECK(inner.start.processRssBytes == 50);
    CHECK(inner.samples == 3);
    CHECK_THROWS_WITH(monitor.endTracking("load"), Catch::Contains("'load' is not being tracked"));
    monitor.startTracking("x");
    CHECK_THROWS_AS(monitor.startTracking("x"), TaskError);
}

TEST_CASE("windowed averages use only the samples inside the window", "[monitor]") {
    Script script;
    MemoryMonitor monitor(script.config());
    CHECK(monitor.getAverageUsage(1000ms).samples == 0);
    script.sample(monitor, 1000);  // t=100
    script.sample(monitor, 2000);  // t=200
    script.sample(monitor, 3000);  // t=300
    script.sample(monitor, 4000);  // t=400
    const MemoryAverage last = monitor.getAverageUsage(150ms);  // t >= 250
    CHECK(last.samples == 2);
    CHECK(last.processRssBytes == Approx(3500));
    CHECK(last.systemUsedBytes == Approx(1750));
    const MemoryAverage all = monitor.getAverageUsage(10s);
    CHECK(all.samples == 4);
    CHECK(all.processRssBytes == Approx(2500));
}

TEST_CASE("the history is a ring buffer of the latest samples, oldest first", "[monitor]") {
    Script script;
    MemoryMonitorConfig config = script.config();
    config.historyCapacity = 3;
    MemoryMonitor monitor(config);
    for (uint64_t v = 1; v <= 5; ++v) script.sample(monitor, v);
    const auto h = monitor.history();
    REQUIRE(h.size() == 3);
    CHECK(h[0].processRssBytes == 3);
    CHECK(h[2].processRssBytes == 5);
    CHECK(h[2].monitorSeconds == Approx(0.5));
}

TEST_CASE("thresholds fire warning, error and recovery callbacks on level changes", "[monitor]") {
    Script script;
    MemoryMonitorConfig config = script.config();
    config.thresholds = {MemoryMetric::ProcessRss, 1000, 2000};
    MemoryMonitor monitor(config);
    std::vector<std::pair<MemoryAlertLevel, std::string>> alerts;
    monitor.setAlertCallback([&](MemoryAlertLevel level, const MemorySnapshot&, const std::string& message) {
        alerts.emplace_back(level, message);
    });
    script.sample(monitor, 500);
    script.sample(monitor, 1200);
    script.sample(monitor, 1300);  // still warning: no new alert
    script.sample(monitor, 2500);
    script.sample(monitor, 100);
    REQUIRE(alerts.size() == 3);
    CHECK(alerts[0].first == MemoryAlertLevel::Warning);
    CHECK_THAT(alerts[0].second, Catch::Contains("processRss") && Catch::Contains("warning threshold"));
    CHECK(alerts[1].first == MemoryAlertLevel::Error);
    CHECK(alerts[2].first == MemoryAlertLevel::Normal);
    CHECK_THAT(alerts[2].second, Catch::Contains("back below"));
    CHECK(monitor.alertLevel() == MemoryAlertLevel::Normal);

    monitor.setThresholds({MemoryMetric::SystemUsed, 40, 0});
    script.sample(monitor, 100);  // systemUsed = 50
    CHECK(alerts.back().first == MemoryAlertLevel::Warning);
}

TEST_CASE("the background sampler fills the history and stops cleanly", "[monitor]") {
    MemoryMonitorConfig config;
    config.sampleInterval = 2ms;
    config.torchProbe = [] {
        TorchCudaMemory m;
        m.available = true;
        m.allocatedBytes = 42;
        return m;
    };
    MemoryMonitor monitor(config);
    monitor.startSampling();
    monitor.startSampling();  // idempotent
    CHECK(monitor.sampling());
    REQUIRE(eventually([&] { return monitor.history().size() >= 5; }));
    monitor.stopSampling();
    CHECK_FALSE(monitor.sampling());
    const size_t n = monitor.history().size();
    std::this_thread::sleep_for(10ms);
    CHECK(monitor.history().size() == n);
    CHECK(monitor.history().back().torchCuda.allocatedBytes == 42);
    CHECK(monitor.history().back().processRssBytes > 0);
}

TEST_CASE("an alert callback may stop the sampler it runs on", "[monitor]") {
    Script script;
    MemoryMonitorConfig config = script.config();
    config.thresholds = {MemoryMetric::ProcessRss, 10, 0};
    auto monitor = std::make_unique<MemoryMonitor>(config);
    std::atomic<int> alerts{0};
    monitor->setAlertCallback([&](MemoryAlertLevel, const MemorySnapshot&, const std::string&) {
        ++alerts;
        monitor->stopSampling();
    });
    script.rss = 100;
    monitor->startSampling();
    REQUIRE(eventually([&] { return !monitor->sampling(); }));
    CHECK(alerts == 1);
    monitor.reset();  // joins the stopped sampler
}
