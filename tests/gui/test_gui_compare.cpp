// Win rates against hand computation, and the Compare page's blind A/B voting: votes
// given by what is shown on each side (the page draws the sides at random) are stored
// under the real model names, and the win-rate table follows. With the embedded tiny
// model present, one real generation goes through the CLI and is saved in the project.
#include "app/session.h"
#include "app/studio_paths.h"
#include "compare/compare_page.h"
#include "data/project_store.h"
#include "eval/win_rate.h"
#include "util/error.h"

#include "test_main.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QListWidget>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_compare {

using ft::data::ProjectStore;
using ft::data::VoteRecord;
using ft::eval::WinRate;
using ft::ui::ComparePage;
using ft::ui::Session;

namespace {

VoteRecord vote(const std::string& a, const std::string& b, const std::string& winner) {
    VoteRecord v;
    v.modelA = a;
    v.modelB = b;
    v.winner = winner;
    return v;
}

// The Wilson bounds as the roots of (p_hat - p)^2 = z^2 p (1 - p) / n, solved as a
// quadratic in p: (1 + z^2/n) p^2 - (2 p_hat + z^2/n) p + p_hat^2 = 0.
std::pair<double, double> wilsonByQuadratic(double successes, int n, double z) {
    const double ph = successes / n, k = z * z / n;
    const double a = 1 + k, b = -(2 * ph + k), c = ph * ph;
    const double root = std::sqrt(b * b - 4 * a * c);
    return {(-b - root) / (2 * a), (-b + root) / (2 * a)};
}

// What the sample project stores as a model's answer to prompt i (long enough to wrap).
std::string sampleOutput(const std::string& model, int i) {
    if (model == "base")
        return "plain answer " + std::to_string(i) + ": the answer is somewhere in the text, and the text goes on "
               "for a while without getting to the point.";
    return "excellent answer " + std::to_string(i) + ": first, name the goal. Second, list what is known. "
           "Third, work through it step by step and check the result against the question.";
}

const WinRate& find(const std::vector<WinRate>& rates, const std::string& model) {
    for (const auto& r : rates)
        if (r.model == model)
            return r;
    qFatal("no win rate for %s", model.c_str());
}

} // namespace

class TestGuiCompare : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_tinyModel;  // the embedded base model, when `ftstudio-cli make-base` has built it

    // A project whose "compare" evaluations hold outputs of "base" and "tuned" for 8 prompts.
    QString makeProject(const QString& name) {
        const QString path = m_tmp.filePath(name);
        auto store = ProjectStore::create(path.toStdString());
        for (int i = 1; i <= 8; ++i)
            for (const char* model : {"base", "tuned"}) {
                const std::string prompt = "Prompt " + std::to_string(i);
                const nlohmann::json j = {
                    {"prompt", prompt},
                    {"model", model},
                    {"adapter", std::string(model) == "base" ? "" : "/nowhere/tuned/adapter"},
                    {"settings", {{"max_new_tokens", 16}, {"temperature", 0.0}, {"seed", 0}}},
                    {"output", sampleOutput(model, i)}};
                store->addEvaluation(std::nullopt, "compare", j.dump());
            }
        return path;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        // CTest builds one (FTSTUDIO_TEST_MODEL); else the user's, read before the data folder moves to m_tmp.
        m_tinyModel = qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_MODEL") ? ft::ui::defaultBaseModelDir()
                                                                        : qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        qputenv("FTSTUDIO_DATA_DIR", m_tmp.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_tmp.filePath("config").toUtf8());
    }

    void wilsonAgainstClosedForm() {
        const double z = ft::eval::kZ95;
        // 7 wins, 2 losses, 1 tie: rate (7 + 0.5) / 10 = 0.75.
        const WinRate r = ft::eval::makeWinRate("x", 7, 2, 1);
        QCOMPARE(r.n, 10);
        QCOMPARE(r.rate, 0.75);
        const auto [lo, hi] = wilsonByQuadratic(7.5, 10, z);
        qInfo("7W 2L 1T: rate %.4f, Wilson [%.6f, %.6f], quadratic [%.6f, %.6f]", r.rate, r.low, r.high, lo, hi);
        QVERIFY(std::abs(r.low - lo) < 1e-12 && std::abs(r.high - hi) < 1e-12);
        QVERIFY(std::abs(r.low - 0.442181) < 1e-6 && std::abs(r.high - 0.919052) < 1e-6);  // by hand (Python)
        // Edges: all wins (upper bound 1), no wins (lower bound 0), nothing known.
        const auto all = ft::eval::wilsonInterval(10, 10);
        QCOMPARE(all.second, 1.0);
        QVERIFY(std::abs(all.first - wilsonByQuadratic(10, 10, z).first) < 1e-12);
        QCOMPARE(ft::eval::wilsonInterval(0, 10).first, 0.0);
        QCOMPARE(ft::eval::wilsonInterval(0, 0), std::make_pair(0.0, 1.0));
        QVERIFY_THROWS_EXCEPTION(ft::Error, ft::eval::wilsonInterval(11, 10));
    }

    void winRatesFromVotes() {
        // x beats y 7 times (4 as modelA, 3 as modelB), loses twice, ties once; z beats y once.
        std::vector<VoteRecord> votes;
        for (int i = 0; i < 4; ++i)
            votes.push_back(vote("x", "y", "a"));
        for (int i = 0; i < 3; ++i)
            votes.push_back(vote("y", "x", "b"));
        votes.push_back(vote("x", "y", "b"));
        votes.push_back(vote("y", "x", "a"));
        votes.push_back(vote("y", "x", "tie"));
        votes.push_back(vote("z", "y", "a"));
        votes.push_back(vote("z", "z", "a"));  // a model against itself: ignored
        const auto rates = ft::eval::winRates(votes);
        QCOMPARE(rates.size(), size_t(3));
        const WinRate& x = find(rates, "x");
        QCOMPARE(x.wins, 7);
        QCOMPARE(x.losses, 2);
        QCOMPARE(x.ties, 1);
        QCOMPARE(x.rate, 0.75);
        const WinRate& y = find(rates, "y");
        QCOMPARE(y.n, 11);
        QCOMPARE(y.rate, 2.5 / 11);  // 2 wins, 8 losses (one to z), 1 tie
        QCOMPARE(rates.front().model, std::string("z"));  // 1 of 1: highest rate first
        const auto pairs = ft::eval::pairWinRates(votes);
        QCOMPARE(pairs.size(), size_t(2));
        QCOMPARE(pairs[0].model, std::string("x"));
        QCOMPARE(pairs[0].opponent, std::string("y"));
        QCOMPARE(pairs[0].rate, 0.75);
        QCOMPARE(pairs[1].model, std::string("y"));  // "y" < "z": y's view, 0 of 1
        QCOMPARE(pairs[1].rate, 0.0);
        std::vector<VoteRecord> bad{vote("x", "y", "left")};
        QVERIFY_THROWS_EXCEPTION(ft::Error, ft::eval::winRates(bad));
    }

    void recordBlindVoteMapsToRealNames() {
        const QString path = makeProject("map.db");
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        ComparePage page(&session);
        // Shown A = "zeta", B = "alpha"; canonical order is alpha < zeta.
        QVERIFY(page.recordBlindVote("p", "zeta", "alpha", "A"));
        QVERIFY(page.recordBlindVote("p", "zeta", "alpha", "B"));
        QVERIFY(page.recordBlindVote("p", "alpha", "zeta", "tie"));
        QVERIFY(!page.recordBlindVote("p", "alpha", "alpha", "A"));
        QVERIFY(!page.recordBlindVote("p", "alpha", "zeta", "maybe"));
        const auto votes = ProjectStore::open(path.toStdString())->votes();
        QCOMPARE(votes.size(), size_t(3));
        for (const auto& v : votes) {
            QCOMPARE(v.modelA, std::string("alpha"));
            QCOMPARE(v.modelB, std::string("zeta"));
        }
        QCOMPARE(votes[0].winner, std::string("b"));  // zeta won
        QCOMPARE(votes[1].winner, std::string("a"));  // alpha won
        QCOMPARE(votes[2].winner, std::string("tie"));
    }

    void blindVotingThroughThePage() {
        const QString path = makeProject("blind.db");
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        ComparePage page(&session);
        page.resize(1280, 800);
        page.show();
        QApplication::setActiveWindow(&page);
        QVERIFY(QTest::qWaitForWindowActive(&page));
        QCOMPARE(page.findChild<QListWidget*>("promptList")->count(), 8);  // reloaded from the project
        QVERIFY(page.modelNames().contains("tuned"));
        page.findChild<QCheckBox*>("blindMode")->setChecked(true);
        auto* panel = page.blindPanel();
        QVERIFY(panel->setPair("base", "tuned"));
        QCOMPARE(panel->remaining(), 8);
        panel->setFocus();
        QTRY_VERIFY(panel->hasFocus());

        // The person always prefers the "excellent" answer, wherever it is shown.
        auto* a = page.findChild<QTextBrowser*>("blindA");
        auto* b = page.findChild<QTextBrowser*>("blindB");
        int tunedShownAsA = 0;
        for (int i = 0; i < 8; ++i) {
            if (i == 5 && qEnvironmentVariableIsSet("FT_SCREENSHOT_DIR"))
                page.grab().save(qEnvironmentVariable("FT_SCREENSHOT_DIR") + "/compare_blind.png");
            QVERIFY(a->toPlainText().startsWith("excellent") != b->toPlainText().startsWith("excellent"));
            const bool aIsTuned = a->toPlainText().startsWith("excellent");
            QCOMPARE(panel->shownA(), aIsTuned ? QString("tuned") : QString("base"));
            tunedShownAsA += aIsTuned ? 1 : 0;
            QTest::keyClick(panel, aIsTuned ? Qt::Key_1 : Qt::Key_2);
        }
        qInfo("tuned was shown as A on %d of 8 prompts", tunedShownAsA);
        QVERIFY2(tunedShownAsA > 0 && tunedShownAsA < 8, "the sides were never swapped");
        QCOMPARE(panel->remaining(), 0);

        const auto votes = ProjectStore::open(path.toStdString())->votes();
        QCOMPARE(votes.size(), size_t(8));
        for (const auto& v : votes) {
            QCOMPARE(v.modelA, std::string("base"));
            QCOMPARE(v.modelB, std::string("tuned"));
            QCOMPARE(v.winner, std::string("b"));
        }
        // The table: tuned 8 of 8, Wilson [0.6756, 1].
        auto* table = page.findChild<QTableWidget*>("winRateTable");
        QVERIFY(table->rowCount() >= 2);
        QCOMPARE(table->item(0, 0)->text(), QString("tuned"));
        QCOMPARE(table->item(0, 6)->text(), QString("100.0%"));
        const auto [lo, hi] = wilsonByQuadratic(8, 8, ft::eval::kZ95);
        QCOMPARE(table->item(0, 7)->text(),
                 QString("%1% – %2%").arg(100 * lo, 0, 'f', 1).arg(100 * hi, 0, 'f', 1));
        qInfo("win-rate table: %s %s %s", qPrintable(table->item(0, 0)->text()), qPrintable(table->item(0, 6)->text()),
              qPrintable(table->item(0, 7)->text()));
    }

    void sideBySideTable() {
        const QString path = makeProject("table.db");
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        ComparePage page(&session);
        page.resize(1280, 800);
        page.setModelChecked("tuned", true);
        auto* table = page.findChild<QTableWidget*>("outputTable");
        QCOMPARE(table->columnCount(), 3);  // prompt, base, tuned
        QCOMPARE(table->rowCount(), 8);
        QCOMPARE(table->item(2, 2)->text(), QString::fromStdString(sampleOutput("tuned", 3)));
        QCOMPARE(page.output("Prompt 3", "base"), QString::fromStdString(sampleOutput("base", 3)));
        if (qEnvironmentVariableIsSet("FT_SCREENSHOT_DIR")) {
            page.show();
            page.grab().save(qEnvironmentVariable("FT_SCREENSHOT_DIR") + "/compare_table.png");
        }
    }

    // With the embedded tiny model: one prompt through the base model via the CLI, stored.
    void realGenerationIsSaved() {
        const QString model = m_tinyModel;
        if (!ft::ui::isBaseModelFolder(model) || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no tiny base model or FTSTUDIO_CLI; generation not checked");
        const QString path = m_tmp.filePath("run.db");
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, true, &error), qPrintable(error));
        session.setModelDir(model);
        ComparePage page(&session);
        page.addPrompt("Once upon a time");
        page.findChild<QSpinBox*>("maxNewTokens")->setValue(8);
        page.runAll();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), 60000);
        const QString out = page.output("Once upon a time", "base");
        QVERIFY2(!out.trimmed().isEmpty() && !out.startsWith("Once upon a time"), qPrintable(out));
        const auto evals = ProjectStore::open(path.toStdString())->evaluations();
        QCOMPARE(evals.size(), size_t(1));
        const auto j = nlohmann::json::parse(evals[0].resultJson);
        QCOMPARE(QString::fromStdString(j["output"].get<std::string>()), out);
        QCOMPARE(j["settings"]["max_new_tokens"].get<int>(), 8);
        QVERIFY(!evals[0].runId);

        // Through a prompt template: the engine renders the prompt, the page keeps it
        // (tooltip of the output, stored with it) and shows only the generated text.
        page.findChild<QComboBox*>("promptTemplate")->setCurrentText("alpaca");
        page.runAll();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), 60000);
        const QString rendered = page.renderedPrompt("Once upon a time", "base");
        QCOMPARE(rendered, QString("### Instruction:\nOnce upon a time\n### Response:\n"));
        const QString templated = page.output("Once upon a time", "base");
        QVERIFY2(!templated.contains("### Instruction"), qPrintable(templated));
        const auto evals2 = ProjectStore::open(path.toStdString())->evaluations();
        QCOMPARE(evals2.size(), size_t(2));
        const auto j2 = nlohmann::json::parse(evals2[1].resultJson);
        QCOMPARE(j2["settings"]["template"].get<std::string>(), std::string("alpaca"));
        QCOMPARE(QString::fromStdString(j2["rendered_prompt"].get<std::string>()), rendered);
        QCOMPARE(QString::fromStdString(j2["output"].get<std::string>()), templated);
        auto* table = page.findChild<QTableWidget*>("outputTable");
        QVERIFY(table->item(0, 1)->toolTip().contains("### Response:"));
    }
};

FT_TEST_MAIN_GUI(TestGuiCompare)

} // namespace test_gui_compare

#include "test_gui_compare.moc"
