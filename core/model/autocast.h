// Mixed precision: libtorch's autocast state (per thread, per device type) captured
// and set in RAII scopes, so the trainer can run forward passes under bf16/fp16 autocast
// and backward and optimizer steps outside it, and the activation checkpoint can replay
// a block under the same state it first ran with. Not here: which precision a run uses
// (train/trainer.cpp), loss scaling (train/loss_scaler.h).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace ft::model {

struct AutocastState {
    bool cpu = false;
    bool cuda = false;
    c10::ScalarType cpuDtype = c10::kBFloat16;
    c10::ScalarType cudaDtype = c10::kHalf;
    // Autocast keeps the low-precision copies of trainable leaves until the outermost
    // scope ends. A scope held for a whole run must not: a copy made under no_grad (an
    // eval pass) would be reused by the next training forward and cut the graph.
    bool cache = true;

    static AutocastState current();
    // Autocast to `dtype` on `device`'s type (CPU autocast supports bf16 only).
    static AutocastState enabledFor(const c10::Device& device, c10::ScalarType dtype);
    static AutocastState off() { return {}; }
    bool enabled() const { return cpu || cuda; }
};

// Sets `state` for the scope; restores the previous state after. Entering an enabled
// state counts as one autocast nesting level (as torch.autocast does), and the cast
// cache is cleared when the outermost level ends.
class AutocastScope {
public:
    explicit AutocastScope(const AutocastState& state);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    AutocastState m_previous;
    bool m_nested = false;
};

} // namespace ft::model
