// Training checkpoints on the tiny model: a save/load round trip restores the optimizer
// tensor by tensor, and the run continues bit-exactly as if never interrupted (CPU,
// fp32); RNG restore repeats dropout masks; interrupted writes are ignored; wrong
// shapes are named; pruning keeps the newest. Also the activation memory estimate
// against the measured peak RSS of real forward/backward passes.
#include "model/llama.h"
#include "test_support.h"
#include "tiny_models.h"
#include "train/checkpoint.h"
#include "train/lm_loss.h"
#include "train/memory_estimate.h"
#include "train/optimizer.h"
#include "train/rng_state.h"
#include "train/schedule.h"
#include "model/runtime.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_checkpoint {

using namespace ft;
using namespace ft::train;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kTotalSteps = 6;

// A fine-tuning set-up in miniature: layer 1, the final norm and the head train,
// the rest is frozen; the data order comes from a mt19937_64 and the batches and
// dropout from libtorch's default CPU generator, so all three RNGs matter.
struct Run {
    model::CausalLM model{nullptr};
    NamedTensors trainable;
    std::unique_ptr<torch::optim::AdamW> optimizer;
    std::mt19937_64 dataOrder{2024};

    explicit Run(uint64_t initSeed, model::ModelConfig config = fttest::tinyConfig())
    {
        model = model::CausalLM(config);
        model->initializeWeights(initSeed);
        for (auto& p : model->named_parameters()) {
            const std::string& name = p.key();
            const bool trains = name.find("layers.1.") != std::string::npos || name == "model.norm.weight" ||
                                name == "lm_head.weight";
            p.value().requires_grad_(trains);
            if (trains)
                trainable.emplace_back(name, p.value());
        }
        AdamWSettings s;
        s.learningRate = 1e-2;
        s.weightDecay = 0.1;
        optimizer = makeAdamW(trainable, s);
    }

    double step(int64_t step)
    {
        ScheduleSettings s;
        s.name = "cosine";
        s.warmupSteps = 2;
        s.minLrRatio = 0.1;
        setLearningRate(*optimizer, learningRate(s, step, kTotalSteps, 1e-2));
        const int64_t v = model->config().vocabSize;
        const int64_t shift = int64_t(dataOrder() % 7);
        at::Tensor ids = (at::randint(v, {2, 12}, at::kLong) + shift).remainder(v);  // (B, T)
        at::Tensor hidden = at::dropout(model->hidden(ids), 0.1, /*train=*/true);  // (B, T, C)
        at::Tensor loss = causalLmLoss(model->logitsFromHidden(hidden), ids);
        optimizer->zero_grad();
        loss.backward();
        clipGradNorm(trainable, 1.0);
        optimizer->step();
        return loss.item<double>();
    }
};

struct AdamSnapshot {
    int64_t step = 0;
    at::Tensor expAvg, expAvgSq;
};

std::vector<AdamSnapshot> snapshotOptimizer(const Run& r)
{
    std::vector<AdamSnapshot> out;
    for (const auto& [name, t] : r.trainable) {
        const auto* s = dynamic_cast<const torch::optim::AdamWParamState*>(optimizerStateOf(*r.optimizer, t));
        if (!s)
            return {};
        out.push_back({s->step(), s->exp_avg().clone(), s->exp_avg_sq().clone()});
    }
    return out;
}

std::vector<at::Tensor> snapshotTensors(const Run& r)
{
    std::vector<at::Tensor> out;
    for (const auto& [name, t] : r.trainable)
        out.push_back(t.detach().clone());
    return out;
}

void scramble(Run& r)
{
    at::NoGradGuard noGrad;
    for (auto& [name, t] : r.trainable)
        t.normal_(0.0, 1.0);
}

TrainingState stateAt(int64_t step, Run& r)
{
    TrainingState s;
    s.step = step;
    s.epoch = 0.25 * double(step);
    s.dataPosition = {{"epoch", 0}, {"row", 7 * step}};
    s.scheduler = {{"name", "cosine"}, {"warmup_steps", 2}, {"total_steps", kTotalSteps}};
    s.metricsHistory = nlohmann::json::array({{{"step", step}, {"loss", 1.5}}});
    s.rng = captureRngState(&r.dataOrder);
    s.extra = {{"note", "from the test"}};
    return s;
}

int64_t deadPid()
{
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}

void makeFolderWithMarker(const fs::path& dir, bool marker)
{
    fs::create_directories(dir);
    std::ofstream(dir / "trainer_state.json") << "{}";
    if (marker)
        std::ofstream(dir / "complete") << "{}";
}

} // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    std::string freshDir(const char* name) const
    {
        const std::string d = m_dir.filePath(name).toStdString();
        fs::remove_all(d);
        return d;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        at::manual_seed(1);
    }

    void resumeIsBitExact()
    {
        const std::string out = freshDir("resume");
        at::manual_seed(42);
        Run a(/*initSeed=*/1);
        for (int64_t s = 0; s < 3; ++s)
            a.step(s);
        const std::string path = saveCheckpoint(out, stateAt(3, a), a.trainable, *a.optimizer);
        QCOMPARE(QString::fromStdString(path), QString::fromStdString((fs::path(out) / "checkpoint-3").string()));
        for (const char* f : {"adapter_model.safetensors", "optimizer.pt", "rng_state.safetensors", "trainer_state.json", "complete"})
            QVERIFY2(fs::is_regular_file(fs::path(path) / f), f);
        const auto savedOptimizer = snapshotOptimizer(a);
        const auto savedTensors = snapshotTensors(a);
        QCOMPARE(int(savedOptimizer.size()), int(a.trainable.size()));

        std::vector<double> expectedLosses;
        for (int64_t s = 3; s < kTotalSteps; ++s)
            expectedLosses.push_back(a.step(s));

        // A new process in miniature: the same frozen base, but other values in the
        // trainable tensors and other RNG states until the checkpoint is loaded.
        at::manual_seed(999);
        Run b(/*initSeed=*/1);
        scramble(b);
        b.dataOrder.seed(5);
        const TrainingState st = loadCheckpoint(path, b.trainable, *b.optimizer);
        restoreRngState(st.rng, &b.dataOrder);
        QCOMPARE(st.step, int64_t(3));
        QCOMPARE(st.epoch, 0.75);
        QCOMPARE(st.dataPosition["row"].get<int>(), 21);
        QCOMPARE(st.scheduler["total_steps"].get<int>(), int(kTotalSteps));
        QCOMPARE(st.metricsHistory.size(), size_t(1));
        QCOMPARE(st.extra["note"].get<std::string>(), std::string("from the test"));

        for (size_t i = 0; i < b.trainable.size(); ++i)
            QVERIFY2(at::equal(b.trainable[i].second, savedTensors[i]), b.trainable[i].first.c_str());
        const auto restored = snapshotOptimizer(b);
        QCOMPARE(int(restored.size()), int(savedOptimizer.size()));
        for (size_t i = 0; i < restored.size(); ++i) {
            const char* name = b.trainable[i].first.c_str();
            QCOMPARE(restored[i].step, savedOptimizer[i].step);
            QVERIFY2(at::equal(restored[i].expAvg, savedOptimizer[i].expAvg), name);
            QVERIFY2(at::equal(restored[i].expAvgSq, savedOptimizer[i].expAvgSq), name);
        }

        for (int64_t s = 3; s < kTotalSteps; ++s) {
            const double loss = b.step(s);
            QVERIFY2(loss == expectedLosses[size_t(s - 3)],
                     qPrintable(QString("step %1: %2 vs %3").arg(s).arg(loss, 0, 'g', 17).arg(expectedLosses[size_t(s - 3)], 0, 'g', 17)));
        }
        for (size_t i = 0; i < b.trainable.size(); ++i)
            QVERIFY2(at::equal(b.trainable[i].second, a.trainable[i].second), b.trainable[i].first.c_str());

        // trainer_state.json carries Hugging Face's field names for what they share.
        std::ifstream in(fs::path(path) / "trainer_state.json");
        const nlohmann::json j = nlohmann::json::parse(in);
        QCOMPARE(j["global_step"].get<int>(), 3);
        QVERIFY(j["log_history"].is_array());
    }

    void withoutRestoreTheRunDiffers()
    {
        // The bit-exact comparison above can fail: skipping the RNG restore changes the losses.
        const std::string out = freshDir("norestore");
        at::manual_seed(42);
        Run a(1);
        for (int64_t s = 0; s < 3; ++s)
            a.step(s);
        const std::string path = saveCheckpoint(out, stateAt(3, a), a.trainable, *a.optimizer);
        const double expected = a.step(3);
        at::manual_seed(999);
        Run b(1);
        scramble(b);
        loadCheckpoint(path, b.trainable, *b.optimizer);
        QVERIFY(b.step(3) != expected);
    }

    void rngRestoreRepeatsDropoutMasks()
    {
        std::mt19937_64 order(3);
        at::manual_seed(123);
        at::randn({5});  // leave the generator mid-stream, with a cached normal sample
        const RngState state = captureRngState(&order);
        const at::Tensor mask1 = at::dropout(at::ones({4096}), 0.5, /*train=*/true);
        const uint64_t draw1 = order();
        const at::Tensor noise1 = at::randn({3});

        const at::Tensor other = at::dropout(at::ones({4096}), 0.5, true);
        QVERIFY(!at::equal(other, mask1));  // the masks do differ without a restore

        const std::string file = m_dir.filePath("rng.safetensors").toStdString();
        writeRngState(file, state);
        const RngState reread = readRngState(file);
        QVERIFY(reread.torchCpu == state.torchCpu);
        QCOMPARE(reread.dataOrder, state.dataOrder);
        order.seed(99);
        restoreRngState(reread, &order);
        QVERIFY(at::equal(at::dropout(at::ones({4096}), 0.5, true), mask1));
        QCOMPARE(order(), draw1);
        QVERIFY(at::equal(at::randn({3}), noise1));

        RngState noOrder = captureRngState();
        QVERIFY(noOrder.dataOrder.empty());
        QVERIFY(fttest::errorOf([&] { restoreRngState(noOrder, &order); }).contains("data-order"));
        RngState broken = state;
        broken.torchCpu.resize(10);
        QVERIFY(fttest::errorOf([&] { restoreRngState(broken); }).contains("CPU random-number state"));
    }

    void interruptedWritesAreIgnored()
    {
        const std::string out = freshDir("interrupted");
        Run a(1);
        a.step(0);
        const std::string good = saveCheckpoint(out, stateAt(2, a), a.trainable, *a.optimizer);
        const fs::path dir(out);
        const fs::path deadTmp = dir / ("checkpoint-5.tmp-" + std::to_string(deadPid()));
        makeFolderWithMarker(deadTmp, true);                                // a writer that was killed
        makeFolderWithMarker(dir / "checkpoint-6.tmp-1", true);             // a writer still alive (pid 1)
        makeFolderWithMarker(dir / "checkpoint-7", false);                  // no marker
        makeFolderWithMarker(dir / ("checkpoint-9.old-" + std::to_string(deadPid())), true);
        makeFolderWithMarker(dir / "checkpoint-x", true);                   // not a step
        std::ofstream(dir / "checkpoint-8") << "a file, not a folder";

        QCOMPARE(QString::fromStdString(latestCheckpoint(out).value_or("none")), QString::fromStdString(good));
        QVERIFY2(!fs::exists(deadTmp), "the dead writer's temporary folder is cleaned up");
        QVERIFY(fs::exists(dir / "checkpoint-6.tmp-1"));
        QVERIFY(fs::exists(dir / "checkpoint-7"));
        QCOMPARE(int(listCheckpoints(out).size()), 1);

        const QString err = fttest::errorOf([&] { loadCheckpoint((dir / "checkpoint-7").string(), a.trainable, *a.optimizer); });
        QVERIFY2(err.contains("incomplete") && err.contains("checkpoint-7"), qPrintable(err));
        QVERIFY(!latestCheckpoint(freshDir("empty")).has_value());
    }

    void sameStepIsReplaced()
    {
        const std::string out = freshDir("replace");
        Run a(1);
        saveCheckpoint(out, stateAt(4, a), a.trainable, *a.optimizer);
        a.step(0);
        const std::string path = saveCheckpoint(out, stateAt(4, a), a.trainable, *a.optimizer);
        const auto after = snapshotTensors(a);
        int entries = 0;
        for (const auto& e : fs::directory_iterator(out)) {
            (void)e;
            ++entries;
        }
        QCOMPARE(entries, 1);
        Run b(77);
        loadCheckpoint(path, b.trainable, *b.optimizer);
        for (size_t i = 0; i < b.trainable.size(); ++i)
            QVERIFY(at::equal(b.trainable[i].second, after[i]));
    }

    void wrongShapeIsNamed()
    {
        const std::string out = freshDir("shape");
        Run a(1);
        a.step(0);
        const std::string path = saveCheckpoint(out, stateAt(1, a), a.trainable, *a.optimizer);

        model::ModelConfig wider = fttest::tinyConfig();
        wider.intermediateSize = 40;
        Run b(77, wider);
        const at::Tensor before = b.trainable.front().second.detach().clone();
        const QString err = fttest::errorOf([&] { loadCheckpoint(path, b.trainable, *b.optimizer); });
        QVERIFY2(err.contains("adapter_model.safetensors") && err.contains("'model.layers.1.mlp.gate_proj.weight'") &&
                     err.contains("[48, 32]") && err.contains("[40, 32]"),
                 qPrintable(err));
        QVERIFY2(at::equal(b.trainable.front().second, before), "nothing is copied when the check fails");

        // Another set of trainable tensors: the missing and the unexpected ones are both named.
        Run c(77);
        NamedTensors fewer(c.trainable.begin() + 1, c.trainable.end());
        fewer.emplace_back("extra.weight", at::zeros({2, 2}).requires_grad_());
        auto optimizer = makeAdamW(fewer, {});
        const QString err2 = fttest::errorOf([&] { loadCheckpoint(path, fewer, *optimizer); });
        QVERIFY2(err2.contains("'extra.weight'") && err2.contains("'" + QString::fromStdString(c.trainable.front().first) + "'"),
                 qPrintable(err2));
    }

    void optimizerLayoutIsChecked()
    {
        // The same tensors grouped differently (everything decays): libtorch alone would
        // attach the state to the wrong tensors; the layout check names the mismatch.
        const std::string out = freshDir("layout");
        Run a(1);
        a.step(0);
        const std::string path = saveCheckpoint(out, stateAt(1, a), a.trainable, *a.optimizer);
        Run b(77);
        std::vector<torch::optim::OptimizerParamGroup> one;
        std::vector<at::Tensor> all;
        for (auto& [n, t] : b.trainable)
            all.push_back(t);
        one.emplace_back(all);
        one.emplace_back(std::vector<at::Tensor>{});
        torch::optim::AdamW regrouped(std::move(one));
        const auto before = snapshotTensors(b);
        const QString err = fttest::errorOf([&] { loadCheckpoint(path, b.trainable, regrouped); });
        QVERIFY2(err.contains("optimizer.pt") && err.contains("group 0"), qPrintable(err));
        for (size_t i = 0; i < before.size(); ++i)
            QVERIFY2(at::equal(b.trainable[i].second, before[i]), "nothing is copied when the check fails");
    }

    void pruneKeepsTheNewest()
    {
        const std::string out = freshDir("prune");
        Run a(1);
        for (int64_t s : {10, 2, 30, 4, 5})
            saveCheckpoint(out, stateAt(s, a), a.trainable, *a.optimizer);
        QVERIFY(pruneCheckpoints(out, 0).empty());
        const auto removed = pruneCheckpoints(out, 2);
        QCOMPARE(int(removed.size()), 3);
        std::vector<int64_t> left;
        for (const auto& [step, p] : listCheckpoints(out))
            left.push_back(step);
        QVERIFY(left == (std::vector<int64_t>{10, 30}));
        QVERIFY(!fs::exists(fs::path(out) / "checkpoint-2"));
        QCOMPARE(QString::fromStdString(latestCheckpoint(out).value_or("")),
                 QString::fromStdString((fs::path(out) / "checkpoint-30").string()));
        int entries = 0;
        for (const auto& e : fs::directory_iterator(out)) {
            (void)e;
            ++entries;
        }
        QCOMPARE(entries, 2);
    }

    void activationEstimateTracksMeasuredPeak()
    {
        // Big blocks straight from mmap and back on free, so RSS follows the live tensors
        // instead of glibc's heap high-water mark.
        mallopt(M_MMAP_THRESHOLD, 64 * 1024);
        if (!resetPeakRss())
            QSKIP("/proc/self/clear_refs is not writable here; the peak RSS cannot be reset");
        model::ModelConfig c = fttest::tinyConfig();
        c.hiddenSize = 256;
        c.intermediateSize = 688;
        c.numHiddenLayers = 4;
        c.numAttentionHeads = 8;
        c.numKeyValueHeads = 4;
        c.headDim = 32;
        c.vocabSize = 512;
        c.maxPositionEmbeddings = 256;
        const int64_t seqLen = 256;
        model::CausalLM m(c);
        m->initializeWeights(3);
        m->train();
        int64_t params = 0;
        for (auto& p : m->parameters())
            params += p.numel();

        std::vector<double> measured, estimated;
        for (int64_t batch : {2, 4}) {
            at::Tensor ids = at::randint(c.vocabSize, {batch, seqLen}, at::kLong);
            auto pass = [&] { causalLmLoss(m->forward(ids), ids).backward(); };
            pass();  // gradients allocated, libraries warmed up
            QVERIFY(resetPeakRss());
            const int64_t before = processMemory().rssBytes;
            pass();
            const int64_t peak = processMemory().peakRssBytes - before;
            MemoryEstimateInput in;
            in.config = c;
            in.trainableParameters = params;
            in.batchSize = batch;
            in.seqLen = seqLen;
            in.activationBytes = 4;
            const int64_t estimate = estimateTrainingMemory(in).activations;
            qInfo("B=%lld T=%lld: activation estimate %s, measured peak RSS above the steady state %s",
                  static_cast<long long>(batch), static_cast<long long>(seqLen), formatBytes(estimate).c_str(),
                  formatBytes(peak).c_str());
            measured.push_back(double(peak));
            estimated.push_back(double(estimate));
        }
        for (size_t i = 0; i < measured.size(); ++i) {
            const double ratio = estimated[i] / measured[i];
            QVERIFY2(ratio > 1.0 / 3.0 && ratio < 3.0, qPrintable(QString("estimate/measured = %1").arg(ratio)));
        }
        const double measuredGrowth = measured[1] / measured[0], estimatedGrowth = estimated[1] / estimated[0];
        QVERIFY2(std::abs(std::log(measuredGrowth / estimatedGrowth)) < std::log(1.5),
                 qPrintable(QString("growth from B=2 to B=4: measured %1, estimated %2").arg(measuredGrowth).arg(estimatedGrowth)));
    }
};

FT_TEST_MAIN(TestCheckpoint)

} // namespace test_checkpoint

#include "test_checkpoint.moc"
