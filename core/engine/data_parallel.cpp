#include "engine/data_parallel.h"

#include "train/optimizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace ft::engine {

struct DataParallel::Buckets {
    std::vector<at::Tensor> parameters;
    std::vector<std::vector<size_t>> members;  // per bucket: parameter indices
    std::vector<size_t> bucketOf;              // per parameter
    std::vector<size_t> waiting;               // per bucket: gradients not yet complete this step
    std::vector<std::shared_ptr<dist::Communicator::Pending>> pending;  // per bucket, once started
    size_t started = 0;                        // buckets [0, started) are under way
    size_t startedInBackward = 0;              // of those, started by the hooks
    bool armed = false;
    double weight = 1;
    double tokens = 0;
    std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks;  // accumulator, key
};

namespace {

// Runs after a trained tensor's gradient accumulator: tells the data-parallel state
// that this tensor's gradient is complete.
class GradientReady : public torch::autograd::FunctionPostHook {
public:
    GradientReady(std::function<void()> ready) : m_ready(std::move(ready)) {}
    torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                              const torch::autograd::variable_list&) override
    {
        m_ready();
        return outputs;
    }

private:
    std::function<void()> m_ready;
};

} // namespace

DataParallel::DataParallel(dist::Communicator* communicator) : m_comm(communicator) {}

DataParallel::~DataParallel()
{
    if (m_buckets)
        for (auto& [node, key] : m_buckets->hooks)
            node->del_post_hook(key);
}

void DataParallel::attachGradientHooks(const std::vector<at::Tensor>& parameters, double bucketCapMb)
{
    if (!active() || parameters.empty())
        return;
    auto b = std::make_unique<Buckets>();
    b->parameters = parameters;
    b->bucketOf.assign(parameters.size(), 0);
    const int64_t capBytes = std::max<int64_t>(1, int64_t(bucketCapMb * double(1 << 20)));
    int64_t bytes = 0, cap = std::min<int64_t>(capBytes, int64_t(1) << 20);  // DDP: the first bucket 1 MiB
    for (size_t k = parameters.size(); k-- > 0;) {
        const int64_t size = int64_t(parameters[k].nbytes());
        if (b->members.empty() || (bytes + size > cap && !b->members.back().empty())) {
            if (!b->members.empty())
                cap = capBytes;
            b->members.emplace_back();
            bytes = 0;
        }
        b->members.back().push_back(k);
        b->bucketOf[k] = b->members.size() - 1;
        bytes += size;
    }
    b->waiting.assign(b->members.size(), 0);
    b->pending.assign(b->members.size(), nullptr);
    Buckets* state = b.get();
    for (size_t k = 0; k < parameters.size(); ++k) {
        std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(parameters[k]);
        if (!accumulator)
            continue;  // not a leaf that requires grad: its bucket starts at the end
        const uintptr_t key = accumulator->add_post_hook(std::make_unique<GradientReady>([this, state, k] {
            if (!state->armed)
                return;
            const size_t bucket = state->bucketOf[k];
            if (state->waiting[bucket] > 0 && --state->waiting[bucket] == 0)
                while (state->started < state->members.size() && state->waiting[state->started] == 0) {
                    startBucket(state->started);
                    ++state->startedInBackward;
                }
        }));
        b->hooks.emplace_back(accumulator, key);
    }
    m_buckets = std::move(b);
}

std::pair<int64_t, int64_t> DataParallel::bucketCounts() const
{
    if (!m_buckets)
        return {0, 0};
    return {int64_t(m_buckets->members.size()), int64_t(m_buckets->startedInBackward)};
}

void DataParallel::armGradientHooks(double weight, double tokens)
{
    if (!m_buckets)
        return;
    Buckets& b = *m_buckets;
    b.armed = true;
    b.weight = weight;
    b.tokens = tokens;
    b.started = 0;
    b.startedInBackward = 0;
    for (size_t i = 0; i < b.members.size(); ++i) {
        b.waiting[i] = b.members[i].size();
        b.pending[i] = nullptr;
    }
}

// Flattens the bucket's gradients (times this rank's weight, undoing its own
// normalization) and starts their sum; the last bucket carries the step's totals.
void DataParallel::startBucket(size_t bucket)
{
    Buckets& b = *m_buckets;
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> parts;
    for (size_t k : b.members[bucket]) {
        at::Tensor& g = b.parameters[k].mutable_grad();
        if (!g.defined())
            g = at::zeros_like(b.parameters[k]);
        parts.push_back(g.reshape({-1}).to(at::kFloat));
    }
    at::Tensor flat = at::cat(parts).mul_(std::max(b.weight, 1.0));
    if (bucket + 1 == b.members.size())
        flat = at::cat({flat, at::tensor({float(b.weight), float(b.tokens)}, flat.options())});
    b.pending[bucket] = m_comm->startSum(flat);
    b.started = bucket + 1;
}

void DataParallel::broadcast(const std::vector<std::pair<std::string, at::Tensor>>& tensors)
{
    if (!active())
        return;
    std::vector<at::Tensor> data;
    for (const auto& [_, t] : tensors)
        data.push_back(t.detach());
    m_comm->broadcast(data, 0);
}

DataParallel::Requests DataParallel::agree(Requests local)
{
    if (!active())
        return local;
    const std::vector<double> any = m_comm->max({local.stop ? 1.0 : 0.0, local.save ? 1.0 : 0.0});
    return {any[0] > 0, any[1] > 0};
}

std::pair<double, double> DataParallel::reduceGradients(std::vector<at::Tensor>& parameters, double weight,
                                                       double tokens)
{
    if (!active())
        return {weight, tokens};
    if (!m_buckets)
        attachGradientHooks(parameters);  // (the trainer attaches them up front)
    Buckets& b = *m_buckets;
    if (!b.armed)
        armGradientHooks(weight, tokens);
    b.armed = false;
    // In index order, the buckets backward did not complete (tensors without gradient
    // this step, or a step whose backward never ran the hooks).
    while (b.started < b.members.size())
        startBucket(b.started);
    at::NoGradGuard noGrad;
    double globalWeight = 0, globalTokens = 0;
    for (size_t bucket = 0; bucket < b.members.size(); ++bucket) {
        const at::Tensor flat = m_comm->finish(*b.pending[bucket]);
        int64_t at = 0;
        for (size_t k : b.members[bucket]) {
            at::Tensor& g = b.parameters[k].mutable_grad();
            const int64_t n = g.numel();
            g.copy_(flat.narrow(0, at, n).view(g.sizes()));
            at += n;
        }
        if (bucket + 1 == b.members.size()) {
            globalWeight = flat[at].item<double>();
            globalTokens = flat[at + 1].item<double>();
        }
    }
    for (at::Tensor& p : b.parameters)
        p.mutable_grad().div_(std::max(globalWeight, 1.0));
    b.pending.assign(b.members.size(), nullptr);
    return {globalWeight, globalTokens};
}

DataParallel::ReducedReport DataParallel::reduceReport(const StepReport& local)
{
    ReducedReport out;
    out.metrics = local.metrics;
    if (!active()) {
        out.lossSum = local.lossSum;
        out.auxSum = local.auxSum;
        out.rssBytes = {local.rssBytes};
        out.optimizerStateBytes = {local.optimizerStateBytes};
        out.requests = local.requests;
        return out;
    }
    std::vector<std::string> keys;
    std::vector<double> values;
    for (auto& [k, v] : local.metrics.items())
        if (v.is_number()) {
            keys.push_back(k);
            values.push_back(v.get<double>());
        }
    // The requests, and whether every rank has as many numeric metrics (the sums below
    // must have the same length everywhere).
    const std::vector<double> check = m_comm->max({local.requests.stop ? 1.0 : 0.0, local.requests.save ? 1.0 : 0.0,
                                                   double(values.size()), -double(values.size())});
    out.requests = {check[0] > 0, check[1] > 0};
    const bool sameMetrics = check[2] == -check[3];
    const size_t n = size_t(worldSize());
    std::vector<double> sums(2 + 2 * n, 0.0);
    sums[0] = local.lossSum;
    sums[1] = local.auxSum;
    sums[2 + size_t(rank())] = local.rssBytes;
    sums[2 + n + size_t(rank())] = local.optimizerStateBytes;
    if (sameMetrics)
        sums.insert(sums.end(), values.begin(), values.end());
    sums = m_comm->sum(sums);
    out.lossSum = sums[0];
    out.auxSum = sums[1];
    out.rssBytes.assign(sums.begin() + 2, sums.begin() + 2 + long(n));
    out.optimizerStateBytes.assign(sums.begin() + 2 + long(n), sums.begin() + 2 + 2 * long(n));
    if (sameMetrics)
        for (size_t i = 0; i < keys.size(); ++i)
            out.metrics[keys[i]] = sums[2 + 2 * n + i] / double(worldSize());
    return out;
}

double DataParallel::mean(double value)
{
    return active() ? m_comm->sum({value})[0] / double(worldSize()) : value;
}

void DataParallel::checkSameStep(int64_t step)
{
    if (!active())
        return;
    const std::vector<double> steps = m_comm->gather(double(step));
    if (std::all_of(steps.begin(), steps.end(), [&](double s) { return s == steps[0]; }))
        return;
    std::string list;
    for (size_t r = 0; r < steps.size(); ++r)
        list += (r ? ", " : "") + std::string("rank ") + std::to_string(r) + " (" + m_comm->hosts()[r] + ") at step " +
                std::to_string(int64_t(steps[r]));
    fail("the processes resumed from different checkpoints: " + list +
         "; every rank must see the same output_dir (on several machines: a shared file system)");
}

void DataParallel::shardOptimizer(const std::vector<at::Tensor>& parameters)
{
    if (!active())
        return;
    std::vector<size_t> bySize(parameters.size());
    std::iota(bySize.begin(), bySize.end(), size_t(0));
    std::stable_sort(bySize.begin(), bySize.end(),
                     [&](size_t a, size_t b) { return parameters[a].numel() > parameters[b].numel(); });
    std::vector<int64_t> load(size_t(worldSize()), 0);
    m_owner.assign(parameters.size(), 0);
    for (size_t i : bySize) {
        const int rank = int(std::min_element(load.begin(), load.end()) - load.begin());
        m_owner[i] = rank;
        load[size_t(rank)] += parameters[i].numel();
    }
}

void DataParallel::keepOwnedGradients(std::vector<at::Tensor>& parameters)
{
    if (!shardsOptimizer())
        return;
    for (size_t i = 0; i < parameters.size(); ++i)
        if (m_owner[i] != rank())
            parameters[i].mutable_grad() = at::Tensor();
}

void DataParallel::broadcastUpdated(std::vector<at::Tensor>& parameters)
{
    if (!shardsOptimizer())
        return;
    at::NoGradGuard noGrad;
    for (int root = 0; root < worldSize(); ++root) {
        std::vector<at::Tensor> mine;
        for (size_t i = 0; i < parameters.size(); ++i)
            if (m_owner[i] == root)
                mine.push_back(parameters[i].detach().reshape({-1}));
        if (mine.empty())
            continue;
        std::vector<at::Tensor> flat{at::cat(mine)};
        m_comm->broadcast(flat, root);
        int64_t at = 0;
        for (size_t i = 0; i < parameters.size(); ++i)
            if (m_owner[i] == root) {
                const int64_t n = parameters[i].numel();
                parameters[i].detach().copy_(flat[0].narrow(0, at, n).view(parameters[i].sizes()));
                at += n;
            }
    }
}

void DataParallel::dropUnownedStates(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& parameters)
{
    if (!shardsOptimizer())
        return;
    for (size_t i = 0; i < parameters.size(); ++i)
        if (m_owner[i] != rank())
            train::dropOptimizerState(optimizer, parameters[i]);
}

void DataParallel::gatherStatesToWriter(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& parameters)
{
    if (!shardsOptimizer())
        return;
    // Which tensors have a state yet (none before the first step), from their owners.
    std::vector<double> has(parameters.size(), 0.0);
    for (size_t i = 0; i < parameters.size(); ++i)
        if (m_owner[i] == rank() && train::optimizerStateOf(optimizer, parameters[i]))
            has[i] = 1.0;
    has = m_comm->sum(has);
    for (size_t i = 0; i < parameters.size(); ++i) {
        if (has[i] == 0.0 || m_owner[i] == 0)
            continue;
        std::vector<at::Tensor> state;
        if (m_owner[i] == rank()) {
            const auto& s = static_cast<const torch::optim::AdamWParamState&>(*train::optimizerStateOf(optimizer, parameters[i]));
            state = {at::full({1}, double(s.step()), at::kDouble), s.exp_avg(), s.exp_avg_sq()};
        } else {
            state = {at::zeros({1}, at::kDouble), at::empty_like(parameters[i]), at::empty_like(parameters[i])};
        }
        m_comm->broadcast(state, m_owner[i]);
        if (rank() == 0)
            train::setAdamWState(optimizer, parameters[i], int64_t(state[0].item<double>()), state[1], state[2]);
    }
}

void DataParallel::barrier()
{
    if (active())
        m_comm->barrier();
}

double DataParallel::takeCommunicationSeconds()
{
    return m_comm ? m_comm->takeCommunicationSeconds() : 0.0;
}

nlohmann::json DataParallel::describe() const
{
    nlohmann::json ranks = nlohmann::json::array();
    if (m_comm)
        for (int r = 0; r < m_comm->worldSize(); ++r)
            ranks.push_back({{"rank", r}, {"host", m_comm->hosts()[size_t(r)]}});
    else
        ranks.push_back({{"rank", 0}, {"host", dist::hostName()}});
    return {{"world_size", worldSize()},
            {"backend", m_comm ? m_comm->backendName() : "none"},
            {"launcher", m_comm ? m_comm->env().source : "single process"},
            {"ranks", ranks}};
}

} // namespace ft::engine
