// f32 products x · Wᵀ of a few rows (decode steps: one row per sequence, at most
// OPG_FEW_ROWS) with AVX-512, for a CPU that has it.
//
// MKL's sgemv/sgemm read SmolLM2-135M's 538 MB of f32 weights a decode step at about 24
// GB/s on 2 cores, and its small-row sgemm is compute-bound well below the FMA units' rate
// (8 rows cost 2.3× one). Here every weight row is read once, by one thread, and multiplied
// with all the rows of x in registers: each output element is a sum over k of 16 lanes,
// in k order, then the lanes added in a fixed tree, whatever the number of threads.
//
// Threads: libtorch's intra-op pool (at::parallel_for), the one MKL and the other
// operators use, splits the weight's rows. Tensors cross as tch's handles (`at::Tensor*`);
// a result is a new handle the caller owns; on failure it is null and `error` holds the
// reason (NUL-terminated, truncated to `error_len` bytes).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <exception>

namespace {

constexpr int64_t kMaxRows = 8;

void report(const char* message, char* error, size_t error_len) {
  if (error == nullptr || error_len == 0) return;
  std::strncpy(error, message, error_len - 1);
  error[error_len - 1] = '\0';
}

// y[m][n] for n in [n, n + B): B weight rows, M rows of x, k in steps of 16 lanes (the last
// step masked to what is left).
template <int M, int B>
__attribute__((target("avx512f"))) inline void block(const float* x, const float* w, float* y,
                                                     int64_t n_all, int64_t k_all, int64_t n) {
  const int64_t full = k_all / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k_all - full)) - 1u);
  __m512 acc[B][M];
  for (int b = 0; b < B; b++)
    for (int m = 0; m < M; m++) acc[b][m] = _mm512_setzero_ps();
  const float* row = w + n * k_all;
  for (int64_t k = 0; k < full; k += 16) {
    __m512 wv[B];
    for (int b = 0; b < B; b++) wv[b] = _mm512_loadu_ps(row + b * k_all + k);
    for (int m = 0; m < M; m++) {
      const __m512 xv = _mm512_loadu_ps(x + m * k_all + k);
      for (int b = 0; b < B; b++) acc[b][m] = _mm512_fmadd_ps(wv[b], xv, acc[b][m]);
    }
  }
  if (tail != 0) {
    __m512 wv[B];
    for (int b = 0; b < B; b++) wv[b] = _mm512_maskz_loadu_ps(tail, row + b * k_all + full);
    for (int m = 0; m < M; m++) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + m * k_all + full);
      for (int b = 0; b < B; b++) acc[b][m] = _mm512_fmadd_ps(wv[b], xv, acc[b][m]);
    }
  }
  for (int b = 0; b < B; b++)
    for (int m = 0; m < M; m++) y[m * n_all + n + b] = _mm512_reduce_add_ps(acc[b][m]);
}

// y[m][n] for n in [n0, n1), NB weight rows at a time.
template <int M, int NB>
__attribute__((target("avx512f"))) void product(const float* x, const float* w, float* y,
                                                int64_t n_all, int64_t k_all, int64_t n0,
                                                int64_t n1) {
  int64_t n = n0;
  for (; n + NB <= n1; n += NB) block<M, NB>(x, w, y, n_all, k_all, n);
  for (; n < n1; n++) block<M, 1>(x, w, y, n_all, k_all, n);
}

// Weight rows taken together: 4 for up to 4 rows of x, else 1 (measured on this project's
// 2-core Sapphire Rapids VM; with more rows of x, more weight rows at once spilled
// registers and ran slower).
template <int M>
void split(const float* x, const float* w, float* y, int64_t n_all, int64_t k_all) {
  constexpr int NB = M <= 4 ? 4 : 1;
  // Rows a thread takes at least: about 64 KiB of weights.
  const int64_t grain = std::max<int64_t>(NB, (16384 / std::max<int64_t>(k_all, 1)) / NB * NB);
  at::parallel_for(0, n_all, grain, [&](int64_t begin, int64_t end) {
    product<M, NB>(x, w, y, n_all, k_all, begin, end);
  });
}

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

}  // namespace

extern "C" int64_t opg_few_rows_max() { return supported() ? kMaxRows : 0; }

extern "C" at::Tensor* opg_few_rows_linear(const at::Tensor* x, const at::Tensor* weight,
                                           char* error, size_t error_len) {
  try {
    if (!supported()) {
      report("this CPU has no AVX-512", error, error_len);
      return nullptr;
    }
    const at::Tensor& w = *weight;
    if (x->dim() != 2 || w.dim() != 2 || x->scalar_type() != at::kFloat ||
        w.scalar_type() != at::kFloat || !x->device().is_cpu() || !w.device().is_cpu()) {
      report("expected 2-dimensional f32 tensors on the CPU", error, error_len);
      return nullptr;
    }
    const int64_t m_all = x->size(0), k_all = x->size(1), n_all = w.size(0);
    if (w.size(1) != k_all) {
      report("x and the weight differ in width", error, error_len);
      return nullptr;
    }
    if (m_all < 1 || m_all > kMaxRows) {
      report("between 1 and 8 rows only", error, error_len);
      return nullptr;
    }
    const at::Tensor xc = x->contiguous();
    const at::Tensor wc = w.contiguous();
    at::Tensor y = at::empty({m_all, n_all}, x->options());
    const float* xp = xc.data_ptr<float>();
    const float* wp = wc.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    switch (m_all) {
      case 1: split<1>(xp, wp, yp, n_all, k_all); break;
      case 2: split<2>(xp, wp, yp, n_all, k_all); break;
      case 3: split<3>(xp, wp, yp, n_all, k_all); break;
      case 4: split<4>(xp, wp, yp, n_all, k_all); break;
      case 5: split<5>(xp, wp, yp, n_all, k_all); break;
      case 6: split<6>(xp, wp, yp, n_all, k_all); break;
      case 7: split<7>(xp, wp, yp, n_all, k_all); break;
      default: split<8>(xp, wp, yp, n_all, k_all); break;
    }
    return new at::Tensor(std::move(y));
  } catch (const std::exception& e) {
    report(e.what(), error, error_len);
  } catch (...) {
    report("unknown C++ exception", error, error_len);
  }
  return nullptr;
}
