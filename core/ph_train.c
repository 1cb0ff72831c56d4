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
 * Speed (bench/run): forward steps of a small model run on the calling thread, where a
 * pool hand-off would cost more than the step; the backward pass is in
 * ph_train_backward.c, the stored frames in ph_train_frames.c. */
#include "ph_train.h"
#include "ph_train_private.h"
#include "ph_error.h"

#include <math.h>
#include <string.h>

#define MAX_STEPS 1000000u          /* k1, k2, max_window */
#define MAX_BATCH 65536u
#define MAX_THREADS 256u
#define MAX_RING_FLOATS ((gsize) 1 << 30) /* 4 GiB of stored activations */
#define INITIAL_CAPACITY 64u        /* frames, for the growing rings of the presets */
#define PARALLEL_FORWARD_MACS ((gsize) 1 << 21) /* per group and frame, see trainer_feed */

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
  guint64 total_updates; /* over the trainer's life (stats.updates can be reset) */
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
            ph_train_stream_step (st, tr->model, &tr->layout, tr->config.dropout,
                                  tr->job.features + (gsize) b * shape->input_dim,
                                  tr->job.targets != NULL ? tr->job.targets[b] : -1);
          continue;
        }
      ph_train_stream_loss_stats (st, &tr->layout, shape->output_dim, w);
      ph_train_stream_backward (st, tr->model, &tr->layout, w, tr->k1, tr->k2, tr->job.scale);
    }
  if (tr->job.kind == JOB_BACKWARD)
    ph_train_worker_flush (shape, w);
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
  tr->total_updates++;
  return TRUE;
}

/* TRUE once config.max_updates updates are done: later chunks are not trained. */
static gboolean
update_limit_reached (const PhTrainer *tr)
{
  return tr->config.max_updates > 0 && tr->total_updates >= tr->config.max_updates;
}

/* Backward over every stream's pending chunk, then one update. */
static gboolean
trainer_update (PhTrainer *tr)
{
  guint64 n_targets = 0;
  gboolean updated = FALSE;

  tr->chunk_fed = 0;
  for (guint b = 0; b < tr->n_streams; b++)
    n_targets += ph_train_stream_count_targets (&tr->streams[b]);
  if (n_targets > 0 && !update_limit_reached (tr))
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
      if (!ph_train_stream_init (&tr->streams[b], shape, &tr->layout, initial, max))
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

      ph_train_worker_init (w, shape, i == 0 ? tr->grad : own);
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
  ph_train_slot_layout_init (&tr->layout, &model->shape, config->dropout > 0.0f);
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
    ph_train_worker_clear (&trainer->workers[i]);
  g_free (trainer->workers);
  for (guint b = 0; trainer->streams != NULL && b < trainer->n_streams; b++)
    ph_train_stream_free (&trainer->streams[b]);
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
    ph_train_stream_clear (&tr->streams[b], &tr->model->shape);
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
  for (guint first = 0; first < n && !update_limit_reached (tr); first += B)
    {
      const PhSequence *seq = sequences + first;
      guint m = MIN (B, n - first), longest = 0;

      for (guint b = 0; b < m; b++)
        longest = MAX (longest, seq[b].n_frames);
      for (guint t = 0; t < longest && !update_limit_reached (tr); t++)
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
