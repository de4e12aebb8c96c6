#include "peft/tensor_load_plan.h"

#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::peft {

std::string shapeString(at::IntArrayRef sizes)
{
    std::string s = "(";
    for (size_t i = 0; i < sizes.size(); ++i)
        s += (i ? ", " : "") + std::to_string(sizes[i]);
    return s + (sizes.size() == 1 ? ",)" : ")");
}

TensorLoadPlan::TensorLoadPlan(const std::map<std::string, at::Tensor>& tensors, std::string source)
    : m_tensors(tensors), m_source(std::move(source))
{
}

void TensorLoadPlan::expect(const std::string& key, const at::Tensor& dest)
{
    auto it = m_tensors.find(key);
    if (it == m_tensors.end()) {
        m_problems.push_back("missing tensor '" + key + "' " + shapeString(dest.sizes()));
        return;
    }
    m_used.insert(key);
    if (it->second.sizes() != dest.sizes()) {
        m_problems.push_back("tensor '" + key + "' has shape " + shapeString(it->second.sizes()) + ", expected " +
                             shapeString(dest.sizes()));
        return;
    }
    m_copies.emplace_back(key, dest);
}

at::Tensor TensorLoadPlan::take(const std::string& key)
{
    auto it = m_tensors.find(key);
    if (it == m_tensors.end())
        return {};
    m_used.insert(key);
    return it->second;
}

void TensorLoadPlan::apply()
{
    std::vector<std::string> problems = m_problems;
    for (const auto& [key, tensor] : m_tensors)
        if (!m_used.count(key))
            problems.push_back("unexpected tensor '" + key + "' " + shapeString(tensor.sizes()));
    if (!problems.empty()) {
        std::string message = m_source + ": the adapter weights do not fit this model and adapter configuration (" +
                              std::to_string(problems.size()) + " problem" + (problems.size() == 1 ? "" : "s") + "):";
        const size_t shown = std::min<size_t>(problems.size(), 20);
        for (size_t i = 0; i < shown; ++i)
            message += "\n  " + problems[i];
        if (shown < problems.size())
            message += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
        fail(message);
    }
    torch::NoGradGuard noGrad;
    for (auto& [key, dest] : m_copies)
        dest.copy_(m_tensors.at(key).to(dest.device(), dest.scalar_type()));
}

} // namespace ft::peft
