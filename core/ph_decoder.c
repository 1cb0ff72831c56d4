/* ph_decoder.c: fixed-lag Viterbi over phone classes with a bigram and a minimum
 * duration (see ph_decoder.h for the model).
 *
 * State s = class * D + d, where d counts the frames into the segment, capped at the
 * last one (D - 1 = min_duration - 1), which loops on itself. Only two kinds of
 * decision need remembering per frame and class: which class a segment entry came from,
 * and whether the last state stayed or advanced. Those are kept for the frames not yet
 * final (at most max_lag + 1), in a ring. */
#include "ph_decoder.h"

#include <math.h>
#include <string.h>

#include "ph_error.h"

#define FROM_START 255
/* Floor of a class's log posterior mass, so silence-free frames never score -inf. */
#define LOG_MASS_FLOOR (-50.0f)

struct _PhDecoder {
  PhPhoneLm *lm;
  PhDecoderConfig config;
  guint K, D, S;           /* classes, states per class, states */

  float *entry_cost;       /* [K][K]: row k, column j: lm_weight * log P(k | j), the
                           * diagonal -inf (transposed so entering k reads one row) */
  float worst_entry;       /* the smallest off-diagonal entry cost */
  float *best_entry_cost;  /* [K]: the largest entry cost into each class */
  float *exit_score;       /* [K]: this frame's score of leaving each class */
  guint *candidates;       /* [K]: classes whose exit can still win an entry */
  float *score;            /* [S]: best path score ending in each state, this frame */
  float *next;             /* [S]: scratch for the next frame */
  float *log_mass;         /* [K]: this frame's class scores */
  guint8 members[PH_NUM_PHONES]; /* the phones of class 0, then of class 1, ... (each
                                  * in phone order); phones of no class left out */
  guint *first_member;     /* [K + 1]: class k's phones are members[first_member[k]..] */

  /* Frames first_open .. n_frames - 1 are not final; frame f lives in slot f % cap. */
  guint cap;
  guint8 *entered_from;    /* [cap][K]: class the entry state came from, FROM_START */
  guint8 *stayed;          /* [cap][K]: the last state came from itself */
  float *posteriors;       /* [cap][PH_NUM_PHONES] */
  guint64 n_frames;
  guint64 first_open;

  /* The segment the final frames are building, not yet emitted. */
  gint seg_class;          /* -1: none */
  guint64 seg_start;
  guint64 seg_length;
  double seg_sums[PH_NUM_PHONES];

  /* Scratch for tracebacks. */
  guint *states;           /* [S] */
  guint *ancestor;         /* [S] */
  guint *stamp;            /* [S] */
  guint stamp_now;
  guint *path;             /* [cap]: the state of each open frame on one path */
  guint *state_class;      /* [S]: s / D, without the division */
};

void
ph_decoder_config_init (PhDecoderConfig *config)
{
  config->lm_weight = PH_DECODER_DEFAULT_LM_WEIGHT;
  config->insertion_penalty = PH_DECODER_DEFAULT_INSERTION_PENALTY;
  config->max_lag = PH_DECODER_DEFAULT_MAX_LAG;
  config->min_duration = 3;
}

gboolean
ph_decoder_config_validate (const PhDecoderConfig *config, GError **error)
{
  if (!isfinite (config->lm_weight) || config->lm_weight < 0 || config->lm_weight > 100)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "decoder LM weight %g is out of range (0..100)", config->lm_weight);
      return FALSE;
    }
  if (!isfinite (config->insertion_penalty) || config->insertion_penalty < 0 ||
      config->insertion_penalty > 1000)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "decoder insertion penalty %g is out of range (0..1000)",
                   config->insertion_penalty);
      return FALSE;
    }
  if (config->max_lag < 1 || config->max_lag > PH_DECODER_MAX_LAG)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "decoder maximum lag %u frames is out of range (1..%d)", config->max_lag,
                   PH_DECODER_MAX_LAG);
      return FALSE;
    }
  if (config->min_duration < 1 || config->min_duration > PH_DECODER_MAX_MIN_DURATION)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "decoder minimum duration %u frames is out of range (1..%d)",
                   config->min_duration, PH_DECODER_MAX_MIN_DURATION);
      return FALSE;
    }
  return TRUE;
}

PhDecoder *
ph_decoder_new (const PhPhoneLm *lm, const PhDecoderConfig *config, GError **error)
{
  PhDecoder *self;

  if (!ph_decoder_config_validate (config, error) ||
      !ph_phone_lm_validate (lm, "decoder", error))
    return NULL;
  self = g_new0 (PhDecoder, 1);
  self->lm = ph_phone_lm_copy (lm);
  self->config = *config;
  self->K = lm->n_classes;
  self->D = config->min_duration;
  self->S = self->K * self->D;
  self->cap = config->max_lag + 1;
  self->entry_cost = g_new (float, (gsize) self->K * self->K);
  self->best_entry_cost = g_new (float, self->K);
  self->worst_entry = 0;
  for (guint k = 0; k < self->K; k++)
    {
      self->best_entry_cost[k] = -INFINITY;
      for (guint j = 0; j < self->K; j++)
        {
          float cost = config->lm_weight * lm->log_bigram[(gsize) j * self->K + k];
          self->entry_cost[(gsize) k * self->K + j] = j == k ? -INFINITY : cost;
          if (j != k)
            {
              self->worst_entry = MIN (self->worst_entry, cost);
              self->best_entry_cost[k] = MAX (self->best_entry_cost[k], cost);
            }
        }
    }
  self->exit_score = g_new (float, self->K);
  self->candidates = g_new (guint, self->K);
  self->score = g_new (float, self->S);
  self->next = g_new (float, self->S);
  self->log_mass = g_new (float, self->K);
  self->entered_from = g_new0 (guint8, (gsize) self->cap * self->K);
  self->stayed = g_new0 (guint8, (gsize) self->cap * self->K);
  self->posteriors = g_new0 (float, (gsize) self->cap * PH_NUM_PHONES);
  self->states = g_new (guint, self->S);
  self->ancestor = g_new (guint, self->S);
  self->stamp = g_new0 (guint, self->S);
  self->path = g_new (guint, self->cap);
  self->state_class = g_new (guint, self->S);
  for (guint st = 0; st < self->S; st++)
    self->state_class[st] = st / self->D;
  self->first_member = g_new (guint, self->K + 1);
  for (guint k = 0, n = 0; k <= self->K; k++)
    {
      self->first_member[k] = n;
      for (gint p = 0; k < self->K && p < PH_NUM_PHONES; p++)
        if (lm->class_of_phone[p] == k)
          self->members[n++] = (guint8) p;
    }
  ph_decoder_reset (self);
  return self;
}

void
ph_decoder_free (PhDecoder *self)
{
  if (!self)
    return;
  ph_phone_lm_free (self->lm);
  g_free (self->entry_cost);
  g_free (self->best_entry_cost);
  g_free (self->exit_score);
  g_free (self->candidates);
  g_free (self->score);
  g_free (self->next);
  g_free (self->log_mass);
  g_free (self->entered_from);
  g_free (self->stayed);
  g_free (self->posteriors);
  g_free (self->states);
  g_free (self->ancestor);
  g_free (self->stamp);
  g_free (self->path);
  g_free (self->state_class);
  g_free (self->first_member);
  g_free (self);
}

void
ph_decoder_reset (PhDecoder *self)
{
  for (guint s = 0; s < self->S; s++)
    self->score[s] = -INFINITY;
  self->n_frames = 0;
  self->first_open = 0;
  self->seg_class = -1;
  self->seg_length = 0;
}

guint
ph_decoder_pending_frames (const PhDecoder *self)
{
  return (guint) (self->n_frames - self->first_open);
}

/* ---- the Viterbi step ---- */

/* Stores the frame's posteriors (sanitised) and its class scores. Each class sums its
 * own phones, in phone order, in a sum of its own: no chain through one array. */
static void
take_frame (PhDecoder *self, const float *posteriors)
{
  float *slot = self->posteriors + (self->n_frames % self->cap) * PH_NUM_PHONES;

  for (gint p = 0; p < PH_NUM_PHONES; p++)
    slot[p] = isfinite (posteriors[p]) && posteriors[p] > 0 ? posteriors[p] : 0.0f;
  for (guint k = 0; k < self->K; k++)
    {
      double mass = 0;
      for (guint i = self->first_member[k]; i < self->first_member[k + 1]; i++)
        mass += slot[self->members[i]];
      self->log_mass[k] = mass > 0 ? MAX (logf ((float) mass), LOG_MASS_FLOOR)
                                   : LOG_MASS_FLOOR;
    }
}

/* The classes whose exit score can still give the best entry into some class (an exit
 * more than the largest entry-cost spread below the best exit never can: exact), best
 * exit first, ties by class, so that best_entry can stop early. */
static guint
find_candidates (PhDecoder *self)
{
  float *exits = self->exit_score;
  float best = -INFINITY;
  guint n = 0;

  for (guint j = 0; j < self->K; j++)
    {
      exits[j] = self->score[j * self->D + self->D - 1];
      best = MAX (best, exits[j]);
    }
  for (guint j = 0; j < self->K; j++)
    {
      if (exits[j] == -INFINITY || exits[j] < best + self->worst_entry)
        continue;
      guint i = n++;
      for (; i > 0 && exits[self->candidates[i - 1]] < exits[j]; i--)
        self->candidates[i] = self->candidates[i - 1];
      self->candidates[i] = j;
    }
  return n;
}

/* Best score of entering class k at this frame, and where from (the lowest class among
 * equals). The candidates come best exit first: once even the best entry cost into k
 * cannot lift an exit to the best so far, no later one can. */
static float
best_entry (const PhDecoder *self, guint k, guint n_candidates, guint8 *from)
{
  const PhDecoderConfig *c = &self->config;
  const float *cost = self->entry_cost + (gsize) k * self->K;
  float best = -INFINITY, reach = self->best_entry_cost[k];

  *from = FROM_START;
  if (self->n_frames == 0)
    return c->lm_weight * self->lm->log_start[k] - c->insertion_penalty;
  for (guint i = 0; i < n_candidates; i++)
    {
      guint j = self->candidates[i];
      if (self->exit_score[j] + reach < best)
        break;
      float v = self->exit_score[j] + cost[j];
      if (v > best || (v == best && v != -INFINITY && j < *from))
        {
          best = v;
          *from = (guint8) j;
        }
    }
  return best - c->insertion_penalty;
}

/* The states of class k for this frame, into self->next. */
static void
step_class (PhDecoder *self, guint k, guint n_candidates, guint8 *entered_from,
            guint8 *stayed)
{
  guint D = self->D, base = k * D;
  float e = self->log_mass[k];
  float enter = best_entry (self, k, n_candidates, &entered_from[k]);
  /* the last state either stays or advances from the one before (D = 1: is entered) */
  float stay = self->score[base + D - 1];
  float advance = D == 1 ? enter : self->score[base + D - 2];

  stayed[k] = stay != -INFINITY && stay >= advance;
  for (guint d = 1; d + 1 < D; d++)
    self->next[base + d] = e + self->score[base + d - 1];
  if (D > 1)
    self->next[base] = e + enter;
  self->next[base + D - 1] = e + (stayed[k] ? stay : advance);
}

/* Advances every state by the stored frame; keeps scores near 0. */
static void
viterbi_step (PhDecoder *self)
{
  gsize slot = (self->n_frames % self->cap) * self->K;
  guint n_candidates = find_candidates (self);
  float best = -INFINITY;

  for (guint k = 0; k < self->K; k++)
    step_class (self, k, n_candidates, self->entered_from + slot, self->stayed + slot);
  for (guint s = 0; s < self->S; s++)
    best = MAX (best, self->next[s]);
  for (guint s = 0; s < self->S; s++)
    self->next[s] -= best;
  float *tmp = self->score;
  self->score = self->next;
  self->next = tmp;
  self->n_frames++;
}

/* ---- tracebacks and final frames ---- */

/* The state at frame f - 1 on the best path to state s at frame f (f > first_open),
 * given frame f's decisions (its ring slot). */
static inline guint
predecessor_in (const PhDecoder *self, guint s, const guint8 *entered_from,
                const guint8 *stayed)
{
  guint k = self->state_class[s], d = s - k * self->D;

  if (d == self->D - 1 && stayed[k])
    return s;
  if (d > 0)
    return s - 1;
  return entered_from[k] * self->D + self->D - 1;
}

static guint
predecessor (const PhDecoder *self, guint s, guint64 f)
{
  gsize slot = (f % self->cap) * self->K;

  return predecessor_in (self, s, self->entered_from + slot, self->stayed + slot);
}

static void
emit_segment (PhDecoder *self, PhDecoderSegmentFunc func, gpointer user_data)
{
  gint best = -1;

  if (self->seg_class < 0 || self->seg_length == 0)
    return;
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    if (self->lm->class_of_phone[p] == self->seg_class &&
        (best < 0 || self->seg_sums[p] > self->seg_sums[best]))
      best = p;
  PhDecodedSegment segment = {
    .start_frame = self->seg_start,
    .n_frames = self->seg_length,
    .phone = best,
    .confidence = (float) (self->seg_sums[best] / self->seg_length),
  };
  if (func)
    func (&segment, user_data);
}

/* Frame f (the first open one) is final, in class k. */
static void
finalise_frame (PhDecoder *self, guint64 f, guint k, PhDecoderSegmentFunc func,
                gpointer user_data)
{
  const float *posteriors = self->posteriors + (f % self->cap) * PH_NUM_PHONES;

  if ((gint) k != self->seg_class)
    {
      emit_segment (self, func, user_data);
      self->seg_class = (gint) k;
      self->seg_start = f;
      self->seg_length = 0;
      memset (self->seg_sums, 0, sizeof self->seg_sums);
    }
  self->seg_length++;
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    self->seg_sums[p] += posteriors[p];
  self->first_open = f + 1;
}

/* Makes frames first_open .. last final along the best path to state s at frame
 * `from` (last <= from). */
static void
finalise_path (PhDecoder *self, guint s, guint64 from, guint64 last,
               PhDecoderSegmentFunc func, gpointer user_data)
{
  guint64 first = self->first_open;

  for (guint64 f = from; f > first; f--)
    {
      if (f <= last)
        self->path[f - first] = s;
      s = predecessor (self, s, f);
    }
  self->path[0] = s;
  for (guint64 f = first; f <= last; f++)
    finalise_frame (self, f, self->path[f - first] / self->D, func, user_data);
}

/* Where the best paths of all live states meet: finalises the frames up to the latest
 * frame they share a state in. */
static void
finalise_converged (PhDecoder *self, PhDecoderSegmentFunc func, gpointer user_data)
{
  guint n = 0;
  guint64 f = self->n_frames - 1;

  for (guint s = 0; s < self->S; s++)
    if (self->score[s] != -INFINITY)
      self->states[n++] = s;
  for (;;)
    {
      if (n == 1)
        {
          finalise_path (self, self->states[0], f, f, func, user_data);
          return;
        }
      if (f == self->first_open)
        return;
      /* step every distinct state back one frame, keeping the distinct predecessors */
      guint kept = 0;
      gsize slot = (f % self->cap) * self->K;
      const guint8 *entered_from = self->entered_from + slot, *stayed = self->stayed + slot;
      self->stamp_now++;
      for (guint i = 0; i < n; i++)
        {
          guint p = predecessor_in (self, self->states[i], entered_from, stayed);
          if (self->stamp[p] != self->stamp_now)
            {
              self->stamp[p] = self->stamp_now;
              self->states[kept++] = p;
            }
        }
      n = kept;
      f--;
    }
}

/* The lag bound: the best path decides the oldest open frame; the states whose best
 * path disagrees there are dropped, so no later frame can contradict it. */
static void
finalise_lagging (PhDecoder *self, PhDecoderSegmentFunc func, gpointer user_data)
{
  guint64 now = self->n_frames - 1, frame = self->first_open;
  guint best = 0;

  for (guint s = 0; s < self->S; s++)
    {
      self->ancestor[s] = s;
      if (self->score[s] > self->score[best])
        best = s;
    }
  for (guint64 f = now; f > frame; f--)
    {
      gsize slot = (f % self->cap) * self->K;
      for (guint s = 0; s < self->S; s++)
        if (self->score[s] != -INFINITY)
          self->ancestor[s] = predecessor_in (self, self->ancestor[s], self->entered_from + slot,
                                              self->stayed + slot);
    }
  for (guint s = 0; s < self->S; s++)
    if (self->ancestor[s] != self->ancestor[best])
      self->score[s] = -INFINITY;
  finalise_frame (self, frame, self->ancestor[best] / self->D, func, user_data);
}

void
ph_decoder_push (PhDecoder *self, const float *posteriors, PhDecoderSegmentFunc func,
                 gpointer user_data)
{
  take_frame (self, posteriors);
  viterbi_step (self);
  finalise_converged (self, func, user_data);
  while (ph_decoder_pending_frames (self) > self->config.max_lag)
    finalise_lagging (self, func, user_data);
}

void
ph_decoder_flush (PhDecoder *self, PhDecoderSegmentFunc func, gpointer user_data)
{
  if (ph_decoder_pending_frames (self) > 0)
    {
      /* prefer paths whose last segment is complete (at least min_duration frames) */
      guint best = G_MAXUINT;
      for (guint pass = 0; pass < 2 && best == G_MAXUINT; pass++)
        for (guint s = 0; s < self->S; s++)
          {
            gboolean complete = s % self->D == self->D - 1;
            if (self->score[s] != -INFINITY && (pass == 1 || complete) &&
                (best == G_MAXUINT || self->score[s] > self->score[best]))
              best = s;
          }
      finalise_path (self, best, self->n_frames - 1, self->n_frames - 1, func, user_data);
    }
  emit_segment (self, func, user_data);
  ph_decoder_reset (self);
}
