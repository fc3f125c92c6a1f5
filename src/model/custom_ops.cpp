#include "model/custom_ops.hpp"

#include "model/int4_matmul_op.hpp"
#include "model/paged_attention_op.hpp"
#include "model/silu_mul_op.hpp"

namespace ortlm::model {

void add_ortlm_ops(Ort::SessionOptions& options) {
  // Must outlive every session using it: made once, never destroyed.
  static Ort::CustomOpDomain* domain = [] {
    auto* d = new Ort::CustomOpDomain("ortlm");
    d->Add(paged_attention_op());
    d->Add(silu_mul_op());
    d->Add(int4_matmul_op());
    return d;
  }();
  options.Add(*domain);
}

}  // namespace ortlm::model
