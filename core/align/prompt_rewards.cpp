#include "align/prompt_rewards.h"

#include "align/reward_model.h"
#include "eval/verifiers.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <algorithm>
#include <map>

namespace ft::align {

namespace {

nlohmann::json promptOf(const data::Row& row)
{
    const auto& f = row.fields;
    if (f.contains("instruction")) {
        std::string text = f["instruction"].get<std::string>();
        if (f.contains("input") && f["input"].is_string() && !f["input"].get<std::string>().empty())
            text += "\n" + f["input"].get<std::string>();
        return text;
    }
    if (!f.contains("prompt"))
        fail("row " + std::to_string(row.id) + ": no prompt (field 'prompt' or 'instruction')");
    return f["prompt"];
}

} // namespace

RewardSource::RewardSource(const AlignContext& context, const std::string& rewardModelDir,
                           const std::string& verifierOverride)
    : m_x(context), m_verifierOverride(verifierOverride)
{
    if (!rewardModelDir.empty())
        m_rewardModel = RewardScorer::load(m_x.modelDir, rewardModelDir);
    if (!m_verifierOverride.empty())
        eval::makeVerifier(m_verifierOverride, nlohmann::json::object());  // an unknown name fails before any row
}

RewardSource::~RewardSource() = default;

std::vector<RlPrompt> RewardSource::buildPrompts(const std::vector<data::Row>& rows, int64_t maxNewTokens) const
{
    std::map<std::string, std::shared_ptr<eval::Verifier>> verifiers;  // rows with equal settings share one
    std::vector<RlPrompt> out;
    for (const data::Row& row : rows) {
        RlPrompt p;
        p.rowId = row.id;
        p.prompt = promptOf(row);
        if (!p.prompt.is_string())
            fail("row " + std::to_string(row.id) +
                 ": on-policy objectives take text prompts; message-list prompts are not supported yet");
        const std::string text = m_x.format->renderPrompt(p.prompt.get<std::string>());
        std::vector<int> ids = m_x.tokenizer->encode(text, m_x.tokenizer->addsBosByDefault(), false);
        p.ids.assign(ids.begin(), ids.end());
        if (int64_t(p.ids.size()) + maxNewTokens > m_x.maxSeqLen)
            fail("row " + std::to_string(row.id) + ": the prompt has " + std::to_string(p.ids.size()) +
                 " tokens; with objective.max_new_tokens " + std::to_string(maxNewTokens) +
                 " it exceeds training.max_seq_len " + std::to_string(m_x.maxSeqLen));
        if (!m_rewardModel) {
            const auto& f = row.fields;
            if (!f.contains("reference") || !f.contains("verifier"))
                fail("row " + std::to_string(row.id) +
                     ": without objective.reward_model the rows must be verifiable (prompt, reference, verifier)");
            p.reference = f["reference"].get<std::string>();
            const bool own = m_verifierOverride.empty();
            const std::string name = own ? f["verifier"].get<std::string>() : m_verifierOverride;
            const nlohmann::json settings = own && f.contains("verifier_settings") && f["verifier_settings"].is_object()
                                                ? f["verifier_settings"]
                                                : nlohmann::json::object();
            const std::string key = name + "\n" + settings.dump();
            auto it = verifiers.find(key);
            if (it == verifiers.end()) {
                try {
                    it = verifiers.emplace(key, std::shared_ptr<eval::Verifier>(eval::makeVerifier(name, settings))).first;
                } catch (const Error& e) {
                    fail("row " + std::to_string(row.id) + ": " + e.what());
                }
            }
            p.verifier = it->second;
        }
        out.push_back(std::move(p));
    }
    return out;
}

void RewardSource::score(const std::vector<const RlPrompt*>& prompts, const std::vector<std::string>& texts,
                         std::vector<double>& rewards, std::vector<bool>& passed) const
{
    rewards.assign(texts.size(), 0.0);
    passed.assign(texts.size(), false);
    if (m_rewardModel) {
        std::vector<std::pair<nlohmann::json, nlohmann::json>> items;
        for (size_t i = 0; i < texts.size(); ++i)
            items.emplace_back(prompts[i]->prompt, texts[i]);
        rewards = m_rewardModel->score(items, m_x.maxSeqLen);
        return;
    }
    for (size_t i = 0; i < texts.size(); ++i) {
        eval::VerifyResult r = prompts[i]->verifier->score(texts[i], prompts[i]->reference);
        rewards[i] = r.reward;
        passed[i] = r.passed;
    }
}

RolloutOptions rolloutDefaults(const AlignContext& context)
{
    RolloutOptions options;
    options.eosIds = context.generation ? context.generation->eosTokenIds : std::vector<int64_t>{};
    if (options.eosIds.empty() && context.tokenizer->eosId() >= 0)
        options.eosIds.push_back(context.tokenizer->eosId());
    options.padId = std::max(0, context.tokenizer->padId());
    return options;
}

RolloutOptions trainingSampling(const AlignContext& context, int64_t samplesPerPrompt)
{
    RolloutOptions options = rolloutDefaults(context);
    options.maxNewTokens = context.integer("max_new_tokens");
    options.temperature = context.number("temperature");
    options.topP = context.number("top_p");
    options.samplesPerPrompt = samplesPerPrompt;
    return options;
}

std::vector<std::string> completionTexts(const Rollouts& rollouts, const tok::Tokenizer& tokenizer,
                                         const std::vector<int64_t>& eosIds)
{
    std::vector<std::string> texts;
    for (const auto& completion : rollouts.completions) {
        std::vector<int> kept;
        for (int64_t id : completion)
            if (std::find(eosIds.begin(), eosIds.end(), id) == eosIds.end())
                kept.push_back(int(id));
        texts.push_back(tokenizer.decode(kept));
    }
    return texts;
}

void PolicyEval::fill(double& loss, nlohmann::json& metrics, bool withAccuracy) const
{
    loss = -greedyReward;
    metrics = {{"reward", greedyReward},
               {"completion_length", greedyLength},
               {"sampled_reward", sampledReward},
               {"prompts", prompts}};
    if (withAccuracy) {
        metrics["accuracy"] = greedyAccuracy;
        metrics["sampled_accuracy"] = sampledAccuracy;
    }
}

PolicyEval evaluatePolicy(const AlignContext& context, const RewardSource& rewards, const std::vector<RlPrompt>& prompts,
                          const RolloutOptions& sampling, int64_t maxBatches)
{
    PolicyEval out;
    double greedySum = 0, greedyPasses = 0, length = 0, sampledSum = 0, sampledPasses = 0, samples = 0;
    int64_t batches = 0;
    model::CausalLM model = context.model;
    for (size_t begin = 0; begin < prompts.size(); begin += size_t(context.batchSize)) {
        if (maxBatches > 0 && batches >= maxBatches)
            break;
        std::vector<const RlPrompt*> part;
        std::vector<std::vector<int64_t>> ids;
        for (size_t i = begin; i < std::min(prompts.size(), begin + size_t(context.batchSize)); ++i) {
            part.push_back(&prompts[i]);
            ids.push_back(prompts[i].ids);
        }
        RolloutOptions greedy = sampling;
        greedy.temperature = 0;
        greedy.samplesPerPrompt = 1;
        Rollouts r = generateRollouts(model, ids, greedy);
        std::vector<double> scores;
        std::vector<bool> passed;
        rewards.score(part, completionTexts(r, *context.tokenizer, greedy.eosIds), scores, passed);
        for (size_t i = 0; i < scores.size(); ++i) {
            greedySum += scores[i];
            greedyPasses += passed[i] ? 1 : 0;
            length += double(r.completions[i].size());
        }
        out.prompts += int64_t(scores.size());

        RolloutOptions drawn = sampling;
        drawn.seed = sampling.seed + uint64_t(batches) * 1000003ULL;
        Rollouts s = generateRollouts(model, ids, drawn);
        std::vector<const RlPrompt*> owners;
        for (size_t row = 0; row < s.completions.size(); ++row)
            owners.push_back(part[row / size_t(drawn.samplesPerPrompt)]);
        rewards.score(owners, completionTexts(s, *context.tokenizer, drawn.eosIds), scores, passed);
        for (size_t i = 0; i < scores.size(); ++i) {
            sampledSum += scores[i];
            sampledPasses += passed[i] ? 1 : 0;
            ++samples;
        }
        ++batches;
    }
    const double n = double(std::max<int64_t>(1, out.prompts)), m = std::max(1.0, samples);
    out.greedyReward = greedySum / n;
    out.greedyAccuracy = greedyPasses / n;
    out.greedyLength = length / n;
    out.sampledReward = sampledSum / m;
    out.sampledAccuracy = sampledPasses / m;
    return out;
}

} // namespace ft::align
