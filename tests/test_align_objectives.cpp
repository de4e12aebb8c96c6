// The alignment objectives end to end, in process, on the small pretrained base
// model (CPU, seeded): each one trains through the same engine, config and events
// as SFT, and its own metric moves the right way on held-out data:
//   reward model   held-out pair accuracy >= 80% on a separable preference set
//   dpo/cdpo/ipo/simpo/orpo   held-out loss falls, reward margin and log-prob accuracy rise
//   kto            held-out reward margin between desirable and undesirable rises
//   ppo            mean reward of greedy completions rises, KL stays bounded
//   (rlvr: test_efficacy, on the knowledge base, where the SFT start knows the facts)
//   rlaif          a judge's labels of held-out pairs agree with the ground truth
// plus the errors a person gets for data of the wrong kind or impossible settings.
#include "align/ai_judge.h"
#include "align/reward_model.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/dataset_source.h"
#include "engine_support.h"
#include "small_base.h"
#include "test_support.h"
#include "util/paths.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_align_objectives {

using nlohmann::json;

namespace {

// An eval metric before training (first eval event) and after (last one).
std::pair<double, double> evalMetric(const std::vector<json>& events, const std::string& key)
{
    const auto evals = fttest::eventsOf(events, "eval");
    if (evals.size() < 2)
        return {NAN, NAN};
    auto value = [&](const json& e) { return key == "loss" ? e["loss"].get<double>() : e["metrics"][key].get<double>(); };
    return {value(evals.front()), value(evals.back())};
}

std::string alignData(const char* file) { return ft::datasetsDir() + "/align/" + file; }

} // namespace

class TestAlignObjectives : public QObject {
    Q_OBJECT

    std::string m_base;
    std::string m_rewardModel;  // trained by the first test, used by PPO
    QTemporaryDir m_dir;

    json config(const std::string& name, const json& objective, const std::string& data, int64_t steps,
                double lr = 3e-3, const json& technique = {{"name", "lora"}, {"r", 8}, {"target_modules", {"all-linear"}}})
    {
        return {{"model", m_base},
                {"output_dir", m_dir.filePath(QString::fromStdString(name)).toStdString()},
                {"technique", technique},
                {"objective", objective},
                {"data", {{"train", data}}},
                {"training", {{"max_seq_len", 96}, {"batch_size", 8}, {"max_steps", steps}, {"threads", 1},
                              {"optimizer", {{"lr", lr}}}, {"schedule", {{"name", "constant"}}}, {"seed", 7}}},
                {"eval", {{"every_steps", 0}}},
                {"checkpoint", {{"every_steps", 0}}}};
    }

    std::vector<json> train(const json& j)
    {
        std::vector<json> events;
        auto outcome = fttest::runEngine(j, &events);
        if (outcome.status != "finished")
            qFatal("run %s did not finish", j["output_dir"].get<std::string>().c_str());
        for (const auto& e : events) {
            const std::string problem = ft::train::validateEvent(e);
            if (!problem.empty())
                qFatal("invalid event %s: %s", e.dump().c_str(), problem.c_str());
        }
        return events;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel();
    }

    void rewardModelReachesHeldOutAccuracy()
    {
        json j = config("reward", {{"name", "reward"}}, alignData("reward_pairs.jsonl"), 60);
        auto events = train(j);
        auto [before, after] = evalMetric(events, "accuracy");
        qInfo("reward model: held-out accuracy %.3f -> %.3f", before, after);
        QCOMPARE(before, 0.5);  // the zero-initialized head scores every pair a tie: chance, not 0
        QVERIFY2(after >= 0.8, qPrintable(QString("held-out accuracy %1").arg(after)));
        m_rewardModel = j["output_dir"].get<std::string>() + "/adapter";

        // The saved model scores text: the chosen answer of a held-out pair above the rejected one.
        auto scorer = ft::align::RewardScorer::load(m_base, m_rewardModel);
        const auto finished = fttest::eventsOf(events, "finished").back();
        std::vector<double> s = scorer->score({{"What is 4 + 3?", "7"}, {"What is 4 + 3?", "seven seven seven seven"}});
        QCOMPARE(int(s.size()), 2);
        QVERIFY2(s[0] > s[1], qPrintable(QString("scores %1 vs %2").arg(s[0]).arg(s[1])));
        QVERIFY(finished["metrics"].contains("eval_accuracy"));
    }

    void preferenceObjectivesRaiseTheirMargins_data()
    {
        QTest::addColumn<QString>("objective");
        QTest::addColumn<QString>("settings");  // extra objective settings, JSON
        QTest::addColumn<double>("lr");
        QTest::newRow("dpo") << "dpo" << "{}" << 3e-3;
        QTest::newRow("cdpo") << "dpo" << R"({"label_smoothing": 0.1})" << 3e-3;
        QTest::newRow("ipo") << "ipo" << "{}" << 3e-3;
        QTest::newRow("simpo") << "simpo" << "{}" << 3e-3;
        QTest::newRow("orpo") << "orpo" << "{}" << 3e-3;
    }

    void preferenceObjectivesRaiseTheirMargins()
    {
        QFETCH(QString, objective);
        QFETCH(QString, settings);
        QFETCH(double, lr);
        json o = json::parse(settings.toStdString());
        o["name"] = objective.toStdString();
        const std::string tag = QTest::currentDataTag();
        // The surface-separable pairs: what the small base can learn to tell apart and
        // generalize to held-out pairs (preference.jsonl needs arithmetic it lacks).
        auto events = train(config("pref-" + tag, o, alignData("reward_pairs.jsonl"), 30, lr));
        auto [marginBefore, marginAfter] = evalMetric(events, "rewards/margins");
        auto [accBefore, accAfter] = evalMetric(events, "logp_accuracy");
        qInfo("%s: held-out margin %.4f -> %.4f, log-prob accuracy %.3f -> %.3f", tag.c_str(), marginBefore,
              marginAfter, accBefore, accAfter);
        QVERIFY2(marginAfter > marginBefore + 0.05,
                 qPrintable(QString("margin %1 -> %2").arg(marginBefore).arg(marginAfter)));
        QVERIFY2(accAfter > accBefore + 0.05, qPrintable(QString("log-prob accuracy %1 -> %2").arg(accBefore).arg(accAfter)));
        auto [lossBefore, lossAfter] = evalMetric(events, "loss");
        QVERIFY2(lossAfter < lossBefore, qPrintable(QString("held-out loss %1 -> %2").arg(lossBefore).arg(lossAfter)));
        if (objective == "dpo") {
            // From chance (the policy is its reference: every implicit reward 0, a tie).
            auto [prefBefore, prefAfter] = evalMetric(events, "preference_accuracy");
            qInfo("%s: held-out preference accuracy %.3f -> %.3f", tag.c_str(), prefBefore, prefAfter);
            QCOMPARE(prefBefore, 0.5);
            QVERIFY2(prefAfter >= 0.8,
                     qPrintable(QString("preference accuracy %1 -> %2").arg(prefBefore).arg(prefAfter)));
        }
        const auto steps = fttest::eventsOf(events, "step");
        QVERIFY(steps.back()["metrics"].contains("rewards/accuracies"));
    }

    void ktoSeparatesDesirableFromUndesirable()
    {
        // Unpaired completions from the separable pairs: alternately the chosen answer
        // (desirable) and the rejected one (undesirable), never both of one prompt.
        const std::string data = m_dir.filePath("kto.jsonl").toStdString();
        {
            std::ofstream out(data);
            int i = 0;
            for (const auto& r : ft::train::loadRows(alignData("reward_pairs.jsonl")).rows) {
                const bool good = i++ % 2 == 0;
                out << json{{"prompt", r.fields["prompt"]}, {"completion", r.fields[good ? "chosen" : "rejected"]},
                            {"desirable", good}, {"split", ft::data::splitName(r.split)}}.dump()
                    << "\n";
            }
        }
        auto events = train(config("kto", {{"name", "kto"}}, data, 30));
        auto [before, after] = evalMetric(events, "rewards/margins");
        auto [accBefore, accAfter] = evalMetric(events, "ranking_accuracy");
        qInfo("kto: held-out reward margin %.4f -> %.4f, a desirable completion's reward above an undesirable one's "
              "%.3f -> %.3f", before, after, accBefore, accAfter);
        QVERIFY2(after > before + 0.05, qPrintable(QString("margin %1 -> %2").arg(before).arg(after)));
        QCOMPARE(accBefore, 0.5);  // the policy is its reference: every reward 0, a tie
        QVERIFY2(accAfter >= 0.7, qPrintable(QString("ranking accuracy %1 -> %2").arg(accBefore).arg(accAfter)));
        QVERIFY(fttest::eventsOf(events, "step").back()["metrics"].contains("kl"));
    }

    void ppoRaisesRewardWithBoundedKl()
    {
        if (m_rewardModel.empty())
            QSKIP("needs the reward model of rewardModelReachesHeldOutAccuracy");
        json o{{"name", "ppo"}, {"reward_model", m_rewardModel}, {"max_new_tokens", 12}, {"ppo_epochs", 2},
               {"kl_coef", 0.1}};
        json j = config("ppo", o, alignData("preference.jsonl"), 40, 3e-3);
        j["eval"]["max_batches"] = 4;
        auto events = train(j);
        auto [before, after] = evalMetric(events, "reward");
        double maxKl = 0;
        for (const auto& e : fttest::eventsOf(events, "step"))
            maxKl = std::max(maxKl, e["metrics"]["kl"].get<double>());
        auto [lengthBefore, lengthAfter] = evalMetric(events, "completion_length");
        qInfo("ppo: held-out mean reward %.4f -> %.4f, largest KL per completion %.4f, greedy completion length %.2f -> "
              "%.2f", before, after, maxKl, lengthBefore, lengthAfter);
        QVERIFY2(after > before + 0.1, qPrintable(QString("reward %1 -> %2").arg(before).arg(after)));
        QVERIFY2(maxKl < 10.0, qPrintable(QString("KL %1").arg(maxKl)));
    }

    // GRPO scored by the reward model instead of verifiers (TRL's reward_funcs with a
    // model): the held-out mean reward of greedy completions rises.
    void grpoWithARewardModelRaisesReward()
    {
        if (m_rewardModel.empty())
            QSKIP("needs the reward model of rewardModelReachesHeldOutAccuracy");
        json o{{"name", "grpo"}, {"reward_model", m_rewardModel}, {"num_generations", 4}, {"max_new_tokens", 12},
               {"beta", 0.05}};
        json j = config("grpo-rm", o, alignData("preference.jsonl"), 30, 3e-3);
        j["eval"]["max_batches"] = 4;
        auto events = train(j);
        auto [before, after] = evalMetric(events, "reward");
        auto [sampledBefore, sampledAfter] = evalMetric(events, "sampled_reward");
        auto [lengthBefore, lengthAfter] = evalMetric(events, "completion_length");
        qInfo("grpo with a reward model: held-out mean reward of greedy completions %.4f -> %.4f, sampled %.4f -> %.4f, "
              "greedy completion length %.2f -> %.2f",
              before, after, sampledBefore, sampledAfter, lengthBefore, lengthAfter);
        QVERIFY2(after > before + 0.1, qPrintable(QString("reward %1 -> %2").arg(before).arg(after)));
        QVERIFY2(sampledAfter > sampledBefore, qPrintable(QString("sampled reward %1 -> %2").arg(sampledBefore).arg(sampledAfter)));
        QVERIFY(fttest::eventsOf(events, "step").back()["metrics"].contains("reward_std"));
    }

    void rlaifLabelsAgreeWithGroundTruth()
    {
        // A judge: the small base fine-tuned on pairwise questions built from the
        // training pairs (both orders, so it cannot learn a position).
        const auto rows = ft::train::loadRows(alignData("reward_pairs.jsonl")).rows;
        std::vector<ft::data::Row> trainPairs, eval;
        for (const auto& r : rows)
            (r.split == ft::data::Split::Eval ? eval : trainPairs).push_back(r);
        const std::string judgeData = m_dir.filePath("judge_sft.jsonl").toStdString();
        {
            std::ofstream out(judgeData);
            for (const auto& r : trainPairs) {
                const std::string p = r.fields["prompt"], c = r.fields["chosen"], x = r.fields["rejected"];
                out << json{{"instruction", ft::align::pairwiseQuestion(p, c, x)}, {"output", "A"}}.dump() << "\n";
                out << json{{"instruction", ft::align::pairwiseQuestion(p, x, c)}, {"output", "B"}}.dump() << "\n";
            }
        }
        json sft = config("judge", {{"name", "sft"}}, judgeData, 120, 1e-3, {{"name", "full"}});
        sft["training"]["max_seq_len"] = 192;
        train(sft);
        const std::string judgeDir = sft["output_dir"].get<std::string>() + "/model";

        // Held-out pairs, half of them given with chosen and rejected swapped.
        std::vector<ft::data::Row> unlabelled = eval;
        for (size_t i = 0; i < unlabelled.size(); i += 2)
            std::swap(unlabelled[i].fields["chosen"], unlabelled[i].fields["rejected"]);
        int64_t unexpectedSource = 0;
        auto agreement = [&](const std::string& modelDir, int64_t& labelled, double threshold) -> double {
            auto tokenizer = ft::tok::loadTokenizer(modelDir);
            auto loaded = ft::model::loadModelFolder(modelDir);
            ft::align::JudgeOptions options;
            options.threshold = threshold;
            ft::align::AiJudge judge(loaded.model, *tokenizer, options);
            std::vector<ft::data::Row> out = unlabelled;
            labelled = ft::align::labelPairs(judge, out, "test");
            int64_t right = 0;
            for (size_t i = 0; i < out.size(); ++i)
                if (out[i].labelSource == ft::data::LabelSource::AI)
                    right += out[i].fields["chosen"] == eval[i].fields["chosen"] ? 1 : 0;
                else if (out[i].labelSource != ft::data::LabelSource::None)
                    ++unexpectedSource;
            return labelled > 0 ? double(right) / double(labelled) : 0.5;
        };
        int64_t baseLabelled = 0, judgeLabelled = 0, baseAll = 0, judgeAll = 0;
        const double threshold = ft::align::JudgeOptions{}.threshold;
        const double base = agreement(m_base, baseLabelled, threshold);
        const double tuned = agreement(judgeDir, judgeLabelled, threshold);
        // At threshold 0.5 every pair gets a label: the base judge's agreement is then its
        // raw skill (about chance), the baseline the tuned judge must beat.
        const double baseForced = agreement(m_base, baseAll, 0.5);
        const double tunedForced = agreement(judgeDir, judgeAll, 0.5);
        qInfo("rlaif: agreement with the ground truth at threshold %.2f: base judge %.3f (%lld of %zu labelled), "
              "fine-tuned judge %.3f (%lld labelled); every pair labelled (threshold 0.5): base %.3f, fine-tuned %.3f",
              threshold, base, (long long)baseLabelled, eval.size(), tuned, (long long)judgeLabelled, baseForced,
              tunedForced);
        QCOMPARE(unexpectedSource, int64_t(0));
        QCOMPARE(baseAll, int64_t(eval.size()));
        QCOMPARE(judgeAll, int64_t(eval.size()));
        QVERIFY2(tunedForced >= baseForced + 0.2,
                 qPrintable(QString("forced agreement: base %1, fine-tuned %2").arg(baseForced).arg(tunedForced)));
        QVERIFY2(tuned >= 0.75, qPrintable(QString("agreement %1").arg(tuned)));
        QVERIFY2(double(judgeLabelled) >= 0.5 * double(eval.size()), "the judge is confident on at least half");
        QVERIFY2(judgeLabelled > baseLabelled, "the tuned judge is confident more often than the base");
    }

    // Full and freeze fine-tuning have no adapter to switch off: GRPO's KL term then
    // compares with a frozen copy of the trained layers. It is exactly 0 on the first
    // step (policy = reference) and grows once the policy moves.
    void klWithoutAnAdapterUsesAFrozenCopy()
    {
        json o{{"name", "rlvr"}, {"num_generations", 4}, {"max_new_tokens", 6}, {"beta", 0.1}};
        json j = config("rlvr-freeze-kl", o, alignData("verifiable.jsonl"), 3, 1e-2,
                        {{"name", "freeze"}, {"trainable_layers", 1}});
        j["training"]["batch_size"] = 4;
        auto events = train(j);
        bool logged = false;
        for (const auto& e : fttest::eventsOf(events, "log"))
            logged = logged || e.value("message", std::string()).find("frozen copy") != std::string::npos;
        QVERIFY2(logged, "the run says where its KL reference comes from");
        const auto steps = fttest::eventsOf(events, "step");
        QCOMPARE(steps.size(), size_t(3));
        QCOMPARE(steps.front()["metrics"]["kl"].get<double>(), 0.0);
        qInfo("rlvr with freeze: KL to the frozen copy %.3g at step 3", steps.back()["metrics"]["kl"].get<double>());
        QVERIFY(steps.back()["metrics"]["kl"].get<double>() > 0.0);
    }

    void wrongDataAndImpossibleSettingsAreRefused()
    {
        const QString kind = fttest::errorOf([&] {
            train(config("bad-kind", {{"name", "dpo"}}, ft::datasetsDir() + "/sft/instructions.jsonl", 2));
        });
        QVERIFY2(kind.contains("instruction") && kind.contains("dpo") && kind.contains("preference"), qPrintable(kind));
        const QString noReward = fttest::errorOf([&] {
            train(config("bad-ppo", {{"name", "ppo"}}, alignData("preference.jsonl"), 2));
        });
        QVERIFY2(noReward.contains("verifiable") && noReward.contains("reward_model"), qPrintable(noReward));
    }
};

FT_TEST_MAIN(TestAlignObjectives)

} // namespace test_align_objectives

#include "test_align_objectives.moc"
