// Log-likelihoods a suite scores with: of continuations after a context (multiple
// choice, lm-evaluation-harness's loglikelihood requests) and of whole texts
// (perplexity). Not here: reading suites or aggregating metrics (eval/suite.h).
#pragma once

#include "model/llama.h"

#include <string>
#include <vector>

namespace ft::tok {
class Tokenizer;
}

namespace ft::suite {

struct ContinuationScore {
    double logLikelihood = 0;  // sum of log p(token | everything before) over the continuation's tokens
    int64_t tokens = 0;        // the continuation's tokens
    bool greedy = false;       // every continuation token is the argmax at its position
};

// lm-evaluation-harness's request encoding: trailing white space of the context moves to
// the front of the continuation; whole = encode(context + continuation), the context's
// ids = encode(context), and the continuation's ids are whole[len(context ids):]. Both are
// encoded with BOS as the model's tokenizer adds it (so an empty context still has a token
// to predict from) and never with EOS. The continuations of one context are scored in one
// right-padded batch. ft::Error when a continuation has no tokens of its own or the
// sequence is longer than the model's context.
std::vector<ContinuationScore> continuationLogLikelihoods(model::CausalLM& model, const tok::Tokenizer& tokenizer,
                                                          const std::string& context,
                                                          const std::vector<std::string>& continuations);

struct TextScore {
    double nll = 0;      // summed negative log-likelihood of the scored tokens
    int64_t tokens = 0;  // tokens scored
};

// A text's negative log-likelihood: its ids (BOS as the tokenizer adds it) in disjoint
// windows of at most maxPositions (0: the model's context); every id after the first of
// the text is scored, each window's first id given the previous window's last as context
// (so a window of w ids scores w tokens after the first window's w - 1).
TextScore textNegativeLogLikelihood(model::CausalLM& model, const tok::Tokenizer& tokenizer, const std::string& text,
                                    int64_t maxPositions = 0);

} // namespace ft::suite
