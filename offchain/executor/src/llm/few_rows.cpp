// f32 products x · Wᵀ of a few rows (decode steps: one row per sequence, at most 8) with
// AVX-512, for a CPU that has it.
//
// MKL's sgemv/sgemm read SmolLM2-135M's 538 MB of f32 weights a decode step at about 24
// GB/s on 2 cores, and its few-row sgemm is compute-bound well below the FMA units' rate
// (8 rows cost 2.4× one). Here the weight is packed once, at load, into blocks of 16
// output rows laid out k-major ([blocks][in][16], the last block padded with zeros), so
// that one vector load brings 16 outputs' weights for one k, multiplied with each row's
// x[k] broadcast: 16 outputs per accumulator, no horizontal sums, each weight read once.
// Each output sums its products in k order, in runs of 64 added to a total: a fixed order
// whatever the number of threads.
//
// Threads: libtorch's intra-op pool (at::parallel_for), the one MKL and the other
// operators use, splits the blocks. Tensors cross as tch's handles (`at::Tensor*`); a
// result is a new handle the caller owns; on failure it is null and `error` holds the
// reason (NUL-terminated, truncated to `error_len` bytes).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>

#include "shim.h"

namespace {

constexpr int64_t kMaxRows = 8;

using opg_shim::expect;
using opg_shim::guarded;

constexpr int64_t kLanes = 16;
constexpr int64_t kRun = 64;

// y[m][16·b ..] for the B blocks from `b`: M rows of x against packed weights `p`
// ([blocks][k_all][16]); outputs past n_all (the padding) are not stored.
template <int M, int B>
__attribute__((target("avx512f"))) inline void block(const float* x, const float* p, float* y,
                                                     int64_t n_all, int64_t k_all, int64_t b) {
  __m512 total[B][M];
  for (int i = 0; i < B; i++)
    for (int m = 0; m < M; m++) total[i][m] = _mm512_setzero_ps();
  for (int64_t k0 = 0; k0 < k_all; k0 += kRun) {
    const int64_t k1 = std::min(k0 + kRun, k_all);
    __m512 acc[B][M];
    for (int i = 0; i < B; i++)
      for (int m = 0; m < M; m++) acc[i][m] = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
      __m512 w[B];
      for (int i = 0; i < B; i++) w[i] = _mm512_loadu_ps(p + ((b + i) * k_all + k) * kLanes);
      for (int m = 0; m < M; m++) {
        const __m512 xv = _mm512_set1_ps(x[m * k_all + k]);
        for (int i = 0; i < B; i++) acc[i][m] = _mm512_fmadd_ps(w[i], xv, acc[i][m]);
      }
    }
    for (int i = 0; i < B; i++)
      for (int m = 0; m < M; m++) total[i][m] = _mm512_add_ps(total[i][m], acc[i][m]);
  }
  for (int i = 0; i < B; i++) {
    const int64_t first = (b + i) * kLanes;
    const int64_t left = std::min<int64_t>(kLanes, n_all - first);
    const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1u);
    for (int m = 0; m < M; m++) _mm512_mask_storeu_ps(y + m * n_all + first, mask, total[i][m]);
  }
}

// Blocks [b0, b1), NB at a time.
template <int M, int NB>
__attribute__((target("avx512f"))) void product(const float* x, const float* p, float* y,
                                                int64_t n_all, int64_t k_all, int64_t b0,
                                                int64_t b1) {
  int64_t b = b0;
  for (; b + NB <= b1; b += NB) block<M, NB>(x, p, y, n_all, k_all, b);
  for (; b < b1; b++) block<M, 1>(x, p, y, n_all, k_all, b);
}

// Blocks taken together: as many as keep their accumulators and weight vectors within the
// 32 vector registers (the counts measured fastest for 1 and 8 rows on this project's
// 2-core Sapphire Rapids VM; `./scripts/benchmark products` times the result).
template <int M>
void split(const float* x, const float* p, float* y, int64_t n_all, int64_t k_all) {
  constexpr int NB = M <= 2 ? 8 : M <= 4 ? 4 : 3;
  const int64_t blocks = (n_all + kLanes - 1) / kLanes;
  // Blocks a thread takes at least: about 64 KiB of weights.
  const int64_t grain = std::max<int64_t>(NB, 1024 / std::max<int64_t>(k_all, 1));
  at::parallel_for(0, blocks, grain, [&](int64_t begin, int64_t end) {
    product<M, NB>(x, p, y, n_all, k_all, begin, end);
  });
}

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

}  // namespace

extern "C" int64_t opg_few_rows_max() { return supported() ? kMaxRows : 0; }

// The packed copy of `weight` ([out, in], f32 on the CPU): [⌈out/16⌉, in, 16].
extern "C" at::Tensor* opg_few_rows_pack(const at::Tensor* weight, char* error,
                                         size_t error_len) {
  return guarded(
      [&] {
        const at::Tensor& w = *weight;
        expect(w.dim() == 2 && w.scalar_type() == at::kFloat && w.device().is_cpu(),
               "expected a 2-dimensional f32 weight on the CPU");
        const int64_t n_all = w.size(0), k_all = w.size(1);
        const int64_t blocks = (n_all + kLanes - 1) / kLanes;
        at::Tensor padded = at::zeros({blocks * kLanes, k_all}, w.options());
        padded.narrow(0, 0, n_all).copy_(w);
        return padded.view({blocks, kLanes, k_all}).transpose(1, 2).contiguous();
      },
      error, error_len);
}

// x · Wᵀ for `x` [rows, in] (1 to 8 rows) against `packed` (opg_few_rows_pack of a
// weight of `out` rows): [rows, out].
extern "C" at::Tensor* opg_few_rows_linear(const at::Tensor* x, const at::Tensor* packed,
                                           int64_t out, char* error, size_t error_len) {
  return guarded(
      [&] {
        expect(supported(), "this CPU has no AVX-512");
        const at::Tensor& p = *packed;
        expect(x->dim() == 2 && p.dim() == 3 && x->scalar_type() == at::kFloat &&
                   p.scalar_type() == at::kFloat && x->device().is_cpu() &&
                   p.device().is_cpu() && p.is_contiguous() && p.size(2) == kLanes,
               "expected f32 x [rows, in] and a packed weight on the CPU");
        const int64_t m_all = x->size(0), k_all = x->size(1), n_all = out;
        expect(p.size(1) == k_all, "x and the weight differ in width");
        expect(n_all >= 1 && (n_all + kLanes - 1) / kLanes == p.size(0),
               "the output width does not fit the packed weight");
        expect(m_all >= 1 && m_all <= kMaxRows, "between 1 and 8 rows only");
        const at::Tensor xc = x->contiguous();
        at::Tensor y = at::empty({m_all, n_all}, x->options());
        const float* xp = xc.data_ptr<float>();
        const float* pp = p.data_ptr<float>();
        float* yp = y.data_ptr<float>();
        switch (m_all) {
          case 1: split<1>(xp, pp, yp, n_all, k_all); break;
          case 2: split<2>(xp, pp, yp, n_all, k_all); break;
          case 3: split<3>(xp, pp, yp, n_all, k_all); break;
          case 4: split<4>(xp, pp, yp, n_all, k_all); break;
          case 5: split<5>(xp, pp, yp, n_all, k_all); break;
          case 6: split<6>(xp, pp, yp, n_all, k_all); break;
          case 7: split<7>(xp, pp, yp, n_all, k_all); break;
          default: split<8>(xp, pp, yp, n_all, k_all); break;
        }
        return y;
      },
      error, error_len);
}
