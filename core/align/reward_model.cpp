#include "align/reward_model.h"

#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model_io.h"
#include "peft/adapter.h"
#include "peft/adapter_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace ft::align {

at::Tensor rewardScores(model::CausalLM& model, const at::Tensor& head, const ResponseBatch& batch)
{
    at::Tensor hidden = model->hidden(batch.ids, batch.attentionMask);          // (N, T, C)
    at::Tensor last = (batch.attentionMask.sum(1) - 1).clamp_min(0);            // (N,)
    at::Tensor picked = hidden.index({at::arange(hidden.size(0), last.options()), last});  // (N, C)
    return at::matmul(picked.to(at::kFloat), head.to(picked.device()).t()).squeeze(1);       // (N,)
}

void saveRewardHead(const std::string& dir, const at::Tensor& head, const std::string& promptFormat)
{
    fs::create_directories(dir);
    at::Tensor h = head.detach().to(at::kFloat).cpu().contiguous();
    io::TensorToWrite t;
    t.name = "score.weight";
    t.dtype = io::DType::F32;
    t.shape = {h.size(0), h.size(1)};
    t.data = h.data_ptr();
    t.nbytes = size_t(h.nbytes());
    io::writeSafetensors((fs::path(dir) / kRewardHeadFile).string(), {t}, {{"format", "pt"}});
    io::writeJsonFileAtomic((fs::path(dir) / kRewardConfigFile).string(),
                            {{"kind", "reward_model"},
                             {"head", kRewardHeadFile},
                             {"tensor", "score.weight"},
                             {"pooling", "last_token"},
                             {"prompt_format", promptFormat},
                             {"hidden_size", h.size(1)}});
}

RewardScorer::RewardScorer() = default;
RewardScorer::~RewardScorer() = default;

std::unique_ptr<RewardScorer> RewardScorer::load(const std::string& baseModel, const std::string& rewardDir)
{
    const std::string configPath = (fs::path(rewardDir) / kRewardConfigFile).string();
    if (!fs::exists(configPath))
        fail("'" + rewardDir + "' is not a reward model: it has no " + kRewardConfigFile +
             " (train one with objective \"reward\")");
    const nlohmann::json config = io::readJsonFile(configPath);
    auto scorer = std::make_unique<RewardScorer>();
    const bool fullModel = fs::exists(fs::path(rewardDir) / "config.json");
    const std::string modelDir = fullModel ? rewardDir : baseModel;
    scorer->m_tokenizer = tok::loadTokenizer(modelDir);
    scorer->m_model = model::loadModelFolder(modelDir, {}).model;
    if (!fullModel)
        scorer->m_adapter = peft::loadAdapter(rewardDir, scorer->m_model);
    scorer->m_format = train::makePromptFormat(config.value("prompt_format", std::string("alpaca")));

    const std::string headPath = (fs::path(rewardDir) / config.value("head", std::string(kRewardHeadFile))).string();
    io::SafetensorsFile file = io::SafetensorsFile::open(headPath);
    const io::TensorView* w = file.find("score.weight");
    const int64_t hiddenSize = scorer->m_model->config().hiddenSize;
    if (!w || w->dtype != io::DType::F32 || w->shape != std::vector<int64_t>{1, hiddenSize})
        fail(headPath + ": expected tensor 'score.weight' F32 of shape [1, " + std::to_string(hiddenSize) +
             "] (the model's hidden size)");
    scorer->m_head = at::empty({1, hiddenSize}, at::kFloat);
    std::memcpy(scorer->m_head.data_ptr(), w->data, w->nbytes);
    scorer->m_model->eval();
    return scorer;
}

std::vector<double> RewardScorer::score(const std::vector<std::pair<nlohmann::json, nlohmann::json>>& items,
                                        int64_t maxSeqLen)
{
    torch::NoGradGuard noGrad;
    std::vector<Response> responses(items.size());
    std::vector<const Response*> pointers;
    for (size_t i = 0; i < items.size(); ++i) {
        bool truncated = false;
        tokenizeResponse(items[i].first, items[i].second, *m_format, *m_tokenizer, maxSeqLen, responses[i], truncated);
        pointers.push_back(&responses[i]);
    }
    std::vector<double> out;
    if (items.empty())
        return out;
    at::Tensor s = rewardScores(m_model, m_head, collateResponses(pointers, std::max(0, m_tokenizer->padId()),
                                                                    c10::Device(c10::kCPU)));
    for (int64_t i = 0; i < s.size(0); ++i)
        out.push_back(s[i].item<double>());
    return out;
}

} // namespace ft::align
