// f32 products x · Wᵀ with AVX-512, or AVX2 and FMA, for a CPU that has them: a decode
// step's few rows (one per sequence, up to 8 taken together) and a prompt's many; bf16
// products of any number of rows with AVX2 and FMA.
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
// AVX2 has 8 lanes and 16 vector registers: the same packed layout, each block taken as
// two halves of 8 outputs, each output summed in the same order with the same fused
// multiply-adds, so the results are the same bits as AVX-512's.
//
// bf16 weights (on a CPU whose oneDNN has no bf16 kernels, with AVX2): the same layout in
// bf16, any number of rows. A bf16 widens to f32 exactly, so each output is the f32 sum
// above of the same values, rounded to bf16 once: the same bits whatever the rows beside it.
//
// Threads: libtorch's intra-op pool (at::parallel_for), the one MKL and the other
// operators use, takes the blocks in chunks, each thread the next chunk when it is done
// with one: a thread that another process holds up (a server's own HTTP threads, a client
// on the same cores) takes fewer, instead of the whole product waiting for its fixed half.
// Which thread computes an output does not change it. Tensors cross as tch's handles (`at::Tensor*`); a
// result is a new handle the caller owns; on failure it is null and `error` holds the
// reason (NUL-terminated, truncated to `error_len` bytes).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <vector>

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

// Eight packed weights as f32: f32 ones as they are, bf16 ones widened (exactly: a bf16
// is the upper half of an f32).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
__attribute__((target("avx2,fma"))) inline __m256 load8(const uint16_t* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

// AVX2: y[m][8·h ..] for the H halves (of 8 outputs) from `h`, as `block` does for blocks.
// y's rows are `ldy` apart; outputs from n_all on (the padding) are not stored.
template <int M, int H, typename T>
__attribute__((target("avx2,fma"))) inline void halves(const float* x, const T* p, float* y,
                                                       int64_t ldy, int64_t n_all, int64_t k_all,
                                                       int64_t h) {
  constexpr int64_t kHalf = kLanes / 2;
  __m256 total[H][M];
  for (int i = 0; i < H; i++)
    for (int m = 0; m < M; m++) total[i][m] = _mm256_setzero_ps();
  for (int64_t k0 = 0; k0 < k_all; k0 += kRun) {
    const int64_t k1 = std::min(k0 + kRun, k_all);
    __m256 acc[H][M];
    for (int i = 0; i < H; i++)
      for (int m = 0; m < M; m++) acc[i][m] = _mm256_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
      __m256 w[H];
      for (int i = 0; i < H; i++) {
        const int64_t half = h + i;
        w[i] = load8(p + ((half / 2) * k_all + k) * kLanes + (half % 2) * kHalf);
      }
      for (int m = 0; m < M; m++) {
        const __m256 xv = _mm256_set1_ps(x[m * k_all + k]);
        for (int i = 0; i < H; i++) acc[i][m] = _mm256_fmadd_ps(w[i], xv, acc[i][m]);
      }
    }
    for (int i = 0; i < H; i++)
      for (int m = 0; m < M; m++) total[i][m] = _mm256_add_ps(total[i][m], acc[i][m]);
  }
  for (int i = 0; i < H; i++) {
    const int64_t first = (h + i) * kHalf;
    const int64_t left = std::min<int64_t>(kHalf, n_all - first);
    if (left <= 0) continue;
    for (int m = 0; m < M; m++) {
      if (left == kHalf) {
        _mm256_storeu_ps(y + m * ldy + first, total[i][m]);
      } else {
        alignas(32) float lanes[kHalf];
        _mm256_store_ps(lanes, total[i][m]);
        std::copy(lanes, lanes + left, y + m * ldy + first);
      }
    }
  }
}

// AVX2: rows taken together in one pass over the same halves. Three rows over four halves
// keep 12 accumulators, four weight vectors and one broadcast x within the 16 registers,
// and each k's 7 loads feed 12 fused multiply-adds (4 rows over 2 halves: 6 loads for 8);
// more rows go in further passes while those weights are in the cache.
constexpr int kRowsTogether = 3;

// AVX2, any number of rows (a decode step's or a prompt's): every row of x over the H
// halves from `h`, three at a time, the rest in a pass of 1 or 2 (so one or two rows go
// at once). y's rows are `ldy` apart; outputs from `limit` on are not stored.
template <int H, typename T>
__attribute__((target("avx2,fma"))) void all_rows_avx2(const float* x, const T* p, float* y,
                                                       int64_t rows, int64_t ldy, int64_t limit,
                                                       int64_t k_all, int64_t h) {
  constexpr int R = kRowsTogether;
  int64_t m = 0;
  for (; m + R <= rows; m += R) halves<R, H>(x + m * k_all, p, y + m * ldy, ldy, limit, k_all, h);
  const float* xm = x + m * k_all;
  float* ym = y + m * ldy;
  switch (rows - m) {
    case 1: halves<1, H>(xm, p, ym, ldy, limit, k_all, h); break;
    case 2: halves<2, H>(xm, p, ym, ldy, limit, k_all, h); break;
    default: break;
  }
}

// AVX2: the halves of blocks [b0, b1), NH at a time.
template <int M, int NH, typename T>
__attribute__((target("avx2,fma"))) void product_avx2(const float* x, const T* p, float* y,
                                                      int64_t n_all, int64_t k_all, int64_t b0,
                                                      int64_t b1) {
  int64_t h = 2 * b0;
  for (; h + NH <= 2 * b1; h += NH) all_rows_avx2<NH>(x, p, y, M, n_all, n_all, k_all, h);
  for (; h < 2 * b1; h++) all_rows_avx2<1>(x, p, y, M, n_all, n_all, k_all, h);
}

// bf16 (AVX2), more than 8 rows (a prompt's prefill): blocks [b0, b1) of a bf16 weight
// packed as above, against `rows` rows of x in f32. Each two blocks are widened to f32
// once into `wide` ([2][k_all][16], in the cache), and every row runs `halves` over their
// four halves, as the f32 kernel runs a prompt: each output summed in the f32 kernel's
// order, whatever the rows around it.
__attribute__((target("avx2,fma"))) void product_bf16(const float* x, const uint16_t* p,
                                                      float* y, int64_t rows, int64_t n_all,
                                                      int64_t k_all, int64_t b0, int64_t b1,
                                                      float* wide) {
  const int64_t values = k_all * kLanes;
  for (int64_t b = b0; b < b1; b += 2) {
    const int64_t blocks = std::min<int64_t>(2, b1 - b);
    const uint16_t* first = p + b * values;
    // A block holds k_all × 16 values, a multiple of 8.
    for (int64_t i = 0; i < blocks * values; i += 8) _mm256_storeu_ps(wide + i, load8(first + i));
    // These blocks' outputs: y[.][16·b ..], none from n_all on.
    float* out = y + b * kLanes;
    const int64_t limit = n_all - b * kLanes;
    if (blocks == 2) {
      all_rows_avx2<4>(x, wide, out, rows, n_all, limit, k_all, 0);
    } else {
      all_rows_avx2<2>(x, wide, out, rows, n_all, limit, k_all, 0);
    }
  }
}

bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Runs f(b0, b1) over blocks [0, blocks) in chunks of a multiple of `group` blocks (the
// kernel's blocks taken together), about 8 a thread, handed out as the threads ask.
template <typename F>
void by_chunks(int64_t blocks, int64_t group, const F& f) {
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  int64_t chunk = std::max<int64_t>(1, (blocks + threads * 8 - 1) / (threads * 8));
  chunk = (chunk + group - 1) / group * group;
  const int64_t chunks = (blocks + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  at::parallel_for(0, std::min(threads, chunks), 1, [&](int64_t, int64_t) {
    for (int64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
      f(c * chunk, std::min(blocks, (c + 1) * chunk));
  });
}

// AVX2: halves taken together within its 16 registers (accumulators, weights, x; rows
// past kRowsTogether in further passes). `./scripts/benchmark products` times the choice
// (docs/benchmarks.md): on a 2-core Zen 4 VM running the AVX2 kernels, a decode step's
// products of 8 rows took 20.7 ms as 3 + 3 + 2 rows over 4 halves, 25.1 as 4 + 4 over 2.
constexpr int halves_together(int64_t rows) { return rows <= 1 ? 6 : 4; }
template <int M>
constexpr int kHalvesTogether = halves_together(M);

// Set by opg_few_rows_avx2_only: the AVX2 kernels even where the CPU has AVX-512 (the
// same bits; for tests and benchmarks of the AVX2 kernels on an AVX-512 machine).
std::atomic<bool> avx2_only{false};

// Blocks taken together: as many as keep their accumulators and weight vectors within the
// 32 vector registers (the counts measured fastest for 1 and 8 rows on this project's
// 2-core Sapphire Rapids VM; `./scripts/benchmark products` times the result).
template <int M>
void split(const float* x, const float* p, float* y, int64_t n_all, int64_t k_all) {
  constexpr int NB = M <= 2 ? 8 : M <= 4 ? 4 : 3;
  const int64_t blocks = (n_all + kLanes - 1) / kLanes;
  static const bool has512 = has_avx512();
  const bool avx512 = has512 && !avx2_only.load(std::memory_order_relaxed);
  constexpr int NH = kHalvesTogether<M>;
  by_chunks(blocks, avx512 ? NB : (NH + 1) / 2, [&](int64_t begin, int64_t end) {
    if (avx512) {
      product<M, NB>(x, p, y, n_all, k_all, begin, end);
    } else {
      product_avx2<M, NH, float>(x, p, y, n_all, k_all, begin, end);
    }
  });
}

// More than 8 rows (a prompt's prefill): the blocks of [b0, b1) a few at a time, every row
// over each few while their weights are in the cache, as many rows together as a decode
// step's kernel takes (8 over 3 blocks with AVX-512, 3 over 4 halves with AVX2). Each
// output is summed as above: the same bits as the same row in a decode step.
template <int B>
__attribute__((target("avx512f"))) void all_rows_avx512(const float* x, const float* p, float* y,
                                                        int64_t rows, int64_t n_all,
                                                        int64_t k_all, int64_t b) {
  int64_t m = 0;
  for (; m + kMaxRows <= rows; m += kMaxRows)
    block<kMaxRows, B>(x + m * k_all, p, y + m * n_all, n_all, k_all, b);
  const float* xm = x + m * k_all;
  float* ym = y + m * n_all;
  switch (rows - m) {
    case 1: block<1, B>(xm, p, ym, n_all, k_all, b); break;
    case 2: block<2, B>(xm, p, ym, n_all, k_all, b); break;
    case 3: block<3, B>(xm, p, ym, n_all, k_all, b); break;
    case 4: block<4, B>(xm, p, ym, n_all, k_all, b); break;
    case 5: block<5, B>(xm, p, ym, n_all, k_all, b); break;
    case 6: block<6, B>(xm, p, ym, n_all, k_all, b); break;
    case 7: block<7, B>(xm, p, ym, n_all, k_all, b); break;
    default: break;
  }
}

void many_rows(const float* x, const float* p, float* y, int64_t rows, int64_t n_all,
               int64_t k_all) {
  constexpr int NB = 3;
  constexpr int NH = kHalvesTogether<kMaxRows>;
  const int64_t blocks = (n_all + kLanes - 1) / kLanes;
  static const bool has512 = has_avx512();
  const bool avx512 = has512 && !avx2_only.load(std::memory_order_relaxed);
  by_chunks(blocks, avx512 ? NB : (NH + 1) / 2, [&](int64_t b0, int64_t b1) {
    if (avx512) {
      int64_t b = b0;
      for (; b + NB <= b1; b += NB) all_rows_avx512<NB>(x, p, y, rows, n_all, k_all, b);
      for (; b < b1; b++) all_rows_avx512<1>(x, p, y, rows, n_all, k_all, b);
    } else {
      int64_t h = 2 * b0;
      for (; h + NH <= 2 * b1; h += NH) all_rows_avx2<NH>(x, p, y, rows, n_all, n_all, k_all, h);
      for (; h < 2 * b1; h++) all_rows_avx2<1>(x, p, y, rows, n_all, n_all, k_all, h);
    }
  });
}

bool supported() { return has_avx512() || has_avx2(); }


}  // namespace

// Whether this CPU runs these kernels (AVX-512, or AVX2 with FMA).
extern "C" bool opg_few_rows_supported() { return supported(); }

// Whether the f32 few-row products run the AVX2 kernels even on an AVX-512 CPU; returns
// whether this CPU has AVX2 (without it the setting does nothing).
extern "C" bool opg_few_rows_avx2_only(bool on) {
  avx2_only.store(on, std::memory_order_relaxed);
  return has_avx2();
}

// The packed copy of `weight` ([out, in], f32 or bf16 on the CPU): [⌈out/16⌉, in, 16].
extern "C" at::Tensor* opg_few_rows_pack(const at::Tensor* weight, char* error,
                                         size_t error_len) {
  return guarded(
      [&] {
        const at::Tensor& w = *weight;
        expect(w.dim() == 2 &&
                   (w.scalar_type() == at::kFloat || w.scalar_type() == at::kBFloat16) &&
                   w.device().is_cpu(),
               "expected a 2-dimensional f32 or bf16 weight on the CPU");
        const int64_t n_all = w.size(0), k_all = w.size(1);
        const int64_t blocks = (n_all + kLanes - 1) / kLanes;
        at::Tensor padded = at::zeros({blocks * kLanes, k_all}, w.options());
        padded.narrow(0, 0, n_all).copy_(w);
        return padded.view({blocks, kLanes, k_all}).transpose(1, 2).contiguous();
      },
      error, error_len);
}

// x · Wᵀ for `x` [rows, in] (any number of rows) against `packed` (opg_few_rows_pack of a
// weight of `out` rows): [rows, out].
extern "C" at::Tensor* opg_few_rows_linear(const at::Tensor* x, const at::Tensor* packed,
                                           int64_t out, char* error, size_t error_len) {
  return guarded(
      [&] {
        expect(supported(), "this CPU has neither AVX-512 nor AVX2 with FMA");
        const at::Tensor& p = *packed;
        expect(x->dim() == 2 && p.dim() == 3 && x->scalar_type() == at::kFloat &&
                   p.scalar_type() == at::kFloat && x->device().is_cpu() &&
                   p.device().is_cpu() && p.is_contiguous() && p.size(2) == kLanes,
               "expected f32 x [rows, in] and a packed weight on the CPU");
        const int64_t m_all = x->size(0), k_all = x->size(1), n_all = out;
        expect(p.size(1) == k_all, "x and the weight differ in width");
        expect(n_all >= 1 && (n_all + kLanes - 1) / kLanes == p.size(0),
               "the output width does not fit the packed weight");
        expect(m_all >= 1, "no row to multiply");
        const at::Tensor xc = x->contiguous();
        at::Tensor y = opg_shim::uninitialized({m_all, n_all}, x->options());
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
          case 8: split<8>(xp, pp, yp, n_all, k_all); break;
          default: many_rows(xp, pp, yp, m_all, n_all, k_all); break;
        }
        return y;
      },
      error, error_len);
}

// x · Wᵀ in bf16 for `x` [rows, in] (bf16, any number of rows) against `packed`
// (opg_few_rows_pack of a bf16 weight of `out` rows): [rows, out], each output the f32 sum,
// in the f32 kernel's order, of the exact products, rounded to bf16 once (to nearest even).
extern "C" at::Tensor* opg_bf16_rows_linear(const at::Tensor* x, const at::Tensor* packed,
                                            int64_t out, char* error, size_t error_len) {
  return guarded(
      [&] {
        expect(has_avx2(), "this CPU lacks AVX2 with FMA");
        const at::Tensor& p = *packed;
        expect(x->dim() == 2 && p.dim() == 3 && x->scalar_type() == at::kBFloat16 &&
                   p.scalar_type() == at::kBFloat16 && x->device().is_cpu() &&
                   p.device().is_cpu() && p.is_contiguous() && p.size(2) == kLanes,
               "expected bf16 x [rows, in] and a packed bf16 weight on the CPU");
        const int64_t m_all = x->size(0), k_all = x->size(1), n_all = out;
        expect(p.size(1) == k_all, "x and the weight differ in width");
        expect(n_all >= 1 && (n_all + kLanes - 1) / kLanes == p.size(0),
               "the output width does not fit the packed weight");
        expect(m_all >= 1, "no row to multiply");
        const at::Tensor xf = x->to(at::kFloat).contiguous();
        at::Tensor y = opg_shim::uninitialized({m_all, n_all}, xf.options());
        const float* xp = xf.data_ptr<float>();
        const uint16_t* pp = reinterpret_cast<const uint16_t*>(p.data_ptr<at::BFloat16>());
        float* yp = y.data_ptr<float>();
        const int64_t group = m_all <= kMaxRows ? (halves_together(m_all) + 1) / 2 : 2;
        by_chunks(p.size(0), group, [&](int64_t begin, int64_t end) {
          // Up to 8 rows (decode steps) widen each weight in registers as they read it;
          // more read each two blocks widened once.
          switch (m_all) {
            case 1: product_avx2<1, kHalvesTogether<1>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 2: product_avx2<2, kHalvesTogether<2>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 3: product_avx2<3, kHalvesTogether<3>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 4: product_avx2<4, kHalvesTogether<4>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 5: product_avx2<5, kHalvesTogether<5>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 6: product_avx2<6, kHalvesTogether<6>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 7: product_avx2<7, kHalvesTogether<7>>(xp, pp, yp, n_all, k_all, begin, end); return;
            case 8: product_avx2<8, kHalvesTogether<8>>(xp, pp, yp, n_all, k_all, begin, end); return;
            default: break;
          }
          thread_local std::vector<float> wide;
          wide.resize(static_cast<size_t>(2 * k_all * kLanes));
          product_bf16(xp, pp, yp, m_all, n_all, k_all, begin, end, wide.data());
        });
        return y.to(at::kBFloat16);
      },
      error, error_len);
}
