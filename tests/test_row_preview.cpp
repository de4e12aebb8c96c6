// "As trained": the preview of a row (engine/row_preview.h, `ftstudio-cli data preview`)
// against the batches the engine really trains on. For several prompt formats, with
// packing off and on, every row's tokens and its loss mask equal those of the row's
// example inside the SftBatcher's batches (found there by its ids, in packed rows by its
// segment); preference rows against the collated DPO batch; truncation and dropped
// rows; the tokens' texts add up to the decoded text; the CLI prints the same.
#include "align/preference_data.h"
#include "engine/row_preview.h"
#include "train/dataset_source.h"
#include "train/lm_loss.h"
#include "train/run_config.h"
#include "train/sft_data.h"
#include "engine/objective_registry.h"
#include "tokenizer/tokenizer_loader.h"
#include "small_base.h"
#include "test_support.h"
#include "util/paths.h"

#include "test_main.h"

#include <QDir>
#include <QtTest>

#include <torch/torch.h>

namespace test_row_preview {

using nlohmann::json;

namespace {

ft::train::RunConfig configFor(const std::string& model, const std::string& data, const json& objective,
                               int64_t maxSeqLen)
{
    json j{{"model", model},
           {"output_dir", "/tmp/unused"},
           {"data", {{"train", data}}},
           {"objective", objective},
           {"training", {{"max_seq_len", maxSeqLen}}}};
    return ft::train::parseRunConfig(j, "test");
}

std::vector<int64_t> rowOf(const at::Tensor& t, int64_t from, int64_t n)
{
    const at::Tensor s = t.narrow(0, from, n).contiguous();
    return std::vector<int64_t>(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + n);
}

} // namespace

class TestRowPreview : public QObject {
    Q_OBJECT
    std::string m_model;
    std::unique_ptr<ft::tok::Tokenizer> m_tok;

private Q_SLOTS:
    void initTestCase()
    {
        m_model = fttest::smallBaseModel();
        m_tok = ft::tok::loadTokenizer(m_model);
    }

    void sftMaskEqualsTheEnginesBatches_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("packing");
        QTest::addColumn<QString>("lossOn");
        for (const char* f : {"alpaca", "chatml", "plain", "model"})
            for (bool packing : {false, true}) {
                QTest::addRow("%s%s", f, packing ? " packed" : "") << QString(f) << packing << QString("assistant");
            }
        QTest::addRow("alpaca, loss on all") << QString("alpaca") << false << QString("all");
    }

    void sftMaskEqualsTheEnginesBatches()
    {
        QFETCH(QString, format);
        QFETCH(bool, packing);
        QFETCH(QString, lossOn);
        const std::string data = ft::datasetsDir() + "/sft/instructions.jsonl";
        const auto config = configFor(m_model, data,
                                      {{"name", "sft"}, {"template", format.toStdString()}, {"packing", packing},
                                       {"loss_on", lossOn.toStdString()}},
                                      64);
        ft::train::SourceRows source = ft::train::loadRows(data);
        source.rows.resize(48);
        // The engine's data: the objective's format and options, its batcher.
        const auto promptFormat = ft::engine::objectivePromptFormat(config);
        ft::train::SftDataOptions options;
        options.maxSeqLen = config.training.maxSeqLen;
        options.lossOn = lossOn == "all" ? ft::train::LossOn::All : ft::train::LossOn::Responses;
        const auto dataset = ft::train::buildSftDataset(source.rows, source.kind, *promptFormat, *m_tok, options);
        ft::train::SftBatcherOptions b;
        b.batchSize = 4;
        b.packing = packing;
        b.shuffle = false;
        ft::train::SftBatcher batcher(dataset, b);
        std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> trained;  // (ids, labels) per example
        for (int64_t i = 0, n = batcher.batchesInEpoch(0); i < n; ++i) {
            const auto batch = batcher.nextBatch();
            for (int64_t r = 0; r < batch.ids.size(0); ++r) {
                if (!packing) {
                    const int64_t len = batch.attentionMask[r].sum().item<int64_t>();
                    trained.emplace_back(rowOf(batch.ids[r], 0, len), rowOf(batch.labels[r], 0, len));
                    continue;
                }
                const at::Tensor seg = batch.segmentIds[r];
                for (int64_t s = 1; s <= seg.max().item<int64_t>(); ++s) {
                    const at::Tensor where = (seg == s).nonzero().view(-1);
                    const int64_t from = where[0].item<int64_t>(), len = where.size(0);
                    trained.emplace_back(rowOf(batch.ids[r], from, len), rowOf(batch.labels[r], from, len));
                }
            }
        }
        QCOMPARE(trained.size(), dataset.examples.size());
        int truncated = 0, dropped = 0;
        for (const auto& row : source.rows) {
            const auto preview = ft::engine::previewRow(config, row, source.kind, *m_tok);
            QCOMPARE(preview.sides.size(), size_t(1));
            const auto& side = preview.sides[0];
            truncated += side.fullLength > int64_t(side.ids.size());
            if (side.dropped) {  // in no batch: nothing of its response fits
                ++dropped;
                QVERIFY(std::find_if(dataset.examples.begin(), dataset.examples.end(),
                                     [&](const auto& e) { return e.rowId == row.id; }) == dataset.examples.end());
                continue;
            }
            const auto it = std::find_if(trained.begin(), trained.end(), [&](const auto& t) { return t.first == side.ids; });
            QVERIFY2(it != trained.end(), qPrintable(QString("row %1 is in no batch").arg(row.id)));
            std::vector<bool> previewMask, batchMask;
            for (size_t i = 0; i < side.ids.size(); ++i) {
                previewMask.push_back(side.labels[i] == ft::train::kIgnoreIndex);
                batchMask.push_back(it->second[i] == ft::train::kIgnoreIndex);
            }
            QVERIFY2(previewMask == batchMask, qPrintable(QString("row %1: masks differ").arg(row.id)));
            // The tokens' texts, as the view shows them, add up to the decoded text.
            const json j = ft::engine::previewJson(preview, *m_tok);
            std::string joined;
            for (const auto& t : j["sides"][0]["tokens"])
                joined += t["text"].get<std::string>();
            QCOMPARE(joined, m_tok->decode(std::vector<int>(side.ids.begin(), side.ids.end()), false));
        }
        QCOMPARE(int64_t(dropped), dataset.dropped);
        qInfo("%zu rows, %d cut at 64 tokens, %d of them dropped", source.rows.size(), truncated, dropped);
        if (format == "chatml")
            QVERIFY(truncated > 0);  // the longer markup really is cut somewhere
    }

    // With packing, the neighbours the preview names are the packed row the trainer's
    // batches hold: same tokens at the same offsets, one segment each, nothing else.
    void packedNeighboursAreTheEnginesPackedRow()
    {
        const std::string data = ft::datasetsDir() + "/sft/instructions.jsonl";
        const json j{{"model", m_model},
                     {"output_dir", "/tmp/unused"},
                     {"data", {{"train", data}, {"eval_fraction", 0.1}}},
                     {"objective", {{"name", "sft"}, {"template", "alpaca"}, {"packing", true}}},
                     {"training", {{"max_seq_len", 96}, {"batch_size", 3}, {"seed", 7}}}};
        const auto config = ft::train::parseRunConfig(j, "test");
        const auto rows = ft::engine::loadObjectiveRows(config);
        QVERIFY(!rows.split.eval.empty());
        const auto format = ft::engine::objectivePromptFormat(config);
        const auto dataset =
            ft::train::buildSftDataset(rows.split.train, rows.kind, *format, *m_tok, ft::engine::sftDataOptions(config));
        ft::train::SftBatcher batcher(dataset, ft::engine::sftBatcherOptions(config, {}));
        std::vector<std::pair<at::Tensor, at::Tensor>> packedRows;  // (ids, segment ids) in training order
        for (int64_t i = 0, n = batcher.batchesInEpoch(0); i < n; ++i) {
            const auto batch = batcher.nextBatch();
            QCOMPARE(batch.epoch, int64_t(0));
            for (int64_t r = 0; r < batch.ids.size(0); ++r)
                packedRows.emplace_back(batch.ids[r], batch.segmentIds[r]);
        }
        int checked = 0, shared = 0;
        for (size_t i = 0; i < rows.split.train.size(); i += 7) {
            const auto& row = rows.split.train[i];
            const auto preview = ft::engine::previewRow(config, row, rows.kind, *m_tok, &rows.split.train);
            QVERIFY(preview.packed.has_value());
            const auto& pk = *preview.packed;
            QVERIFY(!pk.inEval);
            if (pk.dropped)
                continue;
            QCOMPARE(pk.packedRows, int64_t(packedRows.size()));
            QVERIFY(pk.packedRow >= 0 && pk.packedRow < pk.packedRows);
            const auto& [ids, segments] = packedRows[size_t(pk.packedRow)];
            QCOMPARE(segments.max().item<int64_t>(), int64_t(pk.examples.size()));
            bool self = false;
            for (size_t k = 0; k < pk.examples.size(); ++k) {
                const auto& n = pk.examples[k];
                self = self || n.rowId == row.id;
                const auto ex = std::find_if(dataset.examples.begin(), dataset.examples.end(),
                                             [&](const auto& e) { return e.rowId == n.rowId; });
                QVERIFY(ex != dataset.examples.end());
                QCOMPARE(rowOf(ids, n.start, n.tokens), ex->ids);
                QVERIFY((segments.narrow(0, n.start, n.tokens) == int64_t(k + 1)).all().item<bool>());
                QCOMPARE(n.text, m_tok->decode(std::vector<int>(ex->ids.begin(), ex->ids.end()), false));
            }
            QVERIFY2(self, qPrintable(QString("row %1 is not among its own neighbours").arg(row.id)));
            shared += pk.examples.size() > 1;
            ++checked;
        }
        QVERIFY(checked >= 10);
        QVERIFY(shared > 0);  // packing really put rows together
        const auto evalPreview = ft::engine::previewRow(config, rows.split.eval[0], rows.kind, *m_tok, &rows.split.train);
        QVERIFY(evalPreview.packed && evalPreview.packed->inEval && evalPreview.packed->examples.empty());
        const auto unpacked = ft::engine::previewRow(configFor(m_model, data, {{"name", "sft"}}, 96),
                                                     rows.split.train[0], rows.kind, *m_tok, &rows.split.train);
        QVERIFY(!unpacked.packed);
        qInfo("%d rows checked against %zu packed rows, %d of them sharing theirs", checked, packedRows.size(), shared);
    }

    // Preference rows: both sides equal the collated DPO batch's ids and mask.
    void preferenceSides()
    {
        const std::string data = ft::datasetsDir() + "/align/preference.jsonl";
        const auto config = configFor(m_model, data, {{"name", "dpo"}}, 64);
        ft::train::SourceRows source = ft::train::loadRows(data);
        source.rows.resize(10);
        const auto format = ft::engine::objectivePromptFormat(config);
        ft::align::DataCounts counts;
        const auto pairs = ft::align::buildPairs(source.rows, *format, *m_tok, 64, counts);
        for (size_t i = 0; i < pairs.size(); ++i) {
            const auto batch = ft::align::collateResponses({&pairs[i].chosen, &pairs[i].rejected}, 0, c10::kCPU);
            const auto preview = ft::engine::previewRow(config, source.rows[i], source.kind, *m_tok);
            QCOMPARE(preview.sides.size(), size_t(2));
            QCOMPARE(preview.sides[0].name, std::string("chosen"));
            for (int s = 0; s < 2; ++s) {
                const auto& side = preview.sides[size_t(s)];
                const int64_t len = batch.attentionMask[s].sum().item<int64_t>();
                QCOMPARE(side.ids, rowOf(batch.ids[s], 0, len));
                const auto labels = rowOf(batch.labels[s], 0, len);
                for (int64_t t = 0; t < len; ++t)
                    QCOMPARE(side.labels[size_t(t)] == ft::train::kIgnoreIndex, labels[size_t(t)] == ft::train::kIgnoreIndex);
            }
        }
        // An SFT run has nothing to show for preference rows: the reason names both.
        const auto sft = configFor(m_model, data, {{"name", "sft"}}, 64);
        QVERIFY(fttest::errorOf([&] { ft::engine::previewRow(sft, source.rows[0], source.kind, *m_tok); })
                    .contains("objective 'sft' does not train on preference rows"));
    }

    // A response that max_seq_len leaves no token of: shown, marked dropped, nothing trains.
    void droppedRow()
    {
        const std::string data = ft::datasetsDir() + "/sft/instructions.jsonl";
        const auto config = configFor(m_model, data, {{"name", "sft"}, {"template", "alpaca"}}, 8);
        const auto source = ft::train::loadRows(data);
        const auto preview = ft::engine::previewRow(config, source.rows[0], source.kind, *m_tok);
        QVERIFY(preview.sides[0].dropped);
        QCOMPARE(preview.sides[0].ids.size(), size_t(8));
        QVERIFY(preview.sides[0].fullLength > 8);
        QVERIFY(std::all_of(preview.sides[0].labels.begin(), preview.sides[0].labels.end(),
                            [](int64_t l) { return l == ft::train::kIgnoreIndex; }));
    }

    // The CLI prints the same preview.
    void cliPrintsTheSame()
    {
        const std::string data = ft::datasetsDir() + "/sft/instructions.jsonl";
        const auto run = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "8", "--model",
                                         QString::fromStdString(m_model), "--template", "chatml", "--max-seq-len", "40",
                                         "--json"},
                                        QDir::tempPath());
        QVERIFY2(run.code == 0, qPrintable(run.err));
        const auto config = configFor(m_model, data, {{"name", "sft"}, {"template", "chatml"}}, 40);
        const auto source = ft::train::loadRows(data);
        const auto row = std::find_if(source.rows.begin(), source.rows.end(), [](const auto& r) { return r.id == 8; });
        QCOMPARE(json::parse(run.out.toStdString()),
                 ft::engine::previewJson(ft::engine::previewRow(config, *row, source.kind, *m_tok), *m_tok));
        const auto text = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "8",
                                          "--model", QString::fromStdString(m_model)},
                                         QDir::tempPath());
        QCOMPARE(text.code, 0);
        QVERIFY2(text.out.contains("### Response:\\n[") && text.out.contains("carry loss"), qPrintable(text.out));
        const auto missing = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "9999",
                                             "--model", QString::fromStdString(m_model)},
                                            QDir::tempPath());
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("no row 9999"));
        // --packing: the neighbours, as previewRow gives them for the run's training split.
        const auto packed = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "8",
                                            "--model", QString::fromStdString(m_model), "--packing", "--max-seq-len",
                                            "96", "--json"},
                                           QDir::tempPath());
        QVERIFY2(packed.code == 0, qPrintable(packed.err));
        const auto packedConfig = configFor(m_model, data, {{"name", "sft"}, {"packing", true}}, 96);
        const auto split = ft::engine::loadObjectiveRows(packedConfig);
        const json expected =
            ft::engine::previewJson(ft::engine::previewRow(packedConfig, *row, source.kind, *m_tok, &split.split.train), *m_tok);
        QVERIFY(expected.contains("packed"));
        QCOMPARE(json::parse(packed.out.toStdString()), expected);
        const auto packedText = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "8",
                                                "--model", QString::fromStdString(m_model), "--packing"},
                                               QDir::tempPath());
        QCOMPARE(packedText.code, 0);
        QVERIFY2(packedText.out.contains("packed row ") || packedText.out.contains("evaluation split"),
                 qPrintable(packedText.out));
        const auto notSft = fttest::runCli({"data", "preview", "--data", QString::fromStdString(data), "--row", "8",
                                            "--model", QString::fromStdString(m_model), "--packing", "--objective", "dpo"},
                                           QDir::tempPath());
        QCOMPARE(notSft.code, 2);
        QVERIFY2(notSft.err.contains("objective 'dpo' does not pack"), qPrintable(notSft.err));
    }
};

FT_TEST_MAIN(TestRowPreview)

} // namespace test_row_preview

#include "test_row_preview.moc"
