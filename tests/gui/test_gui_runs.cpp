// The Runs page and the first-start project: sample datasets imported, runs listed
// with their metrics and duration, a run removed with its metrics; a finished run
// exported through the deploy dialog (GGUF with progress, Ollama folder).
#include "app/first_start.h"
#include "app/session.h"
#include "data/project_store.h"
#include "data/run_records.h"
#include "app/studio_paths.h"
#include "model/model_page.h"
#include "runs/deploy_dialog.h"
#include "runs/runs_page.h"

#include "test_main.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_runs {

using namespace ft::ui;

class TestGuiRuns : public QObject {
    Q_OBJECT
private slots:
    void sampleProjectHasEveryDataset() {
        QTemporaryDir dir;
        Session session;
        QString error;
        QVERIFY2(createSampleProject(&session, dir.filePath("p.db"), &error), qPrintable(error));
        const auto datasets = session.store()->datasets();
        QCOMPARE(static_cast<int>(datasets.size()), static_cast<int>(sampleDatasets().size()) + 1);
        for (const auto& d : datasets)
            QVERIFY2(d.rowCount > 0, d.name.c_str());
        QVERIFY(session.store()->requireDataset("preferences").kind == ft::data::DatasetKind::Preference);
        const auto toLabel = session.store()->requireDataset("pairs-to-label");
        QCOMPARE(toLabel.rowCount, int64_t{40});
        ft::data::RowQuery unlabelled;
        unlabelled.datasetId = toLabel.id;
        unlabelled.label = ft::data::LabelState::Unlabelled;
        QCOMPARE(session.store()->count(unlabelled), int64_t{40});
    }

    void runsAreListedAndRemoved() {
        QTemporaryDir dir;
        Session session;
        QString error;
        QVERIFY(session.openProject(dir.filePath("p.db"), true, &error));
        auto* store = session.store();
        const int64_t a = store->createRun("lora-sft", R"({"technique":{"name":"qlora"},"objective":{"name":"dpo"}})", dir.filePath("a").toStdString());
        const int64_t b = store->createRun("second", "{}", dir.filePath("b").toStdString());
        for (int step = 1; step <= 5; ++step)
            store->addMetric(a, step, "loss", 2.0 / step);
        store->addMetric(a, 5, "eval_loss", 0.75);
        store->setRunStatus(a, "finished");
        QCOMPARE(ft::data::runMetricNames(*store, a), (std::vector<std::string>{"eval_loss", "loss"}));

        RunsPage page(&session);
        page.resize(1200, 700);
        page.refresh();
        auto* table = page.findChild<QTableWidget*>("runTable");
        QVERIFY(table);
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 2)->text(), QString("finished"));
        QCOMPARE(table->item(0, 3)->text(), QString("qlora"));
        QCOMPARE(table->item(0, 4)->text(), QString("dpo"));
        QCOMPARE(table->item(0, 7)->text(), QString("0.4000"));
        QCOMPARE(table->item(0, 8)->text(), QString("0.7500"));
        QCOMPARE(table->item(1, 3)->text(), QString("lora"));  // the engine's default

        page.selectRun(a);
        auto* plot = page.findChild<QCustomPlot*>("runPlot");
        QCOMPARE(plot->graphCount(), 2);
        QCOMPARE(plot->graph(0)->dataCount(), 5);

        QSignalSpy duplicate(&page, &RunsPage::duplicateRequested);
        QMetaObject::invokeMethod(page.findChildren<QPushButton*>().at(1), "click");
        QCOMPARE(duplicate.count(), 1);
        const QJsonObject config = duplicate.first().first().toJsonObject();
        QCOMPARE(config.value("technique").toObject().value("name").toString(), QString("qlora"));
        QVERIFY(!config.contains("output_dir"));

        ft::data::deleteRun(*store, a);
        QVERIFY(store->metric(a, "loss").empty());
        QVERIFY_THROWS_EXCEPTION(std::exception, ft::data::deleteRun(*store, a));
        session.notifyRunsChanged();
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, 0)->text().toLongLong(), b);
        if (qEnvironmentVariableIsSet("FTSTUDIO_SHOT"))
            page.grab().save(qEnvironmentVariable("FTSTUDIO_SHOT"));
    }

    // A run trained by the engine (LoRA, a few steps), exported from its row: a q8_0 GGUF
    // file with the engine's progress on the bar, then an Ollama folder.
    void deployDialogExportsARun() {
        const QString model = qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        if (model.isEmpty())
            QSKIP("FTSTUDIO_TEST_MODEL is not set (CTest sets it)");
        QTemporaryDir dir;
        const QString run = dir.filePath("run");
        {
            QFile config(dir.filePath("run.json"));
            QVERIFY(config.open(QIODevice::WriteOnly));
            config.write(QStringLiteral(R"({"model": "%1", "output_dir": "%2",
                "technique": {"name": "lora", "r": 4, "target_modules": ["q_proj", "v_proj"]},
                "objective": {"name": "sft", "template": "alpaca"},
                "data": {"train": "%3/datasets/sft/instructions.jsonl"},
                "training": {"max_seq_len": 64, "batch_size": 4, "max_steps": 2, "threads": 1}})")
                             .arg(model, run, qEnvironmentVariable("FTSTUDIO_SOURCE_DIR")).toUtf8());
        }
        QProcess train;
        train.start(cliPath(), {"train", "--config", dir.filePath("run.json"), "--no-stdin"});
        QVERIFY2(train.waitForFinished(120000) && train.exitCode() == 0, train.readAllStandardError().constData());

        Session session;
        QString error;
        QVERIFY(session.openProject(dir.filePath("p.db"), true, &error));
        const int64_t id = session.store()->createRun(
            "tuned", QStringLiteral(R"({"model": "%1", "technique": {"name": "lora"}})").arg(model).toStdString(),
            run.toStdString());
        session.store()->setRunStatus(id, "finished");
        RunsPage page(&session);
        page.refresh();
        page.selectRun(id);
        auto* deploy = page.findChild<QPushButton*>("exportDeployButton");
        QVERIFY(deploy && deploy->isEnabled());
        QCOMPARE(deploy->menu()->actions().size(), 3);

        DeployDialog dialog(&session, run, model, DeployDialog::Target::Gguf);
        QCOMPARE(dialog.targetBox()->count(), 3);  // LoRA run: the adapter alone is offered too
        QVERIFY(dialog.outEdit()->text().endsWith("/export/model-q4_k_m.gguf"));
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData("q8_0"));
        QVERIFY(dialog.outEdit()->text().endsWith("/export/model-q8_0.gguf"));
        QTRY_VERIFY_WITH_TIMEOUT(dialog.estimateLabel()->text().contains("parameters"), 30000);
        QVERIFY2(dialog.estimateLabel()->text().contains("MB"), qPrintable(dialog.estimateLabel()->text()));
        auto* bar = dialog.findChild<QProgressBar*>("taskProgress");
        int highest = 0;
        connect(bar, &QProgressBar::valueChanged, this, [&](int v) { highest = std::max(highest, v); });
        QSignalSpy finished(&dialog, &CliTaskDialog::taskFinished);
        QVERIFY(dialog.start());
        QVERIFY(finished.wait(120000));
        QVERIFY2(dialog.succeeded(), qPrintable(dialog.report()));
        QCOMPARE(highest, 100);  // the engine's progress lines drove the bar
        QVERIFY(QFile::exists(run + "/export/model-q8_0.gguf"));
        QVERIFY2(!dialog.report().contains("progress:"), qPrintable(dialog.report()));

        dialog.targetBox()->setCurrentIndex(dialog.targetBox()->findData(int(DeployDialog::Target::Ollama)));
        QVERIFY(dialog.outEdit()->text().endsWith("/export/ollama"));
        QVERIFY(dialog.templateBox()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(dialog.templateBox()->count() > 5, 30000);  // the engine's families
        QVERIFY(dialog.start());
        QVERIFY(finished.wait(120000));
        QVERIFY2(dialog.succeeded(), qPrintable(dialog.report()));
        QVERIFY(QFile::exists(run + "/export/ollama/Modelfile"));
        QVERIFY2(dialog.report().contains("ollama create"), qPrintable(dialog.report()));
        QVERIFY2(dialog.report().contains("alpaca"), qPrintable(dialog.report()));  // from the run's config
        if (qEnvironmentVariableIsSet("FTSTUDIO_SHOT_DEPLOY"))
            dialog.grab().save(qEnvironmentVariable("FTSTUDIO_SHOT_DEPLOY"));
    }

    // The Model page shows a .gguf export read-only, through the engine's reader.
    void modelPageViewsAGgufFile() {
        const QString model = qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        if (model.isEmpty())
            QSKIP("FTSTUDIO_TEST_MODEL is not set (CTest sets it)");
        QTemporaryDir dir;
        const QString file = dir.filePath("m.gguf");
        QProcess exporter;
        exporter.start(cliPath(), {"export", "gguf", "--model", model, "--out", file, "--type", "q8_0"});
        QVERIFY2(exporter.waitForFinished(120000) && exporter.exitCode() == 0, exporter.readAllStandardError().constData());
        Session session;
        ModelPage page(&session);
        page.resize(1300, 700);
        page.describeGguf(file);
        auto* table = page.findChild<QTableWidget*>("modelInfo");
        const auto valueOf = [&](const QString& name) {
            for (int r = 0; r < table->rowCount(); ++r)
                if (table->item(r, 0)->text() == name)
                    return table->item(r, 1)->text();
            return QString();
        };
        QTRY_VERIFY_WITH_TIMEOUT(!valueOf("Kind").isEmpty(), 30000);
        QCOMPARE(valueOf("Kind"), QString("model"));
        QCOMPARE(valueOf("Architecture"), QString("llama"));
        QVERIFY2(valueOf("Tokenizer").startsWith("llama"), qPrintable(valueOf("Tokenizer")));
        QVERIFY2(valueOf("Tensor types").contains("q8_0"), qPrintable(valueOf("Tensor types")));
        QCOMPARE(valueOf("general.file_type"), QString("7"));
        QVERIFY(page.findChild<QLabel*>("modelState")->text().contains("read-only"));
        QVERIFY(page.describedModel().isEmpty());  // the session's model is untouched
        if (qEnvironmentVariableIsSet("FTSTUDIO_SHOT_GGUF"))
            page.grab().save(qEnvironmentVariable("FTSTUDIO_SHOT_GGUF"));
    }
};

FT_TEST_MAIN_GUI(TestGuiRuns)

} // namespace test_gui_runs

#include "test_gui_runs.moc"
