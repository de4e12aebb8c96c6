// Test helpers for tensors: the largest absolute difference and where the first
// mismatch beyond a tolerance sits, so a failing comparison says where it failed.
#pragma once

#include <ATen/ATen.h>

#include <sstream>
#include <string>

namespace fttest {

// Empty string when |a - b| <= atol + rtol * |b| everywhere, else a description.
inline std::string compareTensors(const at::Tensor& a, const at::Tensor& b, double atol, double rtol = 0.0)
{
    if (a.sizes() != b.sizes()) {
        std::ostringstream s;
        s << "shape mismatch: " << a.sizes() << " vs " << b.sizes();
        return s.str();
    }
    at::Tensor ad = a.detach().to(at::kDouble).flatten(), bd = b.detach().to(at::kDouble).flatten();
    at::Tensor diff = (ad - bd).abs();
    at::Tensor bad = diff > (atol + rtol * bd.abs());
    if (!bad.any().item<bool>())
        return {};
    const int64_t first = bad.nonzero()[0][0].item<int64_t>();
    std::ostringstream s;
    s << "max |diff| " << diff.max().item<double>() << "; first mismatch at flat index " << first << ": "
      << ad[first].item<double>() << " vs " << bd[first].item<double>();
    return s.str();
}

} // namespace fttest

#define FT_COMPARE_TENSORS(a, b, atol)                                      \
    do {                                                                    \
        const std::string ftMismatch = fttest::compareTensors((a), (b), (atol)); \
        QVERIFY2(ftMismatch.empty(), ftMismatch.c_str());                   \
    } while (0)
