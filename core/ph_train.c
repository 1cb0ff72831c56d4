/* ph_train.c: truncated BPTT(k1, k2) over a ring of stored activations, and optimizers.
 *
 * llm.c style: forward and backward are small functions over raw float *; backward
 * accumulates (+=) into a gradient block with the parameters' flat layout, and the
 * optimizer moments share that layout, so an update is one flat loop.
 *
 * Each stream keeps its carried state (h, c per layer) and a ring of its last frames'
 * activations. An update backpropagates through the stored frames with the current
 * weights (Williams & Peng: the stored history is not recomputed):
 *   k2 >= k1 (and FRAMEWISE, SENTENCE): one backward pass over the last k2 stored frames
 *            (all stored frames for the presets) with the losses of the frames stepped
 *            since the previous update;
 *   k2 <  k1: one backward chain per loss frame over that frame and the k2 - 1 before it,
 *            reaching into the previous chunk (the ring holds k1 + k2 - 1 frames), so
 *            every error travels exactly k2 frames unless the sequence starts sooner.
 * FRAMEWISE with max_window reaches back max_window frames; SENTENCE with max_window
 * updates whenever max_window frames are pending, i.e. becomes BPTT(max_window, same).
 * A chunk's loss is the mean cross-entropy over its targeted frames in all streams; a
 * chunk without any is no update. The loss gradient is clipped, then the L2 terms are
 * added; a non-finite gradient skips the update (weights and stats untouched).
 * With threads > 1 the streams are split into `threads` contiguous groups, each with its
 * own gradient block, summed in group order: deterministic for a given thread count.
 * Dropout (config.dropout > 0) masks what each layer passes up, never the recurrent
 * path; the masks are stored with the frame, drawn from a generator per stream.
 *
 * Speed (bench/run): the kernels are ph_lstm_private.h's vector code. The backward
 * pass runs the recurrence frame by frame (cell, dh = W^T dz) but defers the weight
 * gradients: each frame records its gate gradients and where its inputs are, and every
 * REC_CAPACITY frames (and at the end of a job) one small GEMM per weight matrix adds
 * all their outer products, so a gradient matrix is read and written once per many
 * frames rather than once per frame. Forward steps of a small model run on the calling
 * thread, where a pool hand-off would cost more than the step. */
#include "ph_train.h"
#include "ph_error.h"
#include "ph_lstm_private.h"
#include "ph_random.h"

#include <math.h>
#include <string.h>

#define MAX_STEPS 1000000u          /* k1, k2, max_window */
#define MAX_BATCH 65536u
#define MAX_THREADS 256u
#define MAX_RING_FLOATS ((gsize) 1 << 30) /* 4 GiB of stored activations */
#define INITIAL_CAPACITY 64u        /* frames, for the growing rings of the presets */
#define REC_CAPACITY 128u           /* backward frames whose weight gradients are deferred */
#define PARALLEL_FORWARD_MACS ((gsize) 1 << 21) /* per group and frame, see trainer_feed */

/* Per layer and frame, in units of H floats: h', c', gates (i f g o), c, tanh c, h. */
enum {
  LAYER_H_PREV = 0,
  LAYER_C_PREV = 1,
  LAYER_GATES = 2,
  LAYER_C = 6,
  LAYER_TANH_C = 7,
  LAYER_H = 8,
  LAYER_UNITS = 9,
};

/* Where each stored activation sits in one ring slot, in floats. */
typedef struct {
  gsize x;                     /* normalised input [input_dim] */
  gsize layer[PH_MAX_LAYERS];  /* LAYER_UNITS * H per layer */
  gsize y;                     /* softmax output [output_dim] */
  gboolean dropout;            /* with dropout, per layer: */
  gsize dropped[PH_MAX_LAYERS]; /* h after dropout [H], the layer above's input */
  gsize keep[PH_MAX_LAYERS];   /* each unit's factor, 0 or 1 / (1 - p) [H] */
  gsize stride;
} SlotLayout;

typedef struct {
  float *state;          /* carried h then c per layer: [L][2][H] */
  float *ring;           /* [capacity][stride] */
  gint *ring_target;     /* [capacity]: the (delayed) target of each stored output */
  guint capacity, max_capacity, head, n_stored;
  guint n_new;           /* frames stepped since the last update: the loss frames */
  gint *delay_queue;     /* [delay]: targets waiting for their output step */
  guint64 rng;           /* the dropout masks' generator (ph_random.h) */
  guint64 steps;         /* steps since the sequence start, padding included */
  float *last_features;  /* [input_dim] raw, repeated for the delay padding */
} Stream;

/* Scratch and a gradient block for one group of streams. */
typedef struct {
  guint first, end;      /* streams [first, end) */
  float *grad;           /* the trainer's block for group 0, own_grad otherwise */
  float *own_grad;
  PhLstmParams grad_params;
  float *dh_rec, *dc_rec;  /* [L][H]: gradients arriving from the next step */
  float *dh, *dlogits;     /* [H], [output_dim] */
  float *dropped_grad;     /* [H]: a gradient on its way back through a dropout mask */
  /* Deferred weight gradients: each backward frame records its gate gradients and
   * where its inputs are; outer_flush adds all their outer products at once. */
  guint n_rec, n_out_rec;
  float *rec_dz;           /* [REC_CAPACITY][L][4H]: gate pre-activation gradients */
  const float **rec_in;    /* [REC_CAPACITY][L]: each layer's input at that frame */
  const float **rec_h_prev; /* [REC_CAPACITY][L] */
  float *rec_dlogits;      /* [REC_CAPACITY][output_dim], targeted frames only */
  const float **rec_h_top; /* [REC_CAPACITY] */
  double loss_sum;
  guint64 targeted, correct;
} Worker;

typedef enum {
  JOB_FORWARD,
  JOB_BACKWARD,
} JobKind;

struct _PhTrainer {
  PhModel *model;
  PhTrainConfig config;
  SlotLayout layout;
  guint k1, k2;          /* effective; G_MAXUINT = unbounded */
  Stream *streams;
  guint n_streams;
  float *grad, *opt_m, *opt_v, *anchor;
  guint64 adam_steps;
  guint chunk_fed;       /* feeds since the last update */
  Worker *workers;
  guint n_workers;
  GThreadPool *pool;
  GMutex lock;
  GCond done;
  guint pending;
  struct {
    JobKind kind;
    const float *features;
    const gint *targets;
    const gboolean *active;
    float scale;
  } job;
  float *pad_features;   /* [B][input_dim] */
  gint *pad_targets;     /* [B] */
  gboolean *pad_active;  /* [B] */
  PhTrainStats stats;
};

/* ---- configuration ---------------------------------------------------------------- */

/* Defaults as documented in ph_train.h. */
void
ph_train_config_init (PhTrainConfig *config)
{
  g_return_if_fail (config != NULL);
  memset (config, 0, sizeof *config);
  config->schedule = PH_SCHEDULE_TRUNCATED;
  config->k1 = 20;
  config->k2 = 20;
  config->optimizer = PH_OPTIMIZER_ADAM;
  config->learning_rate = 1e-3f;
  config->momentum = 0.9f;
  config->beta2 = 0.999f;
  config->epsilon = 1e-8f;
  config->clip_norm = 1.0f;
  config->batch_size = 1;
  config->threads = 1;
}

static gboolean
check_steps (guint value, const char *field, GError **error)
{
  if (value >= 1 && value <= MAX_STEPS)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
               "training config: %s = %u, expected 1..%u frames", field, value, MAX_STEPS);
  return FALSE;
}

static gboolean
check_nonnegative (float value, const char *field, GError **error)
{
  if (isfinite (value) && value >= 0.0f)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
               "training config: %s = %g, expected a finite value >= 0", field, value);
  return FALSE;
}

static gboolean
check_unit (float value, const char *field, GError **error)
{
  if (isfinite (value) && value >= 0.0f && value < 1.0f)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
               "training config: %s = %g, expected 0 <= %s < 1", field, value, field);
  return FALSE;
}

static gboolean
check_range (guint value, guint max, const char *field, GError **error)
{
  if (value >= 1 && value <= max)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
               "training config: %s = %u, expected 1..%u", field, value, max);
  return FALSE;
}

/* FALSE with a GError naming the bad field. */
gboolean
ph_train_config_validate (const PhTrainConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  if ((guint) config->schedule > PH_SCHEDULE_SENTENCE)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "training config: schedule = %d, expected 0 (truncated), 1 (framewise) "
                   "or 2 (sentence)", (int) config->schedule);
      return FALSE;
    }
  if (config->schedule == PH_SCHEDULE_TRUNCATED
      && !(check_steps (config->k1, "k1", error) && check_steps (config->k2, "k2", error)))
    return FALSE;
  if ((guint) config->optimizer > PH_OPTIMIZER_ADAM)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "training config: optimizer = %d, expected 0 (sgd), 1 (momentum) or "
                   "2 (adam)", (int) config->optimizer);
      return FALSE;
    }
  if (!isfinite (config->learning_rate) || !(config->learning_rate > 0.0f))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "training config: learning_rate = %g, expected a finite value > 0",
                   config->learning_rate);
      return FALSE;
    }
  if (!check_unit (config->momentum, "momentum", error))
    return FALSE;
  if (config->optimizer == PH_OPTIMIZER_ADAM)
    {
      if (!check_unit (config->beta2, "beta2", error))
        return FALSE;
      if (!isfinite (config->epsilon) || !(config->epsilon > 0.0f))
        {
          g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                       "training config: epsilon = %g, expected a finite value > 0",
                       config->epsilon);
          return FALSE;
        }
    }
  if (!check_nonnegative (config->clip_norm, "clip_norm", error)
      || !check_nonnegative (config->weight_decay, "weight_decay", error)
      || !check_nonnegative (config->anchor_weight, "anchor_weight", error))
    return FALSE;
  if (!check_unit (config->dropout, "dropout", error))
    return FALSE;
  if (!check_range (config->batch_size, MAX_BATCH, "batch_size", error)
      || !check_range (config->threads, MAX_THREADS, "threads", error))
    return FALSE;
  if (config->max_window > MAX_STEPS)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "training config: max_window = %u, expected 0 (no cap) or 1..%u frames",
                   config->max_window, MAX_STEPS);
      return FALSE;
    }
  return TRUE;
}

/* ---- stored frames ------------------------------------------------------------------ */

static void
slot_layout_init (SlotLayout *layout, const PhLstmShape *shape, gboolean dropout)
{
  gsize off = 0;

  memset (layout, 0, sizeof *layout);
  layout->x = off;
  off += shape->input_dim;
  for (guint l = 0; l < shape->num_layers; l++)
    {
      layout->layer[l] = off;
      off += (gsize) LAYER_UNITS * shape->hidden_size;
    }
  layout->y = off;
  off += shape->output_dim;
  layout->dropout = dropout;
  for (guint l = 0; l < shape->num_layers && dropout; l++)
    {
      layout->dropped[l] = off;
      layout->keep[l] = off + shape->hidden_size;
      off += 2 * (gsize) shape->hidden_size;
    }
  layout->stride = off;
}

/* What layer l passes up (to the layer above or the output layer) at a stored frame:
 * its h, or with dropout its h after the mask. */
static inline const float *
layer_output (const SlotLayout *layout, const float *slot, guint l, gsize H)
{
  return layout->dropout ? slot + layout->dropped[l] : slot + layout->layer[l] + LAYER_H * H;
}

/* Layer l's dropout mask at a stored frame, NULL without dropout. */
static inline const float *
layer_keep (const SlotLayout *layout, const float *slot, guint l)
{
  return layout->dropout ? slot + layout->keep[l] : NULL;
}

/* The next uniform value in [0, 1) of a stream's generator (ph_random.h). */
static inline float
stream_uniform (Stream *st)
{
  return ph_random_float (&st->rng);
}

/* Inverted dropout of one layer's h at one frame: draws the mask into `keep` and writes
 * the masked h into `dropped`. */
static void
drop_units (Stream *st, float p, const float *h, float *dropped, float *keep, gsize H)
{
  float scale = 1.0f / (1.0f - p);

  for (gsize j = 0; j < H; j++)
    {
      keep[j] = stream_uniform (st) < p ? 0.0f : scale;
      dropped[j] = h[j] * keep[j];
    }
}

static gboolean
stream_init (Stream *st, const PhLstmShape *shape, const SlotLayout *layout, guint capacity,
             guint max_capacity)
{
  memset (st, 0, sizeof *st);
  st->capacity = capacity;
  st->max_capacity = max_capacity;
  st->ring = g_try_malloc0_n ((gsize) capacity * layout->stride, sizeof (float));
  st->ring_target = g_try_malloc0_n (capacity, sizeof (gint));
  st->state = g_new0 (float, 2 * (gsize) shape->num_layers * shape->hidden_size);
  st->delay_queue = g_new0 (gint, MAX (shape->delay, 1));
  st->last_features = g_new0 (float, shape->input_dim);
  return st->ring != NULL && st->ring_target != NULL;
}

static void
stream_clear (Stream *st, const PhLstmShape *shape)
{
  memset (st->state, 0, sizeof (float) * 2 * shape->num_layers * shape->hidden_size);
  st->head = st->n_stored = st->n_new = 0;
  st->steps = 0;
}

static void
stream_free (Stream *st)
{
  g_free (st->state);
  g_free (st->ring);
  g_free (st->ring_target);
  g_free (st->delay_queue);
  g_free (st->last_features);
}

/* Physical slot index of the frame `age` frames after the oldest stored one. */
static inline guint
stream_index (const Stream *st, guint age)
{
  return (guint) (((gsize) st->head + age) % st->capacity);
}

static inline float *
stream_slot (const Stream *st, const SlotLayout *layout, guint age)
{
  return st->ring + (gsize) stream_index (st, age) * layout->stride;
}

/* Doubles a growing ring (up to max_capacity), oldest frame first; FALSE if it cannot. */
static gboolean
stream_grow (Stream *st, const SlotLayout *layout)
{
  if (st->capacity >= st->max_capacity)
    return FALSE;

  guint cap = (guint) MIN ((gsize) st->capacity * 2, (gsize) st->max_capacity);
  float *ring = g_try_malloc_n ((gsize) cap * layout->stride, sizeof (float));
  gint *target = g_try_malloc_n (cap, sizeof (gint));

  if (ring == NULL || target == NULL)
    {
      g_free (ring);
      g_free (target);
      return FALSE;
    }
  for (guint a = 0; a < st->n_stored; a++)
    {
      memcpy (ring + (gsize) a * layout->stride, stream_slot (st, layout, a),
              sizeof (float) * layout->stride);
      target[a] = st->ring_target[stream_index (st, a)];
    }
  g_free (st->ring);
  g_free (st->ring_target);
  st->ring = ring;
  st->ring_target = target;
  st->capacity = cap;
  st->head = 0;
  return TRUE;
}

/* Makes room for one more frame (growing, or dropping the oldest) and returns its index. */
static guint
stream_push (Stream *st, const SlotLayout *layout)
{
  if (st->n_stored == st->capacity && !stream_grow (st, layout))
    {
      st->head = (st->head + 1) % st->capacity;
      st->n_stored--;
    }
  st->n_stored++;
  st->n_new = MIN (st->n_new + 1, st->n_stored);
  return stream_index (st, st->n_stored - 1);
}

/* The target that applies to this step's output: the one fed `delay` steps ago. */
static gint
stream_delay_target (Stream *st, guint delay, gint target)
{
  if (delay == 0)
    return target;

  guint slot = (guint) (st->steps % delay);
  gint out = st->steps >= delay ? st->delay_queue[slot] : -1;

  st->delay_queue[slot] = target;
  return out;
}

/* One forward step of a stream, storing every activation the backward pass needs. The
 * arithmetic is ph_lstm_step's, kernel for kernel (with dropout, plus the masks). */
static void
stream_step (Stream *st, const PhModel *model, const SlotLayout *layout, float dropout,
             const float *features, gint target)
{
  const PhLstmShape *shape = &model->shape;
  gsize H = shape->hidden_size;
  guint index = stream_push (st, layout);
  float *slot = st->ring + (gsize) index * layout->stride;
  const float *in = slot + layout->x;

  if (target < -1 || target >= (gint) shape->output_dim)
    target = -1; /* not a phone index: no loss, as documented for -1 */
  memcpy (st->last_features, features, sizeof (float) * shape->input_dim);
  ph_normalise_input (slot + layout->x, features, model->norm_mean, model->norm_scale,
                      shape->input_dim);
  for (guint l = 0; l < shape->num_layers; l++)
    {
      const PhLstmLayerParams *p = &model->params.layer[l];
      float *a = slot + layout->layer[l];
      float *h_state = st->state + 2 * l * H, *c_state = h_state + H;

      memcpy (a + LAYER_H_PREV * H, h_state, sizeof (float) * H);
      memcpy (a + LAYER_C_PREV * H, c_state, sizeof (float) * H);
      ph_lstm_gates (p, ph_lstm_layer_input_dim (shape, l), (guint) H, in,
                     a + LAYER_H_PREV * H, a + LAYER_GATES * H);
      ph_lstm_cell_forward (a + LAYER_GATES * H, p->peep, a + LAYER_C_PREV * H,
                            a + LAYER_C * H, a + LAYER_TANH_C * H, a + LAYER_H * H, (guint) H);
      memcpy (h_state, a + LAYER_H * H, sizeof (float) * H);
      memcpy (c_state, a + LAYER_C * H, sizeof (float) * H);
      if (layout->dropout)
        drop_units (st, dropout, a + LAYER_H * H, slot + layout->dropped[l],
                    slot + layout->keep[l], H);
      in = layer_output (layout, slot, l, H);
    }
  ph_lstm_output (&model->params, shape, in, slot + layout->y);
  st->ring_target[index] = stream_delay_target (st, shape->delay, target);
  st->steps++;
}

/* ---- backward kernels ------------------------------------------------------------- */

/* dx[k] += sum_r w[r][k] dz[r], r in increasing order for every k (element-wise the
 * same sums whatever the vector width). Four rows per pass over dx. */
PH_SIMD_CLONES static void
matvec_t_add (float *dx, const float *w, const float *dz, guint rows, guint cols)
{
  guint full = cols / PH_LANES * PH_LANES, r = 0;

  for (; r + 4 <= rows; r += 4)
    {
      const float *w0 = w + (gsize) r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
      PhVec d0 = ph_vec_set1 (dz[r]), d1 = ph_vec_set1 (dz[r + 1]);
      PhVec d2 = ph_vec_set1 (dz[r + 2]), d3 = ph_vec_set1 (dz[r + 3]);

      for (guint k = 0; k < full; k += PH_LANES)
        {
          PhVec v = ph_vec_load (dx + k);
          v += ph_vec_load (w0 + k) * d0;
          v += ph_vec_load (w1 + k) * d1;
          v += ph_vec_load (w2 + k) * d2;
          v += ph_vec_load (w3 + k) * d3;
          ph_vec_store (dx + k, v);
        }
      for (guint k = full; k < cols; k++)
        dx[k] = (((dx[k] + w0[k] * dz[r]) + w1[k] * dz[r + 1]) + w2[k] * dz[r + 2])
                + w3[k] * dz[r + 3];
    }
  for (; r < rows; r++)
    {
      const float *w0 = w + (gsize) r * cols;
      PhVec d0 = ph_vec_set1 (dz[r]);

      for (guint k = 0; k < full; k += PH_LANES)
        ph_vec_store (dx + k, ph_vec_load (dx + k) + ph_vec_load (w0 + k) * d0);
      for (guint k = full; k < cols; k++)
        dx[k] += w0[k] * dz[r];
    }
}

/* dw[r][k] += sum_n d_n[r] x_n[k] over n records (d_n = d + n * d_stride, x_n =
 * x[n * x_stride]) for rows [r, r + 4) and columns [k, k + 16): the block stays in
 * registers (named, so that it does) while the records stream by. Each element sums
 * in record order, as in the other block shapes below. */
PH_INLINE void
outer_block4x16 (float *dw, guint cols, guint k, const float *d, gsize d_stride,
                 const float *const *x, gsize x_stride, guint n)
{
  float *r0 = dw + k, *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
  PhVec a0 = ph_vec_load (r0), b0 = ph_vec_load (r0 + 8), a1 = ph_vec_load (r1);
  PhVec b1 = ph_vec_load (r1 + 8), a2 = ph_vec_load (r2), b2 = ph_vec_load (r2 + 8);
  PhVec a3 = ph_vec_load (r3), b3 = ph_vec_load (r3 + 8);

  for (guint m = 0; m < n; m++)
    {
      const float *xm = x[m * x_stride] + k, *dm = d + m * d_stride;
      PhVec x0 = ph_vec_load (xm), x1 = ph_vec_load (xm + 8);
      PhVec d0 = ph_vec_set1 (dm[0]), d1 = ph_vec_set1 (dm[1]);
      PhVec d2 = ph_vec_set1 (dm[2]), d3 = ph_vec_set1 (dm[3]);

      a0 += d0 * x0, b0 += d0 * x1;
      a1 += d1 * x0, b1 += d1 * x1;
      a2 += d2 * x0, b2 += d2 * x1;
      a3 += d3 * x0, b3 += d3 * x1;
    }
  ph_vec_store (r0, a0), ph_vec_store (r0 + 8, b0);
  ph_vec_store (r1, a1), ph_vec_store (r1 + 8, b1);
  ph_vec_store (r2, a2), ph_vec_store (r2 + 8, b2);
  ph_vec_store (r3, a3), ph_vec_store (r3 + 8, b3);
}

/* As outer_block4x16 for 4 rows and 8 columns. */
PH_INLINE void
outer_block4x8 (float *dw, guint cols, guint k, const float *d, gsize d_stride,
                const float *const *x, gsize x_stride, guint n)
{
  float *r0 = dw + k, *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
  PhVec a0 = ph_vec_load (r0), a1 = ph_vec_load (r1), a2 = ph_vec_load (r2);
  PhVec a3 = ph_vec_load (r3);

  for (guint m = 0; m < n; m++)
    {
      const float *dm = d + m * d_stride;
      PhVec x0 = ph_vec_load (x[m * x_stride] + k);

      a0 += ph_vec_set1 (dm[0]) * x0;
      a1 += ph_vec_set1 (dm[1]) * x0;
      a2 += ph_vec_set1 (dm[2]) * x0;
      a3 += ph_vec_set1 (dm[3]) * x0;
    }
  ph_vec_store (r0, a0), ph_vec_store (r1, a1), ph_vec_store (r2, a2), ph_vec_store (r3, a3);
}

/* One row, columns [k, k + 8). */
PH_INLINE void
outer_block1x8 (float *dw, guint k, const float *d, gsize d_stride, const float *const *x,
                gsize x_stride, guint n)
{
  PhVec a = ph_vec_load (dw + k);

  for (guint m = 0; m < n; m++)
    a += ph_vec_set1 (d[m * d_stride]) * ph_vec_load (x[m * x_stride] + k);
  ph_vec_store (dw + k, a);
}

/* One element. */
PH_INLINE void
outer_element (float *dw, guint k, const float *d, gsize d_stride, const float *const *x,
               gsize x_stride, guint n)
{
  float a = dw[k];

  for (guint m = 0; m < n; m++)
    a += d[m * d_stride] * x[m * x_stride][k];
  dw[k] = a;
}

/* dw[r][k] += sum_n d_n[r] x_n[k]: the outer products of n frames as one matrix
 * product, so that dw is read and written once per n frames instead of once per frame
 * (a small GEMM, with the block sizes above). */
PH_SIMD_CLONES static void
outer_gemm (float *dw, guint rows, guint cols, const float *d, gsize d_stride,
            const float *const *x, gsize x_stride, guint n)
{
  guint k16 = cols / 16 * 16, k8 = cols / 8 * 8, r = 0;

  for (; r + 4 <= rows; r += 4)
    {
      float *dw_r = dw + (gsize) r * cols;
      for (guint k = 0; k < k16; k += 16)
        outer_block4x16 (dw_r, cols, k, d + r, d_stride, x, x_stride, n);
      if (k16 < k8)
        outer_block4x8 (dw_r, cols, k16, d + r, d_stride, x, x_stride, n);
      for (guint i = 0; i < 4; i++)
        for (guint k = k8; k < cols; k++)
          outer_element (dw_r + (gsize) i * cols, k, d + r + i, d_stride, x, x_stride, n);
    }
  for (; r < rows; r++)
    {
      float *dw_r = dw + (gsize) r * cols;
      for (guint k = 0; k < k8; k += 8)
        outer_block1x8 (dw_r, k, d + r, d_stride, x, x_stride, n);
      for (guint k = k8; k < cols; k++)
        outer_element (dw_r, k, d + r, d_stride, x, x_stride, n);
    }
}

/* Backward through one cell. `a` is the layer's stored block; dh is dL/dh at this step,
 * dc enters as dL/dc from the next step and leaves as dL/dc'. Writes the gate
 * pre-activation gradients dz (i f g o) and accumulates the peephole gradients. */
static void
lstm_cell_backward (const float *a, const float *peep, const float *dh, float *dc, float *dz,
                    float *dpeep, guint hidden)
{
  const float *c_prev = a + LAYER_C_PREV * hidden, *gates = a + LAYER_GATES * hidden;
  const float *c = a + LAYER_C * hidden, *tanh_c = a + LAYER_TANH_C * hidden;
  const float *p_i = peep, *p_f = peep + hidden, *p_o = peep + 2 * hidden;

  for (guint j = 0; j < hidden; j++)
    {
      float i = gates[j], f = gates[hidden + j], g = gates[2 * hidden + j];
      float o = gates[3 * hidden + j], tc = tanh_c[j], cp = c_prev[j];
      float dzo = dh[j] * tc * o * (1.0f - o);
      float dcj = dc[j] + dh[j] * o * (1.0f - tc * tc) + dzo * p_o[j];
      float dzi = dcj * g * i * (1.0f - i);
      float dzf = dcj * cp * f * (1.0f - f);
      float dzg = dcj * i * (1.0f - g * g);

      dz[j] = dzi;
      dz[hidden + j] = dzf;
      dz[2 * hidden + j] = dzg;
      dz[3 * hidden + j] = dzo;
      dc[j] = dcj * f + dzi * p_i[j] + dzf * p_f[j];
      dpeep[j] += dzi * cp;
      dpeep[hidden + j] += dzf * cp;
      dpeep[2 * hidden + j] += dzo * c[j];
    }
}

/* Cross-entropy of one stored output; sets *correct when the argmax is the target. */
static double
frame_loss (const float *y, guint n, gint target, gboolean *correct)
{
  guint best = 0;

  for (guint k = 1; k < n; k++)
    if (y[k] > y[best])
      best = k;
  *correct = (gint) best == target;
  return -log (MAX ((double) y[target], 1e-30));
}

/* dlogits = (y - onehot(target)) * scale: the softmax + cross-entropy gradient. */
static void
softmax_xent_backward (float *dlogits, const float *y, guint n, gint target, float scale)
{
  for (guint k = 0; k < n; k++)
    dlogits[k] = y[k] * scale;
  dlogits[target] -= scale;
}

/* ---- backward over stored frames -------------------------------------------------- */

static void
worker_init (Worker *w, const PhLstmShape *shape, float *grad)
{
  gsize H = shape->hidden_size, L = shape->num_layers;

  memset (w, 0, sizeof *w);
  w->grad = grad;
  ph_lstm_params_bind (&w->grad_params, shape, grad);
  w->dh_rec = g_new0 (float, L * H);
  w->dc_rec = g_new0 (float, L * H);
  w->dh = g_new0 (float, H);
  w->dlogits = g_new0 (float, shape->output_dim);
  w->dropped_grad = g_new0 (float, H);
  w->rec_dz = g_new0 (float, REC_CAPACITY * L * 4 * H);
  w->rec_in = g_new0 (const float *, REC_CAPACITY * L);
  w->rec_h_prev = g_new0 (const float *, REC_CAPACITY * L);
  w->rec_dlogits = g_new0 (float, REC_CAPACITY * shape->output_dim);
  w->rec_h_top = g_new0 (const float *, REC_CAPACITY);
}

static void
worker_clear (Worker *w)
{
  g_free (w->own_grad);
  g_free (w->dh_rec);
  g_free (w->dc_rec);
  g_free (w->dh);
  g_free (w->dlogits);
  g_free (w->dropped_grad);
  g_free (w->rec_dz);
  g_free (w->rec_in);
  g_free (w->rec_h_prev);
  g_free (w->rec_dlogits);
  g_free (w->rec_h_top);
}

/* Adds the outer products of every recorded frame to the weight gradients, one matrix
 * product per weight matrix, and empties the records. The records point into stored
 * frames, so this runs before any stream steps again. */
static void
outer_flush (const PhLstmShape *shape, Worker *w)
{
  guint H = shape->hidden_size, L = shape->num_layers, out = shape->output_dim;
  gsize dz_stride = (gsize) L * 4 * H;

  for (guint l = 0; l < L && w->n_rec > 0; l++)
    {
      PhLstmLayerParams *g = &w->grad_params.layer[l];
      const float *d = w->rec_dz + (gsize) l * 4 * H;

      outer_gemm (g->w_x, 4 * H, ph_lstm_layer_input_dim (shape, l), d, dz_stride,
                  w->rec_in + l, L, w->n_rec);
      outer_gemm (g->w_h, 4 * H, H, d, dz_stride, w->rec_h_prev + l, L, w->n_rec);
    }
  if (w->n_out_rec > 0)
    outer_gemm (w->grad_params.w_out, out, H, w->rec_dlogits, out, w->rec_h_top, 1,
                w->n_out_rec);
  w->n_rec = w->n_out_rec = 0;
}

/* dh += keep * (W^T dz) for a layer output that went through dropout (`keep` its
 * mask), dh += W^T dz without (keep NULL). W is [rows][cols]. */
static void
add_input_grad (Worker *w, float *dh, const float *weights, const float *dz, guint rows,
                guint cols, const float *keep)
{
  if (keep == NULL)
    {
      matvec_t_add (dh, weights, dz, rows, cols);
      return;
    }
  memset (w->dropped_grad, 0, sizeof (float) * cols);
  matvec_t_add (w->dropped_grad, weights, dz, rows, cols);
  for (guint j = 0; j < cols; j++)
    dh[j] += keep[j] * w->dropped_grad[j];
}

/* Output layer backward at one frame: gradients of b_out now and of W_out deferred
 * (recorded), and dL/dh_top (+=). h_top is the output layer's input, `keep` the top
 * layer's dropout mask (NULL without). */
static void
output_backward (const PhModel *model, Worker *w, const float *y, const float *h_top,
                 const float *keep, gint target, float scale)
{
  const PhLstmShape *shape = &model->shape;
  float *dlogits = w->rec_dlogits + (gsize) w->n_out_rec * shape->output_dim;

  softmax_xent_backward (dlogits, y, shape->output_dim, target, scale);
  for (guint k = 0; k < shape->output_dim; k++)
    w->grad_params.b_out[k] += dlogits[k];
  w->rec_h_top[w->n_out_rec++] = h_top;
  add_input_grad (w, w->dh, model->params.w_out, dlogits, shape->output_dim,
                  shape->hidden_size, keep);
}

/* One layer's backward at one frame, given dL/dh in w->dh. Records the gate gradients
 * for the deferred weight gradients, leaves the recurrent gradients for the previous
 * step in dh_rec/dc_rec and, below the first layer, the gradient for the layer
 * underneath in w->dh. */
static void
layer_backward (const PhModel *model, Worker *w, const SlotLayout *layout, const float *slot,
                guint l)
{
  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size, L = shape->num_layers;
  const PhLstmLayerParams *p = &model->params.layer[l];
  PhLstmLayerParams *g = &w->grad_params.layer[l];
  const float *a = slot + layout->layer[l];
  const float *in = l == 0 ? slot + layout->x : layer_output (layout, slot, l - 1, H);
  float *dh_rec = w->dh_rec + (gsize) l * H, *dc_rec = w->dc_rec + (gsize) l * H;
  gsize rec = (gsize) w->n_rec * L + l;
  float *dz = w->rec_dz + rec * 4 * H;

  lstm_cell_backward (a, p->peep, w->dh, dc_rec, dz, g->peep, H);
  for (guint r = 0; r < 4 * H; r++)
    g->bias[r] += dz[r];
  w->rec_in[rec] = in;
  w->rec_h_prev[rec] = a + LAYER_H_PREV * H;
  if (l > 0)
    {
      /* dL/dh of the layer below: from this layer now, plus its own recurrent part. */
      memcpy (w->dh, w->dh_rec + (gsize) (l - 1) * H, sizeof (float) * H);
      add_input_grad (w, w->dh, p->w_x, dz, 4 * H, H, layer_keep (layout, slot, l - 1));
    }
  memset (dh_rec, 0, sizeof (float) * H);
  matvec_t_add (dh_rec, p->w_h, dz, 4 * H, H);
}

/* Backpropagates from stored frame `hi` down to `lo` (ages in the ring), with the
 * losses of the targeted frames in [loss_lo, loss_hi] scaled by `scale`. Nothing flows
 * in from after `hi` nor out before `lo`: that is the truncation. */
static void
stream_backward_range (const Stream *st, const PhModel *model, const SlotLayout *layout,
                       Worker *w, guint lo, guint hi, guint loss_lo, guint loss_hi,
                       float scale)
{
  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size, top = shape->num_layers - 1;

  memset (w->dh_rec, 0, sizeof (float) * shape->num_layers * H);
  memset (w->dc_rec, 0, sizeof (float) * shape->num_layers * H);
  for (guint s = hi + 1; s-- > lo;)
    {
      const float *slot = stream_slot (st, layout, s);
      gint target = st->ring_target[stream_index (st, s)];

      memcpy (w->dh, w->dh_rec + (gsize) top * H, sizeof (float) * H);
      if (s >= loss_lo && s <= loss_hi && target >= 0)
        output_backward (model, w, slot + layout->y, layer_output (layout, slot, top, H),
                         layer_keep (layout, slot, top), target, scale);
      for (guint l = top + 1; l-- > 0;)
        layer_backward (model, w, layout, slot, l);
      if (++w->n_rec == REC_CAPACITY)
        outer_flush (shape, w);
    }
}

/* Targeted frames among the stream's loss frames (those stepped since the last update). */
static guint
stream_count_targets (const Stream *st)
{
  guint n = 0;

  for (guint s = st->n_stored - st->n_new; s < st->n_stored; s++)
    n += st->ring_target[stream_index (st, s)] >= 0;
  return n;
}

/* Adds the loss frames' cross-entropy and argmax hits to the worker's counters. */
static void
stream_loss_stats (const Stream *st, const SlotLayout *layout, guint output_dim, Worker *w)
{
  for (guint s = st->n_stored - st->n_new; s < st->n_stored; s++)
    {
      gint target = st->ring_target[stream_index (st, s)];
      gboolean correct;

      if (target < 0)
        continue;
      w->loss_sum += frame_loss (stream_slot (st, layout, s) + layout->y, output_dim, target,
                                 &correct);
      w->targeted++;
      w->correct += correct;
    }
}

/* The truncated backward of one stream's pending chunk (see the file comment). */
static void
stream_backward (const Stream *st, const PhModel *model, const SlotLayout *layout, Worker *w,
                 guint k1, guint k2, float scale)
{
  guint n = st->n_stored, first_loss = n - st->n_new;

  if (st->n_new == 0)
    return;
  if (k2 >= k1)
    {
      guint lo = n > k2 ? n - k2 : 0;
      stream_backward_range (st, model, layout, w, lo, n - 1, first_loss, n - 1, scale);
      return;
    }
  for (guint s = first_loss; s < n; s++)
    if (st->ring_target[stream_index (st, s)] >= 0)
      stream_backward_range (st, model, layout, w, s + 1 > k2 ? s + 1 - k2 : 0, s, s, s, scale);
}

/* ---- workers ------------------------------------------------------------------------ */

static void
run_job (PhTrainer *tr, Worker *w)
{
  const PhLstmShape *shape = &tr->model->shape;

  for (guint b = w->first; b < w->end; b++)
    {
      Stream *st = &tr->streams[b];

      if (tr->job.kind == JOB_FORWARD)
        {
          if (tr->job.active == NULL || tr->job.active[b])
            stream_step (st, tr->model, &tr->layout, tr->config.dropout,
                         tr->job.features + (gsize) b * shape->input_dim,
                         tr->job.targets != NULL ? tr->job.targets[b] : -1);
          continue;
        }
      stream_loss_stats (st, &tr->layout, shape->output_dim, w);
      stream_backward (st, tr->model, &tr->layout, w, tr->k1, tr->k2, tr->job.scale);
    }
  if (tr->job.kind == JOB_BACKWARD)
    outer_flush (shape, w);
}

static void
pool_func (gpointer data, gpointer user_data)
{
  PhTrainer *tr = user_data;

  run_job (tr, data);
  g_mutex_lock (&tr->lock);
  if (--tr->pending == 0)
    g_cond_signal (&tr->done);
  g_mutex_unlock (&tr->lock);
}

/* Runs tr->job on every group: group 0 on the calling thread, the others in the pool. */
static void
run_workers (PhTrainer *tr)
{
  if (tr->n_workers == 1)
    {
      run_job (tr, &tr->workers[0]);
      return;
    }
  tr->pending = tr->n_workers - 1;
  for (guint i = 1; i < tr->n_workers; i++)
    g_thread_pool_push (tr->pool, &tr->workers[i], NULL);
  run_job (tr, &tr->workers[0]);
  g_mutex_lock (&tr->lock);
  while (tr->pending > 0)
    g_cond_wait (&tr->done, &tr->lock);
  g_mutex_unlock (&tr->lock);
}

/* ---- the update ------------------------------------------------------------------- */

static double
grad_norm (const float *g, gsize n)
{
  double sum = 0.0;

  for (gsize k = 0; k < n; k++)
    sum += (double) g[k] * g[k];
  return sqrt (sum);
}

/* Scales g to global norm clip_norm when it is longer, then adds the L2 terms: decay
 * toward zero and the anchor toward the weights at ph_trainer_new. Clipping first keeps
 * the regularisers at full strength however large the loss gradient. */
static void
clip_and_regularise (PhTrainer *tr, double norm)
{
  const PhTrainConfig *cfg = &tr->config;
  gsize n = tr->model->n_params;
  const float *w = tr->model->flat;
  float *g = tr->grad;

  if (cfg->clip_norm > 0.0f && norm > cfg->clip_norm)
    {
      float s = (float) (cfg->clip_norm / norm);
      for (gsize k = 0; k < n; k++)
        g[k] *= s;
    }
  if (cfg->weight_decay > 0.0f)
    for (gsize k = 0; k < n; k++)
      g[k] += cfg->weight_decay * w[k];
  if (cfg->anchor_weight > 0.0f)
    for (gsize k = 0; k < n; k++)
      g[k] += cfg->anchor_weight * (w[k] - tr->anchor[k]);
}

static void
sgd_step (float *w, const float *g, gsize n, float lr)
{
  for (gsize k = 0; k < n; k++)
    w[k] -= lr * g[k];
}

/* v = mu v + g; w -= lr v. */
static void
momentum_step (float *w, const float *g, float *v, gsize n, float lr, float mu)
{
  for (gsize k = 0; k < n; k++)
    {
      v[k] = mu * v[k] + g[k];
      w[k] -= lr * v[k];
    }
}

/* Adam (Kingma & Ba) with bias-corrected moments; `step` counts from 1. */
static void
adam_step (float *w, const float *g, float *m, float *v, gsize n, const PhTrainConfig *cfg,
           guint64 step)
{
  float lr = cfg->learning_rate, b1 = cfg->momentum, b2 = cfg->beta2, eps = cfg->epsilon;
  float bc1 = (float) (1.0 - pow (b1, (double) step));
  float bc2 = (float) (1.0 - pow (b2, (double) step));

  for (gsize k = 0; k < n; k++)
    {
      m[k] = b1 * m[k] + (1.0f - b1) * g[k];
      v[k] = b2 * v[k] + (1.0f - b2) * g[k] * g[k];
      w[k] -= lr * (m[k] / bc1) / (sqrtf (v[k] / bc2) + eps);
    }
}

/* Clips, regularises and steps the optimizer over the flat layout. FALSE (weights
 * untouched) when the gradient is not finite, so bad input cannot poison the model. */
static gboolean
apply_update (PhTrainer *tr)
{
  const PhTrainConfig *cfg = &tr->config;
  gsize n = tr->model->n_params;
  float *w = tr->model->flat;
  double norm = grad_norm (tr->grad, n);

  tr->stats.last_grad_norm = norm;
  if (!isfinite (norm))
    return FALSE;
  clip_and_regularise (tr, norm);
  switch (cfg->optimizer)
    {
    case PH_OPTIMIZER_SGD:
      sgd_step (w, tr->grad, n, cfg->learning_rate);
      break;
    case PH_OPTIMIZER_MOMENTUM:
      momentum_step (w, tr->grad, tr->opt_m, n, cfg->learning_rate, cfg->momentum);
      break;
    case PH_OPTIMIZER_ADAM:
      adam_step (w, tr->grad, tr->opt_m, tr->opt_v, n, cfg, ++tr->adam_steps);
      break;
    }
  ph_model_weights_changed (tr->model);
  tr->stats.updates++;
  return TRUE;
}

/* Backward over every stream's pending chunk, then one update. */
static gboolean
trainer_update (PhTrainer *tr)
{
  guint64 n_targets = 0;
  gboolean updated = FALSE;

  tr->chunk_fed = 0;
  for (guint b = 0; b < tr->n_streams; b++)
    n_targets += stream_count_targets (&tr->streams[b]);
  if (n_targets > 0)
    {
      tr->job.kind = JOB_BACKWARD;
      tr->job.scale = (float) (1.0 / (double) n_targets);
      run_workers (tr);

      double loss = 0.0;
      guint64 correct = 0;
      for (guint i = 0; i < tr->n_workers; i++)
        {
          Worker *w = &tr->workers[i];
          if (i > 0)
            {
              for (gsize k = 0; k < tr->model->n_params; k++)
                tr->grad[k] += w->grad[k];
              memset (w->grad, 0, sizeof (float) * tr->model->n_params);
            }
          loss += w->loss_sum;
          correct += w->correct;
          w->loss_sum = 0.0;
          w->targeted = w->correct = 0;
        }
      updated = apply_update (tr);
      memset (tr->grad, 0, sizeof (float) * tr->model->n_params);
      if (updated) /* a skipped (non-finite) chunk must not poison the running stats */
        {
          tr->stats.targeted_frames += n_targets;
          tr->stats.correct += correct;
          tr->stats.loss_sum += loss;
          tr->stats.last_loss = loss / (double) n_targets;
        }
    }
  for (guint b = 0; b < tr->n_streams; b++)
    tr->streams[b].n_new = 0;
  return updated;
}

static gboolean
chunk_complete (const PhTrainer *tr)
{
  switch (tr->config.schedule)
    {
    case PH_SCHEDULE_FRAMEWISE:
      return TRUE;
    case PH_SCHEDULE_SENTENCE:
      /* A capped sentence becomes BPTT(max_window, max_window) past the cap. */
      return tr->config.max_window > 0 && tr->chunk_fed >= tr->config.max_window;
    case PH_SCHEDULE_TRUNCATED:
    default:
      return tr->chunk_fed >= tr->k1;
    }
}

/* Steps the active streams and runs the update when a chunk is complete. */
static gboolean
trainer_feed (PhTrainer *tr, const float *features, const gint *targets,
              const gboolean *active)
{
  tr->job.kind = JOB_FORWARD;
  tr->job.features = features;
  tr->job.targets = targets;
  tr->job.active = active;
  /* Waking the pool costs tens of microseconds; a small model's steps cost less, so
   * they run here unless each group's share of the frame is worth a hand-off. */
  if (tr->n_workers > 1
      && tr->model->n_params * (gsize) (tr->n_streams / tr->n_workers) >= PARALLEL_FORWARD_MACS)
    run_workers (tr);
  else
    for (guint i = 0; i < tr->n_workers; i++)
      run_job (tr, &tr->workers[i]);
  tr->chunk_fed++;
  return chunk_complete (tr) && trainer_update (tr);
}

/* ---- public API -------------------------------------------------------------------- */

/* Ring capacities: W = max(k1, k2), k1 + k2 - 1 when k2 < k1 (see the file comment). */
static void
ring_capacity (const PhTrainConfig *cfg, guint *initial, guint *max)
{
  if (cfg->schedule == PH_SCHEDULE_TRUNCATED)
    {
      *initial = *max = cfg->k2 >= cfg->k1 ? cfg->k2 : cfg->k1 + cfg->k2 - 1;
      return;
    }
  *max = cfg->max_window > 0 ? cfg->max_window : G_MAXUINT;
  *initial = MIN (INITIAL_CAPACITY, *max);
}

static gboolean
trainer_alloc_streams (PhTrainer *tr, GError **error)
{
  const PhLstmShape *shape = &tr->model->shape;
  guint initial, max;

  ring_capacity (&tr->config, &initial, &max);
  if ((gsize) initial * tr->layout.stride * tr->n_streams > MAX_RING_FLOATS)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "training config: storing %u frames for %u streams of this model needs "
                   "more than 4 GiB; reduce k1/k2 or batch_size", initial, tr->n_streams);
      return FALSE;
    }
  tr->streams = g_new0 (Stream, tr->n_streams);
  for (guint b = 0; b < tr->n_streams; b++)
    {
      if (!stream_init (&tr->streams[b], shape, &tr->layout, initial, max))
        {
          g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                       "training config: out of memory storing %u frames per stream; "
                       "reduce k1/k2 or batch_size", initial);
          return FALSE;
        }
      /* One generator per stream: the masks do not depend on the thread count. */
      tr->streams[b].rng = ((guint64) tr->config.seed << 32) | b;
    }
  return TRUE;
}

static gboolean
trainer_start_workers (PhTrainer *tr, GError **error)
{
  const PhLstmShape *shape = &tr->model->shape;
  gsize n = tr->model->n_params;

  tr->n_workers = MIN (tr->config.threads, tr->n_streams);
  tr->workers = g_new0 (Worker, tr->n_workers);
  for (guint i = 0; i < tr->n_workers; i++)
    {
      Worker *w = &tr->workers[i];
      float *own = i == 0 ? NULL : g_new0 (float, n);

      worker_init (w, shape, i == 0 ? tr->grad : own);
      w->own_grad = own;
      w->first = (guint) ((guint64) i * tr->n_streams / tr->n_workers);
      w->end = (guint) ((guint64) (i + 1) * tr->n_streams / tr->n_workers);
    }
  if (tr->n_workers > 1)
    tr->pool = g_thread_pool_new (pool_func, tr, (gint) tr->n_workers - 1, TRUE, error);
  return tr->n_workers == 1 || tr->pool != NULL;
}

/* A trainer that updates `model` in place (it takes a reference). */
PhTrainer *
ph_trainer_new (PhModel *model, const PhTrainConfig *config, GError **error)
{
  g_return_val_if_fail (model != NULL && config != NULL, NULL);

  if (!ph_train_config_validate (config, error) || !ph_lstm_shape_validate (&model->shape, error))
    return NULL;

  PhTrainer *tr = g_new0 (PhTrainer, 1);
  gsize n = model->n_params, B = config->batch_size;

  g_mutex_init (&tr->lock);
  g_cond_init (&tr->done);
  tr->model = ph_model_ref (model);
  tr->config = *config;
  tr->k1 = config->schedule == PH_SCHEDULE_TRUNCATED ? config->k1 : 1;
  tr->k2 = config->schedule == PH_SCHEDULE_TRUNCATED ? config->k2 : G_MAXUINT;
  tr->n_streams = config->batch_size;
  slot_layout_init (&tr->layout, &model->shape, config->dropout > 0.0f);
  tr->grad = g_new0 (float, n);
  if (config->optimizer != PH_OPTIMIZER_SGD)
    tr->opt_m = g_new0 (float, n);
  if (config->optimizer == PH_OPTIMIZER_ADAM)
    tr->opt_v = g_new0 (float, n);
  if (config->anchor_weight > 0.0f)
    tr->anchor = g_memdup2 (model->flat, sizeof (float) * n);
  tr->pad_features = g_new0 (float, B * model->shape.input_dim);
  tr->pad_targets = g_new (gint, B);
  tr->pad_active = g_new0 (gboolean, B);
  for (gsize b = 0; b < B; b++)
    tr->pad_targets[b] = -1;
  if (!trainer_alloc_streams (tr, error) || !trainer_start_workers (tr, error))
    {
      ph_trainer_free (tr);
      return NULL;
    }
  return tr;
}

/* Frees the trainer and drops its reference on the model. */
void
ph_trainer_free (PhTrainer *trainer)
{
  if (trainer == NULL)
    return;
  if (trainer->pool != NULL)
    g_thread_pool_free (trainer->pool, FALSE, TRUE);
  for (guint i = 0; trainer->workers != NULL && i < trainer->n_workers; i++)
    worker_clear (&trainer->workers[i]);
  g_free (trainer->workers);
  for (guint b = 0; trainer->streams != NULL && b < trainer->n_streams; b++)
    stream_free (&trainer->streams[b]);
  g_free (trainer->streams);
  g_free (trainer->grad);
  g_free (trainer->opt_m);
  g_free (trainer->opt_v);
  g_free (trainer->anchor);
  g_free (trainer->pad_features);
  g_free (trainer->pad_targets);
  g_free (trainer->pad_active);
  ph_model_unref (trainer->model);
  g_mutex_clear (&trainer->lock);
  g_cond_clear (&trainer->done);
  g_free (trainer);
}

/* The model being trained (owned by the trainer). */
PhModel *
ph_trainer_model (PhTrainer *trainer)
{
  g_return_val_if_fail (trainer != NULL, NULL);
  return trainer->model;
}

/* Feeds one frame per stream; TRUE when an update happened. */
gboolean
ph_trainer_feed (PhTrainer *trainer, const float *features, const gint *targets,
                 const gboolean *active)
{
  g_return_val_if_fail (trainer != NULL && features != NULL, FALSE);

  for (guint b = 0; b < trainer->n_streams; b++)
    trainer->stats.frames += active == NULL || active[b];
  return trainer_feed (trainer, features, targets, active);
}

static void
trainer_clear_streams (PhTrainer *tr)
{
  for (guint b = 0; b < tr->n_streams; b++)
    stream_clear (&tr->streams[b], &tr->model->shape);
  tr->chunk_fed = 0;
}

/* Delay padding, the pending chunk, then zero states; TRUE when an update happened. */
gboolean
ph_trainer_end_sequence (PhTrainer *trainer)
{
  g_return_val_if_fail (trainer != NULL, FALSE);

  PhTrainer *tr = trainer;
  guint in = tr->model->shape.input_dim;
  gboolean updated = FALSE, pending = FALSE, started = FALSE;

  for (guint b = 0; b < tr->n_streams; b++)
    {
      tr->pad_active[b] = tr->streams[b].steps > 0;
      started |= tr->pad_active[b];
      memcpy (tr->pad_features + (gsize) b * in, tr->streams[b].last_features,
              sizeof (float) * in);
    }
  for (guint p = 0; started && p < tr->model->shape.delay; p++)
    updated |= trainer_feed (tr, tr->pad_features, tr->pad_targets, tr->pad_active);
  for (guint b = 0; b < tr->n_streams; b++)
    pending |= tr->streams[b].n_new > 0;
  if (pending)
    updated |= trainer_update (tr);
  trainer_clear_streams (tr);
  return updated;
}

/* Drops pending frames without training and resets all states. */
void
ph_trainer_reset (PhTrainer *trainer)
{
  g_return_if_fail (trainer != NULL);
  trainer_clear_streams (trainer);
}

/* Running statistics since the trainer was made or the stats were reset. */
const PhTrainStats *
ph_trainer_stats (const PhTrainer *trainer)
{
  g_return_val_if_fail (trainer != NULL, NULL);
  return &trainer->stats;
}

/* Zeroes the running statistics. */
void
ph_trainer_reset_stats (PhTrainer *trainer)
{
  g_return_if_fail (trainer != NULL);
  memset (&trainer->stats, 0, sizeof trainer->stats);
}

/* Up to batch_size sequences in lockstep (more are taken batch_size at a time), each
 * from a zero state: pending frames of earlier feeds are trained first. */
guint
ph_trainer_train_sequences (PhTrainer *trainer, const PhSequence *sequences, guint n)
{
  g_return_val_if_fail (trainer != NULL && (n == 0 || sequences != NULL), 0);

  PhTrainer *tr = trainer;
  guint B = tr->n_streams, in = tr->model->shape.input_dim;
  guint64 before = tr->stats.updates;
  gboolean *active = g_new0 (gboolean, B);
  gint *targets = g_new (gint, B);
  float *features = g_new0 (float, (gsize) B * in);

  for (guint b = 0; b < B; b++)
    if (tr->streams[b].steps > 0)
      {
        ph_trainer_end_sequence (tr);
        break;
      }
  for (guint first = 0; first < n; first += B)
    {
      const PhSequence *seq = sequences + first;
      guint m = MIN (B, n - first), longest = 0;

      for (guint b = 0; b < m; b++)
        longest = MAX (longest, seq[b].n_frames);
      for (guint t = 0; t < longest; t++)
        {
          for (guint b = 0; b < B; b++)
            {
              active[b] = b < m && t < seq[b].n_frames && seq[b].features != NULL;
              targets[b] = active[b] && seq[b].targets != NULL ? seq[b].targets[t] : -1;
              if (active[b])
                memcpy (features + (gsize) b * in, seq[b].features + (gsize) t * in,
                        sizeof (float) * in);
            }
          ph_trainer_feed (tr, features, targets, active);
        }
      ph_trainer_end_sequence (tr);
    }
  g_free (active);
  g_free (targets);
  g_free (features);
  return (guint) (tr->stats.updates - before);
}

/* Full-sequence backprop from a zero state; see ph_train.h. */
double
ph_lstm_sequence_loss_grad (const PhModel *model, const PhSequence *sequence,
                            float *grad_flat)
{
  g_return_val_if_fail (model != NULL && sequence != NULL && grad_flat != NULL, NAN);
  g_return_val_if_fail (sequence->n_frames == 0 || sequence->features != NULL, NAN);

  const PhLstmShape *shape = &model->shape;
  guint T = sequence->n_frames, in = shape->input_dim;
  guint n_steps = T > 0 ? T + shape->delay : 0;
  SlotLayout layout;
  Stream st;
  Worker w;
  double loss = 0.0;

  if (T == 0)
    return 0.0;
  slot_layout_init (&layout, shape, FALSE);
  if (!stream_init (&st, shape, &layout, n_steps, n_steps))
    {
      g_critical ("ph_lstm_sequence_loss_grad: out of memory for %u frames", n_steps);
      stream_free (&st);
      return NAN;
    }
  for (guint t = 0; t < n_steps; t++)
    stream_step (&st, model, &layout, 0.0f, sequence->features + (gsize) MIN (t, T - 1) * in,
                 t < T && sequence->targets != NULL ? sequence->targets[t] : -1);

  guint n_targets = stream_count_targets (&st);
  if (n_targets > 0)
    {
      worker_init (&w, shape, grad_flat);
      stream_loss_stats (&st, &layout, shape->output_dim, &w);
      stream_backward_range (&st, model, &layout, &w, 0, n_steps - 1, 0, n_steps - 1,
                             (float) (1.0 / n_targets));
      outer_flush (shape, &w);
      loss = w.loss_sum / n_targets;
      worker_clear (&w);
    }
  stream_free (&st);
  return loss;
}
