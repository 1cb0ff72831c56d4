/* gstlstmadapt.c: the lstmadapt element, a thin GStreamer shell over the core adapter
 * (core/ph_adapter.h), which trains the model of an lstmphonemes element online with
 * truncated BPTT(k1, k2) and never stalls the audio. This file holds properties, pads
 * (the labels pad: gstlstmadaptlabels.c), events, messages and the discovery of the
 * lstmphonemes elements to adapt (gstmodelshare.h).
 *
 *   sink ──► (audio passes through untouched) ──► src
 *     │ streaming thread: the frames of each buffer's phoneme meta (features, time,
 *     ▼ argmax, posteriors, where a run begins) go to ph_adapter_push
 *   the adapter's bounded backlog (whole windows dropped when full) and training
 *     thread; its callbacks publish each weight snapshot to the lstmphonemes elements
 *     and post the "lstmadapt" message, the warnings and the errors.
 *
 * Locks: the object lock guards properties; the adapter and the link to the elements
 * have their own, never taken with ours held. EOS waits until the adapter has trained
 * what is queued (at most max-backlog frames), published and written save-location. */
#include "gstlstmadapt.h"

#include "gstlstmadaptlabels.h"
#include "gstlstmphonemes.h"
#include "gstmodelshare.h"
#include "gstphonememeta.h"
#include "ph_adapter.h"
#include "ph_align.h"
#include "ph_labels.h"
#include "ph_error.h"
#include "ph_file.h"
#ifdef PH_HAVE_LEXICON
#include "ph_lexicon.h"
#endif

GST_DEBUG_CATEGORY (gst_lstm_adapt_debug);
#define GST_CAT_DEFAULT gst_lstm_adapt_debug

/* The defaults are the core adapter's (ph_adapter_config_init), named for gst-inspect. */
#define DEFAULT_K1 20
#define DEFAULT_K2 20
#define DEFAULT_SCHEDULE PH_SCHEDULE_TRUNCATED
#define DEFAULT_LEARNING_RATE 1e-3f
#define DEFAULT_MOMENTUM 0.9f
#define DEFAULT_OPTIMIZER PH_OPTIMIZER_ADAM
#define DEFAULT_CLIP 1.0f
#define DEFAULT_ANCHOR_WEIGHT -1.0f      /* automatic */
#define DEFAULT_CONFIDENCE_THRESHOLD 0.9f
#define DEFAULT_REPLAY_PASSES 0
#define DEFAULT_REPLAY_HOLDOUT 5
#define DEFAULT_MODE GST_LSTM_ADAPT_MODE_SUPERVISED
#define DEFAULT_MAX_BACKLOG 1000
#define DEFAULT_PUBLISH_INTERVAL 5
#define DEFAULT_ENABLED TRUE
#define DEFAULT_LABELS_RATE 0            /* the audio's rate */

#define MAX_STEPS 10000             /* k1, k2: 100 s of frames */
#define MAX_BACKLOG 360000          /* one hour of frames */
#define MAX_PUBLISH_INTERVAL 1000000
/* Buffers between two searches for an lstmphonemes element when none was found. */
#define DISCOVERY_RETRY_BUFFERS 100
/* Audio without any phoneme meta after which a warning says so. */
#define NO_META_WARNING_AFTER GST_SECOND

G_STATIC_ASSERT ((gint) GST_LSTM_ADAPT_MODE_SUPERVISED == (gint) PH_ADAPT_SUPERVISED);
G_STATIC_ASSERT ((gint) GST_LSTM_ADAPT_MODE_PROMPTED == (gint) PH_ADAPT_PROMPTED);
G_STATIC_ASSERT ((gint) GST_LSTM_ADAPT_MODE_SELF == (gint) PH_ADAPT_SELF);

enum {
  PROP_0,
  PROP_K1,
  PROP_K2,
  PROP_SCHEDULE,
  PROP_LEARNING_RATE,
  PROP_MOMENTUM,
  PROP_OPTIMIZER,
  PROP_CLIP,
  PROP_ANCHOR_WEIGHT,
  PROP_CONFIDENCE_THRESHOLD,
  PROP_REPLAY_PASSES,
  PROP_REPLAY_HOLDOUT,
  PROP_MODE,
  PROP_LABELS_LOCATION,
  PROP_PROMPT_TEXT,
  PROP_MODEL_NAME,
  PROP_MAX_BACKLOG,
  PROP_PUBLISH_INTERVAL,
  PROP_SAVE_LOCATION,
  PROP_ENABLED,
  PROP_WINDOWS_DROPPED,
  PROP_BACKLOG,
  PROP_LABELS_RATE,
  N_PROPERTIES,
};

enum {
  SIGNAL_SAVE,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

struct _GstLstmAdapt {
  GstElement parent;

  GstPad *sinkpad, *srcpad;
  GstPad *labels_pad;          /* request pad or NULL; changed under the object lock */
  PhAdapter *adapter;          /* the engine, for the element's lifetime */
  GstModelShareLink link;      /* the lstmphonemes elements adapted */

  /* Object lock: properties, and the lstmphonemes elements to adapt. */
  PhAdapterConfig config;
  gboolean enabled;
  gchar *labels_location;
  gchar *prompt_text;
  gchar *model_name;
  gchar *save_location;
  gboolean started;

  /* Streaming thread only. */
  GstSegment segment;
  gboolean was_enabled;
  gboolean resume_run;         /* adaptation resumed: the next frame begins a run */
  gboolean warned_no_element, warned_meta, warned_no_meta, seen_meta;
  GstClockTime first_pts;      /* of the stream's first buffer, for warned_no_meta */
  gboolean duration_asked;     /* the labels were checked against the duration, or
                                * upstream could not say it: once per stream */
};

#define AUDIO_CAPS "audio/x-raw"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (AUDIO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (AUDIO_CAPS));
static GstStaticPadTemplate labels_template = GST_STATIC_PAD_TEMPLATE ("labels",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS (GST_LSTM_ADAPT_LABELS_CAPS));

G_DEFINE_TYPE (GstLstmAdapt, gst_lstm_adapt, GST_TYPE_ELEMENT);

/* ---- enums ---- */

/* Defines `func`, the GType of the enum `name` with the values that follow. */
#define DEFINE_ENUM_TYPE(func, name, ...)                                           \
  GType func (void)                                                               \
  {                                                                               \
    static GType type = 0;                                                        \
    static const GEnumValue values[] = { __VA_ARGS__, { 0, NULL, NULL } };        \
    if (g_once_init_enter (&type))                                                \
      g_once_init_leave (&type, g_enum_register_static (name, values));           \
    return type;                                                                  \
  }

DEFINE_ENUM_TYPE (gst_lstm_adapt_mode_get_type, "GstLstmAdaptMode",
    { GST_LSTM_ADAPT_MODE_SUPERVISED, "Targets from labels (labels-location or the labels pad)",
      "supervised" },
    { GST_LSTM_ADAPT_MODE_PROMPTED, "Targets from forced alignment against prompt-text",
      "prompted" },
    { GST_LSTM_ADAPT_MODE_SELF, "Targets from the model's own confident frames", "self" })

DEFINE_ENUM_TYPE (gst_lstm_adapt_schedule_get_type, "GstLstmAdaptSchedule",
    { PH_SCHEDULE_TRUNCATED, "Every k1 frames, backpropagate k2 frames", "truncated" },
    { PH_SCHEDULE_FRAMEWISE, "Every frame, backpropagate to the sequence start",
      "framewise" },
    { PH_SCHEDULE_SENTENCE, "Once per sequence (a run of lstmphonemes' LSTM state), at its end",
      "sentence" })

DEFINE_ENUM_TYPE (gst_lstm_adapt_optimizer_get_type, "GstLstmAdaptOptimizer",
    { PH_OPTIMIZER_SGD, "Plain stochastic gradient descent", "sgd" },
    { PH_OPTIMIZER_MOMENTUM, "SGD with momentum", "momentum" },
    { PH_OPTIMIZER_ADAM, "Adam (momentum is beta1)", "adam" })

/* ---- prompts ---- */

/* The words of a prompt: pronounced with the lexicon when there is one, else (or
 * when that fails) read as a phone transcription. NULL + GError otherwise. */
static GPtrArray *
parse_prompt (const gchar *text, GError **error)
{
  GPtrArray *words = NULL;
#ifdef PH_HAVE_LEXICON
  GError *lexicon_error = NULL;
  PhLexicon *lexicon = ph_lexicon_new (&lexicon_error);   /* cheap: flite's is static */

  if (lexicon)
    words = ph_lexicon_pronounce (lexicon, text, &lexicon_error);
  ph_lexicon_free (lexicon);
  if (!words && (words = ph_words_parse_phones (text, NULL)) && words->len == 0)
    g_clear_pointer (&words, g_ptr_array_unref);
  if (words)
    g_clear_error (&lexicon_error);
  else
    g_propagate_prefixed_error (error, lexicon_error, "prompt-text \"%s\": ", text);
  return words;
#else
  words = ph_words_parse_phones (text, error);
  if (!words)
    g_prefix_error (error, "prompt-text \"%s\" (this build reads phone transcriptions "
                    "only, e.g. \"hh ax l ow / w er l d\"): ", text);
  return words;
#endif
}

/* ---- the lstmphonemes elements to adapt ---- */

/* Streaming thread: looks for the elements at the start of a stream, after a
 * model-name change, and every DISCOVERY_RETRY_BUFFERS buffers while none is found. */
static void
discover_phonemes_elements (GstLstmAdapt *self)
{
  GPtrArray *found;
  gchar *name;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->model_name);
  GST_OBJECT_UNLOCK (self);
  found = gst_model_share_link_discover (&self->link, GST_ELEMENT (self), self->sinkpad,
                                         name, DISCOVERY_RETRY_BUFFERS);
  g_free (name);
  if (!found)
    return;
  if (found->len > 0)
    GST_INFO_OBJECT (self, "adapting the model of %" GST_PTR_FORMAT,
                     g_ptr_array_index (found, 0));
  else if (!self->warned_no_element)
    GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
        ("No lstmphonemes element to adapt: put lstmadapt downstream of lstmphonemes, "
         "or give both elements the same model-name"), (NULL));
  self->warned_no_element |= found->len == 0;
  g_ptr_array_unref (found);
}

/* ---- the adapter's callbacks (its training thread, no lock of ours held) ---- */

static PhModel *
source_model (guint64 *token, gpointer user_data)
{
  return gst_model_share_link_model (&GST_LSTM_ADAPT (user_data)->link, token);
}

static void
publish_snapshot (PhModel *snapshot, gpointer user_data)
{
  gst_model_share_link_publish (&GST_LSTM_ADAPT (user_data)->link, snapshot);
}

/**
 * GstLstmAdapt:lstmadapt message
 *
 * An element message named "lstmadapt", posted after each publication of the adapted
 * weights:
 *
 * - `updates` (guint64): weight updates since start
 * - `frames-trained` (guint64), `windows-dropped` (guint64), `frames-dropped` (guint64)
 * - `loss` (gdouble): mean cross-entropy of the last update's window
 * - `targeted-frames` (guint64): frames with a target since the last message
 * - `running-time` (guint64): of the last frame trained, ns
 * - `train-time` (guint64): CPU time of the training thread, ns
 * - `accuracy` (gdouble): supervised and prompted, frame accuracy on the targeted frames
 *   since the last message; absent when there were none
 * - `compared-frames` (guint64), `agreement` (gdouble, when compared-frames > 0): self,
 *   how often the adapted labelling still agrees with the starting model
 * - `alignment-confidence` (gdouble): prompted, mean posterior along the alignment
 * - `prompt-words`, `-words-read`, `-words-matched` (guint), `prompt-frames-aligned`,
 *   `-frames-unmatched`, `-frames-implausible` (guint64): prompted, how far the reading
 *   got (README)
 * - `replay-pass` (guint), `replay-final` (gboolean), `held-back-per` (gdouble),
 *   `held-back-phones` (guint), `held-back-per-start` (gdouble, final message only):
 *   prompted replay (replay-passes), see its property
 */
static void
post_report (const PhAdaptReport *r, gpointer user_data)
{
  GstLstmAdapt *self = user_data;
  GstStructure *s = gst_structure_new ("lstmadapt",
      "updates", G_TYPE_UINT64, r->updates,
      "frames-trained", G_TYPE_UINT64, r->frames_trained,
      "windows-dropped", G_TYPE_UINT64, r->windows_dropped,
      "frames-dropped", G_TYPE_UINT64, r->frames_dropped,
      "loss", G_TYPE_DOUBLE, r->loss,
      "targeted-frames", G_TYPE_UINT64, r->targeted_frames,
      "running-time", G_TYPE_UINT64, r->running_time,
      "train-time", G_TYPE_UINT64, r->train_time_ns,
      NULL);

  if (r->self_mode) {
    gst_structure_set (s, "compared-frames", G_TYPE_UINT64, r->compared_frames, NULL);
    if (r->compared_frames > 0)
      gst_structure_set (s, "agreement", G_TYPE_DOUBLE, r->agreement, NULL);
  } else if (r->has_accuracy) {
    gst_structure_set (s, "accuracy", G_TYPE_DOUBLE, r->accuracy, NULL);
  }
  if (r->alignment_confidence >= 0)
    gst_structure_set (s, "alignment-confidence", G_TYPE_DOUBLE, r->alignment_confidence,
                       NULL);
  if (r->has_prompt)
    gst_structure_set (s, "prompt-words", G_TYPE_UINT, r->prompt_words,
                       "prompt-words-read", G_TYPE_UINT, r->prompt_words_read,
                       "prompt-words-matched", G_TYPE_UINT, r->prompt_words_matched,
                       "prompt-frames-aligned", G_TYPE_UINT64, r->prompt_frames_aligned,
                       "prompt-frames-unmatched", G_TYPE_UINT64, r->prompt_frames_unmatched,
                       "prompt-frames-implausible", G_TYPE_UINT64,
                       r->prompt_frames_implausible, NULL);
  if (r->replay_pass > 0 || r->replay_final)
    gst_structure_set (s, "replay-pass", G_TYPE_UINT, r->replay_pass,
                       "replay-final", G_TYPE_BOOLEAN, r->replay_final, NULL);
  if (r->held_back_per >= 0)
    gst_structure_set (s, "held-back-per", G_TYPE_DOUBLE, r->held_back_per,
                       "held-back-phones", G_TYPE_UINT, r->held_back_phones, NULL);
  if (r->held_back_per_start >= 0)
    gst_structure_set (s, "held-back-per-start", G_TYPE_DOUBLE, r->held_back_per_start, NULL);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

/* The adapter's problems as this element's warnings and errors. */
static void
post_problem (PhAdaptProblem problem, const char *message, const char *detail,
              gpointer user_data)
{
  static const struct {
    GstMessageType type;
    GQuark (*domain) (void);
    gint code;
  } kinds[] = {
    [PH_ADAPT_WARN_SETTINGS] = { GST_MESSAGE_WARNING, gst_library_error_quark,
                                 GST_LIBRARY_ERROR_SETTINGS },
    [PH_ADAPT_WARN_FEATURE_DIM] = { GST_MESSAGE_WARNING, gst_stream_error_quark,
                                    GST_STREAM_ERROR_FORMAT },
    [PH_ADAPT_WARN_NONFINITE] = { GST_MESSAGE_WARNING, gst_stream_error_quark,
                                  GST_STREAM_ERROR_DECODE },
    [PH_ADAPT_WARN_DIVERGED] = { GST_MESSAGE_WARNING, gst_stream_error_quark,
                                 GST_STREAM_ERROR_FAILED },
    [PH_ADAPT_WARN_UNLABELLED] = { GST_MESSAGE_WARNING, gst_stream_error_quark,
                                   GST_STREAM_ERROR_FAILED },
    [PH_ADAPT_WARN_NOTHING_ADAPTED] = { GST_MESSAGE_WARNING, gst_resource_error_quark,
                                        GST_RESOURCE_ERROR_WRITE },
    [PH_ADAPT_WARN_PROMPT_MISMATCH] = { GST_MESSAGE_WARNING, gst_stream_error_quark,
                                        GST_STREAM_ERROR_FAILED },
    [PH_ADAPT_ERROR_LABELS_MISFIT] = { GST_MESSAGE_ERROR, gst_stream_error_quark,
                                       GST_STREAM_ERROR_FAILED },
    [PH_ADAPT_ERROR_SAVE] = { GST_MESSAGE_ERROR, gst_resource_error_quark,
                              GST_RESOURCE_ERROR_WRITE },
  };

  gst_element_message_full (GST_ELEMENT (user_data), kinds[problem].type,
                            kinds[problem].domain (), kinds[problem].code, g_strdup (message),
                            g_strdup (detail), __FILE__, G_STRFUNC, __LINE__);
}

static void
log_line (PhAdaptLogLevel level, const char *format, va_list args, gpointer user_data)
{
  static const GstDebugLevel levels[] = {
    [PH_ADAPT_LOG_INFO] = GST_LEVEL_INFO,
    [PH_ADAPT_LOG_DEBUG] = GST_LEVEL_DEBUG,
  };

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) < levels[level])
    return;
  gst_debug_log_valist (GST_CAT_DEFAULT, levels[level], __FILE__, G_STRFUNC, __LINE__,
                        G_OBJECT (user_data), format, args);
}

static const PhAdapterCallbacks adapter_callbacks = {
  source_model, publish_snapshot, post_report, post_problem, log_line,
};

/* ---- streaming thread: frames from the meta ---- */

/* Frame `frame` of a meta as the adapter takes it: stream time of its centre (labels)
 * and running time of its start, from our segment. */
static PhAdaptFrame
adapt_frame (GstLstmAdapt *self, const GstPhonemeMetaFrame *frame)
{
  PhAdaptFrame out = {
    .features = frame->features, .dim = frame->dim, .posteriors = frame->posteriors,
    .phone = frame->phone, .confidence = frame->confidence, .run_start = frame->run_start,
  };
  GstClockTime centre = frame->timestamp + frame->duration / 2;

  if (self->segment.format == GST_FORMAT_TIME) {
    out.stream_time = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME, centre);
    out.running_time = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME,
                                                    frame->timestamp);
  } else {
    out.stream_time = centre;
    out.running_time = frame->timestamp;
  }
  return out;
}

/* Hands the frames of a meta to the adapter. */
static void
push_meta_frames (GstLstmAdapt *self, const GstPhonemeMetaView *view)
{
  PhAdaptFrame *out = g_new (PhAdaptFrame, MAX (view->n_frames, 1));
  GstPhonemeMetaFrame frame;

  for (guint i = 0; i < view->n_frames; i++) {
    gst_phoneme_meta_view_frame (view, i, &frame);
    out[i] = adapt_frame (self, &frame);
  }
  if (view->n_frames > 0 && self->resume_run)
    out[0].run_start = TRUE;
  self->resume_run = FALSE;
  ph_adapter_push (self->adapter, out, view->n_frames);
  g_free (out);
}

/* Streaming thread: notes where the audio seen so far ends (stream time). */
static void
note_audio_end (GstLstmAdapt *self, GstBuffer *buffer)
{
  GstClockTime end;

  if (!GST_BUFFER_PTS_IS_VALID (buffer) || !GST_BUFFER_DURATION_IS_VALID (buffer) ||
      self->segment.format != GST_FORMAT_TIME)
    return;
  end = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME,
                                    GST_BUFFER_PTS (buffer) + GST_BUFFER_DURATION (buffer));
  if (GST_CLOCK_TIME_IS_VALID (end))
    ph_adapter_note_audio_end (self->adapter, end);
}

/* Streaming thread, at a stream's first buffer: when upstream knows the duration,
 * checks that labels-location fits it. FALSE after posting an error. */
static gboolean
check_labels_against_duration (GstLstmAdapt *self)
{
  gint64 duration = -1;
  gchar *misfit;

  if (self->duration_asked || !ph_adapter_labels_await_duration (self->adapter))
    return TRUE;
  self->duration_asked = TRUE;
  if (!gst_pad_peer_query_duration (self->sinkpad, GST_FORMAT_TIME, &duration) ||
      duration <= 0)
    return TRUE;
  misfit = ph_adapter_check_labels_fit (self->adapter, (guint64) duration);
  if (!misfit)
    return TRUE;
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", misfit),
      ("checked against the duration upstream reports, before training"));
  g_free (misfit);
  return FALSE;
}

/* Streaming thread: warns once when a stream's first second of audio brought no
 * phoneme meta (lstmadapt then has nothing to train on). */
static void
check_meta_arrives (GstLstmAdapt *self, GstBuffer *buffer, gboolean has_meta)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (has_meta)
    self->seen_meta = TRUE;
  if (self->seen_meta || self->warned_no_meta || !GST_CLOCK_TIME_IS_VALID (pts))
    return;
  if (!GST_CLOCK_TIME_IS_VALID (self->first_pts))
    self->first_pts = pts;
  if (pts + (GST_BUFFER_DURATION_IS_VALID (buffer) ? GST_BUFFER_DURATION (buffer) : 0) <
      self->first_pts + NO_META_WARNING_AFTER)
    return;
  self->warned_no_meta = TRUE;
  GST_ELEMENT_WARNING (self, STREAM, FORMAT,
      ("No phoneme meta on the first second of audio: lstmadapt trains on the meta that "
       "lstmphonemes attaches. Put lstmadapt downstream of lstmphonemes with "
       "attach-meta=true (directly, or through elements that keep buffer metas)"), (NULL));
}

/* Streaming thread, per buffer: the frames of its meta go to the adapter. FALSE after
 * posting an error (the labels do not fit the audio). */
static gboolean
take_frames (GstLstmAdapt *self, GstBuffer *buffer)
{
  GstCustomMeta *meta;
  GstPhonemeMetaView view;
  gboolean enabled;

  GST_OBJECT_LOCK (self);
  enabled = self->enabled;
  GST_OBJECT_UNLOCK (self);
  note_audio_end (self, buffer);
  if (!check_labels_against_duration (self))
    return FALSE;
  if (!enabled) {
    self->was_enabled = FALSE;
    return TRUE;
  }
  self->resume_run |= !self->was_enabled;
  self->was_enabled = TRUE;
  discover_phonemes_elements (self);
  meta = gst_phoneme_meta_get (buffer);
  check_meta_arrives (self, buffer, meta != NULL);
  if (!meta) {
    GST_LOG_OBJECT (self, "buffer pts %" GST_TIME_FORMAT " without phoneme meta",
                    GST_TIME_ARGS (GST_BUFFER_PTS (buffer)));
    return TRUE;
  }
  if (!gst_phoneme_meta_view (gst_custom_meta_get_structure (meta), &view)) {
    if (!self->warned_meta)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("A phoneme meta does not have the documented fields and sizes: ignored"), (NULL));
    self->warned_meta = TRUE;
    return TRUE;
  }
  push_meta_frames (self, &view);
  GST_LOG_OBJECT (self, "buffer pts %" GST_TIME_FORMAT ": %u frames from its meta",
                  GST_TIME_ARGS (GST_BUFFER_PTS (buffer)), view.n_frames);
  return TRUE;
}

static GstFlowReturn
gst_lstm_adapt_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (parent);

  (void) pad;
  if (!take_frames (self, buffer)) {
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
  return gst_pad_push (self->srcpad, buffer);
}

/* Forgets what the streaming thread knows of the stream. */
static void
reset_stream_state (GstLstmAdapt *self)
{
  self->first_pts = GST_CLOCK_TIME_NONE;
  self->seen_meta = FALSE;
  self->duration_asked = FALSE;
}

/* EOS: the adapter trains what is queued, publishes and writes save-location. */
static void
finish_stream (GstLstmAdapt *self)
{
  gchar *path;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->save_location);
  GST_OBJECT_UNLOCK (self);
  ph_adapter_finish_stream (self->adapter, path);
  g_free (path);
}

static void
set_caps_rate (GstLstmAdapt *self, GstCaps *caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  gint rate = 0;

  if (!s || !gst_structure_get_int (s, "rate", &rate))
    rate = 0;
  ph_adapter_set_audio_rate (self->adapter, rate > 0 ? (guint) rate : 0);
}

static gboolean
gst_lstm_adapt_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (parent);
  GstCaps *caps;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
      gst_event_parse_caps (event, &caps);
      set_caps_rate (self, caps);
      break;
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    case GST_EVENT_STREAM_START:
      reset_stream_state (self);
      gst_model_share_link_invalidate (&self->link);
      ph_adapter_begin_stream (self->adapter);
      break;
    case GST_EVENT_FLUSH_START:
      ph_adapter_set_flushing (self->adapter, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      ph_adapter_set_flushing (self->adapter, FALSE);
      reset_stream_state (self);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      break;
    case GST_EVENT_EOS:
      finish_stream (self);
      reset_stream_state (self);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* ---- the labels pad (gstlstmadaptlabels.c) ---- */

static GstPad *
gst_lstm_adapt_request_new_pad (GstElement *element, GstPadTemplate *templ,
                                const gchar *name, const GstCaps *caps)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (element);
  GstPad *pad;

  (void) name;
  (void) caps;
  GST_OBJECT_LOCK (self);
  if (self->labels_pad) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "there is already a labels pad");
    return NULL;
  }
  pad = gst_lstm_adapt_labels_pad_new (templ, self->adapter);
  self->labels_pad = pad;
  GST_OBJECT_UNLOCK (self);
  ph_adapter_expect_timed_labels (self->adapter, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_lstm_adapt_release_pad (GstElement *element, GstPad *pad)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (element);

  GST_OBJECT_LOCK (self);
  if (pad != self->labels_pad) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  self->labels_pad = NULL;
  GST_OBJECT_UNLOCK (self);
  ph_adapter_expect_timed_labels (self->adapter, FALSE);
  gst_element_remove_pad (element, pad);
}

/* ---- the save action ---- */

/* The `save` action signal: writes the adapted model to `location` (NULL:
 * save-location) now. TRUE when written; a warning says why not otherwise. */
static gboolean
gst_lstm_adapt_save_action (GstLstmAdapt *self, const gchar *location)
{
  gchar *path;
  PhModel *model;
  GError *error = NULL;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK (self);
  path = g_strdup (location && *location ? location : self->save_location);
  GST_OBJECT_UNLOCK (self);
  if (!path || !*path) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("save: no file given: set save-location or pass a path"), (NULL));
  } else if (!(model = ph_adapter_snapshot (self->adapter))) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("save: nothing adapted yet, %s not written (no model found to adapt, or no "
         "frame trained)", path), (NULL));
  } else {
    ok = ph_model_save_file (model, path, &error);
    if (!ok) {
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("save: cannot write the adapted model: %s", error->message), (NULL));
      g_error_free (error);
    }
    ph_model_unref (model);
  }
  g_free (path);
  return ok;
}

/* ---- start / stop ---- */

/* Loads labels-location (NULL + TRUE without one); FALSE after posting an error (a
 * warning while `playing`, the previous labels staying). */
static gboolean
load_file_labels (GstLstmAdapt *self, const gchar *path, gboolean playing, GArray **labels)
{
  GError *error = NULL;

  *labels = NULL;
  if (!path)
    return TRUE;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_set_error (&error, PH_ERROR, PH_ERROR_IO, "labels file %s does not exist", path);
  else
    *labels = ph_labels_read_phn (path, 0, &error);
  if (*labels)
    return TRUE;
  if (playing)
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("Cannot read the labels, keeping the previous ones: %s", error->message),
        ("labels-location = %s", path));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Cannot read the labels: %s",
        error->message), ("labels-location = %s", path));
  g_error_free (error);
  return FALSE;
}

/* Warns when the mode has nothing to train on yet (both can still be set playing). */
static void
warn_missing_targets (GstLstmAdapt *self, GstLstmAdaptMode mode, gboolean have_labels,
                      gboolean have_prompt)
{
  if (mode == GST_LSTM_ADAPT_MODE_SUPERVISED && !have_labels)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("mode=supervised without labels-location nor a linked labels pad: there is "
         "nothing to train on"), (NULL));
  if (mode == GST_LSTM_ADAPT_MODE_PROMPTED && !have_prompt)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("mode=prompted without prompt-text: nothing is trained until prompt-text is set "
         "to the text the speaker reads"), (NULL));
}

/* Loads labels-location and parses prompt-text into the adapter; posts an error and
 * returns FALSE when the user's input cannot be used. */
static gboolean
load_inputs (GstLstmAdapt *self)
{
  gchar *labels_path, *prompt;
  GstLstmAdaptMode mode;
  GError *error = NULL;
  GArray *labels = NULL;
  GPtrArray *words = NULL;
  gboolean have_pad, ok = FALSE;

  GST_OBJECT_LOCK (self);
  labels_path = g_strdup (self->labels_location);
  prompt = g_strdup (self->prompt_text);
  mode = (GstLstmAdaptMode) self->config.mode;
  have_pad = self->labels_pad != NULL;
  GST_OBJECT_UNLOCK (self);

  if (!load_file_labels (self, labels_path, FALSE, &labels))
    goto done;
  if (prompt && *prompt && !(words = parse_prompt (prompt, &error))) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("Cannot use the prompt: %s", error->message),
                       (NULL));
    g_error_free (error);
    g_clear_pointer (&labels, g_array_unref);
    goto done;
  }
  warn_missing_targets (self, mode, labels || have_pad, words != NULL);
  ph_adapter_set_file_labels (self->adapter, labels, labels_path);
  ph_adapter_set_prompt (self->adapter, words);
  ok = TRUE;
done:
  g_free (labels_path);
  g_free (prompt);
  return ok;
}

/* Checks that save-location can be written: found at start, not at the end of the
 * stream. FALSE after posting an error. */
static gboolean
check_save_location (GstLstmAdapt *self)
{
  GError *error = NULL;
  gchar *path;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->save_location);
  GST_OBJECT_UNLOCK (self);
  ok = !path || !*path || ph_file_check_writable (path, &error);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot write the adapted model to %s: %s; set save-location to a file in a "
         "writable folder", path, error->message), ("save-location = %s", path));
    g_error_free (error);
  }
  g_free (path);
  return ok;
}

/* At start: the lstmphonemes to adapt must exist and attach the meta
 * (gst_model_share_check). FALSE after posting an error naming the fix. */
static gboolean
check_phonemes_element (GstLstmAdapt *self)
{
  GError *error = NULL;
  gboolean ok = TRUE;
  gchar *name;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->model_name);
  GST_OBJECT_UNLOCK (self);
  if (!gst_model_share_check (GST_ELEMENT (self), self->sinkpad, name, &error)) {
    gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR, error->domain,
                              error->code, g_strdup (error->message), NULL, __FILE__,
                              G_STRFUNC, __LINE__);
    g_error_free (error);
    ok = FALSE;
  }
  g_free (name);
  return ok;
}

static gboolean
gst_lstm_adapt_start (GstLstmAdapt *self)
{
  PhAdapterConfig config;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  config = self->config;
  GST_OBJECT_UNLOCK (self);
  if (!ph_adapter_config_check (&config, NULL, &error)) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("Cannot adapt: %s", error->message), (NULL));
    g_error_free (error);
    return FALSE;
  }
  if (!load_inputs (self) || !check_save_location (self) || !check_phonemes_element (self))
    return FALSE;

  ph_adapter_set_config (self->adapter, &config);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  reset_stream_state (self);
  self->was_enabled = TRUE;
  self->resume_run = FALSE;
  gst_model_share_link_forget (&self->link);
  self->warned_no_element = self->warned_meta = self->warned_no_meta = FALSE;
  ph_adapter_start_thread (self->adapter);
  GST_OBJECT_LOCK (self);
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Stops the training thread (after the frame in hand) and keeps the adapted model for
 * `save` in READY. */
static void
gst_lstm_adapt_stop (GstLstmAdapt *self)
{
  ph_adapter_reset (self->adapter);
  gst_model_share_link_forget (&self->link);
  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  GST_OBJECT_UNLOCK (self);
}

static GstStateChangeReturn
gst_lstm_adapt_change_state (GstElement *element, GstStateChange transition)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !gst_lstm_adapt_start (self))
    return GST_STATE_CHANGE_FAILURE;
  /* Before the pads deactivate: wakes an EOS that waits for the training thread. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    ph_adapter_stop_thread (self->adapter);
  ret = GST_ELEMENT_CLASS (gst_lstm_adapt_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE))
    gst_lstm_adapt_stop (self);
  return ret;
}

/* A context naming an lstmphonemes element: stored by GstElement (gstmodelshare.c reads
 * it from there); the next buffer looks for the elements again. */
static void
gst_lstm_adapt_set_context (GstElement *element, GstContext *context)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (element);

  GST_ELEMENT_CLASS (gst_lstm_adapt_parent_class)->set_context (element, context);
  if (gst_context_has_context_type (context, GST_MODEL_SHARE_CONTEXT_TYPE))
    gst_model_share_link_invalidate (&self->link);
}

/* ---- properties ---- */

/* labels-location while running: loaded here; a bad file warns and keeps the old. */
static void
set_labels_location (GstLstmAdapt *self, const gchar *path)
{
  gboolean started;
  GArray *labels;

  if (path && !*path)
    path = NULL;
  GST_OBJECT_LOCK (self);
  g_free (self->labels_location);
  self->labels_location = g_strdup (path);
  started = self->started;
  GST_OBJECT_UNLOCK (self);
  if (started && load_file_labels (self, path, TRUE, &labels))   /* else start() loads it */
    ph_adapter_set_file_labels (self->adapter, labels, path);
}

/* prompt-text: parsed here; a text without a pronunciation warns and is ignored. */
static void
set_prompt_text (GstLstmAdapt *self, const gchar *text)
{
  GPtrArray *words = NULL;
  GError *error = NULL;
  gboolean started;

  GST_OBJECT_LOCK (self);
  started = self->started;
  GST_OBJECT_UNLOCK (self);
  if (started && text && *text && !(words = parse_prompt (text, &error))) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Cannot use the prompt, ignoring it: %s", error->message), (NULL));
    g_error_free (error);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->prompt_text);
  self->prompt_text = g_strdup (text);
  GST_OBJECT_UNLOCK (self);
  if (started)
    ph_adapter_set_prompt (self->adapter, words);
}

/* Sets a property of the adapter's config; FALSE when `prop_id` is not one. Object
 * lock held. */
static gboolean
set_config_property (PhAdapterConfig *config, guint prop_id, const GValue *value)
{
  switch (prop_id) {
    case PROP_K1: config->train.k1 = g_value_get_uint (value); break;
    case PROP_K2: config->train.k2 = g_value_get_uint (value); break;
    case PROP_SCHEDULE: config->train.schedule = g_value_get_enum (value); break;
    case PROP_LEARNING_RATE: config->train.learning_rate = g_value_get_float (value); break;
    case PROP_MOMENTUM: config->train.momentum = g_value_get_float (value); break;
    case PROP_OPTIMIZER: config->train.optimizer = g_value_get_enum (value); break;
    case PROP_CLIP: config->train.clip_norm = g_value_get_float (value); break;
    case PROP_ANCHOR_WEIGHT: config->train.anchor_weight = g_value_get_float (value); break;
    case PROP_CONFIDENCE_THRESHOLD:
      config->confidence_threshold = g_value_get_float (value);
      break;
    case PROP_REPLAY_PASSES: config->replay_passes = g_value_get_uint (value); break;
    case PROP_REPLAY_HOLDOUT: config->replay_holdout = g_value_get_uint (value); break;
    case PROP_MODE: config->mode = (PhAdaptMode) g_value_get_enum (value); break;
    case PROP_MAX_BACKLOG: config->max_backlog = g_value_get_uint (value); break;
    case PROP_PUBLISH_INTERVAL: config->publish_interval = g_value_get_uint (value); break;
    default: return FALSE;
  }
  return TRUE;
}

/* Reads a property of the adapter's config; FALSE when `prop_id` is not one. */
static gboolean
get_config_property (const PhAdapterConfig *config, guint prop_id, GValue *value)
{
  switch (prop_id) {
    case PROP_K1: g_value_set_uint (value, config->train.k1); break;
    case PROP_K2: g_value_set_uint (value, config->train.k2); break;
    case PROP_SCHEDULE: g_value_set_enum (value, config->train.schedule); break;
    case PROP_LEARNING_RATE: g_value_set_float (value, config->train.learning_rate); break;
    case PROP_MOMENTUM: g_value_set_float (value, config->train.momentum); break;
    case PROP_OPTIMIZER: g_value_set_enum (value, config->train.optimizer); break;
    case PROP_CLIP: g_value_set_float (value, config->train.clip_norm); break;
    case PROP_ANCHOR_WEIGHT: g_value_set_float (value, config->train.anchor_weight); break;
    case PROP_CONFIDENCE_THRESHOLD:
      g_value_set_float (value, config->confidence_threshold);
      break;
    case PROP_REPLAY_PASSES: g_value_set_uint (value, config->replay_passes); break;
    case PROP_REPLAY_HOLDOUT: g_value_set_uint (value, config->replay_holdout); break;
    case PROP_MODE: g_value_set_enum (value, (gint) config->mode); break;
    case PROP_MAX_BACKLOG: g_value_set_uint (value, config->max_backlog); break;
    case PROP_PUBLISH_INTERVAL: g_value_set_uint (value, config->publish_interval); break;
    default: return FALSE;
  }
  return TRUE;
}

/* Replaces the string property `*field` by `value`; object lock held. */
static void
replace_string (gchar **field, const GValue *value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_lstm_adapt_set_property (GObject *object, guint prop_id, const GValue *value,
                             GParamSpec *pspec)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);
  PhAdapterConfig config;

  if (prop_id == PROP_LABELS_LOCATION)
    set_labels_location (self, g_value_get_string (value));
  else if (prop_id == PROP_PROMPT_TEXT)
    set_prompt_text (self, g_value_get_string (value));
  else if (prop_id == PROP_LABELS_RATE)
    ph_adapter_set_labels_rate (self->adapter, g_value_get_uint (value));
  if (prop_id == PROP_LABELS_LOCATION || prop_id == PROP_PROMPT_TEXT ||
      prop_id == PROP_LABELS_RATE)
    return;
  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_ENABLED) {
    self->enabled = g_value_get_boolean (value);
  } else if (prop_id == PROP_MODEL_NAME) {
    replace_string (&self->model_name, value);
    gst_model_share_link_invalidate (&self->link);
  } else if (prop_id == PROP_SAVE_LOCATION) {
    replace_string (&self->save_location, value);
  } else if (!set_config_property (&self->config, prop_id, value)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  config = self->config;
  GST_OBJECT_UNLOCK (self);
  ph_adapter_set_config (self->adapter, &config);
}

static void
gst_lstm_adapt_get_property (GObject *object, guint prop_id, GValue *value,
                             GParamSpec *pspec)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);

  if (prop_id == PROP_WINDOWS_DROPPED)
    g_value_set_uint64 (value, ph_adapter_windows_dropped (self->adapter));
  else if (prop_id == PROP_BACKLOG)
    g_value_set_uint (value, ph_adapter_backlog (self->adapter));
  else if (prop_id == PROP_LABELS_RATE)
    g_value_set_uint (value, ph_adapter_get_labels_rate (self->adapter));
  if (prop_id == PROP_WINDOWS_DROPPED || prop_id == PROP_BACKLOG || prop_id == PROP_LABELS_RATE)
    return;
  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_ENABLED)
    g_value_set_boolean (value, self->enabled);
  else if (prop_id == PROP_LABELS_LOCATION)
    g_value_set_string (value, self->labels_location);
  else if (prop_id == PROP_PROMPT_TEXT)
    g_value_set_string (value, self->prompt_text);
  else if (prop_id == PROP_MODEL_NAME)
    g_value_set_string (value, self->model_name);
  else if (prop_id == PROP_SAVE_LOCATION)
    g_value_set_string (value, self->save_location);
  else if (!get_config_property (&self->config, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_adapt_finalize (GObject *object)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);

  ph_adapter_free (self->adapter);
  gst_model_share_link_clear (&self->link);
#ifdef PH_HAVE_LEXICON
#endif
  g_free (self->labels_location);
  g_free (self->prompt_text);
  g_free (self->model_name);
  g_free (self->save_location);
  G_OBJECT_CLASS (gst_lstm_adapt_parent_class)->finalize (object);
}

static void
install_training_properties (GParamSpec **properties, GParamFlags rw)
{
  properties[PROP_K1] = g_param_spec_uint ("k1", "k1",
          "schedule=truncated: frames between two weight updates (10 ms each)",
          1, MAX_STEPS, DEFAULT_K1, rw);
  properties[PROP_K2] = g_param_spec_uint ("k2", "k2",
          "schedule=truncated: frames each update backpropagates through (10 ms each); "
          "k1 + k2 is limited by the memory the stored activations need",
          1, MAX_STEPS, DEFAULT_K2, rw);
  properties[PROP_SCHEDULE] = g_param_spec_enum ("schedule", "Schedule",
          "When to update: truncated (every k1 frames over the last k2), framewise "
          "(every frame, back to the sequence start) or sentence (once per sequence, at "
          "its end); a sequence is a run of lstmphonemes' LSTM state (from the stream start,"
          " reset or discont that zeroed it), the presets keep at most 1000 frames (10 s) "
          "of it", GST_TYPE_LSTM_ADAPT_SCHEDULE, DEFAULT_SCHEDULE, rw);
  properties[PROP_LEARNING_RATE] = g_param_spec_float ("learning-rate", "Learning rate",
          "Optimizer step size", 1e-9f, 10.0f, DEFAULT_LEARNING_RATE, rw);
  properties[PROP_MOMENTUM] = g_param_spec_float ("momentum", "Momentum",
          "Momentum of optimizer=momentum, beta1 of optimizer=adam", 0.0f, 0.999f,
          DEFAULT_MOMENTUM, rw);
  properties[PROP_OPTIMIZER] = g_param_spec_enum ("optimizer", "Optimizer", "The update rule",
          GST_TYPE_LSTM_ADAPT_OPTIMIZER, DEFAULT_OPTIMIZER, rw);
  properties[PROP_CLIP] = g_param_spec_float ("clip", "Gradient clip",
          "Largest global gradient norm of an update (larger ones are scaled down); "
          "0 = no clipping", 0.0f, 1e6f, DEFAULT_CLIP, rw);
  properties[PROP_ANCHOR_WEIGHT] = g_param_spec_float ("anchor-weight", "Anchor weight",
          "Strength of the L2 pull of the weights back toward lstmphonemes' weights "
          "when adaptation started (keeps mode=self from drifting); 0 = off, -1 = "
          "automatic: 5 in mode=self, 0 in the other modes",
          -1.0f, 1e6f, DEFAULT_ANCHOR_WEIGHT, rw);
}

static void
install_properties (GObjectClass *gobject_class)
{
  GParamSpec *properties[N_PROPERTIES] = { NULL };
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  install_training_properties (properties, rw);
  properties[PROP_CONFIDENCE_THRESHOLD] = g_param_spec_float ("confidence-threshold",
          "Confidence threshold",
          "mode=self: a frame is trained on (toward its own argmax) when lstmphonemes' "
          "posterior of that phone is at least this", 0.0f, 1.0f,
          DEFAULT_CONFIDENCE_THRESHOLD, rw);
  properties[PROP_REPLAY_PASSES] = g_param_spec_uint ("replay-passes", "Replay passes",
          "mode=prompted, enrollment: when the reading ends (end of stream, or another "
          "prompt-text), go over its segments again up to this many times on the training "
          "thread, re-aligning them with the adapting model before each pass; with "
          "replay-holdout, the weights that decode the held-back segments best are kept "
          "(the starting ones unless clearly better) and a pass that does no better stops "
          "it. 0: train on the reading once, as it comes", 0, PH_ADAPT_MAX_REPLAY_PASSES,
          DEFAULT_REPLAY_PASSES, rw);
  properties[PROP_REPLAY_HOLDOUT] = g_param_spec_uint ("replay-holdout", "Replay holdout",
          "mode=prompted with replay-passes: every Nth accepted segment of the reading is "
          "held back (never trained on) to measure each pass by its phone error rate "
          "against the words' dictionary phones. 0: none held back, every pass kept; "
          "1 is not allowed", 0, G_MAXUINT, DEFAULT_REPLAY_HOLDOUT, rw);
  properties[PROP_MODE] = g_param_spec_enum ("mode", "Mode",
          "Where the targets come from: supervised (labels-location or the labels pad), "
          "prompted (forced alignment of the reading of prompt-text) or self (the "
          "model's confident frames). Frames without a target carry state only",
          GST_TYPE_LSTM_ADAPT_MODE, DEFAULT_MODE, rw);
  properties[PROP_LABELS_LOCATION] = g_param_spec_string ("labels-location", "Labels location",
          "mode=supervised: a TIMIT .PHN file (\"start end phone\" in samples at "
          "labels-rate, times from stream time 0) labelling the audio; a frame's "
          "target is the label covering its centre. Missing or malformed: error at start",
          NULL, rw);
  properties[PROP_LABELS_RATE] = g_param_spec_uint ("labels-rate", "Labels rate",
          "mode=supervised: sample rate (Hz) of the samples in labels-location; 0 = the "
          "rate of the audio reaching lstmadapt. A .PHN written for the original file "
          "(`phonemes align`, TIMIT) counts samples at that file's rate, which "
          "audioresample changes: give it here. Labels that end far from the audio's "
          "end (by more than 0.25 s or a tenth of the audio) are refused with an error, "
          "at the first buffer when upstream knows the duration, else at EOS",
          0, G_MAXINT, DEFAULT_LABELS_RATE, rw);
  properties[PROP_PROMPT_TEXT] = g_param_spec_string ("prompt-text", "Prompt text",
          "mode=prompted: the text the speaker reads (or a phone transcription such as "
          "\"hh ax l ow / w er l d\"), from the next buffer on, as long as wanted: the "
          "reading is cut at pauses and each stretch force-aligned, with the current "
          "model, to the words that follow those already read (a repeated or skipped word "
          "is allowed), then trained on; a reading that does not match is not",
          NULL, rw);
  properties[PROP_MODEL_NAME] = g_param_spec_string ("model-name", "Model name",
          "Adapt the lstmphonemes element(s) with this model-name in this process "
          "(across a tee or another pipeline); NULL: the lstmphonemes upstream",
          NULL, rw);
  properties[PROP_MAX_BACKLOG] = g_param_spec_uint ("max-backlog", "Maximum backlog",
          "Frames (10 ms each) waiting for the training thread at most; when it falls "
          "further behind, whole training windows are dropped (counted in "
          "windows-dropped) and the audio never waits",
          1, MAX_BACKLOG, DEFAULT_MAX_BACKLOG, rw);
  properties[PROP_PUBLISH_INTERVAL] = g_param_spec_uint ("publish-interval", "Publish interval",
          "Weight updates between two publications of the adapted weights to the "
          "lstmphonemes element (each followed by an \"lstmadapt\" message)",
          1, MAX_PUBLISH_INTERVAL, DEFAULT_PUBLISH_INTERVAL, rw);
  properties[PROP_SAVE_LOCATION] = g_param_spec_string ("save-location", "Save location",
          "Model file (.phm) the adapted model is written to at EOS and by the `save` "
          "action signal; NULL: not written", NULL, rw);
  properties[PROP_ENABLED] = g_param_spec_boolean ("enabled", "Enabled",
          "Adapt; FALSE pauses adaptation (frames are ignored, the audio still flows)",
          DEFAULT_ENABLED, rw);
  properties[PROP_WINDOWS_DROPPED] = g_param_spec_uint64 ("windows-dropped", "Windows dropped",
          "Training windows that lost frames because the backlog was full, since start",
          0, G_MAXUINT64, 0, ro);
  properties[PROP_BACKLOG] = g_param_spec_uint ("backlog", "Backlog",
          "Frames waiting for the training thread now", 0, G_MAXUINT, 0, ro);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);
}

static void
gst_lstm_adapt_class_init (GstLstmAdaptClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_lstm_adapt_debug, "lstmadapt", 0,
                           "online adaptation of the lstmphonemes model");

  gobject_class->set_property = gst_lstm_adapt_set_property;
  gobject_class->get_property = gst_lstm_adapt_get_property;
  gobject_class->finalize = gst_lstm_adapt_finalize;
  install_properties (gobject_class);

  /**
   * GstLstmAdapt::save:
   * @location: file to write, or NULL for save-location
   *
   * Action signal: writes the adapted model now. Returns TRUE when written (a
   * warning message says why not otherwise).
   */
  signals[SIGNAL_SAVE] = g_signal_new_class_handler ("save", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, G_CALLBACK (gst_lstm_adapt_save_action),
      NULL, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  gst_element_class_set_static_metadata (element_class, "LSTM phoneme model adaptation",
      "Filter/Analyzer/Audio",
      "Trains the model of an lstmphonemes element on the speech it hears, while it runs",
      "phonemes project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &labels_template);

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_lstm_adapt_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_lstm_adapt_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_lstm_adapt_release_pad);
  element_class->set_context = GST_DEBUG_FUNCPTR (gst_lstm_adapt_set_context);

  gst_type_mark_as_plugin_api (GST_TYPE_LSTM_ADAPT_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_LSTM_ADAPT_SCHEDULE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_LSTM_ADAPT_OPTIMIZER, 0);
}

static void
gst_lstm_adapt_init (GstLstmAdapt *self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_lstm_adapt_chain));
  gst_pad_set_event_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_lstm_adapt_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  GST_PAD_SET_PROXY_SCHEDULING (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->srcpad);
  GST_PAD_SET_PROXY_SCHEDULING (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  ph_adapter_config_init (&self->config);
  self->enabled = DEFAULT_ENABLED;
  gst_model_share_link_init (&self->link);
  self->adapter = ph_adapter_new (&self->config, &adapter_callbacks, self);
  self->first_pts = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  reset_stream_state (self);
  self->was_enabled = TRUE;
}
