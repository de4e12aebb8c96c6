// The efficacy tests' base model: a 0.9 M-parameter Llama pretrained for 800 steps on
// datasets/knowledge (facts in prose; questions about 70 % of the facts), so that it
// knows facts it was never asked about, and a held-out question measures whether
// fine-tuning taught it to answer with what it knows (datasets/knowledge/generate.py).
// About a minute on 2 cores. CTest builds it once (the `knowledge_base` fixture) into
// FTSTUDIO_KNOWLEDGE_BASE_DIR and every efficacy test reuses it; without that variable
// each test binary builds its own copy in a temporary folder.
//
// Also here: what the tests recompute themselves instead of reading the engine's
// summaries: greedy answers from a plain full-sequence forward (no KV cache, no
// production generator) and the summed log-probability of a completion from
// log_softmax over the logits.
#pragma once

#include "base/make_base.h"
#include "model/llama.h"
#include "tokenizer/tokenizer.h"
#include "util/paths.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace fttest {

inline ft::base::BaseRecipe knowledgeRecipe()
{
    ft::base::BaseRecipe r = ft::base::defaultBaseRecipe();
    ft::base::setHiddenSize(r, 128);  // 4 heads, 2 KV heads, MLP 352: as make-base --hidden 128
    r.config.numHiddenLayers = 4;
    r.tokenizerVocab = 512;
    r.config.vocabSize = 512;
    r.pretrain.steps = 800;
    r.pretrain.seqLen = 64;
    return r;
}

inline std::string knowledgeDataDir() { return ft::datasetsDir() + "/knowledge"; }

// The folder of the knowledge base model, built on first use. Under a kept parent its
// name carries a hash of the corpus and the recipe, so a changed corpus or recipe
// builds a new one instead of reusing a stale model.
inline std::string knowledgeBase()
{
    static std::unique_ptr<QTemporaryDir> tmp;
    static std::string dir;
    if (!dir.empty())
        return dir;
    const ft::base::BaseRecipe r = knowledgeRecipe();
    QFile corpus(QString::fromStdString(knowledgeDataDir() + "/train.txt"));
    if (!corpus.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(corpus.fileName()));
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(corpus.readAll());
    hash.addData(QByteArray::number(qint64(r.pretrain.steps)) + " " + QByteArray::number(qint64(r.config.hiddenSize)) +
                 " " + QByteArray::number(qint64(r.config.numHiddenLayers)) + " " +
                 QByteArray::number(r.tokenizerVocab) + " " + QByteArray::number(qint64(r.pretrain.seqLen)));
    const QString leaf = "knowledge-base-" + QString::fromLatin1(hash.result().toHex().left(12));
    if (!qEnvironmentVariableIsEmpty("FTSTUDIO_KNOWLEDGE_BASE_DIR")) {
        dir = (qEnvironmentVariable("FTSTUDIO_KNOWLEDGE_BASE_DIR") + "/" + leaf).toStdString();
    } else {
        tmp = std::make_unique<QTemporaryDir>();
        dir = tmp->filePath(leaf).toStdString();
    }
    ft::base::makeBaseModel(dir, knowledgeDataDir(), r, /*force=*/false,
                            [](const std::string&) {}, [](const auto&) {});
    return dir;
}

// The prompt as the Alpaca format renders an instruction (written out here, not taken
// from the engine's prompt formats: a change there that training and generation
// disagreed on would show).
inline std::string alpacaPrompt(const std::string& instruction)
{
    return "### Instruction:\n" + instruction + "\n### Response:\n";
}

// The greedy continuation of `prompt` up to the first newline, end of sequence or
// `maxNewTokens`, decoded: argmax of the last position of a full forward each step.
inline std::string greedyAnswer(ft::model::CausalLM& model, const ft::tok::Tokenizer& tok, const std::string& prompt,
                                int maxNewTokens = 8)
{
    torch::NoGradGuard noGrad;
    std::vector<int> ids = tok.encodeForModel(prompt);
    std::vector<int> out;
    for (int i = 0; i < maxNewTokens; ++i) {
        std::vector<int64_t> all(ids.begin(), ids.end());
        all.insert(all.end(), out.begin(), out.end());
        const at::Tensor input = torch::tensor(all, torch::kLong).unsqueeze(0);
        const at::Tensor logits = model->forward(input);
        const int next = static_cast<int>(logits[0][-1].argmax().item<int64_t>());
        if (next == tok.eosId())
            break;
        out.push_back(next);
        if (tok.decode(out, true).find('\n') != std::string::npos)
            break;
    }
    std::string text = tok.decode(out, true);
    text = text.substr(0, text.find('\n'));
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    while (!text.empty() && text.front() == ' ')
        text.erase(text.begin());
    return text;
}

// Sum of log p(completion | prompt) over the completion's tokens: the sequence
// prompt+completion through one forward, log_softmax, the completion's ids gathered.
// The completion's ids are those of the whole text after the prompt's.
inline double completionLogprob(ft::model::CausalLM& model, const ft::tok::Tokenizer& tok, const std::string& prompt,
                                const std::string& completion)
{
    torch::NoGradGuard noGrad;
    const std::vector<int> p = tok.encodeForModel(prompt);
    const std::vector<int> all = tok.encodeForModel(prompt + completion);
    std::vector<int64_t> ids(all.begin(), all.end());
    const at::Tensor logp = torch::log_softmax(model->forward(torch::tensor(ids, torch::kLong).unsqueeze(0))[0], -1);
    double sum = 0;
    for (size_t t = p.size(); t < all.size(); ++t)
        sum += logp[static_cast<int64_t>(t) - 1][all[t]].item<double>();
    return sum;
}

} // namespace fttest
