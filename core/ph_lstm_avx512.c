/* ph_lstm_avx512.c: the step's product y = base + W x and its cell with AVX-512, for
 * the CPUs that have it (ph_lstm.c picks them at run time; this file is compiled with
 * -mavx512f). The cell is ph_vec_math.h's at 16 lanes: the same operations lane by lane,
 * so the same bits.
 *
 * It gives the portable kernel's bits: a 16-float vector holds two rows' 8-column block
 * of the packed layout, each half summing its row's products in the portable lanes'
 * order (lane j: columns k = j mod 8, increasing k), and the halves are combined by the
 * same ph_lanes_sum8. What it gains is width: a block of 8 rows is 4 loads and 8
 * operations instead of 8 and 16, and in runs two frames go side by side, each block's
 * weights loaded once for both. Matrices packed as bfloat16 pairs (PhPackedMatrix.pairs)
 * load half the bytes and expand each word to two floats with a mask and a shift,
 * exactly. */
#include "ph_lstm_private.h"

#include <immintrin.h>

/* ---- the 16-lane instance of ph_vec_math.h, for the cell ------------------------------ */

typedef float PhVec16 __attribute__ ((vector_size (16 * sizeof (float))));
typedef gint32 PhVecI16 __attribute__ ((vector_size (16 * sizeof (gint32))));

PH_INLINE PhVec16
ph_vec16_set1 (float x)
{
  return (PhVec16) _mm512_set1_ps (x);
}

/* x > hi ? hi : x and x < lo ? lo : x in one instruction each (NaN stays x, as there). */
#define PH_VEC_CLAMP(x, lo, hi) \
  ((PhVec16) _mm512_max_ps ((__m512) (lo), _mm512_min_ps ((__m512) (hi), (__m512) (x))))

#define PH_VEC PhVec16
#define PH_VECI PhVecI16
#define PH_VEC_LANES 16
#define PH_VEC_FN(name) ph_vec16_##name
#include "ph_vec_math.h"

void
ph_lstm_cell_forward_avx512 (float *gates, const float *peep, const float *c_prev, float *c,
                             float *tanh_c, float *h, guint hidden)
{
  ph_vec16_cell_forward (gates, peep, c_prev, c, tanh_c, h, hidden);
}

/* ---- the product -------------------------------------------------------------------- */

/* The 64 weights of one packed block as four vectors of two rows each: rows (0, 1),
 * (2, 3), (4, 5), (6, 7). `block` indexes the matrix's blocks. (Named vectors rather
 * than arrays throughout: gcc keeps arrays of vectors in memory.) */
PH_INLINE void
load_block (const PhPackedMatrix *m, gboolean pairs, gsize block, __m512 *r01, __m512 *r23,
            __m512 *r45, __m512 *r67)
{
  if (pairs)
    {
      const __m512i high = _mm512_set1_epi32 ((int) 0xffff0000u);
      __m512i q0 = _mm512_load_si512 (m->pairs + block * 32);
      __m512i q1 = _mm512_load_si512 (m->pairs + block * 32 + 16);

      *r01 = _mm512_castsi512_ps (_mm512_and_si512 (q0, high));
      *r23 = _mm512_castsi512_ps (_mm512_slli_epi32 (q0, 16));
      *r45 = _mm512_castsi512_ps (_mm512_and_si512 (q1, high));
      *r67 = _mm512_castsi512_ps (_mm512_slli_epi32 (q1, 16));
    }
  else
    {
      const float *w = m->w + block * 64;

      *r01 = _mm512_load_ps (w);
      *r23 = _mm512_load_ps (w + 16);
      *r45 = _mm512_load_ps (w + 32);
      *r67 = _mm512_load_ps (w + 48);
    }
}

/* x's block b (8 floats) in both halves. */
PH_INLINE __m512
load_x_block (const float *x, guint b)
{
  __m256d block = _mm256_loadu_pd ((const double *) (x + 8 * b));

  return _mm512_castpd_ps (_mm512_broadcast_f64x4 (block));
}

/* y[0..8) = base[0..8) + the 8 rows' sums, from the four two-row accumulators: the
 * lanes are combined as ph_lanes_sum8 does, ((0+4)+(1+5))+((2+6)+(3+7)), four rows
 * per 512-bit operation. */
PH_INLINE void
store_group (float *y, const float *base, __m512 a01, __m512 a23, __m512 a45, __m512 a67)
{
  /* f: each 128-bit lane one row's lanes j + (j + 4), rows 0-3 and 4-7. */
  __m512 f03 = _mm512_add_ps (_mm512_shuffle_f32x4 (a01, a23, 0x88),
                              _mm512_shuffle_f32x4 (a01, a23, 0xdd));
  __m512 f47 = _mm512_add_ps (_mm512_shuffle_f32x4 (a45, a67, 0x88),
                              _mm512_shuffle_f32x4 (a45, a67, 0xdd));
  /* Lane k: (f0+f1, f2+f3) of row k, then of row k + 4. */
  __m512 pairs = _mm512_add_ps (_mm512_shuffle_ps (f03, f47, _MM_SHUFFLE (2, 0, 2, 0)),
                                _mm512_shuffle_ps (f03, f47, _MM_SHUFFLE (3, 1, 3, 1)));
  /* Lane k: the sums of row k and row k + 4. */
  __m512 sums = _mm512_add_ps (_mm512_shuffle_ps (pairs, pairs, _MM_SHUFFLE (2, 0, 2, 0)),
                               _mm512_shuffle_ps (pairs, pairs, _MM_SHUFFLE (3, 1, 3, 1)));
  const __m512i row_order = _mm512_setr_epi32 (0, 4, 8, 12, 1, 5, 9, 13,
                                               0, 0, 0, 0, 0, 0, 0, 0);
  __m256 rows = _mm512_castps512_ps256 (_mm512_permutexvar_ps (row_order, sums));

  ph_vec_store (y, ph_vec_load (base) + (PhVec) rows);
}

/* One job: a group of 8 rows against one frame's x. */
typedef struct {
  guint group;
  const float *x;
  float *y;
  const float *base;
} GroupJob;

#define MUL_ADD(acc, w, x) (acc) = _mm512_add_ps ((acc), _mm512_mul_ps ((w), (x)))

/* One group of rows against one frame (ja), or against two frames side by side (ja and
 * jb, `two`), its weights loaded once for both. The flags are constants at every call,
 * so that each combination compiles to its own branch-free loop. */
PH_INLINE void
run_jobs (const PhPackedMatrix *m, gboolean pairs, const GroupJob *ja, const GroupJob *jb,
          gboolean two)
{
  __m512 a01 = _mm512_setzero_ps (), a23 = a01, a45 = a01, a67 = a01;
  __m512 b01 = a01, b23 = a01, b45 = a01, b67 = a01;

  for (guint b = 0; b < m->blocks; b++)
    {
      __m512 w01, w23, w45, w67, x = load_x_block (ja->x, b);

      load_block (m, pairs, (gsize) ja->group * m->blocks + b, &w01, &w23, &w45, &w67);
      MUL_ADD (a01, w01, x), MUL_ADD (a23, w23, x);
      MUL_ADD (a45, w45, x), MUL_ADD (a67, w67, x);
      if (two)
        {
          x = load_x_block (jb->x, b);
          MUL_ADD (b01, w01, x), MUL_ADD (b23, w23, x);
          MUL_ADD (b45, w45, x), MUL_ADD (b67, w67, x);
        }
    }
  store_group (ja->y, ja->base, a01, a23, a45, a67);
  if (two)
    store_group (jb->y, jb->base, b01, b23, b45, b67);
}

static GroupJob
group_job (const PhRunProduct *p, guint group, guint t)
{
  guint r = group * PH_PACK_ROWS;
  GroupJob job = { group, p->x + t * p->x_stride, p->y + t * p->y_stride + r,
                   p->base + t * p->base_stride + r };
  return job;
}

/* Each group against the run's frames two at a time, its weights loaded once for both
 * (and in L1 meanwhile). A single frame, the recurrence, is a group at a time: two
 * groups side by side, eight sums in flight, measured no faster, even with the pair's
 * blocks interleaved into one stream. (The single frame has a loop of its own, which
 * the run's loop would also do: measured 5% faster.) */
PH_INLINE void
product (const PhPackedMatrix *m, gboolean pairs, const PhRunProduct *p)
{
  if (p->n_frames == 1)
    {
      for (guint g = 0; g < m->groups; g++)
        {
          GroupJob job = group_job (p, g, 0);
          run_jobs (m, pairs, &job, &job, FALSE);
        }
      return;
    }
  for (guint g = 0; g < m->groups; g++)
    {
      guint t = 0;

      for (; t + 2 <= p->n_frames; t += 2)
        {
          GroupJob ja = group_job (p, g, t), jb = group_job (p, g, t + 1);
          run_jobs (m, pairs, &ja, &jb, TRUE);
        }
      if (t < p->n_frames)
        {
          GroupJob ja = group_job (p, g, t);
          run_jobs (m, pairs, &ja, &ja, FALSE);
        }
    }
}

void
ph_packed_product_avx512 (const PhPackedMatrix *m, const PhRunProduct *p)
{
  if (m->pairs != NULL)
    product (m, TRUE, p);
  else
    product (m, FALSE, p);
}
