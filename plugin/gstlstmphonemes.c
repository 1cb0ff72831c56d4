/* gstlstmphonemes.c: the lstmphonemes element.
 *
 * Audio passes through untouched (in place, the samples are only read). Every buffer is
 * pushed into a PhLabeller (streaming features -> LSTM step per 10 ms frame -> smoothed
 * segments); its callbacks post the bus messages and queue frames for the buffer meta.
 *
 * Time, as `level` does it: a run starts at the first buffer's PTS (0 without one) and
 * frame i of the run starts at anchor + i * hop / rate. A run ends (held-back frames and
 * the last segment are reported first, clipped to the audio seen, so segments tile the
 * stream) on EOS, STREAM_START, a DISCONT buffer (reset-on-discont), the `reset` action
 * signal and a model with other features; FLUSH_STOP drops what is pending, since the
 * data is being flushed. GAP events of up to GAP_AS_SILENCE_MAX are labelled as silence
 * of their duration (so segments keep tiling across them); longer ones end the run and
 * the next one starts after the gap.
 *
 * Buffer meta: the labeller emits frame i only after its look-ahead (a few frames of
 * audio after frame i) has arrived, and this element never holds buffers back (that
 * would delay the audio by the look-ahead). So each frame rides on the buffer being
 * processed when the frame is computed: the earliest buffer pushed after the frame
 * exists, normally the one holding the samples `latency` after the frame's centre.
 * The meta's timestamps give each frame's true time. Frames computed while no buffer
 * follows (at EOS) are only posted as messages.
 *
 * Threads: properties live under the object lock; the streaming thread copies them at
 * each buffer boundary and never holds a lock while computing or posting. A new model
 * (property `model` or gst_lstm_phonemes_publish_model) is handed over as a pending
 * pointer that the streaming thread picks up. A `model` set while running is loaded on
 * a thread of its own, never in the caller's (a slow file must not stall the
 * application); the streaming thread waits for such a load at its next buffer, so the
 * new model still takes effect there. */
#include "gstlstmphonemes.h"

#include <string.h>

#include "ph_error.h"
#include "ph_time.h"
#include "ph_viseme.h"
#include "gstmodelshare.h"

GST_DEBUG_CATEGORY_STATIC (gst_lstm_phonemes_debug);
#define GST_CAT_DEFAULT gst_lstm_phonemes_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_MODEL_NAME NULL
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_FRAME_MESSAGES FALSE
#define DEFAULT_ATTACH_META TRUE
#define DEFAULT_RESET_ON_DISCONT TRUE
#define DEFAULT_MIN_SEGMENT_FRAMES PH_DEFAULT_MIN_SEGMENT_FRAMES
#define DEFAULT_FRAME_INTERVAL 0
#define DEFAULT_REPORT_LATENCY FALSE
#define MAX_MIN_SEGMENT_FRAMES PH_MAX_MIN_SEGMENT_FRAMES
#define DEFAULT_DECODER PH_SEGMENTER_AUTO
#define DEFAULT_LM_WEIGHT PH_DECODER_DEFAULT_LM_WEIGHT
#define DEFAULT_INSERTION_PENALTY PH_DECODER_DEFAULT_INSERTION_PENALTY
#define DEFAULT_MAX_LAG PH_DECODER_DEFAULT_MAX_LAG

/* Longest GAP labelled as silence; longer ones end the run instead. */
#define GAP_AS_SILENCE_MAX (10 * GST_SECOND)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_MODEL_NAME,
  PROP_POST_MESSAGES,
  PROP_FRAME_MESSAGES,
  PROP_ATTACH_META,
  PROP_RESET_ON_DISCONT,
  PROP_MIN_SEGMENT_FRAMES,
  PROP_DECODER,
  PROP_LM_WEIGHT,
  PROP_INSERTION_PENALTY,
  PROP_MAX_LAG,
  PROP_LATENCY,
  PROP_FRAME_INTERVAL,
  PROP_REPORT_LATENCY,
};

enum {
  SIGNAL_RESET,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

#define ALLOWED_CAPS \
  "audio/x-raw, format = (string) { S16LE, F32LE }, rate = (int) [ 1, MAX ], " \
  "channels = (int) 1, layout = (string) interleaved"

static GstStaticCaps allowed_caps = GST_STATIC_CAPS (ALLOWED_CAPS);

G_DEFINE_TYPE (GstLstmPhonemes, gst_lstm_phonemes, GST_TYPE_AUDIO_FILTER);

GType
gst_lstm_phonemes_decoder_get_type (void)
{
  static const GEnumValue values[] = {
    { PH_SEGMENTER_AUTO, "The phone-LM decoder when the model carries a phone LM, "
      "else greedy", "auto" },
    { PH_SEGMENTER_GREEDY, "Per-frame argmax with min-segment-frames smoothing",
      "greedy" },
    { PH_SEGMENTER_DECODER, "Fixed-lag Viterbi with the model's phone LM (the model "
      "must carry one: phonemes lm)", "lm" },
    { 0, NULL, NULL },
  };
  static GType type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLstmPhonemesDecoder", values));
  return type;
}

/* The decoder settings as the labeller takes them. */
static void
decoder_config_from_settings (const GstLstmPhonemesSettings *settings,
                              PhDecoderConfig *config)
{
  ph_decoder_config_init (config);
  config->lm_weight = settings->lm_weight;
  config->insertion_penalty = settings->insertion_penalty;
  config->max_lag = settings->max_lag;
}

static gboolean
same_decoder_settings (const GstLstmPhonemesSettings *a, const GstLstmPhonemesSettings *b)
{
  return a->decoder == b->decoder && a->lm_weight == b->lm_weight &&
      a->insertion_penalty == b->insertion_penalty && a->max_lag == b->max_lag;
}

/* Applies the decoder settings to the labeller; FALSE + GError when they ask for the
 * decoder and the model has no phone LM (the labeller then keeps what it had). */
static gboolean
apply_decoder_settings (GstLstmPhonemes *self, GError **error)
{
  PhDecoderConfig config;

  decoder_config_from_settings (&self->active, &config);
  return ph_labeller_set_segmenter (self->labeller, self->active.decoder, &config, error);
}

/* ---- models ---- */

/* The file at `path`, or the built-in model when path is NULL. */
static PhModel *
load_model (const gchar *path, GError **error)
{
  PhModel *model = path ? ph_model_load_file (path, error) : ph_model_load_default (error);

  if (model)
    ph_lstm_prepare (model); /* now, rather than in the first buffer's step */
  return model;
}

/* Makes `model` pending, unless `serial` (when nonzero) is no longer the current
 * `model` property change or the element stopped meanwhile (a load that ends after
 * stop(): start() loads the property afresh). Asks upstream for new caps when the rate
 * changes. */
static void
publish_model (GstLstmPhonemes *self, PhModel *model, guint serial)
{
  PhModel *replaced;
  gboolean renegotiate;

  GST_OBJECT_LOCK (self);
  if (serial != 0 && (serial != self->model_serial || !self->started)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  replaced = self->pending_model;
  self->pending_model = ph_model_ref (model);
  self->wanted_rate = model->features.sample_rate;
  renegotiate = self->negotiated_rate != 0 && self->wanted_rate != self->negotiated_rate;
  GST_OBJECT_UNLOCK (self);

  if (replaced)
    ph_model_unref (replaced);
  GST_INFO_OBJECT (self, "new model published (%u Hz)", model->features.sample_rate);
  if (renegotiate)
    gst_base_transform_reconfigure_sink (GST_BASE_TRANSFORM (self));
}

void
gst_lstm_phonemes_publish_model (GstLstmPhonemes *self, PhModel *model)
{
  g_return_if_fail (GST_IS_LSTM_PHONEMES (self));
  g_return_if_fail (model != NULL);
  publish_model (self, model, 0);
}

PhModel *
gst_lstm_phonemes_get_model (GstLstmPhonemes *self, guint *serial)
{
  PhModel *model;

  g_return_val_if_fail (GST_IS_LSTM_PHONEMES (self), NULL);
  GST_OBJECT_LOCK (self);
  model = self->pending_model ? self->pending_model : self->current_model;
  if (model)
    ph_model_ref (model);
  if (serial)
    *serial = self->model_serial;
  GST_OBJECT_UNLOCK (self);
  return model;
}

/* Records the model the streaming thread now runs (NULL: none), for
 * gst_lstm_phonemes_get_model. */
static void
set_current_model (GstLstmPhonemes *self, PhModel *model)
{
  PhModel *old;

  GST_OBJECT_LOCK (self);
  old = self->current_model;
  self->current_model = model ? ph_model_ref (model) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (old)
    ph_model_unref (old);
}

/* The pending model if it runs at `rate` (ownership passes to the caller), else NULL. */
static PhModel *
take_pending_model (GstLstmPhonemes *self, guint rate)
{
  PhModel *model = NULL;

  GST_OBJECT_LOCK (self);
  if (self->pending_model && self->pending_model->features.sample_rate == rate) {
    model = self->pending_model;
    self->pending_model = NULL;
  }
  GST_OBJECT_UNLOCK (self);
  return model;
}

typedef struct {
  GstLstmPhonemes *self; /* a reference */
  gchar *path;           /* NULL: the built-in model */
  guint serial;          /* the `model` change it loads */
} ModelLoad;

/* Loader thread: loads the file and publishes it (unless the property changed again
 * meanwhile), or warns and keeps the current model; then wakes the streaming thread. */
static gpointer
load_model_off_thread (gpointer data)
{
  ModelLoad *load = data;
  GstLstmPhonemes *self = load->self;
  GError *error = NULL;
  PhModel *model = load_model (load->path, &error);

  if (model) {
    publish_model (self, model, load->serial);
    ph_model_unref (model);
  } else {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("Cannot load phoneme model, keeping the current one: %s", error->message),
        ("model = %s", load->path ? load->path : "(built-in default)"));
    g_error_free (error);
  }
  GST_OBJECT_LOCK (self);
  self->model_loads--;
  g_cond_broadcast (&self->model_loaded);
  GST_OBJECT_UNLOCK (self);
  g_free (load->path);
  g_free (load);
  gst_object_unref (self);
  return NULL;
}

/* Streaming thread: waits until no `model` load is in flight, so a model set before
 * this buffer applies to it. */
static void
wait_for_model_loads (GstLstmPhonemes *self)
{
  GST_OBJECT_LOCK (self);
  while (self->model_loads > 0)
    g_cond_wait (&self->model_loaded, GST_OBJECT_GET_LOCK (self));
  GST_OBJECT_UNLOCK (self);
}

/* `model` property setter: stores the path; while running, starts loading the file on
 * a thread of its own (load_model_off_thread) and returns at once. */
static void
set_model_path (GstLstmPhonemes *self, const gchar *path)
{
  gboolean started;
  guint serial;

  if (path && !*path)
    path = NULL;
  GST_OBJECT_LOCK (self);
  g_free (self->model_path);
  self->model_path = g_strdup (path);
  serial = ++self->model_serial;
  if (serial == 0)
    serial = ++self->model_serial;
  started = self->started;
  if (started)
    self->model_loads++;
  GST_OBJECT_UNLOCK (self);
  if (!started)
    return;   /* start() loads it */

  ModelLoad *load = g_new0 (ModelLoad, 1);
  load->self = gst_object_ref (self);
  load->path = g_strdup (path);
  load->serial = serial;
  g_thread_unref (g_thread_new ("lstmphonemes-model", load_model_off_thread, load));
}

/* Posts the element error for a model that cannot be used at start. */
static void
post_model_error (GstLstmPhonemes *self, const gchar *path, const GError *error)
{
  if (path)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot load phoneme model: %s", error->message), ("model property: %s", path));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No phoneme model: %s; set the 'model' property to a model file",
         error->message), (NULL));
}

/* Loads the model the `model` property names, retrying when the property changes
 * meanwhile, and marks the element started. NULL after posting an error. */
static PhModel *
load_initial_model (GstLstmPhonemes *self)
{
  for (;;) {
    GError *error = NULL;
    PhModel *model;
    gchar *path;
    guint serial;

    GST_OBJECT_LOCK (self);
    path = g_strdup (self->model_path);
    serial = self->model_serial;
    GST_OBJECT_UNLOCK (self);

    model = load_model (path, &error);
    if (!model) {
      post_model_error (self, path, error);
      g_error_free (error);
      g_free (path);
      return NULL;
    }
    g_free (path);
    GST_OBJECT_LOCK (self);
    if (serial == self->model_serial) {
      self->started = TRUE;
      GST_OBJECT_UNLOCK (self);
      return model;
    }
    GST_OBJECT_UNLOCK (self);
    ph_model_unref (model);
  }
}

/* ---- time ---- */

static GstClockTime
samples_to_time (GstLstmPhonemes *self, guint64 samples)
{
  return ph_samples_to_ns (samples, self->rate);
}

/* Start of frame `index` of the current run. */
static GstClockTime
frame_time (GstLstmPhonemes *self, guint64 index)
{
  return self->anchor + samples_to_time (self, index * self->hop);
}

/* End of a span that ends at frame `end_index`, clipped to the audio while flushing. */
static GstClockTime
span_end (GstLstmPhonemes *self, guint64 end_index, GstClockTime start)
{
  GstClockTime end = frame_time (self, end_index);

  if (GST_CLOCK_TIME_IS_VALID (self->clip_end) && end > self->clip_end)
    end = MAX (self->clip_end, start);
  return end;
}

/* Adds timestamp, stream-time, running-time and duration to a message structure. */
static void
set_time_fields (GstLstmPhonemes *self, GstStructure *s, GstClockTime start,
                 GstClockTime end)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE, running_time = GST_CLOCK_TIME_NONE;

  if (segment->format == GST_FORMAT_TIME) {
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, start);
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, start);
  }
  gst_structure_set (s,
      "timestamp", G_TYPE_UINT64, (guint64) start,
      "stream-time", G_TYPE_UINT64, (guint64) stream_time,
      "running-time", G_TYPE_UINT64, (guint64) running_time,
      "duration", G_TYPE_UINT64, (guint64) (end - start),
      NULL);
}

/* ---- labeller callbacks (streaming thread, no lock held) ---- */

static const gchar *
phone39_name (gint phone)
{
  gint folded = ph_phone_fold39 (phone);

  return folded >= 0 ? ph_phone39_name (folded) : "";   /* "q" folds to nothing */
}

/* Messages made during one call into the labeller, posted together when it returns
 * (in order, before the buffer goes downstream): every post can wake the
 * application's bus thread, and one wake-up per buffer instead of one per segment is
 * most of the element's own cost. The callbacks' user_data. */
#define MESSAGE_BATCH_MAX 32

typedef struct {
  GstLstmPhonemes *self;
  guint n_messages;
  GstMessage *messages[MESSAGE_BATCH_MAX];
  guint n_frames, n_segments;   /* made during the call, for the log */
} MessageBatch;

static void
message_batch_init (MessageBatch *batch, GstLstmPhonemes *self)
{
  batch->self = self;
  batch->n_messages = 0;
  batch->n_frames = 0;
  batch->n_segments = 0;
}

/* Posts the batched messages in order and empties the batch. */
static void
message_batch_post (MessageBatch *batch)
{
  for (guint i = 0; i < batch->n_messages; i++)
    gst_element_post_message (GST_ELEMENT (batch->self), batch->messages[i]);
  batch->n_messages = 0;
}

static void
post_structure (MessageBatch *batch, GstStructure *s)
{
  if (batch->n_messages == MESSAGE_BATCH_MAX)
    message_batch_post (batch);
  batch->messages[batch->n_messages++] =
      gst_message_new_element (GST_OBJECT (batch->self), s);
}

/**
 * GstLstmPhonemes:phoneme-frame message
 *
 * With frame-messages=true, an element message named "phoneme-frame" per frame, or per
 * frame-interval:
 *
 * - `timestamp`, `stream-time`, `running-time` (guint64): start of the first frame, ns
 * - `duration` (guint64): ns covered
 * - `phone` (string): TIMIT-61 argmax of `posteriors`; `phone39` (string): its folding
 * - `confidence` (gdouble): that phone's mean posterior
 * - `posteriors` (GstValueArray of gdouble): the 61 posteriors, mean over the frames
 * - `n-frames` (guint): frames covered
 */
/* A "phoneme-frame" message for `n_frames` frames from `start` to `end`: `posteriors`
 * (61) their mean, `phone` its argmax and `confidence` that phone's mean posterior. */
static void
post_frame_message (MessageBatch *batch, gint phone, double confidence,
                    const double *posteriors, guint n_frames, GstClockTime start,
                    GstClockTime end)
{
  GstLstmPhonemes *self = batch->self;
  GstStructure *s = gst_structure_new_empty ("phoneme-frame");
  GValue array = G_VALUE_INIT;

  set_time_fields (self, s, start, end);
  gst_structure_set (s,
      "phone", G_TYPE_STRING, ph_phone_name (phone),
      "phone39", G_TYPE_STRING, phone39_name (phone),
      "confidence", G_TYPE_DOUBLE, confidence,
      "n-frames", G_TYPE_UINT, n_frames,
      NULL);
  gst_value_array_init (&array, PH_NUM_PHONES);
  for (guint i = 0; i < PH_NUM_PHONES; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, posteriors[i]);
    gst_value_array_append_and_take_value (&array, &v);
  }
  gst_structure_take_value (s, "posteriors", &array);
  post_structure (batch, s);
}

/* Frames per "phoneme-frame" message for the frame-interval in force (at least 1). */
static guint
interval_frames (GstLstmPhonemes *self)
{
  GstClockTime frame = samples_to_time (self, self->hop);
  guint64 n;

  if (self->active.frame_interval == 0 || frame == 0)
    return 1;
  n = (self->active.frame_interval + frame / 2) / frame;
  return (guint) CLAMP (n, 1, G_MAXUINT);
}

/* Posts the open interval's mean posteriors (when it holds frames) and empties it. */
static void
close_interval (MessageBatch *batch, GstClockTime end)
{
  GstLstmPhonemes *self = batch->self;
  double mean[PH_NUM_PHONES];
  guint n = self->interval_frames, best = 0;

  if (n == 0)
    return;
  for (guint k = 0; k < PH_NUM_PHONES; k++) {
    mean[k] = self->interval_sum[k] / n;
    best = mean[k] > mean[best] ? k : best;
  }
  post_frame_message (batch, (gint) best, mean[best], mean, n, self->interval_start, end);
  self->interval_frames = 0;
}

/* Drops the open interval (flush, reset without reporting). */
static void
drop_interval (GstLstmPhonemes *self)
{
  self->interval_frames = 0;
}

/* One frame for the "phoneme-frame" messages: posted alone (frame-interval 0), or
 * added to the open interval, which is posted once it holds its frames. */
static void
frame_message (MessageBatch *batch, const PhFrame *frame, GstClockTime start,
               GstClockTime end)
{
  GstLstmPhonemes *self = batch->self;
  guint per_message = interval_frames (self);

  if (per_message == 1 && self->interval_frames == 0) {
    double posteriors[PH_NUM_PHONES];

    for (guint k = 0; k < PH_NUM_PHONES; k++)
      posteriors[k] = frame->posteriors[k];
    post_frame_message (batch, frame->phone, frame->confidence, posteriors, 1, start, end);
    return;
  }
  if (self->interval_frames == 0) {
    memset (self->interval_sum, 0, sizeof self->interval_sum);
    self->interval_start = start;
  }
  for (guint k = 0; k < PH_NUM_PHONES; k++)
    self->interval_sum[k] += frame->posteriors[k];
  self->interval_frames++;
  if (self->interval_frames >= per_message)
    close_interval (batch, end);
}

/* Queues `frame` for the next buffer's meta; FALSE when the queue is full. Frame 0 of
 * the labeller (since its last reset) begins a run. */
static gboolean
queue_meta_frame (GstLstmPhonemes *self, const PhFrame *frame, GstClockTime start)
{
  GstPhonemeMetaFrame meta_frame = {
    .timestamp = start, .duration = samples_to_time (self, self->hop),
    .phone = frame->phone, .confidence = frame->confidence,
    .posteriors = frame->posteriors, .features = frame->features, .dim = frame->dim,
    .run_start = frame->index == 0,
  };

  return gst_phoneme_frame_queue_push (&self->frames, &meta_frame);
}

static void
on_frame (const PhFrame *frame, gpointer user_data)
{
  MessageBatch *batch = user_data;
  GstLstmPhonemes *self = batch->self;
  GstClockTime start = frame_time (self, frame->index);
  GstClockTime end = span_end (self, frame->index + 1, start);

  batch->n_frames++;
  GST_TRACE_OBJECT (self, "frame %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT ": %s %.2f",
                    frame->index, GST_TIME_ARGS (start), ph_phone_name (frame->phone),
                    frame->confidence);
  if (self->active.attach_meta && !queue_meta_frame (self, frame, start))
    GST_LOG_OBJECT (self, "frame queue full (no buffer for a while): frame dropped");
  if (self->active.post_messages && self->active.frame_messages)
    frame_message (batch, frame, start, end);
}

/**
 * GstLstmPhonemes:phoneme message
 *
 * An element message named "phoneme" per phone segment (segments tile the stream):
 *
 * - `timestamp`, `stream-time`, `running-time` (guint64): segment start, ns
 * - `duration` (guint64): segment length, ns
 * - `phone` (string): TIMIT-61 symbol; `phone39` (string): the 39-class folding
 * - `confidence` (gdouble): mean posterior of the phone over the segment
 * - `viseme` (string): its mouth shape, one of the 15 Oculus-style visemes
 */
static void
on_segment (const PhSegment *segment, gpointer user_data)
{
  MessageBatch *batch = user_data;
  GstLstmPhonemes *self = batch->self;
  GstClockTime start, end;
  GstStructure *s;

  start = frame_time (self, segment->start_frame);
  end = span_end (self, segment->start_frame + segment->n_frames, start);
  batch->n_segments++;
  GST_DEBUG_OBJECT (self, "segment %s at %" GST_TIME_FORMAT " for %" GST_TIME_FORMAT
                    ", confidence %.2f", ph_phone_name (segment->phone), GST_TIME_ARGS (start),
                    GST_TIME_ARGS (end - start), segment->confidence);
  if (!self->active.post_messages)
    return;
  s = gst_structure_new_empty ("phoneme");
  set_time_fields (self, s, start, end);
  gst_structure_set (s,
      "phone", G_TYPE_STRING, ph_phone_name (segment->phone),
      "phone39", G_TYPE_STRING, phone39_name (segment->phone),
      "confidence", G_TYPE_DOUBLE, (gdouble) segment->confidence,
      /* the mouth shape, for lip sync: one of the 15 Oculus-style visemes */
      "viseme", G_TYPE_STRING, ph_viseme_name_of_phone (PH_VISEME_SET_OCULUS, segment->phone),
      NULL);
  post_structure (batch, s);
}

static const PhLabellerCallbacks labeller_callbacks = { on_frame, on_segment };

/* ---- runs (streaming thread) ---- */

/* Ends the current run. With `report`, held-back frames and the last segment are
 * emitted first (clipped to the audio seen); otherwise they are dropped. A following
 * run without DISCONT continues where this one ended. */
static void
end_run (GstLstmPhonemes *self, gboolean report)
{
  GstClockTime end;

  if (!self->anchored) {
    ph_labeller_reset (self->labeller);
    drop_interval (self);
    return;
  }
  end = self->anchor + samples_to_time (self, ph_labeller_samples_seen (self->labeller));
  if (report) {
    MessageBatch batch;

    message_batch_init (&batch, self);
    self->clip_end = end;
    ph_labeller_flush (self->labeller, &labeller_callbacks, &batch);
    close_interval (&batch, end);
    self->clip_end = GST_CLOCK_TIME_NONE;
    message_batch_post (&batch);
    GST_DEBUG_OBJECT (self, "run ended at %" GST_TIME_FORMAT ": %u more frames, %u more "
                      "segments", GST_TIME_ARGS (end), batch.n_frames, batch.n_segments);
  } else {
    ph_labeller_reset (self->labeller);
    drop_interval (self);
  }
  self->anchored = FALSE;
  self->continue_at = end;
}

/* Anchors a new run at `buffer`: its PTS after a DISCONT or a stream start, the end
 * of the previous run after an internal reset, 0 without any timestamp. */
static void
start_run (GstLstmPhonemes *self, GstBuffer *buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (GST_BUFFER_IS_DISCONT (buffer) && GST_CLOCK_TIME_IS_VALID (pts))
    self->anchor = pts;
  else if (GST_CLOCK_TIME_IS_VALID (self->continue_at))
    self->anchor = self->continue_at;
  else if (GST_CLOCK_TIME_IS_VALID (pts))
    self->anchor = pts;
  else
    self->anchor = 0;
  self->anchored = TRUE;
  self->continue_at = GST_CLOCK_TIME_NONE;
}

/* A DISCONT buffer: a new run (reset-on-discont), or the run re-anchored on its PTS. */
static void
handle_discont (GstLstmPhonemes *self, GstBuffer *buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer), seen;

  if (!self->anchored)
    return;
  if (self->active.reset_on_discont) {
    GST_DEBUG_OBJECT (self, "discont: new run at %" GST_TIME_FORMAT, GST_TIME_ARGS (pts));
    end_run (self, TRUE);
    return;
  }
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return;
  seen = samples_to_time (self, ph_labeller_samples_seen (self->labeller));
  self->anchor = pts >= seen ? pts - seen : 0;
}

/* Own latency: a frame's span, its look-ahead and output delay, and the frames of
 * the next segment that must be seen before a segment closes (greedy) or that the
 * decoder may wait for before its path is final. */
static void
update_latency (GstLstmPhonemes *self, gboolean announce)
{
  guint64 samples = self->hop + ph_labeller_segment_latency_samples (self->labeller);
  GstClockTime latency = samples_to_time (self, samples);
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = latency != self->latency && self->report_latency;
  self->latency = latency;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "own latency %" GST_TIME_FORMAT "%s", GST_TIME_ARGS (latency),
                    changed ? " (reported)" : "");
  if (changed && announce)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
}

/* Switches the labeller to `model`. Weights of the same layout swap between frames;
 * other features end the run first so its segments are reported and keep tiling. */
static void
install_model (GstLstmPhonemes *self, PhModel *model)
{
  if (!ph_model_same_layout (ph_labeller_model (self->labeller), model))
    end_run (self, TRUE);
  ph_labeller_set_model (self->labeller, model);
  set_current_model (self, model);
  self->rate = model->features.sample_rate;
  self->hop = model->features.hop_length;
  GST_INFO_OBJECT (self, "now using a new model (%u Hz, hop %u)", self->rate, self->hop);
}

/* At a buffer boundary: picks up property changes, a pending model and a requested
 * reset. Copies under the lock, applies outside it. */
static void
begin_buffer (GstLstmPhonemes *self)
{
  GstLstmPhonemesSettings settings;
  PhModel *model;
  gboolean reset, new_latency;

  model = take_pending_model (self, self->rate);
  GST_OBJECT_LOCK (self);
  settings = self->settings;
  reset = self->reset_requested;
  self->reset_requested = FALSE;
  GST_OBJECT_UNLOCK (self);

  new_latency = settings.min_segment_frames != self->active.min_segment_frames;
  if (new_latency)
    ph_labeller_set_min_segment_frames (self->labeller, settings.min_segment_frames);
  if (!settings.attach_meta)
    gst_phoneme_frame_queue_drop (&self->frames);
  gboolean new_decoder = !same_decoder_settings (&settings, &self->active);
  self->active = settings;
  if (model) {
    if (settings.decoder == PH_SEGMENTER_DECODER && model->lm == NULL)
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
                           ("The new model has no phone LM: segmenting greedily"),
                           ("decoder=lm needs a model with a phone LM (phonemes lm)"));
    install_model (self, model);
    ph_model_unref (model);
    new_latency = TRUE;
  }
  if (new_decoder) {
    GError *error = NULL;
    if (!apply_decoder_settings (self, &error)) {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s", error->message),
                           ("decoder=lm needs a model with a phone LM; segments stay "
                            "as they were"));
      g_error_free (error);
    }
    new_latency = TRUE;
  }
  if (reset) {
    GST_DEBUG_OBJECT (self, "reset requested");
    end_run (self, TRUE);
  }
  if (new_latency)
    update_latency (self, TRUE);
}

/* Labels the samples of one buffer; logs what they produced. */
static void
push_samples (GstLstmPhonemes *self, GstBuffer *buffer, const guint8 *data, gsize size)
{
  MessageBatch batch;
  guint sample_size = self->format == GST_AUDIO_FORMAT_F32LE ? sizeof (float)
      : sizeof (gint16);

  message_batch_init (&batch, self);
  if (self->format == GST_AUDIO_FORMAT_F32LE)
    ph_labeller_push_f32 (self->labeller, (const float *) data, size / sizeof (float),
                          &labeller_callbacks, &batch);
  else
    ph_labeller_push_s16 (self->labeller, (const gint16 *) data, size / sizeof (gint16),
                          &labeller_callbacks, &batch);
  message_batch_post (&batch);
  GST_LOG_OBJECT (self, "buffer pts %" GST_TIME_FORMAT ", %" G_GSIZE_FORMAT " bytes (%"
                  G_GSIZE_FORMAT " samples): %u frames, %u segments; %u frames for its meta", GST_TIME_ARGS (GST_BUFFER_PTS (buffer)), size, size / sample_size,
                  batch.n_frames, batch.n_segments, self->frames.n_frames);
}

/* Labels `duration` of silence (a GAP). */
static void
push_silence (GstLstmPhonemes *self, GstClockTime duration)
{
  static const float zeros[256];
  guint64 n = gst_util_uint64_scale_round (duration, self->rate, GST_SECOND);
  MessageBatch batch;

  message_batch_init (&batch, self);
  while (n > 0) {
    gsize n_now = MIN (n, G_N_ELEMENTS (zeros));

    ph_labeller_push_f32 (self->labeller, zeros, n_now, &labeller_callbacks, &batch);
    n -= n_now;
  }
  message_batch_post (&batch);
}

static void
handle_gap (GstLstmPhonemes *self, GstEvent *event)
{
  GstClockTime timestamp, duration;

  gst_event_parse_gap (event, &timestamp, &duration);
  if (!GST_CLOCK_TIME_IS_VALID (duration) || duration == 0)
    return;
  begin_buffer (self);
  if (duration > GAP_AS_SILENCE_MAX) {
    end_run (self, TRUE);
    if (GST_CLOCK_TIME_IS_VALID (timestamp))
      self->continue_at = timestamp + duration;
    return;
  }
  if (!self->anchored) {
    self->anchor = GST_CLOCK_TIME_IS_VALID (timestamp) ? timestamp
        : GST_CLOCK_TIME_IS_VALID (self->continue_at) ? self->continue_at : 0;
    self->anchored = TRUE;
    self->continue_at = GST_CLOCK_TIME_NONE;
  }
  push_silence (self, duration);
}

/* ---- GstBaseTransform ---- */

static GstFlowReturn
gst_lstm_phonemes_transform_ip (GstBaseTransform *trans, GstBuffer *buffer)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (trans);
  GstMapInfo map;

  if (!self->labeller)
    return GST_FLOW_OK;
  wait_for_model_loads (self);
  begin_buffer (self);
  if (GST_BUFFER_IS_DISCONT (buffer))
    handle_discont (self, buffer);
  if (!self->anchored)
    start_run (self, buffer);

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Cannot read the audio buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  push_samples (self, buffer, map.data, map.size);
  gst_buffer_unmap (buffer, &map);

  /* In passthrough (attach-meta was off until now) the buffer may be shared: the
   * frames then wait for the next writable one. */
  if (self->active.attach_meta && gst_buffer_is_writable (buffer))
    gst_phoneme_frame_queue_attach (&self->frames, buffer);
  return GST_FLOW_OK;
}

static gboolean
gst_lstm_phonemes_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (trans);

  if (self->labeller) {
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_FLUSH_STOP:
        end_run (self, FALSE);
        drop_interval (self);
        self->continue_at = GST_CLOCK_TIME_NONE;
        gst_phoneme_frame_queue_drop (&self->frames);
        break;
      case GST_EVENT_STREAM_START:
        end_run (self, TRUE);
        self->continue_at = GST_CLOCK_TIME_NONE;
        break;
      case GST_EVENT_EOS:
        begin_buffer (self);
        end_run (self, TRUE);
        self->continue_at = GST_CLOCK_TIME_NONE;
        gst_phoneme_frame_queue_drop (&self->frames);   /* no buffer will carry them */
        break;
      case GST_EVENT_GAP:
        handle_gap (self, event);
        break;
      default:
        break;
    }
  }
  return GST_BASE_TRANSFORM_CLASS (gst_lstm_phonemes_parent_class)->sink_event (trans, event);
}

/* Caps are the same on both sides: audio/x-raw mono S16LE/F32LE at any rate. Caps
 * queries answer the rate of the model in use (or about to be, after a model with
 * another rate was published) first and any other rate after it (prefer_model_rate),
 * so that a converter in front (audioresample) picks the model's rate, while audio that
 * no element in front can convert still links, and is refused in setup() with an error
 * that names the fix instead of a bare not-negotiated or a failed link. */
static GstCaps *
gst_lstm_phonemes_transform_caps (GstBaseTransform *trans, GstPadDirection direction,
                                  GstCaps *caps, GstCaps *filter)
{
  GstCaps *allowed = gst_static_caps_get (&allowed_caps);
  GstCaps *result;

  (void) direction;
  result = gst_caps_intersect_full (caps, allowed, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (allowed);
  if (filter) {
    GstCaps *filtered = gst_caps_intersect_full (filter, result, GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (result);
    result = filtered;
  }
  GST_LOG_OBJECT (trans, "transformed %" GST_PTR_FORMAT " to %" GST_PTR_FORMAT, caps, result);
  return result;
}

/* A caps query's answer with the rate of the model to run first (preferred: what
 * fixation picks), then the answer as it was (any rate, accepted so that setup() can
 * say what is wrong). */
static void
prefer_model_rate (GstLstmPhonemes *self, GstQuery *query)
{
  GstCaps *caps, *rate_caps, *result;
  guint rate;

  GST_OBJECT_LOCK (self);
  rate = self->wanted_rate;
  GST_OBJECT_UNLOCK (self);
  gst_query_parse_caps_result (query, &caps);
  if (rate == 0 || !caps)
    return;
  rate_caps = gst_caps_new_simple ("audio/x-raw", "rate", G_TYPE_INT, (gint) rate, NULL);
  result = gst_caps_intersect_full (caps, rate_caps, GST_CAPS_INTERSECT_FIRST);
  result = gst_caps_merge (result, gst_caps_ref (caps));
  gst_query_set_caps_result (query, result);
  gst_caps_unref (result);
  gst_caps_unref (rate_caps);
}

static gboolean
gst_lstm_phonemes_setup (GstAudioFilter *filter, const GstAudioInfo *info)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (filter);
  guint rate = GST_AUDIO_INFO_RATE (info);

  if (!self->labeller)
    return FALSE;
  if (rate != self->rate) {
    PhModel *model = take_pending_model (self, rate);

    if (!model && rate == self->refused_rate)
      return FALSE;   /* said once already: the caps are tried again at every buffer */
    if (!model) {
      self->refused_rate = rate;
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("lstmphonemes needs %u Hz audio, not %u Hz: put audioresample before it",
           self->rate, rate),
          ("the caps have rate %u, the model runs at %u Hz", rate, self->rate));
      return FALSE;
    }
    install_model (self, model);
    ph_model_unref (model);
    update_latency (self, TRUE);
  }
  self->format = GST_AUDIO_INFO_FORMAT (info);
  self->refused_rate = 0;
  GST_OBJECT_LOCK (self);
  self->negotiated_rate = rate;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Answers a downstream lstmadapt's context query with this element. */
static gboolean
answer_context_query (GstLstmPhonemes *self, GstQuery *query)
{
  const gchar *type;
  GstContext *context;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CONTEXT ||
      !gst_query_parse_context_type (query, &type) ||
      g_strcmp0 (type, GST_MODEL_SHARE_CONTEXT_TYPE) != 0)
    return FALSE;
  context = gst_model_share_context_new (GST_ELEMENT (self));
  gst_query_set_context (query, context);
  gst_context_unref (context);
  return TRUE;
}

/* Latency: upstream's, plus our own on both min and max with report-latency. Caps: the
 * model's rate first (prefer_model_rate). Context queries of type
 * GST_MODEL_SHARE_CONTEXT_TYPE are answered with this element (for lstmadapt). */
static gboolean
gst_lstm_phonemes_query (GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (trans);
  GstClockTime min, max, own;
  gboolean live, report;

  if (direction == GST_PAD_SRC && answer_context_query (self, query))
    return TRUE;
  if (!GST_BASE_TRANSFORM_CLASS (gst_lstm_phonemes_parent_class)->query (trans, direction,
                                                                        query))
    return FALSE;
  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS)
    prefer_model_rate (self, query);
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return TRUE;

  gst_query_parse_latency (query, &live, &min, &max);
  GST_OBJECT_LOCK (self);
  own = self->latency;
  report = self->report_latency;
  GST_OBJECT_UNLOCK (self);
  if (!report)
    return TRUE;
  min += own;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += own;
  GST_DEBUG_OBJECT (self, "latency: own %" GST_TIME_FORMAT ", total min %" GST_TIME_FORMAT,
                    GST_TIME_ARGS (own), GST_TIME_ARGS (min));
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}

static gboolean
gst_lstm_phonemes_start (GstBaseTransform *trans)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (trans);
  GError *error = NULL;
  PhModel *model = load_initial_model (self);

  if (!model)
    return FALSE;
  GST_OBJECT_LOCK (self);
  self->active = self->settings;
  if (!self->pending_model)
    self->wanted_rate = model->features.sample_rate;
  GST_OBJECT_UNLOCK (self);

  self->labeller = ph_labeller_new (model, self->active.min_segment_frames, &error);
  self->rate = model->features.sample_rate;
  self->hop = model->features.hop_length;
  if (self->labeller && !apply_decoder_settings (self, &error))
    g_clear_pointer (&self->labeller, ph_labeller_free);
  if (self->labeller)
    set_current_model (self, model);
  ph_model_unref (model);
  if (!self->labeller) {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("Cannot run the phoneme model: %s",
                                             error->message), (NULL));
    g_error_free (error);
    GST_OBJECT_LOCK (self);
    self->started = FALSE;
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
  self->anchored = FALSE;
  self->continue_at = GST_CLOCK_TIME_NONE;
  self->clip_end = GST_CLOCK_TIME_NONE;
  self->format = GST_AUDIO_FORMAT_UNKNOWN;
  self->refused_rate = 0;
  self->interval_frames = 0;
  update_latency (self, FALSE);
  return TRUE;
}

static gboolean
gst_lstm_phonemes_stop (GstBaseTransform *trans)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (trans);
  PhModel *pending;

  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  pending = self->pending_model;
  self->pending_model = NULL;
  self->wanted_rate = 0;
  self->negotiated_rate = 0;
  self->reset_requested = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (pending)
    ph_model_unref (pending);
  set_current_model (self, NULL);
  g_clear_pointer (&self->labeller, ph_labeller_free);
  gst_phoneme_frame_queue_clear (&self->frames);
  self->anchored = FALSE;
  return TRUE;
}

/* ---- GObject ---- */

/* The `reset` action signal: the streaming thread ends the run at its next buffer. */
static void
gst_lstm_phonemes_reset_action (GstLstmPhonemes *self)
{
  GST_OBJECT_LOCK (self);
  self->reset_requested = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_phonemes_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (object);

  switch (prop_id) {
    case PROP_MODEL:
      set_model_path (self, g_value_get_string (value));
      return;
    case PROP_REPORT_LATENCY: {
      gboolean report = g_value_get_boolean (value), changed;

      GST_OBJECT_LOCK (self);
      changed = report != self->report_latency;
      self->report_latency = report;
      GST_OBJECT_UNLOCK (self);
      /* The pipeline's latency changes with it: have it recomputed. */
      if (changed)
        gst_element_post_message (GST_ELEMENT (self),
            gst_message_new_latency (GST_OBJECT (self)));
      return;
    }
    case PROP_ATTACH_META:
      GST_OBJECT_LOCK (self);
      self->settings.attach_meta = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      /* Without meta the element is a pure passthrough, buffers are never touched. */
      gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self),
                                          !g_value_get_boolean (value));
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_NAME:
      /* The registry lock is a leaf lock: taking it under the object lock is safe. */
      gst_model_share_unregister (self->model_name, GST_ELEMENT (self));
      g_free (self->model_name);
      self->model_name = g_value_dup_string (value);
      gst_model_share_register (self->model_name, GST_ELEMENT (self));
      break;
    case PROP_POST_MESSAGES:
      self->settings.post_messages = g_value_get_boolean (value);
      break;
    case PROP_FRAME_MESSAGES:
      self->settings.frame_messages = g_value_get_boolean (value);
      break;
    case PROP_RESET_ON_DISCONT:
      self->settings.reset_on_discont = g_value_get_boolean (value);
      break;
    case PROP_MIN_SEGMENT_FRAMES:
      self->settings.min_segment_frames = g_value_get_uint (value);
      break;
    case PROP_DECODER:
      self->settings.decoder = g_value_get_enum (value);
      break;
    case PROP_LM_WEIGHT:
      self->settings.lm_weight = g_value_get_float (value);
      break;
    case PROP_INSERTION_PENALTY:
      self->settings.insertion_penalty = g_value_get_float (value);
      break;
    case PROP_MAX_LAG:
      self->settings.max_lag = g_value_get_uint (value);
      break;
    case PROP_FRAME_INTERVAL:
      self->settings.frame_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_phonemes_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_MODEL_NAME:
      g_value_set_string (value, self->model_name);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->settings.post_messages);
      break;
    case PROP_FRAME_MESSAGES:
      g_value_set_boolean (value, self->settings.frame_messages);
      break;
    case PROP_ATTACH_META:
      g_value_set_boolean (value, self->settings.attach_meta);
      break;
    case PROP_RESET_ON_DISCONT:
      g_value_set_boolean (value, self->settings.reset_on_discont);
      break;
    case PROP_MIN_SEGMENT_FRAMES:
      g_value_set_uint (value, self->settings.min_segment_frames);
      break;
    case PROP_DECODER:
      g_value_set_enum (value, self->settings.decoder);
      break;
    case PROP_LM_WEIGHT:
      g_value_set_float (value, self->settings.lm_weight);
      break;
    case PROP_INSERTION_PENALTY:
      g_value_set_float (value, self->settings.insertion_penalty);
      break;
    case PROP_MAX_LAG:
      g_value_set_uint (value, self->settings.max_lag);
      break;
    case PROP_LATENCY:
      g_value_set_uint64 (value, self->latency);
      break;
    case PROP_FRAME_INTERVAL:
      g_value_set_uint64 (value, self->settings.frame_interval);
      break;
    case PROP_REPORT_LATENCY:
      g_value_set_boolean (value, self->report_latency);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_phonemes_finalize (GObject *object)
{
  GstLstmPhonemes *self = GST_LSTM_PHONEMES (object);

  gst_model_share_unregister (self->model_name, GST_ELEMENT (self));
  g_free (self->model_path);
  g_free (self->model_name);
  if (self->pending_model)
    ph_model_unref (self->pending_model);
  if (self->current_model)
    ph_model_unref (self->current_model);
  g_clear_pointer (&self->labeller, ph_labeller_free);
  gst_phoneme_frame_queue_clear (&self->frames);
  g_cond_clear (&self->model_loaded);
  G_OBJECT_CLASS (gst_lstm_phonemes_parent_class)->finalize (object);
}

static void
install_properties (GObjectClass *gobject_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model file",
          "Path of a phonemes model file (.phm); NULL uses the model built into the "
          "library. A file that cannot be loaded makes the start fail with an error; "
          "changed while PLAYING, the file is loaded at once and used from the next "
          "buffer (a bad file then posts a warning and the current model stays)",
          DEFAULT_MODEL, rw));
  g_object_class_install_property (gobject_class, PROP_MODEL_NAME,
      g_param_spec_string ("model-name", "Model name",
          "Name under which this element's model is shared with lstmadapt elements "
          "in this process (an lstmadapt with the same model-name adapts it, across a "
          "tee or another pipeline); NULL: not shared by name (a downstream lstmadapt "
          "still finds it)", DEFAULT_MODEL_NAME, rw));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"phoneme\" element message for every phone segment (fields: "
          "timestamp, stream-time, running-time, duration in ns, phone, phone39, "
          "confidence); FALSE posts no messages at all", DEFAULT_POST_MESSAGES, rw));
  g_object_class_install_property (gobject_class, PROP_FRAME_MESSAGES,
      g_param_spec_boolean ("frame-messages", "Frame messages",
          "Also post a \"phoneme-frame\" element message for every 10 ms frame (timestamp, "
          "stream-time, running-time, duration in ns, phone, phone39, confidence, "
          "posteriors: the 61 phone probabilities); needs post-messages",
          DEFAULT_FRAME_MESSAGES, rw));
  g_object_class_install_property (gobject_class, PROP_ATTACH_META,
      g_param_spec_boolean ("attach-meta", "Attach meta",
          "Attach a GstPhonemeMeta (custom meta, structure \"phoneme-meta\") with the "
          "frames' times, phones, posteriors and features to the buffers; FALSE makes "
          "the element a pure passthrough", DEFAULT_ATTACH_META, rw));
  g_object_class_install_property (gobject_class, PROP_RESET_ON_DISCONT,
      g_param_spec_boolean ("reset-on-discont", "Reset on discont",
          "Report the pending segment and reset the LSTM state on a DISCONT buffer, "
          "restarting the frame clock at its timestamp; FALSE only re-anchors the time",
          DEFAULT_RESET_ON_DISCONT, rw));
  g_object_class_install_property (gobject_class, PROP_MIN_SEGMENT_FRAMES,
      g_param_spec_uint ("min-segment-frames", "Minimum segment frames",
          "Smoothing, in 10 ms frames: a new phone segment starts only once another "
          "phone has been the most likely one for this many consecutive frames (adds "
          "as many frames of latency to segment messages)",
          1, MAX_MIN_SEGMENT_FRAMES, DEFAULT_MIN_SEGMENT_FRAMES, rw));
  g_object_class_install_property (gobject_class, PROP_DECODER,
      g_param_spec_enum ("decoder", "Decoder",
          "How frames become phone segments: greedy smoothing, or a fixed-lag Viterbi "
          "decoder with the model's phone LM (min-segment-frames is then the minimum "
          "segment length); auto picks the decoder when the model carries an LM",
          GST_TYPE_LSTM_PHONEMES_DECODER, DEFAULT_DECODER, rw));
  g_object_class_install_property (gobject_class, PROP_LM_WEIGHT,
      g_param_spec_float ("lm-weight", "LM weight",
          "Decoder: weight of the phone LM's log probabilities against the network's "
          "log posteriors", 0, 100, DEFAULT_LM_WEIGHT, rw));
  g_object_class_install_property (gobject_class, PROP_INSERTION_PENALTY,
      g_param_spec_float ("insertion-penalty", "Insertion penalty",
          "Decoder: cost of each new segment, in natural-log units (higher: fewer, "
          "longer segments)", 0, 1000, DEFAULT_INSERTION_PENALTY, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_LAG,
      g_param_spec_uint ("max-lag", "Maximum lag",
          "Decoder: frames (10 ms) a frame may wait before its phone is final; a "
          "segment is posted at most max-lag + 1 frames after its end (added to the "
          "latency)", 1, PH_DECODER_MAX_LAG, DEFAULT_MAX_LAG, rw));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint64 ("latency", "Latency",
          "How late the element's segment messages are after the audio they describe, "
          "in ns: one frame, the feature look-ahead, the model's output delay and the "
          "smoothing, or with the decoder its max-lag + 1 frames (an upper bound: most "
          "segments are final sooner); 0 before the model is loaded. The audio itself is "
          "not delayed; see report-latency", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_REPORT_LATENCY,
      g_param_spec_boolean ("report-latency", "Report latency",
          "Add `latency` to the pipeline's latency (latency queries). The element never "
          "holds audio back, so by default it reports none and a live pipeline runs with "
          "the least delay; TRUE makes synchronised sinks wait `latency` longer, so that "
          "the messages about a stretch of audio arrive before it is played",
          DEFAULT_REPORT_LATENCY, rw));
  g_object_class_install_property (gobject_class, PROP_FRAME_INTERVAL,
      g_param_spec_uint64 ("frame-interval", "Frame interval",
          "With frame-messages: ns covered by one \"phoneme-frame\" message; 0 = one per "
          "10 ms frame. Otherwise the interval is rounded to whole frames (at least one) "
          "and each message carries the mean posteriors of its frames (n-frames), their "
          "argmax as phone and its mean as confidence, timestamp the first frame's "
          "start; the last one of a run may cover fewer frames",
          0, G_MAXUINT64, DEFAULT_FRAME_INTERVAL, rw));
}

static void
gst_lstm_phonemes_class_init (GstLstmPhonemesClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstAudioFilterClass *filter_class = GST_AUDIO_FILTER_CLASS (klass);
  GstCaps *caps;

  GST_DEBUG_CATEGORY_INIT (gst_lstm_phonemes_debug, "lstmphonemes", 0,
                           "the lstmphonemes element");

  gobject_class->set_property = gst_lstm_phonemes_set_property;
  gobject_class->get_property = gst_lstm_phonemes_get_property;
  gobject_class->finalize = gst_lstm_phonemes_finalize;
  install_properties (gobject_class);

  /**
   * GstLstmPhonemes::reset:
   *
   * Action signal: report the pending segment and start afresh (LSTM state zeroed,
   * frame clock continuing) at the next buffer.
   */
  signals[SIGNAL_RESET] = g_signal_new_class_handler ("reset", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_lstm_phonemes_reset_action),
      NULL, NULL, NULL, G_TYPE_NONE, 0);

  gst_element_class_set_static_metadata (element_class, "LSTM phoneme labelling",
      "Filter/Analyzer/Audio",
      "Labels speech with one of the 61 TIMIT phones every 10 ms, as bus messages and "
      "buffer meta",
      "phonemes project");
  caps = gst_static_caps_get (&allowed_caps);
  gst_audio_filter_class_add_pad_templates (filter_class, caps);
  gst_caps_unref (caps);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_transform_ip);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_transform_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_query);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = TRUE;
  filter_class->setup = GST_DEBUG_FUNCPTR (gst_lstm_phonemes_setup);
}

static void
gst_lstm_phonemes_init (GstLstmPhonemes *self)
{
  self->settings.post_messages = DEFAULT_POST_MESSAGES;
  self->settings.frame_messages = DEFAULT_FRAME_MESSAGES;
  self->settings.attach_meta = DEFAULT_ATTACH_META;
  self->settings.reset_on_discont = DEFAULT_RESET_ON_DISCONT;
  self->settings.min_segment_frames = DEFAULT_MIN_SEGMENT_FRAMES;
  self->settings.decoder = DEFAULT_DECODER;
  self->settings.lm_weight = DEFAULT_LM_WEIGHT;
  self->settings.insertion_penalty = DEFAULT_INSERTION_PENALTY;
  self->settings.max_lag = DEFAULT_MAX_LAG;
  self->settings.frame_interval = DEFAULT_FRAME_INTERVAL;
  self->report_latency = DEFAULT_REPORT_LATENCY;
  self->active = self->settings;
  self->model_serial = 1;
  self->anchor = 0;
  self->continue_at = GST_CLOCK_TIME_NONE;
  self->clip_end = GST_CLOCK_TIME_NONE;
  gst_phoneme_frame_queue_init (&self->frames);
  g_cond_init (&self->model_loaded);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), !DEFAULT_ATTACH_META);
}
