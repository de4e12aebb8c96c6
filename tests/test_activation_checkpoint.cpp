// Gradient checkpointing (model/activation_checkpoint.h): with it on, the loss and
// every gradient equal those of the plain forward (fp64, LoRA with dropout, so the
// replayed random state matters; full fine-tuning too), the random stream after the
// step is the one a plain step leaves, and the engine's loss curve is unchanged.
#include "engine_support.h"
#include "model/activation_checkpoint.h"
#include "model/llama.h"
#include "peft/adapter.h"
#include "peft/registry.h"
#include "small_base.h"
#include "tiny_models.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <QTemporaryDir>
#include <QtTest>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_activation_checkpoint {

using nlohmann::json;

namespace {

struct StepResult {
    double loss = 0;
    std::vector<at::Tensor> grads;
    double nextRandom = 0;  // the first draw after the step
};

StepResult step(bool checkpointing, const std::string& technique)
{
    at::manual_seed(3);
    ft::model::CausalLM model(fttest::tinyConfig());
    model->initializeWeights(11);
    model->to(at::kDouble);
    ft::peft::PeftSettings settings;
    settings.technique = technique;
    settings.targetModules = {"all-linear"};
    settings.loraDropout = 0.2;
    auto adapter = ft::peft::applyTechnique(model, settings);
    for (auto& [_, t] : adapter->trainableParameters())
        t.set_data(t.data().to(at::kDouble));
    if (technique == "lora")  // B starts at zero: give it values so gradients reach A too
        for (auto& [name, t] : adapter->trainableParameters())
            if (name.find("lora_B") != std::string::npos)
                t.data().normal_(0, 0.1);
    model->model->gradientCheckpointing = checkpointing;
    model->train();
    at::manual_seed(5);
    at::Tensor ids = at::randint(0, 61, {2, 9}, at::kLong);
    at::Tensor logits = model->forward(ids);  // (B, T, V)
    at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, 8).reshape({-1, 61}), ids.narrow(1, 1, 8).reshape({-1}));
    loss.backward();
    StepResult r;
    r.loss = loss.item<double>();
    for (auto& [_, t] : adapter->trainableParameters())
        r.grads.push_back(t.grad().defined() ? t.grad().clone() : at::zeros_like(t));
    r.nextRandom = at::rand({1}, at::kDouble).item<double>();
    return r;
}

} // namespace

class TestActivationCheckpoint : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void gradientsEqualThePlainForward_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::newRow("lora with dropout") << "lora";
        QTest::newRow("full") << "full";
    }

    void gradientsEqualThePlainForward()
    {
        QFETCH(QString, technique);
        StepResult plain = step(false, technique.toStdString());
        StepResult recomputed = step(true, technique.toStdString());
        QCOMPARE(recomputed.loss, plain.loss);
        QCOMPARE(recomputed.grads.size(), plain.grads.size());
        double worst = 0, largest = 0;
        for (size_t i = 0; i < plain.grads.size(); ++i) {
            worst = std::max(worst, (recomputed.grads[i] - plain.grads[i]).abs().max().item<double>());
            largest = std::max(largest, plain.grads[i].abs().max().item<double>());
        }
        qInfo("%s: %zu gradient tensors, largest |g| %.3g, largest difference %.3g", qPrintable(technique),
              plain.grads.size(), largest, worst);
        QVERIFY2(largest > 0, "the step has gradients");
        QVERIFY2(worst <= 1e-12 * std::max(1.0, largest), qPrintable(QString("difference %1").arg(worst)));
        QCOMPARE(recomputed.nextRandom, plain.nextRandom);
    }

    void evaluationAndCachedDecodingAreUnaffected()
    {
        ft::model::CausalLM model(fttest::tinyConfig());
        model->initializeWeights(2);
        model->model->gradientCheckpointing = true;
        model->eval();
        at::Tensor ids = at::randint(0, 61, {1, 6}, at::kLong);
        torch::NoGradGuard noGrad;
        at::Tensor a = model->forward(ids);
        model->model->gradientCheckpointing = false;
        QVERIFY((model->forward(ids) - a).abs().max().item<double>() == 0.0);
    }

    void engineLossCurveIsUnchanged()
    {
        QTemporaryDir dir;
        auto config = [&](const char* name, bool on) {
            return json{{"model", fttest::smallBaseModel()},
                        {"output_dir", dir.filePath(name).toStdString()},
                        {"technique", {{"name", "lora"}, {"target_modules", {"all-linear"}}}},
                        {"data", {{"train", ft::datasetsDir() + "/sft/instructions.jsonl"}}},
                        {"training", {{"max_seq_len", 64}, {"batch_size", 4}, {"max_steps", 4}, {"threads", 1},
                                      {"gradient_checkpointing", on}, {"seed", 1}}},
                        {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                        {"checkpoint", {{"every_steps", 0}}}};
        };
        std::vector<json> plain, recomputed;
        fttest::runEngine(config("plain", false), &plain);
        fttest::runEngine(config("recomputed", true), &recomputed);
        const auto a = fttest::stepLosses(plain), b = fttest::stepLosses(recomputed);
        QCOMPARE(int(a.size()), 4);
        for (size_t i = 0; i < a.size(); ++i)
            QVERIFY2(std::abs(a[i] - b[i]) <= 1e-6 * std::abs(a[i]),
                     qPrintable(QString("step %1: %2 vs %3").arg(i + 1).arg(a[i]).arg(b[i])));
    }
};

FT_TEST_MAIN(TestActivationCheckpoint)

} // namespace test_activation_checkpoint

#include "test_activation_checkpoint.moc"
