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

/* The 8-lane instance of ph_vec_math.h: ph_vec_exp, ph_vec_sigmoid, ph_vec_tanh,
 * ph_vec_cell_forward and the rest. */
#define PH_VEC PhVec
#define PH_VECI PhVecI
#define PH_VEC_LANES PH_LANES
#define PH_VEC_FN(name) ph_vec_##name
#include "ph_vec_math.h"
#undef PH_VEC
#undef PH_VECI
#undef PH_VEC_LANES
#undef PH_VEC_FN

/* ---- combining a sum's eight lanes ------------------------------------------------------
 * A row's dot product runs in eight lanes (lane j sums the products k = j mod 8); these
 * combine them in one fixed order, ((0+4)+(1+5))+((2+6)+(3+7)), for one row or eight at
 * once. Every product kernel ends with them, whatever its vector width (ph_lstm.c). */

PH_INLINE float
ph_lanes_sum (PhVec a)
{
  return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

/* Two rows' lanes j + (j + 4): (a0+a4, a1+a5, a2+a6, a3+a7) of a, then of b. */
PH_INLINE PhVec
ph_fold_halves (PhVec a, PhVec b)
{
  return PH_SHUFFLE8 (a, b, 0, 1, 2, 3, 8, 9, 10, 11)
         + PH_SHUFFLE8 (a, b, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* Sums of adjacent lane pairs of a and b, interleaved per half. */
PH_INLINE PhVec
ph_add_pairs (PhVec a, PhVec b)
{
  return PH_SHUFFLE8 (a, b, 0, 2, 8, 10, 4, 6, 12, 14)
         + PH_SHUFFLE8 (a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/* ph_lanes_sum of eight vectors at once, as one vector in row order. */
PH_INLINE PhVec
ph_lanes_sum8 (PhVec a0, PhVec a1, PhVec a2, PhVec a3, PhVec a4, PhVec a5, PhVec a6, PhVec a7)
{
  PhVec q0 = ph_add_pairs (ph_fold_halves (a0, a1), ph_fold_halves (a2, a3));
  PhVec q1 = ph_add_pairs (ph_fold_halves (a4, a5), ph_fold_halves (a6, a7));
  PhVec r = ph_add_pairs (q0, q1); /* rows 0 2 4 6 1 3 5 7 */
  return PH_SHUFFLE8 (r, r, 0, 4, 1, 5, 2, 6, 3, 7);
}

/* ---- the step's packed weights (ph_lstm.c describes the layout) ------------------------ */

#define PH_PACK_ROWS 8

typedef struct {
  float *w;        /* [groups][blocks][PH_PACK_ROWS][PH_LANES] */
  guint32 *pairs;  /* NULL, or the same weights as bfloat16 pairs (ph_lstm.c), for the
                    * AVX-512 kernel when every weight is a bfloat16 value */
  float *bias;     /* [groups * PH_PACK_ROWS], zero-padded */
  guint groups;    /* ceil(rows / PH_PACK_ROWS) */
  guint blocks;    /* blocks of 8 columns per row */
} PhPackedMatrix;

/* One product over a run of frames: for frame t, y_t = base_t + W x_t on every (padded)
 * row, x_t zero-padded to whole blocks at x + t * x_stride. base_stride 0 shares one
 * base (the biases) across the frames. */
typedef struct {
  float *y;
  gsize y_stride;
  const float *base;
  gsize base_stride;
  const float *x;
  gsize x_stride;
  guint n_frames;
} PhRunProduct;

#if defined(PH_HAVE_AVX512_STEP)
/* The product with AVX-512 (ph_lstm_avx512.c): the same bits as the portable kernel.
 * Only for CPUs that have AVX-512F. */
G_GNUC_INTERNAL void ph_packed_product_avx512 (const PhPackedMatrix *m, const PhRunProduct *p);
/* ph_lstm_cell_forward, 16 units at a time: the same bits. */
G_GNUC_INTERNAL void ph_lstm_cell_forward_avx512 (float *gates, const float *peep,
                                                  const float *c_prev, float *c, float *tanh_c,
                                                  float *h, guint hidden);
#endif

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

/* Input width of `layer`: the feature dimension for layer 0, H above. */
static inline guint
ph_lstm_layer_input_dim (const PhLstmShape *shape, guint layer)
{
  return layer == 0 ? shape->input_dim : shape->hidden_size;
}

G_END_DECLS
