// Data-parallel training end to end through ftstudio-cli, two CPU ranks over loopback
// (Gloo, one thread each): LoRA SFT and DPO on 2 ranks equal one process with the same
// global batch (per-step loss and gradient norm, and every trained tensor, within
// 1e-5 relative), with gradient accumulation too, and with the optimizer state sharded
// (ZeRO stage 1); a 2-rank checkpoint (sharded) resumed on one process continues as an
// uninterrupted one-process run; a rank killed with SIGKILL or
// stopped (SIGSTOP) makes the other exit with an error naming it; the launcher reports
// the failing rank; ranks started by Slurm's variables alone train together; the
// other objectives (reward, KTO, RLVR) and QLoRA; a bad backend or an absent
// rendezvous fails clearly.
// Not here: the sampler's and the launch variables' pure logic (test_data_shard).
#include "io/safetensors.h"
#include "small_base.h"
#include "test_support.h"
#include "util/paths.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <map>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_distributed {

using nlohmann::json;

namespace {

int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::vector<json> eventsOf(const QString& out, const std::string& type)
{
    std::vector<json> events;
    for (const QString& line : out.split('\n', Qt::SkipEmptyParts))
        if (const json j = json::parse(line.toStdString()); j["event"] == type)
            events.push_back(j);
    return events;
}

std::map<std::string, at::Tensor> tensorsOf(const QString& file)
{
    const auto f = ft::io::SafetensorsFile::open(file.toStdString());
    std::map<std::string, at::Tensor> out;
    for (const auto& t : f.tensors()) {
        if (t.dtype != ft::io::DType::F32)
            continue;
        out[t.name] = at::from_blob(const_cast<uint8_t*>(t.data), t.shape, at::kFloat).clone();
    }
    return out;
}

// The largest ||a - b|| / ||b|| (Frobenius) over the tensors; infinity when the names
// differ. (Element-wise, Adam's division by sqrt(v) magnifies summation-order noise
// of near-zero gradients: the norm is the meaningful relative error.)
double relativeDifference(const std::map<std::string, at::Tensor>& a, const std::map<std::string, at::Tensor>& b,
                          std::string* worstName = nullptr)
{
    if (a.size() != b.size() || a.empty())
        return INFINITY;
    double worst = 0;
    for (const auto& [name, t] : a) {
        const auto it = b.find(name);
        if (it == b.end())
            return INFINITY;
        const double scale = std::max(it->second.norm().item<double>(), 1e-12);
        const double d = (t - it->second).norm().item<double>() / scale;
        if (d > worst && worstName)
            *worstName = name;
        worst = std::max(worst, d);
    }
    return worst;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-12); }

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_base;

    QString writeConfig(const QString& name, const json& extra)
    {
        json j{{"model", m_base},
               {"output_dir", m_dir.filePath(name).toStdString()},
               {"technique", {{"name", "lora"}, {"r", 4}, {"lora_dropout", 0}}},  // dropout would draw differently
               {"data", {{"train", ft::datasetsDir() + "/sft/instructions.jsonl"}, {"max_rows", 64}}},
               {"training", {{"max_seq_len", 96}, {"batch_size", 2}, {"max_steps", 3}, {"threads", 1},
                             {"optimizer", {{"lr", 3e-3}}}, {"schedule", {{"name", "constant"}}}}},
               {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
               {"checkpoint", {{"every_steps", 0}}},
               {"distributed", {{"timeout_s", 60}}}};
        j.merge_patch(extra);
        const QString path = m_dir.filePath(name + ".json");
        QFile f(path);
        f.open(QIODevice::WriteOnly | QIODevice::Truncate);
        f.write(QByteArray::fromStdString(j.dump(2)));
        return path;
    }

    fttest::CliRun train(const QString& config, const QStringList& extra = {})
    {
        return fttest::runCli(QStringList{"train", "--config", config, "--events", "-", "--quiet", "--no-stdin"} + extra,
                              m_dir.path(), 300000);
    }

    // Starts one rank of a `world`-rank run by the torchrun variables, as torchrun would,
    // or by Slurm's, as srun would (MASTER_ADDR/PORT from the job script).
    void startRank(QProcess& p, const QString& config, int rank, int world, int port, bool slurm = false)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("FTSTUDIO_DATA_DIR", m_dir.filePath("data"));
        for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS",
                                 "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"})
            env.remove(name);
        env.insert(slurm ? "SLURM_PROCID" : "RANK", QString::number(rank));
        env.insert(slurm ? "SLURM_NTASKS" : "WORLD_SIZE", QString::number(world));
        env.insert(slurm ? "SLURM_LOCALID" : "LOCAL_RANK", QString::number(rank));
        env.insert(slurm ? "SLURM_NTASKS_PER_NODE" : "LOCAL_WORLD_SIZE", QString::number(world));
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", QString::number(port));
        p.setProcessEnvironment(env);
        p.start(qEnvironmentVariable("FTSTUDIO_CLI"),
                {"train", "--config", config, "--events", "-", "--quiet", "--no-stdin"});
        QVERIFY(p.waitForStarted());
    }

    static bool waitForLine(QProcess& p, const QString& needle, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        QByteArray seen;
        while (t.elapsed() < timeoutMs && p.state() != QProcess::NotRunning) {
            p.waitForReadyRead(200);
            seen += p.readAllStandardOutput();
            if (seen.contains(needle.toUtf8()))
                return true;
        }
        return false;
    }

    // Two ranks and one process on the same global batch: losses, gradient norms and
    // the trained tensors agree. Returns the 2-rank run's events.
    QString compareRuns(const QString& name, const json& distributed, const json& single,
                        const QString& output = "adapter/adapter_model.safetensors", double tolerance = 1e-5)
    {
        QString events;
        [&] {
        auto two = train(writeConfig(name + "-2ranks", distributed), {"--nproc-per-node", "2"});
        QVERIFY2(two.code == 0, qPrintable(two.err));
        auto one = train(writeConfig(name + "-1rank", single));
        QVERIFY2(one.code == 0, qPrintable(one.err));
        const auto started = eventsOf(two.out, "started");
        QCOMPARE(int(started.size()), 1);  // rank 0's events only
        QCOMPARE(started[0]["distributed"]["world_size"].get<int>(), 2);
        QCOMPARE(int(started[0]["distributed"]["ranks"].size()), 2);
        const auto a = eventsOf(two.out, "step"), b = eventsOf(one.out, "step");
        QCOMPARE(a.size(), b.size());
        QVERIFY(!a.empty());
        for (size_t i = 0; i < a.size(); ++i) {
            QVERIFY2(relative(a[i]["loss"], b[i]["loss"]) < 1e-5,
                     qPrintable(QString("step %1 loss %2 vs %3").arg(i + 1).arg(a[i]["loss"].get<double>(), 0, 'g', 10)
                                    .arg(b[i]["loss"].get<double>(), 0, 'g', 10)));
            QVERIFY2(relative(a[i]["grad_norm"], b[i]["grad_norm"]) < 1e-5,
                     qPrintable(QString("step %1 grad norm %2 vs %3").arg(i + 1).arg(a[i]["grad_norm"].get<double>())
                                    .arg(b[i]["grad_norm"].get<double>())));
            QCOMPARE(int(a[i]["distributed"]["rss_bytes_per_rank"].size()), 2);
            QVERIFY(a[i]["distributed"]["all_reduce_s"].get<double>() >= 0);
        }
        std::string worst;
        const double diff = relativeDifference(tensorsOf(m_dir.filePath(name + "-2ranks/" + output)),
                                               tensorsOf(m_dir.filePath(name + "-1rank/" + output)), &worst);
        QVERIFY2(diff < tolerance, qPrintable(QString("trained tensors differ by %1 (relative), most in %2")
                                             .arg(diff)
                                             .arg(QString::fromStdString(worst))));
        qInfo("%s: trained tensors of 2 ranks and 1 process differ by %.3g (relative)", qPrintable(name), diff);
        // The checkpoint (rank 0's) says how many rows all ranks consumed and on how many.
        QFile state(m_dir.filePath(name + "-2ranks/checkpoint-" + QString::number(a.size()) + "/trainer_state.json"));
        QVERIFY(state.open(QIODevice::ReadOnly));
        const json position = json::parse(state.readAll().toStdString())["data_position"];
        QCOMPARE(position["world_size"].get<int>(), 2);
        QVERIFY2(position["rows"].get<int64_t>() > 0, position.dump().c_str());
        events = two.out;
        }();
        return events;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel();
    }

    void loraSftOnTwoRanksEqualsOneProcess()
    {
        compareRuns("sft", json::object(), {{"training", {{"grad_accum", 2}}}});
        // The comparison can fail: half the global batch on one process gives other gradients.
        auto half = train(writeConfig("sft-half", json::object()));
        QVERIFY2(half.code == 0, qPrintable(half.err));
        const auto halfSteps = eventsOf(half.out, "step");
        auto again = train(writeConfig("sft-again", {{"training", {{"grad_accum", 2}}}}));
        QVERIFY2(again.code == 0, qPrintable(again.err));
        const auto full = eventsOf(again.out, "step");
        QVERIFY(relative(halfSteps[0]["grad_norm"], full[0]["grad_norm"]) > 1e-3);
    }

    void accumulationOnTwoRanks()
    {
        compareRuns("accum", {{"training", {{"grad_accum", 2}}}}, {{"training", {{"grad_accum", 4}}}});
    }

    // Full fine-tuning with small buckets (50 KB): the gradient hooks start most buckets'
    // all-reduces during backward, in the same order on both ranks, and the result is
    // still the one-process result.
    void overlappedBucketsInFullFineTuning()
    {
        const json full{{"technique", {{"name", "full"}, {"r", nullptr}, {"lora_dropout", nullptr}}},
                        {"training", {{"optimizer", {{"lr", 1e-3}}}}}};
        json two = full, one = full;
        two["distributed"] = {{"bucket_cap_mb", 0.05}};
        one["training"]["grad_accum"] = 2;
        const QString out = compareRuns("full", two, one, "model/model.safetensors");
        const auto steps = eventsOf(out, "step");
        QVERIFY(!steps.empty());
        for (const json& e : steps) {
            const int64_t buckets = e["distributed"]["buckets"], early = e["distributed"]["buckets_started_in_backward"];
            QVERIFY2(buckets > 4 && early >= buckets / 2, e["distributed"].dump().c_str());
        }
    }

    // ZeRO stage 1: each rank holds the AdamW state of part of the tensors (together all
    // of it, each at most ~60 %), and the result is still the one-process result.
    void shardedOptimizerStateEqualsOneProcess()
    {
        const QString out = compareRuns("zero", {{"distributed", {{"shard_optimizer", true}}}},
                                        {{"training", {{"grad_accum", 2}}}});
        const auto steps = eventsOf(out, "step");
        QVERIFY(!steps.empty());
        const json last = steps.back()["distributed"];
        QVERIFY(last["shard_optimizer"].get<bool>());
        const double a = last["optimizer_state_bytes_per_rank"][0], b = last["optimizer_state_bytes_per_rank"][1];
        // LoRA r 4 on q, k, v, o of 2 layers: 2 states of 4 bytes per trained value.
        const double whole = 2.0 * 4 * 2 * (4 * (64 + 64) * 2 + 4 * (64 + 32) * 2);
        QCOMPARE(a + b, whole);
        QVERIFY2(a > 0 && b > 0 && std::max(a, b) <= 0.6 * whole, qPrintable(QString("%1 + %2").arg(a).arg(b)));
    }

    void dpoOnTwoRanksEqualsOneProcess()
    {
        const json dpo{{"objective", {{"name", "dpo"}}},
                       {"data", {{"train", ft::datasetsDir() + "/align/preference.jsonl"}}}};
        json single = dpo;
        single["training"] = {{"grad_accum", 2}};
        compareRuns("dpo", dpo, single);
    }

    // RLVR (GRPO with verifiers) on 2 ranks: every rank samples groups for its own
    // prompts; the step's loss and reward metrics are reduced over both, and the run
    // finishes with one adapter. (Sampling draws differ by rank, so there is no
    // equality with one process to check.)
    void rlvrRunsOnTwoRanks()
    {
        const QString config = writeConfig(
            "rlvr", {{"objective", {{"name", "rlvr"}, {"num_generations", 4}, {"max_new_tokens", 8}}},
                     {"data", {{"train", ft::datasetsDir() + "/align/verifiable.jsonl"}}},
                     {"training", {{"max_steps", 2}, {"batch_size", 1}}}});
        auto run = train(config, {"--nproc-per-node", "2"});
        QVERIFY2(run.code == 0, qPrintable(run.err));
        const auto steps = eventsOf(run.out, "step");
        QCOMPARE(int(steps.size()), 2);
        for (const json& e : steps) {
            QVERIFY2(std::isfinite(e["loss"].get<double>()), e.dump().c_str());
            QVERIFY2(!e["metrics"].empty(), e.dump().c_str());
            QCOMPARE(int(e["distributed"]["rss_bytes_per_rank"].size()), 2);
        }
        QVERIFY(QFile::exists(m_dir.filePath("rlvr/adapter/adapter_model.safetensors")));
    }

    // The other offline objectives and QLoRA take the same path: the same equality.
    void rewardKtoAndQloraOnTwoRanks()
    {
        const json reward{{"objective", {{"name", "reward"}}},
                          {"data", {{"train", ft::datasetsDir() + "/align/reward_pairs.jsonl"}}}};
        const json kto{{"objective", {{"name", "kto"}}}, {"data", {{"train", ft::datasetsDir() + "/align/unpaired.jsonl"}}}};
        const json qlora{{"technique", {{"name", "qlora"}}}};
        json single = qlora;
        single["training"] = {{"grad_accum", 2}};
        compareRuns("qlora", qlora, single);
        // The reward model's LoRA tensors are sensitive to fp32 rounding: one process
        // alone, the same global batch as 1 x 4 rows or as 2 x 2 micro-batches, gives
        // tensors 6e-6 apart (and 2 ranks group the rows differently again). So its
        // bound is the measured floor between those two layouts, times 3.
        single = reward;
        single["training"] = {{"grad_accum", 2}};
        json wide = reward;
        wide["training"] = {{"batch_size", 4}};
        auto a = train(writeConfig("reward-floor-a", single)), b = train(writeConfig("reward-floor-b", wide));
        QVERIFY2(a.code == 0 && b.code == 0, qPrintable(a.err + b.err));
        const double floor = relativeDifference(tensorsOf(m_dir.filePath("reward-floor-a/adapter/adapter_model.safetensors")),
                                                tensorsOf(m_dir.filePath("reward-floor-b/adapter/adapter_model.safetensors")));
        QVERIFY2(floor < 2e-5, qPrintable(QString("floor %1").arg(floor)));
        qInfo("reward: one process, 1 x 4 rows vs 2 x 2, differs by %.3g (relative)", floor);
        compareRuns("reward", reward, single, "adapter/adapter_model.safetensors", std::max(1e-5, 3 * floor));
        // KTO's KL reference point is a statistic of the batch: averaged over the ranks
        // (as TRL gathers it), 2 ranks of 2 equal 1 process with one batch of 4.
        json ktoSingle = kto;
        ktoSingle["training"] = {{"batch_size", 4}};
        compareRuns("kto", kto, ktoSingle);
    }

    // Stopped after 2 steps on 2 ranks, resumed on 1 process with the same global batch:
    // steps 3 and 4 and the final tensors are those of an uninterrupted 1-process run.
    void twoRankCheckpointResumesOnOneProcess()
    {
        // The 2-rank part shards the optimizer state: its checkpoint must still hold all of it.
        auto first = train(writeConfig("resume", {{"training", {{"max_steps", 2}}},
                                                  {"distributed", {{"shard_optimizer", true}}}}),
                           {"--nproc-per-node", "2"});
        QVERIFY2(first.code == 0, qPrintable(first.err));
        auto resumed = train(writeConfig("resume", {{"training", {{"max_steps", 4}, {"batch_size", 4}}}}), {"--resume"});
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
        auto straight = train(writeConfig("straight", {{"training", {{"max_steps", 4}, {"batch_size", 4}}}}));
        QVERIFY2(straight.code == 0, qPrintable(straight.err));
        const auto a = eventsOf(resumed.out, "step"), b = eventsOf(straight.out, "step");
        QCOMPARE(int(a.size()), 2);
        QCOMPARE(a[0]["step"].get<int>(), 3);
        for (size_t i = 0; i < 2; ++i)
            QVERIFY2(relative(a[i]["loss"], b[i + 2]["loss"]) < 1e-5,
                     qPrintable(QString("step %1: %2 vs %3").arg(i + 3).arg(a[i]["loss"].get<double>())
                                    .arg(b[i + 2]["loss"].get<double>())));
        const double diff = relativeDifference(tensorsOf(m_dir.filePath("resume/adapter/adapter_model.safetensors")),
                                               tensorsOf(m_dir.filePath("straight/adapter/adapter_model.safetensors")));
        QVERIFY2(diff < 1e-5, qPrintable(QString("trained tensors differ by %1 (relative)").arg(diff)));
    }

    // torchrun-style launch by hand; rank 1 killed with SIGKILL mid-run: rank 0 exits
    // with an error that names rank 1, well within the timeout.
    void killedRankIsNamed()
    {
        const QString config = writeConfig("killed", {{"training", {{"max_steps", 100000}}},
                                                      {"distributed", {{"timeout_s", 60}}}});
        const int port = freePort();
        QProcess r0, r1;
        startRank(r0, config, 0, 2, port);
        startRank(r1, config, 1, 2, port);
        QVERIFY2(waitForLine(r0, "\"event\":\"step\"", 120000), qPrintable(r0.readAllStandardError()));
        QElapsedTimer t;
        t.start();
        ::kill(pid_t(r1.processId()), SIGKILL);
        QVERIFY(r0.waitForFinished(60000));
        const QString err = QString::fromUtf8(r0.readAllStandardError());
        QCOMPARE(r0.exitCode(), 1);
        QVERIFY2(err.contains("rank 1 (host ") && err.contains("stopped or stopped answering"), qPrintable(err));
        QVERIFY2(t.elapsed() < 30000, qPrintable(QString("took %1 ms").arg(t.elapsed())));
        r1.waitForFinished();
    }

    // Two ranks started the way srun starts tasks (Slurm's variables only): they find
    // each other, train, and rank 0 reports the Slurm launch and both ranks.
    void slurmVariablesLaunchARun()
    {
        const QString config = writeConfig("slurm", json::object());
        const int port = freePort();
        QProcess r0, r1;
        startRank(r0, config, 0, 2, port, true);
        startRank(r1, config, 1, 2, port, true);
        QVERIFY(r0.waitForFinished(120000) && r1.waitForFinished(120000));
        QVERIFY2(r0.exitCode() == 0 && r1.exitCode() == 0,
                 qPrintable(r0.readAllStandardError() + r1.readAllStandardError()));
        const QString out = QString::fromUtf8(r0.readAllStandardOutput());
        const auto started = eventsOf(out, "started");
        QCOMPARE(int(started.size()), 1);
        QCOMPARE(QString::fromStdString(started[0]["distributed"]["launcher"]), QString("Slurm"));
        QCOMPARE(started[0]["distributed"]["world_size"].get<int>(), 2);
        QCOMPARE(int(eventsOf(out, "step").size()), 3);
        QVERIFY(r1.readAllStandardOutput().isEmpty());  // rank 1 trains silently
        QVERIFY(QFile::exists(m_dir.filePath("slurm/adapter/adapter_model.safetensors")));
    }

    // A rank that hangs (SIGSTOP): the other gives up after distributed.timeout_s and names it.
    void hungRankTimesOut()
    {
        const QString config = writeConfig("hung", {{"training", {{"max_steps", 100000}}},
                                                    {"distributed", {{"timeout_s", 3}}}});
        const int port = freePort();
        QProcess r0, r1;
        startRank(r0, config, 0, 2, port);
        startRank(r1, config, 1, 2, port);
        QVERIFY2(waitForLine(r0, "\"event\":\"step\"", 120000), qPrintable(r0.readAllStandardError()));
        ::kill(pid_t(r1.processId()), SIGSTOP);
        QElapsedTimer t;
        t.start();
        QVERIFY(r0.waitForFinished(60000));
        const QString err = QString::fromUtf8(r0.readAllStandardError());
        QCOMPARE(r0.exitCode(), 1);
        QVERIFY2(err.contains("rank 1 (host ") && err.contains("stopped or stopped answering"), qPrintable(err));
        QVERIFY2(t.elapsed() < 20000, qPrintable(QString("took %1 ms").arg(t.elapsed())));
        ::kill(pid_t(r1.processId()), SIGKILL);
        r1.waitForFinished();
    }

    // --nproc-per-node: a rank killed outright; the launcher names it and fails.
    void launcherReportsTheFailingRank()
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("FTSTUDIO_DATA_DIR", m_dir.filePath("data"));
        p.setProcessEnvironment(env);
        p.start(qEnvironmentVariable("FTSTUDIO_CLI"),
                {"train", "--config", writeConfig("launcher", {{"training", {{"max_steps", 100000}}}}), "--events", "-",
                 "--quiet", "--no-stdin", "--nproc-per-node", "2"});
        QVERIFY(p.waitForStarted());
        QVERIFY(waitForLine(p, "\"event\":\"step\"", 120000));
        QFile children(QString("/proc/%1/task/%1/children").arg(p.processId()));
        QVERIFY(children.open(QIODevice::ReadOnly));
        const QStringList pids = QString::fromUtf8(children.readAll()).split(' ', Qt::SkipEmptyParts);
        QCOMPARE(pids.size(), 2);
        ::kill(pid_t(pids[1].toInt()), SIGKILL);  // rank 1: started second
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY(p.exitCode() != 0);
        QVERIFY2(err.contains("rank 1 (pid " + pids[1] + ") failed with signal 9") &&
                     err.contains("error: rank 1 of 2 failed"),
                 qPrintable(err));
    }

    // The scaling benchmark runs both sides and prints its table (figures are not checked:
    // benchmarks measure, tests do not time).
    void scalingBenchmarkRuns()
    {
        auto bench = fttest::runCli({"bench", "--nproc-per-node", "2", "--model", QString::fromStdString(m_base),
                                     "--steps", "2", "--warmup", "1", "--runs", "1", "--batch", "2", "--seq-len", "64"},
                                    m_dir.path(), 300000);
        QVERIFY2(bench.code == 0, qPrintable(bench.err));
        QVERIFY2(bench.out.contains("tokens/s") && bench.out.contains("scaling efficiency:"), qPrintable(bench.out));
        auto help = fttest::runCli({"bench", "--nproc-per-node", "2", "--help"}, m_dir.path());
        QVERIFY(help.out.contains("--runs"));
    }

    void clearErrors()
    {
        auto nccl = train(writeConfig("nccl", {{"distributed", {{"backend", "nccl"}}}}), {"--nproc-per-node", "2"});
        QCOMPARE(nccl.code, 1);
        QVERIFY2(nccl.err.contains("nccl is not available"), qPrintable(nccl.err));
        auto zero = train(writeConfig("zero", json::object()), {"--nproc-per-node", "0"});
        QCOMPARE(zero.code, 2);
        QVERIFY2(zero.err.contains("--nproc-per-node must be between 1 and 1024"), qPrintable(zero.err));
        // Rank 1 of 2 with nobody at the rendezvous: a clear error after the timeout.
        QProcess lonely;
        startRank(lonely, writeConfig("lonely", {{"distributed", {{"timeout_s", 2}}}}), 1, 2, freePort());
        QVERIFY(lonely.waitForFinished(60000));
        const QString err = QString::fromUtf8(lonely.readAllStandardError());
        QCOMPARE(lonely.exitCode(), 1);
        QVERIFY2(err.contains("rendezvous at 127.0.0.1:") && err.contains("is rank 0 running"), qPrintable(err));
        // The schema shows the section.
        auto schema = fttest::runCli({"train", "--schema"}, m_dir.path());
        QVERIFY(schema.out.contains("\"processes\"") && schema.out.contains("\"timeout_s\""));
    }
};

FT_TEST_MAIN(TestDistributed)

} // namespace test_distributed

#include "test_distributed.moc"
