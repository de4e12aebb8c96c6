// The pure pieces of training set-up: learning-rate schedules at hand-computed points
// (Hugging Face's formulas, warmup edges included), AdamW's parameter groups and one
// update against its closed form, gradient clipping against a hand-computed norm and
// libtorch's own clip_grad_norm_, and the memory estimate's formula at hand-computed
// sizes. Training-time measurements live in test_checkpoint.
#include "model/llama.h"
#include "peft/technique.h"
#include "test_support.h"
#include "tiny_models.h"
#include "train/memory_estimate.h"
#include "train/optimizer.h"
#include "train/schedule.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>

#include <QtTest>

#include <cmath>
#include <limits>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_schedule {

using namespace ft;
using namespace ft::train;

namespace {

ScheduleSettings schedule(const std::string& name, int64_t warmup, double minRatio = 0)
{
    ScheduleSettings s;
    s.name = name;
    s.warmupSteps = warmup;
    s.minLrRatio = minRatio;
    return s;
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-12 + 1e-9 * std::abs(b); }

} // namespace

class TestSchedule : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // ---- schedules -------------------------------------------------------------

    void schedules_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("warmup");
        QTest::addColumn<double>("minRatio");
        QTest::addColumn<int>("step");
        QTest::addColumn<int>("total");
        QTest::addColumn<double>("peak");
        QTest::addColumn<double>("expected");
        // warmup: multiplier step / warmup, so the first update runs at rate 0 (HF's LambdaLR).
        QTest::newRow("constant warmup s0") << "constant" << 4 << 0.0 << 0 << 10 << 1e-3 << 0.0;
        QTest::newRow("constant warmup s1") << "constant" << 4 << 0.0 << 1 << 10 << 1e-3 << 2.5e-4;
        QTest::newRow("constant warmup s3") << "constant" << 4 << 0.0 << 3 << 10 << 1e-3 << 7.5e-4;
        QTest::newRow("constant warmup end") << "constant" << 4 << 0.0 << 4 << 10 << 1e-3 << 1e-3;
        QTest::newRow("constant past total") << "constant" << 4 << 0.0 << 50 << 10 << 1e-3 << 1e-3;
        QTest::newRow("constant no warmup") << "constant" << 0 << 0.0 << 0 << 10 << 1e-3 << 1e-3;
        // linear, W = 2, N = 10: (N - s) / (N - W) after warmup.
        QTest::newRow("linear s0") << "linear" << 2 << 0.0 << 0 << 10 << 1.0 << 0.0;
        QTest::newRow("linear s1") << "linear" << 2 << 0.0 << 1 << 10 << 1.0 << 0.5;
        QTest::newRow("linear s2") << "linear" << 2 << 0.0 << 2 << 10 << 1.0 << 1.0;
        QTest::newRow("linear s6") << "linear" << 2 << 0.0 << 6 << 10 << 1.0 << 0.5;
        QTest::newRow("linear s9") << "linear" << 2 << 0.0 << 9 << 10 << 1.0 << 0.125;
        QTest::newRow("linear s10") << "linear" << 2 << 0.0 << 10 << 10 << 1.0 << 0.0;
        QTest::newRow("linear past total") << "linear" << 2 << 0.0 << 12 << 10 << 1.0 << 0.0;
        QTest::newRow("linear floor s6") << "linear" << 2 << 0.1 << 6 << 10 << 1.0 << 0.55;
        QTest::newRow("linear floor s10") << "linear" << 2 << 0.1 << 10 << 10 << 1.0 << 0.1;
        QTest::newRow("linear no warmup s0") << "linear" << 0 << 0.0 << 0 << 8 << 4.0 << 4.0;
        QTest::newRow("linear no warmup s2") << "linear" << 0 << 0.0 << 2 << 8 << 4.0 << 3.0;
        // cosine, W = 2, N = 10, peak 2: 0.5 (1 + cos(pi (s - W) / (N - W))).
        QTest::newRow("cosine s1") << "cosine" << 2 << 0.0 << 1 << 10 << 2.0 << 1.0;
        QTest::newRow("cosine s2") << "cosine" << 2 << 0.0 << 2 << 10 << 2.0 << 2.0;
        QTest::newRow("cosine s4") << "cosine" << 2 << 0.0 << 4 << 10 << 2.0 << 1.7071067811865475;  // 1 + cos(pi/4)
        QTest::newRow("cosine s6") << "cosine" << 2 << 0.0 << 6 << 10 << 2.0 << 1.0;
        QTest::newRow("cosine s8") << "cosine" << 2 << 0.0 << 8 << 10 << 2.0 << 0.29289321881345254;  // 1 - cos(pi/4)
        QTest::newRow("cosine s10") << "cosine" << 2 << 0.0 << 10 << 10 << 2.0 << 0.0;
        QTest::newRow("cosine past total") << "cosine" << 2 << 0.0 << 11 << 10 << 2.0 << 0.0;
        QTest::newRow("cosine floor s6") << "cosine" << 2 << 0.1 << 6 << 10 << 2.0 << 1.1;
        QTest::newRow("cosine floor s10") << "cosine" << 2 << 0.1 << 10 << 10 << 2.0 << 0.2;
        QTest::newRow("cosine floor s4") << "cosine" << 2 << 0.25 << 4 << 10 << 2.0 << 1.7803300858899107;  // 2 (0.25 + 0.75 * 0.853553...)
        // warmup edges: one warmup step; all steps warmup.
        QTest::newRow("cosine W1 s0") << "cosine" << 1 << 0.0 << 0 << 5 << 1.0 << 0.0;
        QTest::newRow("cosine W1 s1") << "cosine" << 1 << 0.0 << 1 << 5 << 1.0 << 1.0;
        QTest::newRow("cosine W=N s4") << "cosine" << 5 << 0.0 << 4 << 5 << 1.0 << 0.8;
        QTest::newRow("cosine W=N s5") << "cosine" << 5 << 0.0 << 5 << 5 << 1.0 << 1.0;
        QTest::newRow("linear W=N s5") << "linear" << 5 << 0.0 << 5 << 5 << 1.0 << 0.0;
    }
    void schedules()
    {
        QFETCH(QString, name);
        QFETCH(int, warmup);
        QFETCH(double, minRatio);
        QFETCH(int, step);
        QFETCH(int, total);
        QFETCH(double, peak);
        QFETCH(double, expected);
        const double lr = learningRate(schedule(name.toStdString(), warmup, minRatio), step, total, peak);
        QVERIFY2(near(lr, expected), qPrintable(QString("lr %1, expected %2").arg(lr, 0, 'g', 17).arg(expected, 0, 'g', 17)));
    }

    void scheduleValidation()
    {
        QVERIFY(fttest::errorOf([] { validateSchedule(schedule("cosine", 3, 0.1)); }).isEmpty());
        const QString unknown = fttest::errorOf([] { validateSchedule(schedule("step", 0)); });
        QVERIFY2(unknown.contains("'step'") && unknown.contains("constant, linear, cosine"), qPrintable(unknown));
        QVERIFY(fttest::errorOf([] { validateSchedule(schedule("linear", -1)); }).contains("warmup"));
        QVERIFY(fttest::errorOf([] { validateSchedule(schedule("linear", 0, 1.5)); }).contains("min_lr_ratio"));
        QVERIFY(fttest::errorOf([] { learningRate(schedule("step", 0), 5, 10, 1.0); }).contains("'step'"));
    }

    void pretrainScheduleUnchanged()
    {
        // Pretraining's schedule reaches the peak at the end of warmup: (step + 1) / warmup.
        QVERIFY(near(cosineWithWarmup(0, 4, 20, 1.0, 0.1), 0.25));
        QVERIFY(near(cosineWithWarmup(3, 4, 20, 1.0, 0.1), 1.0));
        QVERIFY(near(cosineWithWarmup(12, 4, 20, 1.0, 0.1), 0.55));
        QVERIFY(near(cosineWithWarmup(20, 4, 20, 1.0, 0.1), 0.1));
    }

    // ---- AdamW -----------------------------------------------------------------

    void weightDecayRule_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("decays");
        QTest::newRow("projection") << "model.layers.0.self_attn.q_proj.weight" << true;
        QTest::newRow("embedding") << "model.embed_tokens.weight" << true;
        QTest::newRow("lm head") << "lm_head.weight" << true;
        QTest::newRow("lora A") << "model.layers.0.self_attn.q_proj.lora_A.weight" << true;
        QTest::newRow("1-d ia3 vector") << "model.layers.0.mlp.down_proj.ia3_l" << true;
        QTest::newRow("bias") << "model.layers.0.self_attn.q_proj.bias" << false;
        QTest::newRow("input norm") << "model.layers.0.input_layernorm.weight" << false;
        QTest::newRow("post norm") << "model.layers.1.post_attention_layernorm.weight" << false;
        QTest::newRow("final norm") << "model.norm.weight" << false;
        QTest::newRow("LayerNorm") << "encoder.LayerNorm.weight" << false;
    }
    void weightDecayRule()
    {
        QFETCH(QString, name);
        QFETCH(bool, decays);
        QCOMPARE(usesWeightDecay(name.toStdString()), decays);
    }

    void parameterGroupsOfTinyModel()
    {
        model::CausalLM m(fttest::tinyConfig(model::Arch::Qwen2));  // has q/k/v biases
        NamedTensors trainable;
        for (auto& p : m->named_parameters())
            trainable.emplace_back(p.key(), p.value());
        AdamWSettings s;
        s.weightDecay = 0.1;
        auto opt = makeAdamW(trainable, s);
        QCOMPARE(int(opt->param_groups().size()), 2);
        std::vector<const void*> decay, noDecay;
        for (const auto& [name, t] : trainable) {
            const bool exempt = name.find("bias") != std::string::npos || name.find("norm") != std::string::npos;
            (exempt ? noDecay : decay).push_back(t.unsafeGetTensorImpl());
        }
        auto implsOf = [](const torch::optim::OptimizerParamGroup& g) {
            std::vector<const void*> v;
            for (const auto& p : g.params())
                v.push_back(p.unsafeGetTensorImpl());
            return v;
        };
        QVERIFY(implsOf(opt->param_groups()[0]) == decay);
        QVERIFY(implsOf(opt->param_groups()[1]) == noDecay);
        QVERIFY(noDecay.size() >= 2 * 2 + 1 + 3 * 2);  // two norms per layer, final norm, q/k/v biases per layer
        auto wd = [&](int g) { return static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[g].options()).weight_decay(); };
        QCOMPARE(wd(0), 0.1);
        QCOMPARE(wd(1), 0.0);

        setLearningRate(*opt, 0.125);
        for (auto& g : opt->param_groups())
            QCOMPARE(g.options().get_lr(), 0.125);
    }

    void adamwUpdateMatchesClosedForm()
    {
        // One update from zero state: m = (1 - b1) g, v = (1 - b2) g^2, bias-corrected
        // m^ = g, v^ = g^2, so w1 = w0 (1 - lr wd) - lr g / (|g| + eps) with decoupled decay.
        at::Tensor w = at::tensor({0.5, -2.0, 3.0, 0.25}, at::kDouble).view({2, 2}).requires_grad_();
        at::Tensor b = at::tensor({1.0, -1.0}, at::kDouble).requires_grad_();
        AdamWSettings s;
        s.learningRate = 0.01;
        s.weightDecay = 0.5;
        s.eps = 1e-3;
        auto opt = makeAdamW({{"layer.weight", w}, {"layer.bias", b}}, s);
        const std::vector<double> gw = {0.2, -0.4, 1.5, -0.01}, gb = {0.3, 0.0};
        w.mutable_grad() = at::tensor(gw, at::kDouble).view({2, 2});
        b.mutable_grad() = at::tensor(gb, at::kDouble);
        opt->step();
        const std::vector<double> w0 = {0.5, -2.0, 3.0, 0.25}, b0 = {1.0, -1.0};
        for (int i = 0; i < 4; ++i) {
            const double expected = w0[i] * (1 - 0.01 * 0.5) - 0.01 * gw[i] / (std::abs(gw[i]) + 1e-3);
            QVERIFY2(near(w.flatten()[i].item<double>(), expected), qPrintable(QString("weight %1").arg(i)));
        }
        for (int i = 0; i < 2; ++i) {
            const double expected = b0[i] - 0.01 * gb[i] / (std::abs(gb[i]) + 1e-3);  // no decay on biases
            QVERIFY2(near(b[i].item<double>(), expected), qPrintable(QString("bias %1").arg(i)));
        }
        const auto* state = dynamic_cast<const torch::optim::AdamWParamState*>(optimizerStateOf(*opt, w));
        QVERIFY(state);
        QCOMPARE(state->step(), int64_t(1));
        QVERIFY(near(state->exp_avg().flatten()[2].item<double>(), 0.1 * 1.5));
        QVERIFY(near(state->exp_avg_sq().flatten()[2].item<double>(), 0.001 * 1.5 * 1.5));
    }

    void makeAdamWRejectsBadTensors()
    {
        at::Tensor frozen = at::zeros({2, 2});
        QVERIFY(fttest::errorOf([&] { makeAdamW({{"frozen.weight", frozen}}, {}); }).contains("'frozen.weight'"));
        at::Tensor w = at::zeros({2, 2}).requires_grad_();
        const QString tied = fttest::errorOf([&] { makeAdamW({{"a.weight", w}, {"b.weight", w}}, {}); });
        QVERIFY2(tied.contains("'a.weight'") && tied.contains("'b.weight'"), qPrintable(tied));
        AdamWSettings bad;
        bad.beta2 = 1.0;
        QVERIFY(fttest::errorOf([&] { makeAdamW({{"a.weight", w}}, bad); }).contains("betas"));
        // Every parameter without decay (IA3-like): the decay group is empty and a step still works.
        at::Tensor n = at::ones({3}).requires_grad_();
        auto opt = makeAdamW({{"x.norm.weight", n}}, {});
        QVERIFY(opt->param_groups()[0].params().empty());
        n.mutable_grad() = at::ones({3});
        opt->step();
        QVERIFY(n.lt(1.0).all().item<bool>());
    }

    // LoRA+: the technique's learning-rate scale puts its B matrices into their own
    // groups; one AdamW step moves each element by lr x scale (Adam's first step is
    // lr * g / (|g| + eps)), checked element by element against that closed form.
    void loraPlusTrainsBFasterThanA()
    {
        const auto& plus = ft::peft::technique("loraplus");
        ft::peft::PeftSettings s;
        s.technique = "loraplus";
        s.extra["loraplus_lr_ratio"] = 16.0;
        const auto f64 = at::TensorOptions().dtype(at::kDouble);
        at::Tensor a = at::full({2, 3}, 0.5, f64).requires_grad_(), b = at::full({3, 2}, 0.5, f64).requires_grad_(),
                   bias = at::full({3}, 0.5, f64).requires_grad_();
        const NamedTensors trainable = {{"m.q_proj.lora_A.weight", a}, {"m.q_proj.lora_B.weight", b}, {"m.q_proj.bias", bias}};
        std::vector<double> scales;
        AdamWSettings settings;
        settings.eps = 1e-12;
        auto opt = makeAdamW(trainable, settings, [&](const std::string& n) { return plus.learningRateScale(s, n); },
                             &scales);
        QCOMPARE(scales, (std::vector<double>{1, 1, 16, 16}));
        QCOMPARE(int(opt->param_groups()[2].params().size()), 1);  // lora_B decays
        QVERIFY(opt->param_groups()[2].params()[0].is_same(b));
        setLearningRate(*opt, 1e-3, scales);
        for (at::Tensor t : {a, b, bias})
            t.mutable_grad() = at::full_like(t.detach(), 0.25);
        opt->step();
        QVERIFY(std::abs(a[0][0].item<double>() - (0.5 - 1e-3)) < 1e-9);
        QVERIFY(std::abs(b[0][0].item<double>() - (0.5 - 16e-3)) < 1e-9);
        QVERIFY(std::abs(bias[0].item<double>() - (0.5 - 1e-3)) < 1e-9);
        // Plain LoRA keeps the two groups of every other technique.
        QVERIFY(ft::peft::technique("lora").learningRateScale == nullptr);
        QVERIFY(fttest::errorOf([&] { makeAdamW(trainable, settings, [](const std::string&) { return 0.0; }); })
                    .contains("learning-rate scale"));
    }

    // ---- gradient clipping -----------------------------------------------------

    void clipGradNormHandComputed()
    {
        at::Tensor a = at::zeros({2}).requires_grad_(), b = at::zeros({1, 1}).requires_grad_(), c = at::zeros({3}).requires_grad_();
        a.mutable_grad() = at::tensor({3.0f, 4.0f});
        b.mutable_grad() = at::tensor({12.0f}).view({1, 1});
        // c has no gradient and is skipped
        const double norm = clipGradNorm({a, b, c}, 1.0);
        QVERIFY(std::abs(norm - 13.0) < 1e-5);
        const double scale = 1.0 / (13.0 + 1e-6);
        QVERIFY(std::abs(a.grad()[0].item<double>() - 3.0 * scale) < 1e-6);
        QVERIFY(std::abs(b.grad().flatten()[0].item<double>() - 12.0 * scale) < 1e-6);

        a.mutable_grad() = at::tensor({3.0f, 4.0f});
        QVERIFY(std::abs(clipGradNorm({a}, 20.0) - 5.0) < 1e-6);
        QCOMPARE(a.grad()[1].item<float>(), 4.0f);  // under the limit: untouched
        QVERIFY(std::abs(clipGradNorm({a}, 0.0) - 5.0) < 1e-6);  // 0: measure only
        QCOMPARE(a.grad()[1].item<float>(), 4.0f);
        QCOMPARE(clipGradNorm(std::vector<at::Tensor>{c}, 1.0), 0.0);
    }

    void clipGradNormAgreesWithLibtorch()
    {
        auto gen = at::detail::createCPUGenerator(11);
        std::vector<at::Tensor> mine, theirs;
        for (auto shape : {std::vector<int64_t>{7, 5}, std::vector<int64_t>{13}, std::vector<int64_t>{3, 4, 2}}) {
            at::Tensor g = at::randn(shape, gen) * 3.0;
            at::Tensor p1 = at::zeros(shape).requires_grad_(), p2 = at::zeros(shape).requires_grad_();
            p1.mutable_grad() = g.clone();
            p2.mutable_grad() = g.clone();
            mine.push_back(p1);
            theirs.push_back(p2);
        }
        const double n1 = clipGradNorm(mine, 0.5);
        const double n2 = torch::nn::utils::clip_grad_norm_(theirs, 0.5);
        QCOMPARE(n1, n2);
        for (size_t i = 0; i < mine.size(); ++i)
            QVERIFY(at::equal(mine[i].grad(), theirs[i].grad()));
    }

    void clipGradNormReportsNonFinite()
    {
        for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
            at::Tensor a = at::zeros({3}).requires_grad_(), b = at::zeros({2}).requires_grad_();
            a.mutable_grad() = at::tensor({1.0f, bad, 2.0f});
            b.mutable_grad() = at::tensor({5.0f, 6.0f});
            double norm = 0;
            QVERIFY(fttest::errorOf([&] { norm = clipGradNorm({a, b}, 1.0); }).isEmpty());
            QVERIFY(!std::isfinite(norm));
            QCOMPARE(b.grad()[1].item<float>(), 6.0f);  // left for the caller to skip the update
        }
    }

    // ---- memory estimate -------------------------------------------------------

    void memoryEstimateFormula()
    {
        // tinyConfig: C 32, F 48, H 4, K 2, D 8, L 2, V 61; B 2, T 16.
        MemoryEstimateInput in;
        in.config = fttest::tinyConfig();
        in.trainableParameters = 1000;
        in.frozenWeightBytes = 5000;
        in.batchSize = 2;
        in.seqLen = 16;
        in.activationBytes = 4;
        // per layer and token: norms 2 (4 + 8) 32 = 768; attention 4 (4*32 + 2*16 + 2*32) = 896;
        // mlp 4*4*48 = 768 -> 2432. Attention per sequence: 4 * 16 * 16 * 4 = 4096.
        QCOMPARE(activationBytesPerLayerToken(in.config, 4), int64_t(2432));
        QCOMPARE(attentionBytesPerLayerSequence(in.config, 16, 4), int64_t(4096));
        MemoryEstimate m = estimateTrainingMemory(in);
        QCOMPARE(m.weights, int64_t(5000 + 4000));
        QCOMPARE(m.gradients, int64_t(4000));
        QCOMPARE(m.optimizer, int64_t(8000));
        // layers 2 (2*16*2432 + 2*4096) = 172032; head 32 (12*32 + 16*61) = 43520;
        // backward working set 2*2*4*16*16*4 = 16384.
        QCOMPARE(m.activations, int64_t(172032 + 43520 + 16384));
        QCOMPARE(m.total, m.weights + m.gradients + m.optimizer + m.activations);

        in.gradientCheckpointing = true;  // layer inputs 2*2*16*32*4 = 8192 + one layer 86016
        QCOMPARE(estimateTrainingMemory(in).activations, int64_t(8192 + 86016 + 43520 + 16384));

        // bf16 activations: norms 2 (4 + 4) 32 = 512, attention 2*224 = 448, mlp 384;
        // probabilities fp32 + bf16 copy: 4*16*16*6.
        QCOMPARE(activationBytesPerLayerToken(in.config, 2), int64_t(1344));
        QCOMPARE(attentionBytesPerLayerSequence(in.config, 16, 2), int64_t(6144));

        // Without GQA the keys and values are read as they are (K = H).
        model::ModelConfig mha = in.config;
        mha.numKeyValueHeads = 4;
        QCOMPARE(activationBytesPerLayerToken(mha, 4), int64_t(768 + 4 * (4 * 32 + 2 * 32 + 2 * 32) + 768));

        QCOMPARE(QString::fromStdString(formatBytes(512)), QString("512 B"));
        QCOMPARE(QString::fromStdString(formatBytes(1536)), QString("1.5 KiB"));
        QCOMPARE(QString::fromStdString(formatBytes(int64_t(3) << 30)), QString("3.0 GiB"));
        const QString summary = QString::fromStdString(m.summary());
        QVERIFY2(summary.startsWith("weights 8.8 KiB + gradients 3.9 KiB + optimizer 7.8 KiB + activations"),
                 qPrintable(summary));
        QVERIFY(fttest::errorOf([&] { in.batchSize = 0; estimateTrainingMemory(in); }).contains("batch size"));
    }
};

FT_TEST_MAIN(TestSchedule)

} // namespace test_schedule

#include "test_schedule.moc"
