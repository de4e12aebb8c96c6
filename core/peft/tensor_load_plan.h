// Loading an adapter's tensors by key, all or nothing: every expected key is checked
// against what a file holds (missing, unexpected, shape mismatch) and the problems
// are reported together in one ft::Error naming the file, before anything is copied.
// Not here: reading files (adapter_io.h) or choosing the keys (each technique does).
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ft::peft {

class TensorLoadPlan {
public:
    TensorLoadPlan(const std::map<std::string, at::Tensor>& tensors, std::string source);

    // `key` must be present with dest's shape; its values go into `dest` (dtype and
    // device converted) when apply() succeeds.
    void expect(const std::string& key, const at::Tensor& dest);
    bool has(const std::string& key) const { return m_tensors.count(key) != 0; }
    // The tensor under `key`, marked as used, or undefined when absent (optional keys).
    at::Tensor take(const std::string& key);
    // Records a problem found by the caller (e.g. an incomplete group of keys).
    void problem(const std::string& message) { m_problems.push_back(message); }

    // Throws one ft::Error listing every problem and every key nobody expected;
    // otherwise copies all expected tensors.
    void apply();

private:
    const std::map<std::string, at::Tensor>& m_tensors;
    std::string m_source;
    std::vector<std::pair<std::string, at::Tensor>> m_copies;  // key, destination
    std::set<std::string> m_used;
    std::vector<std::string> m_problems;
};

std::string shapeString(at::IntArrayRef sizes);  // "(4, 32)"

} // namespace ft::peft
