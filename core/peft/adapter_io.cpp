#include "peft/adapter_io.h"

#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model_io.h"
#include "peft/config_fields.h"
#include "peft/registry.h"
#include "peft/targets.h"
#include "peft/technique.h"
#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <cstring>

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace ft::peft {

namespace {

constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

// Inside a multimodal model, module names such as q_proj also name the vision tower's
// projections, which PEFT would wrap too. Its adapter_config.json therefore names the
// language model's modules by a regular expression over their paths, as PEFT users do
// for Gemma 3 (a regular expression given by the user stays as it is).
nlohmann::json multimodalTargets(const nlohmann::json& targets, const model::ModelConfig& config)
{
    std::vector<std::string> names;
    if (targets.is_array())
        names = targets.get<std::vector<std::string>>();
    else if (targets == "all-linear")
        for (const ProjectionShape& p : projectionShapes(config))
            if (p.shortName != "lm_head" && std::find(names.begin(), names.end(), p.shortName) == names.end())
                names.push_back(p.shortName);
    if (names.empty())
        return targets;
    std::string alternatives;
    for (const std::string& n : names) {
        alternatives += alternatives.empty() ? "" : "|";
        for (char ch : n)
            alternatives += std::string(std::strchr(".*+?^$()[]{}|\\", ch) && ch ? "\\" : "") + ch;
    }
    return "model\\.language_model\\..*\\.(" + alternatives + ")";
}

// Adapter keys that PEFT wrote against transformers < 4.52, whose multimodal models kept
// the language model under language_model.model.*, renamed to the layout of today.
std::map<std::string, at::Tensor> currentMultimodalKeys(std::map<std::string, at::Tensor> tensors,
                                                        const model::ModelConfig& config)
{
    const std::string root = "base_model.model.";
    std::map<std::string, at::Tensor> out;
    for (auto& [key, t] : tensors)
        out[key.rfind(root, 0) == 0 ? root + model::multimodalModulePath(config, textModulePath(key.substr(root.size())))
                                    : key] = t;
    return out;
}

} // namespace

void saveAdapter(const std::string& dir, Adapter& adapter, const std::string& baseModel, c10::ScalarType dtype)
{
    if (adapter.savesFullModel())
        fail("technique '" + adapter.settings().technique + "' trains the model's own weights; save a model folder instead");
    fs::create_directories(dir);
    nlohmann::json config = adapter.configJson();
    config["peft_type"] = adapter.peftType();
    config["task_type"] = "CAUSAL_LM";
    config["base_model_name_or_path"] = baseModel;
    config["inference_mode"] = true;
    config["revision"] = nullptr;
    config["ftstudio"] = settingsToJson(adapter.settings());
    const fs::path baseConfig = fs::path(baseModel) / "config.json";
    if (config.contains("target_modules") && fs::exists(baseConfig))
        if (const model::ModelConfig mc = model::readModelConfig(baseConfig.string()); mc.isMultimodal())
            config["target_modules"] = multimodalTargets(config["target_modules"], mc);

    std::vector<at::Tensor> keepAlive;
    std::vector<io::TensorToWrite> tensors;
    for (auto& [key, t] : adapter.stateDict()) {
        at::Tensor c = t.detach().to(at::kCPU, dtype).contiguous();
        keepAlive.push_back(c);
        tensors.push_back({key, model::toSafetensorsDType(dtype), c.sizes().vec(), c.data_ptr(), c.nbytes()});
    }
    io::writeSafetensors((fs::path(dir) / kWeightsFile).string(), tensors, {{"format", "pt"}});
    io::writeJsonFileAtomic((fs::path(dir) / kConfigFile).string(), config);
}

std::unique_ptr<Adapter> loadAdapter(const std::string& dir, model::CausalLM& model, const std::string& name,
                                     const ApplyContext& context)
{
    PeftSettings settings = readAdapterSettings(dir);
    settings.promptInit = "random";  // the file's tensors replace any initialization
    const fs::path weights = fs::path(dir) / kWeightsFile;
    if (!fs::exists(weights))
        fail("adapter folder '" + dir + "' has no " + kWeightsFile);
    io::SafetensorsFile file = io::SafetensorsFile::open(weights.string());
    std::map<std::string, at::Tensor> tensors;
    for (const auto& view : file.tensors())
        tensors[view.name] = model::tensorFromView(view, c10::kFloat);
    ApplyContext loading = context;
    loading.tensorsFollow = true;
    std::unique_ptr<Adapter> adapter = applyTechnique(model, settings, name, loading);
    if (model->config().isMultimodal())
        tensors = currentMultimodalKeys(std::move(tensors), model->config());
    adapter->loadStateDict(tensors, weights.string());
    return adapter;
}

} // namespace ft::peft
