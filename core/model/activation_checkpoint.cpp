#include "model/activation_checkpoint.h"

#include "model/autocast.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/types.h>

#include <memory>

#include <vector>

namespace ft::model {

namespace {

thread_local int t_firstPass = 0;
thread_local int t_recompute = 0;
thread_local std::vector<at::Tensor>* t_extraLosses = nullptr;

struct DepthGuard {
    explicit DepthGuard(int& depth) : m_depth(depth) { ++m_depth; }
    ~DepthGuard() { --m_depth; }
    int& m_depth;
};

// The block and the random states of its first run (the CPU generator, and the
// device's when x lives on a GPU), kept with the autograd node.
struct SavedBlock : torch::CustomClassHolder {
    BlockFunction block;
    c10::Device device = c10::Device(c10::kCPU);
    at::Tensor cpuState, deviceState;
    AutocastState autocast;  // the recomputation runs under the same mixed precision
};

at::Generator generatorOf(const c10::Device& device)
{
    return device.is_cpu() ? at::detail::getDefaultCPUGenerator() : at::globalContext().defaultGenerator(device);
}

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                              c10::intrusive_ptr<SavedBlock> saved)
    {
        saved->device = x.device();
        saved->autocast = AutocastState::current();
        saved->cpuState = at::detail::getDefaultCPUGenerator().get_state();
        if (!saved->device.is_cpu())
            saved->deviceState = generatorOf(saved->device).get_state();
        ctx->save_for_backward({x});
        ctx->saved_data["block"] = c10::IValue::make_capsule(saved);
        torch::NoGradGuard noGrad;
        DepthGuard firstPass(t_firstPass);
        return saved->block(x);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads)
    {
        auto saved = c10::static_intrusive_pointer_cast<SavedBlock>(ctx->saved_data["block"].toCapsule());
        at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        // The same dropout masks as the first run; afterwards the streams continue as
        // if there had been no recomputation.
        at::Generator cpu = at::detail::getDefaultCPUGenerator();
        const at::Tensor cpuNow = cpu.get_state();
        cpu.set_state(saved->cpuState);
        at::Tensor deviceNow;
        if (saved->deviceState.defined()) {
            deviceNow = generatorOf(saved->device).get_state();
            generatorOf(saved->device).set_state(saved->deviceState);
        }
        at::Tensor y;
        std::vector<at::Tensor> extras;  // losses the block adds during its recomputation
        {
            torch::AutoGradMode enable(true);
            AutocastScope autocast(saved->autocast);
            DepthGuard recompute(t_recompute);
            std::vector<at::Tensor>* outer = t_extraLosses;
            t_extraLosses = &extras;
            try {
                y = saved->block(x);
            } catch (...) {
                t_extraLosses = outer;
                throw;
            }
            t_extraLosses = outer;
        }
        cpu.set_state(cpuNow);
        if (deviceNow.defined())
            generatorOf(saved->device).set_state(deviceNow);
        std::vector<at::Tensor> outputs{y}, outputGrads{grads[0]};
        for (const at::Tensor& e : extras)
            if (e.requires_grad()) {
                outputs.push_back(e);
                outputGrads.push_back(at::ones_like(e));
            }
        torch::autograd::backward(outputs, outputGrads);
        return {x.grad(), at::Tensor()};
    }
};

} // namespace

bool inCheckpointFirstPass() { return t_firstPass > 0; }
bool inCheckpointRecompute() { return t_recompute > 0; }

void addCheckpointLoss(const at::Tensor& scalar)
{
    if (t_extraLosses)
        t_extraLosses->push_back(scalar);
}

at::Tensor checkpointed(const BlockFunction& block, const at::Tensor& x)
{
    auto saved = c10::make_intrusive<SavedBlock>();
    saved->block = block;
    // An input that needs no gradient (frozen embeddings under LoRA) would leave the
    // node out of the graph, and the block's trainable weights without gradients.
    const at::Tensor input = x.requires_grad() ? x : x.detach().requires_grad_(true);
    return CheckpointFunction::apply(input, saved);
}

} // namespace ft::model
