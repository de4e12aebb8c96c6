// The Evaluate page against the engine: a shipped suite scored on the base model through
// `ftstudio-cli eval` in a child process; the table, the chart and the items show exactly
// what the engine computed when run by hand on the same suite; the result is stored in
// the project and shown again by a fresh page; Cancel stops a long run and keeps the GUI
// responsive; a folder that is not an adapter is refused with its reason. On the knowledge
// base (tests/knowledge_base.h, the knowledge_base fixture) a LoRA SFT adapter shows above
// the base on the held-out split with intervals apart.
#include "app/session.h"
#include "app/studio_paths.h"
#include "data/project_store.h"
#include "evaluate/evaluate_page.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QFileInfo>
#include <QListWidget>
#include <QProcess>
#include <QProgressBar>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <qcustomplot.h>

namespace test_gui_evaluate {

using ft::ui::EvaluatePage;
using ft::ui::Session;
using nlohmann::json;

class TestGuiEvaluate : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_model;

    bool haveEngine() const
    {
        return ft::ui::isBaseModelFolder(m_model) && QFileInfo(ft::ui::cliPath()).isExecutable();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_model = qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_MODEL") ? ft::ui::defaultBaseModelDir()
                                                                    : qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        qputenv("FTSTUDIO_DATA_DIR", m_tmp.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_tmp.filePath("config").toUtf8());
    }

    // The knowledge base's held-out questions as a regression suite: the base does not answer
    // them in the Alpaca form, a LoRA SFT adapter (trained here by the engine, as
    // test_efficacy's lora row) answers about a third; the page shows both, intervals apart.
    void adapterAboveTheBaseOnTheKnowledgeBase()
    {
        const QString root = qEnvironmentVariable("FTSTUDIO_KNOWLEDGE_BASE_DIR");
        QFileInfoList bases = QDir(root).entryInfoList({"knowledge-base-*"}, QDir::Dirs, QDir::Time);
        if (root.isEmpty() || bases.isEmpty() || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no knowledge base (FTSTUDIO_KNOWLEDGE_BASE_DIR, the knowledge_base fixture) or FTSTUDIO_CLI");
        const QString base = bases.first().absoluteFilePath();  // the newest recipe's
        const QString data = qEnvironmentVariable("FTSTUDIO_SOURCE_DIR") + "/datasets/knowledge";
        const QString out = m_tmp.filePath("kb-lora");
        const json config{{"model", base.toStdString()},
                          {"output_dir", out.toStdString()},
                          {"technique", {{"name", "lora"}, {"r", 8}, {"target_modules", {"all-linear"}}}},
                          {"objective", {{"name", "sft"}}},
                          {"data", {{"train", (data + "/sft.jsonl").toStdString()}}},
                          {"training", {{"max_seq_len", 64}, {"batch_size", 8}, {"max_steps", 400}, {"threads", 1},
                                        {"optimizer", {{"lr", 3e-3}}}, {"schedule", {{"name", "constant"}}}, {"seed", 7}}},
                          {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                          {"checkpoint", {{"every_steps", 0}}}};
        QFile f(m_tmp.filePath("kb-lora.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(config.dump()));
        f.close();
        QProcess train;
        train.start(ft::ui::cliPath(), {"train", "--config", f.fileName()});
        QVERIFY(train.waitForFinished(240000));
        QVERIFY2(train.exitCode() == 0, train.readAllStandardError().constData());

        Session session;
        QString error;
        QVERIFY2(session.openProject(m_tmp.filePath("kb.ftproj"), true, &error), qPrintable(error));
        session.setModelDir(base);
        EvaluatePage page(&session);
        page.resize(1400, 900);
        page.setSuite(data + "/verifiable.jsonl");
        page.findChild<QLineEdit*>("split")->setText("eval");
        page.findChild<QComboBox*>("template")->setCurrentText("alpaca");
        QVERIFY2(page.addAdapterFolder(out + "/adapter", &error), qPrintable(error));
        for (const QString& name : page.modelNames())
            page.setModelChecked(name, true);
        QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
        page.run();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 240000);
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
        QCOMPARE(page.shownResults().size(), size_t(2));
        // The folder added by hand stays listed (and ticked) after the page re-reads the project.
        QCOMPARE(page.modelNames(), (QStringList{"base", "kb-lora"}));
        page.reloadFromProject();
        QCOMPARE(page.modelNames(), (QStringList{"base", "kb-lora"}));
        auto pass = [](const json& r) {
            for (const auto& m : r["metrics"])
                if (m["name"] == "pass")
                    return m;
            return json();
        };
        const json b = pass(page.shownResults()[0]), a = pass(page.shownResults()[1]);
        qInfo("Evaluate page, knowledge held-out split: base %.3f [%.3f, %.3f], LoRA SFT %.3f [%.3f, %.3f]",
              b["value"].get<double>(), b["low"].get<double>(), b["high"].get<double>(), a["value"].get<double>(),
              a["low"].get<double>(), a["high"].get<double>());
        QVERIFY2(b["high"].get<double>() < a["low"].get<double>(), "the intervals overlap");
        // The table shows both rows with those figures.
        auto* metrics = page.findChild<QTableWidget*>("metricsTable");
        QCOMPARE(metrics->rowCount(), 2);
        QCOMPARE(metrics->item(0, 0)->text(), QString("base"));
        QVERIFY(metrics->item(1, 1)->text().startsWith(QString::number(a["value"].get<double>(), 'f', 3)));
        auto* bars = qobject_cast<QCPBars*>(page.findChild<QCustomPlot*>("metricsChart")->plottable(0));
        QVERIFY(bars && bars->data()->size() == 2);
        QVERIFY(bars->data()->at(1)->value > bars->data()->at(0)->value);
        if (!qEnvironmentVariableIsEmpty("FTSTUDIO_SCREENSHOT_DIR"))
            page.grab().save(qEnvironmentVariable("FTSTUDIO_SCREENSHOT_DIR") + "/evaluate-knowledge.png");
    }

    void listsSuitesAndModels()
    {
        Session session;
        QString error;
        QVERIFY2(session.openProject(m_tmp.filePath("list.ftproj"), true, &error), qPrintable(error));
        EvaluatePage page(&session);
        auto* suites = page.findChild<QComboBox*>("suite");
        QStringList names;
        for (int i = 0; i < suites->count(); ++i)
            names << suites->itemText(i);
        for (const char* n : {"arithmetic", "arithmetic_choice", "capitals_choice", "heldout_text"})
            QVERIFY2(names.contains(n), qPrintable(names.join(", ")));
        QCOMPARE(page.modelNames(), QStringList{"base"});
        QString why;
        QVERIFY(!page.addAdapterFolder(m_tmp.path(), &why));
        QVERIFY2(why.contains("not an adapter folder (no adapter_config.json)"), qPrintable(why));
        QCOMPARE(page.historyCount(), 0);
    }

    void evaluatesStoresAndReloads()
    {
        if (!haveEngine())
            QSKIP("no tiny base model or FTSTUDIO_CLI; the engine is not run");
        const QString project = m_tmp.filePath("eval.ftproj");
        Session session;
        QString error;
        QVERIFY2(session.openProject(project, true, &error), qPrintable(error));
        session.setModelDir(m_model);
        EvaluatePage page(&session);
        page.resize(1400, 900);
        page.setSuite("capitals_choice");
        page.findChild<QSpinBox*>("limit")->setValue(12);
        QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
        page.run();
        QVERIFY(page.isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 120000);
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));

        // The same suite run by hand through the engine: the page shows its figures.
        QProcess cli;
        cli.start(ft::ui::cliPath(), {"eval", "--model", m_model, "--suite", "capitals_choice", "--limit", "12", "--json",
                                      "--threads", "1"});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 0);
        const json byHand = json::parse(cli.readAllStandardOutput().toStdString())["suites"][0]["results"][0];
        QCOMPARE(page.shownResults().size(), size_t(1));
        const json& shown = page.shownResults()[0];
        QCOMPARE(shown["metrics"], byHand["metrics"]);
        auto* metrics = page.findChild<QTableWidget*>("metricsTable");
        QCOMPARE(metrics->rowCount(), 1);
        QCOMPARE(metrics->item(0, 0)->text(), QString("base"));
        const double acc = byHand["metrics"][0]["value"].get<double>();
        QVERIFY2(metrics->item(0, 1)->text().startsWith(QString::number(acc, 'f', 3)), qPrintable(metrics->item(0, 1)->text()));
        auto* items = page.findChild<QTableWidget*>("itemsTable");
        QCOMPARE(items->rowCount(), 12);
        for (int r = 0; r < 12; ++r) {
            const json& it = byHand["items"][size_t(r)];
            const QString cell = items->item(r, 3)->text();
            QVERIFY2(cell.startsWith(it["passed"].get<bool>() ? QString("✓") : QString("✗")), qPrintable(cell));
            QVERIFY(cell.contains(QString::fromStdString(it["answer"].get<std::string>()).trimmed()));
            QCOMPARE(items->item(r, 2)->text(), QString::fromStdString(it["expected"].get<std::string>()));
        }
        auto* chart = page.findChild<QCustomPlot*>("metricsChart");
        auto* bars = qobject_cast<QCPBars*>(chart->plottable(0));
        QVERIFY(bars);
        QCOMPARE(bars->data()->size(), 1);
        QCOMPARE(bars->data()->at(0)->value, acc);
        QCOMPARE(page.findChild<QProgressBar*>("progress")->value(), 1000);
        if (!qEnvironmentVariableIsEmpty("FTSTUDIO_SCREENSHOT_DIR"))
            page.grab().save(qEnvironmentVariable("FTSTUDIO_SCREENSHOT_DIR") + "/evaluate.png");

        // Stored in the project; a new page shows it again.
        QCOMPARE(page.historyCount(), 1);
        EvaluatePage again(&session);
        QCOMPARE(again.historyCount(), 1);
        QCOMPARE(again.shownResults().size(), size_t(1));
        QCOMPARE(again.shownResults()[0]["metrics"], byHand["metrics"]);
        QCOMPARE(again.shownResults()[0]["items"].size(), size_t(12));
    }

    // Cancel part-way: the job stops, the page says so, and the event loop kept turning.
    void cancelKeepsTheGuiResponsive()
    {
        if (!haveEngine())
            QSKIP("no tiny base model or FTSTUDIO_CLI; the engine is not run");
        Session session;
        QString error;
        QVERIFY2(session.openProject(m_tmp.filePath("cancel.ftproj"), true, &error), qPrintable(error));
        session.setModelDir(m_model);
        EvaluatePage page(&session);
        // 200 answers of up to 200 tokens each: far longer than the wait for the first item.
        const QString suite = m_tmp.filePath("long.jsonl");
        {
            QFile f(suite);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("{\"suite\": {\"max_new_tokens\": 200, \"template\": \"none\"}}\n");
            for (int i = 0; i < 200; ++i)
                f.write(QByteArray("{\"prompt\": \"Once upon a time ") + QByteArray::number(i) +
                        "\", \"reference\": \"x\"}\n");
        }
        page.setSuite(suite);
        QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
        page.run();
        auto* progress = page.findChild<QProgressBar*>("progress");
        QTRY_VERIFY_WITH_TIMEOUT(progress->value() > 0, 60000);
        QElapsedTimer beat;
        beat.start();
        page.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 20000);
        QVERIFY(!finished.first().at(0).toBool());
        QVERIFY(!page.isRunning());
        QVERIFY2(page.findChild<QLabel*>("status")->text().startsWith("Cancelled"),
                 qPrintable(page.findChild<QLabel*>("status")->text()));
        qInfo("cancelled %lld ms after the request", (long long)beat.elapsed());
    }
};

FT_TEST_MAIN_GUI(TestGuiEvaluate)

} // namespace test_gui_evaluate

#include "test_gui_evaluate.moc"
