/* test_train.c: the BPTT(k1, k2) trainer and the full-sequence gradient.
 *
 * References written here, independent of the library: a double-precision LSTM forward
 * (gate by gate) whose loss is differentiated by central finite differences, a
 * double-precision backward through a stored frame history (itself checked against the
 * finite differences), and a brute-force trainer simulation that recomputes every
 * truncated gradient as a sum of one backward chain per loss frame. */
#include "phonemes.h"
#include "test_common.h"

#include <math.h>
#include <string.h>

#define MAX_IN 16
#define MAX_H 16
#define MAX_L 2
#define MAX_B 4
#define OUT PH_NUM_PHONES

/* ---- models and data ---- */

/* A random model whose every parameter takes part (tests/test_common.h). */
static PhModel *
make_model (guint in, guint hidden, guint layers, guint delay, guint32 seed)
{
  return test_random_model (in, hidden, layers, delay, seed, 0.7, 0.5);
}

typedef struct {
  float *features;
  gint *targets;
  guint n;
} Data;

/* Random frames in [-1, 1] and random phone targets, every `gap`-th frame untargeted. */
static Data
random_data (guint in, guint n, guint gap, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  Data d = { g_new (float, (gsize) in * n), g_new (gint, n), n };

  for (gsize k = 0; k < (gsize) in * n; k++)
    d.features[k] = (float) g_rand_double_range (rand, -1, 1);
  for (guint t = 0; t < n; t++)
    d.targets[t] = gap > 0 && t % gap == gap - 1 ? -1 : g_rand_int_range (rand, 0, OUT);
  g_rand_free (rand);
  return d;
}

static void
data_free (Data *d)
{
  g_free (d->features);
  g_free (d->targets);
}

static PhSequence
as_sequence (const Data *d)
{
  PhSequence s = { d->features, d->targets, d->n };
  return s;
}

static void
sgd_config (PhTrainConfig *c, PhSchedule schedule, guint k1, guint k2, float lr)
{
  ph_train_config_init (c);
  c->schedule = schedule;
  c->k1 = k1;
  c->k2 = k2;
  c->optimizer = PH_OPTIMIZER_SGD;
  c->learning_rate = lr;
  c->clip_norm = 0.0f;
}

static PhTrainer *
trainer_new_ok (PhModel *model, const PhTrainConfig *config)
{
  GError *error = NULL;
  PhTrainer *tr = ph_trainer_new (model, config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (tr);
  return tr;
}

static double
max_abs_diff_fd (const float *a, const double *b, gsize n)
{
  double m = 0.0;
  for (gsize k = 0; k < n; k++)
    m = MAX (m, fabs ((double) a[k] - b[k]));
  return m;
}

static double
max_abs_diff_ff (const float *a, const float *b, gsize n)
{
  double m = 0.0;
  for (gsize k = 0; k < n; k++)
    m = MAX (m, fabs ((double) a[k] - b[k]));
  return m;
}

/* ---- the double-precision reference network ---- */

/* Offsets of each tensor in the flat block, computed here from the documented order:
 * per layer w_x, w_h, bias, peep; then w_out, b_out. */
typedef struct {
  guint in, H, L, delay;
  gsize wx[MAX_L], wh[MAX_L], b[MAX_L], p[MAX_L], wout, bout, n;
  double mean[MAX_IN], scale[MAX_IN];
  double *theta;
} RefNet;

static void
refnet_init (RefNet *r, const PhModel *m)
{
  gsize off = 0;

  memset (r, 0, sizeof *r);
  r->in = m->shape.input_dim;
  r->H = m->shape.hidden_size;
  r->L = m->shape.num_layers;
  r->delay = m->shape.delay;
  for (guint l = 0; l < r->L; l++)
    {
      guint in_dim = l == 0 ? r->in : r->H;
      r->wx[l] = off, off += 4 * r->H * in_dim;
      r->wh[l] = off, off += 4 * r->H * r->H;
      r->b[l] = off, off += 4 * r->H;
      r->p[l] = off, off += 3 * r->H;
    }
  r->wout = off, off += OUT * r->H;
  r->bout = off, off += OUT;
  r->n = off;
  g_assert_cmpuint (r->n, ==, m->n_params);
  r->theta = g_new (double, r->n);
  for (gsize k = 0; k < r->n; k++)
    r->theta[k] = m->flat[k];
  for (guint k = 0; k < r->in; k++)
    {
      r->mean[k] = m->norm_mean[k];
      r->scale[k] = m->norm_scale[k];
    }
}

static void
refnet_clear (RefNet *r)
{
  g_free (r->theta);
}

typedef struct {
  double h[MAX_L][MAX_H], c[MAX_L][MAX_H];
} RefState;

/* Everything one step computed, kept for the backward pass. */
typedef struct {
  double x[MAX_IN];
  double h_prev[MAX_L][MAX_H], c_prev[MAX_L][MAX_H];
  double i[MAX_L][MAX_H], f[MAX_L][MAX_H], g[MAX_L][MAX_H], o[MAX_L][MAX_H];
  double c[MAX_L][MAX_H], h[MAX_L][MAX_H];
  double y[OUT];
  gint target; /* the target of this step's output (already delayed) */
} RefFrame;

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* Pre-activation of gate q (0 i, 1 f, 2 g, 3 o) of unit j in layer l. */
static double
ref_gate (const RefNet *r, guint l, guint q, guint j, const double *x, const double *h_prev)
{
  guint in_dim = l == 0 ? r->in : r->H, row = q * r->H + j;
  double a = r->theta[r->b[l] + row];

  for (guint k = 0; k < in_dim; k++)
    a += r->theta[r->wx[l] + row * in_dim + k] * x[k];
  for (guint k = 0; k < r->H; k++)
    a += r->theta[r->wh[l] + row * r->H + k] * h_prev[k];
  return a;
}

static void
ref_step (const RefNet *r, RefState *st, const float *raw, gint target, RefFrame *fr)
{
  guint H = r->H;
  const double *x = fr->x;

  for (guint k = 0; k < r->in; k++)
    fr->x[k] = ((double) raw[k] - r->mean[k]) * r->scale[k];
  for (guint l = 0; l < r->L; l++)
    {
      const double *p = r->theta + r->p[l];
      memcpy (fr->h_prev[l], st->h[l], sizeof st->h[l]);
      memcpy (fr->c_prev[l], st->c[l], sizeof st->c[l]);
      for (guint j = 0; j < H; j++)
        {
          double cp = fr->c_prev[l][j];
          fr->i[l][j] = sigmoid (ref_gate (r, l, 0, j, x, fr->h_prev[l]) + p[j] * cp);
          fr->f[l][j] = sigmoid (ref_gate (r, l, 1, j, x, fr->h_prev[l]) + p[H + j] * cp);
          fr->g[l][j] = tanh (ref_gate (r, l, 2, j, x, fr->h_prev[l]));
          fr->c[l][j] = fr->f[l][j] * cp + fr->i[l][j] * fr->g[l][j];
          fr->o[l][j] = sigmoid (ref_gate (r, l, 3, j, x, fr->h_prev[l])
                                 + p[2 * H + j] * fr->c[l][j]);
          fr->h[l][j] = fr->o[l][j] * tanh (fr->c[l][j]);
        }
      memcpy (st->h[l], fr->h[l], sizeof st->h[l]);
      memcpy (st->c[l], fr->c[l], sizeof st->c[l]);
      x = fr->h[l];
    }
  double logits[OUT], max = -INFINITY, sum = 0.0;
  for (guint k = 0; k < OUT; k++)
    {
      logits[k] = r->theta[r->bout + k];
      for (guint j = 0; j < H; j++)
        logits[k] += r->theta[r->wout + k * H + j] * x[j];
      max = MAX (max, logits[k]);
    }
  for (guint k = 0; k < OUT; k++)
    sum += exp (logits[k] - max);
  for (guint k = 0; k < OUT; k++)
    fr->y[k] = exp (logits[k] - max) / sum;
  fr->target = target;
}

/* Runs a sequence as ph_train.h defines it: T frames plus `delay` copies of the last,
 * the target of frame t on the output of step t + delay. Returns the frames. */
static RefFrame *
ref_run_sequence (const RefNet *r, const Data *d, guint *n_steps)
{
  guint n = d->n + r->delay;
  RefFrame *frames = g_new0 (RefFrame, n);
  RefState st = { 0 };

  for (guint t = 0; t < n; t++)
    {
      gint target = t >= r->delay ? d->targets[t - r->delay] : -1;
      ref_step (r, &st, d->features + (gsize) MIN (t, d->n - 1) * r->in, target, &frames[t]);
    }
  *n_steps = n;
  return frames;
}

/* Mean cross-entropy over the targeted outputs of a sequence. */
static double
ref_sequence_loss (const RefNet *r, const Data *d)
{
  guint n, count = 0;
  RefFrame *frames = ref_run_sequence (r, d, &n);
  double loss = 0.0;

  for (guint t = 0; t < n; t++)
    if (frames[t].target >= 0)
      {
        loss -= log (frames[t].y[frames[t].target]);
        count++;
      }
  g_free (frames);
  return count > 0 ? loss / count : 0.0;
}

/* Central finite differences of ref_sequence_loss for every parameter. */
static double *
ref_fd_gradient (RefNet *r, const Data *d)
{
  const double eps = 1e-5;
  double *grad = g_new (double, r->n);

  for (gsize k = 0; k < r->n; k++)
    {
      double keep = r->theta[k];
      r->theta[k] = keep + eps;
      double up = ref_sequence_loss (r, d);
      r->theta[k] = keep - eps;
      double down = ref_sequence_loss (r, d);
      r->theta[k] = keep;
      grad[k] = (up - down) / (2 * eps);
    }
  return grad;
}

/* The gradient of `scale` * CE of frame s's output, backpropagated through the stored
 * frames s, s-1, ..., lo and no further, added to `grad`. Gate by gate, from the chain
 * rule on the equations in ph_model.h. */
static void
ref_chain (const RefNet *r, const RefFrame *frames, guint lo, guint s, double scale,
           double *grad)
{
  guint H = r->H, top = r->L - 1;
  double dh_next[MAX_L][MAX_H] = { { 0 } }, dc_next[MAX_L][MAX_H] = { { 0 } };

  g_assert_cmpint (frames[s].target, >=, 0);
  for (guint u = s + 1; u-- > lo;)
    {
      const RefFrame *fr = &frames[u];
      double dh[MAX_H], d_below[MAX_H];

      memcpy (dh, dh_next[top], sizeof dh);
      if (u == s)
        for (guint k = 0; k < OUT; k++)
          {
            double dlogit = scale * (fr->y[k] - (k == (guint) fr->target ? 1.0 : 0.0));
            grad[r->bout + k] += dlogit;
            for (guint j = 0; j < H; j++)
              {
                grad[r->wout + k * H + j] += dlogit * fr->h[top][j];
                dh[j] += dlogit * r->theta[r->wout + k * H + j];
              }
          }
      for (guint l = top + 1; l-- > 0;)
        {
          guint in_dim = l == 0 ? r->in : r->H;
          const double *x = l == 0 ? fr->x : fr->h[l - 1];
          const double *p = r->theta + r->p[l];
          double da[4][MAX_H];

          for (guint j = 0; j < H; j++)
            {
              double tc = tanh (fr->c[l][j]);
              double i = fr->i[l][j], f = fr->f[l][j], g = fr->g[l][j], o = fr->o[l][j];
              double d_o = dh[j] * tc;
              da[3][j] = d_o * o * (1 - o);
              double dc = dc_next[l][j] + dh[j] * o * (1 - tc * tc) + da[3][j] * p[2 * H + j];
              da[0][j] = dc * g * i * (1 - i);
              da[1][j] = dc * fr->c_prev[l][j] * f * (1 - f);
              da[2][j] = dc * i * (1 - g * g);
              dc_next[l][j] = dc * f + da[0][j] * p[j] + da[1][j] * p[H + j];
              grad[r->p[l] + j] += da[0][j] * fr->c_prev[l][j];
              grad[r->p[l] + H + j] += da[1][j] * fr->c_prev[l][j];
              grad[r->p[l] + 2 * H + j] += da[3][j] * fr->c[l][j];
            }
          memset (dh_next[l], 0, sizeof dh_next[l]);
          memset (d_below, 0, sizeof d_below);
          for (guint q = 0; q < 4; q++)
            for (guint j = 0; j < H; j++)
              {
                guint row = q * H + j;
                grad[r->b[l] + row] += da[q][j];
                for (guint k = 0; k < in_dim; k++)
                  {
                    grad[r->wx[l] + row * in_dim + k] += da[q][j] * x[k];
                    d_below[k] += da[q][j] * r->theta[r->wx[l] + row * in_dim + k];
                  }
                for (guint k = 0; k < H; k++)
                  {
                    grad[r->wh[l] + row * H + k] += da[q][j] * fr->h_prev[l][k];
                    dh_next[l][k] += da[q][j] * r->theta[r->wh[l] + row * H + k];
                  }
              }
          if (l > 0)
            for (guint k = 0; k < H; k++)
              dh[k] = d_below[k] + dh_next[l - 1][k];
        }
    }
}

/* Full BPTT of a whole sequence by one chain per targeted output (linearity). */
static double *
ref_chain_gradient (const RefNet *r, const Data *d)
{
  guint n, count = 0;
  RefFrame *frames = ref_run_sequence (r, d, &n);
  double *grad = g_new0 (double, r->n);

  for (guint t = 0; t < n; t++)
    count += frames[t].target >= 0;
  for (guint t = 0; t < n; t++)
    if (frames[t].target >= 0)
      ref_chain (r, frames, 0, t, 1.0 / count, grad);
  g_free (frames);
  return grad;
}

/* ---- a brute-force trainer simulation (SGD, no clipping) ---- */

typedef struct {
  GArray *frames;     /* RefFrame, since the sequence start */
  RefState state;
  guint n_new;
  guint64 steps;
  gint queue[PH_MAX_DELAY];
  float last[MAX_IN];
} RefStream;

typedef struct {
  RefNet net;
  PhSchedule schedule;
  guint k1, k2, cap, B;
  double lr;
  RefStream st[MAX_B];
  guint chunk_fed;
  guint updates;
} RefTrainer;

static void
ref_trainer_init (RefTrainer *rt, const PhModel *m, const PhTrainConfig *c)
{
  memset (rt, 0, sizeof *rt);
  refnet_init (&rt->net, m);
  rt->schedule = c->schedule;
  rt->k1 = c->k1;
  rt->k2 = c->k2;
  rt->cap = c->max_window;
  rt->B = c->batch_size;
  rt->lr = c->learning_rate;
  g_assert_cmpuint (rt->B, <=, MAX_B);
  for (guint b = 0; b < rt->B; b++)
    rt->st[b].frames = g_array_new (FALSE, TRUE, sizeof (RefFrame));
}

static void
ref_trainer_clear (RefTrainer *rt)
{
  for (guint b = 0; b < rt->B; b++)
    g_array_unref (rt->st[b].frames);
  refnet_clear (&rt->net);
}

/* The oldest frame whose activations the loss at `s` may reach, given the newest `t`. */
static guint
ref_window_start (const RefTrainer *rt, guint t, guint s)
{
  guint reach;

  if (rt->schedule == PH_SCHEDULE_TRUNCATED)
    return rt->k2 >= rt->k1 ? (t + 1 > rt->k2 ? t + 1 - rt->k2 : 0)
                            : (s + 1 > rt->k2 ? s + 1 - rt->k2 : 0);
  reach = rt->cap; /* the presets store everything, or the last max_window frames */
  return reach > 0 && t + 1 > reach ? t + 1 - reach : 0;
}

static gboolean
ref_trainer_update (RefTrainer *rt)
{
  guint count = 0;
  double *grad = g_new0 (double, rt->net.n);

  rt->chunk_fed = 0;
  for (guint b = 0; b < rt->B; b++)
    {
      RefStream *st = &rt->st[b];
      for (guint s = st->frames->len - st->n_new; s < st->frames->len; s++)
        count += g_array_index (st->frames, RefFrame, s).target >= 0;
    }
  for (guint b = 0; b < rt->B && count > 0; b++)
    {
      RefStream *st = &rt->st[b];
      guint t = st->frames->len - 1;
      for (guint s = st->frames->len - st->n_new; s < st->frames->len; s++)
        if (g_array_index (st->frames, RefFrame, s).target >= 0)
          ref_chain (&rt->net, (RefFrame *) st->frames->data, ref_window_start (rt, t, s), s,
                     1.0 / count, grad);
    }
  for (guint b = 0; b < rt->B; b++)
    rt->st[b].n_new = 0;
  for (gsize k = 0; k < rt->net.n && count > 0; k++)
    rt->net.theta[k] -= rt->lr * grad[k];
  g_free (grad);
  rt->updates += count > 0;
  return count > 0;
}

static gboolean
ref_trainer_feed (RefTrainer *rt, const float *features, const gint *targets,
                  const gboolean *active)
{
  guint d = rt->net.delay, in = rt->net.in;
  gboolean complete;

  for (guint b = 0; b < rt->B; b++)
    {
      RefStream *st = &rt->st[b];
      RefFrame fr;
      gint target;

      if (active != NULL && !active[b])
        continue;
      target = targets[b];
      if (d > 0)
        {
          gint waiting = st->steps >= d ? st->queue[st->steps % d] : -1;
          st->queue[st->steps % d] = target;
          target = waiting;
        }
      memcpy (st->last, features + b * in, sizeof (float) * in);
      ref_step (&rt->net, &st->state, features + b * in, target, &fr);
      g_array_append_val (st->frames, fr);
      st->n_new++;
      st->steps++;
    }
  rt->chunk_fed++;
  if (rt->schedule == PH_SCHEDULE_FRAMEWISE)
    complete = TRUE;
  else if (rt->schedule == PH_SCHEDULE_SENTENCE)
    complete = rt->cap > 0 && rt->chunk_fed >= rt->cap;
  else
    complete = rt->chunk_fed >= rt->k1;
  return complete && ref_trainer_update (rt);
}

static gboolean
ref_trainer_end_sequence (RefTrainer *rt)
{
  float pad[MAX_B * MAX_IN];
  gint no_targets[MAX_B] = { -1, -1, -1, -1 };
  gboolean active[MAX_B], updated = FALSE, pending = FALSE;

  for (guint b = 0; b < rt->B; b++)
    {
      active[b] = rt->st[b].steps > 0;
      memcpy (pad + b * rt->net.in, rt->st[b].last, sizeof (float) * rt->net.in);
    }
  for (guint p = 0; p < rt->net.delay; p++)
    updated |= ref_trainer_feed (rt, pad, no_targets, active);
  for (guint b = 0; b < rt->B; b++)
    pending |= rt->st[b].n_new > 0;
  if (pending)
    updated |= ref_trainer_update (rt);
  for (guint b = 0; b < rt->B; b++)
    {
      g_array_set_size (rt->st[b].frames, 0);
      memset (&rt->st[b].state, 0, sizeof (RefState));
      rt->st[b].steps = 0;
      rt->st[b].n_new = 0;
    }
  rt->chunk_fed = 0;
  return updated;
}

/* Feeds B sequences of different lengths to both the trainer and the simulation in
 * lockstep, then ends the sequence, checking after every call that both agree on
 * whether an update happened and on the weights. Returns the number of updates. */
static guint
compare_with_simulation (PhModel *model, const PhTrainConfig *config, const Data *data)
{
  PhTrainer *tr = trainer_new_ok (model, config);
  RefTrainer rt;
  guint B = config->batch_size, in = model->shape.input_dim, longest = 0;
  float features[MAX_B * MAX_IN] = { 0 };
  gint targets[MAX_B];
  gboolean active[MAX_B];
  double worst = 0.0;

  ref_trainer_init (&rt, model, config);
  for (guint b = 0; b < B; b++)
    longest = MAX (longest, data[b].n);
  for (guint t = 0; t < longest; t++)
    {
      for (guint b = 0; b < B; b++)
        {
          active[b] = t < data[b].n;
          targets[b] = active[b] ? data[b].targets[t] : 12345; /* ignored when inactive */
          if (active[b])
            memcpy (features + b * in, data[b].features + t * in, sizeof (float) * in);
        }
      gboolean got = ph_trainer_feed (tr, features, targets, active);
      gboolean want = ref_trainer_feed (&rt, features, targets, active);
      g_assert_cmpint (got, ==, want);
      worst = MAX (worst, max_abs_diff_fd (model->flat, rt.net.theta, rt.net.n));
      g_assert_cmpfloat (worst, <, 1e-6);
    }
  g_assert_cmpint (ph_trainer_end_sequence (tr), ==, ref_trainer_end_sequence (&rt));
  worst = MAX (worst, max_abs_diff_fd (model->flat, rt.net.theta, rt.net.n));
  g_test_message ("%u updates, max weight difference %.3g", rt.updates, worst);
  g_assert_cmpfloat (worst, <, 1e-6);
  g_assert_cmpuint (ph_trainer_stats (tr)->updates, ==, rt.updates);

  guint updates = rt.updates;
  ref_trainer_clear (&rt);
  ph_trainer_free (tr);
  return updates;
}

/* Weights moved by training, so that agreeing on them means something. */
static double
weight_change (const PhModel *before, const PhModel *after)
{
  double sum = 0.0;
  for (gsize k = 0; k < before->n_params; k++)
    sum += ((double) after->flat[k] - before->flat[k]) * ((double) after->flat[k] - before->flat[k]);
  return sqrt (sum);
}

/* ---- tests: configuration ---- */

static void
expect_invalid (const PhTrainConfig *c, const char *field)
{
  GError *error = NULL;

  g_assert_false (ph_train_config_validate (c, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, field));
  g_clear_error (&error);
}

static void
test_config_validate (void)
{
  PhTrainConfig c;
  GError *error = NULL;

  ph_train_config_init (&c);
  g_assert_true (ph_train_config_validate (&c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.k1, ==, 20);
  g_assert_cmpuint (c.k2, ==, 20);
  g_assert_cmpint (c.optimizer, ==, PH_OPTIMIZER_ADAM);
  g_assert_cmpfloat (c.clip_norm, ==, 1.0f);

#define BAD(stmt, field) \
  do { ph_train_config_init (&c); stmt; expect_invalid (&c, field); } while (0)
  BAD (c.k1 = 0, "k1");
  BAD (c.k2 = 0, "k2");
  BAD (c.k1 = 2000000, "k1");
  BAD (c.schedule = 7, "schedule");
  BAD (c.optimizer = 9, "optimizer");
  BAD (c.learning_rate = 0, "learning_rate");
  BAD (c.learning_rate = -1e-3f, "learning_rate");
  BAD (c.learning_rate = NAN, "learning_rate");
  BAD (c.learning_rate = INFINITY, "learning_rate");
  BAD (c.momentum = 1.0f, "momentum");
  BAD (c.beta2 = 1.5f, "beta2");
  BAD (c.epsilon = 0, "epsilon");
  BAD (c.clip_norm = -1, "clip_norm");
  BAD (c.clip_norm = INFINITY, "clip_norm");
  BAD (c.weight_decay = NAN, "weight_decay");
  BAD (c.anchor_weight = -0.1f, "anchor_weight");
  BAD (c.batch_size = 0, "batch_size");
  BAD (c.batch_size = 1000000, "batch_size");
  BAD (c.threads = 0, "threads");
  BAD (c.max_window = 5000000, "max_window");
  BAD (c.dropout = 1.0f, "dropout");
  BAD (c.dropout = -0.1f, "dropout");
  BAD (c.dropout = NAN, "dropout");
#undef BAD

  /* k1/k2 do not matter for the presets. */
  ph_train_config_init (&c);
  c.schedule = PH_SCHEDULE_SENTENCE;
  c.k1 = c.k2 = 0;
  g_assert_true (ph_train_config_validate (&c, NULL));

  /* The trainer refuses a bad config without touching the model. */
  PhModel *m = make_model (3, 4, 1, 0, 1);
  ph_train_config_init (&c);
  c.k2 = 0;
  g_assert_null (ph_trainer_new (m, &c, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (m->ref_count, ==, 1);
  ph_model_unref (m);
}

/* ---- tests: the full-sequence gradient ---- */

typedef struct {
  const char *name;
  gsize off, n;
} Tensor;

/* Per tensor: |g - g_fd| / |g_fd| (norms), which a wrong sign or a missing term makes
 * of order 1 while float rounding keeps it near 1e-6. */
static void
check_tensors (const RefNet *r, const char *what, const float *gf, const double *gd,
               const double *fd, double tolerance)
{
  Tensor t[4 * MAX_L + 2];
  guint nt = 0;

  for (guint l = 0; l < r->L; l++)
    {
      guint in_dim = l == 0 ? r->in : r->H;
      t[nt++] = (Tensor) { "w_x", r->wx[l], 4 * r->H * in_dim };
      t[nt++] = (Tensor) { "w_h", r->wh[l], 4 * r->H * r->H };
      t[nt++] = (Tensor) { "bias", r->b[l], 4 * r->H };
      t[nt++] = (Tensor) { "peep", r->p[l], 3 * r->H };
    }
  t[nt++] = (Tensor) { "w_out", r->wout, OUT * r->H };
  t[nt++] = (Tensor) { "b_out", r->bout, OUT };
  for (guint i = 0; i < nt; i++)
    {
      double diff = 0.0, norm = 0.0;
      for (gsize k = t[i].off; k < t[i].off + t[i].n; k++)
        {
          double g = gf != NULL ? gf[k] : gd[k];
          diff += (g - fd[k]) * (g - fd[k]);
          norm += fd[k] * fd[k];
        }
      double rel = sqrt (diff) / sqrt (norm);
      g_test_message ("%s: tensor %u %s |g_fd| %.3g relative error %.3g", what, i, t[i].name,
                      sqrt (norm), rel);
      g_assert_cmpfloat (norm, >, 1e-12); /* every tensor really has a gradient */
      g_assert_cmpfloat (rel, <, tolerance);
    }
}

static void
gradient_check (guint in, guint hidden, guint layers, guint delay, guint T, guint32 seed)
{
  PhModel *m = make_model (in, hidden, layers, delay, seed);
  Data d = random_data (in, T, 3, seed + 1);
  PhSequence seq = as_sequence (&d);
  RefNet r;
  float *grad = g_new0 (float, m->n_params);

  refnet_init (&r, m);
  double loss = ph_train_sequence_loss_grad (m, &seq, grad);
  double *fd = ref_fd_gradient (&r, &d);
  double *chain = ref_chain_gradient (&r, &d);

  g_assert_cmpfloat (fabs (loss - ref_sequence_loss (&r, &d)), <, 1e-5);
  /* The test's own backward first (exact in double), then the library's (float). */
  check_tensors (&r, "reference", NULL, chain, fd, 1e-6);
  check_tensors (&r, "library", grad, NULL, fd, 1e-4);

  /* It adds to the buffer rather than overwriting it. */
  float *twice = g_memdup2 (grad, sizeof (float) * m->n_params);
  ph_train_sequence_loss_grad (m, &seq, twice);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (twice[k] - 2 * grad[k]), <=, 1e-5 * fabs (grad[k]) + 1e-9);

  g_free (twice);
  g_free (fd);
  g_free (chain);
  g_free (grad);
  refnet_clear (&r);
  data_free (&d);
  ph_model_unref (m);
}

static void
test_gradient_check (void)
{
  gradient_check (3, 4, 2, 1, 6, 100);
}

static void
test_gradient_check_wide (void)
{
  /* Widths past 8 take the vectorised body of the forward kernels; no delay. */
  gradient_check (13, 9, 1, 0, 7, 200);
}

static void
test_gradient_edge_cases (void)
{
  PhModel *m = make_model (3, 4, 1, 2, 300);
  Data d = random_data (3, 4, 0, 301);
  float *grad = g_new0 (float, m->n_params);
  PhSequence seq = as_sequence (&d);

  /* No targeted frame: zero loss, nothing added. */
  for (guint t = 0; t < d.n; t++)
    d.targets[t] = -1;
  g_assert_cmpfloat (ph_train_sequence_loss_grad (m, &seq, grad), ==, 0.0);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (grad[k], ==, 0.0f);
  seq.n_frames = 0;
  g_assert_cmpfloat (ph_train_sequence_loss_grad (m, &seq, grad), ==, 0.0);

  /* Out-of-range targets count as none, like -1. */
  seq.n_frames = d.n;
  d.targets[1] = OUT;
  d.targets[2] = -7;
  g_assert_cmpfloat (ph_train_sequence_loss_grad (m, &seq, grad), ==, 0.0);

  g_free (grad);
  data_free (&d);
  ph_model_unref (m);
}

/* ---- tests: schedules against the simulation ---- */

static void
test_k1_equals_k2_equals_sequence (void)
{
  /* BPTT(T + d, T + d) on one sequence is full backprop: w - lr * grad. */
  guint T = 9, d = 2;
  PhModel *m = make_model (3, 4, 2, d, 400);
  PhModel *before = ph_model_copy (m);
  Data data = random_data (3, T, 4, 401);
  PhSequence seq = as_sequence (&data);
  PhTrainConfig c;
  float *grad = g_new0 (float, m->n_params);

  ph_train_sequence_loss_grad (before, &seq, grad);
  sgd_config (&c, PH_SCHEDULE_TRUNCATED, T + d, T + d, 0.5f);
  PhTrainer *tr = trainer_new_ok (m, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, &seq, 1), ==, 1);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - 0.5f * grad[k])), <, 1e-6);
  g_assert_cmpfloat (weight_change (before, m), >, 1e-2);

  ph_trainer_free (tr);
  g_free (grad);
  data_free (&data);
  ph_model_unref (before);
  ph_model_unref (m);
}

static void
run_schedule_case (PhSchedule schedule, guint k1, guint k2, guint max_window, guint B,
                   guint delay, const guint *lengths, guint expect_updates)
{
  PhModel *m = make_model (3, 4, 2, delay, 500 + k1 * 7 + k2);
  PhModel *before = ph_model_copy (m);
  Data data[MAX_B];
  PhTrainConfig c;

  sgd_config (&c, schedule, k1, k2, 0.3f);
  c.batch_size = B;
  c.max_window = max_window;
  for (guint b = 0; b < B; b++)
    data[b] = random_data (3, lengths[b], 5, 600 + b);
  guint updates = compare_with_simulation (m, &c, data);
  if (expect_updates > 0)
    g_assert_cmpuint (updates, ==, expect_updates);
  g_assert_cmpfloat (weight_change (before, m), >, 1e-2);

  for (guint b = 0; b < B; b++)
    data_free (&data[b]);
  ph_model_unref (before);
  ph_model_unref (m);
}

static void
test_truncated_k2_greater (void)
{
  const guint one[] = { 23 }, two[] = { 19, 12 };

  /* 23 frames + 1 padding in chunks of 3: 8 updates. */
  run_schedule_case (PH_SCHEDULE_TRUNCATED, 3, 7, 0, 1, 1, one, 8);
  run_schedule_case (PH_SCHEDULE_TRUNCATED, 2, 5, 0, 2, 0, two, 10);
}

static void
test_truncated_k2_smaller (void)
{
  const guint one[] = { 23 }, two[] = { 17, 21 };

  run_schedule_case (PH_SCHEDULE_TRUNCATED, 6, 2, 0, 1, 1, one, 4);
  run_schedule_case (PH_SCHEDULE_TRUNCATED, 5, 3, 0, 2, 2, two, 5);
}

static void
test_truncated_equal (void)
{
  const guint one[] = { 17 }, three[] = { 10, 17, 4 };

  run_schedule_case (PH_SCHEDULE_TRUNCATED, 4, 4, 0, 1, 2, one, 5);
  run_schedule_case (PH_SCHEDULE_TRUNCATED, 1, 1, 0, 3, 1, three, 0);
}

static void
test_framewise (void)
{
  /* One update per frame whose output carries a target: 12 frames, delay 1 (no target
   * on the first output), every 5th frame untargeted (frames 4 and 9): 10 updates. */
  const guint one[] = { 12 }, two[] = { 9, 6 };

  run_schedule_case (PH_SCHEDULE_FRAMEWISE, 0, 0, 0, 1, 1, one, 10);
  run_schedule_case (PH_SCHEDULE_FRAMEWISE, 0, 0, 4, 2, 0, two, 0);
}

static void
test_sentence (void)
{
  const guint one[] = { 15 }, two[] = { 11, 7 };

  run_schedule_case (PH_SCHEDULE_SENTENCE, 0, 0, 0, 1, 1, one, 1);
  run_schedule_case (PH_SCHEDULE_SENTENCE, 0, 0, 0, 2, 2, two, 1);
  /* Capped at 5 frames: BPTT(5, 5) past the cap. 11 + 2 steps: 3 updates. */
  run_schedule_case (PH_SCHEDULE_SENTENCE, 0, 0, 5, 2, 2, two, 3);
}

static void
test_sentence_long (void)
{
  /* Longer than the presets' initial ring of 64 frames: the ring grows and keeps order. */
  guint T = 150;
  PhModel *m = make_model (3, 4, 2, 2, 650);
  PhModel *before = ph_model_copy (m);
  Data data = random_data (3, T, 7, 651);
  PhSequence seq = as_sequence (&data);
  float *grad = g_new0 (float, m->n_params);
  PhTrainConfig c;

  ph_train_sequence_loss_grad (before, &seq, grad);
  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, 1.0f);
  PhTrainer *tr = trainer_new_ok (m, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, &seq, 1), ==, 1);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - grad[k])), <, 1e-6);

  ph_trainer_free (tr);
  g_free (grad);
  data_free (&data);
  ph_model_unref (before);
  ph_model_unref (m);
}

static void
test_sentence_batch_mean (void)
{
  /* The chunk loss is the mean over all targeted frames of all streams. */
  PhModel *m = make_model (3, 4, 1, 1, 700);
  PhModel *before = ph_model_copy (m);
  Data a = random_data (3, 8, 3, 701), b = random_data (3, 5, 0, 702);
  PhSequence seq[2] = { as_sequence (&a), as_sequence (&b) };
  float *ga = g_new0 (float, m->n_params), *gb = g_new0 (float, m->n_params);
  PhTrainConfig c;
  double na = 0, nb = 0;

  ph_train_sequence_loss_grad (before, &seq[0], ga);
  ph_train_sequence_loss_grad (before, &seq[1], gb);
  for (guint t = 0; t < a.n; t++)
    na += a.targets[t] >= 0;
  for (guint t = 0; t < b.n; t++)
    nb += b.targets[t] >= 0;
  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, 1.0f);
  c.batch_size = 2;
  PhTrainer *tr = trainer_new_ok (m, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, seq, 2), ==, 1);
  for (gsize k = 0; k < m->n_params; k++)
    {
      double g = (na * ga[k] + nb * gb[k]) / (na + nb);
      g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - g)), <, 1e-6);
    }
  const PhTrainStats *s = ph_trainer_stats (tr);
  g_assert_cmpuint (s->targeted_frames, ==, (guint64) (na + nb));
  g_assert_cmpuint (s->frames, ==, a.n + b.n);

  ph_trainer_free (tr);
  g_free (ga);
  g_free (gb);
  data_free (&a);
  data_free (&b);
  ph_model_unref (before);
  ph_model_unref (m);
}

/* ---- tests: clipping, optimizers, regularisation ---- */

/* One SENTENCE update on `data` with `config`; returns the gradient it used. */
static float *
one_update (PhTrainer *tr, const Data *data)
{
  PhModel *m = ph_trainer_model (tr);
  float *g = g_new0 (float, m->n_params);
  PhSequence seq = as_sequence (data);

  ph_train_sequence_loss_grad (m, &seq, g);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, &seq, 1), ==, 1);
  return g;
}

static void
test_clip (void)
{
  PhModel *m = make_model (3, 4, 2, 0, 800);
  PhModel *before = ph_model_copy (m);
  Data data = random_data (3, 10, 0, 801);
  PhSequence seq = as_sequence (&data);
  float *g = g_new0 (float, m->n_params);
  PhTrainConfig c;
  double norm = 0.0;

  ph_train_sequence_loss_grad (m, &seq, g);
  for (gsize k = 0; k < m->n_params; k++)
    norm += (double) g[k] * g[k];
  norm = sqrt (norm);
  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, 1.0f);
  c.clip_norm = (float) (0.25 * norm);
  PhTrainer *tr = trainer_new_ok (m, &c);
  ph_trainer_train_sequences (tr, &seq, 1);

  /* lr 1: the step is the clipped gradient, of norm exactly clip_norm. */
  g_assert_cmpfloat (fabs (weight_change (before, m) / c.clip_norm - 1.0), <, 1e-4);
  g_assert_cmpfloat (fabs (ph_trainer_stats (tr)->last_grad_norm / norm - 1.0), <, 1e-5);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - 0.25 * g[k])), <, 1e-6);

  /* Under the threshold the gradient is left alone. */
  ph_trainer_free (tr);
  memcpy (m->flat, before->flat, sizeof (float) * m->n_params);
  c.clip_norm = (float) (2.0 * norm);
  tr = trainer_new_ok (m, &c);
  ph_trainer_train_sequences (tr, &seq, 1);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - g[k])), <, 1e-6);

  ph_trainer_free (tr);
  g_free (g);
  data_free (&data);
  ph_model_unref (before);
  ph_model_unref (m);
}

static void
test_momentum (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 900);
  Data data = random_data (3, 8, 0, 901);
  PhTrainConfig c;

  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, 0.2f);
  c.optimizer = PH_OPTIMIZER_MOMENTUM;
  c.momentum = 0.7f;
  PhTrainer *tr = trainer_new_ok (m, &c);
  float *w0 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g1 = one_update (tr, &data);
  float *w1 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g2 = one_update (tr, &data);

  for (gsize k = 0; k < m->n_params; k++)
    {
      double v1 = g1[k], v2 = 0.7 * v1 + g2[k];
      g_assert_cmpfloat (fabs (w1[k] - (w0[k] - 0.2 * v1)), <, 1e-6);
      g_assert_cmpfloat (fabs (m->flat[k] - (w1[k] - 0.2 * v2)), <, 1e-6);
    }
  g_assert_cmpfloat (max_abs_diff_ff (g1, g2, m->n_params), >, 1e-4);

  ph_trainer_free (tr);
  g_free (w0);
  g_free (w1);
  g_free (g1);
  g_free (g2);
  data_free (&data);
  ph_model_unref (m);
}

static void
test_adam (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 1000);
  Data data = random_data (3, 8, 0, 1001);
  PhTrainConfig c;
  const double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6;

  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, (float) lr);
  c.optimizer = PH_OPTIMIZER_ADAM;
  c.momentum = (float) b1;
  c.beta2 = (float) b2;
  c.epsilon = (float) eps;
  PhTrainer *tr = trainer_new_ok (m, &c);
  float *w0 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g1 = one_update (tr, &data);
  float *w1 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g2 = one_update (tr, &data);

  for (gsize k = 0; k < m->n_params; k++)
    {
      /* Bias-corrected moments after one and after two steps. */
      double m1 = (1 - b1) * g1[k], v1 = (1 - b2) * g1[k] * g1[k];
      double step1 = lr * (m1 / (1 - b1)) / (sqrt (v1 / (1 - b2)) + eps);
      double m2 = b1 * m1 + (1 - b1) * g2[k], v2 = b2 * v1 + (1 - b2) * g2[k] * g2[k];
      double step2 = lr * (m2 / (1 - b1 * b1)) / (sqrt (v2 / (1 - b2 * b2)) + eps);
      g_assert_cmpfloat (fabs (w1[k] - (w0[k] - step1)), <, 1e-6);
      g_assert_cmpfloat (fabs (m->flat[k] - (w1[k] - step2)), <, 1e-6);
    }

  ph_trainer_free (tr);
  g_free (w0);
  g_free (w1);
  g_free (g1);
  g_free (g2);
  data_free (&data);
  ph_model_unref (m);
}

static void
test_weight_decay_and_anchor (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 1100);
  Data data = random_data (3, 8, 0, 1101);
  PhTrainConfig c;
  const double lr = 0.3, wd = 0.05, aw = 0.4;

  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, (float) lr);
  c.weight_decay = (float) wd;
  c.anchor_weight = (float) aw;
  PhTrainer *tr = trainer_new_ok (m, &c);
  float *w0 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g1 = one_update (tr, &data);
  float *w1 = g_memdup2 (m->flat, sizeof (float) * m->n_params);
  float *g2 = one_update (tr, &data);

  for (gsize k = 0; k < m->n_params; k++)
    {
      /* The anchor term is zero on the first step: the weights still are the anchor. */
      double e1 = w0[k] - lr * (g1[k] + wd * w0[k]);
      double e2 = w1[k] - lr * (g2[k] + wd * w1[k] + aw * ((double) w1[k] - w0[k]));
      g_assert_cmpfloat (fabs (w1[k] - e1), <, 1e-6);
      g_assert_cmpfloat (fabs (m->flat[k] - e2), <, 1e-6);
    }

  ph_trainer_free (tr);
  g_free (w0);
  g_free (w1);
  g_free (g1);
  g_free (g2);
  data_free (&data);
  ph_model_unref (m);
}

/* ---- tests: stats, reset, bad input, threads ---- */

static void
test_stats (void)
{
  guint T = 12, d = 1;
  PhModel *m = make_model (3, 4, 2, d, 1200);
  Data data = random_data (3, T, 4, 1201);
  PhSequence seq = as_sequence (&data);
  float *padded = g_new (float, (T + d) * 3), *post = g_new (float, (T + d) * OUT);
  PhTrainConfig c;
  double loss = 0.0;
  guint64 targeted = 0, correct = 0;

  /* Expected from the forward pass before the single update. */
  memcpy (padded, data.features, sizeof (float) * T * 3);
  memcpy (padded + T * 3, data.features + (T - 1) * 3, sizeof (float) * 3);
  ph_lstm_forward_sequence (m, padded, T + d, post);
  for (guint t = 0; t < T; t++)
    if (data.targets[t] >= 0)
      {
        const float *y = post + (t + d) * OUT;
        guint best = 0;
        for (guint k = 1; k < OUT; k++)
          best = y[k] > y[best] ? k : best;
        /* Make one frame's target the argmax so `correct` is exercised. */
        if (t == 2)
          data.targets[t] = (gint) best;
        loss -= log (y[data.targets[t]]);
        targeted++;
        correct += best == (guint) data.targets[t];
      }
  sgd_config (&c, PH_SCHEDULE_SENTENCE, 0, 0, 0.1f);
  PhTrainer *tr = trainer_new_ok (m, &c);
  ph_trainer_train_sequences (tr, &seq, 1);
  const PhTrainStats *s = ph_trainer_stats (tr);
  g_assert_cmpuint (s->updates, ==, 1);
  g_assert_cmpuint (s->frames, ==, T);
  g_assert_cmpuint (s->targeted_frames, ==, targeted);
  g_assert_cmpuint (s->correct, ==, correct);
  g_assert_cmpuint (correct, >=, 1);
  g_assert_cmpfloat (fabs (s->loss_sum - loss), <, 1e-5 * loss);
  g_assert_cmpfloat (fabs (s->last_loss - loss / targeted), <, 1e-5 * loss);
  g_assert_cmpfloat (s->last_grad_norm, >, 0.0);
  ph_trainer_reset_stats (tr);
  g_assert_cmpuint (ph_trainer_stats (tr)->frames, ==, 0);
  g_assert_cmpuint (ph_trainer_stats (tr)->updates, ==, 0);

  ph_trainer_free (tr);
  g_free (padded);
  g_free (post);
  data_free (&data);
  ph_model_unref (m);
}

static void
test_reset_drops_pending (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 1300);
  PhModel *before = ph_model_copy (m);
  Data junk = random_data (3, 4, 0, 1301), data = random_data (3, 5, 0, 1302);
  PhSequence seq = as_sequence (&data);
  float *g = g_new0 (float, m->n_params);
  PhTrainConfig c;

  sgd_config (&c, PH_SCHEDULE_TRUNCATED, 5, 5, 0.5f);
  PhTrainer *tr = trainer_new_ok (m, &c);
  for (guint t = 0; t < 4; t++)
    g_assert_false (ph_trainer_feed (tr, junk.features + t * 3, junk.targets + t, NULL));
  ph_trainer_reset (tr);
  g_assert_cmpint (memcmp (m->flat, before->flat, sizeof (float) * m->n_params), ==, 0);

  /* After the reset the next chunk starts from a zero state and counts from zero. */
  for (guint t = 0; t < 5; t++)
    g_assert_cmpint (ph_trainer_feed (tr, data.features + t * 3, data.targets + t, NULL), ==,
                     t == 4);
  ph_train_sequence_loss_grad (before, &seq, g);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (fabs (m->flat[k] - (before->flat[k] - 0.5f * g[k])), <, 1e-6);
  g_assert_false (ph_trainer_end_sequence (tr)); /* nothing pending */

  ph_trainer_free (tr);
  g_free (g);
  data_free (&junk);
  data_free (&data);
  ph_model_unref (before);
  ph_model_unref (m);
}

static void
test_non_finite_input (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 1400);
  PhModel *before = ph_model_copy (m);
  Data data = random_data (3, 6, 0, 1401);
  PhTrainConfig c;

  data.features[7] = NAN;
  ph_train_config_init (&c);
  c.k1 = c.k2 = 3;
  PhTrainer *tr = trainer_new_ok (m, &c);
  /* The chunk holding the NaN is skipped; the weights stay finite and unchanged. */
  for (guint t = 0; t < 3; t++)
    g_assert_false (ph_trainer_feed (tr, data.features + t * 3, data.targets + t, NULL));
  g_assert_false (isfinite (ph_trainer_stats (tr)->last_grad_norm));
  g_assert_cmpint (memcmp (m->flat, before->flat, sizeof (float) * m->n_params), ==, 0);
  ph_trainer_reset (tr);
  for (guint t = 3; t < 6; t++)
    ph_trainer_feed (tr, data.features + t * 3, data.targets + t, NULL);
  g_assert_cmpuint (ph_trainer_stats (tr)->updates, ==, 1);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_true (isfinite (m->flat[k]));

  ph_trainer_free (tr);
  data_free (&data);
  ph_model_unref (before);
  ph_model_unref (m);
}

/* config.max_updates stops training after exactly that many updates, however many
 * chunks a call holds: the weights are those right after the last allowed update of
 * the same run without a limit (issue 15: `train --max-updates 1` did 9). */
static void
test_max_updates_exact (void)
{
  Data data = random_data (13, 40, 4, 1700);
  PhSequence seq = as_sequence (&data);
  PhModel *limited = make_model (13, 9, 1, 2, 1701);
  PhModel *reference = ph_model_copy (limited);
  PhTrainConfig c;

  sgd_config (&c, PH_SCHEDULE_TRUNCATED, 3, 5, 0.3f);
  PhTrainer *free_run = trainer_new_ok (reference, &c);
  for (guint t = 0; ph_trainer_stats (free_run)->updates < 4; t++)
    ph_trainer_feed (free_run, data.features + (gsize) t * 13, data.targets + t, NULL);

  c.max_updates = 4;
  PhTrainer *tr = trainer_new_ok (limited, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, &seq, 1), ==, 4);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, &seq, 1), ==, 0);
  g_assert_cmpuint (ph_trainer_stats (tr)->updates, ==, 4);
  g_assert_cmpmem (limited->flat, limited->n_params * sizeof (float), reference->flat,
                   reference->n_params * sizeof (float));

  ph_trainer_free (tr);
  ph_trainer_free (free_run);
  ph_model_unref (limited);
  ph_model_unref (reference);
  data_free (&data);
}

static PhModel *
train_batch (guint threads, float dropout, guint32 seed, const Data *data)
{
  PhModel *m = make_model (13, 9, 2, 1, 1500);
  PhSequence seq[4];
  PhTrainConfig c;

  sgd_config (&c, PH_SCHEDULE_TRUNCATED, 3, 5, 0.3f);
  c.batch_size = 4;
  c.threads = threads;
  c.dropout = dropout;
  c.seed = seed;
  for (guint b = 0; b < 4; b++)
    seq[b] = as_sequence (&data[b]);
  PhTrainer *tr = trainer_new_ok (m, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, seq, 4), ==, 7);
  ph_trainer_free (tr);
  return m;
}

static void
test_threads (void)
{
  Data data[4];
  for (guint b = 0; b < 4; b++)
    data[b] = random_data (13, 10 + 3 * b, 4, 1600 + b);

  for (guint with_dropout = 0; with_dropout <= 1; with_dropout++)
    {
      float p = with_dropout ? 0.4f : 0.0f;
      PhModel *one = train_batch (1, p, 7, data);
      PhModel *two = train_batch (2, p, 7, data);
      PhModel *again = train_batch (2, p, 7, data);
      PhModel *four = train_batch (4, p, 7, data);

      /* Same math whatever the thread count (each stream draws its own dropout masks),
       * only the summation order of the groups' gradients differs; the same thread
       * count repeats bit for bit. */
      g_assert_cmpfloat (max_abs_diff_ff (one->flat, two->flat, one->n_params), <, 1e-6);
      g_assert_cmpfloat (max_abs_diff_ff (one->flat, four->flat, one->n_params), <, 1e-6);
      g_assert_cmpint (memcmp (two->flat, again->flat, sizeof (float) * two->n_params), ==, 0);
      if (with_dropout)
        {
          /* Another seed draws other masks; no dropout is another model again. */
          PhModel *reseeded = train_batch (1, p, 8, data);
          PhModel *plain = train_batch (1, 0.0f, 7, data);
          g_assert_cmpfloat (max_abs_diff_ff (one->flat, reseeded->flat, one->n_params), >, 1e-3);
          g_assert_cmpfloat (max_abs_diff_ff (one->flat, plain->flat, one->n_params), >, 1e-3);
          ph_model_unref (reseeded);
          ph_model_unref (plain);
        }
      ph_model_unref (one);
      ph_model_unref (two);
      ph_model_unref (again);
      ph_model_unref (four);
    }
  for (guint b = 0; b < 4; b++)
    data_free (&data[b]);
}

/* The loss a fresh trainer (SGD, BPTT(T + d, T + d), dropout p, mask seed 5) reports
 * for one pass over `seq` with the weights of `m`, and the weights after its one
 * update (lr 1: the update is minus the gradient). */
static double
dropout_loss (const PhModel *m, const PhSequence *seq, float p, PhModel **updated)
{
  PhModel *copy = ph_model_copy (m);
  PhTrainConfig c;

  sgd_config (&c, PH_SCHEDULE_TRUNCATED, seq->n_frames + m->shape.delay,
              seq->n_frames + m->shape.delay, 1.0f);
  c.dropout = p;
  c.seed = 5;
  PhTrainer *tr = trainer_new_ok (copy, &c);
  g_assert_cmpuint (ph_trainer_train_sequences (tr, seq, 1), ==, 1);
  double loss = ph_trainer_stats (tr)->last_loss;
  ph_trainer_free (tr);
  if (updated != NULL)
    *updated = copy;
  else
    ph_model_unref (copy);
  return loss;
}

static void
test_dropout_gradient (void)
{
  /* With dropout the masks depend on the seed only, so the loss is a function of the
   * weights again and central differences check the trainer's backward through the
   * masks, in every tensor (hidden 9: the vector bodies and the tails). */
  PhModel *m = make_model (5, 9, 2, 1, 1700);
  Data d = random_data (5, 8, 3, 1701);
  PhSequence seq = as_sequence (&d);
  PhModel *after, *plain_after;
  const float eps = 1e-2f;
  double worst = 0.0, plain_gap = 0.0;

  dropout_loss (m, &seq, 0.5f, &after);
  dropout_loss (m, &seq, 0.0f, &plain_after);
  for (gsize k = 0; k < m->n_params; k++)
    {
      PhModel *probe = ph_model_copy (m);
      float w = m->flat[k];
      probe->flat[k] = w + eps;
      double up = dropout_loss (probe, &seq, 0.5f, NULL);
      probe->flat[k] = w - eps;
      double down = dropout_loss (probe, &seq, 0.5f, NULL);
      double fd = (up - down) / (2.0 * eps), grad = (double) w - after->flat[k];

      worst = MAX (worst, fabs (fd - grad) / (1e-3 + fabs (fd)));
      plain_gap = MAX (plain_gap, fabs (grad - ((double) w - plain_after->flat[k])));
      ph_model_unref (probe);
    }
  g_test_message ("%zu parameters, worst relative error %.3g", m->n_params, worst);
  g_assert_cmpfloat (worst, <, 2e-2);
  g_assert_cmpfloat (plain_gap, >, 1e-2); /* the masks did change the gradient */

  ph_model_unref (after);
  ph_model_unref (plain_after);
  data_free (&d);
  ph_model_unref (m);
}

/* ---- tests: learning ---- */

/* A latch: input 0 pulses "set", input 1 pulses "reset", input 2 is noise; the target
 * is phone 1 while the latch is set and phone 0 otherwise. Pulses are 12..30 frames
 * apart, so with k1 = k2 = 5 the answer must come from state carried across chunks. */
static Data
latch_data (guint n, GRand *rand)
{
  Data d = { g_new0 (float, (gsize) 3 * n), g_new (gint, n), n };
  gboolean on = FALSE;
  guint next = (guint) g_rand_int_range (rand, 3, 20);

  for (guint t = 0; t < n; t++)
    {
      if (t == next)
        {
          on = g_rand_boolean (rand);
          d.features[t * 3 + (on ? 0 : 1)] = 1.0f;
          next = t + (guint) g_rand_int_range (rand, 12, 31);
        }
      d.features[t * 3 + 2] = (float) g_rand_double_range (rand, -0.3, 0.3);
      d.targets[t] = on ? 1 : 0;
    }
  return d;
}

/* Trains on `n_seq` latch sequences of 150 frames, 4 streams, BPTT(5, 5). */
static void
train_latch (PhModel *m, guint n_seq, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  PhTrainConfig c;
  guint B = 4;

  ph_train_config_init (&c);
  c.k1 = c.k2 = 5;
  c.learning_rate = 0.02f;
  c.batch_size = B;
  PhTrainer *tr = trainer_new_ok (m, &c);
  for (guint i = 0; i < n_seq; i += B)
    {
      Data d[4];
      PhSequence seq[4];
      for (guint b = 0; b < B; b++)
        {
          d[b] = latch_data (150, rand);
          seq[b] = as_sequence (&d[b]);
        }
      ph_trainer_train_sequences (tr, seq, B);
      for (guint b = 0; b < B; b++)
        data_free (&d[b]);
    }
  ph_trainer_free (tr);
  g_rand_free (rand);
}

/* Frame accuracy on fresh latch sequences; with `reset_every` > 0 the state is zeroed
 * that often, which shows how much of the answer comes from older frames. */
static double
latch_accuracy (const PhModel *m, guint reset_every, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  PhLstmState *state = ph_lstm_state_new (&m->shape);
  float y[OUT];
  guint correct = 0, total = 0;

  for (guint i = 0; i < 10; i++)
    {
      Data d = latch_data (300, rand);
      ph_lstm_state_reset (state);
      for (guint t = 0; t < d.n; t++)
        {
          guint best = 0;
          if (reset_every > 0 && t % reset_every == 0)
            ph_lstm_state_reset (state);
          ph_lstm_step (m, state, d.features + t * 3, y);
          for (guint k = 1; k < OUT; k++)
            best = y[k] > y[best] ? k : best;
          correct += best == (guint) d.targets[t];
          total++;
        }
      data_free (&d);
    }
  ph_lstm_state_free (state);
  g_rand_free (rand);
  return (double) correct / total;
}

/* The trainer's forward pass (the row-major kernels) and the step (the packed ones, in
 * runs) give the same bits: the loss the trainer reports equals, exactly, the same sum
 * taken over ph_lstm_forward_sequence's posteriors. Sizes that pad rows and columns. */
static void
test_forward_matches_step (void)
{
  const guint sizes[][3] = { { 13, 9, 2 }, { 26, 37, 2 }, { 5, 16, 1 } };

  for (guint c = 0; c < G_N_ELEMENTS (sizes); c++)
    {
      guint in = sizes[c][0], T = 45, out = PH_NUM_PHONES;
      PhModel *m = make_model (in, sizes[c][1], sizes[c][2], 0, 1800 + c);
      GRand *rand = g_rand_new_with_seed (1810 + c);
      float *x = g_new (float, (gsize) T * in), *post = g_new (float, (gsize) T * out);
      gint *targets = g_new (gint, T);
      float *grad = g_new0 (float, m->n_params);
      double sum = 0.0;

      for (guint k = 0; k < T * in; k++)
        x[k] = (float) g_rand_double_range (rand, -2, 2);
      for (guint t = 0; t < T; t++)
        targets[t] = g_rand_int_range (rand, 0, out);
      PhSequence seq = { x, targets, T };
      double trainer_loss = ph_train_sequence_loss_grad (m, &seq, grad);
      ph_lstm_forward_sequence (m, x, T, post);
      for (guint t = 0; t < T; t++)
        sum += -log (MAX ((double) post[t * out + targets[t]], 1e-30));
      g_assert_cmpfloat (trainer_loss, ==, sum / T);

      g_free (grad);
      g_free (targets);
      g_free (post);
      g_free (x);
      g_rand_free (rand);
      ph_model_unref (m);
    }
}

static void
test_learns_latch (void)
{
  PhModel *m = make_model (3, 8, 1, 0, 1700);
  for (guint k = 0; k < 3; k++)
    {
      m->norm_mean[k] = 0.0f;
      m->norm_scale[k] = 1.0f;
    }
  PhModel *copy = ph_model_copy (m);

  train_latch (m, 240, 1701);
  double accuracy = latch_accuracy (m, 0, 1702);
  double forgetful = latch_accuracy (m, 5, 1702);
  g_test_message ("latch accuracy %.3f; with the state reset every 5 frames %.3f", accuracy,
                  forgetful);
  g_assert_cmpfloat (accuracy, >=, 0.9);
  /* The answer really depends on more than a chunk of frames. */
  g_assert_cmpfloat (forgetful, <, 0.8);

  /* Deterministic for a given seed. */
  train_latch (copy, 240, 1701);
  g_assert_cmpint (memcmp (m->flat, copy->flat, sizeof (float) * m->n_params), ==, 0);

  ph_model_unref (copy);
  ph_model_unref (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/config-validate", test_config_validate);
  g_test_add_func ("/train/gradient-check", test_gradient_check);
  g_test_add_func ("/train/gradient-check-wide", test_gradient_check_wide);
  g_test_add_func ("/train/gradient-edge-cases", test_gradient_edge_cases);
  g_test_add_func ("/train/k1-k2-whole-sequence", test_k1_equals_k2_equals_sequence);
  g_test_add_func ("/train/truncated-k2-greater", test_truncated_k2_greater);
  g_test_add_func ("/train/truncated-k2-smaller", test_truncated_k2_smaller);
  g_test_add_func ("/train/truncated-equal", test_truncated_equal);
  g_test_add_func ("/train/framewise", test_framewise);
  g_test_add_func ("/train/sentence", test_sentence);
  g_test_add_func ("/train/sentence-long", test_sentence_long);
  g_test_add_func ("/train/sentence-batch-mean", test_sentence_batch_mean);
  g_test_add_func ("/train/clip", test_clip);
  g_test_add_func ("/train/momentum", test_momentum);
  g_test_add_func ("/train/adam", test_adam);
  g_test_add_func ("/train/weight-decay-anchor", test_weight_decay_and_anchor);
  g_test_add_func ("/train/stats", test_stats);
  g_test_add_func ("/train/reset", test_reset_drops_pending);
  g_test_add_func ("/train/non-finite-input", test_non_finite_input);
  g_test_add_func ("/train/threads", test_threads);
  g_test_add_func ("/train/max-updates-exact", test_max_updates_exact);
  g_test_add_func ("/train/dropout-gradient", test_dropout_gradient);
  g_test_add_func ("/train/forward-matches-step", test_forward_matches_step);
  g_test_add_func ("/train/learns-latch", test_learns_latch);
  return g_test_run ();
}
