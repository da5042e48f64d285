// The decoder's small steps in f32 on the CPU, each one loop instead of the several
// libtorch operators (and their dispatch, about 1–3 µs each) they take as tensor code:
// RMSNorm, rotary embedding, SwiGLU, and a decode step's attention with its cache write.
// At decode time (one row per sequence) those operators, not arithmetic, were most of a
// step's time outside the weight products. Layouts and formulas are the tensor code's in
// `model.rs`, which the tests compare these with.
//
// Tensors cross as tch's handles (`at::Tensor*`); a result is a new handle the caller
// owns; on failure it is null and `error` holds the reason (NUL-terminated, truncated to
// `error_len` bytes). Inputs must be contiguous f32 (i64 for indices) on the CPU; the
// decode step's attention also takes bf16.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "shim.h"

namespace {

using opg_shim::expect;
using opg_shim::guarded;

void expect_f32(const at::Tensor& t, int64_t dim, const char* what) {
  expect(t.dim() == dim && t.scalar_type() == at::kFloat && t.device().is_cpu() &&
             t.is_contiguous(),
         what);
}

// One head's attention: softmax(scale · query · kᵀ) · v over `len` keys and values of
// `dim` each; `scores` has room for `len`. Compiled for AVX-512, for AVX2 and for any
// x86-64, chosen at load by the CPU (sums in the same order in each, no contraction into
// fused multiply-adds: the same bits).
__attribute__((target_clones("avx512f", "avx2", "default"))) void attend(
    const float* query, const float* k, const float* v, int64_t len, int64_t dim,
    float scale, float* scores, float* out) {
  constexpr int64_t kLanes = 16;
  const int64_t full = dim / kLanes * kLanes;
  float top = -INFINITY;
  for (int64_t t = 0; t < len; t++) {
    const float* key = k + t * dim;
    float lanes[kLanes] = {};
    for (int64_t i = 0; i < full; i += kLanes)
      for (int64_t j = 0; j < kLanes; j++) lanes[j] += query[i + j] * key[i + j];
    float dot = 0.0f;
    for (int64_t j = 0; j < kLanes; j++) dot += lanes[j];
    for (int64_t i = full; i < dim; i++) dot += query[i] * key[i];
    scores[t] = dot * scale;
    top = std::max(top, scores[t]);
  }
  float sum = 0.0f;
  for (int64_t t = 0; t < len; t++) {
    scores[t] = std::exp(scores[t] - top);
    sum += scores[t];
  }
  std::fill(out, out + dim, 0.0f);
  for (int64_t t = 0; t < len; t++) {
    const float p = scores[t];
    const float* value = v + t * dim;
    for (int64_t i = 0; i < dim; i++) out[i] += p * value[i];
  }
  const float inverse = 1.0f / sum;
  for (int64_t i = 0; i < dim; i++) out[i] *= inverse;
}

}  // namespace

// x · rsqrt(mean(x²) + eps) · weight, per row of `x` [rows, width]; `weight` [width].
extern "C" at::Tensor* opg_rms_norm(const at::Tensor* x, const at::Tensor* weight, double eps,
                                    char* error, size_t error_len) {
  return guarded(
      [&] {
        expect_f32(*x, 2, "x must be contiguous f32 [rows, width] on the CPU");
        expect_f32(*weight, 1, "the weight must be contiguous f32 [width] on the CPU");
        const int64_t rows = x->size(0), width = x->size(1);
        expect(weight->size(0) == width, "the weight's width is not x's");
        at::Tensor out = opg_shim::uninitialized({rows, width}, x->options());
        const float* xp = x->data_ptr<float>();
        const float* wp = weight->data_ptr<float>();
        float* op = out.data_ptr<float>();
        const float feps = static_cast<float>(eps);
        at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
          for (int64_t r = begin; r < end; r++) {
            const float* in = xp + r * width;
            float* o = op + r * width;
            double squares = 0.0;
            for (int64_t i = 0; i < width; i++) squares += double(in[i]) * double(in[i]);
            const float mean = static_cast<float>(squares / double(width));
            const float scale = 1.0f / std::sqrt(mean + feps);
            for (int64_t i = 0; i < width; i++) o[i] = (in[i] * scale) * wp[i];
          }
        });
        return out;
      },
      error, error_len);
}

// Rotary embedding, rotating halves: x · cos + (−x₂, x₁) · sin, for `x` [tokens, heads,
// dim] and `cos`/`sin` [tokens, 1, dim]. The multiplications and the addition are
// separate roundings, as in the tensor code, so the result is the same bits.
extern "C" at::Tensor* opg_rope(const at::Tensor* x, const at::Tensor* cos,
                                const at::Tensor* sin, char* error, size_t error_len) {
  return guarded(
      [&] {
        expect(x->dim() == 3 && x->scalar_type() == at::kFloat && x->device().is_cpu(),
               "x must be f32 [tokens, heads, dim] on the CPU");
        expect_f32(*cos, 3, "cos must be contiguous f32 [tokens, 1, dim] on the CPU");
        expect_f32(*sin, 3, "sin must be contiguous f32 [tokens, 1, dim] on the CPU");
        const at::Tensor xc = x->contiguous();
        const int64_t tokens = xc.size(0), heads = xc.size(1), dim = xc.size(2);
        expect(dim % 2 == 0, "the head dimension must be even");
        expect(cos->size(0) == tokens && cos->size(1) == 1 && cos->size(2) == dim &&
                   sin->sizes() == cos->sizes(),
               "cos and sin must be [tokens, 1, dim]");
        at::Tensor out = opg_shim::uninitialized({tokens, heads, dim}, xc.options());
        const float* xp = xc.data_ptr<float>();
        const float* cp = cos->data_ptr<float>();
        const float* sp = sin->data_ptr<float>();
        float* op = out.data_ptr<float>();
        const int64_t half = dim / 2;
        for (int64_t t = 0; t < tokens; t++) {
          const float* c = cp + t * dim;
          const float* s = sp + t * dim;
          for (int64_t h = 0; h < heads; h++) {
            const float* in = xp + (t * heads + h) * dim;
            float* o = op + (t * heads + h) * dim;
            for (int64_t i = 0; i < half; i++) {
              const float a = in[i] * c[i];
              const float b = -in[i + half] * s[i];
              o[i] = a + b;
            }
            for (int64_t i = half; i < dim; i++) {
              const float a = in[i] * c[i];
              const float b = in[i - half] * s[i];
              o[i] = a + b;
            }
          }
        }
        return out;
      },
      error, error_len);
}

// silu(gate) · up for `gate_up` [rows, 2·inner] (gate first): [rows, inner].
extern "C" at::Tensor* opg_swiglu(const at::Tensor* gate_up, char* error, size_t error_len) {
  return guarded(
      [&] {
        expect_f32(*gate_up, 2, "gate_up must be contiguous f32 [rows, 2·inner] on the CPU");
        const int64_t rows = gate_up->size(0), inner = gate_up->size(1) / 2;
        expect(gate_up->size(1) == 2 * inner, "gate_up's width must be even");
        at::Tensor out = opg_shim::uninitialized({rows, inner}, gate_up->options());
        const float* gp = gate_up->data_ptr<float>();
        float* op = out.data_ptr<float>();
        // By elements, not rows: a decode step's few rows are thousands of exponentials,
        // which both threads share. Each element is computed alone: the same bits whoever
        // computes it.
        at::parallel_for(0, rows * inner, 512, [&](int64_t begin, int64_t end) {
          for (int64_t e = begin; e < end;) {
            const int64_t r = e / inner, first = e % inner;
            const int64_t last = std::min(inner, first + (end - e));
            const float* g = gp + r * 2 * inner;
            const float* u = g + inner;
            float* o = op + r * inner;
            for (int64_t i = first; i < last; i++)
              o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
            e += last - first;
          }
        });
        return out;
      },
      error, error_len);
}

// bf16 values widened to f32 (exactly: a bf16 is an f32's upper half).
void widen(const at::BFloat16* from, int64_t count, float* to) {
  for (int64_t i = 0; i < count; i++) to[i] = static_cast<float>(from[i]);
}

// One decode step's attention: for each decoding row r (in slot `slots[r]`, at position
// `positions[r]`), writes its key and value (`keys_new`/`values_new` [rows, kv heads,
// dim]) into the cache (`keys`/`values` [slots, kv heads, capacity, dim], in place), then
// attends its query (`q` [rows, heads, dim]) over the slot's positions 0..=positions[r],
// heads grouped over key/value heads as in grouped-query attention, scaled by 1/√dim:
// [rows, heads·dim]. All f32, or all bf16: then each key/value head's keys and values are
// widened to f32 once for the heads over it, the attention runs in f32, and its result is
// rounded to bf16 once.
extern "C" at::Tensor* opg_decode_attention(const at::Tensor* q, const at::Tensor* keys_new,
                                            const at::Tensor* values_new, at::Tensor* keys,
                                            at::Tensor* values, const at::Tensor* slots,
                                            const at::Tensor* positions, char* error,
                                            size_t error_len) {
  return guarded(
      [&] {
        const at::ScalarType kind = q->scalar_type();
        expect((kind == at::kFloat || kind == at::kBFloat16) && q->dim() == 3 &&
                   q->device().is_cpu(),
               "q must be f32 or bf16 [rows, heads, dim] on the CPU");
        for (const at::Tensor* cache : {keys, values})
          expect(cache->dim() == 4 && cache->scalar_type() == kind && cache->device().is_cpu() &&
                     cache->is_contiguous(),
                 "the caches must be contiguous [slots, kv, capacity, dim] of q's type");
        expect(keys->sizes() == values->sizes(), "the key and value caches differ in shape");
        const at::Tensor qc = q->contiguous();
        const at::Tensor kn = keys_new->contiguous();
        const at::Tensor vn = values_new->contiguous();
        const int64_t rows = qc.size(0), heads = qc.size(1), dim = qc.size(2);
        const int64_t slot_count = keys->size(0), kv = keys->size(1), capacity = keys->size(2);
        expect(keys->size(3) == dim, "the cache's head dimension is not q's");
        expect(kv > 0 && heads % kv == 0, "heads must be a multiple of the key/value heads");
        expect(kn.scalar_type() == kind && vn.scalar_type() == kind && kn.dim() == 3 &&
                   kn.size(0) == rows && kn.size(1) == kv && kn.size(2) == dim &&
                   vn.sizes() == kn.sizes(),
               "new keys and values must be [rows, kv heads, dim] of q's type");
        expect(slots->scalar_type() == at::kLong && positions->scalar_type() == at::kLong &&
                   slots->numel() == rows && positions->numel() == rows,
               "slots and positions must be one i64 per row");
        const at::Tensor sc = slots->contiguous(), pc = positions->contiguous();
        const int64_t* sp = sc.data_ptr<int64_t>();
        const int64_t* pp = pc.data_ptr<int64_t>();
        for (int64_t r = 0; r < rows; r++) {
          expect(sp[r] >= 0 && sp[r] < slot_count, "a slot outside the cache");
          expect(pp[r] >= 0 && pp[r] < capacity, "a position outside the cache");
          for (int64_t other = 0; other < r; other++)
            expect(sp[other] != sp[r], "a slot twice in one step");
        }
        const int64_t group = heads / kv;
        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
        if (kind == at::kBFloat16) {
          using bf16 = at::BFloat16;
          bf16* kp = keys->data_ptr<bf16>();
          bf16* vp = values->data_ptr<bf16>();
          const bf16* knp = kn.data_ptr<bf16>();
          const bf16* vnp = vn.data_ptr<bf16>();
          for (int64_t r = 0; r < rows; r++) {
            for (int64_t h = 0; h < kv; h++) {
              const int64_t at = ((sp[r] * kv + h) * capacity + pp[r]) * dim;
              std::memcpy(kp + at, knp + (r * kv + h) * dim, dim * sizeof(bf16));
              std::memcpy(vp + at, vnp + (r * kv + h) * dim, dim * sizeof(bf16));
            }
          }
          const at::Tensor qf = qc.to(at::kFloat).contiguous();
          at::Tensor out = opg_shim::uninitialized({rows, heads * dim}, qf.options());
          const float* qp = qf.data_ptr<float>();
          float* op = out.data_ptr<float>();
          at::parallel_for(0, rows * kv, 1, [&](int64_t begin, int64_t end) {
            std::vector<float> k32, v32, scores;
            for (int64_t job = begin; job < end; job++) {
              const int64_t r = job / kv, h = job % kv;
              const int64_t len = pp[r] + 1;
              const int64_t base = (sp[r] * kv + h) * capacity * dim;
              k32.resize(len * dim);
              v32.resize(len * dim);
              scores.resize(len);
              widen(kp + base, len * dim, k32.data());
              widen(vp + base, len * dim, v32.data());
              for (int64_t head = h * group; head < (h + 1) * group; head++)
                attend(qp + (r * heads + head) * dim, k32.data(), v32.data(), len, dim, scale,
                       scores.data(), op + (r * heads + head) * dim);
            }
          });
          return out.to(at::kBFloat16);
        }
        float* kp = keys->data_ptr<float>();
        float* vp = values->data_ptr<float>();
        const float* knp = kn.data_ptr<float>();
        const float* vnp = vn.data_ptr<float>();
        for (int64_t r = 0; r < rows; r++) {
          for (int64_t h = 0; h < kv; h++) {
            const int64_t at = ((sp[r] * kv + h) * capacity + pp[r]) * dim;
            std::memcpy(kp + at, knp + (r * kv + h) * dim, dim * sizeof(float));
            std::memcpy(vp + at, vnp + (r * kv + h) * dim, dim * sizeof(float));
          }
        }
        at::Tensor out = opg_shim::uninitialized({rows, heads * dim}, qc.options());
        const float* qp = qc.data_ptr<float>();
        float* op = out.data_ptr<float>();
        at::parallel_for(0, rows * heads, 1, [&](int64_t begin, int64_t end) {
          std::vector<float> scores;
          for (int64_t job = begin; job < end; job++) {
            const int64_t r = job / heads, h = job % heads;
            const int64_t len = pp[r] + 1;
            const int64_t base = (sp[r] * kv + h / group) * capacity * dim;
            scores.resize(len);
            attend(qp + (r * heads + h) * dim, kp + base, vp + base, len, dim, scale,
                   scores.data(), op + (r * heads + h) * dim);
          }
        });
        return out;
      },
      error, error_len);
}
