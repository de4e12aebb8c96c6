#include "align/ai_judge.h"

#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>

namespace ft::align {

namespace {

// The first id where tokenizing text + tail differs from tokenizing text: the token
// the model would produce for `tail` right after `text`.
int64_t continuationToken(const tok::Tokenizer& tokenizer, const std::string& text, const std::string& tail)
{
    std::vector<int> base = tokenizer.encode(text, false, false);
    std::vector<int> with = tokenizer.encode(text + tail, false, false);
    size_t i = 0;
    while (i < base.size() && i < with.size() && base[i] == with[i])
        ++i;
    if (i >= with.size())
        fail("the judge's tokenizer gives no token for the verdict '" + tail + "'");
    return with[i];
}

const std::string& textField(const data::Row& row, const char* key)
{
    auto it = row.fields.find(key);
    if (it == row.fields.end() || !it->is_string())
        fail("row " + std::to_string(row.id) + ": field '" + key +
             "' must be text for AI labelling (message lists are not supported yet)");
    return it->get_ref<const std::string&>();
}

} // namespace

std::string pairwiseQuestion(const std::string& prompt, const std::string& responseA, const std::string& responseB)
{
    return "Which response answers the request better?\nRequest: " + prompt + "\nResponse A: " + responseA +
           "\nResponse B: " + responseB + "\nAnswer A or B.";
}

AiJudge::AiJudge(model::CausalLM model, const tok::Tokenizer& tokenizer, JudgeOptions options)
    : m_model(std::move(model)), m_tokenizer(tokenizer), m_options(std::move(options)),
      m_format(train::makePromptFormat(m_options.promptFormat))
{
    if (m_options.threshold < 0.5 || m_options.threshold > 1)
        fail("judge threshold must be between 0.5 and 1, got " + std::to_string(m_options.threshold));
}

std::vector<double> AiJudge::probabilityOfA(const std::vector<std::string>& questions)
{
    torch::NoGradGuard noGrad;
    m_model->eval();
    std::vector<double> out;
    for (size_t begin = 0; begin < questions.size(); begin += size_t(m_options.batchSize)) {
        const size_t end = std::min(questions.size(), begin + size_t(m_options.batchSize));
        std::vector<std::vector<int>> ids;
        std::vector<std::pair<int64_t, int64_t>> verdicts;
        size_t width = 1;
        for (size_t i = begin; i < end; ++i) {
            const std::string text = m_format->renderPrompt(questions[i]);
            std::vector<int> t = m_tokenizer.encode(text, m_tokenizer.addsBosByDefault(), false);
            if (int64_t(t.size()) > m_options.maxSeqLen)
                t.erase(t.begin(), t.end() - m_options.maxSeqLen);
            const int64_t a = continuationToken(m_tokenizer, text, "A"), b = continuationToken(m_tokenizer, text, "B");
            if (a == b)
                fail("the judge's tokenizer maps the verdicts 'A' and 'B' to the same token");
            verdicts.emplace_back(a, b);
            width = std::max(width, t.size());
            ids.push_back(std::move(t));
        }
        // Left padding: every row's last position is its next-token prediction.
        const int64_t n = int64_t(ids.size()), w = int64_t(width);
        at::Tensor batch = at::full({n, w}, std::max(0, m_tokenizer.padId()), at::kLong);
        at::Tensor mask = at::zeros({n, w}, at::kLong);
        for (int64_t r = 0; r < n; ++r) {
            const auto& t = ids[size_t(r)];
            const int64_t offset = w - int64_t(t.size());
            for (size_t j = 0; j < t.size(); ++j) {
                batch[r][offset + int64_t(j)] = t[j];
                mask[r][offset + int64_t(j)] = 1;
            }
        }
        const c10::Device device = m_model->parameters().front().device();
        at::Tensor hidden = m_model->hidden(batch.to(device), mask.to(device)).narrow(1, w - 1, 1);            // (N, 1, C)
        at::Tensor logits = m_model->logitsFromHidden(hidden).squeeze(1).to(at::kDouble).cpu();  // (N, V)
        for (int64_t r = 0; r < n; ++r) {
            const double la = logits[r][verdicts[size_t(r)].first].item<double>();
            const double lb = logits[r][verdicts[size_t(r)].second].item<double>();
            out.push_back(1.0 / (1.0 + std::exp(lb - la)));
        }
    }
    return out;
}

std::vector<Judgement> AiJudge::judge(const std::vector<std::string>& prompts, const std::vector<std::string>& first,
                                      const std::vector<std::string>& second)
{
    if (prompts.size() != first.size() || prompts.size() != second.size())
        fail("judge: prompts and responses differ in number");
    std::vector<std::string> questions;
    for (size_t i = 0; i < prompts.size(); ++i)
        questions.push_back(pairwiseQuestion(prompts[i], first[i], second[i]));
    for (size_t i = 0; i < prompts.size(); ++i)
        questions.push_back(pairwiseQuestion(prompts[i], second[i], first[i]));
    std::vector<double> pA = probabilityOfA(questions);
    std::vector<Judgement> out(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
        Judgement& j = out[i];
        j.firstShownFirst = pA[i];
        j.firstShownSecond = 1.0 - pA[prompts.size() + i];
        j.preferFirst = 0.5 * (j.firstShownFirst + j.firstShownSecond);
        j.confidence = std::max(j.preferFirst, 1.0 - j.preferFirst);
        j.verdict = j.confidence < m_options.threshold ? -1 : (j.preferFirst >= 0.5 ? 0 : 1);
    }
    return out;
}

int64_t labelPairs(AiJudge& judge, std::vector<data::Row>& rows, const std::string& judgeName)
{
    std::vector<std::string> prompts, first, second;
    for (const data::Row& row : rows) {
        prompts.push_back(textField(row, "prompt"));
        first.push_back(textField(row, "chosen"));
        second.push_back(textField(row, "rejected"));
    }
    std::vector<Judgement> verdicts = judge.judge(prompts, first, second);
    int64_t labelled = 0;
    const std::string now = data::nowIso8601();
    for (size_t i = 0; i < rows.size(); ++i) {
        data::Row& row = rows[i];
        const Judgement& j = verdicts[i];
        row.confidence = j.confidence;
        if (j.verdict < 0) {
            row.labelSource = data::LabelSource::None;
            row.annotator.clear();
            row.labeledAt.clear();
            continue;
        }
        if (j.verdict == 1)
            std::swap(row.fields["chosen"], row.fields["rejected"]);
        row.labelSource = data::LabelSource::AI;
        row.annotator = "ai:" + judgeName;
        row.labeledAt = now;
        ++labelled;
    }
    return labelled;
}

Ranking rankResponses(AiJudge& judge, const std::string& prompt, const std::vector<std::string>& responses)
{
    const size_t n = responses.size();
    if (n < 2)
        fail("ranking responses needs at least two, got " + std::to_string(n));
    std::vector<std::string> prompts, first, second;
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) {
            prompts.push_back(prompt);
            first.push_back(responses[i]);
            second.push_back(responses[j]);
            pairs.emplace_back(i, j);
        }
    const std::vector<Judgement> verdicts = judge.judge(prompts, first, second);
    Ranking r;
    r.scores.assign(n, 0.0);
    for (size_t k = 0; k < pairs.size(); ++k) {
        r.scores[pairs[k].first] += verdicts[k].preferFirst / double(n - 1);
        r.scores[pairs[k].second] += (1.0 - verdicts[k].preferFirst) / double(n - 1);
    }
    for (size_t i = 1; i < n; ++i) {
        if (r.scores[i] > r.scores[r.best])
            r.best = i;
        if (r.scores[i] < r.scores[r.worst])
            r.worst = i;
    }
    if (r.best == r.worst)  // every score equal: no order to take a pair from
        r.worst = r.best == 0 ? 1 : 0;
    // The pair's own verdict, read from the round robin (asked with best shown first or second).
    for (size_t k = 0; k < pairs.size(); ++k) {
        const auto [i, j] = pairs[k];
        if (i == r.best && j == r.worst) {
            r.bestOverWorst = verdicts[k];
        } else if (i == r.worst && j == r.best) {
            Judgement flipped = verdicts[k];
            std::swap(flipped.firstShownFirst, flipped.firstShownSecond);
            flipped.firstShownFirst = 1.0 - flipped.firstShownFirst;
            flipped.firstShownSecond = 1.0 - flipped.firstShownSecond;
            flipped.preferFirst = 1.0 - flipped.preferFirst;
            flipped.verdict = flipped.verdict < 0 ? -1 : 1 - flipped.verdict;
            r.bestOverWorst = flipped;
        }
    }
    return r;
}

} // namespace ft::align
