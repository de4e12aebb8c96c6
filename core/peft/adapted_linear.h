// The base of every wrapper that adapts one projection in its slot (PEFT's
// BaseTunerLayer): it holds the wrapped base layer, the enabled and merged state, and
// does merge / unmerge / unload for every technique, so that those are exact
// inverses in one place. A technique's wrapper says only what it adds (forward), the
// tensors it owns, and the weight and bias a merge writes.
// Not here: the kinds of base layer (base_layer.h), a whole adapter's list of
// wrappers and its files (layer_adapter.h).
#pragma once

#include "model/llama.h"
#include "peft/base_layer.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ft::peft {

class AdaptedLinearImpl : public model::LinearLayerImpl {
public:
    int64_t inFeatures() const override { return base_layer->inFeatures(); }
    int64_t outFeatures() const override { return base_layer->outFeatures(); }

    // The wrapper's own tensors under their PEFT leaf names ("lora_A.weight",
    // "ia3_l"), in the order they are saved. The adapter's file keys and trainable
    // parameter names are the module path plus these leaves.
    virtual std::vector<std::pair<std::string, at::Tensor>> adapterTensors() const = 0;
    virtual bool canMerge() const { return false; }

    // Disabled: exactly the base's output (a merged layer is unmerged first).
    void setEnabled(bool on);
    bool enabled() const { return m_enabled; }
    // Writes mergedWeight()/mergedBias() into the base (dense: in place; NF4:
    // re-quantized) after checking they are finite (an ft::Error naming `where`,
    // nothing changed otherwise). unmerge() gives the base back: by the wrapper's
    // own arithmetic inverse where it has one for that base (exact up to rounding),
    // otherwise from a copy kept at merge time.
    void merge(const std::string& where);
    void unmerge();
    bool merged() const { return m_merged; }
    // A DenseLinear holding the merged weight and bias, for merge-and-unload; an NF4
    // base is dequantized to `dtype`, a dense base keeps its dtype.
    std::shared_ptr<model::DenseLinearImpl> unloaded(c10::ScalarType dtype, const std::string& where) const;

    // The weight (out, in) a merge writes, in `dtype`. Default: an ft::Error (cannot merge).
    virtual at::Tensor mergedWeight(c10::ScalarType dtype, const std::string& where) const;
    // The bias (out,) a merge writes in `dtype`, a new tensor (undefined when the base
    // has none). Default: the base's bias unchanged.
    virtual at::Tensor mergedBias(c10::ScalarType dtype) const;

    model::LinearLayer base_layer;

protected:
    explicit AdaptedLinearImpl(model::LinearLayer base);
    // forward() adds the wrapper's path only while this holds.
    bool contributes() const { return m_enabled && !m_merged; }
    // The dtype an NF4 base's merged weight is computed in (before re-quantizing).
    virtual c10::ScalarType quantizedMergeType() const { return at::kFloat; }
    // Refuses a merge that could not be undone (an ft::Error naming `where`).
    virtual void checkMergeable(const std::string& where) const { (void)where; }
    // Whether undoMerge() takes a merge out of a dense base of this dtype (then no copy is kept).
    virtual bool undoesMerge(c10::ScalarType baseType) const
    {
        (void)baseType;
        return false;
    }
    virtual void undoMerge(model::DenseLinearImpl& base) const { (void)base; }

private:
    bool m_enabled = true;
    bool m_merged = false;
    std::optional<BaseLayerCopy> m_preMerge;
};

// An ft::Error naming `where` when `t` holds an inf or NaN (merging would write it).
void requireFiniteMerge(const at::Tensor& t, const std::string& where);

} // namespace ft::peft
