#include "engine/data_parallel.h"

#include "train/optimizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <numeric>

namespace ft::engine {

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
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> tensors;
    for (at::Tensor& p : parameters) {
        at::Tensor& g = p.mutable_grad();
        if (!g.defined())
            g = at::zeros_like(p);
        g.mul_(std::max(weight, 1.0));  // undoes the rank's own normalization
        tensors.push_back(g);
    }
    // The totals travel in the gradients' last bucket (fp32: exact below 2^24).
    const c10::Device device = tensors.empty() ? c10::Device(c10::kCPU) : tensors.front().device();
    tensors.push_back(at::tensor({float(weight), float(tokens)}, at::TensorOptions(at::kFloat).device(device)));
    m_comm->allreduceSum(tensors);
    const at::Tensor totals = tensors.back().to(at::kDouble).cpu();
    const double globalWeight = totals[0].item<double>(), globalTokens = totals[1].item<double>();
    for (size_t i = 0; i + 1 < tensors.size(); ++i)
        tensors[i].div_(std::max(globalWeight, 1.0));
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
