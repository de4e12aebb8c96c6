#include "peft/adapter_support.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <cmath>

namespace ft::peft {

at::TensorOptions adapterTensorOptions(model::CausalLM& model)
{
    const at::Tensor& w = model->model->embed_tokens->weight;
    return at::TensorOptions().device(w.device()).dtype(w.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
}

SeededInit::SeededInit(uint64_t seed) : m_gen(at::detail::createCPUGenerator(seed)) {}

void SeededInit::uniform(const at::Tensor& t, double bound)
{
    torch::NoGradGuard noGrad;
    at::Tensor draw = at::empty(t.sizes(), at::TensorOptions().dtype(at::kDouble)).uniform_(-bound, bound, m_gen);
    at::Tensor(t).copy_(draw.to(t.device(), t.scalar_type()));
}

void SeededInit::normal(const at::Tensor& t, double std)
{
    torch::NoGradGuard noGrad;
    at::Tensor draw = at::empty(t.sizes(), at::TensorOptions().dtype(at::kDouble)).normal_(0.0, std, m_gen);
    at::Tensor(t).copy_(draw.to(t.device(), t.scalar_type()));
}

void SeededInit::linearDefault(const at::Tensor& weight, const at::Tensor& bias)
{
    const double bound = 1.0 / std::sqrt(double(weight.size(1)));
    uniform(weight, bound);
    if (bias.defined())
        uniform(bias, bound);
}

std::map<const torch::nn::Module*, std::string> modulePaths(torch::nn::Module& root)
{
    std::map<const torch::nn::Module*, std::string> paths;
    for (const auto& item : root.named_modules(/*name_prefix=*/"", /*include_self=*/false))
        paths.emplace(item.value().get(), item.key());
    return paths;
}

} // namespace ft::peft
