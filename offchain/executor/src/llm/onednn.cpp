// oneDNN's packed linear weights, which tch does not bind: libtorch's
// mkldnn::_reorder_linear_weight (the weight laid out once in the blocked format its
// matrix kernels read) and mkldnn::_linear_pointwise (x · Wᵀ against that layout), the
// two operators torch.compile's weight freezing uses on the CPU. A plain bf16 `linear`
// reorders the weight on every call; with the packed copy it does not, and computes the
// same kernel. Called through the dispatcher, boxed, so that no C++ signature of ours has
// to match libtorch's.
//
// Tensors cross as tch's handles (`at::Tensor*`); a result is a new handle that the caller
// owns. On failure the result is null and `error` holds libtorch's message (truncated to
// `error_len` bytes, NUL-terminated).
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <optional>
#include <string>

#include "shim.h"

namespace {

at::Tensor* call(const char* name, torch::jit::Stack stack, char* error, size_t error_len) {
  return opg_shim::guarded(
      [&] {
        const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
        op.callBoxed(&stack);
        return stack.back().toTensor();
      },
      error, error_len);
}

}  // namespace

extern "C" at::Tensor* opg_onednn_pack_linear(const at::Tensor* weight, int64_t rows,
                                              char* error, size_t error_len) {
  return call("mkldnn::_reorder_linear_weight", {*weight, c10::IValue(rows)}, error,
              error_len);
}

extern "C" at::Tensor* opg_onednn_linear(const at::Tensor* x, const at::Tensor* packed,
                                         char* error, size_t error_len) {
  c10::List<std::optional<at::Scalar>> scalars;
  return call("mkldnn::_linear_pointwise",
              {*x, *packed, c10::IValue(), c10::IValue(std::string("none")),
               c10::IValue(scalars), c10::IValue()},
              error, error_len);
}
