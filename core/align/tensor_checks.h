// Argument checks and dtype handling shared by the alignment losses
// (preference_loss.cpp, policy_gradient.cpp): one wording for every shape error.
#pragma once

#include "util/error.h"
#include "util/text.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace ft::align {

// Losses are computed in fp32 (or fp64 when given fp64), whatever the model's dtype.
inline at::Tensor upcast(const at::Tensor& x) { return x.scalar_type() == at::kDouble ? x : x.to(at::kFloat); }

inline void requireDefined(const char* fn, const char* name, const at::Tensor& t)
{
    if (!t.defined())
        fail(std::string(fn) + ": the tensor " + name + " is undefined");
}

// a and b must be defined and of one shape; `why` ends the message ("one entry per pair").
inline void requireSameShape(const char* fn, const char* nameA, const at::Tensor& a, const char* nameB,
                             const at::Tensor& b, const char* why = nullptr)
{
    requireDefined(fn, nameA, a);
    requireDefined(fn, nameB, b);
    if (a.sizes() != b.sizes())
        fail(std::string(fn) + ": " + nameA + " has shape " + util::shapeString(a.sizes()) + " but " + nameB +
             " has shape " + util::shapeString(b.sizes()) + "; they must match" + (why ? std::string(" (") + why + ")" : ""));
}

} // namespace ft::align
