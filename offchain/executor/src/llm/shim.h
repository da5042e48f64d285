// What the C++ shims share: how a call reports failure to the Rust side. A shim's result
// is a new `at::Tensor*` the caller owns, or null with the reason in `error`
// (NUL-terminated, truncated to `error_len` bytes).
#pragma once

#include <ATen/ATen.h>
#include <ATen/EmptyTensor.h>

#include <cstring>
#include <exception>
#include <stdexcept>

namespace opg_shim {

inline void report(const char* message, char* error, size_t error_len) {
  if (error == nullptr || error_len == 0) return;
  std::strncpy(error, message, error_len - 1);
  error[error_len - 1] = '\0';
}

// Refuses the call with `reason` unless `condition` holds.
inline void expect(bool condition, const char* reason) {
  if (!condition) throw std::invalid_argument(reason);
}

// A new CPU tensor of `size` for a kernel to write every element of. Not `at::empty`:
// under deterministic algorithms (as `opg-executor serve` runs) that fills each new tensor
// with NaN first, an extra pass over the memory, as libtorch's own operators' outputs are
// not.
inline at::Tensor uninitialized(at::IntArrayRef size, const at::TensorOptions& options) {
  return at::Tensor(at::detail::empty_cpu(size, options));
}

// Runs `body` (returning the result tensor): its tensor, or null and the reason of what
// it threw.
template <typename F>
at::Tensor* guarded(F&& body, char* error, size_t error_len) {
  try {
    return new at::Tensor(body());
  } catch (const std::exception& e) {
    report(e.what(), error, error_len);
  } catch (...) {
    report("unknown C++ exception", error, error_len);
  }
  return nullptr;
}

}  // namespace opg_shim
