// Mixed precision (training.precision): the loss scaler's arithmetic, autocast scopes
// (on, off inside on, restored after), activation checkpointing replaying a block under
// the autocast it first ran with (gradients identical), and the engine training LoRA
// SFT with a bf16 base under CPU bf16 autocast: held-out loss falls about as much as in
// fp32. fp16 is CUDA-only (dynamic loss scaling) and is refused on the CPU with a reason.
// libtorch before any Qt header: Qt's `slots` macro breaks torch's headers.
#include "model/autocast.h"
#include "model/llama.h"
#include "peft/adapter.h"
#include "peft/registry.h"
#include "train/loss_scaler.h"
#include "util/paths.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cmath>

#include "engine_support.h"
#include "small_base.h"
#include "test_support.h"
#include "tiny_models.h"

#include <QTemporaryDir>
#include <QtTest>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_mixed_precision {

using nlohmann::json;
using ft::model::AutocastScope;
using ft::model::AutocastState;

namespace {

std::vector<at::Tensor> loraGrads(bool checkpointing)
{
    at::manual_seed(3);
    ft::model::CausalLM model(fttest::tinyConfig());
    model->initializeWeights(11);
    model->to(at::kBFloat16);  // the frozen base in bf16, as the engine loads it
    ft::peft::PeftSettings settings;
    settings.technique = "lora";
    settings.targetModules = {"all-linear"};
    settings.loraDropout = 0.2;
    auto adapter = ft::peft::applyTechnique(model, settings);
    for (auto& [name, t] : adapter->trainableParameters()) {
        t.set_data(t.data().to(at::kFloat));
        if (name.find("lora_B") != std::string::npos)
            t.data().normal_(0, 0.1);
    }
    model->model->gradientCheckpointing = checkpointing;
    model->train();
    at::manual_seed(5);
    at::Tensor ids = at::randint(0, 61, {2, 9}, at::kLong);
    at::Tensor loss;
    {
        AutocastScope autocast(AutocastState::enabledFor(c10::Device(c10::kCPU), c10::kBFloat16));
        at::Tensor logits = model->forward(ids);  // (B, T, V)
        loss = at::cross_entropy_loss(logits.narrow(1, 0, 8).reshape({-1, 61}).to(at::kFloat),
                                      ids.narrow(1, 1, 8).reshape({-1}));
    }
    loss.backward();
    std::vector<at::Tensor> grads;
    for (auto& [_, t] : adapter->trainableParameters())
        grads.push_back(t.grad().defined() ? t.grad().clone() : at::zeros_like(t));
    return grads;
}

} // namespace

class TestMixedPrecision : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_base;

    json config(const std::string& name, const std::string& precision)
    {
        return {{"model", m_base},
                {"output_dir", m_dir.filePath(QString::fromStdString(name)).toStdString()},
                {"technique", {{"name", "lora"}, {"r", 8}, {"target_modules", {"all-linear"}}}},
                {"objective", {{"name", "sft"}}},
                {"data", {{"train", ft::datasetsDir() + "/sft/instructions.jsonl"}}},
                {"training", {{"max_seq_len", 96}, {"batch_size", 8}, {"max_steps", 30}, {"threads", 1},
                              {"precision", precision}, {"optimizer", {{"lr", 3e-3}}},
                              {"schedule", {{"name", "constant"}}}, {"seed", 7}}},
                {"eval", {{"every_steps", 0}, {"max_batches", 4}}},
                {"checkpoint", {{"every_steps", 0}}}};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel();
    }

    void lossScalerScalesUnscalesAndAdapts()
    {
        ft::train::LossScaler scaler(true, 1024.0, 3);
        QCOMPARE(scaler.scaled(at::full({}, 0.5)).item<double>(), 512.0);
        at::Tensor p = at::zeros({2}).requires_grad_(true);
        p.mutable_grad() = at::full({2}, 2048.0);
        QVERIFY(scaler.unscale({p}));
        QCOMPARE(p.grad()[0].item<double>(), 2.0);
        p.mutable_grad() = at::tensor({1.0f, std::numeric_limits<float>::infinity()});
        QVERIFY(!scaler.unscale({p}));
        scaler.update(false);
        QCOMPARE(scaler.scale(), 512.0);
        for (int i = 0; i < 3; ++i)
            scaler.update(true);
        QCOMPARE(scaler.scale(), 1024.0);
        ft::train::LossScaler off(false);
        QCOMPARE(off.scale(), 1.0);
        QCOMPARE(off.scaled(at::full({}, 0.5)).item<double>(), 0.5);
    }

    void autocastScopesNestAndRestore()
    {
        const at::Tensor a = at::randn({4, 4});
        QVERIFY(!AutocastState::current().enabled());
        {
            AutocastScope on(AutocastState::enabledFor(c10::Device(c10::kCPU), c10::kBFloat16));
            QCOMPARE(at::mm(a, a).scalar_type(), at::kBFloat16);
            {
                AutocastScope off(AutocastState::off());
                QCOMPARE(at::mm(a, a).scalar_type(), at::kFloat);
            }
            QCOMPARE(at::mm(a, a).scalar_type(), at::kBFloat16);
        }
        QVERIFY(!AutocastState::current().enabled());
        QCOMPARE(at::mm(a, a).scalar_type(), at::kFloat);
        QVERIFY_THROWS_EXCEPTION(std::exception, AutocastState::enabledFor(c10::Device(c10::kCPU), c10::kHalf));
    }

    void checkpointingReplaysTheAutocast()
    {
        const auto plain = loraGrads(false);
        const auto recomputed = loraGrads(true);
        QCOMPARE(recomputed.size(), plain.size());
        for (size_t i = 0; i < plain.size(); ++i)
            QVERIFY2(at::equal(plain[i], recomputed[i]),
                     qPrintable(QString("gradient %1 differs by %2").arg(i).arg((plain[i] - recomputed[i]).abs().max().item<double>())));
    }

    void bf16TrainsLikeFp32()
    {
        std::vector<json> fp32Events, bf16Events;
        fttest::runEngine(config("fp32", "fp32"), &fp32Events);
        auto outcome = fttest::runEngine(config("bf16", "bf16"), &bf16Events);
        QCOMPARE(QString::fromStdString(outcome.status), QString("finished"));
        const json started = fttest::eventsOf(bf16Events, "started").front();
        QCOMPARE(QString::fromStdString(started["dtype"].get<std::string>()), QString("bf16"));
        const auto fp32 = fttest::evalLosses(fp32Events);
        const auto bf16 = fttest::evalLosses(bf16Events);
        QVERIFY(fp32.size() >= 2 && bf16.size() >= 2);
        const double dropFp32 = fp32.front() - fp32.back();
        const double dropBf16 = bf16.front() - bf16.back();
        qInfo("held-out loss fp32 %.6f -> %.6f, bf16 autocast %.6f -> %.6f; |bf16 - fp32| %.6f before, %.6f after",
              fp32.front(), fp32.back(), bf16.front(), bf16.back(), std::abs(bf16.front() - fp32.front()),
              std::abs(bf16.back() - fp32.back()));
        QVERIFY2(dropBf16 > 0.2, qPrintable(QString("bf16 held-out loss fell by only %1").arg(dropBf16)));
        // Before training the two runs evaluate the same model, once rounded to bf16: that
        // must agree closely (measured 0.00011 on an earlier session's machine, 0.00016 on an
        // AVX2-only EPYC). After 30 steps each trained in its own precision, the gap depends on the
        // CPU's bf16 kernels (measured 0.00053 on that machine, 0.0085 on the EPYC):
        // it must stay within bf16's relative precision (2^-8) of the loss, and far below
        // the drop (0.33).
        const double bf16Step = std::ldexp(fp32.back(), -8);
        QVERIFY2(std::abs(bf16.back() - fp32.back()) < bf16Step,
                 qPrintable(QString("bf16 ends at %1, fp32 at %2 (allowed: %3)").arg(bf16.back()).arg(fp32.back()).arg(bf16Step)));
        QVERIFY2(std::abs(bf16.front() - fp32.front()) < 0.0005,  // the same model, rounded
                 qPrintable(QString("bf16 starts at %1, fp32 at %2").arg(bf16.front()).arg(fp32.front())));
        QVERIFY(dropFp32 > 0.2);
    }

    void fp16IsRefusedOnTheCpu()
    {
        const QString message = fttest::errorOf([&] { fttest::runEngine(config("fp16", "fp16")); });
        QVERIFY2(message.contains("training.precision: fp16 needs a CUDA device"), qPrintable(message));
    }
};

FT_TEST_MAIN(TestMixedPrecision)

} // namespace test_mixed_precision

#include "test_mixed_precision.moc"
