// The engine's I/O with whoever drives it: the event stream (core/train/events.h)
// written and read back, validated, with non-finite numbers and broken UTF-8, from
// many threads at once; and run control (core/train/run_control.h) by direct calls,
// by commands on a pipe standing in for stdin, and by signals raised in-process.
// Not here: the trainer that emits the events and obeys the controls.
#include "test_support.h"
#include "train/events.h"
#include "train/run_control.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <thread>
#include <unistd.h>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_events {

using nlohmann::json;
using namespace ft::train;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> readLines(const std::string& path)
{
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Waits up to two seconds for `condition` (the reader thread polls every 100 ms).
template <typename F>
bool eventually(F condition)
{
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < deadline) {
        if (condition())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
}

void send(int fd, const std::string& text)
{
    QCOMPARE(::write(fd, text.data(), text.size()), ssize_t(text.size()));
}

// One payload per event type, with every required field (and some optional ones).
std::map<std::string, json> samplePayloads()
{
    const json memory = {{"rss_bytes", 1000}, {"peak_rss_bytes", 2000}};
    return {
        {"started",
         {{"config", {{"model", "/m"}}},
          {"parameters", {{"total", 1000}, {"trainable", 10}}},
          {"device", "cpu"},
          {"dtype", "fp32"},
          {"memory_estimate",
           {{"weights", 4000}, {"gradients", 40}, {"optimizer", 80}, {"activations", 500}, {"total", 4620}}},
          {"total_steps", 30}}},
        {"step",
         {{"step", 3},
          {"epoch", 0.25},
          {"loss", 2.5},
          {"lr", 1e-4},
          {"grad_norm", 0.75},
          {"tokens_per_second", 1234.5},
          {"elapsed_s", 1.5},
          {"eta_s", 12.0},
          {"memory", {{"rss_bytes", 1000}, {"peak_rss_bytes", 2000}, {"cuda_allocated", 5}}}}},
        {"eval", {{"step", 10}, {"loss", 2.0}, {"perplexity", 7.38905609893065}, {"metrics", {{"accuracy", 0.5}}}}},
        {"sample", {{"step", 10}, {"prompt", "2+2="}, {"text", "4"}}},
        {"checkpoint", {{"step", 10}, {"path", "/runs/one/checkpoint-10"}}},
        {"paused", {{"step", 11}}},
        {"resumed", {{"step", 11}}},
        {"finished",
         {{"status", "finished"},
          {"step", 30},
          {"output", "/runs/one/adapter"},
          {"metrics", {{"train_loss", 1.9}, {"eval_loss", 2.0}}},
          {"peak_rss_bytes", 3000},
          {"elapsed_s", 20.25}}},
        {"error", {{"message", "out of memory"}, {"hint", "lower training.batch_size"}}},
        {"log", {{"level", "info"}, {"message", "42 rows were truncated"}}},
    };
}

json validEvent(const std::string& type)
{
    return makeEvent(type, samplePayloads().at(type));
}

} // namespace

class TestEvents : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyEventTypeIsWrittenAndReadBack();
    void nonFiniteNumbersBecomeNull();
    void invalidUtf8IsReplaced();
    void validatorCatchesMistakes();
    void concurrentWritersProduceWholeLines();
    void discardAndAppend();
    void listenerSeesEveryEvent();
    void controlByDirectCalls();
    void stopWakesPausedWaiter();
    void controlByCommandPipe();
    void endOfCommandsDoesNotStop();
    void controlBySignals();
    void onlyOneControlHoldsSignals();
    void destructorDoesNotHangOnOpenPipe();
};

void TestEvents::everyEventTypeIsWrittenAndReadBack()
{
    QCOMPARE(eventTypes(), (std::vector<std::string>{"started", "step", "eval", "sample", "checkpoint", "paused",
                                                    "resumed", "finished", "error", "log"}));
    QTemporaryDir tmp;
    const std::string path = tmp.filePath("events.jsonl").toStdString();
    const auto payloads = samplePayloads();
    {
        EventWriter writer(path);
        for (const std::string& type : eventTypes())
            writer.write(type, payloads.at(type));
        writer.log("warning", "low memory");
        writer.error("disk full");
        QVERIFY(!writer.failed());
    }
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), eventTypes().size() + 2);
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-60);
    for (size_t i = 0; i < lines.size(); ++i) {
        const json e = json::parse(lines[i]);
        QVERIFY2(validateEvent(e).empty(), (validateEvent(e) + " in " + lines[i]).c_str());
        // "event" and "time" open each line, for people reading the stream.
        QVERIFY(lines[i].rfind("{\"event\":", 0) == 0);
        QVERIFY(lines[i].find("\"time\":") == lines[i].find(',') + 1);
        const QDateTime time = QDateTime::fromString(QString::fromStdString(e["time"]), Qt::ISODateWithMs);
        QVERIFY(time.isValid() && time > before && time <= QDateTime::currentDateTimeUtc().addSecs(1));
        if (i < eventTypes().size()) {
            const std::string& type = eventTypes()[i];
            QCOMPARE(e["event"], json(type));
            json payload = e;
            payload.erase("event");
            payload.erase("time");
            QCOMPARE(payload, payloads.at(type));
        }
    }
    QCOMPARE(json::parse(lines[lines.size() - 2])["level"], json("warning"));
    QCOMPARE(json::parse(lines.back())["message"], json("disk full"));
    QVERIFY(!json::parse(lines.back()).contains("hint"));
}

void TestEvents::nonFiniteNumbersBecomeNull()
{
    json payload = samplePayloads().at("step");
    payload["loss"] = std::numeric_limits<double>::quiet_NaN();
    payload["grad_norm"] = std::numeric_limits<double>::infinity();
    const std::string line = eventLine(makeEvent("step", payload));
    const json back = json::parse(line);  // throws if the line is not valid JSON
    QVERIFY(back["loss"].is_null());
    QVERIFY(back["grad_norm"].is_null());
    QCOMPARE(back["lr"], json(1e-4));
    QCOMPARE(validateEvent(back), std::string());
    QVERIFY(line.find("NaN") == std::string::npos && line.find("nan") == std::string::npos &&
            line.find("inf") == std::string::npos);
}

void TestEvents::invalidUtf8IsReplaced()
{
    json payload = samplePayloads().at("sample");
    payload["text"] = std::string("caf\xc3", 4);  // a generation cut inside a two-byte character
    const json back = json::parse(eventLine(makeEvent("sample", payload)));
    QCOMPARE(back["text"], json("caf\xef\xbf\xbd"));  // U+FFFD
}

void TestEvents::validatorCatchesMistakes()
{
    for (const std::string& type : eventTypes())
        QCOMPARE(validateEvent(validEvent(type)), std::string());

    json e = validEvent("step");
    e.erase("loss");
    QCOMPARE(validateEvent(e), std::string("step: missing field 'loss'"));
    e = validEvent("step");
    e["step"] = 1.5;
    QCOMPARE(validateEvent(e), std::string("step.step: must be an integer, got 1.5"));
    e = validEvent("step");
    e["memory"].erase("rss_bytes");
    QCOMPARE(validateEvent(e), std::string("step.memory: missing field 'rss_bytes'"));
    e = validEvent("step");
    e["memory"]["cuda_peak"] = "big";
    QCOMPARE(validateEvent(e), std::string("step.memory.cuda_peak: must be an integer, got \"big\""));
    e = validEvent("step");
    e["loss"] = "2.5";
    QCOMPARE(validateEvent(e), std::string("step.loss: must be a number (or null), got \"2.5\""));
    e = validEvent("started");
    e["parameters"].erase("trainable");
    QCOMPARE(validateEvent(e), std::string("started.parameters: missing field 'trainable'"));
    e = validEvent("eval");
    e["metrics"]["note"] = "good";
    QCOMPARE(validateEvent(e),
             std::string("eval.metrics: must be an object of numbers, got {\"accuracy\":0.5,\"note\":\"good\"}"));
    e = validEvent("log");
    e["level"] = "loud";
    QCOMPARE(validateEvent(e), std::string("log.level: must be one of debug, info, warning, error; got \"loud\""));
    e = validEvent("finished");
    e["status"] = "done";
    QCOMPARE(validateEvent(e), std::string("finished.status: must be one of finished, stopped; got \"done\""));
    e = validEvent("step");
    e["metrics"] = {{"accuracy", true}};
    QCOMPARE(validateEvent(e), std::string("step.metrics: must be an object of numbers, got {\"accuracy\":true}"));
    e = validEvent("error");
    e.erase("time");
    QCOMPARE(validateEvent(e), std::string("error: missing field 'time'"));
    e = validEvent("error");
    e["time"] = "yesterday";
    QVERIFY(validateEvent(e).rfind("error.time: must be an ISO 8601 UTC time", 0) == 0);
    e = validEvent("step");
    e["event"] = "stpe";
    QCOMPARE(validateEvent(e), std::string("unknown event 'stpe'"));
    QCOMPARE(validateEvent(json::array()), std::string("an event must be a JSON object, got []"));
    QCOMPARE(validateEvent(json{{"loss", 1}}), std::string("missing field 'event' (the event type, a string)"));
    // Fields the table does not know are allowed: readers ignore additions.
    e = validEvent("checkpoint");
    e["bytes"] = 123;
    QCOMPARE(validateEvent(e), std::string());
}

void TestEvents::concurrentWritersProduceWholeLines()
{
    QTemporaryDir tmp;
    const std::string path = tmp.filePath("events.jsonl").toStdString();
    constexpr int kThreads = 8, kEach = 300;
    const std::string longText(6000, 'x');  // longer than PIPE_BUF, so one write() is not enough by itself
    {
        EventWriter writer(path);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i)
                    writer.write("sample",
                                 {{"step", t * 100000 + i}, {"prompt", std::to_string(t)}, {"text", longText}});
            });
        for (std::thread& th : threads)
            th.join();
    }
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(int(lines.size()), kThreads * kEach);
    std::map<int, std::vector<int>> seen;
    for (const std::string& line : lines) {
        const json e = json::parse(line);
        QCOMPARE(validateEvent(e), std::string());
        QCOMPARE(e["text"].get<std::string>().size(), longText.size());
        const int step = e["step"];
        seen[step / 100000].push_back(step % 100000);
    }
    QCOMPARE(int(seen.size()), kThreads);
    for (const auto& [thread, steps] : seen) {
        QCOMPARE(int(steps.size()), kEach);
        for (int i = 0; i < kEach; ++i)
            QCOMPARE(steps[i], i);  // each thread's events in its own order
    }
}

void TestEvents::discardAndAppend()
{
    EventWriter none("");
    none.write("paused", {{"step", 1}});  // goes nowhere, and does not fail
    QVERIFY(!none.failed());

    QTemporaryDir tmp;
    const std::string path = tmp.filePath("events.jsonl").toStdString();
    { EventWriter(path).write("paused", {{"step", 1}}); }
    { EventWriter(path, /*append=*/true).write("resumed", {{"step", 1}}); }
    QCOMPARE(readLines(path).size(), size_t(2));
    { EventWriter(path).write("paused", {{"step", 2}}); }
    QCOMPARE(readLines(path).size(), size_t(1));

    QVERIFY(fttest::errorOf([] { EventWriter("/nonexistent-folder/events.jsonl"); })
                .startsWith("cannot open events file '/nonexistent-folder/events.jsonl' for writing"));

    // A reader that went away: the write fails, the process lives on, later events are dropped.
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    EventWriter broken("/dev/fd/" + std::to_string(fds[1]));  // opened while the pipe has a reader
    ::close(fds[0]);
    broken.write("paused", {{"step", 3}});
    QVERIFY(broken.failed());
    broken.write("paused", {{"step", 4}});
    ::close(fds[1]);
}

void TestEvents::listenerSeesEveryEvent()
{
    QTemporaryDir tmp;
    const std::string path = tmp.filePath("events.jsonl").toStdString();
    for (const std::string& target : {std::string(), path}) {
        EventWriter writer(target);
        std::vector<json> seen;
        writer.setListener([&](const json& e) {
            seen.push_back(e);
            if (e["event"] == "step")  // a listener may write events itself
                writer.log("info", "saw step " + std::to_string(e["step"].get<int>()));
        });
        json step = samplePayloads().at("step");
        step["loss"] = std::numeric_limits<double>::quiet_NaN();
        writer.write("step", step);
        writer.write("paused", {{"step", 3}});
        QCOMPARE(seen.size(), size_t(3));
        QCOMPARE(seen[0]["event"], json("step"));
        QVERIFY(std::isnan(seen[0]["loss"].get<double>()));  // the listener gets the value itself
        QCOMPARE(seen[1]["message"], json("saw step 3"));
        QCOMPARE(seen[2]["event"], json("paused"));
        for (const json& e : seen)
            QCOMPARE(validateEvent(e), std::string());
    }
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), size_t(3));
    QCOMPARE(json::parse(lines[1])["event"], json("log"));  // the listener's event right after the step
}

void TestEvents::controlByDirectCalls()
{
    RunControl control;
    control.start(-1, /*handleSignals=*/false);
    QVERIFY(!control.paused() && !control.stopRequested() && !control.saveRequested());
    QVERIFY(control.waitWhilePaused());  // not paused: returns at once

    control.requestSave();
    QVERIFY(control.saveRequested());
    QVERIFY(!control.saveRequested());  // consumed

    control.requestPause();
    QVERIFY(control.paused());
    auto waiter = std::async(std::launch::async, [&] { return control.waitWhilePaused(); });
    QCOMPARE(waiter.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);  // blocks while paused
    const auto resumedAt = Clock::now();
    control.requestResume();
    QCOMPARE(waiter.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    QVERIFY(waiter.get());
    QVERIFY(Clock::now() - resumedAt < std::chrono::milliseconds(500));
    QVERIFY(!control.paused());

    control.requestStop();
    QVERIFY(control.stopRequested());
    QVERIFY(!control.waitWhilePaused());
}

void TestEvents::stopWakesPausedWaiter()
{
    RunControl control;
    control.start(-1, false);
    control.requestPause();
    auto waiter = std::async(std::launch::async, [&] { return control.waitWhilePaused(); });
    QCOMPARE(waiter.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
    control.requestStop();
    QCOMPARE(waiter.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    QVERIFY(!waiter.get());  // stop while paused: the loop ends (after saving)
}

void TestEvents::controlByCommandPipe()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    std::vector<std::string> notices;
    std::mutex noticesMutex;
    {
        RunControl control;
        control.setNoticeCallback([&](const std::string& m) {
            std::lock_guard lock(noticesMutex);
            notices.push_back(m);
        });
        control.start(fds[0], /*handleSignals=*/false);
        send(fds[1], "pause\n");
        QVERIFY(eventually([&] { return control.paused(); }));
        send(fds[1], "  RESUME \r\n");  // case and surrounding blanks do not matter
        QVERIFY(eventually([&] { return !control.paused(); }));
        send(fds[1], "sa");  // a command split across writes
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        QVERIFY(!control.saveRequested());
        send(fds[1], "ve\n\nfly\n");
        QVERIFY(eventually([&] { return control.saveRequested(); }));
        QVERIFY(eventually([&] {
            std::lock_guard lock(noticesMutex);
            return !notices.empty();
        }));
        QVERIFY(!control.stopRequested());
        send(fds[1], "stop\n");
        QVERIFY(eventually([&] { return control.stopRequested(); }));
    }
    QCOMPARE(notices, std::vector<std::string>{
                          "unknown command 'fly'; expected pause, resume, stop or save (one per line)"});
    ::close(fds[0]);
    ::close(fds[1]);
}

void TestEvents::endOfCommandsDoesNotStop()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    RunControl control;
    control.start(fds[0], false);
    send(fds[1], "pause");  // the last command needs no newline before the end
    ::close(fds[1]);
    QVERIFY(eventually([&] { return control.paused(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    QVERIFY(!control.stopRequested());  // a GUI closing the pipe does not end the run
    control.requestResume();
    QVERIFY(control.waitWhilePaused());
    ::close(fds[0]);
}

void TestEvents::controlBySignals()
{
    struct sigaction before {};
    sigaction(SIGUSR1, nullptr, &before);
    std::vector<std::string> notices;
    {
        RunControl control;
        control.setNoticeCallback([&](const std::string& m) { notices.push_back(m); });
        control.start(-1, /*handleSignals=*/true);
        std::raise(SIGUSR1);
        QVERIFY(control.paused());
        std::raise(SIGUSR2);
        QVERIFY(!control.paused());

        // A paused waiter wakes on SIGUSR2 although a signal cannot notify it directly.
        std::raise(SIGUSR1);
        auto waiter = std::async(std::launch::async, [&] { return control.waitWhilePaused(); });
        QCOMPARE(waiter.wait_for(std::chrono::milliseconds(250)), std::future_status::timeout);
        std::raise(SIGUSR2);
        QCOMPARE(waiter.wait_for(std::chrono::seconds(2)), std::future_status::ready);
        QVERIFY(waiter.get());

        QVERIFY(!control.stopRequested());
        std::raise(SIGTERM);  // would end the test process without the handler
        QVERIFY(control.stopRequested());
        QVERIFY(!control.waitWhilePaused());
        std::raise(SIGINT);
        QVERIFY(control.stopRequested());
    }
    QCOMPARE(notices, (std::vector<std::string>{"received SIGTERM: stopping after saving a checkpoint",
                                                "received SIGINT: stopping after saving a checkpoint"}));
    // The previous handlers are back.
    struct sigaction after {};
    sigaction(SIGUSR1, nullptr, &after);
    QVERIFY(after.sa_handler == before.sa_handler);
}

void TestEvents::onlyOneControlHoldsSignals()
{
    RunControl first;
    first.start(-1, true);
    RunControl second;
    QVERIFY(fttest::errorOf([&] { second.start(-1, true); }).contains("another RunControl already handles SIGTERM"));
    second.start(-1, false);  // without signals it is fine
    QVERIFY(fttest::errorOf([&] { first.start(-1, false); }).contains("called twice"));
}

void TestEvents::destructorDoesNotHangOnOpenPipe()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    const auto begin = Clock::now();
    {
        RunControl control;
        control.start(fds[0], false);  // nothing is ever written, the pipe stays open
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    QVERIFY(Clock::now() - begin < std::chrono::milliseconds(600));
    ::close(fds[0]);
    ::close(fds[1]);
}

FT_TEST_MAIN(TestEvents)

} // namespace test_events

#include "test_events.moc"
