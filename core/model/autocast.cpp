#include "model/autocast.h"

#include "util/error.h"

#include <ATen/autocast_mode.h>

namespace ft::model {

namespace {
void apply(const AutocastState& s) {
    at::autocast::set_cpu_enabled(s.cpu);
    at::autocast::set_autocast_cpu_dtype(s.cpuDtype);
    at::autocast::set_enabled(s.cuda);
    at::autocast::set_autocast_gpu_dtype(s.cudaDtype);
    at::autocast::set_autocast_cache_enabled(s.cache);
}
} // namespace

AutocastState AutocastState::current() {
    AutocastState s;
    s.cpu = at::autocast::is_cpu_enabled();
    s.cuda = at::autocast::is_enabled();
    s.cpuDtype = at::autocast::get_autocast_cpu_dtype();
    s.cudaDtype = at::autocast::get_autocast_gpu_dtype();
    s.cache = at::autocast::is_autocast_cache_enabled();
    return s;
}

AutocastState AutocastState::enabledFor(const c10::Device& device, c10::ScalarType dtype) {
    AutocastState s = current();
    s.cpu = s.cuda = false;
    if (device.is_cpu()) {
        if (dtype != c10::kBFloat16)
            fail("autocast on the CPU supports bf16 only, not " + std::string(c10::toString(dtype)));
        s.cpu = true;
        s.cpuDtype = dtype;
    } else if (device.is_cuda()) {
        s.cuda = true;
        s.cudaDtype = dtype;
    } else {
        fail("autocast is not available on device " + device.str());
    }
    return s;
}

AutocastScope::AutocastScope(const AutocastState& state) : m_previous(AutocastState::current()) {
    apply(state);
    if (state.enabled()) {
        at::autocast::increment_nesting();
        m_nested = true;
    }
}

AutocastScope::~AutocastScope() {
    if (m_nested && at::autocast::decrement_nesting() == 0)
        at::autocast::clear_cache();
    apply(m_previous);
}

} // namespace ft::model
