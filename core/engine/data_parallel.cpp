#include "engine/data_parallel.h"

#include "util/error.h"

#include <ATen/ATen.h>

#include <algorithm>

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
