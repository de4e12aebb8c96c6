// The Train page end to end: the settings form generated from the engine's real schema
// (visibility by technique, config out, validation with JSON paths), the throttled
// charts, a short run started with the Start button through ftstudio-cli (points in the
// charts, the run and its metrics in the project), and a run killed mid-way (error
// banner, run failed in the store, the GUI still responsive) then resumed from its
// checkpoint and stopped. Needs ftstudio-cli (FTSTUDIO_CLI or beside the test).
#include "small_base.h"

#include "app/session.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "engine/engine_process.h"
#include "train/schema_form.h"
#include "train/schema_provider.h"
#include "train/train_charts.h"
#include "train/train_page.h"
#include "train/train_setup.h"

#include "test_main.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QThread>
#include <QtTest>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <vector>
#include <memory>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_train {

using namespace ft::ui;

class TestGuiTrain : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QJsonObject m_schema;
    QElapsedTimer m_clock;
    std::unique_ptr<Session> m_session;
    std::unique_ptr<TrainPage> m_page;

    QString cli() const {
        const QString env = qEnvironmentVariable("FTSTUDIO_CLI");
        return env.isEmpty() ? QCoreApplication::applicationDirPath() + "/ftstudio-cli" : env;
    }

    ft::data::ProjectStore& store() { return *m_session->store(); }

    // The page's form, set for a run of `steps` steps on the small model.
    void configure(int steps, int evalEvery, int checkpointEvery, int samplesEvery) {
        SchemaForm* form = m_page->setup()->form();
        QVERIFY(form);
        QVERIFY(form->setValue("training.max_steps", steps));
        QVERIFY(form->setValue("training.batch_size", 8));
        QVERIFY(form->setValue("training.max_seq_len", 64));
        QVERIFY(form->setValue("training.threads", 1));
        QVERIFY(form->setValue("training.optimizer.lr", 2e-3));
        QVERIFY(form->setValue("eval.every_steps", evalEvery));
        QVERIFY(form->setValue("eval.max_batches", 2));
        QVERIFY(form->setValue("checkpoint.every_steps", checkpointEvery));
        QVERIFY(form->setValue("samples.every_steps", samplesEvery));
        QVERIFY(form->setValue("samples.prompts", QJsonArray{"What is 2 + 2?"}));
        QVERIFY(form->setValue("samples.max_new_tokens", 8));
    }

    QString failure() const {
        return m_page->engine()->errorMessage() + "\n" + m_page->engine()->lastLogLines().join("\n");
    }

    ft::data::RunRecord lastRun() {
        const auto runs = store().runs();
        return runs.empty() ? ft::data::RunRecord{} : runs.back();
    }

private slots:
    void initTestCase() {
        m_clock.start();
        QVERIFY(m_dir.isValid());
        qputenv("FTSTUDIO_DATA_DIR", m_dir.filePath("data").toUtf8());
        QVERIFY2(QFileInfo(cli()).isExecutable(), qPrintable("no ftstudio-cli at " + cli() + " (set FTSTUDIO_CLI)"));
        qputenv("FTSTUDIO_CLI", cli().toUtf8());
        QProcess p;
        p.start(cli(), {"train", "--schema"});
        QVERIFY(p.waitForFinished(30000));
        m_schema = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QVERIFY(m_schema.value("settings").isArray());
        // The studio reads the schema in-process (schema_provider.h): the same one the engine prints.
        QVERIFY(ft::ui::runConfigSchema() == m_schema);
    }

    void schemaFormFollowsTheSchema() {
        SchemaForm form(m_schema, {"model", "output_dir", "resume", "data.train"});
        QSignalSpy changed(&form, &SchemaForm::changed);
        QVERIFY(form.validate().isEmpty());
        const QJsonObject defaults{{"technique", QJsonObject{{"name", "lora"}}}, {"objective", QJsonObject{{"name", "sft"}}}};
        QCOMPARE(form.config(), defaults);  // only the choices the other settings depend on
        QVERIFY(!form.isShown("model") && !form.isShown("data.train") && form.isShown("data.eval_fraction"));
        auto* rank = form.findChild<QSpinBox*>("technique.r");
        QVERIFY(rank && form.isShown("technique.r") && rank->isVisibleTo(&form));
        QCOMPARE(rank->minimum(), 1);
        QCOMPARE(rank->maximum(), 1024);
        QVERIFY(rank->toolTip().contains("Rank"));

        auto* technique = qobject_cast<QComboBox*>(form.editor("technique.name"));
        QVERIFY(technique);
        technique->setCurrentIndex(technique->findText("prefix"));
        QVERIFY(changed.count() > 0);
        for (const char* loraOnly : {"technique.r", "technique.lora_alpha", "technique.lora_dropout", "technique.use_dora"})
            QVERIFY2(!form.isShown(loraOnly), loraOnly);
        QVERIFY(!rank->isVisibleTo(&form));
        QVERIFY(form.isShown("technique.num_virtual_tokens") && form.isShown("technique.prefix_projection"));
        QVERIFY(form.isShown("technique.seed"));  // applies to every technique

        qobject_cast<QSpinBox*>(form.editor("technique.num_virtual_tokens"))->setValue(12);
        auto* objective = qobject_cast<QComboBox*>(form.editor("objective.name"));
        objective->setCurrentIndex(objective->findData("dpo"));
        QVERIFY(form.isShown("objective.beta") && !form.isShown("objective.packing"));
        QVERIFY(form.currentVariant("objective").value("data_kinds").toArray().contains("preference"));
        QVERIFY(form.setValue("objective.beta", 0.25));
        auto* lr = qobject_cast<QLineEdit*>(form.editor("training.optimizer.lr"));
        QVERIFY(lr);
        lr->setText("3e-4");
        qobject_cast<QCheckBox*>(form.editor("training.gradient_checkpointing"))->setChecked(true);

        const QJsonObject cfg = form.config();
        QCOMPARE(cfg["technique"]["name"].toString(), QString("prefix"));
        QCOMPARE(cfg["technique"]["num_virtual_tokens"].toInt(), 12);
        QVERIFY(!cfg["technique"].toObject().contains("r"));
        QCOMPARE(cfg["objective"]["name"].toString(), QString("dpo"));
        QCOMPARE(cfg["objective"]["beta"].toDouble(), 0.25);
        QCOMPARE(cfg["training"]["optimizer"]["lr"].toDouble(), 3e-4);
        QCOMPARE(cfg["training"]["gradient_checkpointing"].toBool(), true);
        QVERIFY2(!cfg["training"].toObject().contains("batch_size"), "defaults stay out of the config");
        QVERIFY(!cfg.contains("checkpoint"));

        // Round trip through setConfig.
        SchemaForm other(m_schema, {"model", "output_dir", "resume", "data.train"});
        other.setConfig(cfg);
        QCOMPARE(other.config(), cfg);
        QVERIFY(other.validate().isEmpty());

        // Out of range: a number typed in, an integer loaded from a config, an unknown key.
        lr->setText("20");
        QStringList problems = form.validate();
        QVERIFY2(problems.size() == 1 && problems[0].startsWith("training.optimizer.lr:") &&
                     problems[0].contains("between 0 and 10"),
                 qPrintable(problems.join(" | ")));
        lr->setText("abc");
        QVERIFY(form.validate().join(" ").contains("training.optimizer.lr: not a number"));
        form.setConfig(QJsonObject{{"technique", QJsonObject{{"name", "lora"}, {"r", 5000}}},
                                   {"training", QJsonObject{{"batchsize", 2}}}});
        problems = form.validate();
        QVERIFY2(problems.join("\n").contains("technique.r: must be an integer between 1 and 1024, got 5000"),
                 qPrintable(problems.join(" | ")));
        QVERIFY2(problems.join("\n").contains("training.batchsize: unknown setting"), qPrintable(problems.join(" | ")));
        rank->setValue(16);  // editing the setting clears what loading it reported
        QVERIFY(!form.validate().join("\n").contains("technique.r"));
        const QJsonObject edited = form.config();
        QCOMPARE(edited["technique"]["r"].toInt(), 16);
    }

    void chartsBufferAndThrottle() {
        TrainCharts charts;
        charts.setReplotInterval(100);
        for (int step = 1; step <= 200; ++step) {
            charts.addEvent({{"event", "step"}, {"step", step}, {"loss", 3.0 / step}, {"lr", 1e-4},
                             {"grad_norm", 1.0}, {"tokens_per_second", 1000.0},
                             {"memory", QJsonObject{{"rss_bytes", 1 << 28}, {"cuda_allocated", 1 << 20}}},
                             {"metrics", QJsonObject{{"kl", 0.01 * step}}}});
            if (step % 50 == 0)
                charts.addEvent({{"event", "eval"}, {"step", step}, {"loss", 2.0},
                                 {"metrics", QJsonObject{{"rewards/margins", 0.5}, {"tokens", 81}}}});
        }
        QCOMPARE(charts.pointCount("loss"), 0);  // buffered until the timer replots
        QTRY_COMPARE(charts.pointCount("loss"), 200);
        QCOMPARE(charts.pointCount("eval_loss"), 4);
        QCOMPARE(charts.pointCount("train/kl"), 200);
        QCOMPARE(charts.pointCount("eval/rewards/margins"), 4);
        QCOMPARE(charts.pointCount("eval/tokens"), -1);
        QCOMPARE(charts.pointCount("cuda_allocated"), 200);
        QVERIFY2(charts.replotCount() <= 2, qPrintable(QString::number(charts.replotCount())));
        charts.addEvent({{"event", "started"}, {"start_step", 120}});  // a resumed run
        QTRY_COMPARE(charts.pointCount("loss"), 120);
        charts.clear();
        QCOMPARE(charts.pointCount("loss"), 0);
        QCOMPARE(charts.pointCount("train/kl"), -1);
    }

    void suiteMetricsCarryTheirIntervals() {
        TrainCharts charts;
        charts.setReplotInterval(20);
        auto suiteEvent = [&](int step, double value, double low, double high) {
            const QJsonObject metric{{"name", "pass"}, {"value", value}, {"low", low}, {"high", high}, {"n", 40}};
            charts.addEvent({{"event", "suite"}, {"step", step}, {"suite", "arithmetic"},
                             {"metrics", QJsonArray{metric}}});
        };
        auto evalEvent = [&](int step, double value) {
            charts.addEvent({{"event", "eval"}, {"step", step}, {"loss", 1.0},
                             {"metrics", QJsonObject{{"arithmetic/pass", value}, {"rewards/margins", 0.5}}}});
        };
        evalEvent(0, 0.1);  // no suite event for this one: a point without a bar
        suiteEvent(50, 0.30, 0.18, 0.45);
        evalEvent(50, 0.30);
        suiteEvent(100, 0.70, 0.55, 0.82);
        evalEvent(100, 0.70);
        QTRY_COMPARE(charts.pointCount("eval/arithmetic/pass"), 3);
        const auto none = charts.interval("eval/arithmetic/pass", 0);
        QVERIFY(std::isnan(none.first) && std::isnan(none.second));
        const auto at50 = charts.interval("eval/arithmetic/pass", 1);
        QVERIFY2(std::abs(at50.first - 0.18) < 1e-12 && std::abs(at50.second - 0.45) < 1e-12,
                 qPrintable(QString("%1 %2").arg(at50.first).arg(at50.second)));
        const auto at100 = charts.interval("eval/arithmetic/pass", 2);
        QVERIFY(std::abs(at100.first - 0.55) < 1e-12 && std::abs(at100.second - 0.82) < 1e-12);
        QVERIFY(std::isnan(charts.interval("eval/rewards/margins", 1).first));  // not a suite metric
        charts.addEvent({{"event", "started"}, {"start_step", 60}});  // resumed: step 100 is gone
        QTRY_COMPARE(charts.pointCount("eval/arithmetic/pass"), 2);
        QVERIFY(std::isnan(charts.interval("eval/arithmetic/pass", 2).first));
        suiteEvent(100, 0.65, 0.50, 0.78);  // the resumed run's own figure
        evalEvent(100, 0.65);
        QTRY_COMPARE(charts.pointCount("eval/arithmetic/pass"), 3);
        QVERIFY(std::abs(charts.interval("eval/arithmetic/pass", 2).second - 0.78) < 1e-12);
        QVERIFY(std::abs(charts.interval("eval/arithmetic/pass", 1).first - 0.18) < 1e-12);
        if (!qEnvironmentVariableIsEmpty("FTSTUDIO_SCREENSHOT_DIR")) {
            charts.resize(900, 420);
            charts.show();
            QTest::qWait(100);
            charts.grab().save(qEnvironmentVariable("FTSTUDIO_SCREENSHOT_DIR") + "/suite-intervals.png");
        }
    }

    void shortRunEndToEnd() {
        const QString base = QString::fromStdString(fttest::smallBaseModel());
        qInfo("small base model ready after %.1f s", m_clock.elapsed() / 1000.0);
        m_session = std::make_unique<Session>();
        QString error;
        QVERIFY2(m_session->openProject(m_dir.filePath("project.db"), true, &error), qPrintable(error));
        const auto report = ft::data::importFile(store(), "instructions",
                                                 ft::datasetsDir() + "/sft/instructions.jsonl",
                                                 ft::data::ImportOptions{});
        QVERIFY(report.committed && report.accepted > 100);
        m_session->notifyDatasetsChanged();
        m_session->setModelDir(base);

        m_page = std::make_unique<TrainPage>(m_session.get());
        m_page->resize(1280, 800);
        m_page->show();
        QTRY_VERIFY_WITH_TIMEOUT(m_page->isSchemaLoaded(), 20000);
        auto* start = m_page->findChild<QPushButton*>("startButton");
        QVERIFY(start && start->isEnabled());
        auto* data = m_page->findChild<QComboBox*>("datasetCombo");
        QCOMPARE(data->currentData().toString(), m_session->projectPath() + "#instructions");
        QCOMPARE(m_page->findChild<QLineEdit*>("modelPath")->text(), base);
        // A batch and length far beyond this machine: the estimate warns before launch.
        SchemaForm* form = m_page->setup()->form();
        QVERIFY(form->setValue("training.batch_size", 4096) && form->setValue("training.max_seq_len", 131072));
        QTRY_VERIFY_WITH_TIMEOUT(m_page->findChild<QLabel*>("estimateLabel")->text().contains("Will not fit"), 15000);
        configure(30, 10, 10, 15);
        // The engine's own check of the config.
        auto* checkResult = m_page->findChild<QLabel*>("checkResult");
        QTest::mouseClick(m_page->findChild<QPushButton*>("checkButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(checkResult->text().contains("accepts"), 15000);
        // Then the data as training will read it: rows cut at max_seq_len 64, each finding
        // with its rows as a link to the Data page.
        QTRY_VERIFY_WITH_TIMEOUT(m_page->findChild<QPushButton*>("checkButton")->isEnabled(), 30000);
        const QString checked = checkResult->text();
        qInfo("data check: %s", qPrintable(checked));
        QVERIFY2(checked.contains("longer than max_seq_len 64 tokens"), qPrintable(checked));
        const int at = checked.indexOf("href=\"rows:instructions:");
        QVERIFY2(at > 0, qPrintable(checked));
        const QString link = checked.mid(at + 6, checked.indexOf('"', at + 6) - at - 6);
        QSignalSpy rows(m_page.get(), &TrainPage::rowsRequested);
        emit checkResult->linkActivated(link);
        QCOMPARE(rows.count(), 1);
        QCOMPARE(rows.at(0).at(0).toString(), QString("instructions"));
        const auto ids = rows.at(0).at(1).value<QList<qint64>>();
        QVERIFY(!ids.isEmpty());
        QCOMPARE(QString::number(ids.first()), link.section(':', 2).section(',', 0, 0));
        // The estimate follows edits after a short pause (the engine computes it in a child process).
        QTRY_VERIFY_WITH_TIMEOUT(m_page->findChild<QLabel*>("estimateLabel")->text().contains("Memory") &&
                                     !m_page->findChild<QLabel*>("estimateLabel")->text().contains("Will not fit"),
                                 15000);
        qInfo("estimate before the run: %s", qPrintable(m_page->findChild<QLabel*>("estimateLabel")->text()));
        // The processes setting says what it can run on here (CPU cores on this machine),
        // and the estimate counts every process's memory when it is raised.
        QWidget* processes = form->editor("distributed.processes");
        QVERIFY(processes);
        QTRY_VERIFY_WITH_TIMEOUT(processes->toolTip().contains("CPU core"), 15000);
        QCOMPARE(processes->isEnabled(), QThread::idealThreadCount() > 1);
        QVERIFY(form->setValue("distributed.processes", 2));
        QTRY_VERIFY_WITH_TIMEOUT(m_page->findChild<QLabel*>("estimateLabel")->text().contains("for the 2 processes"), 15000);
        QVERIFY(form->setValue("distributed.processes", 1));

        QSignalSpy state(m_page.get(), &TrainPage::runStateChanged);
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY(m_page->isRunning());
        QVERIFY(!start->isEnabled() && m_page->findChild<QPushButton*>("stopButton")->isEnabled());
        QCOMPARE(QString::fromStdString(lastRun().status), QString("running"));
        QTRY_VERIFY_WITH_TIMEOUT(m_page->charts()->pointCount("loss") > 0, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 60000);
        QVERIFY2(m_page->engine()->state() == EngineProcess::State::Finished, qPrintable(failure()));
        QVERIFY(state.count() >= 2);
        QTRY_COMPARE(m_page->charts()->pointCount("loss"), 30);
        QVERIFY(m_page->charts()->pointCount("eval_loss") >= 3);
        QVERIFY(m_page->charts()->pointCount("eval/perplexity") >= 3);
        QVERIFY(m_page->charts()->pointCount("rss") == 30);

        const ft::data::RunRecord run = lastRun();
        QCOMPARE(QString::fromStdString(run.status), QString("finished"));
        QVERIFY(QFileInfo::exists(QString::fromStdString(run.outputDir) + "/adapter/adapter_config.json"));
        QCOMPARE(int(store().metric(run.id, "loss").size()), 30);
        QCOMPARE(int(store().metric(run.id, "lr").size()), 30);
        QVERIFY(store().metric(run.id, "eval_loss").size() >= 3);
        const QJsonObject saved = QJsonDocument::fromJson(QByteArray::fromStdString(run.configJson)).object();
        QCOMPARE(saved["training"]["max_steps"].toInt(), 30);
        QCOMPARE(saved["data"]["train"].toString(), m_session->projectPath() + "#instructions");

        QVERIFY(m_page->findChild<QTreeWidget*>("samplesList")->topLevelItemCount() >= 2);
        QVERIFY(m_page->findChild<QPlainTextEdit*>("logPane")->toPlainText().contains("step"));
        QVERIFY(m_page->findChild<QLabel*>("statusLabel")->text().contains("Step 30 / 30"));
        QVERIFY(m_page->findChild<QLabel*>("estimateLabel")->text().contains("trainable"));
        QVERIFY(!m_page->findChild<QWidget*>("errorBanner")->isVisible());
        QVERIFY(start->isEnabled());
        auto* exportButton = m_page->findChild<QPushButton*>("exportRunButton");  // the finished run, for llama.cpp / Ollama
        QVERIFY(exportButton && !exportButton->isHidden());
        QSignalSpy deploy(m_page.get(), &TrainPage::deployRequested);
        exportButton->click();
        QCOMPARE(deploy.count(), 1);
        QCOMPARE(deploy.first().first().toJsonObject().value("output_dir").toString(), QString::fromStdString(run.outputDir));
        QTest::qWait(300);  // let the last replot land before the picture
        const QString png = qEnvironmentVariable("FTSTUDIO_TRAIN_PNG", QDir::temp().filePath("train_page.png"));
        QVERIFY(m_page->grab().save(png));
        // A past run's config back into the form.
        QVERIFY(form->setValue("training.max_steps", 7));
        m_page->loadConfig(saved);
        QCOMPARE(form->value("training.max_steps").toInt(), 30);
        QCOMPARE(data->currentData().toString(), m_session->projectPath() + "#instructions");
        QVERIFY(m_page->setup()->outputDir() != QString::fromStdString(run.outputDir));  // a fresh folder
        qInfo("short run done after %.1f s; page saved to %s", m_clock.elapsed() / 1000.0, qPrintable(png));
    }

    // A run on 2 processes from the page: the launcher's rank 0 streams the events, the
    // curves fill as usual, the started event names both ranks, and Pause is off (with
    // the reason) while it runs.
    void twoProcessRunFromThePage() {
        QVERIFY(m_page);
        configure(6, 0, 0, 0);
        SchemaForm* form = m_page->setup()->form();
        QVERIFY(form->setValue("distributed.processes", 2));
        QSignalSpy events(m_page->engine(), &EngineProcess::event);
        QTest::mouseClick(m_page->findChild<QPushButton*>("startButton"), Qt::LeftButton);
        auto* pause = m_page->findChild<QPushButton*>("pauseButton");
        QTRY_VERIFY_WITH_TIMEOUT(m_page->engine()->state() == EngineProcess::State::Running, 30000);
        QVERIFY(!pause->isEnabled());
        QVERIFY(pause->toolTip().contains("several processes"));
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 120000);
        QVERIFY2(m_page->engine()->state() == EngineProcess::State::Finished, qPrintable(failure()));
        QTRY_COMPARE(m_page->charts()->pointCount("loss"), 6);
        bool twoRanks = false;
        for (const QList<QVariant>& args : events) {
            const QJsonObject e = args.at(0).toJsonObject();
            if (e["event"].toString() == "started")
                twoRanks = e["distributed"].toObject()["world_size"].toInt() == 2;
        }
        QVERIFY(twoRanks);
        QVERIFY(form->setValue("distributed.processes", 1));
    }

    // The event loop while a run streams events as fast as the engine makes them (batch
    // 1, 48 tokens: a hundred or more step events a second, each a curve point, a log line, the
    // status and the store's metrics). A 2 ms timer's ticks measure how long the loop was
    // away; the figures go to the log for issue 25's table (a measurement, not a timed
    // assertion). What is asserted: every step reached the curve and the store.
    void eventLoopKeepsTurningWhileARunStreams() {
        QVERIFY(m_page);
        constexpr int kSteps = 600;
        configure(kSteps, 0, 0, 0);
        SchemaForm* form = m_page->setup()->form();
        QVERIFY(form->setValue("training.batch_size", 1));
        QVERIFY(form->setValue("training.max_seq_len", 48));
        QVERIFY(form->setValue("training.log_every", 1));
        QElapsedTimer clock;
        std::vector<double> gaps;  // ms between ticks, less the interval
        QTimer tick;
        tick.setTimerType(Qt::PreciseTimer);
        tick.setInterval(2);
        qint64 last = -1;
        connect(&tick, &QTimer::timeout, this, [&] {
            const qint64 now = clock.nsecsElapsed();
            if (last >= 0)
                gaps.push_back(std::max(0.0, (now - last) / 1e6 - 2.0));
            last = now;
        });
        QSignalSpy events(m_page->engine(), &EngineProcess::event);
        QTest::mouseClick(m_page->findChild<QPushButton*>("startButton"), Qt::LeftButton);
        const auto stepEvents = [&] {
            return std::count_if(events.begin(), events.end(), [](const QList<QVariant>& args) {
                return args.at(0).toJsonObject().value("event").toString() == QLatin1String("step");
            });
        };
        QTRY_VERIFY2_WITH_TIMEOUT(stepEvents() > 0 || !m_page->isRunning(), qPrintable(failure()), 60000);
        QVERIFY2(m_page->isRunning(), qPrintable(failure()));
        clock.start();
        tick.start();
        QElapsedTimer streaming;
        streaming.start();
        const int stepsBefore = int(stepEvents());
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 120000);
        const double seconds = streaming.elapsed() / 1000.0;
        tick.stop();
        QVERIFY2(m_page->engine()->state() == EngineProcess::State::Finished, qPrintable(failure()));
        QTRY_COMPARE(m_page->charts()->pointCount("loss"), kSteps);
        QCOMPARE(int(store().metric(lastRun().id, "loss").size()), kSteps);
        QVERIFY2(gaps.size() > 100, qPrintable(QString("%1 ticks").arg(gaps.size())));
        std::sort(gaps.begin(), gaps.end());
        const auto at = [&](double q) { return gaps[std::min(gaps.size() - 1, size_t(q * double(gaps.size())))]; };
        qInfo("event loop while a run streamed %d step events in %.1f s (%.0f events/s): longest stall %.1f ms, "
              "99th percentile %.1f ms, median %.2f ms over %zu ticks of a 2 ms timer",
              kSteps - stepsBefore, seconds, (kSteps - stepsBefore) / seconds, gaps.back(), at(0.99), at(0.5),
              gaps.size());
    }

    void killedRunFailsAndResumes() {
        QVERIFY(m_page);
        configure(400, 0, 5, 0);
        QSignalSpy events(m_page->engine(), &EngineProcess::event);
        auto seen = [&](const QString& type, const std::function<bool(const QJsonObject&)>& ok) {
            for (const QList<QVariant>& args : events) {
                const QJsonObject e = args.at(0).toJsonObject();
                if (e["event"].toString() == type && ok(e))
                    return true;
            }
            return false;
        };
        QTest::mouseClick(m_page->findChild<QPushButton*>("startButton"), Qt::LeftButton);
        const qint64 runId = m_page->currentRunId();
        QVERIFY(runId > 0);
        QTRY_VERIFY_WITH_TIMEOUT(seen("checkpoint", [](const QJsonObject&) { return true; }), 40000);
        // Every step reported so far is a point of the loss curve, at its step with its loss
        // (a later step adds more).
        QMap<double, double> reported;  // step -> loss, as the engine sent them
        for (const QList<QVariant>& args : events) {
            const QJsonObject e = args.at(0).toJsonObject();
            if (e["event"].toString() == "step")
                reported.insert(e["step"].toDouble(), e["loss"].toDouble());
        }
        QVERIFY(reported.size() >= 5);  // the checkpoint comes after step 5
        QTRY_VERIFY2(m_page->charts()->pointCount("loss") >= reported.size(),
                     qPrintable(QString("%1 loss points for %2 steps")
                                    .arg(m_page->charts()->pointCount("loss"))
                                    .arg(reported.size())));
        auto* lossPlot = m_page->charts()->findChild<QCustomPlot*>("lossPlot");
        QVERIFY(lossPlot && lossPlot->graphCount() > 0 && lossPlot->graph(0)->name() == "train");
        const QSharedPointer<QCPGraphDataContainer> plotted = lossPlot->graph(0)->data();
        for (auto it = reported.cbegin(); it != reported.cend(); ++it) {
            const auto point = plotted->findBegin(it.key(), /*expandedRange=*/false);
            QVERIFY2(point != plotted->constEnd() && point->key == it.key() && point->value == it.value(),
                     qPrintable(QString("step %1: loss %2 sent, the curve has %3 there")
                                    .arg(it.key())
                                    .arg(it.value())
                                    .arg(point != plotted->constEnd() && point->key == it.key()
                                             ? QString::number(point->value)
                                             : QString("no point"))));
        }
        m_page->engine()->kill();
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 10000);
        QCOMPARE(m_page->engine()->state(), EngineProcess::State::Failed);

        auto* banner = m_page->findChild<QWidget*>("errorBanner");
        QVERIFY(banner->isVisible());
        const QString message = m_page->findChild<QLabel*>("errorMessage")->text();
        QVERIFY2(message.contains("killed"), qPrintable(message));
        QVERIFY(!m_page->findChild<QPlainTextEdit*>("bannerLog")->toPlainText().isEmpty());
        QCOMPARE(QString::fromStdString(lastRun().status), QString("failed"));
        QVERIFY(m_page->findChild<QPushButton*>("startButton")->isEnabled());
        QVERIFY(m_page->findChild<QPushButton*>("resumeButton")->isEnabled());
        auto* bannerResume = m_page->findChild<QPushButton*>("bannerResumeButton");
        QVERIFY(bannerResume->isEnabled());
        QVERIFY(m_page->grab().save(QDir::temp().filePath("train_page_failed.png")));
        bool fired = false;
        QTimer::singleShot(20, this, [&] { fired = true; });
        QTRY_VERIFY_WITH_TIMEOUT(fired, 2000);  // the event loop goes on

        events.clear();
        QTest::mouseClick(bannerResume, Qt::LeftButton);
        QVERIFY(m_page->isRunning() && !banner->isVisible());
        QCOMPARE(m_page->currentRunId(), runId);
        QTRY_VERIFY_WITH_TIMEOUT(seen("started", [](const QJsonObject& e) { return e["start_step"].toInt() > 0; }),
                                 30000);
        int from = 0;
        for (const QList<QVariant>& args : events)
            if (args.at(0).toJsonObject()["event"].toString() == "started")
                from = args.at(0).toJsonObject()["start_step"].toInt();
        QVERIFY2(from % 5 == 0, "continues from a checkpoint");
        QTRY_VERIFY_WITH_TIMEOUT(seen("step", [&](const QJsonObject& e) { return e["step"].toInt() > from; }), 20000);
        QCOMPARE(QString::fromStdString(lastRun().status), QString("running"));
        QTest::mouseClick(m_page->findChild<QPushButton*>("pauseButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(m_page->engine()->state() == EngineProcess::State::Paused, 10000);
        QVERIFY(m_page->findChild<QLabel*>("statusLabel")->text().startsWith("Paused"));
        auto* resume = m_page->findChild<QPushButton*>("resumeButton");
        QVERIFY(resume->isEnabled() && !m_page->findChild<QPushButton*>("pauseButton")->isEnabled());
        QTest::mouseClick(resume, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(m_page->engine()->state() == EngineProcess::State::Running, 10000);
        m_page->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 20000);
        QVERIFY2(m_page->engine()->state() == EngineProcess::State::Stopped, qPrintable(failure()));
        QCOMPARE(QString::fromStdString(lastRun().status), QString("stopped"));
        QVERIFY(m_page->findChild<QPushButton*>("resumeButton")->isEnabled());
        QVERIFY(store().metric(runId, "loss").size() > size_t(from));

        // The runs page's way back in: resume a stored run by id; its stored curve shows at once.
        QVERIFY(m_page->resumeRun(runId));
        QTRY_VERIFY(m_page->charts()->pointCount("loss") > 0);
        events.clear();
        QTRY_VERIFY_WITH_TIMEOUT(seen("started", [](const QJsonObject& e) { return e["start_step"].toInt() > 0; }),
                                 30000);
        m_page->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 20000);
        QCOMPARE(QString::fromStdString(lastRun().status), QString("stopped"));
        QVERIFY(!m_page->resumeRun(987654));
        QVERIFY(m_page->findChild<QWidget*>("errorBanner")->isVisible());
        qInfo("resumed from step %d; test time %.1f s", from, m_clock.elapsed() / 1000.0);
    }

    void cleanupTestCase() {
        m_page.reset();
        m_session.reset();
    }
};

FT_TEST_MAIN_GUI(TestGuiTrain)

} // namespace test_gui_train

#include "test_gui_train.moc"
