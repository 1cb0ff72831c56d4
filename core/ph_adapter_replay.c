/* ph_adapter_replay.c: prompted enrollment's replay (replay_passes > 0). The reading's
 * accepted segments are kept; every replay_holdout-th one is held back, never trained
 * on. When the reading ends (its stream ends, or another prompt replaces it) the
 * training thread goes over the kept segments again, up to replay_passes times, each
 * pass re-aligning every segment to its words with the weights as they are, while the
 * labeller goes on with the weights last published. After each pass the held-back
 * segments are decoded and scored against their words' dictionary phones (phone error
 * rate, 39 classes, silences left out: no alignment in the reference, so no pass is
 * favoured by having made it); the weights with the fewest errors are kept, a pass that
 * does no better stops the replay, and when no weights beat the prompt's starting ones
 * by more than the noise of so few phones (clearly_better) the starting weights come
 * back (a voice already well recognised is left alone). */
#include "ph_adapter_private.h"

#include <math.h>
#include <string.h>

#include "ph_labels.h"
#include "ph_score.h"

/* Held-back errors the adapted weights must save to be kept instead of the starting
 * ones, at least: REPLAY_MIN_ERRORS, REPLAY_MIN_GAIN of the reference phones, and the
 * square root of the starting weights' errors (one standard deviation of an error
 * count: on a few dozen phones a gain of two errors is noise). */
#define REPLAY_MIN_GAIN 0.02
#define REPLAY_MIN_ERRORS 2
/* Frames of a reading kept for the replay at most (30 minutes; with 39 features, 27 MiB):
 * the later stretches of a longer reading are trained on as read, not replayed. */
#define REPLAY_MAX_FRAMES 180000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhModel, ph_model_unref)

/* One accepted segment of the reading. */
typedef struct {
  float *features;      /* n_frames x dim */
  gint *targets;        /* n_frames: the latest alignment */
  guint n_frames;
  guint first_word, last_word;
  gboolean held_back;
} ReplaySegment;

static void
replay_segment_free (gpointer data)
{
  ReplaySegment *seg = data;

  g_free (seg->features);
  g_free (seg->targets);
  g_free (seg);
}

void
ph_adapter_replay_clear (PromptWindow *w)
{
  g_clear_pointer (&w->replay, g_ptr_array_unref);
  w->accepted = 0;
  w->replay_frames = 0;
}

gboolean
ph_adapter_replay_keep (PhAdapter *self, const PhPromptSegment *seg)
{
  Training *training = &self->training;
  PromptWindow *w = &training->prompt;
  guint holdout = training->config.replay_holdout;
  ReplaySegment *kept;

  if (training->config.replay_passes == 0)
    return FALSE;
  if (holdout == 1)
    {
      /* refused at the element's start; set while playing, it turns the replay off */
      if (!training->warned_settings)
        ph_adapter_problem (self, PH_ADAPT_WARN_SETTINGS, NULL, "replay-holdout=1 would hold "
                            "back every stretch of the reading: no replay until it changes");
      training->warned_settings = TRUE;
      return FALSE;
    }
  if (w->replay_frames + seg->n_frames > REPLAY_MAX_FRAMES)
    {
      if (w->replay_frames <= REPLAY_MAX_FRAMES)
        ph_adapter_log (self, PH_ADAPT_LOG_INFO, "replay: the reading is longer than %u "
                        "frames; what follows is trained on as read, not replayed",
                        REPLAY_MAX_FRAMES);
      w->replay_frames = REPLAY_MAX_FRAMES + 1;
      return FALSE;
    }
  if (!w->replay)
    w->replay = g_ptr_array_new_with_free_func (replay_segment_free);
  w->replay_frames += seg->n_frames;
  kept = g_new0 (ReplaySegment, 1);
  kept->features = g_memdup2 (seg->features, (gsize) seg->n_frames * training->dim * sizeof (float));
  kept->targets = g_memdup2 (seg->targets, (gsize) seg->n_frames * sizeof (gint));
  kept->n_frames = seg->n_frames;
  kept->first_word = seg->first_word;
  kept->last_word = seg->last_word;
  kept->held_back = holdout > 0 && w->accepted % holdout == holdout - 1;
  w->accepted++;
  g_ptr_array_add (w->replay, kept);
  return kept->held_back;
}

/* ---- a segment through a model ---- */

float *
ph_adapter_sequence_posteriors (const PhModel *model, const float *features,
                                guint n_frames, guint dim)
{
  guint delay = model->shape.delay, n = n_frames + delay;
  float *padded = g_new (float, (gsize) n * dim);
  float *out = g_new (float, (gsize) n * PH_NUM_PHONES);

  memcpy (padded, features, (gsize) n_frames * dim * sizeof (float));
  for (guint i = n_frames; i < n; i++)
    memcpy (padded + (gsize) i * dim, features + (gsize) (n_frames - 1) * dim,
            dim * sizeof (float));
  ph_lstm_forward_sequence (model, padded, n, out);
  g_free (padded);
  memmove (out, out + (gsize) delay * PH_NUM_PHONES,
           (gsize) n_frames * PH_NUM_PHONES * sizeof (float));
  return out;
}

static float *
segment_posteriors (const PhModel *model, const ReplaySegment *seg, guint dim)
{
  return ph_adapter_sequence_posteriors (model, seg->features, seg->n_frames, dim);
}

/* The segment's words, borrowed from the prompt. */
static GPtrArray *
segment_words (const PromptWindow *w, const ReplaySegment *seg)
{
  GPtrArray *words = g_ptr_array_new ();

  for (guint i = seg->first_word; i <= seg->last_word && i < w->words->len; i++)
    g_ptr_array_add (words, g_ptr_array_index (w->words, i));
  return words;
}

/* Re-aligns the segment to its words with `model`; keeps the old targets when the
 * alignment fails. */
static void
realign (const PromptWindow *w, const PhModel *model, ReplaySegment *seg, guint dim)
{
  g_autofree float *posteriors = segment_posteriors (model, seg, dim);
  g_autoptr (GPtrArray) words = segment_words (w, seg);
  PhAlignConfig config;
  PhAlignment *a;

  ph_align_config_init (&config);
  a = ph_align (posteriors, seg->n_frames, words, &config, 1, NULL);
  if (!a)
    return;
  g_free (seg->targets);
  seg->targets = ph_labels_to_frame_targets (a->labels, 1, seg->n_frames);
  ph_alignment_free (a);
}

static void
collect_phone (const PhDecodedSegment *segment, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, segment->phone);
}

/* `phones` without silences (and "q"). */
static void
drop_silences (GArray *phones)
{
  guint kept = 0;

  for (guint i = 0; i < phones->len; i++)
    {
      gint p = g_array_index (phones, gint, i);
      if (!ph_phone_is_silence (p) && ph_phone_fold39 (p) >= 0)
        g_array_index (phones, gint, kept++) = p;
    }
  g_array_set_size (phones, kept);
}

/* The phones the model hears in the segment: its phone-LM decoder, or without an LM
 * the runs of its per-frame argmax. */
static GArray *
segment_hypothesis (const PhModel *model, const ReplaySegment *seg, guint dim)
{
  g_autofree float *posteriors = segment_posteriors (model, seg, dim);
  GArray *phones = g_array_new (FALSE, FALSE, sizeof (gint));
  PhDecoderConfig config;
  PhDecoder *decoder;

  ph_decoder_config_init (&config);
  decoder = model->lm ? ph_decoder_new (model->lm, &config, NULL) : NULL;
  for (guint t = 0; t < seg->n_frames; t++)
    {
      const float *frame = posteriors + (gsize) t * PH_NUM_PHONES;
      if (decoder)
        {
          ph_decoder_push (decoder, frame, collect_phone, phones);
          continue;
        }
      gint best = 0;
      for (gint p = 1; p < PH_NUM_PHONES; p++)
        best = frame[p] > frame[best] ? p : best;
      if (phones->len == 0 || g_array_index (phones, gint, phones->len - 1) != best)
        g_array_append_val (phones, best);
    }
  if (decoder)
    {
      ph_decoder_flush (decoder, collect_phone, phones);
      ph_decoder_free (decoder);
    }
  drop_silences (phones);
  return phones;
}

/* The dictionary phones of the segment's words. */
static GArray *
segment_reference (const PromptWindow *w, const ReplaySegment *seg)
{
  g_autoptr (GPtrArray) words = segment_words (w, seg);
  GArray *phones = g_array_new (FALSE, FALSE, sizeof (gint));

  for (guint i = 0; i < words->len; i++)
    {
      const PhWord *word = g_ptr_array_index (words, i);
      g_array_append_vals (phones, word->phones->data, word->phones->len);
    }
  drop_silences (phones);
  return phones;
}

/* Phone errors of `model` on the held-back segments (and their reference phones). */
static PhScore *
held_back_score (const PromptWindow *w, const PhModel *model, guint dim)
{
  PhScore *score = g_new (PhScore, 1);

  ph_score_init (score);
  for (guint i = 0; i < w->replay->len; i++)
    {
      const ReplaySegment *seg = g_ptr_array_index (w->replay, i);
      if (!seg->held_back)
        continue;
      g_autoptr (GArray) ref = segment_reference (w, seg);
      g_autoptr (GArray) hyp = segment_hypothesis (model, seg, dim);
      ph_score_add_sequence (score, (const gint *) ref->data, ref->len,
                             (const gint *) hyp->data, hyp->len);
    }
  return score;
}

/* ---- the passes ---- */

/* One pass: every training segment re-aligned with the weights as they are, then
 * trained on as one sequence. FALSE when it was interrupted (flush, stop): the replay
 * ends there. */
static gboolean
replay_pass (PhAdapter *self)
{
  Training *training = &self->training;
  PromptWindow *w = &training->prompt;

  for (guint i = 0; i < w->replay->len && training->trainer; i++)
    {
      ReplaySegment *seg = g_ptr_array_index (w->replay, i);
      if (seg->held_back)
        continue;
      if (ph_adapter_pause_point (self))
        return FALSE;
      g_autoptr (PhModel) now = ph_adapter_trainer_weights (self);
      realign (w, now, seg, training->dim);
      ph_adapter_end_sequence (self);
      for (guint t = 0; t < seg->n_frames; t++)
        ph_adapter_train_frame (self, seg->features + (gsize) t * training->dim,
                                seg->targets[t]);
      ph_adapter_end_sequence (self);
    }
  return TRUE;
}

/* What the next reports say: the weights of `pass`, with their held-back score. */
static void
report_pass (Training *training, guint pass, const PhScore *score)
{
  training->replay_pass = pass;
  training->held_back_per = ph_score_phone_error_rate (score);
  training->held_back_phones = (guint) score->phone_reference;
}

/* Held-back score of the weights now, logged and reported with the pass. */
static PhScore *
score_pass (PhAdapter *self, guint pass, const PhModel *weights)
{
  Training *training = &self->training;
  PhScore *score = held_back_score (&training->prompt, weights, training->dim);

  report_pass (training, pass, score);
  ph_adapter_log (self, PH_ADAPT_LOG_INFO, "replay: held-back phone error rate %.1f%% (%"
                  G_GUINT64_FORMAT " errors in %" G_GUINT64_FORMAT " phones) %s", 100.0 *
                  training->held_back_per, score->phone_errors, score->phone_reference,
                  pass == 0 ? "with the starting weights" : pass == 1 ? "after the reading"
                  : "after a replay pass");
  return score;
}

/* TRUE when `a` makes enough fewer errors than `b` to be kept instead: one error
 * between two passes, more over the starting weights (see REPLAY_MIN_GAIN). */
static gboolean
clearly_better (const PhScore *a, const PhScore *b, gboolean over_start)
{
  double margin = 1;

  if (over_start)
    margin = MAX (MAX (REPLAY_MIN_ERRORS, REPLAY_MIN_GAIN * b->phone_reference),
                  sqrt ((double) b->phone_errors));
  return (double) a->phone_errors + ceil (margin - 1e-9) <= (double) b->phone_errors;
}

/* Goes back to the weights of `pass` (0: the starting ones) and reports them as final. */
static void
keep_pass (PhAdapter *self, guint pass, const PhScore *score, const PhScore *start_score,
           const PhModel *weights)
{
  Training *training = &self->training;

  report_pass (training, pass, score);
  training->held_back_per_start = ph_score_phone_error_rate (start_score);
  training->replay_final = TRUE;
  ph_adapter_restart_from (self, weights);
  training->replay_final = FALSE;
}

/* Replays and early-stops; keeps the best weights (the starting ones when nothing is
 * clearly better). */
static void
replay_with_held_back (PhAdapter *self, const PhModel *start)
{
  Training *training = &self->training;
  g_autofree PhScore *start_score = score_pass (self, 0, start);
  g_autoptr (PhModel) best = ph_adapter_trainer_weights (self);
  g_autofree PhScore *best_score = score_pass (self, 1, best);
  guint best_pass = 1;

  ph_adapter_publish (self, -1.0);   /* reports the reading's own figure */
  for (guint pass = 2; pass <= training->config.replay_passes + 1 && training->trainer; pass++)
    {
      training->replay_pass = pass;
      training->held_back_per = -1.0;
      if (!replay_pass (self))
        break;        /* interrupted: the best weights so far are kept */
      g_autoptr (PhModel) now = ph_adapter_trainer_weights (self);
      if (!now)
        break;
      g_autofree PhScore *score = score_pass (self, pass, now);
      ph_adapter_publish (self, -1.0);
      if (!clearly_better (score, best_score, FALSE))
        break;
      g_clear_pointer (&best, ph_model_unref);
      best = g_steal_pointer (&now);
      g_free (best_score);
      best_score = g_steal_pointer (&score);
      best_pass = pass;
    }
  if (!clearly_better (best_score, start_score, TRUE))
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO, "replay: no pass beat the starting weights "
                      "on the held-back segments: they are kept");
      keep_pass (self, 0, start_score, start_score, start);
      return;
    }
  ph_adapter_log (self, PH_ADAPT_LOG_INFO, "replay: pass %u kept", best_pass);
  keep_pass (self, best_pass, best_score, start_score, best);
}

void
ph_adapter_replay_run (PhAdapter *self)
{
  Training *training = &self->training;
  PromptWindow *w = &training->prompt;
  guint trained = 0, held = 0;

  if (!w->replay || !w->words || w->mismatch_handled || !training->trainer ||
      training->watch.diverged || training->config.replay_holdout == 1)
    {
      ph_adapter_replay_clear (w);
      return;
    }
  for (guint i = 0; i < w->replay->len; i++)
    {
      const ReplaySegment *seg = g_ptr_array_index (w->replay, i);
      trained += !seg->held_back;
      held += seg->held_back;
    }
  if (trained == 0)
    {
      ph_adapter_replay_clear (w);
      return;
    }
  if (held > 0 && w->at_start)
    {
      replay_with_held_back (self, w->at_start);
    }
  else
    {
      for (guint pass = 2; pass <= training->config.replay_passes + 1; pass++)
        {
          training->replay_pass = pass;
          if (!replay_pass (self))
            break;
          training->replay_final = pass == training->config.replay_passes + 1;
          ph_adapter_publish (self, -1.0);
        }
      training->replay_final = FALSE;
    }
  training->replay_pass = 0;
  training->held_back_per = training->held_back_per_start = -1.0;
  ph_adapter_replay_clear (w);
}
