#include "engine/trainer.h"

#include "engine/data_parallel.h"
#include "engine/objective_registry.h"
#include "io/json_file.h"
#include "model/autocast.h"
#include "model/eval_mode.h"
#include "model/generator.h"
#include "model/model_io.h"
#include "model/runtime.h"
#include "peft/adapter_io.h"
#include "peft/nf4.h"
#include "peft/registry.h"
#include "peft/technique.h"
#include "suite/suite_runner.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/checkpoint.h"
#include "train/loss_scaler.h"
#include "train/memory_estimate.h"
#include "train/optimizer.h"
#include "train/rng_state.h"
#include "train/schedule.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <chrono>
#include <thread>
#include <tuple>
#include <limits>
#include <optional>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace ft::engine {

using namespace ft::train;  // the engine drives the pieces train/ provides

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::json memoryJson()
{
    ProcessMemory m = processMemory();
    nlohmann::json j{{"rss_bytes", m.rssBytes}, {"peak_rss_bytes", m.peakRssBytes}};
    if (auto cuda = cudaMemory()) {
        j["cuda_allocated"] = cuda->allocatedBytes;
        j["cuda_reserved"] = cuda->reservedBytes;
        j["cuda_peak"] = cuda->peakAllocatedBytes;
    }
    return j;
}

int64_t countParameters(torch::nn::Module& m)
{
    int64_t n = 0;
    for (const auto& p : m.parameters())
        n += p.numel();
    return n;
}

// Bytes of everything that does not train: frozen parameters and buffers (an NF4
// base keeps its packed codes and scales in buffers).
int64_t frozenWeightBytes(torch::nn::Module& m, bool countAll = false)
{
    int64_t n = 0;
    for (const auto& p : m.parameters())
        if (countAll || !p.requires_grad())
            n += int64_t(p.nbytes());
    for (const auto& b : m.buffers())
        n += int64_t(b.nbytes());
    return n;
}

int64_t numel(const peft::NamedTensors& tensors)
{
    int64_t n = 0;
    for (const auto& [_, t] : tensors)
        n += t.numel();
    return n;
}

// What training.precision means on a device: the dtype of the frozen weights, the
// autocast dtype of forward passes (none: fp32), and whether the loss is scaled.
struct Precision {
    c10::ScalarType frozen = c10::kFloat;
    std::optional<c10::ScalarType> autocast;
    bool lossScaling = false;
};

Precision resolvePrecision(const RunConfig& c, const c10::Device& device)
{
    const std::string& p = c.training.precision;
    if (p == "bf16")
        return {c10::kBFloat16, c10::kBFloat16, false};
    if (p == "fp16") {
        if (!device.is_cuda())
            fail("training.precision: fp16 needs a CUDA device (autocast on the CPU has bf16 only); "
                 "on the CPU use bf16 or fp32");
        return {c10::kHalf, c10::kHalf, true};
    }
    return {};  // fp32, and auto (fp32 until bf16 has been measured on a GPU)
}

// Everything a run needs, prepared before the first step.
struct Session {
    model::LoadedModel loaded;
    std::unique_ptr<tok::Tokenizer> tokenizer;
    std::unique_ptr<peft::Adapter> adapter;
    std::unique_ptr<PromptFormat> format;
    std::unique_ptr<Objective> objective;
    peft::NamedTensors trainable;
    int64_t totalParameters = 0;
    int64_t trainableParameters = 0;
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType weightDtype = c10::kFloat;
    Precision precision;
    // Forward passes of the whole run (reference log-probs, rollouts, steps, evals,
    // samples) under the run's autocast; backward and optimizer steps leave it.
    std::unique_ptr<model::AutocastScope> autocast;
};

Session prepare(const RunConfig& c, EventWriter& events, DataParallel& dp, const dist::LaunchEnv& launch)
{
    Session s;
    int threads = int(c.training.threads);
    if (threads == 0 && launch.localWorldSize > 1)  // the machine's cores shared by its ranks
        threads = std::max(1, int(std::thread::hardware_concurrency()) / launch.localWorldSize);
    configureThreads(threads);
    s.device = resolveDevice(c.training.device);
    if (dp.active() && s.device.is_cuda() && !s.device.has_index())
        s.device = c10::Device(c10::kCUDA, c10::DeviceIndex(launch.localRank));  // one GPU per rank of a machine
    s.precision = resolvePrecision(c, s.device);
    s.weightDtype = s.precision.frozen;
    if (s.precision.autocast) {
        model::AutocastState state = model::AutocastState::enabledFor(s.device, *s.precision.autocast);
        state.cache = false;
        s.autocast = std::make_unique<model::AutocastScope>(state);
    }
    at::manual_seed(uint64_t(c.training.seed));

    s.tokenizer = tok::loadTokenizer(c.model);
    model::LoadOptions loadOptions{s.weightDtype, c10::Device(c10::kCPU), {}};
    // QLoRA: each projection goes to NF4 as it is read, so the base is never whole in full precision.
    auto streamed = std::make_shared<peft::StreamingQuantization>();
    if (c.technique.technique == "qlora")
        loadOptions.afterParameter =
            peft::quantizeWhileLoading(streamed, c.technique.quantBlockSize, c.technique.doubleQuant);
    s.loaded = model::loadModelFolder(c.model, loadOptions);
    // Counted as the checkpoint holds them: what the loader quantized counts as its dense weights.
    const int64_t baseParameters = countParameters(*s.loaded.model) + streamed->weightElements;
    const int64_t frozenBefore =
        frozenWeightBytes(*s.loaded.model, /*countAll=*/true) - streamed->nf4Bytes + streamed->weightBytes;
    peft::ApplyContext context;
    context.tokenizer = s.tokenizer.get();
    peft::PeftSettings technique = c.technique;
    if (technique.baseModelNameOrPath.empty())
        technique.baseModelNameOrPath = c.model;
    s.adapter = peft::applyTechnique(s.loaded.model, technique, "default", context);
    s.loaded.model->to(s.device);
    s.loaded.model->model->gradientCheckpointing = c.training.gradientCheckpointing;
    s.loaded.model->neftuneNoiseAlpha = c.training.neftuneNoiseAlpha;
    const int64_t frozenAfter = frozenWeightBytes(*s.loaded.model);
    if (c.technique.technique == "qlora")
        events.log("info", "base weights: " + formatBytes(frozenBefore) + " as loaded, " + formatBytes(frozenAfter) +
                               " with NF4 projections (" + std::to_string(double(frozenAfter) / double(frozenBefore)) +
                               "x)");
    s.trainable = s.adapter->trainableParameters();
    for (auto& [_, t] : s.trainable)
        if (t.scalar_type() != c10::kFloat)
            t.set_data(t.data().to(c10::kFloat));  // trained weights and their optimizer states stay fp32
    s.trainableParameters = numel(s.trainable);
    s.totalParameters = s.adapter->savesFullModel() ? baseParameters : baseParameters + s.trainableParameters;

    // Data and objective.
    s.format = objectivePromptFormat(c);
    ObjectiveContext objectiveContext;
    objectiveContext.config = &c;
    objectiveContext.model = s.loaded.model;
    objectiveContext.tokenizer = s.tokenizer.get();
    objectiveContext.adapter = s.adapter.get();
    objectiveContext.generation = &s.loaded.generation;
    objectiveContext.format = s.format.get();
    objectiveContext.device = s.device;
    objectiveContext.events = &events;
    objectiveContext.shard = dp.shard();
    if (dp.active())
        objectiveContext.meanOverRanks = [&dp](double v) { return dp.mean(v); };
    s.objective = makeObjective(objectiveContext);
    for (auto& [name, t] : s.objective->extraTrainable()) {
        s.trainable.emplace_back(name, t);
        s.trainableParameters += t.numel();
        s.totalParameters += t.numel();
    }
    return s;
}

// The final output: a PEFT adapter folder, or a full model folder for freeze/full.
std::string writeOutput(const RunConfig& c, Session& s)
{
    if (s.adapter->savesFullModel()) {
        const std::string dir = (fs::path(c.outputDir) / "model").string();
        model::saveModelFolder(dir, s.loaded.model, s.loaded.generation, c10::kFloat, int64_t(5) << 30, c.model);
        model::copyTokenizerFiles(c.model, dir);
        return dir;
    }
    const std::string dir = (fs::path(c.outputDir) / "adapter").string();
    peft::saveAdapter(dir, *s.adapter, c.model);
    return dir;
}

} // namespace

TrainOutcome runTraining(const RunConfig& c, EventWriter& events, RunControl& control,
                         dist::Communicator* communicator)
{
    const auto start = Clock::now();
    DataParallel dp(communicator);
    try {
        if (std::error_code ec; !fs::create_directories(c.outputDir, ec) && ec)
            fail("cannot create output_dir '" + c.outputDir + "': " + ec.message());
        const auto existing = latestCheckpoint(c.outputDir);
        if (existing && !c.resume)
            fail("output_dir '" + c.outputDir + "' already holds a run (" + fs::path(*existing).filename().string() +
                 "); set \"resume\": true to continue it, or choose another output_dir");
        Session s = prepare(c, events, dp, communicator ? communicator->env() : dist::LaunchEnv{});
        dp.broadcast(s.trainable);  // every rank starts from rank 0's weights
        Objective& objective = *s.objective;
        model::CausalLM model = s.loaded.model;

        const int64_t accum = std::max<int64_t>(1, c.training.gradAccum);
        const int64_t stepsPerEpoch = std::max<int64_t>(1, (objective.batchesInEpoch(0) + accum - 1) / accum);
        // With packing an epoch's batch count can differ by one or two between epochs.
        double microBatches = 0;
        for (int64_t e = 0; double(e) < c.training.epochs; ++e)
            microBatches += double(objective.batchesInEpoch(e)) * std::min(1.0, c.training.epochs - double(e));
        const int64_t totalSteps = c.training.maxSteps > 0
                                       ? c.training.maxSteps
                                       : std::max<int64_t>(1, int64_t(std::ceil(microBatches / double(accum))));
        ScheduleSettings schedule;
        schedule.name = c.training.schedule.name;
        schedule.warmupSteps = c.training.schedule.warmupSteps > 0
                                   ? c.training.schedule.warmupSteps
                                   : int64_t(std::llround(c.training.schedule.warmupRatio * double(totalSteps)));
        schedule.minLrRatio = c.training.schedule.minLrRatio;

        AdamWSettings adamw;
        adamw.learningRate = c.training.optimizer.lr;
        adamw.weightDecay = c.training.optimizer.weightDecay;
        adamw.beta1 = c.training.optimizer.beta1;
        adamw.beta2 = c.training.optimizer.beta2;
        adamw.eps = c.training.optimizer.eps;
        // The technique may train some tensors at another rate (LoRA+'s B matrices).
        LearningRateScale lrScale;
        if (const auto* technique = peft::findTechnique(c.technique.technique); technique && technique->learningRateScale)
            lrScale = [technique, &c](const std::string& name) { return technique->learningRateScale(c.technique, name); };
        std::vector<double> groupScales;
        auto optimizer = makeAdamW(s.trainable, adamw, lrScale, &groupScales);
        std::vector<at::Tensor> params;
        for (auto& [_, t] : s.trainable)
            params.push_back(t);
        if (c.distributed.shardOptimizer)
            dp.shardOptimizer(params);  // ZeRO stage 1 (several processes only)
        dp.attachGradientHooks(params, c.distributed.bucketCapMb);  // all-reduces overlap backward (several processes)
        LossScaler scaler(s.precision.lossScaling);  // fp16 only; its scale restarts at a resume

        int64_t step = 0;
        nlohmann::json history = nlohmann::json::array();
        if (existing && c.resume) {
            TrainingState state = loadCheckpoint(*existing, s.trainable, *optimizer);
            dp.dropUnownedStates(*optimizer, params);
            step = state.step;
            history = state.metricsHistory.is_array() ? state.metricsHistory : nlohmann::json::array();
            objective.restoreDataPosition(state.dataPosition);
            restoreRngState(state.rng);
            events.log("info", "resumed from " + *existing + " at step " + std::to_string(step));
        } else if (c.resume) {
            events.log("info", "resume requested but '" + c.outputDir + "' has no complete checkpoint; starting fresh");
        }
        dp.checkSameStep(step);
        if (dp.writes())
            io::writeJsonFileAtomic((fs::path(c.outputDir) / "run_config.json").string(), toJson(c));

        MemoryEstimateInput memoryInput;
        memoryInput.config = model->config();
        memoryInput.trainableParameters = s.trainableParameters;
        memoryInput.frozenWeightBytes = frozenWeightBytes(*model);
        memoryInput.batchSize = c.training.batchSize;
        memoryInput.seqLen = c.training.maxSeqLen;
        memoryInput.activationBytes = int64_t(c10::elementSize(s.weightDtype));
        memoryInput.gradientCheckpointing = c.training.gradientCheckpointing;
        const MemoryEstimate estimate = estimateTrainingMemory(memoryInput);
        const nlohmann::json estimateJson{{"weights", estimate.weights},         {"gradients", estimate.gradients},
                                          {"optimizer", estimate.optimizer},     {"activations", estimate.activations},
                                          {"total", estimate.total},             {"summary", estimate.summary()}};
        events.log("info", "memory estimate: " + estimate.summary());
        events.write("started", {{"config", toJson(c)},
                                {"parameters", {{"total", s.totalParameters}, {"trainable", s.trainableParameters}}},
                                {"device", s.device.str()},
                                {"dtype", dtypeLabel(s.weightDtype)},
                                {"memory_estimate", estimateJson},
                                {"data", objective.dataSummary()},
                                {"total_steps", totalSteps},
                                {"start_step", step},
                                {"distributed", dp.describe()}});

        // Rank 0 writes; every rank waits for the checkpoint to be complete.
        auto saveNow = [&]() {
            dp.gatherStatesToWriter(*optimizer, params);
            if (!dp.writes()) {
                dp.barrier();
                return std::string();
            }
            TrainingState state;
            state.step = step;
            state.epoch = double(step) / double(stepsPerEpoch);
            state.dataPosition = objective.dataPosition();
            state.metricsHistory = history;
            state.rng = captureRngState();
            state.scheduler = {{"name", schedule.name}, {"warmup_steps", schedule.warmupSteps},
                               {"total_steps", totalSteps}, {"peak_lr", c.training.optimizer.lr}};
            const std::string path = saveCheckpoint(c.outputDir, state, s.trainable, *optimizer);
            dp.dropUnownedStates(*optimizer, params);
            pruneCheckpoints(c.outputDir, int(c.checkpoint.keepLast));
            events.write("checkpoint", {{"step", step}, {"path", path}});
            dp.barrier();
            return path;
        };
        // Evaluation suites, read (and so checked) before the first step.
        std::vector<eval::Suite> suites;
        if (dp.writes())
            for (const std::string& name : c.eval.suites)
                suites.push_back(eval::loadSuite(eval::findSuite(name)));
        auto evaluateNow = [&]() {  // rank 0's: the others go on to the next step's first collective
            if (!dp.writes() || (!objective.hasEvalData() && suites.empty()))
                return;
            nlohmann::json event{{"step", step}, {"metrics", nlohmann::json::object()}};
            nlohmann::json entry{{"step", step}};
            if (objective.hasEvalData()) {
                EvalResult r = objective.evaluate(c.eval.maxBatches);
                event["loss"] = entry["eval_loss"] = r.loss;
                event["metrics"] = r.metrics;
                if (r.hasPerplexity) {
                    event["perplexity"] = entry["eval_perplexity"] = std::exp(std::min(r.loss, 50.0));
                }
            }
            // Each suite's metrics join the eval event as "<suite>/<metric>"; the intervals
            // and the prompt format come in a "suite" event of their own.
            for (const eval::Suite& suite : suites) {
                suite::SuiteOptions options;
                options.limit = c.eval.suiteLimit;
                // auto: the suite's format, else the run's own prompt format (what the adapter learns).
                options.templateName = c.eval.suiteTemplate == "auto" && suite.templateHint == "auto" && s.format
                                           ? s.format->name()
                                           : c.eval.suiteTemplate;
                const suite::SuiteResult result = suite::runSuite(s.loaded, *s.tokenizer, suite, options);
                nlohmann::json metrics = nlohmann::json::array();
                for (const eval::Metric& m : result.metrics) {
                    event["metrics"][suite.name + "/" + m.name] = m.value;
                    metrics.push_back(eval::metricJson(m));
                }
                events.write("suite", {{"step", step},
                                      {"suite", suite.name},
                                      {"kind", eval::suiteKindName(suite.kind)},
                                      {"template", result.templateUsed},
                                      {"items", result.items.size()},
                                      {"metrics", metrics},
                                      {"seconds", result.seconds}});
            }
            for (auto& [k, v] : event["metrics"].items())
                if (v.is_number() && k != "perplexity")
                    entry["eval_" + k] = v;
            events.write("eval", event);
            history.push_back(entry);
        };
        auto sampleNow = [&]() {
            if (!dp.writes())
                return;
            torch::NoGradGuard noGrad;
            model::EvalModeGuard evalMode(*model);
            for (const std::string& prompt : c.samples.prompts) {
                const std::string text = s.format->renderPrompt(prompt);
                std::vector<int> ids = s.tokenizer->encode(text, s.tokenizer->addsBosByDefault(), false);
                model::GenerationOptions options;
                options.maxNewTokens = c.samples.maxNewTokens;
                options.sampling.temperature = c.samples.temperature;
                options.sampling.seed = uint64_t(c.training.seed);
                auto result = model::generateText(model, *s.tokenizer, s.loaded.generation,
                                                  std::vector<int64_t>(ids.begin(), ids.end()), options);
                events.write("sample", {{"step", step}, {"prompt", prompt}, {"text", result.text}});
            }
        };

        if (step == 0)
            evaluateNow();  // the baseline the curve is read against
        model->train();
        // Mixture of experts: the router's load-balancing loss joins the objective's.
        const double routerAuxCoef = model->config().hasExperts() ? model->config().routerAuxLossCoef : 0.0;

        const int64_t firstStep = step;
        const auto loopStart = Clock::now();
        bool pauseRefused = false;
        // Several processes: a request seen by any rank holds for all at the same step;
        // after the first step the requests travel in the step report.
        DataParallel::Requests pending;
        if (dp.active())
            pending = dp.agree({control.stopRequested(), control.saveRequested()});
        while (step < totalSteps) {
            const DataParallel::Requests requests =
                dp.active() ? pending : DataParallel::Requests{false, control.saveRequested()};
            if (requests.save)
                saveNow();
            if (dp.active() && control.paused()) {
                if (!pauseRefused)
                    events.log("warning", "pause is not available with several processes (the others would time "
                                          "out waiting); stop saves a checkpoint that --resume continues");
                pauseRefused = true;
                control.requestResume();
            }
            if (control.paused()) {
                events.write("paused", {{"step", step}});
                const bool go = control.waitWhilePaused();
                if (go)
                    events.write("resumed", {{"step", step}});
            }
            if (requests.stop || (!dp.active() && control.stopRequested())) {
                const std::string path = saveNow();
                events.write("finished", {{"status", "stopped"}, {"step", step}, {"output", path},
                                         {"metrics", nlohmann::json::object()},
                                         {"peak_rss_bytes", processMemory().peakRssBytes},
                                         {"elapsed_s", secondsSince(start)}});
                return {"stopped", step, path};
            }

            const auto stepStart = Clock::now();
            const double lr = learningRate(schedule, step, totalSteps, c.training.optimizer.lr);
            setLearningRate(*optimizer, lr, groupScales);
            optimizer->zero_grad();
            std::vector<std::unique_ptr<ObjectiveBatch>> batches;
            double weight = 0;
            int64_t tokens = 0;
            for (int64_t i = 0; i < accum; ++i) {
                batches.push_back(objective.nextBatch());
                weight += batches.back()->weight;
                tokens += batches.back()->tokens;
            }
            double lossSum = 0, auxSum = 0;
            bool auxSeen = false;
            nlohmann::json metrics = nlohmann::json::object();
            for (auto& b : batches) {
                if (routerAuxCoef > 0)
                    model->collectRouterLogits();
                BatchLoss r = objective.loss(*b);
                // A mixture of experts adds its load-balancing loss (moe_block.h), weighted
                // by the config's router_aux_loss_coef and this micro-batch's share.
                const double share = b->weight / std::max(weight, 1.0);
                // Under gradient checkpointing the aux loss comes back without gradient and
                // the recomputations in backward add routerAuxCoef * share x its gradient.
                const at::Tensor aux = routerAuxCoef > 0 ? model->takeRouterAuxLoss(routerAuxCoef * share) : at::Tensor();
                {
                    model::AutocastScope off(model::AutocastState::off());
                    at::Tensor total = r.sum / std::max(weight, 1.0);
                    if (aux.defined()) {
                        auxSum += aux.item<double>() * share;
                        auxSeen = true;
                        if (aux.requires_grad())
                            total = total + aux.to(total.scalar_type()) * (routerAuxCoef * share);
                    }
                    if (&b == &batches.back())
                        dp.armGradientHooks(weight, double(tokens));  // communication starts in this backward
                    scaler.scaled(total).backward();
                }
                lossSum += r.sum.item<double>();
                for (auto& [k, v] : r.metrics.items())
                    metrics[k] = v;
            }
            double gradNorm = 0;
            double globalWeight = weight, globalTokens = double(tokens);
            {
                model::AutocastScope off(model::AutocastState::off());
                // Before unscaling and clipping: the gradient of the global batch, the same on
                // every rank, so that every rank steps alike.
                std::tie(globalWeight, globalTokens) = dp.reduceGradients(params, weight, double(tokens));
                const bool scaledFinite = scaler.unscale(params);
                gradNorm = scaledFinite ? clipGradNorm(params, c.training.maxGradNorm)
                                                     : std::numeric_limits<double>::infinity();
                scaler.update(std::isfinite(gradNorm));
                if (std::isfinite(gradNorm)) {
                    dp.keepOwnedGradients(params);
                    optimizer->step();
                    dp.broadcastUpdated(params);
                } else if (scaler.enabled()) {
                    events.log("info", "step " + std::to_string(step + 1) + ": fp16 gradients overflowed; update skipped, "
                                       "loss scale now " + std::to_string(scaler.scale()));
                } else {
                    events.log("warning", "step " + std::to_string(step + 1) + ": gradient norm is not finite; update skipped");
                }
            }
            ++step;
            DataParallel::StepReport local;
            local.lossSum = lossSum;
            local.auxSum = auxSum * weight;  // shares of the rank's weight -> of the global weight below
            local.metrics = metrics;
            local.rssBytes = double(processMemory().rssBytes);
            local.optimizerStateBytes = dp.active() ? double(optimizerStateBytes(*optimizer)) : 0.0;
            if (dp.active())
                local.requests = {control.stopRequested(), control.saveRequested()};
            const DataParallel::ReducedReport report = dp.reduceReport(local);
            pending = report.requests;
            metrics = report.metrics;
            if (auxSeen)
                metrics["router_aux_loss"] = dp.active() ? report.auxSum / std::max(globalWeight, 1.0) : auxSum;

            const double loss = report.lossSum / std::max(globalWeight, 1.0);
            const double stepSeconds = secondsSince(stepStart);
            const double elapsed = secondsSince(loopStart);
            const double eta = elapsed / double(step - firstStep) * double(totalSteps - step);
            history.push_back({{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", gradNorm}});
            if (step % std::max<int64_t>(1, c.training.logEvery) == 0 || step == totalSteps) {
                nlohmann::json event{{"step", step},
                                     {"epoch", double(step) / double(stepsPerEpoch)},
                                     {"loss", loss},
                                     {"lr", lr},
                                     {"grad_norm", gradNorm},
                                     {"tokens_per_second", globalTokens / std::max(stepSeconds, 1e-9)},
                                     {"tokens", globalTokens},
                                     {"elapsed_s", secondsSince(start)},
                                     {"eta_s", eta},
                                     {"metrics", metrics},
                                     {"memory", memoryJson()}};
                if (dp.active()) {
                    const double communication = dp.takeCommunicationSeconds();
                    event["distributed"] = {{"world_size", dp.worldSize()},
                                            {"all_reduce_s", communication},
                                            {"rss_bytes_per_rank", report.rssBytes},
                                            {"optimizer_state_bytes_per_rank", report.optimizerStateBytes},
                                            {"shard_optimizer", dp.shardsOptimizer()},
                                            {"buckets", dp.bucketCounts().first},
                                            {"buckets_started_in_backward", dp.bucketCounts().second}};
                }
                events.write("step", event);
            }
            if (c.eval.everySteps > 0 && step % c.eval.everySteps == 0 && step < totalSteps)
                evaluateNow();
            if (c.samples.everySteps > 0 && step % c.samples.everySteps == 0)
                sampleNow();
            if (c.checkpoint.everySteps > 0 && step % c.checkpoint.everySteps == 0 && step < totalSteps)
                saveNow();
        }

        evaluateNow();
        const std::string checkpoint = saveNow();
        std::string output;
        if (dp.writes()) {
            output = writeOutput(c, s);
            objective.writeOutputs(output);
            io::writeJsonFileAtomic((fs::path(c.outputDir) / "trainer_state.json").string(),
                                    {{"global_step", step}, {"log_history", history}, {"last_checkpoint", checkpoint},
                                     {"memory_estimate", estimateJson},
                                     {"peak_rss_bytes", processMemory().peakRssBytes}});
        }
        dp.barrier();  // no rank reports success before the output is complete
        nlohmann::json final = nlohmann::json::object();
        for (auto it = history.rbegin(); it != history.rend(); ++it)
            if (it->contains("eval_loss")) {
                for (auto& [k, v] : it->items())
                    if (k != "step")
                        final[k] = v;
                break;
            }
        for (auto it = history.rbegin(); it != history.rend(); ++it)
            if (it->contains("loss")) {
                final["train_loss"] = (*it)["loss"];
                break;
            }
        events.write("finished", {{"status", "finished"}, {"step", step}, {"output", output}, {"metrics", final},
                                 {"peak_rss_bytes", processMemory().peakRssBytes},
                                 {"memory_estimate", estimateJson}, {"elapsed_s", secondsSince(start)}});
        return {"finished", step, output};
    } catch (const std::bad_alloc&) {
        const std::string message = "out of memory; lower training.batch_size or training.max_seq_len, or use qlora";
        events.write("error", {{"message", message}});
        if (communicator)
            communicator->reportFailure(message);
        fail(message);
    } catch (const std::exception& e) {
        std::string message = e.what();
        if (auto nl = message.find('\n'); nl != std::string::npos && !dynamic_cast<const ft::Error*>(&e))
            message.resize(nl);
        events.write("error", {{"message", message}});
        if (communicator && dp.active())
            communicator->reportFailure(message);
        throw;
    }
}

} // namespace ft::engine
