#include "base/bench_objectives.h"

#include "engine/trainer.h"
#include "train/events.h"
#include "train/run_config.h"
#include "train/run_control.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace ft::base {

std::vector<ObjectiveBench> benchObjectives(const ObjectiveBenchOptions& o,
                                            const std::function<void(const ObjectiveBench&)>& progress)
{
    using nlohmann::json;
    const std::string sft = o.datasetsDir + "/sft/instructions.jsonl";
    const std::string align = o.datasetsDir + "/align/";
    const std::string rewardDir = (fs::path(o.workDir) / "reward").string();
    const std::vector<std::pair<json, std::string>> runs = {
        {{{"name", "sft"}}, sft},
        {{{"name", "reward"}}, align + "reward_pairs.jsonl"},
        {{{"name", "dpo"}}, align + "preference.jsonl"},
        {{{"name", "ipo"}}, align + "preference.jsonl"},
        {{{"name", "simpo"}}, align + "preference.jsonl"},
        {{{"name", "orpo"}}, align + "preference.jsonl"},
        {{{"name", "kto"}}, align + "unpaired.jsonl"},
        {{{"name", "ppo"}, {"reward_model", rewardDir + "/adapter"}, {"max_new_tokens", 16}, {"ppo_epochs", 1}},
         align + "preference.jsonl"},
        {{{"name", "rlvr"}, {"num_generations", 8}, {"max_new_tokens", 16}}, align + "verifiable.jsonl"},
    };
    fs::create_directories(o.workDir);
    std::vector<ObjectiveBench> out;
    for (const auto& [objective, data] : runs) {
        const std::string name = objective["name"];
        const std::string dir = (fs::path(o.workDir) / name).string();
        fs::remove_all(dir);
        json config{{"model", o.modelDir},
                    {"output_dir", dir},
                    {"technique", {{"name", "lora"}, {"r", 16}, {"lora_alpha", 32}, {"target_modules", {"all-linear"}}}},
                    {"objective", objective},
                    {"data", {{"train", data}}},
                    {"training", {{"max_seq_len", o.maxSeqLen}, {"batch_size", name == "rlvr" ? std::max<int64_t>(1, o.batchSize / 4) : o.batchSize},
                                  {"max_steps", o.steps + 1}, {"threads", o.threads}, {"seed", 1}}},
                    {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                    {"checkpoint", {{"every_steps", 0}}}};
        std::vector<json> steps;
        train::EventWriter events("");
        events.setListener([&](const json& e) {
            if (e.value("event", "") == "step")
                steps.push_back(e);
        });
        train::RunControl control;
        engine::runTraining(train::parseRunConfig(config, "bench " + name), events, control);
        ObjectiveBench b;
        b.objective = name == "rlvr" ? "grpo/rlvr" : name;
        b.data = fs::path(data).filename().string();
        b.steps = int64_t(steps.size()) - 1;
        if (steps.size() >= 2) {
            b.stepSeconds = (steps.back()["elapsed_s"].get<double>() - steps.front()["elapsed_s"].get<double>()) /
                            double(steps.size() - 1);
            double tokens = 0, rollout = 0;
            for (size_t i = 1; i < steps.size(); ++i) {
                tokens += steps[i]["tokens_per_second"].get<double>();
                rollout += steps[i]["metrics"].value("rollout_tokens_per_second", 0.0);
            }
            b.tokensPerSecond = tokens / double(steps.size() - 1);
            b.rolloutTokensPerSecond = rollout / double(steps.size() - 1);
        }
        out.push_back(b);
        if (progress)
            progress(b);
    }
    fs::remove_all(o.workDir);
    return out;
}

} // namespace ft::base
