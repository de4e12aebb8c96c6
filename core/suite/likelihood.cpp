#include "suite/likelihood.h"

#include "model/eval_mode.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace ft::suite {

namespace {

std::vector<int64_t> encodeIds(const tok::Tokenizer& tokenizer, const std::string& text)
{
    std::vector<int64_t> ids;
    for (int id : tokenizer.encode(text, tokenizer.addsBosByDefault(), false))
        ids.push_back(id);
    return ids;
}

c10::Device deviceOf(model::CausalLM& model)
{
    const auto params = model->parameters();
    return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

} // namespace

std::vector<ContinuationScore> continuationLogLikelihoods(model::CausalLM& model, const tok::Tokenizer& tokenizer,
                                                          const std::string& contextIn,
                                                          const std::vector<std::string>& continuations)
{
    if (continuations.empty())
        return {};
    // Trailing white space of the context belongs to the continuation (lm-evaluation-harness).
    std::string context = contextIn;
    size_t keep = context.size();
    while (keep > 0 && std::isspace((unsigned char)context[keep - 1]))
        --keep;
    const std::string moved = context.substr(keep);
    context.resize(keep);
    const std::vector<int64_t> contextIds = encodeIds(tokenizer, context);

    std::vector<std::vector<int64_t>> rows;
    std::vector<int64_t> starts;  // index of each continuation's first id in its row
    const int64_t maxLen = model->config().maxPositionEmbeddings;
    for (const std::string& cont : continuations) {
        std::vector<int64_t> whole = encodeIds(tokenizer, context + moved + cont);
        // The continuation's ids: those after the context's; where the whole text's
        // tokenization merges across the boundary, the shorter common prefix decides
        // (lm-evaluation-harness slices at len(context ids) regardless).
        const int64_t start = std::min<int64_t>(int64_t(contextIds.size()), int64_t(whole.size()));
        if (int64_t(whole.size()) - start < 1)
            fail("the choice \"" + cont + "\" adds no token to its context, so it cannot be scored");
        if (start < 1)
            fail("the context and the choice \"" + cont +
                 "\" give no token to predict the first choice token from (the tokenizer adds no BOS and the "
                 "context is empty)");
        if (maxLen > 0 && int64_t(whole.size()) > maxLen)
            fail("a context with the choice \"" + cont + "\" is " + std::to_string(whole.size()) +
                 " tokens, more than the model's context of " + std::to_string(maxLen));
        starts.push_back(start);
        rows.push_back(std::move(whole));
    }
    const int64_t n = int64_t(rows.size());
    int64_t width = 0;
    for (const auto& r : rows)
        width = std::max(width, int64_t(r.size()));
    at::Tensor ids = torch::zeros({n, width}, torch::kLong);
    at::Tensor mask = torch::zeros({n, width}, torch::kLong);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t len = int64_t(rows[size_t(i)].size());
        ids[i].narrow(0, 0, len).copy_(torch::tensor(rows[size_t(i)], torch::kLong));
        mask[i].narrow(0, 0, len).fill_(1);
    }
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    const c10::Device device = deviceOf(model);
    const at::Tensor logits = model->forward(ids.to(device), mask.to(device)).to(torch::kFloat).cpu();  // (N, T, V)
    std::vector<ContinuationScore> out;
    for (int64_t i = 0; i < n; ++i) {
        const auto& row = rows[size_t(i)];
        const int64_t s = starts[size_t(i)], len = int64_t(row.size());
        // Predictions for positions s..len-1 come from the logits at s-1..len-2.
        const at::Tensor logp = torch::log_softmax(logits[i].narrow(0, s - 1, len - s), -1);  // (L, V)
        const at::Tensor target = ids[i].narrow(0, s, len - s);
        ContinuationScore score;
        score.tokens = len - s;
        score.logLikelihood = logp.gather(1, target.unsqueeze(1)).sum().item<double>();
        score.greedy = logp.argmax(1).equal(target);
        out.push_back(score);
    }
    return out;
}

TextScore textNegativeLogLikelihood(model::CausalLM& model, const tok::Tokenizer& tokenizer, const std::string& text,
                                    int64_t maxPositions)
{
    const std::vector<int64_t> ids = encodeIds(tokenizer, text);
    if (ids.size() < 2)
        fail("the text has " + std::to_string(ids.size()) + " token(s); at least 2 are needed to score one");
    int64_t window = maxPositions > 0 ? maxPositions : model->config().maxPositionEmbeddings;
    if (window <= 0)
        window = int64_t(ids.size());
    if (window < 2)
        fail("a scoring window must hold at least 2 tokens");
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    const c10::Device device = deviceOf(model);
    const at::Tensor all = torch::tensor(ids, torch::kLong);
    TextScore score;
    for (int64_t start = 0; start + 1 < int64_t(ids.size()); start += window - 1) {
        const int64_t len = std::min<int64_t>(window, int64_t(ids.size()) - start);
        const at::Tensor input = all.narrow(0, start, len).unsqueeze(0);
        const at::Tensor logits = model->forward(input.to(device)).to(torch::kFloat).cpu().squeeze(0);  // (len, V)
        const at::Tensor logp = torch::log_softmax(logits.narrow(0, 0, len - 1), -1);
        const at::Tensor target = input.squeeze(0).narrow(0, 1, len - 1).unsqueeze(1);
        score.nll -= logp.gather(1, target).sum().item<double>();
        score.tokens += len - 1;
    }
    return score;
}

} // namespace ft::suite
