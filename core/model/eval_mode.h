// Eval mode for a scope: evaluation, sampling and reference passes switch dropout
// (and any other train-only behaviour) off and must put the model back as it was,
// also when they throw.
#pragma once

#include <torch/nn/module.h>

namespace ft::model {

class EvalModeGuard {
public:
    explicit EvalModeGuard(torch::nn::Module& module) : m_module(module), m_wasTraining(module.is_training())
    {
        m_module.eval();
    }
    ~EvalModeGuard() { m_module.train(m_wasTraining); }
    EvalModeGuard(const EvalModeGuard&) = delete;
    EvalModeGuard& operator=(const EvalModeGuard&) = delete;

private:
    torch::nn::Module& m_module;
    bool m_wasTraining;
};

} // namespace ft::model
