// RLAIF's labeler (Lee et al. 2023): a judge model (any loaded model; the base by
// default) decides which of two responses to a prompt is better. The pairwise
// question is rendered with a prompt format and the judge's next-token
// probabilities of the two verdict tokens ("A", "B") are compared. Each pair is
// asked in both orders and the two answers averaged, which cancels the judge's
// position bias; a confidence threshold leaves unsure pairs unlabelled for a person.
// The labels become preference rows (chosen/rejected, label_source "ai",
// confidence, annotator "ai:<judge>") ready for DPO or a reward model.
// Not here: reading and writing datasets (the CLI and the GUI do that).
#pragma once

#include "data/records.h"
#include "model/llama.h"
#include "tokenizer/tokenizer.h"
#include "train/prompt_format.h"

#include <memory>
#include <string>
#include <vector>

namespace ft::align {

struct JudgeOptions {
    std::string promptFormat = "alpaca";
    double threshold = 0.6;   // label only when the averaged preference is at least this sure (0.5..1)
    int64_t maxSeqLen = 1024; // longer questions keep their end (the responses and the verdict cue)
    int64_t batchSize = 8;
};

struct Judgement {
    double firstShownFirst = 0.5;   // P(verdict = the first response) when it is shown as A
    double firstShownSecond = 0.5;  // P(verdict = the first response) when it is shown as B
    double preferFirst = 0.5;       // their average: position bias cancels
    double confidence = 0.5;        // max(preferFirst, 1 - preferFirst)
    int verdict = -1;               // 0 = the first response is better, 1 = the second, -1 = below the threshold
};

// The question the judge reads (before the prompt format wraps it); "A" and "B" are
// the verdict tokens. Exposed so that a judge can be fine-tuned on the same text.
std::string pairwiseQuestion(const std::string& prompt, const std::string& responseA, const std::string& responseB);

class AiJudge {
public:
    // ft::Error when the verdict tokens cannot be told apart by the tokenizer.
    AiJudge(model::CausalLM model, const tok::Tokenizer& tokenizer, JudgeOptions options);
    std::vector<Judgement> judge(const std::vector<std::string>& prompts, const std::vector<std::string>& first,
                                 const std::vector<std::string>& second);

private:
    // P(verdict "A") for each question, two-way normalized over {A, B}.
    std::vector<double> probabilityOfA(const std::vector<std::string>& questions);

    model::CausalLM m_model;
    const tok::Tokenizer& m_tokenizer;
    JudgeOptions m_options;
    std::unique_ptr<train::PromptFormat> m_format;
};

// Labels preference rows in place: the pair's two responses are judged (chosen vs
// rejected as given, whichever order they were in), and a confident verdict
// reorders them so that "chosen" is the judge's pick, sets label_source ai,
// confidence, annotator "ai:<judgeName>" and labeled_at. Rows below the threshold
// get label_source none and keep their order. Returns how many were labelled.
// Text prompts and responses only (ft::Error naming the row otherwise).
int64_t labelPairs(AiJudge& judge, std::vector<data::Row>& rows, const std::string& judgeName);

// Several responses to one prompt ranked by a round robin of pairwise judgements (each
// pair asked in both orders): a response's score is its mean probability of beating each
// of the others. best/worst are the highest and lowest scores (the first on ties), and
// bestOverWorst the judge's own verdict on that pair (verdict 0 when it prefers best at
// the threshold). The on-policy DPO recipe makes (best, worst) a preference pair.
// ft::Error with fewer than two responses.
struct Ranking {
    std::vector<double> scores;
    size_t best = 0, worst = 0;
    Judgement bestOverWorst;
};
Ranking rankResponses(AiJudge& judge, const std::string& prompt, const std::vector<std::string>& responses);

} // namespace ft::align
