/* ph_adapter_targets.c: where the adapter's targets come from. Each target source takes
 * the frames of the backlog and hands labelled frames back to the trainer
 * (ph_adapter_train_frame, target -1 for a frame that only carries state), saying where
 * its sequences end (ph_adapter_end_sequence):
 *   - supervised: the label covering the frame's centre, from a .PHN file in samples or
 *     from timed labels given while running (a frame waits until they cover it);
 *   - prompted: the reading of the prompt, cut at pauses and followed segment by segment
 *     (ph_prompt_reader: aligned from a cursor into the prompt's words, a segment that
 *     does not match left out), each accepted segment handed back as one sequence;
 *   - self: the labeller's own confident frames, through the phone-LM decoder when the
 *     model carries one (frames wait until it has decided their phone). */
#include "ph_adapter_private.h"

#include <math.h>

#include "ph_labels.h"
#include "ph_labeller.h"
#include "ph_lstm.h"
#include "ph_time.h"

/* ---- inputs ---- */

void
ph_adapter_set_file_labels (PhAdapter *self, GArray *labels, const char *name)
{
  GArray *old;

  g_mutex_lock (&self->lock);
  old = self->file_labels;
  self->file_labels = labels;
  g_free (self->file_labels_name);
  self->file_labels_name = g_strdup (name);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (old)
    g_array_unref (old);
}

void
ph_adapter_set_labels_rate (PhAdapter *self, guint rate)
{
  g_mutex_lock (&self->lock);
  self->labels_rate = rate;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

guint
ph_adapter_get_labels_rate (PhAdapter *self)
{
  guint rate;

  g_mutex_lock (&self->lock);
  rate = self->labels_rate;
  g_mutex_unlock (&self->lock);
  return rate;
}

void
ph_adapter_set_audio_rate (PhAdapter *self, guint rate)
{
  g_mutex_lock (&self->lock);
  self->audio_rate = rate;
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_note_audio_end (PhAdapter *self, guint64 stream_time)
{
  g_mutex_lock (&self->lock);
  if (self->audio_end == PH_TIME_NONE || stream_time > self->audio_end)
    self->audio_end = stream_time;
  g_mutex_unlock (&self->lock);
}

gboolean
ph_adapter_labels_await_duration (PhAdapter *self)
{
  gboolean waiting;

  g_mutex_lock (&self->lock);
  waiting = self->file_labels != NULL && !self->fit_checked &&
      self->config.mode == PH_ADAPT_SUPERVISED;
  g_mutex_unlock (&self->lock);
  return waiting;
}

gchar *
ph_adapter_check_labels_fit (PhAdapter *self, guint64 duration)
{
  gchar *misfit;

  g_mutex_lock (&self->lock);
  self->fit_checked = TRUE;
  misfit = ph_adapter_labels_misfit (self, 0, duration);
  g_mutex_unlock (&self->lock);
  return misfit;
}

/* ---- timed labels ---- */

void
ph_adapter_expect_timed_labels (PhAdapter *self, gboolean expect)
{
  g_mutex_lock (&self->lock);
  self->expect_timed_labels = expect;
  self->timed_labels_ended = FALSE;
  self->labels_watermark = PH_TIME_NONE;
  g_array_set_size (self->timed_labels, 0);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Labels kept at most while waiting for their audio. */
#define MAX_TIMED_LABELS 100000

gboolean
ph_adapter_add_timed_label (PhAdapter *self, guint64 start, guint64 end, gint phone)
{
  GArray *labels = self->timed_labels;
  TimedLabel label = { start, end, phone };
  gboolean overlap = FALSE;

  g_mutex_lock (&self->lock);
  if (labels->len > 0)
    {
      const TimedLabel *last = &g_array_index (labels, TimedLabel, labels->len - 1);

      overlap = start < last->end && end > last->start;
    }
  if (labels->len >= MAX_TIMED_LABELS)
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO, "more than %u labels waiting for audio: "
                      "oldest dropped", MAX_TIMED_LABELS);
      g_array_remove_index (labels, 0);
    }
  g_array_append_val (labels, label);
  if (self->labels_watermark == PH_TIME_NONE || end > self->labels_watermark)
    self->labels_watermark = end;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return overlap;
}

void
ph_adapter_advance_timed_labels (PhAdapter *self, guint64 time)
{
  g_mutex_lock (&self->lock);
  if (self->labels_watermark == PH_TIME_NONE || time > self->labels_watermark)
    self->labels_watermark = time;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_end_timed_labels (PhAdapter *self, gboolean ended)
{
  g_mutex_lock (&self->lock);
  self->timed_labels_ended = ended;
  if (!ended)
    {
      g_array_set_size (self->timed_labels, 0);
      self->labels_watermark = PH_TIME_NONE;
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* ---- timed labels as text ---- */

/* Parses one "START END PHONE" line (seconds, a TIMIT or ARPAbet symbol) into `label`;
 * FALSE when it is not one. */
static gboolean
parse_label_line (const gchar *line, TimedLabel *label)
{
  gchar **fields = g_strsplit_set (line, " \t", -1);
  const gchar *parts[3];
  guint n = 0;
  gchar *end;
  gdouble start_s, end_s;
  gboolean ok = FALSE;

  for (guint i = 0; fields[i]; i++)
    if (*fields[i] && n < 3)
      parts[n++] = fields[i];
    else if (*fields[i])
      n = 4;
  if (n == 3)
    {
      start_s = g_ascii_strtod (parts[0], &end);
      ok = *end == '\0';
      end_s = g_ascii_strtod (parts[1], &end);
      ok = ok && *end == '\0' && isfinite (start_s) && isfinite (end_s) && start_s >= 0 &&
          end_s > start_s && end_s < 1e9;
      label->phone = ph_phone_index (parts[2]);
      if (label->phone < 0)
        label->phone = ph_phone_from_arpabet (parts[2]);
      ok = ok && label->phone >= 0;
      label->start = (guint64) llround (start_s * PH_NS_PER_SECOND);
      label->end = (guint64) llround (end_s * PH_NS_PER_SECOND);
    }
  g_strfreev (fields);
  return ok;
}

GPtrArray *
ph_adapter_add_label_text (PhAdapter *self, const char *text, gsize length,
                           gboolean *overlap)
{
  gchar *copy = g_strndup (text, length);
  gchar **lines = g_strsplit (copy, "\n", -1);
  GPtrArray *bad = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; lines[i]; i++)
    {
      TimedLabel label;
      gchar *line = g_strstrip (lines[i]);

      if (!*line || *line == '#')
        continue;
      if (parse_label_line (line, &label))
        *overlap |= ph_adapter_add_timed_label (self, label.start, label.end, label.phone);
      else
        g_ptr_array_add (bad, g_strdup (line));
    }
  g_strfreev (lines);
  g_free (copy);
  return bad;
}

/* ---- supervised: labels ---- */

/* The latest timed label covering `time`, or -1; forgets labels that ended before it
 * (frames come in time order). */
static gint
timed_label_at (PhAdapter *self, guint64 time)
{
  GArray *labels = self->timed_labels;
  guint expired = 0;

  while (expired < labels->len && g_array_index (labels, TimedLabel, expired).end <= time)
    expired++;
  if (expired > 0)
    g_array_remove_range (labels, 0, expired);
  for (guint i = labels->len; i-- > 0;)
    {
      const TimedLabel *label = &g_array_index (labels, TimedLabel, i);

      if (label->start <= time && time < label->end)
        return label->phone;
    }
  return -1;
}

/* The rate the file labels' samples are read at. */
static guint
file_labels_rate (PhAdapter *self, guint model_rate)
{
  return self->labels_rate ? self->labels_rate : self->audio_rate ? self->audio_rate
      : model_rate;
}

gint
ph_adapter_supervised_target (PhAdapter *self, guint64 stream_time, guint model_rate)
{
  guint rate = file_labels_rate (self, model_rate);

  if (stream_time == PH_TIME_NONE)
    return -1;
  if (self->file_labels)
    return rate ? ph_labels_phone_at (self->file_labels,
                                      ph_scale_round_down (stream_time, rate, PH_NS_PER_SECOND))
        : -1;
  if (self->expect_timed_labels)
    return timed_label_at (self, stream_time);
  return -1;
}

gboolean
ph_adapter_front_frame_ready (PhAdapter *self, PhAdaptMode mode)
{
  guint64 time;

  if (mode != PH_ADAPT_SUPERVISED || self->file_labels || !self->expect_timed_labels ||
      self->timed_labels_ended || self->eos_pending)
    return TRUE;
  time = self->ring.info[self->ring.head].stream_time;
  return time == PH_TIME_NONE ||
      (self->labels_watermark != PH_TIME_NONE && time <= self->labels_watermark);
}

/* labels-location must end within this of the audio's end, or a tenth of the audio,
 * whichever is more: labels from TIMIT, `phonemes align` or write-phn.sh tile the audio
 * to within a frame. */
#define LABELS_FIT_TOLERANCE (PH_NS_PER_SECOND / 4)

/* The fix for labels read at `rate` that fit audio ending at `audio_end` at another. */
static gchar *
labels_rate_fix (guint64 end_sample, guint rate, guint64 audio_end)
{
  static const guint common_rates[] = { 8000, 11025, 16000, 22050, 24000, 32000, 44100,
                                        48000, 96000 };
  guint64 implied = audio_end ? ph_scale_round_down (end_sample, PH_NS_PER_SECOND, audio_end)
      : 0;

  for (guint i = 0; i < G_N_ELEMENTS (common_rates); i++)
    if (common_rates[i] != rate && implied * 100 >= common_rates[i] * 97ull &&
        implied * 100 <= common_rates[i] * 103ull)
      return g_strdup_printf ("if they were written at %u Hz (`phonemes align` and `label` "
                              "write the audio file's rate), set labels-rate=%u; otherwise, "
                              "do they belong to this audio?", common_rates[i],
                              common_rates[i]);
  return g_strdup ("do they belong to this audio? (labels-rate sets the rate of their "
                   "samples)");
}

/* NULL when labels `name` ending at sample `end_sample` read at `rate` fit audio that
 * ends at `audio_end`; else why not, and the fix. */
static gchar *
labels_misfit (const gchar *name, guint64 end_sample, guint rate, guint64 audio_end)
{
  guint64 labels_end = ph_scale_round_down (end_sample, PH_NS_PER_SECOND, rate);
  guint64 tolerance = MAX (LABELS_FIT_TOLERANCE, audio_end / 10);
  gchar *fix, *text;

  if (labels_end <= audio_end + tolerance && labels_end + tolerance >= audio_end)
    return NULL;
  fix = labels_rate_fix (end_sample, rate, audio_end);
  if (labels_end > audio_end)
    text = g_strdup_printf ("The labels in %s run to %.2f s (samples read at %u Hz) but the "
                            "audio ended at %.2f s: %s", name, labels_end / 1e9, rate,
                            audio_end / 1e9, fix);
  else
    text = g_strdup_printf ("The labels in %s end at %.2f s (samples read at %u Hz) but the "
                            "audio runs to %.2f s: %s", name, labels_end / 1e9, rate,
                            audio_end / 1e9, fix);
  g_free (fix);
  return text;
}

gchar *
ph_adapter_labels_misfit (PhAdapter *self, guint model_rate, guint64 audio_end)
{
  guint rate = file_labels_rate (self, model_rate);
  const PhLabel *last;

  if (!self->file_labels || self->file_labels->len == 0 || rate == 0 ||
      audio_end == PH_TIME_NONE)
    return NULL;
  last = &g_array_index (self->file_labels, PhLabel, self->file_labels->len - 1);
  return labels_misfit (self->file_labels_name, last->end, rate, audio_end);
}

gint
ph_adapter_frame_target (Training *training, const Frame *frame)
{
  switch (training->config.mode)
    {
      case PH_ADAPT_SUPERVISED:
        training->supervised_frames++;
        training->unlabelled_frames += frame->target < 0;
        return frame->target;
      case PH_ADAPT_SELF:
        return frame->info.confidence >= training->config.confidence_threshold
            ? frame->info.phone : -1;
      default:
        return -1;
    }
}

/* ---- self: the labeller's own frames ---- */

void
ph_adapter_targets_clear (Training *training)
{
  g_clear_pointer (&training->decoder, ph_decoder_free);
  g_clear_pointer (&training->undecided_features, g_array_unref);
  g_clear_pointer (&training->undecided_posteriors, g_array_unref);
}

/* A decided segment: its frames are trained on with the segment's phone as the target
 * where the network gave that phone at least confidence-threshold, as without the
 * decoder. */
static void
on_self_segment (const PhDecodedSegment *segment, gpointer user_data)
{
  PhAdapter *self = user_data;
  Training *training = &self->training;
  guint n = (guint) MIN (segment->n_frames, training->undecided_features->len / training->dim);

  for (guint i = 0; i < n; i++)
    {
      const float *posteriors = &g_array_index (training->undecided_posteriors, float,
                                                (gsize) i * PH_NUM_PHONES);
      gint target = posteriors[segment->phone] >= training->config.confidence_threshold
          ? segment->phone : -1;

      ph_adapter_train_frame (self, &g_array_index (training->undecided_features, float,
                                                    (gsize) i * training->dim), target);
    }
  g_array_remove_range (training->undecided_features, 0, n * training->dim);
  g_array_remove_range (training->undecided_posteriors, 0, n * PH_NUM_PHONES);
}

gboolean
ph_adapter_self_decode (PhAdapter *self, const Frame *frame)
{
  Training *training = &self->training;
  PhDecoderConfig config;

  if (!training->initial->lm)
    return FALSE;
  if (!training->decoder)
    {
      ph_decoder_config_init (&config);
      config.min_duration = PH_DEFAULT_MIN_SEGMENT_FRAMES;
      training->decoder = ph_decoder_new (training->initial->lm, &config, NULL);
      training->undecided_features = g_array_new (FALSE, FALSE, sizeof (float));
      training->undecided_posteriors = g_array_new (FALSE, FALSE, sizeof (float));
    }
  g_array_append_vals (training->undecided_features, frame->features, training->dim);
  g_array_append_vals (training->undecided_posteriors, frame->posteriors, PH_NUM_PHONES);
  ph_decoder_push (training->decoder, frame->posteriors, on_self_segment, self);
  return TRUE;
}

void
ph_adapter_self_decode_flush (PhAdapter *self)
{
  Training *training = &self->training;

  if (training->decoder)
    ph_decoder_flush (training->decoder, on_self_segment, self);
}

/* The frozen model's argmax of its latest posteriors. */
static gint
frozen_argmax (const Training *training)
{
  guint best = 0;

  for (guint k = 1; k < PH_NUM_PHONES; k++)
    best = training->frozen_posteriors[k] > training->frozen_posteriors[best] ? k : best;
  return (gint) best;
}

void
ph_adapter_measure_agreement (PhAdapter *self, const Frame *frame)
{
  Training *training = &self->training;
  guint delay = training->initial->shape.delay, slots = delay + 1;
  gint labelled;

  if (!training->frozen_state)
    {
      training->frozen_state = ph_lstm_state_new (&training->initial->shape);
      training->recent_phones = g_new0 (gint, slots);
      training->frozen_frames = 0;
    }
  if (frame->info.flags & FRAME_RUN_START)
    {
      ph_lstm_state_reset (training->frozen_state);
      training->frozen_frames = 0;
    }
  training->recent_phones[training->frozen_frames % slots] = frame->info.phone;
  ph_lstm_step (training->initial, training->frozen_state, frame->features,
                training->frozen_posteriors);
  if (training->frozen_frames++ < delay)
    return;
  labelled = training->recent_phones[(training->frozen_frames - 1 - delay) % slots];
  if (labelled < 0)
    return;
  training->agreed += frozen_argmax (training) == labelled;
  training->compared++;
}

/* ---- prompted: the reading of a prompt, followed segment by segment ---- */

/* Forgets the reading so far: the prompt is read again from its first word, by frames
 * of `dim` features (a flush, another feature layout). */
void
ph_adapter_prompt_reset (PromptWindow *w, guint dim)
{
  g_clear_pointer (&w->reader, ph_prompt_reader_free);
  ph_adapter_replay_clear (w);
  if (w->words && dim > 0)
    w->reader = ph_prompt_reader_new (w->words, dim, NULL);
  w->mismatch_handled = FALSE;
}

void
ph_adapter_prompt_clear (PromptWindow *w)
{
  g_clear_pointer (&w->reader, ph_prompt_reader_free);
  g_clear_pointer (&w->words, g_ptr_array_unref);
  g_clear_pointer (&w->at_start, ph_model_unref);
  ph_adapter_replay_clear (w);
}

/* Frames over which an aligned segment's loss is judged, and the mean loss over them
 * above which its alignment is taken for wrong: what the divergence watch would take
 * for divergence (ph_adapter_watch.c). */
#define IMPLAUSIBLE_WINDOW 20
#define IMPLAUSIBLE_LOSS (2 * PH_ADAPT_UNIFORM_GUESS_LOSS)

/* The largest mean loss (cross-entropy of the targets) over IMPLAUSIBLE_WINDOW frames of
 * the segment, with the weights as they are now. A stretch the prompt reader accepted
 * can still be misaligned (a word misread, a transcript that is not quite what was
 * said); trained on, it reads as divergence and stops the adaptation of the whole
 * reading. */
static double
segment_worst_loss (PhAdapter *self, const PhPromptSegment *seg)
{
  g_autofree double *loss = g_new (double, seg->n_frames);
  PhModel *now = ph_adapter_trainer_weights (self);
  float *post;
  double window = 0, worst = 0;

  if (!now)
    return 0;
  post = ph_adapter_sequence_posteriors (now, seg->features, seg->n_frames,
                                         self->training.dim);
  for (guint t = 0; t < seg->n_frames; t++)
    loss[t] = seg->targets[t] < 0 ? 0 :
        -log (MAX (post[(gsize) t * PH_NUM_PHONES + seg->targets[t]], 1e-30f));
  for (guint t = 0; t < seg->n_frames; t++)
    {
      window += loss[t] - (t >= IMPLAUSIBLE_WINDOW ? loss[t - IMPLAUSIBLE_WINDOW] : 0);
      if (t + 1 >= IMPLAUSIBLE_WINDOW)
        worst = MAX (worst, window / IMPLAUSIBLE_WINDOW);
    }
  g_free (post);
  ph_model_unref (now);
  return worst;
}

/* Trains on an accepted segment as one sequence, then publishes. */
static void
prompt_train_segment (PhAdapter *self, const PhPromptSegment *seg)
{
  Training *training = &self->training;
  double worst;

  if ((worst = segment_worst_loss (self, seg)) > IMPLAUSIBLE_LOSS)
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO, "prompt words %u-%u aligned over %u frames: "
                      "not trained on, the alignment is implausible there (a loss of "
                      "%.1f over %u frames)", seg->first_word + 1, seg->last_word + 1,
                      seg->n_frames, worst, IMPLAUSIBLE_WINDOW);
      training->prompt.implausible_frames += seg->n_frames;
      return;
    }

  if (ph_adapter_replay_keep (self, seg))
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO, "prompt words %u-%u aligned over %u frames "
                      "(confidence %.2f): held back for the replay", seg->first_word + 1,
                      seg->last_word + 1, seg->n_frames, seg->confidence);
      return;
    }
  ph_adapter_log (self, PH_ADAPT_LOG_INFO, "prompt words %u-%u aligned over %u frames "
                  "(confidence %.2f): training", seg->first_word + 1, seg->last_word + 1,
                  seg->n_frames, seg->confidence);
  training->last_running_time = seg->last_stamp;  /* what its reports are stamped */
  ph_adapter_end_sequence (self);
  for (guint i = 0; i < seg->n_frames; i++)
    ph_adapter_train_frame (self, seg->features + (gsize) i * training->dim, seg->targets[i]);
  ph_adapter_end_sequence (self);
  ph_adapter_publish (self, seg->confidence);
}

/* A reading found not to match its prompt: warns once and goes back to the weights of
 * the prompt's start (segments accepted before it could tell are undone). */
static void
prompt_check_mismatch (PhAdapter *self)
{
  PromptWindow *w = &self->training.prompt;
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (w->reader);

  if (!stats->mismatch || w->mismatch_handled)
    return;
  w->mismatch_handled = TRUE;
  if (w->at_start)
    ph_adapter_restart_from (self, w->at_start);
  ph_adapter_problem (self, PH_ADAPT_WARN_PROMPT_MISMATCH, NULL,
                      "The reading does not match prompt-text (%" G_GUINT64_FORMAT " frames "
                      "did not align, %" G_GUINT64_FORMAT " did): nothing more is trained on "
                      "it, and the weights are back where they were when it was set",
                      stats->frames_unmatched, stats->frames_aligned);
}

/* The reading stopped (a run boundary, the end of the stream): aligns what is pending.
 * The prompt goes on from where the reading got to. */
void
ph_adapter_prompt_close (PhAdapter *self)
{
  PromptWindow *w = &self->training.prompt;
  PhPromptSegment seg;

  if (!w->reader)
    return;
  if (ph_prompt_reader_finish (w->reader, &seg))
    prompt_train_segment (self, &seg);
  prompt_check_mismatch (self);
}

/* A frame that arrived under another prompt: the reading of the previous one is over,
 * the new one starts with this frame, from the weights as they are now. */
static void
prompt_refresh (PhAdapter *self, guint serial)
{
  Training *training = &self->training;
  PromptWindow *w = &training->prompt;
  GPtrArray *words;

  if (serial == w->serial)
    return;
  g_mutex_lock (&self->lock);
  words = self->prompt_words ? g_ptr_array_ref (self->prompt_words) : NULL;
  g_mutex_unlock (&self->lock);
  ph_adapter_prompt_close (self);
  ph_adapter_replay_run (self);
  ph_adapter_prompt_clear (w);
  w->words = words;
  w->serial = serial;
  w->implausible_frames = 0;
  w->at_start = ph_adapter_trainer_weights (self);
  ph_adapter_prompt_reset (w, training->dim);
}

void
ph_adapter_prompt_collect (PhAdapter *self, const Frame *frame)
{
  PromptWindow *w = &self->training.prompt;
  PhPromptSegment seg;

  prompt_refresh (self, frame->info.prompt_serial);
  if (!w->reader)
    return;
  if (ph_prompt_reader_push (w->reader, frame->features, frame->posteriors,
                             frame->info.running_time, &seg))
    prompt_train_segment (self, &seg);
  prompt_check_mismatch (self);
}
