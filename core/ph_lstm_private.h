/* ph_lstm_private.h: the LSTM kernels shared by inference (ph_lstm.c) and training
 * (ph_train.c), so that the trainer's forward pass is bit-identical to ph_lstm_step.
 * Not installed. */
#pragma once

#include <string.h>

#include "ph_model.h"

G_BEGIN_DECLS

/* ---- SIMD ----------------------------------------------------------------------------
 * The kernels are written once over PhVec, an 8-float GCC/Clang vector type that the
 * compiler maps to whatever the target has (two SSE registers on baseline x86-64, one
 * AVX register in the AVX2 clones, NEON pairs on ARM). Only IEEE add, multiply, divide,
 * compare, and float <-> int conversion are used, never fused multiply-add, so every
 * clone computes the very same bits: results do not depend on the CPU the code runs on.
 * PH_SIMD_CLONES asks for an AVX2 clone next to the baseline one, picked at load time
 * (glibc ifunc, as RNNoise picks its kernels at run time); elsewhere it is empty. */
#define PH_LANES 8
typedef float PhVec __attribute__ ((vector_size (PH_LANES * sizeof (float))));
typedef gint32 PhVecI __attribute__ ((vector_size (PH_LANES * sizeof (gint32))));

#ifndef PH_SIMD_CLONES /* -DPH_SIMD_CLONES= builds one version for the compiler's target */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define PH_SIMD_CLONES __attribute__ ((target_clones ("avx2", "default")))
#endif
#endif
#endif
#ifndef PH_SIMD_CLONES
#define PH_SIMD_CLONES
#endif

#define PH_INLINE static inline __attribute__ ((always_inline))

/* PhVec values only pass between always-inlined helpers, never across a real call, so
 * gcc's note that 32-byte vectors are passed differently with and without AVX does not
 * apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

PH_INLINE PhVec
ph_vec_load (const float *p)
{
  PhVec v;
  memcpy (&v, p, sizeof v);
  return v;
}

PH_INLINE void
ph_vec_store (float *p, PhVec v)
{
  memcpy (p, &v, sizeof v);
}

/* Two-input lane shuffle with constant indices (0..15), for gcc and clang alike. */
#if defined(__clang__)
#define PH_SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
  __builtin_shufflevector (a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define PH_SHUFFLE8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
  __builtin_shuffle (a, b, (PhVecI) { i0, i1, i2, i3, i4, i5, i6, i7 })
#endif

/* x in every lane (written as a shuffle so that gcc emits one broadcast). */
PH_INLINE PhVec
ph_vec_set1 (float x)
{
  PhVec v = { x };
  return PH_SHUFFLE8 (v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}

/* The first n (< PH_LANES) floats of p, zeros after. */
PH_INLINE PhVec
ph_vec_load_partial (const float *p, guint n)
{
  float t[PH_LANES] = { 0 };
  memcpy (t, p, sizeof (float) * n);
  return ph_vec_load (t);
}

/* The first n (<= PH_LANES) floats of p, zeros after: a whole vector when n is. */
PH_INLINE PhVec
ph_vec_load_some (const float *p, guint n)
{
  return n == PH_LANES ? ph_vec_load (p) : ph_vec_load_partial (p, n);
}

/* Stores the first n (<= PH_LANES) lanes of v at p. */
PH_INLINE void
ph_vec_store_some (float *p, PhVec v, guint n)
{
  if (n == PH_LANES)
    ph_vec_store (p, v);
  else
    memcpy (p, &v, sizeof (float) * n);
}

/* mask ? a : b for masks from a vector comparison (all bits set or clear). */
PH_INLINE PhVec
ph_vec_select (PhVecI mask, PhVec a, PhVec b)
{
  return (PhVec) ((mask & (PhVecI) a) | (~mask & (PhVecI) b));
}

/* exp(x) for every lane (Cephes' expf: x = n ln 2 + r with ln 2 in two parts, a
 * degree-6 polynomial for exp(r), 2^n put into the exponent bits; a couple of ulp). n is
 * rounded with the 1.5 * 2^23 trick. x is clamped to [-87.3, 88]: the result is finite
 * and normal. */
PH_INLINE PhVec
ph_vec_exp (PhVec x)
{
  const PhVec hi = ph_vec_set1 (88.0f), lo = ph_vec_set1 (-87.3365447504019f);
  const PhVec round = ph_vec_set1 (12582912.0f);

  x = ph_vec_select (x > hi, hi, x);
  x = ph_vec_select (x < lo, lo, x);
  PhVec t = x * ph_vec_set1 (1.44269504088896341f) + round;
  PhVec fn = t - round;
  PhVecI n = (PhVecI) t - (PhVecI) round;
  PhVec r = x - fn * ph_vec_set1 (0.693359375f);
  r = r - fn * ph_vec_set1 (-2.12194440e-4f);
  PhVec p = ph_vec_set1 (1.9875691500e-4f);
  p = p * r + ph_vec_set1 (1.3981999507e-3f);
  p = p * r + ph_vec_set1 (8.3334519073e-3f);
  p = p * r + ph_vec_set1 (4.1665795894e-2f);
  p = p * r + ph_vec_set1 (1.6666665459e-1f);
  p = p * r + ph_vec_set1 (5.0000001201e-1f);
  p = p * (r * r) + r + ph_vec_set1 (1.0f);
  return p * (PhVec) ((n + 127) << 23);
}

/* 1 / (1 + exp(-x)) for every lane. */
PH_INLINE PhVec
ph_vec_sigmoid (PhVec x)
{
  PhVec one = ph_vec_set1 (1.0f);
  return one / (one + ph_vec_exp (-x));
}

/* tanh(x) = 1 - 2 / (exp(2x) + 1) for every lane: within about 1e-7 of tanh (absolute),
 * exactly +-1 in saturation. */
PH_INLINE PhVec
ph_vec_tanh (PhVec x)
{
  PhVec one = ph_vec_set1 (1.0f);
  return one - ph_vec_set1 (2.0f) / (ph_vec_exp (x + x) + one);
}

/* v with every value smaller in magnitude than 2^-100 (about 8e-31) replaced by 0.
 * Saturated gates are everywhere in a trained network, and products of their tiny
 * outputs are subnormal numbers, which cost x86 cores tens of cycles per operation (the
 * default model's step ran 60% slower on them). Nothing that small moves a posterior. */
PH_INLINE PhVec
ph_vec_flush_tiny (PhVec v)
{
  PhVecI magnitude = (PhVecI) v & 0x7fffffff;
  return (PhVec) ((PhVecI) v & (magnitude >= (127 - 100) << 23));
}

/* ---- kernels --------------------------------------------------------------------------- */

/* y[r] += dot(w[r][0..cols), x) for r < rows; w row-major. Fixed summation order. */
G_GNUC_INTERNAL void ph_matvec_add (float *y, const float *w, const float *x,
                                    guint rows, guint cols);

/* x_norm[k] = (x[k] - mean[k]) * scale[k]. */
G_GNUC_INTERNAL void ph_normalise_input (float *x_norm, const float *x, const float *mean,
                                         const float *scale, guint dim);

/* Gate pre-activations of one layer: gates = (bias + W_x x) + W_h h_prev ([4H]), each
 * product summed and reduced on its own (ph_lstm.c gives the order). */
G_GNUC_INTERNAL void ph_lstm_gates (const PhLstmLayerParams *layer, guint in_dim, guint hidden,
                                    const float *x, const float *h_prev, float *gates);

/* Applies the cell to pre-activations: replaces `gates` (i, f, g, o) by their activated
 * values and writes c, tanh(c) and h. `c` may alias `c_prev`, `h` may alias nothing read. */
G_GNUC_INTERNAL void ph_lstm_cell_forward (float *gates, const float *peep, const float *c_prev,
                                           float *c, float *tanh_c, float *h, guint hidden);

/* In-place softmax over n values (max-subtracted). */
G_GNUC_INTERNAL void ph_softmax (float *y, guint n);

/* posteriors = softmax(W_out h + b_out). */
G_GNUC_INTERNAL void ph_lstm_output (const PhLstmParams *params, const PhLstmShape *shape,
                                     const float *h_top, float *posteriors);

/* Frees ph_lstm_step's repacked weights (PhModel.step_weights); NULL is allowed. */
G_GNUC_INTERNAL void ph_step_weights_free (gpointer step_weights);

/* Input width of `layer`: the feature dimension for layer 0, H above. */
static inline guint
ph_lstm_layer_input_dim (const PhLstmShape *shape, guint layer)
{
  return layer == 0 ? shape->input_dim : shape->hidden_size;
}

G_END_DECLS
