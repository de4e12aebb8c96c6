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

std::pair<double, double> DataParallel::sumTotals(double weight, double tokens)
{
    if (!active())
        return {weight, tokens};
    const std::vector<double> s = m_comm->sum({weight, tokens});
    return {s[0], s[1]};
}

void DataParallel::sumGradients(std::vector<at::Tensor>& parameters)
{
    if (!active())
        return;
    std::vector<at::Tensor> grads;
    for (at::Tensor& p : parameters) {
        at::Tensor& g = p.mutable_grad();
        if (!g.defined())
            g = at::zeros_like(p);
        grads.push_back(g);
    }
    m_comm->allreduceSum(grads);
}

double DataParallel::sum(double value)
{
    return active() ? m_comm->sum({value})[0] : value;
}

nlohmann::json DataParallel::meanMetrics(const nlohmann::json& metrics)
{
    if (!active())
        return metrics;
    std::vector<std::string> keys;
    std::vector<double> values;
    for (auto& [k, v] : metrics.items())
        if (v.is_number()) {
            keys.push_back(k);
            values.push_back(v.get<double>());
        }
    // Reduced only when every rank has as many numeric entries (a mismatch would
    // make the ranks' collectives differ in size).
    const std::vector<double> counts = m_comm->max({double(values.size()), -double(values.size())});
    if (counts[0] != -counts[1] || values.empty())
        return metrics;
    const std::vector<double> sums = m_comm->sum(values);
    nlohmann::json out = metrics;
    for (size_t i = 0; i < keys.size(); ++i)
        out[keys[i]] = sums[i] / double(worldSize());
    return out;
}

std::vector<double> DataParallel::gather(double value)
{
    return active() ? m_comm->gather(value) : std::vector<double>{value};
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
