/* ph_labeller.c: features -> LSTM -> labelled frames -> smoothed segments. */
#include "ph_labeller.h"

#include "ph_error.h"

#include <string.h>

/* A streak of consecutive frames with the same argmax that has not (yet) become a
 * segment of its own: the sums let it be absorbed into the current segment or promoted
 * to a new one without keeping its frames. */
typedef struct {
  gint phone;
  guint64 start;
  guint64 length;
  double sum_own;      /* sum of posteriors[streak phone] */
  double sum_current;  /* sum of posteriors[current segment phone] */
} PendingStreak;

#define BATCH_FRAMES 32 /* frames stepped together at most */

struct _PhLabeller {
  PhModel *model;
  PhFeatures *features;
  PhLstmState *state;
  guint dim;
  guint min_segment_frames;
  double vtlp_warp;          /* the filterbank's frequency warp, 1 = none */

  /* Features of the last delay + 1 frames, so frame t - d is reported with its own. */
  float *feature_ring;
  guint64 steps;             /* LSTM steps since reset */

  /* Frames waiting for their LSTM step until the push ends or BATCH_FRAMES are
   * waiting: ph_lstm_step_frames takes them together, which is faster. */
  float *batch_features;     /* [BATCH_FRAMES][dim] */
  float *batch_posteriors;   /* [BATCH_FRAMES][output_dim] */
  guint n_batched;
  float *last_features;      /* the last frame's features, replicated for the delay padding */
  gboolean have_frames;

  /* Which segmenter runs: the decoder when self->decoder, else the greedy one below.
   * A change of model or settings marks it stale; it is swapped at the next frame. */
  PhSegmenter segmenter;
  PhDecoderConfig decoder_config;
  PhDecoder *decoder;
  guint64 decoder_origin;    /* frame index of the decoder's frame 0 */
  gboolean segmenter_stale;

  /* Greedy segmentation. */
  gint segment_phone;        /* -1 before the first frame */
  guint64 segment_start;
  guint64 segment_length;
  double segment_sum;
  PendingStreak streak;

  guint64 samples_seen;

  /* Set for the duration of a push/flush call. */
  const PhLabellerCallbacks *callbacks;
  gpointer user_data;
};

static void
clear_segmentation (PhLabeller *self)
{
  self->segment_phone = -1;
  self->segment_start = 0;
  self->segment_length = 0;
  self->segment_sum = 0;
  memset (&self->streak, 0, sizeof self->streak);
  self->streak.phone = -1;
}

static void
free_model_parts (PhLabeller *self)
{
  g_clear_pointer (&self->features, ph_features_free);
  g_clear_pointer (&self->state, ph_lstm_state_free);
  g_clear_pointer (&self->feature_ring, g_free);
  g_clear_pointer (&self->batch_features, g_free);
  g_clear_pointer (&self->batch_posteriors, g_free);
  g_clear_pointer (&self->last_features, g_free);
}

/* Makes the extractor, state and buffers for self->model. */
static gboolean
build_model_parts (PhLabeller *self, GError **error)
{
  const PhModel *model = self->model;

  self->features = ph_features_new (&model->features, error);
  if (!self->features)
    return FALSE;
  if (self->vtlp_warp != 1.0 && !ph_features_set_vtlp_warp (self->features, self->vtlp_warp,
                                                            error))
    return FALSE;
  self->dim = model->shape.input_dim;
  self->state = ph_lstm_state_new (&model->shape);
  self->feature_ring = g_new0 (float, (gsize) (model->shape.delay + 1) * self->dim);
  self->batch_features = g_new0 (float, (gsize) BATCH_FRAMES * self->dim);
  self->batch_posteriors = g_new0 (float, (gsize) BATCH_FRAMES * model->shape.output_dim);
  self->last_features = g_new0 (float, self->dim);
  return TRUE;
}

PhLabeller *
ph_labeller_new (PhModel *model, guint min_segment_frames, GError **error)
{
  PhLabeller *self;

  g_return_val_if_fail (model != NULL, NULL);
  self = g_new0 (PhLabeller, 1);
  self->model = ph_model_ref (model);
  self->min_segment_frames = MAX (min_segment_frames, 1);
  self->vtlp_warp = 1.0;
  self->segmenter = PH_SEGMENTER_AUTO;
  ph_decoder_config_init (&self->decoder_config);
  self->segmenter_stale = TRUE;
  if (!build_model_parts (self, error))
    {
      ph_labeller_free (self);
      return NULL;
    }
  ph_labeller_reset (self);
  return self;
}

void
ph_labeller_free (PhLabeller *self)
{
  if (!self)
    return;
  free_model_parts (self);
  g_clear_pointer (&self->decoder, ph_decoder_free);
  g_clear_pointer (&self->model, ph_model_unref);
  g_free (self);
}

PhModel *
ph_labeller_model (const PhLabeller *self)
{
  return self->model;
}

static gboolean
same_lm (const PhPhoneLm *a, const PhPhoneLm *b)
{
  if (!a || !b)
    return a == b;
  return a->n_classes == b->n_classes &&
      memcmp (a->class_of_phone, b->class_of_phone, sizeof a->class_of_phone) == 0 &&
      memcmp (a->log_start, b->log_start, a->n_classes * sizeof (float)) == 0 &&
      memcmp (a->log_bigram, b->log_bigram,
              (gsize) a->n_classes * a->n_classes * sizeof (float)) == 0;
}

void
ph_labeller_set_model (PhLabeller *self, PhModel *model)
{
  PhModel *old = self->model;
  gboolean compatible = ph_model_same_layout (old, model);

  self->model = ph_model_ref (model);
  if (!same_lm (old->lm, model->lm))
    self->segmenter_stale = TRUE;
  if (!compatible)
    {
      free_model_parts (self);
      /* Loaded models have valid configs; should one not, keep labelling with the old. */
      if (!build_model_parts (self, NULL))
        {
          g_warning ("ph_labeller_set_model: model with an invalid feature config ignored");
          ph_model_unref (self->model);
          self->model = ph_model_ref (old);
          free_model_parts (self);
          build_model_parts (self, NULL);
        }
      ph_labeller_reset (self);
    }
  ph_model_unref (old);
}

gboolean
ph_labeller_set_vtlp_warp (PhLabeller *self, double warp, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!ph_features_set_vtlp_warp (self->features, warp, error))
    return FALSE;
  self->vtlp_warp = warp;
  return TRUE;
}

/* Whether the next frames go to the decoder. */
static gboolean
wants_decoder (const PhLabeller *self)
{
  return self->segmenter != PH_SEGMENTER_GREEDY && self->model->lm != NULL;
}

void
ph_labeller_set_min_segment_frames (PhLabeller *self, guint min_segment_frames)
{
  min_segment_frames = MAX (min_segment_frames, 1);
  /* the greedy smoother takes a new value on the fly; the decoder is rebuilt */
  if (min_segment_frames != self->min_segment_frames && wants_decoder (self))
    self->segmenter_stale = TRUE;
  self->min_segment_frames = min_segment_frames;
}

gboolean
ph_labeller_set_segmenter (PhLabeller *self, PhSegmenter segmenter,
                           const PhDecoderConfig *config, GError **error)
{
  PhDecoderConfig checked = *config;

  checked.min_duration = self->min_segment_frames;
  if (!ph_decoder_config_validate (&checked, error))
    return FALSE;
  if (segmenter == PH_SEGMENTER_DECODER && self->model->lm == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "the model has no phone LM, so it cannot be decoded with one (add one "
                   "with `phonemes lm`, or use the greedy segmenter)");
      return FALSE;
    }
  if (segmenter != self->segmenter ||
      memcmp (&checked, &self->decoder_config, sizeof checked) != 0)
    self->segmenter_stale = TRUE;
  self->segmenter = segmenter;
  self->decoder_config = checked;
  return TRUE;
}

gboolean
ph_labeller_uses_decoder (const PhLabeller *self)
{
  return wants_decoder (self);
}

void
ph_labeller_reset (PhLabeller *self)
{
  ph_features_reset (self->features);
  ph_lstm_state_reset (self->state);
  self->steps = 0;
  self->n_batched = 0;
  self->have_frames = FALSE;
  self->samples_seen = 0;
  clear_segmentation (self);
  if (self->decoder)
    ph_decoder_reset (self->decoder);
  self->decoder_origin = 0;
}

static void
emit_segment (PhLabeller *self, guint64 start, guint64 length, gint phone, double sum)
{
  PhSegment segment = {
    .start_frame = start,
    .n_frames = length,
    .phone = phone,
    .confidence = length ? (float) (sum / length) : 0.0f,
  };

  if (length && self->callbacks && self->callbacks->segment)
    self->callbacks->segment (&segment, self->user_data);
}

/* Folds the pending streak into the current segment (it was too short to stand alone). */
static void
absorb_streak (PhLabeller *self)
{
  self->segment_length += self->streak.length;
  self->segment_sum += self->streak.sum_current;
  self->streak.length = 0;
  self->streak.sum_own = self->streak.sum_current = 0;
}

/* Closes the current segment where the pending streak starts and makes the streak the new
 * current segment. */
static void
promote_streak (PhLabeller *self)
{
  emit_segment (self, self->segment_start, self->segment_length, self->segment_phone,
                self->segment_sum);
  self->segment_phone = self->streak.phone;
  self->segment_start = self->streak.start;
  self->segment_length = self->streak.length;
  self->segment_sum = self->streak.sum_own;
  self->streak.length = 0;
  self->streak.sum_own = self->streak.sum_current = 0;
}

static void
segment_add_frame (PhLabeller *self, guint64 index, gint phone, const float *posteriors)
{
  PendingStreak *streak = &self->streak;

  if (self->segment_phone < 0)
    {
      self->segment_phone = phone;
      self->segment_start = index;
    }
  if (phone == self->segment_phone)
    {
      if (streak->length)
        absorb_streak (self);
      self->segment_length++;
      self->segment_sum += posteriors[phone];
      streak->phone = phone;
      return;
    }
  if (phone != streak->phone || streak->length == 0)
    {
      if (streak->length)
        absorb_streak (self);
      streak->phone = phone;
      streak->start = index;
    }
  streak->length++;
  streak->sum_own += posteriors[phone];
  streak->sum_current += posteriors[self->segment_phone];
  if (streak->length >= self->min_segment_frames)
    promote_streak (self);
}

static void
on_decoded_segment (const PhDecodedSegment *decoded, gpointer user_data)
{
  PhLabeller *self = user_data;
  PhSegment segment = {
    .start_frame = self->decoder_origin + decoded->start_frame,
    .n_frames = decoded->n_frames,
    .phone = decoded->phone,
    .confidence = decoded->confidence,
  };

  if (self->callbacks && self->callbacks->segment)
    self->callbacks->segment (&segment, self->user_data);
}

/* Emits everything the current segmenter holds back, ending its last segment. */
static void
finish_segments (PhLabeller *self)
{
  if (self->decoder)
    {
      ph_decoder_flush (self->decoder, on_decoded_segment, self);
      return;
    }
  if (self->streak.length)
    absorb_streak (self);
  if (self->segment_phone >= 0)
    emit_segment (self, self->segment_start, self->segment_length, self->segment_phone,
                  self->segment_sum);
  clear_segmentation (self);
}

/* Swaps in the segmenter the model and settings call for, from frame `index` on. */
static void
switch_segmenter (PhLabeller *self, guint64 index)
{
  finish_segments (self);
  g_clear_pointer (&self->decoder, ph_decoder_free);
  if (wants_decoder (self))
    {
      self->decoder_config.min_duration = self->min_segment_frames;
      self->decoder = ph_decoder_new (self->model->lm, &self->decoder_config, NULL);
    }
  self->decoder_origin = index;
  self->segmenter_stale = FALSE;
}

static void
segment_frame (PhLabeller *self, guint64 index, gint phone, const float *posteriors)
{
  if (self->segmenter_stale)
    switch_segmenter (self, index);
  if (self->decoder)
    ph_decoder_push (self->decoder, posteriors, on_decoded_segment, self);
  else
    segment_add_frame (self, index, phone, posteriors);
}

static gint
argmax (const float *values, guint n)
{
  gint best = 0;

  for (guint i = 1; i < n; i++)
    if (values[i] > values[best])
      best = i;
  return best;
}

/* After the LSTM step on `features` (posteriors out): reports frame steps - delay once
 * it exists. */
static void
report_step (PhLabeller *self, const float *features, const float *posteriors)
{
  guint delay = self->model->shape.delay;
  guint ring = delay + 1;
  float *slot = self->feature_ring + (self->steps % ring) * self->dim;

  memcpy (slot, features, self->dim * sizeof (float));
  if (self->steps >= delay)
    {
      guint64 index = self->steps - delay;
      gint phone = argmax (posteriors, self->model->shape.output_dim);
      PhFrame frame = {
        .index = index,
        .phone = phone,
        .confidence = posteriors[phone],
        .posteriors = posteriors,
        .features = self->feature_ring + (index % ring) * self->dim,
        .dim = self->dim,
      };

      if (self->callbacks && self->callbacks->frame)
        self->callbacks->frame (&frame, self->user_data);
      segment_frame (self, index, phone, posteriors);
    }
  self->steps++;
}

/* Steps the LSTM over the waiting frames and reports them. */
static void
step_batch (PhLabeller *self)
{
  guint out = self->model->shape.output_dim;

  ph_lstm_step_frames (self->model, self->state, self->batch_features, self->n_batched,
                       self->batch_posteriors);
  for (guint i = 0; i < self->n_batched; i++)
    report_step (self, self->batch_features + (gsize) i * self->dim,
                 self->batch_posteriors + (gsize) i * out);
  self->n_batched = 0;
}

/* Queues one frame for its LSTM step. */
static void
add_frame (PhLabeller *self, const float *features)
{
  memcpy (self->batch_features + (gsize) self->n_batched * self->dim, features,
          self->dim * sizeof (float));
  if (++self->n_batched == BATCH_FRAMES)
    step_batch (self);
}

static void
on_feature_frame (const float *features, guint64 frame_index, gpointer user_data)
{
  PhLabeller *self = user_data;

  (void) frame_index;
  memcpy (self->last_features, features, self->dim * sizeof (float));
  self->have_frames = TRUE;
  add_frame (self, features);
}

static void
begin_call (PhLabeller *self, const PhLabellerCallbacks *callbacks, gpointer user_data)
{
  self->callbacks = callbacks;
  self->user_data = user_data;
}

static void
end_call (PhLabeller *self)
{
  self->callbacks = NULL;
  self->user_data = NULL;
}

void
ph_labeller_push_s16 (PhLabeller *self, const gint16 *samples, gsize n,
                      const PhLabellerCallbacks *callbacks, gpointer user_data)
{
  begin_call (self, callbacks, user_data);
  self->samples_seen += n;
  ph_features_push_s16 (self->features, samples, n, on_feature_frame, self);
  step_batch (self);
  end_call (self);
}

void
ph_labeller_push_f32 (PhLabeller *self, const float *samples, gsize n,
                      const PhLabellerCallbacks *callbacks, gpointer user_data)
{
  begin_call (self, callbacks, user_data);
  self->samples_seen += n;
  ph_features_push_f32 (self->features, samples, n, on_feature_frame, self);
  step_batch (self);
  end_call (self);
}

void
ph_labeller_flush (PhLabeller *self, const PhLabellerCallbacks *callbacks,
                   gpointer user_data)
{
  begin_call (self, callbacks, user_data);
  ph_features_flush (self->features, on_feature_frame, self);
  /* The output delay holds back the last d frames: step d copies of the last frame,
   * as the trainer does at a sequence end, to bring them out. */
  if (self->have_frames)
    for (guint i = 0; i < self->model->shape.delay; i++)
      add_frame (self, self->last_features);
  step_batch (self);
  finish_segments (self);
  end_call (self);
  ph_labeller_reset (self);
}

guint64
ph_labeller_latency_samples (const PhLabeller *self)
{
  const PhFeatureConfig *config = &self->model->features;

  return ph_feature_config_latency_samples (config) +
      (guint64) self->model->shape.delay * config->hop_length;
}

guint64
ph_labeller_segment_latency_samples (const PhLabeller *self)
{
  guint64 frames = wants_decoder (self) ? self->decoder_config.max_lag + 1
                                        : self->min_segment_frames;

  return ph_labeller_latency_samples (self) + frames * self->model->features.hop_length;
}

guint64
ph_labeller_samples_seen (const PhLabeller *self)
{
  return self->samples_seen;
}
