// A short pretraining run on a slice of the shipped corpus, with a freshly
// trained sentencepiece tokenizer: held-out loss must fall by the stated margin,
// and the run must be reproducible from its seed.
#include "base/corpus.h"
#include "model/llama.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "train/lm_batch.h"
#include "train/pretrain.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <fstream>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_pretrain {

using namespace ft;

class TestPretrain : public QObject {
    Q_OBJECT
private:
    std::vector<int64_t> m_train, m_heldout;
    QTemporaryDir m_dir;
    std::unique_ptr<tok::SentencePieceTokenizer> m_tokenizer;

    model::ModelConfig smallConfig() const
    {
        model::ModelConfig c;
        c.vocabSize = m_tokenizer->vocabSize();
        c.hiddenSize = 64;
        c.intermediateSize = 160;
        c.numHiddenLayers = 2;
        c.numAttentionHeads = 4;
        c.numKeyValueHeads = 2;
        c.headDim = 16;
        c.maxPositionEmbeddings = 128;
        return c;
    }

private Q_SLOTS:
    void initTestCase()
    {
        const char* src = std::getenv("FTSTUDIO_SOURCE_DIR");
        QVERIFY2(src, "FTSTUDIO_SOURCE_DIR must point at the source tree (CTest sets it)");
        const std::string corpus = std::string(src) + "/datasets/base_corpus/";
        auto train = base::readCorpusDocuments(corpus + "train.txt");
        auto heldout = base::readCorpusDocuments(corpus + "heldout.txt");
        train.resize(3000);
        const std::string slice = m_dir.filePath("slice.txt").toStdString();
        std::ofstream out(slice);
        for (const auto& d : train)
            out << d << "\n\n";
        out.close();
        tok::SpmTrainOptions spm;
        spm.inputFile = slice;
        spm.modelPrefix = m_dir.filePath("tok").toStdString();
        spm.vocabSize = 512;
        spm.quiet = true;
        tok::trainSentencePiece(spm);
        m_tokenizer = tok::SentencePieceTokenizer::load(spm.modelPrefix + ".model");
        m_train = train::tokenStream(train, *m_tokenizer);
        m_heldout = train::tokenStream(heldout, *m_tokenizer);
    }

    void heldoutLossFalls()
    {
        model::CausalLM m(smallConfig());
        m->initializeWeights(1);
        train::PretrainOptions o;
        o.steps = 150;
        o.batchSize = 8;
        o.seqLen = 64;
        o.learningRate = 5e-3;
        o.warmupSteps = 10;
        o.evalBatchSize = 32;
        o.evalMaxBatches = 4;
        int progressCalls = 0;
        const auto r = train::pretrain(m, m_train, m_heldout, o, [&](const train::PretrainProgress&) { ++progressCalls; });
        qInfo("held-out loss %.3f -> %.3f in %.1f s", r.initialHeldoutLoss, r.finalHeldoutLoss, r.seconds);
        QCOMPARE(progressCalls, 150);
        // Untrained, the loss is near ln(512) = 6.24. The stated margin: 150 steps
        // must remove at least 40% of it.
        QVERIFY(r.initialHeldoutLoss > 5.5);
        QVERIFY2(r.finalHeldoutLoss < 0.6 * r.initialHeldoutLoss, qPrintable(QString::number(r.finalHeldoutLoss)));
    }

    void runIsReproducible()
    {
        train::PretrainOptions o;
        o.steps = 5;
        o.batchSize = 4;
        o.seqLen = 32;
        o.evalMaxBatches = 2;
        double losses[2];
        for (double& loss : losses) {
            model::CausalLM m(smallConfig());
            m->initializeWeights(9);
            loss = train::pretrain(m, m_train, m_heldout, o).finalHeldoutLoss;
        }
        QCOMPARE(losses[0], losses[1]);
    }
};

FT_TEST_MAIN(TestPretrain)

} // namespace test_pretrain

#include "test_pretrain.moc"
