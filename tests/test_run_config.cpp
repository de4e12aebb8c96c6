// The run config (core/train/run_config.h) and the settings machinery under it
// (util/settings_schema.h, peft/peft_settings.h): defaults written out here by
// hand, every mistake of a bad config reported at once with its JSON path, typo
// suggestions, rules spanning settings, technique-specific keys, the schema JSON
// and relative paths resolved against the config file's folder.
// Not here: running a config (the trainer's tests).
#include "io/json_file.h"
#include "peft/peft_settings.h"
#include "test_support.h"
#include "train/run_config.h"
#include "util/settings_schema.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_run_config {

using nlohmann::json;
using namespace ft::train;
using fttest::errorOf;

namespace {

json minimalConfig()
{
    return {{"model", "/models/tiny"}, {"output_dir", "/runs/one"}, {"data", {{"train", "/data/train.jsonl"}}}};
}

QString parseError(const json& j)
{
    return errorOf([&] { parseRunConfig(j, "run.json"); });
}

// The lines of an error message after its first line (the problems).
QStringList problemLines(const QString& message)
{
    QStringList lines = message.split('\n');
    QStringList problems;
    for (const QString& l : lines)
        if (l.startsWith("  "))
            problems << l.trimmed();
    return problems;
}

void writeText(const std::filesystem::path& path, const std::string& text)
{
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A config built from the schema's own defaults, for `technique`: required values
// filled in, technique settings limited to the ones the schema says apply.
json configFromSchema(const json& settings, const std::string& path, const std::string& technique)
{
    json out = json::object();
    for (const json& s : settings) {
        const std::string key = s["key"];
        const std::string where = path.empty() ? key : path + "." + key;
        if (s.contains("applies_to")) {
            const auto& applies = s["applies_to"];
            if (std::find(applies.begin(), applies.end(), technique) == applies.end())
                continue;
        }
        if (s["type"] == "object")
            out[key] = configFromSchema(s["settings"], where, technique);
        else if (s.value("required", false))
            out[key] = "/required/" + where;
        else
            out[key] = s["default"];
    }
    if (path == "technique")
        out["name"] = technique;
    return out;
}

} // namespace

class TestRunConfig : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void settingTypesAreChecked();
    void minimalConfigResolvesDefaults();
    void everyMistakeIsReportedAtOnce();
    void unknownKeysGetSuggestions();
    void warmupGivenTwiceIsAnError();
    void crossSettingRules();
    void techniqueKeysMustApply();
    void techniqueSettingsRoundTrip();
    void defaultTargetsPerTechnique();
    void schemaJsonDescribesEverySection();
    void configBuiltFromSchemaDefaultsRoundTrips();
    void wrongValuesAnywhereAreReportedAtTheirPath();
    void relativePathsResolveAgainstConfigFolder();
    void missingFilesAreReportedWithJsonErrors();
    void invalidJsonNamesLine();
};

void TestRunConfig::settingTypesAreChecked()
{
    using ft::util::SettingSpec;
    SettingSpec count{"count", SettingSpec::Type::Int, 3, 1.0, 10.0, {}, "Count", "", {}};
    SettingSpec rate{"rate", SettingSpec::Type::Number, 0.5, 0.0, 1.0, {}, "Rate", "", {}};
    const std::nullopt_t none = std::nullopt;
    SettingSpec mode{"mode", SettingSpec::Type::Choice, "fast", none, none, {"fast", "slow"}, "", "", {}};
    SettingSpec names{"names", SettingSpec::Type::StringList, json::array(), none, none, {"a", "b"}, "", "", {}};
    SettingSpec needed{"needed", SettingSpec::Type::String, nullptr, none, none, {}, "Needed", "", {}};
    SettingSpec size{"size", SettingSpec::Type::Int, 64, none, none, {"32", "64"}, "", "", {}};
    const std::vector<SettingSpec> specs = {count, rate, mode, names, needed, size};

    std::vector<std::string> errors;
    json out = ft::util::applySchema({{"count", 4.0}, {"rate", 1}, {"needed", "x"}}, specs, "s", errors);
    QVERIFY2(errors.empty(), errors.empty() ? "" : errors.front().c_str());
    QCOMPARE(out["count"], json(4));  // an integral float is an integer
    QVERIFY(out["count"].is_number_integer());
    QCOMPARE(out["rate"].get<double>(), 1.0);  // a Number accepts an integer
    QCOMPARE(out["mode"], json("fast"));       // defaults filled in
    QCOMPARE(out["size"], json(64));

    errors.clear();
    out = ft::util::applySchema({{"count", 1.5}, {"rate", 2}, {"mode", "fats"}, {"names", {"a", 3, "c"}}, {"size", 48}},
                                specs, "s", errors);
    const std::set<std::string> got(errors.begin(), errors.end());
    const std::set<std::string> expected = {
        "s.count: must be an integer between 1 and 10, got 1.5",
        "s.rate: must be a number between 0 and 1, got 2",
        "s.mode: must be one of fast, slow; got \"fats\" (did you mean \"fast\"?)",
        "s.names[1]: must be a string, got 3",
        "s.names[2]: must be one of a, b; got \"c\"",
        "s.needed: is required (string: Needed) but missing",
        "s.size: must be one of 32, 64; got 48",
    };
    QCOMPARE(got, expected);
    QCOMPARE(out["count"], json(3));  // a wrong value leaves the default

    errors.clear();
    ft::util::applySchema({{"count", "3"}, {"needed", "x"}}, specs, "", errors);
    QCOMPARE(errors, std::vector<std::string>{"count: must be an integer between 1 and 10, got \"3\""});
    errors.clear();
    out = ft::util::applySchema({{"names", "a"}, {"needed", "x"}}, specs, "", errors);
    QCOMPARE(out["names"], json::array({"a"}));  // a lone string is a one-item list
    errors.clear();
    ft::util::applySchema(json::array(), specs, "s", errors);
    QCOMPARE(errors.front(), std::string("s: must be an object ({...}), got []"));
}

void TestRunConfig::minimalConfigResolvesDefaults()
{
    const RunConfig c = parseRunConfig(minimalConfig(), "run.json");
    QCOMPARE(c.source, std::string("run.json"));
    QCOMPARE(c.model, std::string("/models/tiny"));
    QCOMPARE(c.outputDir, std::string("/runs/one"));
    QCOMPARE(c.resume, false);
    QCOMPARE(c.technique.technique, std::string("lora"));
    QCOMPARE(c.technique.r, int64_t(8));
    QCOMPARE(c.technique.loraAlpha, 16.0);
    QCOMPARE(c.objective.name, std::string("sft"));
    QCOMPARE(c.objective.sft.lossOn, std::string("assistant"));
    QCOMPARE(c.objective.sft.packing, false);
    QCOMPARE(c.objective.sft.chatTemplate, std::string("alpaca"));
    QCOMPARE(c.data.train, std::string("/data/train.jsonl"));
    QCOMPARE(c.data.eval, std::string());
    QCOMPARE(c.data.evalFraction, 0.05);
    QCOMPARE(c.data.format, std::string("auto"));
    QCOMPARE(c.data.maxRows, int64_t(0));
    const TrainingConfig& t = c.training;
    QCOMPARE(t.maxSeqLen, int64_t(512));
    QCOMPARE(t.batchSize, int64_t(8));
    QCOMPARE(t.gradAccum, int64_t(1));
    QCOMPARE(t.epochs, 1.0);
    QCOMPARE(t.maxSteps, int64_t(-1));
    QCOMPARE(t.optimizer.name, std::string("adamw"));
    QCOMPARE(t.optimizer.lr, 2e-4);
    QCOMPARE(t.optimizer.weightDecay, 0.0);
    QCOMPARE(t.optimizer.beta1, 0.9);
    QCOMPARE(t.optimizer.beta2, 0.999);
    QCOMPARE(t.optimizer.eps, 1e-8);
    QCOMPARE(t.schedule.name, std::string("cosine"));
    QCOMPARE(t.schedule.warmupSteps, int64_t(0));
    QCOMPARE(t.schedule.warmupRatio, 0.0);
    QCOMPARE(t.schedule.minLrRatio, 0.0);
    QCOMPARE(t.maxGradNorm, 1.0);
    QCOMPARE(t.gradientCheckpointing, false);
    QCOMPARE(t.precision, std::string("auto"));
    QCOMPARE(t.device, std::string("auto"));
    QCOMPARE(t.threads, int64_t(0));
    QCOMPARE(t.seed, int64_t(42));
    QCOMPARE(t.logEvery, int64_t(1));
    QCOMPARE(c.eval.everySteps, int64_t(50));
    QCOMPARE(c.eval.maxBatches, int64_t(0));
    QCOMPARE(c.checkpoint.everySteps, int64_t(100));
    QCOMPARE(c.checkpoint.keepLast, int64_t(2));
    QCOMPARE(c.samples.everySteps, int64_t(0));
    QVERIFY(c.samples.prompts.empty());
    QCOMPARE(c.samples.maxNewTokens, int64_t(48));
    QCOMPARE(c.samples.temperature, 0.0);

    // The resolved JSON spells out every default.
    const json resolved = toJson(c);
    QCOMPARE(resolved["training"]["optimizer"]["lr"], json(2e-4));
    QCOMPARE(resolved["objective"], json({{"name", "sft"}, {"loss_on", "assistant"}, {"packing", false},
                                          {"template", "alpaca"},
                                          {"reasoning_loss", true}}));
    QCOMPARE(resolved["technique"]["target_modules"], json::array());
}

void TestRunConfig::everyMistakeIsReportedAtOnce()
{
    json j = minimalConfig();
    j.erase("model");
    j["technique"] = {{"name", "lora"}, {"r", 0}};
    j["objective"] = {{"name", "sft"}, {"template", "chatm"}};
    j["data"]["eval_fraction"] = 0.9;
    j["training"] = {{"batch_size", "8"}, {"max_seq_len", 1.5}, {"precision", "bf32"}, {"device", "gpu"},
                     {"schedule", {{"name", "cosin"}}}};
    j["checkpoint"] = {{"keep_last", 0}};
    j["samples"] = {{"prompts", {"ok", 1}}};

    const QString message = parseError(j);
    QVERIFY2(message.startsWith("invalid run config run.json (11 problems):"), qPrintable(message));
    const QStringList problems = problemLines(message);
    const QStringList expected = {
        "model: is required (string: Base model) but missing",
        "data.eval_fraction: must be a number between 0 and 0.5, got 0.9",
        "training.max_seq_len: must be an integer between 8 and 131072, got 1.5",
        "training.batch_size: must be an integer between 1 and 65536, got \"8\"",
        "training.precision: must be one of auto, fp32, bf16, fp16; got \"bf32\" (did you mean \"fp32\"?)",
        "training.schedule.name: must be one of constant, linear, cosine; got \"cosin\" (did you mean \"cosine\"?)",
        "checkpoint.keep_last: must be an integer >= 1, got 0",
        "samples.prompts[1]: must be a string, got 1",
        "technique.r: must be an integer between 1 and 1024, got 0",
        "objective.template: must be one of alpaca, chatml, plain, model; got \"chatm\" (did you mean \"chatml\"?)",
        "training.device: must be auto, cpu, cuda or cuda:N (N a GPU index); got \"gpu\"",
    };
    for (const QString& e : expected)
        QVERIFY2(problems.contains(e), qPrintable("missing: " + e + "\nin:\n" + message));
    QCOMPARE(problems.size(), expected.size());
}

void TestRunConfig::unknownKeysGetSuggestions()
{
    json j = minimalConfig();
    j["training"] = {{"batchsize", 4}, {"optimizer", {{"learnin_rate", 1e-3}}}};
    j["technique"] = {{"lora_alfa", 8}};
    j["colour"] = "blue";
    const QStringList problems = problemLines(parseError(j));
    QVERIFY2(problems.contains("training.batchsize: unknown setting; did you mean \"batch_size\"?"),
             qPrintable(problems.join('\n')));
    QVERIFY(problems.contains("technique.lora_alfa: unknown setting; did you mean \"lora_alpha\"?"));
    // Nothing close: the known settings are listed instead.
    QVERIFY2(problems.contains("colour: unknown setting; known settings here: model, output_dir, resume, technique, "
                               "objective, data, training, eval, checkpoint, samples, distributed"),
             qPrintable(problems.join('\n')));
    QCOMPARE(problems.filter("training.optimizer.learnin_rate: unknown setting; known settings here: name, lr,").size(),
             1);
    QCOMPARE(problems.size(), 4);
}

void TestRunConfig::warmupGivenTwiceIsAnError()
{
    json j = minimalConfig();
    j["training"]["schedule"] = {{"warmup_steps", 10}, {"warmup_ratio", 0.1}};
    QCOMPARE(problemLines(parseError(j)),
             QStringList{"training.schedule: set warmup_steps or warmup_ratio, not both (got 10 and 0.1)"});
    j["training"]["schedule"]["warmup_steps"] = 0;  // 0 counts as not set
    QCOMPARE(parseError(j), QString());
}

void TestRunConfig::crossSettingRules()
{
    json j = minimalConfig();
    j["training"] = {{"epochs", 0}, {"max_steps", 0}, {"optimizer", {{"lr", 0}, {"beta2", 1}}}};
    j["samples"] = {{"every_steps", 10}};
    j["data"]["format"] = "trl";
    j["output_dir"] = "";
    const QStringList problems = problemLines(parseError(j));
    const QStringList expected = {
        "training.epochs: must be a number > 0, got 0.0",
        "training.max_steps: must be -1 (derive from epochs) or >= 1, got 0",
        "training.optimizer.lr: must be a number > 0, got 0.0",
        "training.optimizer.beta2: must be < 1, got 1.0",
        "samples.prompts: at least one prompt is needed when samples.every_steps is 10",
        "data.format: layout 'trl' holds preference rows, but objective 'sft' trains on instruction, chat, text rows",
        "output_dir: must not be empty",
    };
    for (const QString& e : expected)
        QVERIFY2(problems.contains(e), qPrintable("missing: " + e + "\nin:\n" + problems.join('\n')));
    QCOMPARE(problems.size(), expected.size());

    json p = minimalConfig();
    p["technique"] = {{"name", "prompt"}, {"num_virtual_tokens", 64}, {"prompt_init", "text"}};
    p["training"] = {{"max_seq_len", 64}};
    const QStringList promptProblems = problemLines(parseError(p));
    QCOMPARE(promptProblems.size(), 2);
    QVERIFY(promptProblems.contains(
        "technique.prompt_init_text: required (a non-empty text) when prompt_init is \"text\""));
    QVERIFY(promptProblems.contains(
        "technique.num_virtual_tokens: must be smaller than training.max_seq_len (64), got 64"));

    json d = minimalConfig();
    d["technique"] = {{"name", "dora"}, {"use_dora", false}};
    QCOMPARE(problemLines(parseError(d)),
             QStringList{"technique.use_dora: does not apply to technique 'dora' (it is a setting of lora, loraplus, "
                         "rslora, qlora)"});
    d["technique"].erase("use_dora");
    QVERIFY(parseRunConfig(d, "x").technique.useDora);  // implied by the technique
    QVERIFY(!parseRunConfig(d, "x").technique.useRslora);
    d["technique"] = {{"name", "rslora"}, {"use_dora", true}};
    QVERIFY(parseRunConfig(d, "x").technique.useRslora);
    QVERIFY(parseRunConfig(d, "x").technique.useDora);

    json o = minimalConfig();
    o["objective"] = {{"name", "dpx"}, {"beta", 0.1}};
    QCOMPARE(problemLines(parseError(o)),
             QStringList{"objective.name: must be one of sft, reward, dpo, ipo, simpo, orpo, kto, grpo, ppo, rlvr; got "
                         "\"dpx\" (did you mean \"dpo\"?)"});
    o["objective"] = {{"name", "dpo"}, {"beta", 0.1}, {"gamma", 0.5}};  // gamma is SimPO's
    QCOMPARE(problemLines(parseError(o)).size(), 1);
    QVERIFY2(problemLines(parseError(o)).front().startsWith("objective.gamma"), qPrintable(problemLines(parseError(o)).front()));
    o["objective"] = {{"name", "dpo"}, {"label_smoothing", 0.7}};
    QVERIFY2(problemLines(parseError(o)).front().startsWith("objective.label_smoothing"),
             qPrintable(problemLines(parseError(o)).front()));
    o["objective"] = {{"name", "dpo"}, {"beta", 0.2}};
    QCOMPARE(parseRunConfig(o, "x").objective.settings["beta"].get<double>(), 0.2);
    QCOMPARE(parseRunConfig(o, "x").objective.settings["template"].get<std::string>(), std::string("alpaca"));
}

void TestRunConfig::techniqueKeysMustApply()
{
    json j = minimalConfig();
    j["technique"] = {{"name", "prefix"}, {"r", 4}, {"target_modules", {"q_proj"}}, {"seed", 7},
                      {"num_virtual_tokens", 10}};
    const QStringList problems = problemLines(parseError(j));
    QCOMPARE(problems,
             (QStringList{"technique.target_modules: does not apply to technique 'prefix' (it is a setting of lora, "
                          "loraplus, pissa, dora, rslora, qlora, ia3, bitfit)",
                          "technique.r: does not apply to technique 'prefix' (it is a setting of lora, loraplus, pissa, "
                          "dora, rslora, qlora)"}));

    j["technique"] = {{"name", "ia3"}, {"target_modules", {"k_proj", "v_proj"}}, {"seed", 3}};
    const RunConfig c = parseRunConfig(j, "run.json");
    QCOMPARE(c.technique.technique, std::string("ia3"));
    QCOMPARE(c.technique.targetModules, (std::vector<std::string>{"k_proj", "v_proj"}));
    QCOMPARE(c.technique.seed, uint64_t(3));

    j["technique"] = {{"name", "qlora"}, {"quant_block_size", 100}};
    QCOMPARE(problemLines(parseError(j)),
             QStringList{"technique.quant_block_size: must be one of 32, 64, 128, 256; got 100"});
    j["technique"] = {{"name", "lora"}, {"double_quant", false}};
    QCOMPARE(problemLines(parseError(j)),
             QStringList{"technique.double_quant: does not apply to technique 'lora' (it is a setting of qlora)"});
}

void TestRunConfig::techniqueSettingsRoundTrip()
{
    using ft::peft::settingsFromJson;
    using ft::peft::settingsToJson;
    // The keys each technique writes, listed by hand from the design.
    const std::map<std::string, std::set<std::string>> keys = {
        {"lora", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora"}},
        {"loraplus", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora",
                      "loraplus_lr_ratio"}},
        {"pissa", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "pissa_niter"}},
        {"dora", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora"}},
        {"rslora", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_dora"}},
        {"qlora", {"name", "seed", "target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora",
                   "quant_block_size", "double_quant"}},
        {"ia3", {"name", "seed", "target_modules", "feedforward_modules"}},
        {"adapter", {"name", "seed", "adapter_size", "adapter_placement", "adapter_activation"}},
        {"prefix", {"name", "seed", "num_virtual_tokens", "prefix_projection", "encoder_hidden_size"}},
        {"prompt", {"name", "seed", "num_virtual_tokens", "prompt_init", "prompt_init_text"}},
        {"ptuning", {"name", "seed", "num_virtual_tokens", "encoder_hidden_size", "encoder_type",
                     "encoder_num_layers", "encoder_dropout"}},
        {"bitfit", {"name", "seed", "target_modules"}},
        {"freeze", {"name", "seed", "trainable_layers", "train_embeddings", "train_lm_head"}},
        {"full", {"name", "seed"}},
    };
    for (const auto& [technique, expected] : keys) {
        std::vector<std::string> errors;
        const ft::peft::PeftSettings s = settingsFromJson({{"name", technique}}, "technique", errors);
        QVERIFY2(errors.empty(), technique.c_str());
        const json j = settingsToJson(s);
        std::set<std::string> got;
        for (const auto& [k, v] : j.items())
            got.insert(k);
        QVERIFY2(got == expected, technique.c_str());
        const ft::peft::PeftSettings again = settingsFromJson(j, "technique", errors);
        QVERIFY2(errors.empty(), technique.c_str());
        QCOMPARE(settingsToJson(again), j);
    }
    std::vector<std::string> errors;
    const auto s = settingsFromJson({{"name", "adapter"}, {"adapter_size", 32}, {"adapter_placement", "pfeiffer"}},
                                    "technique", errors);
    QCOMPARE(s.adapterSize, int64_t(32));
    QCOMPARE(s.adapterPlacement, std::string("pfeiffer"));
    QCOMPARE(ft::peft::techniqueNames().size(), size_t(14));
    // A setting a technique declares itself round-trips through PeftSettings::extra.
    const auto plus = settingsFromJson({{"name", "loraplus"}, {"loraplus_lr_ratio", 4}}, "technique", errors);
    QVERIFY(errors.empty());
    QCOMPARE(plus.extra["loraplus_lr_ratio"].get<double>(), 4.0);
    QCOMPARE(settingsToJson(plus)["loraplus_lr_ratio"].get<double>(), 4.0);
    settingsFromJson({{"name", "lora"}, {"loraplus_lr_ratio", 4}}, "technique", errors);
    QVERIFY(errors.size() == 1 && errors[0].find("loraplus_lr_ratio") != std::string::npos &&
            errors[0].find("does not apply") != std::string::npos);
}

void TestRunConfig::defaultTargetsPerTechnique()
{
    using ft::peft::defaultTargets;
    const std::vector<std::string> attention = {"q_proj", "k_proj", "v_proj", "o_proj"};
    for (const char* t : {"lora", "loraplus", "pissa", "dora", "rslora", "qlora"})
        QCOMPARE(defaultTargets(t), attention);
    QCOMPARE(defaultTargets("ia3"), (std::vector<std::string>{"k_proj", "v_proj", "down_proj"}));
    QCOMPARE(defaultTargets("bitfit"), std::vector<std::string>{"all-linear"});
    for (const char* t : {"adapter", "prefix", "prompt", "ptuning", "freeze", "full"})
        QVERIFY(defaultTargets(t).empty());
}

void TestRunConfig::schemaJsonDescribesEverySection()
{
    const json schema = runConfigSchema();
    QCOMPARE(json::parse(schema.dump()), schema);
    std::vector<std::string> rootKeys;
    for (const json& s : schema["settings"])
        rootKeys.push_back(s["key"]);
    QCOMPARE(rootKeys, (std::vector<std::string>{"model", "output_dir", "resume", "technique", "objective", "data",
                                                "training", "eval", "checkpoint", "samples", "distributed"}));
    const auto find = [](const json& settings, const std::string& key) {
        for (const json& s : settings)
            if (s["key"] == key)
                return s;
        return json();
    };
    QCOMPARE(find(schema["settings"], "model")["required"], json(true));
    const json training = find(schema["settings"], "training");
    const json lr = find(find(training["settings"], "optimizer")["settings"], "lr");
    QCOMPARE(lr["default"], json(2e-4));
    QCOMPARE(lr["type"], json("number"));
    const json precision = find(training["settings"], "precision");
    QCOMPARE(precision["choices"], json({"auto", "fp32", "bf16", "fp16"}));
    const json r = find(find(schema["settings"], "technique")["settings"], "r");
    QVERIFY(r["min"].is_number_integer() && r["max"].is_number_integer());
    QCOMPARE(r["min"], json(1));
    QCOMPARE(r["max"], json(1024));
    QVERIFY(find(find(training["settings"], "optimizer")["settings"], "beta1")["max"].is_number_float());
    QCOMPARE(r["applies_to"], json({"lora", "loraplus", "pissa", "dora", "rslora", "qlora"}));
    QVERIFY(!r["label"].get<std::string>().empty() && !r["help"].get<std::string>().empty());
    const json objective = find(schema["settings"], "objective");
    QCOMPARE(find(objective["settings"], "name")["choices"],
             json({"sft", "reward", "dpo", "ipo", "simpo", "orpo", "kto", "grpo", "ppo", "rlvr"}));
    QCOMPARE(objective["variants"]["dpo"]["data_kinds"], json({"preference"}));
    QCOMPARE(objective["variants"]["rlvr"]["data_kinds"], json({"verifiable"}));
    QCOMPARE(find(objective["variants"]["grpo"]["settings"], "num_generations")["default"], json(8));
    QCOMPARE(objective["variants"]["sft"]["data_kinds"], json({"instruction", "chat", "text"}));
    QCOMPARE(find(objective["variants"]["sft"]["settings"], "loss_on")["default"], json("assistant"));
}

void TestRunConfig::configBuiltFromSchemaDefaultsRoundTrips()
{
    // For every technique, a config assembled only from the schema JSON parses, and
    // its resolved form is exactly that config: the schema and the parser agree on
    // keys, defaults and which technique keys apply.
    const json schema = runConfigSchema();
    for (const std::string& technique : ft::peft::techniqueNames()) {
        json config = configFromSchema(schema["settings"], "", technique);
        config["objective"]["name"] = "sft";
        for (const json& s : schema["settings"])
            if (s["key"] == "objective")
                for (const json& o : s["variants"]["sft"]["settings"])
                    config["objective"][o["key"].get<std::string>()] = o["default"];
        if (technique == "prompt" || technique == "prefix" || technique == "ptuning")
            config["training"]["max_seq_len"] = 512;
        RunConfig c;
        const QString error = errorOf([&] { c = parseRunConfig(config, "schema"); });
        QVERIFY2(error.isEmpty(), qPrintable(QString::fromStdString(technique) + ": " + error));
        QVERIFY2(toJson(c) == config, qPrintable(QString::fromStdString(technique + "\n" + toJson(c).dump() + "\n" +
                                                                       config.dump())));
        QCOMPARE(toJson(parseRunConfig(toJson(c), "again")), toJson(c));
    }
}

void TestRunConfig::wrongValuesAnywhereAreReportedAtTheirPath()
{
    // Every setting of every section, for a technique where it applies, given values
    // of the wrong type or far out of range: always an ft::Error naming that path,
    // never another exception, never accepted.
    const json schema = runConfigSchema();
    const std::vector<json> wrong = {json("x"), json(1.5), json(-7), json::array({1}), json::object(),
                                     json(true), json(1e300)};
    int checked = 0;
    std::function<void(const json&, const std::string&, std::vector<std::string>)> walk =
        [&](const json& settings, const std::string& path, std::vector<std::string> keys) {
            for (const json& s : settings) {
                std::vector<std::string> here = keys;
                here.push_back(s["key"]);
                const std::string key = s["key"];
                const std::string where = path.empty() ? key : path + "." + key;
                if (s["type"] == "object" && s.contains("settings")) {
                    walk(s["settings"], where, here);
                    continue;
                }
                const std::string technique =
                    s.contains("applies_to") ? s["applies_to"][0].get<std::string>() : std::string("lora");
                for (const json& value : wrong) {
                    json config = minimalConfig();
                    config["technique"]["name"] = technique;
                    json* at = &config;
                    for (size_t i = 0; i + 1 < here.size(); ++i)
                        at = &(*at)[here[i]];
                    (*at)[here.back()] = value;
                    if (where == "technique.name" && value.is_string())
                        continue;
                    const QString error = parseError(config);
                    const std::string type = s["type"];
                    const bool inRange = value.is_number() && (!s.contains("min") || value >= s["min"]) &&
                                         (!s.contains("max") || value <= s["max"]);
                    const bool acceptable = (type == "bool" && value.is_boolean()) ||
                                            (type == "string" && value.is_string() && where != "training.device") ||
                                            (type == "string list" && value.is_string()) ||
                                            (type == "number" && inRange);
                    if (acceptable) {
                        QVERIFY2(error.isEmpty(), qPrintable(QString::fromStdString(where + " = ") + error));
                        continue;
                    }
                    ++checked;
                    const QString line = QString::fromStdString("\n  " + where);  // then ":" or "[i]:"
                    const bool named = error.contains(line + ":") || error.contains(line + "[");
                    QVERIFY2(named && !error.startsWith("<not ft::Error>"),
                             qPrintable(QString::fromStdString(where + " = " + value.dump() + ": ") + error));
                }
            }
        };
    walk(schema["settings"], "", {});
    QVERIFY(checked > 300);
}

void TestRunConfig::relativePathsResolveAgainstConfigFolder()
{
    QTemporaryDir tmp;
    const std::filesystem::path root = tmp.path().toStdString();
    writeText(root / "models/tiny/config.json", "{}");
    writeText(root / "runs/data/train.jsonl", "{}\n");
    writeText(root / "runs/project.db", "");
    writeText(root / "runs/run.json",
              json({{"model", "../models/tiny"},
                    {"output_dir", "out"},
                    {"data", {{"train", "data/train.jsonl"}, {"eval", "project.db#held-out"}}}})
                  .dump());
    const RunConfig c = loadRunConfig((root / "runs/run.json").string());
    QCOMPARE(c.model, (root / "models/tiny").string());
    QCOMPARE(c.outputDir, (root / "runs/out").string());
    QCOMPARE(c.data.train, (root / "runs/data/train.jsonl").string());
    QCOMPARE(c.data.eval, (root / "runs/project.db").string() + "#held-out");
    QVERIFY(isDatasetRef(c.data.eval));
    QVERIFY(!isDatasetRef(c.data.train));

    // Absolute paths stay as they are; parseRunConfig without a folder resolves nothing.
    json j = minimalConfig();
    j["data"]["train"] = "rel/train.jsonl";
    QCOMPARE(parseRunConfig(j, "x", "/base").model, std::string("/models/tiny"));
    QCOMPARE(parseRunConfig(j, "x", "/base").data.train, std::string("/base/rel/train.jsonl"));
    QCOMPARE(parseRunConfig(j, "x").data.train, std::string("rel/train.jsonl"));
}

void TestRunConfig::missingFilesAreReportedWithJsonErrors()
{
    QTemporaryDir tmp;
    const std::filesystem::path root = tmp.path().toStdString();
    writeText(root / "a-file", "");
    writeText(root / "run.json", json({{"model", "nowhere"},
                                       {"output_dir", "a-file"},
                                       {"resume", true},
                                       {"data", {{"train", "missing.db#train"}}},
                                       {"training", {{"grad_accum", 0}}}})
                                     .dump());
    const std::string path = (root / "run.json").string();
    const QString message = errorOf([&] { loadRunConfig(path); });
    QVERIFY2(message.startsWith(QString::fromStdString("invalid run config " + path + " (4 problems):")),
             qPrintable(message));
    const QStringList problems = problemLines(message);
    QVERIFY(problems.contains("training.grad_accum: must be an integer between 1 and 65536, got 0"));
    QVERIFY(problems.contains(QString::fromStdString("model: folder '" + (root / "nowhere").string() +
                                                     "' does not exist")));
    QVERIFY(problems.contains(QString::fromStdString("data.train: project file '" + (root / "missing.db").string() +
                                                     "' does not exist")));
    QVERIFY(problems.contains(QString::fromStdString("output_dir: '" + (root / "a-file").string() +
                                                     "' exists and is not a folder")));

    // An output_dir below a file can never be created: said before any training starts.
    writeText(root / "under-file.json", json({{"model", "nowhere"}, {"output_dir", "a-file/run"}}).dump());
    QVERIFY(problemLines(errorOf([&] { loadRunConfig((root / "under-file.json").string()); }))
                .contains(QString::fromStdString("output_dir: '" + (root / "a-file/run").string() +
                                                 "' cannot be created: '" + (root / "a-file").string() +
                                                 "' is a file, not a folder")));

    const json badRef = {{"model", "m"}, {"output_dir", "o"}, {"data", {{"train", "p.db#"}}}};
    writeText(root / "bad-ref.json", badRef.dump());
    QVERIFY(problemLines(errorOf([&] { parseRunConfig(ft::io::readJsonFile((root / "bad-ref.json").string()), "b"); }))
                .filter("data.train: dataset reference 'p.db#' must look like path/to/project.db#dataset-name")
                .size() == 1);
}

void TestRunConfig::invalidJsonNamesLine()
{
    QTemporaryDir tmp;
    const std::string path = tmp.filePath("run.json").toStdString();
    writeText(path, "{\n  \"model\": \"m\",\n  \"output_dir\": \n}\n");
    const QString message = errorOf([&] { loadRunConfig(path); });
    QVERIFY2(message.startsWith(QString::fromStdString("invalid JSON in " + path + " at line 4")), qPrintable(message));
}

FT_TEST_MAIN(TestRunConfig)

} // namespace test_run_config

#include "test_run_config.moc"
