// Small things every technique's file needs: where new adapter tensors live, how they
// start (seeded draws made on the CPU, so one seed gives the same adapter on every
// device), and where a module sits in the model's tree.
// Not here: which tensors a technique creates (each technique's own file).
#pragma once

#include "model/llama.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

namespace ft::peft {

// The model's device; fp32 (fp64 when the model is fp64, for gradient checks),
// whatever dtype the frozen base computes in: adapters train in full precision.
at::TensorOptions adapterTensorOptions(model::CausalLM& model);

class SeededInit {
public:
    explicit SeededInit(uint64_t seed);
    void uniform(const at::Tensor& t, double bound);  // U(-bound, bound), in place
    void normal(const at::Tensor& t, double std);     // N(0, std^2), in place
    // torch.nn.Linear's default (kaiming_uniform with a = sqrt(5)): weight and bias
    // U(-1/sqrt(in), 1/sqrt(in)); `bias` may be undefined.
    void linearDefault(const at::Tensor& weight, const at::Tensor& bias);

private:
    at::Generator m_gen;
};

// Every module's dotted path under `root` ("model.layers.0.self_attn.o_proj"), by identity:
// a wrapper's path stays right when another adapter later wraps it in turn.
std::map<const torch::nn::Module*, std::string> modulePaths(torch::nn::Module& root);

} // namespace ft::peft
