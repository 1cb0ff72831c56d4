/* ph_lstm.c: the LSTM's parameter layout and shape limits, and streaming inference,
 * one frame at a time, no allocation per step.
 *
 * The kernels below are shared with the trainer (ph_lstm_private.h) so that training
 * sees exactly the activations inference computes. Sums run in a fixed order (eight
 * interleaved partial sums, combined pairwise) and the nonlinearities are our own
 * vector code, so results do not depend on the CPU or on the vector width, and
 * forward_sequence is bit-identical to stepping.
 *
 * Speed (bench/run): a step is bound by streaming the weights through the core, so it
 * runs on a repacked copy of them (see "the step's kernels" below); the row-major
 * kernels here are the trainer's, and sigmoid/tanh/exp run eight units at a time
 * instead of calling libm per unit. */
#include "ph_lstm.h"
#include "ph_lstm_private.h"
#include "ph_error.h"

#include <math.h>
#include <string.h>

/* Shape limits sized for speech (docs/model-format.md): 1024 cells is 8x the default
 * model and as wide as published LSTM acoustic models go; the feature extractor gives
 * at most (127 + 1) * 2 = 256 values per frame. */
#define PH_MAX_HIDDEN 1024
#define PH_MAX_INPUT_DIM 256

/* ---- the matrix-vector product -------------------------------------------------------
 * Each output is dot(w_row, x) in one fixed order: lane j of a PhVec sums the products
 * k = j (mod 8) in increasing k (the last, partial block zero-padded), then the lanes
 * are combined ((0+4)+(1+5))+((2+6)+(3+7)). The gates add two such products, W_x x and
 * W_h h_prev, to the bias (ph_lstm_gates). Eight rows go
 * together so that x is loaded once for eight rows, eight sums are in flight (enough
 * to hide the add latency) and their lanes are combined with a few shuffles; the order
 * of each sum is the same however rows are grouped and whatever the vector width, which
 * is what lets the step's packed kernels below reproduce these bits. */

/* Row r's zero-padded last block: a full vector load reads into the next row, whose
 * products meet the zeros of x_tail and add nothing; the matrix's last row is copied. */
PH_INLINE PhVec
tail_block (const float *w_row_tail, guint rem, gboolean last_row)
{
  return last_row ? ph_vec_load_partial (w_row_tail, rem) : ph_vec_load (w_row_tail);
}

/* One matrix (or one part of a row-split matrix) in the 8-row layout. */
typedef struct {
  const float *w;  /* the block's first row */
  const float *x;
  PhVec x_tail;    /* x's last partial block, zero-padded */
  guint cols, full;
  gboolean last_block; /* the block holds the matrix's last row: no reading past it */
} RowsPart;

static inline RowsPart
rows_part (const float *w, const float *x, guint cols)
{
  guint full = cols / PH_LANES * PH_LANES;
  RowsPart p = { w, x, ph_vec_load_partial (x + full, cols - full), cols, full, FALSE };
  return p;
}

/* Eight rows side by side, added into a0..a7 (named, so that they stay in registers).
 * A macro rather than a function: gcc keeps eight vector arguments passed by address in
 * memory. */
#define ACCUMULATE_ROWS8(p, a0, a1, a2, a3, a4, a5, a6, a7)                              \
  do                                                                                     \
    {                                                                                    \
      const float *w0 = (p).w, *w1 = w0 + (p).cols, *w2 = w1 + (p).cols;                 \
      const float *w3 = w2 + (p).cols, *w4 = w3 + (p).cols, *w5 = w4 + (p).cols;        \
      const float *w6 = w5 + (p).cols, *w7 = w6 + (p).cols;                              \
      for (guint k = 0; k < (p).full; k += PH_LANES)                                     \
        {                                                                                \
          PhVec xv = ph_vec_load ((p).x + k);                                            \
          a0 += ph_vec_load (w0 + k) * xv;                                               \
          a1 += ph_vec_load (w1 + k) * xv;                                               \
          a2 += ph_vec_load (w2 + k) * xv;                                               \
          a3 += ph_vec_load (w3 + k) * xv;                                               \
          a4 += ph_vec_load (w4 + k) * xv;                                               \
          a5 += ph_vec_load (w5 + k) * xv;                                               \
          a6 += ph_vec_load (w6 + k) * xv;                                               \
          a7 += ph_vec_load (w7 + k) * xv;                                               \
        }                                                                                \
      if ((p).full < (p).cols)                                                           \
        {                                                                                \
          guint rem = (p).cols - (p).full, f = (p).full;                                 \
          a0 += tail_block (w0 + f, rem, FALSE) * (p).x_tail;                            \
          a1 += tail_block (w1 + f, rem, FALSE) * (p).x_tail;                            \
          a2 += tail_block (w2 + f, rem, FALSE) * (p).x_tail;                            \
          a3 += tail_block (w3 + f, rem, FALSE) * (p).x_tail;                            \
          a4 += tail_block (w4 + f, rem, FALSE) * (p).x_tail;                            \
          a5 += tail_block (w5 + f, rem, FALSE) * (p).x_tail;                            \
          a6 += tail_block (w6 + f, rem, FALSE) * (p).x_tail;                            \
          a7 += tail_block (w7 + f, rem, (p).last_block) * (p).x_tail;                   \
        }                                                                                \
    }                                                                                    \
  while (0)

PH_INLINE void
matvec_row (float *y, const float *w, const float *x, PhVec x_tail, guint cols, guint full,
            gboolean last_row)
{
  PhVec a = { 0 };

  for (guint k = 0; k < full; k += PH_LANES)
    a += ph_vec_load (w + k) * ph_vec_load (x + k);
  if (full < cols)
    a += tail_block (w + full, cols - full, last_row) * x_tail;
  *y += ph_lanes_sum (a);
}

PH_SIMD_CLONES void
ph_matvec_add (float *y, const float *w, const float *x, guint rows, guint cols)
{
  RowsPart p = rows_part (w, x, cols);
  guint r = 0;

  for (; r + 8 <= rows; r += 8)
    {
      PhVec a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
      PhVec a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };

      p.w = w + (gsize) r * cols;
      p.last_block = r + 8 == rows;
      ACCUMULATE_ROWS8 (p, a0, a1, a2, a3, a4, a5, a6, a7);
      ph_vec_store (y + r, ph_vec_load (y + r) + ph_lanes_sum8 (a0, a1, a2, a3, a4, a5, a6, a7));
    }
  for (; r < rows; r++)
    matvec_row (y + r, w + (gsize) r * cols, x, p.x_tail, cols, p.full, r + 1 == rows);
}

void
ph_normalise_input (float *x_norm, const float *x, const float *mean, const float *scale,
                    guint dim)
{
  for (guint k = 0; k < dim; k++)
    x_norm[k] = (x[k] - mean[k]) * scale[k];
}

/* gates = (bias + W_x x) + W_h h_prev: each row's input part is summed and reduced on its
 * own, then added to its recurrent part, summed and reduced likewise. Keeping the input
 * part separate lets the step compute it for a whole run of frames at once (see "the
 * step's kernels"); the lone rows of a 4H not divisible by 8 go through the plain
 * product. */
PH_SIMD_CLONES void
ph_lstm_gates (const PhLstmLayerParams *layer, guint in_dim, guint hidden, const float *x,
               const float *h_prev, float *gates)
{
  guint rows = 4 * hidden, r = 0;
  RowsPart px = rows_part (layer->w_x, x, in_dim), ph = rows_part (layer->w_h, h_prev, hidden);

  for (; r + 8 <= rows; r += 8)
    {
      PhVec a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
      PhVec a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };

      px.w = layer->w_x + (gsize) r * in_dim;
      ph.w = layer->w_h + (gsize) r * hidden;
      px.last_block = ph.last_block = r + 8 == rows;
      ACCUMULATE_ROWS8 (px, a0, a1, a2, a3, a4, a5, a6, a7);
      PhVec from_x = ph_vec_load (layer->bias + r) + ph_lanes_sum8 (a0, a1, a2, a3, a4, a5, a6, a7);
      PhVec b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
      PhVec b4 = { 0 }, b5 = { 0 }, b6 = { 0 }, b7 = { 0 };
      ACCUMULATE_ROWS8 (ph, b0, b1, b2, b3, b4, b5, b6, b7);
      ph_vec_store (gates + r, from_x + ph_lanes_sum8 (b0, b1, b2, b3, b4, b5, b6, b7));
    }
  for (; r < rows; r++)
    {
      float from_x = layer->bias[r];

      matvec_row (&from_x, layer->w_x + (gsize) r * in_dim, x, px.x_tail, in_dim, px.full,
                  r + 1 == rows);
      gates[r] = from_x;
      matvec_row (gates + r, layer->w_h + (gsize) r * hidden, h_prev, ph.x_tail, hidden,
                  ph.full, r + 1 == rows);
    }
}

/* ---- the cell ------------------------------------------------------------------------ */

PH_SIMD_CLONES void
ph_lstm_cell_forward (float *gates, const float *peep, const float *c_prev, float *c,
                      float *tanh_c, float *h, guint hidden)
{
  ph_vec_cell_forward (gates, peep, c_prev, c, tanh_c, h, hidden);
}

/* ---- the output ------------------------------------------------------------------------ */

PH_SIMD_CLONES void
ph_softmax (float *y, guint n)
{
  float max = y[0];
  double sum = 0.0;
  guint k = 0;

  for (guint j = 1; j < n; j++)
    max = MAX (max, y[j]);
  PhVec vmax = ph_vec_set1 (max), vsum = { 0 };
  for (; k + PH_LANES <= n; k += PH_LANES)
    {
      PhVec e = ph_vec_exp (ph_vec_load (y + k) - vmax);
      ph_vec_store (y + k, e);
      vsum += e;
    }
  sum = ph_lanes_sum (vsum);
  if (k < n)
    {
      PhVec e = ph_vec_exp (ph_vec_load_partial (y + k, n - k) - vmax);
      for (guint u = 0; k + u < n; u++)
        {
          y[k + u] = e[u];
          sum += e[u];
        }
    }
  float inv = (float) (1.0 / sum);
  for (k = 0; k < n; k++)
    y[k] *= inv;
}

void
ph_lstm_output (const PhLstmParams *params, const PhLstmShape *shape, const float *h_top,
                float *posteriors)
{
  memcpy (posteriors, params->b_out, sizeof (float) * shape->output_dim);
  ph_matvec_add (posteriors, params->w_out, h_top, shape->output_dim, shape->hidden_size);
  ph_softmax (posteriors, shape->output_dim);
}

/* ---- the step's kernels: repacked weights ---------------------------------------------
 * A step reads every weight once per frame (from L2 for the default model), so its speed
 * is how fast the weights stream through the core. Two things cut that:
 * - Repacking, once per model: rows in groups of 8 (zero rows pad the last group), each
 *   row cut into blocks of 8 columns (zero-padded), a block's 8 rows side by side, so
 *   that a group is one contiguous, cache-line-aligned stream instead of eight.
 * - Runs of frames (ph_lstm_step_frames): only W_h depends on the previous frame, so
 *   W_x x of every frame of the run is computed layer by layer before the recurrence,
 *   and W_out h after it, a group of rows at a time for all frames while its weights
 *   sit in L1. Only the recurrent matrices are streamed once per frame.
 * Every row keeps the row-major kernels' order (lane j sums the products k = j mod 8 in
 * increasing k, lanes_sum8 combines the lanes, (bias + W_x x) + W_h h), so the step gives
 * the trainer's bits for any run length (test-lstm, test-train).
 *
 * On CPUs with AVX-512 the products and the cell run in ph_lstm_avx512.c (two rows per
 * 16-float vector; 16 units at a time), with the same bits. There, a matrix whose every
 * weight is a bfloat16 value (a float whose low 16 bits are zero; `phonemes
 * round-weights` makes a model's recurrent matrices so) is packed as bfloat16 pairs,
 * half the bytes: for each block,
 * 32 words, word 16 q + i holding in its high half the weight of row 4 q + i / 8, and
 * in its low half that of row 4 q + 2 + i / 8, both at column i mod 8. Expanding a
 * word back to two floats is exact (a mask and a shift), so the arithmetic is
 * unchanged; the recurrent products, which stream from L2, read half as much.
 * PH_STEP_KERNEL=portable in the environment picks the portable kernel anyway (the
 * tests run both). */

#define RUN_FRAMES 32 /* frames per run: the scratch of a state holds this many */

typedef struct {
  PhPackedMatrix w_x[PH_MAX_LAYERS]; /* with the gate biases */
  PhPackedMatrix w_h[PH_MAX_LAYERS]; /* bias unused */
  PhPackedMatrix out;                /* W_out with b_out */
  gboolean avx512;                   /* the products run ph_packed_product_avx512 */
} StepWeights;

static guint
blocks_of (guint cols)
{
  return (cols + PH_LANES - 1) / PH_LANES;
}

static guint
padded_rows (guint rows)
{
  return (rows + PH_PACK_ROWS - 1) / PH_PACK_ROWS * PH_PACK_ROWS;
}

/* Floats of a vector of `n` values in zero-padded blocks of 8, to meet the zero-padded
 * weights. */
static gsize
padded_size (guint n)
{
  return (gsize) PH_LANES * blocks_of (n);
}

/* Packs rows x cols (row-major) and the biases (NULL: zeros). */
static void
packed_matrix_init (PhPackedMatrix *m, const float *w, guint rows, guint cols, const float *bias)
{
  m->groups = padded_rows (rows) / PH_PACK_ROWS;
  m->blocks = blocks_of (cols);
  /* Cache-line aligned, so that no 8-float block straddles two lines. */
  m->w = g_aligned_alloc0 ((gsize) m->groups * m->blocks * PH_PACK_ROWS,
                           PH_LANES * sizeof (float), 64);
  m->bias = g_new0 (float, (gsize) m->groups * PH_PACK_ROWS);
  if (bias != NULL)
    memcpy (m->bias, bias, sizeof (float) * rows);
  for (guint r = 0; r < rows; r++)
    for (guint k = 0; k < cols; k++)
      {
        guint g = r / PH_PACK_ROWS, b = k / PH_LANES;
        gsize at = (((gsize) g * m->blocks + b) * PH_PACK_ROWS + r % PH_PACK_ROWS) * PH_LANES;
        m->w[at + k % PH_LANES] = w[(gsize) r * cols + k];
      }
}

/* TRUE when every weight of m is a bfloat16 value. */
static gboolean
packed_matrix_is_bf16 (const PhPackedMatrix *m)
{
  gsize n = (gsize) m->groups * m->blocks * PH_PACK_ROWS * PH_LANES;

  for (gsize i = 0; i < n; i++)
    if (!ph_float_is_bf16 (m->w[i]))
      return FALSE;
  return TRUE;
}

/* Replaces m's floats by bfloat16 pairs (the layout above), which only the AVX-512
 * kernel reads; every weight must be a bfloat16 value. */
static void
packed_matrix_to_pairs (PhPackedMatrix *m)
{
  const gsize block_words = PH_PACK_ROWS * PH_LANES / 2;
  gsize n_blocks = (gsize) m->groups * m->blocks;

  m->pairs = g_aligned_alloc (n_blocks * block_words, sizeof (guint32), 64);
  for (gsize blk = 0; blk < n_blocks; blk++)
    for (guint word = 0; word < block_words; word++)
      {
        guint q = word / 16, i = word % 16;
        const float *rows = m->w + blk * PH_PACK_ROWS * PH_LANES + i % PH_LANES;
        guint32 high, low;

        memcpy (&high, rows + (4 * q + i / PH_LANES) * PH_LANES, sizeof high);
        memcpy (&low, rows + (4 * q + 2 + i / PH_LANES) * PH_LANES, sizeof low);
        m->pairs[blk * block_words + word] = high | low >> 16;
      }
  g_aligned_free (m->w);
  m->w = NULL;
}

static void
packed_matrix_clear (PhPackedMatrix *m)
{
  g_aligned_free (m->w);
  g_aligned_free (m->pairs);
  g_free (m->bias);
}

/* The step's kernels: AVX-512 where the CPU has AVX-512F, unless the environment asks
 * for the portable ones; see ph_lstm.h. */
const char *
ph_lstm_kernel_name (void)
{
#if defined(PH_HAVE_AVX512_STEP)
  if (g_strcmp0 (g_getenv ("PH_STEP_KERNEL"), "portable") != 0
      && __builtin_cpu_supports ("avx512f"))
    return "avx512";
#endif
  return "portable";
}

/* With the AVX-512 kernel, a matrix of bfloat16 values is read as pairs. */
static void
packed_matrix_finish (PhPackedMatrix *m, gboolean avx512)
{
  if (avx512 && packed_matrix_is_bf16 (m))
    packed_matrix_to_pairs (m);
}

static StepWeights *
step_weights_new (const PhModel *model)
{
  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size;
  StepWeights *sw = g_new0 (StepWeights, 1);

  sw->avx512 = strcmp (ph_lstm_kernel_name (), "avx512") == 0;

  for (guint l = 0; l < shape->num_layers; l++)
    {
      const PhLstmLayerParams *layer = &model->params.layer[l];

      packed_matrix_init (&sw->w_x[l], layer->w_x, 4 * H, ph_lstm_layer_input_dim (shape, l),
                          layer->bias);
      packed_matrix_init (&sw->w_h[l], layer->w_h, 4 * H, H, NULL);
      packed_matrix_finish (&sw->w_x[l], sw->avx512);
      packed_matrix_finish (&sw->w_h[l], sw->avx512);
    }
  packed_matrix_init (&sw->out, model->params.w_out, shape->output_dim, H,
                      model->params.b_out);
  packed_matrix_finish (&sw->out, sw->avx512);
  return sw;
}

void
ph_lstm_step_weights_free (gpointer step_weights)
{
  StepWeights *sw = step_weights;

  if (sw == NULL)
    return;
  for (guint l = 0; l < PH_MAX_LAYERS; l++)
    {
      packed_matrix_clear (&sw->w_x[l]);
      packed_matrix_clear (&sw->w_h[l]);
    }
  packed_matrix_clear (&sw->out);
  g_free (sw);
}

/* The model's packed weights, made on first use. Models shared between threads are
 * immutable, so once made they stay valid; the lock only orders the first makers. */
static const StepWeights *
step_weights (const PhModel *model)
{
  static GMutex lock;
  PhModel *m = (PhModel *) model;
  StepWeights *sw = g_atomic_pointer_get (&m->step_weights);

  if (G_LIKELY (sw != NULL))
    return sw;
  g_mutex_lock (&lock);
  sw = m->step_weights;
  if (sw == NULL)
    {
      sw = step_weights_new (model);
      g_atomic_pointer_set (&m->step_weights, sw);
    }
  g_mutex_unlock (&lock);
  return sw;
}

/* Makes the repacked weights now; see ph_lstm.h. */
void
ph_lstm_prepare (const PhModel *model)
{
  g_return_if_fail (model != NULL);
  step_weights (model);
}


/* A group of eight rows at a time, frame after frame while its weights are in L1. */
PH_SIMD_CLONES static void
packed_product (const PhPackedMatrix *m, const PhRunProduct *p)
{
  const gsize group_size = (gsize) m->blocks * PH_PACK_ROWS * PH_LANES;

  for (guint g = 0; g < m->groups; g++)
    for (guint t = 0; t < p->n_frames; t++)
      {
        const float *w = m->w + g * group_size, *x = p->x + t * p->x_stride;
        PhVec a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
        PhVec a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };

        for (guint b = 0; b < m->blocks; b++, w += PH_PACK_ROWS * PH_LANES)
          {
            PhVec xv = ph_vec_load (x + PH_LANES * b);
            a0 += ph_vec_load (w) * xv;
            a1 += ph_vec_load (w + 8) * xv;
            a2 += ph_vec_load (w + 16) * xv;
            a3 += ph_vec_load (w + 24) * xv;
            a4 += ph_vec_load (w + 32) * xv;
            a5 += ph_vec_load (w + 40) * xv;
            a6 += ph_vec_load (w + 48) * xv;
            a7 += ph_vec_load (w + 56) * xv;
          }
        guint r = g * PH_PACK_ROWS;
        ph_vec_store (p->y + t * p->y_stride + r,
                      ph_vec_load (p->base + t * p->base_stride + r)
                      + ph_lanes_sum8 (a0, a1, a2, a3, a4, a5, a6, a7));
      }
}

/* y = base + W x with the kernel the step weights were packed for. */
static void
run_product (const StepWeights *sw, const PhPackedMatrix *m, const PhRunProduct *p)
{
#if defined(PH_HAVE_AVX512_STEP)
  if (sw->avx512)
    {
      ph_packed_product_avx512 (m, p);
      return;
    }
#endif
  packed_product (m, p);
}

/* The cell on the state's c, with the kernel the step weights were packed for. */
static void
cell_forward (const StepWeights *sw, float *gates, const float *peep, float *c, float *tanh_c,
              float *h, guint hidden)
{
#if defined(PH_HAVE_AVX512_STEP)
  if (sw->avx512)
    {
      ph_lstm_cell_forward_avx512 (gates, peep, c, c, tanh_c, h, hidden);
      return;
    }
#endif
  ph_lstm_cell_forward (gates, peep, c, c, tanh_c, h, hidden);
}

/* ---- parameter layout ---------------------------------------------------------------- */

/* Floats in one layer's w_x, w_h, bias and peep. */
static gsize
layer_param_count (gsize in_dim, gsize hidden)
{
  return 4 * hidden * in_dim + 4 * hidden * hidden + 4 * hidden + 3 * hidden;
}

/* Number of floats in the flat parameter block for `shape`. */
gsize
ph_lstm_param_count (const PhLstmShape *shape)
{
  gsize h = shape->hidden_size, total = 0;
  for (guint l = 0; l < shape->num_layers && l < PH_MAX_LAYERS; l++)
    total += layer_param_count (l == 0 ? shape->input_dim : h, h);
  return total + (gsize) shape->output_dim * h + shape->output_dim;
}

/* Points `params` into `flat`: per layer w_x, w_h, bias, peep; then w_out, b_out.
 * Unused layers get NULL pointers. */
void
ph_lstm_params_bind (PhLstmParams *params, const PhLstmShape *shape, float *flat)
{
  gsize h = shape->hidden_size;
  float *p = flat;

  memset (params, 0, sizeof *params);
  for (guint l = 0; l < shape->num_layers && l < PH_MAX_LAYERS; l++)
    {
      gsize in_dim = l == 0 ? shape->input_dim : h;
      PhLstmLayerParams *lp = &params->layer[l];
      lp->w_x = p;
      p += 4 * h * in_dim;
      lp->w_h = p;
      p += 4 * h * h;
      lp->bias = p;
      p += 4 * h;
      lp->peep = p;
      p += 3 * h;
    }
  params->w_out = p;
  p += (gsize) shape->output_dim * h;
  params->b_out = p;
}

/* Checks sizes and limits; FALSE with a GError naming the bad field otherwise. */
gboolean
ph_lstm_shape_validate (const PhLstmShape *shape, GError **error)
{
  if (shape->num_layers < 1 || shape->num_layers > PH_MAX_LAYERS)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "num_layers is %u, expected 1..%u", shape->num_layers, PH_MAX_LAYERS);
      return FALSE;
    }
  if (shape->hidden_size < 1 || shape->hidden_size > PH_MAX_HIDDEN)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "hidden_size is %u, expected 1..%u", shape->hidden_size, PH_MAX_HIDDEN);
      return FALSE;
    }
  if (shape->input_dim < 1 || shape->input_dim > PH_MAX_INPUT_DIM)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "input_dim is %u, expected 1..%u", shape->input_dim, PH_MAX_INPUT_DIM);
      return FALSE;
    }
  if (shape->output_dim != PH_NUM_PHONES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "output_dim is %u, expected %u (the TIMIT phones)", shape->output_dim,
                   PH_NUM_PHONES);
      return FALSE;
    }
  if (shape->delay > PH_MAX_DELAY)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "delay is %u frames, expected at most %u", shape->delay, PH_MAX_DELAY);
      return FALSE;
    }
  return TRUE;
}

/* ---- the state and the step ------------------------------------------------------------ */

struct _PhLstmState {
  PhLstmShape shape;
  float *h[PH_MAX_LAYERS]; /* [H] each, zero-padded to whole blocks: the W_h product's x */
  float *c[PH_MAX_LAYERS]; /* [H] each */
  /* Scratch for a run of up to RUN_FRAMES frames. */
  float *inputs;     /* [RUN_FRAMES][input_stride]: the layer's inputs, padded */
  gsize input_stride;
  float *from_x;     /* [RUN_FRAMES][gate_rows]: bias + W_x x of each frame */
  float *gates;      /* [gate_rows] pre-activations, then activations */
  guint gate_rows;   /* 4H rounded up to 8 */
  float *tanh_c;     /* [H] */
  float *logits;     /* [RUN_FRAMES][out_rows] */
  guint out_rows;    /* output_dim rounded up to 8 */
  float *block;      /* the one (cache-line aligned) allocation all of the above point into */
};

/* A zeroed state for networks of `shape`. */
PhLstmState *
ph_lstm_state_new (const PhLstmShape *shape)
{
  g_return_val_if_fail (shape != NULL, NULL);
  g_return_val_if_fail (shape->num_layers >= 1 && shape->num_layers <= PH_MAX_LAYERS, NULL);
  g_return_val_if_fail (shape->input_dim > 0 && shape->hidden_size > 0, NULL);

  PhLstmState *state = g_new0 (PhLstmState, 1);
  gsize H = shape->hidden_size, L = shape->num_layers;
  float *p;

  state->shape = *shape;
  state->input_stride = padded_size (MAX (shape->input_dim, H));
  state->gate_rows = padded_rows (4 * H);
  state->out_rows = padded_rows (shape->output_dim);
  gsize n = RUN_FRAMES * state->input_stride + (RUN_FRAMES + 1) * state->gate_rows
            + RUN_FRAMES * state->out_rows + L * padded_size (H) + L * H + H;
  /* Every padded block first (all sizes whole blocks), so that none straddles two cache
   * lines. The padding of h is never written: it stays zero. */
  state->block = p = g_aligned_alloc0 (n, sizeof (float), 64);
  state->inputs = p, p += RUN_FRAMES * state->input_stride;
  state->from_x = p, p += RUN_FRAMES * state->gate_rows;
  state->gates = p, p += state->gate_rows;
  state->logits = p, p += RUN_FRAMES * state->out_rows;
  for (gsize l = 0; l < L; l++)
    state->h[l] = p, p += padded_size (H);
  for (gsize l = 0; l < L; l++)
    state->c[l] = p, p += H;
  state->tanh_c = p;
  return state;
}

/* Frees the state and its scratch. */
void
ph_lstm_state_free (PhLstmState *state)
{
  if (state == NULL)
    return;
  g_aligned_free (state->block);
  g_free (state);
}

/* Zeroes h and c (start of a new sequence). */
void
ph_lstm_state_reset (PhLstmState *state)
{
  g_return_if_fail (state != NULL);
  for (guint l = 0; l < state->shape.num_layers; l++)
    {
      memset (state->h[l], 0, sizeof (float) * state->shape.hidden_size);
      memset (state->c[l], 0, sizeof (float) * state->shape.hidden_size);
    }
}

/* Current h of `layer` (H floats), owned by the state. */
const float *
ph_lstm_state_h (const PhLstmState *state, guint layer)
{
  g_return_val_if_fail (state != NULL && layer < state->shape.num_layers, NULL);
  return state->h[layer];
}

/* Current c of `layer` (H floats), owned by the state. */
const float *
ph_lstm_state_c (const PhLstmState *state, guint layer)
{
  g_return_val_if_fail (state != NULL && layer < state->shape.num_layers, NULL);
  return state->c[layer];
}

static gboolean
shape_equal (const PhLstmShape *a, const PhLstmShape *b)
{
  return a->input_dim == b->input_dim && a->hidden_size == b->hidden_size
         && a->num_layers == b->num_layers && a->output_dim == b->output_dim;
}

/* Layer l over a run of n frames: the input parts of every frame first, then the
 * recurrence frame by frame; each frame's h replaces its input for the next layer. */
static void
layer_run (const PhModel *model, const StepWeights *sw, PhLstmState *state, guint l, guint n)
{
  guint H = model->shape.hidden_size;
  PhRunProduct from_x = { state->from_x, state->gate_rows, sw->w_x[l].bias, 0,
                        state->inputs, state->input_stride, n };

  run_product (sw, &sw->w_x[l], &from_x);
  for (guint t = 0; t < n; t++)
    {
      PhRunProduct recurrent = { state->gates, 0, state->from_x + t * state->gate_rows, 0,
                               state->h[l], 0, 1 };

      run_product (sw, &sw->w_h[l], &recurrent);
      cell_forward (sw, state->gates, model->params.layer[l].peep, state->c[l], state->tanh_c,
                    state->h[l], H);
      memcpy (state->inputs + t * state->input_stride, state->h[l],
              sizeof (float) * padded_size (H));
    }
}

/* Up to RUN_FRAMES frames through every layer and the softmax. */
static void
step_run (const PhModel *model, PhLstmState *state, const float *features, guint n,
          float *posteriors)
{
  const PhLstmShape *shape = &model->shape;
  const StepWeights *sw = step_weights (model);
  PhRunProduct logits = { state->logits, state->out_rows, sw->out.bias, 0,
                        state->inputs, state->input_stride, n };

  for (guint t = 0; t < n; t++)
    {
      float *row = state->inputs + t * state->input_stride;

      ph_normalise_input (row, features + (gsize) t * shape->input_dim, model->norm_mean,
                          model->norm_scale, shape->input_dim);
      /* The row may hold a wider layer's h from an earlier run: zero the padding. */
      memset (row + shape->input_dim, 0,
              sizeof (float) * (padded_size (shape->input_dim) - shape->input_dim));
    }
  for (guint l = 0; l < shape->num_layers; l++)
    layer_run (model, sw, state, l, n);
  run_product (sw, &sw->out, &logits);
  for (guint t = 0; t < n; t++)
    {
      float *y = posteriors + (gsize) t * shape->output_dim;

      memcpy (y, state->logits + t * state->out_rows, sizeof (float) * shape->output_dim);
      ph_softmax (y, shape->output_dim);
    }
}

/* n_frames frames, bit-identical to as many ph_lstm_step calls; see ph_lstm.h. */
void
ph_lstm_step_frames (const PhModel *model, PhLstmState *state, const float *features,
                     guint n_frames, float *posteriors)
{
  g_return_if_fail (model != NULL && state != NULL);
  g_return_if_fail (n_frames == 0 || (features != NULL && posteriors != NULL));
  g_return_if_fail (shape_equal (&model->shape, &state->shape));

  for (guint t = 0; t < n_frames; t += RUN_FRAMES)
    step_run (model, state, features + (gsize) t * model->shape.input_dim,
              MIN (RUN_FRAMES, n_frames - t), posteriors + (gsize) t * model->shape.output_dim);
}

/* One frame through every layer and the softmax; see ph_lstm.h. */
void
ph_lstm_step (const PhModel *model, PhLstmState *state, const float *features,
              float *posteriors)
{
  g_return_if_fail (model != NULL && state != NULL && features != NULL && posteriors != NULL);
  g_return_if_fail (shape_equal (&model->shape, &state->shape));
  step_run (model, state, features, 1, posteriors);
}

/* Runs `n_frames` frames from a zero state; identical to stepping frame by frame. */
void
ph_lstm_forward_sequence (const PhModel *model, const float *features, guint n_frames,
                          float *posteriors)
{
  g_return_if_fail (model != NULL);
  g_return_if_fail (n_frames == 0 || (features != NULL && posteriors != NULL));

  PhLstmState *state = ph_lstm_state_new (&model->shape);

  ph_lstm_step_frames (model, state, features, n_frames, posteriors);
  ph_lstm_state_free (state);
}
