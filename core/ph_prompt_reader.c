/* ph_prompt_reader.c: a prompt read aloud, cut at pauses and aligned a segment at a
 * time from a cursor into its words (see ph_prompt_reader.h). */
#include "ph_prompt_reader.h"
#include "ph_labels.h"
#include "ph_phoneset.h"

#include <math.h>
#include <string.h>

#define WORDS_AHEAD_PER_FRAMES 10 /* a word lasts 100 ms at least: the window's reach */
#define SPEECH_FRAMES_PER_WORD 15 /* a word holds 150 ms of speech at least: how far a
                                   * rejected segment may have read */
#define MIN_CUT_SILENCE 3         /* a shorter silence run is no place to cut */

struct _PhPromptReader {
  PhPromptReaderConfig config;
  GPtrArray *words;
  guint dim;
  GArray *features;          /* float, pending frames x dim */
  GArray *posteriors;        /* float, pending frames x PH_NUM_PHONES */
  GArray *silent;            /* gboolean per pending frame: argmax is a silence */
  GArray *stamps;            /* guint64 per pending frame */
  guint speech;              /* speech frames pending */
  guint silence_run;         /* silence frames at the end of the pending ones */
  guint64 first_frame;       /* index of the first pending frame */
  guint64 accepted_speech;   /* speech frames in accepted segments */
  guint64 rejected_speech;   /* speech frames in rejected segments */
  guint lost_words;          /* words the rejected segments since the last accepted one
                              * may have read: the next may start that much further */
  gboolean *matched;         /* per word: covered by an accepted segment */
  GArray *segment_features;  /* float: the last accepted segment's, handed out */
  GArray *segment_targets;   /* gint */
  PhPromptReaderStats stats;
};

void
ph_prompt_reader_config_init (PhPromptReaderConfig *config)
{
  *config = (PhPromptReaderConfig) {
    .cut_silence_frames = 20,
    .min_segment_speech = 50,
    .pause_frames = 50,
    .max_segment_frames = 1500,
    .back_words = 2,
    .skip_words = 2,
    .min_confidence = 0.15f,
    .min_score_gap = -1.5f,
    .mismatch_speech_frames = 500,
  };
}

PhPromptReader *
ph_prompt_reader_new (GPtrArray *words, guint dim, const PhPromptReaderConfig *config)
{
  PhPromptReader *r = g_new0 (PhPromptReader, 1);

  g_return_val_if_fail (words != NULL && dim > 0, NULL);
  if (config)
    r->config = *config;
  else
    ph_prompt_reader_config_init (&r->config);
  r->config.cut_silence_frames = MAX (r->config.cut_silence_frames, 2);
  r->config.pause_frames = MAX (r->config.pause_frames, r->config.cut_silence_frames);
  r->config.max_segment_frames = MAX (r->config.max_segment_frames,
                                      2 * r->config.pause_frames);
  r->words = g_ptr_array_ref (words);
  r->dim = dim;
  r->features = g_array_new (FALSE, FALSE, sizeof (float));
  r->posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  r->silent = g_array_new (FALSE, FALSE, sizeof (gboolean));
  r->stamps = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->segment_features = g_array_new (FALSE, FALSE, sizeof (float));
  r->segment_targets = g_array_new (FALSE, FALSE, sizeof (gint));
  r->matched = g_new0 (gboolean, MAX (words->len, 1));
  r->stats.words = words->len;
  r->stats.last_confidence = -1.0f;
  r->stats.last_score_gap = -INFINITY;
  return r;
}

void
ph_prompt_reader_free (PhPromptReader *r)
{
  if (!r)
    return;
  g_ptr_array_unref (r->words);
  g_array_unref (r->features);
  g_array_unref (r->posteriors);
  g_array_unref (r->silent);
  g_array_unref (r->stamps);
  g_array_unref (r->segment_features);
  g_array_unref (r->segment_targets);
  g_free (r->matched);
  g_free (r);
}

const PhPromptReaderStats *
ph_prompt_reader_stats (const PhPromptReader *r)
{
  return &r->stats;
}

/* ---- pending frames ---- */

static gboolean
argmax_is_silence (const float *posteriors)
{
  guint best = 0;

  for (guint k = 1; k < PH_NUM_PHONES; k++)
    best = posteriors[k] > posteriors[best] ? k : best;
  return ph_phone_is_silence ((gint) best);
}

/* Drops the first `n` pending frames and recounts what remains. */
static void
pending_drop (PhPromptReader *r, guint n)
{
  n = MIN (n, r->silent->len);
  g_array_remove_range (r->features, 0, n * r->dim);
  g_array_remove_range (r->posteriors, 0, n * PH_NUM_PHONES);
  g_array_remove_range (r->silent, 0, n);
  g_array_remove_range (r->stamps, 0, n);
  r->first_frame += n;
  r->speech = r->silence_run = 0;
  for (guint i = 0; i < r->silent->len; i++)
    {
      gboolean s = g_array_index (r->silent, gboolean, i);
      r->speech += !s;
      r->silence_run = s ? r->silence_run + 1 : 0;
    }
}

/* Where to cut a full window: the middle of its longest silence run, else its end. */
static guint
longest_silence_cut (const PhPromptReader *r)
{
  guint best_start = 0, best_len = 0, run = 0;

  for (guint i = 0; i < r->silent->len; i++)
    {
      run = g_array_index (r->silent, gboolean, i) ? run + 1 : 0;
      if (run > best_len)
        {
          best_len = run;
          best_start = i + 1 - run;
        }
    }
  return best_len >= MIN_CUT_SILENCE ? best_start + best_len / 2 : r->silent->len;
}

/* ---- aligning a segment ---- */

/* A rejected segment; the reading is a mismatch once the speech rejected reaches
 * mismatch_speech_frames and is more than twice the speech accepted. */
static void
count_rejected (PhPromptReader *r, guint n_frames, guint speech)
{
  r->stats.frames_unmatched += n_frames;
  r->stats.segments_rejected++;
  r->rejected_speech += speech;
  r->lost_words += (speech + SPEECH_FRAMES_PER_WORD - 1) / SPEECH_FRAMES_PER_WORD;
  if (r->rejected_speech >= r->config.mismatch_speech_frames &&
      r->rejected_speech > 2 * r->accepted_speech)
    r->stats.mismatch = TRUE;
}

/* The words a segment of `n_frames` may cover: [*lo, hi). */
static guint
window_of_words (const PhPromptReader *r, guint n_frames, guint *lo)
{
  guint cursor = r->stats.cursor, n_words = r->words->len;
  guint ahead = n_frames / WORDS_AHEAD_PER_FRAMES + r->config.skip_words + r->lost_words + 2;

  *lo = cursor > r->config.back_words ? cursor - r->config.back_words : 0;
  *lo = MIN (*lo, n_words);
  return MIN (n_words, cursor + ahead);
}

/* Copies the accepted segment's frames and targets out, moves the cursor. */
static void
accept_segment (PhPromptReader *r, guint n_frames, const PhAlignment *a, guint lo,
                PhPromptSegment *segment)
{
  gint *targets = ph_labels_to_frame_targets (a->labels, 1, n_frames);
  guint first = lo + (guint) a->first_word, last = lo + (guint) a->last_word;

  g_array_set_size (r->segment_features, 0);
  g_array_append_vals (r->segment_features, r->features->data, n_frames * r->dim);
  g_array_set_size (r->segment_targets, 0);
  g_array_append_vals (r->segment_targets, targets, n_frames);
  g_free (targets);
  for (guint w = first; w <= last; w++)
    {
      r->stats.words_matched += !r->matched[w];
      r->matched[w] = TRUE;
    }
  r->stats.cursor = MAX (r->stats.cursor, last + 1);
  r->stats.frames_aligned += n_frames;
  r->stats.segments_accepted++;
  *segment = (PhPromptSegment) {
    .features = (const float *) r->segment_features->data,
    .targets = (const gint *) r->segment_targets->data,
    .n_frames = n_frames,
    .first_frame = r->first_frame,
    .last_stamp = g_array_index (r->stamps, guint64, n_frames - 1),
    .confidence = a->mean_confidence,
    .first_word = first,
    .last_word = last,
  };
}

/* Per frame, the log posterior of the best phone over the first `n` pending frames:
 * what a path free of the text would score. */
static double
free_score (const PhPromptReader *r, guint n)
{
  const float *post = (const float *) r->posteriors->data;
  double sum = 0;

  for (guint t = 0; t < n; t++)
    {
      float best = 0;
      for (guint k = 0; k < PH_NUM_PHONES; k++)
        best = MAX (best, post[(gsize) t * PH_NUM_PHONES + k]);
      sum += log (MAX (best, 1e-10f));
    }
  return sum / MAX (n, 1);
}

/* Aligns the first `n_frames` pending frames; TRUE when accepted (*segment set). */
static gboolean
align_segment (PhPromptReader *r, guint n_frames, guint speech, PhPromptSegment *segment)
{
  guint lo, hi = window_of_words (r, n_frames, &lo);
  g_autoptr (GPtrArray) window = g_ptr_array_new ();
  PhAlignConfig config;
  PhAlignment *a;
  gboolean accepted;

  for (guint w = lo; w < hi; w++)
    g_ptr_array_add (window, g_ptr_array_index (r->words, w));
  if (window->len == 0)
    {
      count_rejected (r, n_frames, speech);
      return FALSE;
    }
  ph_align_config_init (&config);
  config.start_words = r->stats.cursor - lo + r->config.skip_words + r->lost_words + 1;
  config.partial_end = TRUE;
  a = ph_align ((const float *) r->posteriors->data, n_frames, window, &config, 1, NULL);
  r->stats.last_confidence = a ? a->mean_confidence : 0.0f;
  r->stats.last_score_gap = a ? (float) (a->log_score - free_score (r, n_frames)) : -INFINITY;
  accepted = a && a->last_word >= 0 && a->mean_confidence >= r->config.min_confidence &&
      r->stats.last_score_gap >= r->config.min_score_gap;
  if (accepted)
    {
      accept_segment (r, n_frames, a, lo, segment);
      r->accepted_speech += speech;
      r->lost_words = 0;
    }
  else
    {
      count_rejected (r, n_frames, speech);
    }
  if (a)
    ph_alignment_free (a);
  return accepted;
}

/* Aligns the pending frames before `cut` and drops them. */
static gboolean
cut_and_align (PhPromptReader *r, guint cut, PhPromptSegment *segment)
{
  guint speech = 0;
  gboolean accepted;

  for (guint i = 0; i < cut; i++)
    speech += !g_array_index (r->silent, gboolean, i);
  accepted = speech > 0 && align_segment (r, cut, speech, segment);
  pending_drop (r, cut);
  return accepted;
}

/* ---- entry points ---- */

gboolean
ph_prompt_reader_push (PhPromptReader *r, const float *features, const float *posteriors,
                       guint64 stamp, PhPromptSegment *segment)
{
  gboolean silent = argmax_is_silence (posteriors);
  const PhPromptReaderConfig *c = &r->config;

  r->stats.frames++;
  if (r->stats.mismatch)
    {
      r->first_frame++;
      return FALSE;
    }
  g_array_append_vals (r->features, features, r->dim);
  g_array_append_vals (r->posteriors, posteriors, PH_NUM_PHONES);
  g_array_append_val (r->silent, silent);
  g_array_append_val (r->stamps, stamp);
  r->speech += !silent;
  r->silence_run = silent ? r->silence_run + 1 : 0;
  if (r->speech == 0 && r->silent->len > c->cut_silence_frames)
    {
      pending_drop (r, r->silent->len - c->cut_silence_frames); /* silence only */
      return FALSE;
    }
  if (r->silence_run == c->cut_silence_frames && r->speech >= c->min_segment_speech)
    return cut_and_align (r, r->silent->len - c->cut_silence_frames / 2, segment);
  if (r->silence_run == c->pause_frames)
    return cut_and_align (r, r->silent->len - c->pause_frames / 2, segment);
  if (r->silent->len >= c->max_segment_frames)
    return cut_and_align (r, longest_silence_cut (r), segment);
  return FALSE;
}

gboolean
ph_prompt_reader_finish (PhPromptReader *r, PhPromptSegment *segment)
{
  gboolean accepted = FALSE;

  if (!r->stats.mismatch && r->speech > 0)
    accepted = cut_and_align (r, r->silent->len, segment);
  pending_drop (r, r->silent->len);
  return accepted;
}
