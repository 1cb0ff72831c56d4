/* gstlstmadapt.c: the lstmadapt element: online adaptation of a running lstmphonemes
 * model with truncated BPTT(k1, k2), never stalling the audio.
 *
 *   sink ──► (audio passes through untouched) ──► src
 *     │ streaming thread: copies each frame of the phoneme meta (features, time, argmax,
 *     │ posteriors) into a bounded ring under `lock`, and nothing else
 *     ▼
 *   ring (max-backlog frames) ──► training thread: target for the frame (labels,
 *     alignment or pseudo-label), ph_trainer_feed, and every publish-interval updates
 *     a copy of the weights goes to gst_lstm_phonemes_publish_model (a pointer swap
 *     the labeller picks up at its next buffer) and an "lstmadapt" message is posted.
 *
 * When the ring is full the streaming thread drops frames up to the next training
 * window boundary (a window is k1 frames for truncated, 1 for framewise,
 * SEQUENCE_MAX_FRAMES for sentence) and keeps dropping whole windows until the ring
 * is at most half full; each window that lost frames is counted in windows-dropped,
 * and the trainer starts a new sequence where frames were lost.
 *
 * Sequences: the trainer's sequence ends (pending chunk trained, state zeroed) at a
 * DISCONT (from the first frame at or after the buffer's PTS: lstmphonemes puts the
 * tail of the previous run on the DISCONT buffer), a jump in the frame timestamps,
 * STREAM_START, EOS and where frames were dropped; FLUSH drops the pending chunk.
 *
 * Locks: the object lock guards properties; `lock` guards what the streaming, labels
 * and training threads share (ring, pad labels, file labels, flags), with `cond` for
 * waking; `train_lock` is held by the training thread while it uses the trainer, so
 * the `save` action can copy the weights between two frames. The object lock and
 * `lock` are never held together; no lock is held while posting or pushing.
 *
 * EOS: the streaming thread waits until the frames queued so far are trained (at
 * most max-backlog frames), the last update published and save-location written, then
 * passes EOS on. Leaving PAUSED stops the training thread after the frame in hand. */
#include "gstlstmadapt.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "gstlstmphonemes.h"
#include "gstmodelshare.h"
#include "gstphonememeta.h"
#include "phonemes.h"
#ifdef PH_HAVE_LEXICON
#include "ph_lexicon.h"
#endif

GST_DEBUG_CATEGORY_STATIC (gst_lstm_adapt_debug);
#define GST_CAT_DEFAULT gst_lstm_adapt_debug

#define DEFAULT_K1 20
#define DEFAULT_K2 20
#define DEFAULT_SCHEDULE PH_SCHEDULE_TRUNCATED
#define DEFAULT_LEARNING_RATE 1e-3f
#define DEFAULT_MOMENTUM 0.9f
#define DEFAULT_OPTIMIZER PH_OPTIMIZER_ADAM
#define DEFAULT_CLIP 1.0f
#define DEFAULT_ANCHOR_WEIGHT -1.0f      /* automatic */
/* The automatic anchor-weight of mode=self. Self-training on a voice the model does
 * not know yet drifts (confidently wrong frames teach themselves): bench/adapt
 * measured -29 points of frame accuracy without an anchor, -0.1 with 3, 0 with 10. */
#define SELF_ANCHOR_WEIGHT 5.0f
#define DEFAULT_CONFIDENCE_THRESHOLD 0.9f
#define DEFAULT_MODE GST_LSTM_ADAPT_MODE_SUPERVISED
#define DEFAULT_MAX_BACKLOG 1000
#define DEFAULT_PUBLISH_INTERVAL 5
#define DEFAULT_ENABLED TRUE
#define DEFAULT_LABELS_RATE 0            /* the audio's rate */

#define MAX_STEPS 10000             /* k1, k2: 100 s of frames */
#define MAX_BACKLOG 360000          /* one hour of frames */
#define MAX_PUBLISH_INTERVAL 1000000
/* Frames the framewise and sentence schedules keep at most (10 s): a sentence longer
 * than this is updated every SEQUENCE_MAX_FRAMES frames. */
#define SEQUENCE_MAX_FRAMES 1000
/* Stored activations the trainer may use, bytes. */
#define MAX_TRAINER_BYTES ((gsize) 512 << 20)
/* Labels from the labels pad kept at most. */
#define MAX_PAD_LABELS 100000
/* Nice increment of the training thread (Linux). */
#define TRAINING_NICE 10
/* Buffers between two searches for a labeller when none was found. */
#define DISCOVERY_RETRY_BUFFERS 100
/* Audio without any phoneme meta after which a warning says so. */
#define NO_META_WARNING_AFTER GST_SECOND
/* labels-location must end within this of the audio's end, or a tenth of the audio,
 * whichever is more: labels from TIMIT, `phonemes align` or write-phn.sh tile the audio
 * to within a frame. */
#define LABELS_FIT_TOLERANCE (250 * GST_MSECOND)

/* prompted mode: the audio kept for one prompt, and the trailing silence (frames
 * whose argmax is a silence) that says the prompt has been read. */
#define PROMPT_MAX_FRAMES 6000
#define PROMPT_END_SILENCE_FRAMES 50

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
};

enum {
  SIGNAL_SAVE,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

/* What the training thread copies from the properties. */
typedef struct {
  PhTrainConfig train;
  GstLstmAdaptMode mode;
  float confidence_threshold;
  guint publish_interval;
  guint max_backlog;
  gboolean enabled;
} Settings;

enum {
  FRAME_BREAK = 1 << 0,   /* the trainer's sequence ends before this frame */
};

/* Per frame, beside its features and posteriors. */
typedef struct {
  guint flags;
  gint phone;                 /* labeller's argmax */
  float confidence;           /* its posterior */
  GstClockTime stream_time;   /* centre of the frame, stream time (labels) */
  GstClockTime running_time;  /* start of the frame (messages) */
  guint prompt_serial;        /* prompt-text in force when the frame arrived */
} FrameInfo;

/* Bounded FIFO of frames; storage allocated once per (capacity, dim). */
typedef struct {
  guint capacity, head, count, dim;
  FrameInfo *info;
  float *features;    /* capacity x dim */
  float *posteriors;  /* capacity x PH_NUM_PHONES */
} FrameRing;

/* A label from the labels pad, in stream time. */
typedef struct {
  GstClockTime start, end;
  gint phone;
} TimedLabel;

/* One frame in the training thread's hands. */
typedef struct {
  FrameInfo info;
  float *features;                /* dim, scratch owned by the Training */
  float posteriors[PH_NUM_PHONES];
  gint target;                    /* supervised: from the labels, -1 = none */
} Frame;

/* The frames of the current prompt reading (prompted mode). */
typedef struct {
  GArray *features;     /* float, n x dim */
  GArray *posteriors;   /* float, n x 61 */
  GstClockTime last_running_time;
  guint n_frames;
  guint speech_frames;
  guint trailing_silence;
  GPtrArray *words;     /* the prompt (PhWord *), NULL = none */
  guint serial;         /* prompt_serial of `words` */
  gboolean done;        /* aligned and trained: wait for the next prompt */
} PromptWindow;

/* Training thread state (the save action reads `trainer`, `bf16_storage` and
 * `final_model` under train_lock). */
typedef struct {
  PhTrainer *trainer;
  gboolean bf16_storage;     /* `initial` has bfloat16 recurrent weights (adapted_copy) */
  PhModel *initial;          /* the labeller's model the trainer started from */
  PhModel *final_model;      /* the adapted model after stop, for `save` in READY */
  guint model_serial;        /* labeller's model serial when `initial` was taken */
  Settings settings;
  guint settings_serial;
  GPtrArray *labellers;      /* GstElement refs to publish to */
  float *features;           /* scratch, dim floats */
  guint dim;
  PhTrainStats done_stats;   /* of trainers replaced since start */
  guint updates_since_publish;
  guint64 reported_targeted, reported_correct;
  GstClockTime last_running_time;
  GstClockTime last_stream_end;
  gint64 cpu_start_ns;
  guint64 nonfinite_frames;
  guint64 supervised_frames, unlabelled_frames;
  gboolean warned_dim, warned_settings, warned_nonfinite;
  PromptWindow prompt;
  /* mode=self: the frozen starting model (`initial`) run on the same frames, to report
   * how often the labeller's argmax still agrees with it. */
  PhLstmState *frozen_state;
  float frozen_posteriors[PH_NUM_PHONES];
  gint *recent_phones;       /* the labeller's argmax of the last delay + 1 frames */
  guint64 frozen_frames;     /* frames stepped since the frozen state was reset */
  guint64 agreed, compared;  /* since the last message */
  /* mode=self with a model that carries a phone LM: targets come from the same phone-LM
   * decoder the labeller runs (default settings); frames wait here until it has decided
   * their phone. */
  PhDecoder *decoder;
  GArray *undecided_features;    /* float, n x dim */
  GArray *undecided_posteriors;  /* float, n x 61 */
} Training;

struct _GstLstmAdapt {
  GstElement parent;

  GstPad *sinkpad, *srcpad;
  GstPad *labels_pad;          /* request pad or NULL; changed under the object lock */

  /* Object lock: properties. */
  Settings settings;
  guint settings_serial;       /* atomic; bumped on every Settings change */
  gchar *labels_location;
  gchar *prompt_text;
  GPtrArray *prompt_words;     /* parsed prompt_text, immutable, replaced */
  guint prompt_serial;
  gchar *model_name;
  gchar *save_location;
  gboolean rediscover;         /* model-name changed: find the labeller again */
  GstElement *context_labeller; /* from gst_element_set_context */
  gboolean started;
#ifdef PH_HAVE_LEXICON
  PhLexicon *lexicon;
#endif

  /* `lock` + `cond`: shared between the streaming, labels and training threads. */
  GMutex lock;
  GCond cond;
  FrameRing ring;
  GArray *file_labels;         /* PhLabel (samples) from labels-location, or NULL */
  gchar *file_labels_name;
  guint labels_rate;           /* labels-rate: Hz of the .PHN samples, 0 = `rate` */
  GstClockTime audio_end;      /* stream time where the audio seen so far ends */
  gboolean fit_checked;        /* the labels were checked against the duration */
  GArray *pad_labels;          /* TimedLabel, arrival order */
  GstClockTime labels_watermark; /* stream time the labels pad has covered */
  gboolean have_labels_pad;
  gboolean labels_eos;
  gboolean running;            /* the training thread should run */
  gboolean flushing;
  gboolean reset_requested;    /* flush: drop the pending chunk */
  gboolean eos_pending, eos_done;
  guint rate;                  /* audio rate from the caps, 0 = unknown */
  GPtrArray *labellers;        /* GstElement refs, immutable, replaced */
  guint64 windows_dropped, frames_dropped;

  /* Streaming thread only. */
  GstSegment segment;
  GstSegment labels_segment;   /* labels pad's streaming thread only */
  gboolean dropping;
  guint64 seq_frames;
  GstClockTime prev_ts;
  GstClockTime discont_at;
  gboolean break_next;
  gboolean was_enabled;
  gboolean discovered;
  guint discovery_countdown;
  gboolean warned_no_labeller, warned_meta, warned_no_meta, seen_meta;
  GstClockTime first_pts;      /* of the stream's first buffer, for warned_no_meta */
  gboolean duration_asked;     /* the labels were checked against the duration, or
                                * upstream could not say it: once per stream */
  guint64 bad_label_lines;
  gboolean warned_overlap;

  /* Training thread. */
  GThread *thread;
  GMutex train_lock;
  Training training;
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

GType
gst_lstm_adapt_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_LSTM_ADAPT_MODE_SUPERVISED, "Targets from labels (labels-location or the labels pad)",
      "supervised" },
    { GST_LSTM_ADAPT_MODE_PROMPTED, "Targets from forced alignment against prompt-text",
      "prompted" },
    { GST_LSTM_ADAPT_MODE_SELF, "Targets from the model's own confident frames", "self" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLstmAdaptMode", values));
  return type;
}

GType
gst_lstm_adapt_schedule_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { PH_SCHEDULE_TRUNCATED, "Every k1 frames, backpropagate k2 frames", "truncated" },
    { PH_SCHEDULE_FRAMEWISE, "Every frame, backpropagate to the sequence start",
      "framewise" },
    { PH_SCHEDULE_SENTENCE, "Once per sequence (discont to discont), at its end",
      "sentence" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLstmAdaptSchedule", values));
  return type;
}

GType
gst_lstm_adapt_optimizer_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { PH_OPTIMIZER_SGD, "Plain stochastic gradient descent", "sgd" },
    { PH_OPTIMIZER_MOMENTUM, "SGD with momentum", "momentum" },
    { PH_OPTIMIZER_ADAM, "Adam (momentum is beta1)", "adam" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstLstmAdaptOptimizer", values));
  return type;
}

/* ---- the frame ring (callers hold `lock`) ---- */

static void
ring_clear (FrameRing *ring)
{
  g_free (ring->info);
  g_free (ring->features);
  g_free (ring->posteriors);
  memset (ring, 0, sizeof *ring);
}

/* Empties the ring and gives it room for `capacity` frames of `dim` values. */
static void
ring_setup (FrameRing *ring, guint capacity, guint dim)
{
  ring_clear (ring);
  ring->capacity = capacity;
  ring->dim = dim;
  ring->info = g_new0 (FrameInfo, capacity);
  ring->features = g_new0 (float, (gsize) capacity * dim);
  ring->posteriors = g_new0 (float, (gsize) capacity * PH_NUM_PHONES);
}

static void
ring_push (FrameRing *ring, const FrameInfo *info, const float *features,
           const float *posteriors)
{
  guint slot = (ring->head + ring->count) % ring->capacity;

  ring->info[slot] = *info;
  memcpy (ring->features + (gsize) slot * ring->dim, features, sizeof (float) * ring->dim);
  memcpy (ring->posteriors + (gsize) slot * PH_NUM_PHONES, posteriors,
          sizeof (float) * PH_NUM_PHONES);
  ring->count++;
}

/* Copies the oldest frame into `frame` (whose features hold ring->dim floats). */
static void
ring_pop (FrameRing *ring, Frame *frame)
{
  guint slot = ring->head;

  frame->info = ring->info[slot];
  memcpy (frame->features, ring->features + (gsize) slot * ring->dim,
          sizeof (float) * ring->dim);
  memcpy (frame->posteriors, ring->posteriors + (gsize) slot * PH_NUM_PHONES,
          sizeof frame->posteriors);
  ring->head = (ring->head + 1) % ring->capacity;
  ring->count--;
}

/* ---- settings ---- */

static void
settings_init (Settings *settings)
{
  ph_train_config_init (&settings->train);
  settings->train.schedule = DEFAULT_SCHEDULE;
  settings->train.k1 = DEFAULT_K1;
  settings->train.k2 = DEFAULT_K2;
  settings->train.optimizer = DEFAULT_OPTIMIZER;
  settings->train.learning_rate = DEFAULT_LEARNING_RATE;
  settings->train.momentum = DEFAULT_MOMENTUM;
  settings->train.clip_norm = DEFAULT_CLIP;
  settings->train.anchor_weight = DEFAULT_ANCHOR_WEIGHT;
  settings->mode = DEFAULT_MODE;
  settings->confidence_threshold = DEFAULT_CONFIDENCE_THRESHOLD;
  settings->publish_interval = DEFAULT_PUBLISH_INTERVAL;
  settings->max_backlog = DEFAULT_MAX_BACKLOG;
  settings->enabled = DEFAULT_ENABLED;
}

/* The trainer config for `settings`: the presets keep at most SEQUENCE_MAX_FRAMES. */
static PhTrainConfig
train_config (const Settings *settings)
{
  PhTrainConfig config = settings->train;

  if (config.schedule != PH_SCHEDULE_TRUNCATED)
    config.max_window = SEQUENCE_MAX_FRAMES;
  if (config.anchor_weight < 0)
    config.anchor_weight = settings->mode == GST_LSTM_ADAPT_MODE_SELF ? SELF_ANCHOR_WEIGHT : 0.0f;
  config.batch_size = 1;
  config.threads = 1;
  return config;
}

/* Frames of one training window, the unit in which frames are dropped. */
static guint
window_frames (const Settings *settings)
{
  switch (settings->train.schedule) {
    case PH_SCHEDULE_FRAMEWISE:
      return 1;
    case PH_SCHEDULE_SENTENCE:
      return SEQUENCE_MAX_FRAMES;
    default:
      return MAX (settings->train.k1, 1);
  }
}

/* Frames of activations the trainer stores at most for `settings`. */
static guint64
stored_frames (const PhTrainConfig *config)
{
  if (config->schedule != PH_SCHEDULE_TRUNCATED)
    return SEQUENCE_MAX_FRAMES + PH_MAX_DELAY;
  return (guint64) config->k1 + config->k2 + PH_MAX_DELAY;
}

/* FALSE + GError when the trainer would be invalid or too large for `model`. */
static gboolean
check_train_config (const PhTrainConfig *config, const PhModel *model, GError **error)
{
  guint64 per_frame, bytes;

  if (!ph_train_config_validate (config, error))
    return FALSE;
  if (!model)
    return TRUE;
  per_frame = model->shape.input_dim + model->shape.output_dim +
      (guint64) model->shape.num_layers * 9 * model->shape.hidden_size;
  bytes = stored_frames (config) * per_frame * sizeof (float);
  if (bytes > MAX_TRAINER_BYTES) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "k1 = %u and k2 = %u would store %" G_GUINT64_FORMAT " MiB of "
                 "activations for this model (at most %" G_GSIZE_FORMAT " MiB): make "
                 "k1 + k2 smaller", config->k1, config->k2, bytes >> 20,
                 MAX_TRAINER_BYTES >> 20);
    return FALSE;
  }
  return TRUE;
}

/* Call with the object lock held after changing `settings`. */
static void
settings_changed (GstLstmAdapt *self)
{
  g_atomic_int_inc (&self->settings_serial);
}

/* ---- labels ---- */

/* Loads labels-location; NULL + GError naming the file and line otherwise. */
static GArray *
load_file_labels (const gchar *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "labels file %s does not exist", path);
    return NULL;
  }
  return ph_labels_read_phn (path, 0, error);
}

/* Label covering `sample` in sorted, non-overlapping `labels`, or -1. */
static gint
file_label_at (const GArray *labels, guint64 sample)
{
  guint lo = 0, hi = labels->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const PhLabel *label = &g_array_index (labels, PhLabel, mid);

    if (sample < label->start)
      hi = mid;
    else if (sample >= label->end)
      lo = mid + 1;
    else
      return label->phone;
  }
  return -1;
}

/* The latest pad label covering `t`, or -1; forgets labels that ended before `t`
 * (frames come in time order). `lock` is held. */
static gint
pad_label_at (GstLstmAdapt *self, GstClockTime t)
{
  GArray *labels = self->pad_labels;
  guint expired = 0;

  while (expired < labels->len && g_array_index (labels, TimedLabel, expired).end <= t)
    expired++;
  if (expired > 0)
    g_array_remove_range (labels, 0, expired);
  for (guint i = labels->len; i-- > 0;) {
    const TimedLabel *label = &g_array_index (labels, TimedLabel, i);

    if (label->start <= t && t < label->end)
      return label->phone;
  }
  return -1;
}

/* Supervised target of a frame centred at stream time `t`. `lock` is held. */
static gint
supervised_target (GstLstmAdapt *self, GstClockTime t, guint model_rate)
{
  guint rate = self->labels_rate ? self->labels_rate : self->rate ? self->rate : model_rate;

  if (!GST_CLOCK_TIME_IS_VALID (t))
    return -1;
  if (self->file_labels)
    return rate ? file_label_at (self->file_labels, gst_util_uint64_scale (t, rate, GST_SECOND))
        : -1;
  if (self->have_labels_pad)
    return pad_label_at (self, t);
  return -1;
}

/* The rate the labels-location samples are read at; `lock` is held. */
static guint
file_labels_rate (GstLstmAdapt *self, guint model_rate)
{
  return self->labels_rate ? self->labels_rate : self->rate ? self->rate : model_rate;
}

/* NULL when the labels-location labels `name`, ending at sample `end_sample` read at
 * `rate`, fit audio that ends at `audio_end` (stream time); else why not, and the fix. */
static gchar *
labels_misfit (const gchar *name, guint64 end_sample, guint rate, GstClockTime audio_end)
{
  static const guint common_rates[] = { 8000, 11025, 16000, 22050, 24000, 32000, 44100,
                                        48000, 96000 };
  GstClockTime labels_end = gst_util_uint64_scale (end_sample, GST_SECOND, rate);
  GstClockTime tolerance = MAX (LABELS_FIT_TOLERANCE, audio_end / 10);
  guint64 implied = audio_end ? gst_util_uint64_scale (end_sample, GST_SECOND, audio_end) : 0;
  gchar *fix = NULL, *text;

  if (labels_end <= audio_end + tolerance && labels_end + tolerance >= audio_end)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (common_rates) && !fix; i++)
    if (common_rates[i] != rate && implied * 100 >= common_rates[i] * 97ull &&
        implied * 100 <= common_rates[i] * 103ull)
      fix = g_strdup_printf ("if they were written at %u Hz (`phonemes align` and `label` "
                             "write the audio file's rate), set labels-rate=%u; otherwise, "
                             "do they belong to this audio?", common_rates[i], common_rates[i]);
  if (!fix)
    fix = g_strdup ("do they belong to this audio? (labels-rate sets the rate of their "
                    "samples)");
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

/* The labels-location labels' misfit with audio ending at `audio_end` (NULL: they fit,
 * or there are none). `lock` is held. */
static gchar *
file_labels_misfit (GstLstmAdapt *self, guint model_rate, GstClockTime audio_end)
{
  guint rate = file_labels_rate (self, model_rate);
  const PhLabel *last;

  if (!self->file_labels || self->file_labels->len == 0 || rate == 0 ||
      !GST_CLOCK_TIME_IS_VALID (audio_end))
    return NULL;
  last = &g_array_index (self->file_labels, PhLabel, self->file_labels->len - 1);
  return labels_misfit (self->file_labels_name, last->end, rate, audio_end);
}

/* TRUE when the oldest queued frame can get its target now: labels from the pad may
 * still be on their way for it. `lock` is held. */
static gboolean
front_frame_ready (GstLstmAdapt *self, GstLstmAdaptMode mode)
{
  GstClockTime t;

  if (mode != GST_LSTM_ADAPT_MODE_SUPERVISED || self->file_labels || !self->have_labels_pad ||
      self->labels_eos || self->eos_pending)
    return TRUE;
  t = self->ring.info[self->ring.head].stream_time;
  return !GST_CLOCK_TIME_IS_VALID (t) ||
      (GST_CLOCK_TIME_IS_VALID (self->labels_watermark) && t <= self->labels_watermark);
}

/* ---- prompts ---- */

/* The words of a prompt: pronounced with the lexicon when there is one, else (or
 * when that fails) read as a phone transcription. NULL + GError otherwise. */
static GPtrArray *
parse_prompt (GstLstmAdapt *self, const gchar *text, GError **error)
{
  GPtrArray *words;
#ifdef PH_HAVE_LEXICON
  GError *lexicon_error = NULL;

  GST_OBJECT_LOCK (self);
  if (!self->lexicon)
    self->lexicon = ph_lexicon_new (&lexicon_error);
  words = self->lexicon ? ph_lexicon_pronounce (self->lexicon, text, &lexicon_error) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (words)
    return words;
  words = ph_words_parse_phones (text, NULL);
  if (words && words->len > 0) {
    g_clear_error (&lexicon_error);
    return words;
  }
  g_clear_pointer (&words, g_ptr_array_unref);
  g_propagate_prefixed_error (error, lexicon_error, "prompt-text \"%s\": ", text);
  return NULL;
#else
  (void) self;
  words = ph_words_parse_phones (text, error);
  if (!words)
    g_prefix_error (error, "prompt-text \"%s\" (this build reads phone transcriptions "
                    "only, e.g. \"hh ax l ow / w er l d\"): ", text);
  return words;
#endif
}

static guint
prompt_phone_count (const GPtrArray *words)
{
  guint n = 0;

  for (guint i = 0; words && i < words->len; i++)
    n += ((const PhWord *) g_ptr_array_index (words, i))->phones->len;
  return n;
}

/* ---- finding the labeller ---- */

/* The lstmphonemes upstream of the sink pad (context query), or NULL. */
static GstElement *
query_upstream_labeller (GstLstmAdapt *self)
{
  GstQuery *query = gst_query_new_context (GST_MODEL_SHARE_CONTEXT_TYPE);
  GstElement *labeller = NULL;

  if (gst_pad_peer_query (self->sinkpad, query)) {
    GstContext *context = NULL;

    gst_query_parse_context (query, &context);
    labeller = gst_model_share_context_get_labeller (context);
  }
  gst_query_unref (query);
  return labeller;
}

static GstElement *
context_labeller (GstLstmAdapt *self)
{
  GstElement *labeller;

  GST_OBJECT_LOCK (self);
  labeller = self->context_labeller ? gst_object_ref (self->context_labeller) : NULL;
  GST_OBJECT_UNLOCK (self);
  return labeller;
}

/* The lstmphonemes elements to adapt: those named by model-name, else the one a
 * context names (upstream's answer, or the application's after NEED_CONTEXT). */
static GPtrArray *
find_labellers (GstLstmAdapt *self)
{
  gchar *name;
  GPtrArray *found;
  GstElement *labeller;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->model_name);
  GST_OBJECT_UNLOCK (self);
  if (name && *name) {
    found = gst_model_share_lookup (name);
    g_free (name);
  } else {
    g_free (name);
    found = g_ptr_array_new_with_free_func (gst_object_unref);
    labeller = query_upstream_labeller (self);
    if (!labeller)
      labeller = context_labeller (self);
    if (!labeller) {
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_need_context (GST_OBJECT (self), GST_MODEL_SHARE_CONTEXT_TYPE));
      labeller = context_labeller (self);
    }
    if (labeller)
      g_ptr_array_add (found, labeller);
  }
  for (guint i = found->len; i-- > 0;)
    if (!GST_IS_LSTM_PHONEMES (g_ptr_array_index (found, i)))
      g_ptr_array_remove_index (found, i);
  return found;
}

/* Streaming thread: looks for the labeller at the start of a stream, after a
 * model-name change, and every DISCOVERY_RETRY_BUFFERS buffers while none is found. */
static void
discover_labellers (GstLstmAdapt *self)
{
  GPtrArray *found, *old;
  gboolean rediscover;

  GST_OBJECT_LOCK (self);
  rediscover = self->rediscover;
  self->rediscover = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (rediscover)
    self->discovered = FALSE;
  if (self->discovered)
    return;
  if (self->discovery_countdown > 0) {
    self->discovery_countdown--;
    return;
  }
  found = find_labellers (self);
  if (found->len == 0) {
    self->discovery_countdown = DISCOVERY_RETRY_BUFFERS;
    if (!self->warned_no_labeller)
      GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
          ("No lstmphonemes element to adapt: put lstmadapt downstream of lstmphonemes, "
           "or give both elements the same model-name"), (NULL));
    self->warned_no_labeller = TRUE;
  } else {
    self->discovered = TRUE;
    GST_INFO_OBJECT (self, "adapting the model of %" GST_PTR_FORMAT,
                     g_ptr_array_index (found, 0));
  }
  g_mutex_lock (&self->lock);
  old = self->labellers;
  self->labellers = found;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (old)
    g_ptr_array_unref (old);
}

/* ---- training thread: the trainer ---- */

/* Drops the frozen model's state and the self-mode decoder with the frames it had not
 * decided (a new starting model). */
static void
frozen_clear (Training *t)
{
  g_clear_pointer (&t->frozen_state, ph_lstm_state_free);
  g_clear_pointer (&t->recent_phones, g_free);
  t->frozen_frames = 0;
  g_clear_pointer (&t->decoder, ph_decoder_free);
  g_clear_pointer (&t->undecided_features, g_array_unref);
  g_clear_pointer (&t->undecided_posteriors, g_array_unref);
}

static gint64
thread_cpu_time_ns (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Adds the statistics of a trainer being replaced to the running totals. */
static void
stats_accumulate (PhTrainStats *total, const PhTrainStats *stats)
{
  total->updates += stats->updates;
  total->frames += stats->frames;
  total->targeted_frames += stats->targeted_frames;
  total->correct += stats->correct;
  total->loss_sum += stats->loss_sum;
  total->last_loss = stats->last_loss;
  total->last_grad_norm = stats->last_grad_norm;
}

/* Totals since start over every trainer. */
static PhTrainStats
training_stats (const Training *t)
{
  PhTrainStats total = t->done_stats;

  if (t->trainer)
    stats_accumulate (&total, ph_trainer_stats (t->trainer));
  return total;
}

/* Replaces the trainer (under train_lock) by `trainer`, keeping its statistics. */
static void
set_trainer (GstLstmAdapt *self, PhTrainer *trainer)
{
  Training *t = &self->training;
  gboolean bf16_storage = trainer && ph_model_recurrent_is_bf16 (t->initial);
  PhTrainer *old;

  g_mutex_lock (&self->train_lock);
  old = t->trainer;
  if (old)
    stats_accumulate (&t->done_stats, ph_trainer_stats (old));
  t->trainer = trainer;
  t->bf16_storage = bf16_storage;
  g_mutex_unlock (&self->train_lock);
  if (old)
    ph_trainer_free (old);
}

/* Warns (once per settings change) that the settings cannot be used; NULL. */
static PhTrainer *
warn_settings (GstLstmAdapt *self, GError *error)
{
  if (!self->training.warned_settings)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Cannot adapt with these settings, adaptation paused: %s", error->message), (NULL));
  self->training.warned_settings = TRUE;
  g_error_free (error);
  return NULL;
}

/* A trainer for a copy of t->initial carrying the weights of `weights` (NULL: the
 * initial ones), so the anchor stays at the labeller's starting weights. */
static PhTrainer *
new_trainer (GstLstmAdapt *self, const PhModel *weights)
{
  Training *t = &self->training;
  PhTrainConfig config = train_config (&t->settings);
  GError *error = NULL;
  PhModel *copy;
  PhTrainer *trainer;

  if (!check_train_config (&config, t->initial, &error))
    return warn_settings (self, error);
  copy = ph_model_copy (t->initial);
  trainer = ph_trainer_new (copy, &config, &error);
  ph_model_unref (copy);
  if (!trainer)
    return warn_settings (self, error);
  if (weights) {
    memcpy (ph_trainer_model (trainer)->flat, weights->flat,
            sizeof (float) * weights->n_params);
    ph_model_weights_changed (ph_trainer_model (trainer));
  }
  return trainer;
}

/* The labellers to publish to (new reference), from the streaming thread's search. */
static GPtrArray *
current_labellers (GstLstmAdapt *self)
{
  GPtrArray *labellers;

  g_mutex_lock (&self->lock);
  labellers = self->labellers ? g_ptr_array_ref (self->labellers) : NULL;
  g_mutex_unlock (&self->lock);
  return labellers;
}

/* Takes the labeller's model as the starting point, and a fresh trainer for it. */
static gboolean
start_from_labeller (GstLstmAdapt *self)
{
  Training *t = &self->training;
  GPtrArray *labellers = current_labellers (self);
  PhModel *model = NULL;
  guint serial = 0;

  if (labellers && labellers->len > 0)
    model = gst_lstm_phonemes_get_model (g_ptr_array_index (labellers, 0), &serial);
  if (!model) {
    if (labellers)
      g_ptr_array_unref (labellers);
    return FALSE;
  }
  if (t->labellers)
    g_ptr_array_unref (t->labellers);
  t->labellers = labellers;
  if (t->initial)
    ph_model_unref (t->initial);
  t->initial = model;
  t->model_serial = serial;
  frozen_clear (t);
  t->updates_since_publish = 0;
  set_trainer (self, new_trainer (self, NULL));
  GST_INFO_OBJECT (self, "adapting a model of %u x %u cells", model->shape.num_layers,
                   model->shape.hidden_size);
  return t->trainer != NULL;
}

/* Copies new property values; a new training config rebuilds the trainer, keeping
 * the adapted weights (the pending chunk is trained first). */
static void
refresh_settings (GstLstmAdapt *self)
{
  Training *t = &self->training;
  guint serial = (guint) g_atomic_int_get (&self->settings_serial);
  PhTrainConfig before = train_config (&t->settings), after;

  if (serial == t->settings_serial)
    return;
  GST_OBJECT_LOCK (self);
  t->settings = self->settings;
  t->settings_serial = (guint) g_atomic_int_get (&self->settings_serial);
  GST_OBJECT_UNLOCK (self);
  after = train_config (&t->settings);
  t->warned_settings = FALSE;
  if (t->trainer && memcmp (&before, &after, sizeof before) != 0) {
    PhTrainer *trainer;

    g_mutex_lock (&self->train_lock);
    ph_trainer_end_sequence (t->trainer);
    g_mutex_unlock (&self->train_lock);
    trainer = new_trainer (self, ph_trainer_model (t->trainer));
    if (trainer) {
      set_trainer (self, trainer);
      GST_INFO_OBJECT (self, "training settings changed: new trainer");
    }
  }
}

/* ---- training thread: publishing ---- */

static void
post_adapt_message (GstLstmAdapt *self, gdouble alignment_confidence)
{
  Training *t = &self->training;
  PhTrainStats stats = training_stats (t);
  guint64 targeted = stats.targeted_frames - t->reported_targeted;
  guint64 correct = stats.correct - t->reported_correct;
  guint64 windows, frames_dropped;
  GstStructure *s;

  g_mutex_lock (&self->lock);
  windows = self->windows_dropped;
  frames_dropped = self->frames_dropped;
  g_mutex_unlock (&self->lock);
  s = gst_structure_new ("lstmadapt",
      "updates", G_TYPE_UINT64, stats.updates,
      "frames-trained", G_TYPE_UINT64, stats.frames,
      "windows-dropped", G_TYPE_UINT64, windows,
      "frames-dropped", G_TYPE_UINT64, frames_dropped,
      "loss", G_TYPE_DOUBLE, stats.last_loss,
      "targeted-frames", G_TYPE_UINT64, targeted,
      "running-time", G_TYPE_UINT64, (guint64) t->last_running_time,
      "train-time", G_TYPE_UINT64, (guint64) (thread_cpu_time_ns () - t->cpu_start_ns),
      NULL);
  /* Only what was measured: in mode=self the targets are the labeller's own argmax, so
   * accuracy against them says nothing; its agreement with the starting model does. */
  if (t->settings.mode == GST_LSTM_ADAPT_MODE_SELF) {
    gst_structure_set (s, "compared-frames", G_TYPE_UINT64, t->compared, NULL);
    if (t->compared > 0)
      gst_structure_set (s, "agreement", G_TYPE_DOUBLE, (gdouble) t->agreed / t->compared,
                         NULL);
  } else if (targeted > 0) {
    gst_structure_set (s, "accuracy", G_TYPE_DOUBLE, (gdouble) correct / targeted, NULL);
  }
  if (alignment_confidence >= 0)
    gst_structure_set (s, "alignment-confidence", G_TYPE_DOUBLE, alignment_confidence, NULL);
  GST_DEBUG_OBJECT (self, "published after %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT
                    " frames trained: loss %.3f, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " targeted frames right, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " agreeing with the starting model", stats.updates, stats.frames,
                    stats.last_loss, correct, targeted, t->agreed, t->compared);
  t->reported_targeted = stats.targeted_frames;
  t->reported_correct = stats.correct;
  t->agreed = t->compared = 0;
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* TRUE when the labeller still runs the model we adapt (or our publications of it);
 * FALSE after the user set another `model` on it. */
static gboolean
labeller_model_unchanged (GstLstmAdapt *self)
{
  Training *t = &self->training;
  PhModel *model;
  guint serial = t->model_serial;

  if (!t->labellers || t->labellers->len == 0)
    return TRUE;
  model = gst_lstm_phonemes_get_model (g_ptr_array_index (t->labellers, 0), &serial);
  if (model)
    ph_model_unref (model);
  return serial == t->model_serial;
}

static gboolean
same_elements (const GPtrArray *a, const GPtrArray *b)
{
  if (!a || !b || a->len != b->len)
    return a == b;
  for (guint i = 0; i < a->len; i++)
    if (g_ptr_array_index (a, i) != g_ptr_array_index (b, i))
      return FALSE;
  return TRUE;
}

/* TRUE when the streaming thread's latest search found the labellers we adapt
 * (after a model-name change it may have found others). */
static gboolean
labellers_unchanged (GstLstmAdapt *self)
{
  Training *t = &self->training;
  GPtrArray *now = current_labellers (self);
  gboolean same = same_elements (now, t->labellers);

  if (now)
    g_ptr_array_unref (now);
  return same;
}

/* A copy of the adapted weights, for the labellers and for saving, in the storage of the
 * model adaptation started from: when its recurrent weights are bfloat16 values (the
 * default model's), so are the copy's, and the labeller keeps the faster step that
 * reads them as 16-bit values (ph_lstm.c). The trainer keeps float weights, in which
 * small updates add up. Training thread, or under train_lock. */
static PhModel *
adapted_copy (const Training *t)
{
  PhModel *copy = ph_model_copy (ph_trainer_model (t->trainer));

  if (t->bf16_storage)
    ph_model_round_recurrent_to_bf16 (copy);
  return copy;
}

/* Hands a copy of the adapted weights to every labeller and reports. */
static void
publish (GstLstmAdapt *self, gdouble alignment_confidence)
{
  Training *t = &self->training;
  PhModel *snapshot;

  if (!t->trainer)
    return;
  if (!labellers_unchanged (self)) {
    GST_INFO_OBJECT (self, "other labellers found: adapting their model");
    start_from_labeller (self);
    return;
  }
  if (!labeller_model_unchanged (self)) {
    GST_INFO_OBJECT (self, "the labeller's model was replaced: adapting the new one");
    start_from_labeller (self);
    return;
  }
  snapshot = adapted_copy (t);
  ph_lstm_prepare (snapshot); /* here, not in the labeller's first step on the audio thread */
  for (guint i = 0; t->labellers && i < t->labellers->len; i++)
    gst_lstm_phonemes_publish_model (g_ptr_array_index (t->labellers, i), snapshot);
  ph_model_unref (snapshot);
  t->updates_since_publish = 0;
  GST_LOG_OBJECT (self, "published new weights");
  post_adapt_message (self, alignment_confidence);
}

static void
after_updates (GstLstmAdapt *self, guint updates)
{
  Training *t = &self->training;

  if (updates > 0) {
    const PhTrainStats *stats = ph_trainer_stats (t->trainer);

    GST_DEBUG_OBJECT (self, "update %" G_GUINT64_FORMAT ": loss %.4f, gradient norm %.3f",
                      t->done_stats.updates + stats->updates, stats->last_loss,
                      stats->last_grad_norm);
  }

  t->updates_since_publish += updates;
  if (updates > 0 && t->updates_since_publish >= t->settings.publish_interval)
    publish (self, -1.0);
}

/* Feeds one frame; counts the update it may cause. */
static void
train_frame (GstLstmAdapt *self, const float *features, gint target)
{
  Training *t = &self->training;
  gboolean updated;

  if (!t->trainer)
    return;
  g_mutex_lock (&self->train_lock);
  updated = ph_trainer_feed (t->trainer, features, &target, NULL);
  g_mutex_unlock (&self->train_lock);
  after_updates (self, updated ? 1 : 0);
}

/* Ends the trainer's sequence: the pending chunk is trained, the state zeroed. */
static void
end_sequence (GstLstmAdapt *self)
{
  Training *t = &self->training;
  gboolean updated;

  if (!t->trainer)
    return;
  g_mutex_lock (&self->train_lock);
  updated = ph_trainer_end_sequence (t->trainer);
  g_mutex_unlock (&self->train_lock);
  after_updates (self, updated ? 1 : 0);
}

/* ---- training thread: self mode through the phone-LM decoder ---- */

/* A decided segment: its frames are trained on with the segment's phone as the target
 * where the network gave that phone at least confidence-threshold, as without the
 * decoder. */
static void
on_self_segment (const PhDecodedSegment *segment, gpointer user_data)
{
  GstLstmAdapt *self = user_data;
  Training *t = &self->training;
  guint n = (guint) MIN (segment->n_frames, t->undecided_features->len / t->dim);

  for (guint i = 0; i < n; i++) {
    const float *posteriors = &g_array_index (t->undecided_posteriors, float,
                                              (gsize) i * PH_NUM_PHONES);
    gint target = posteriors[segment->phone] >= t->settings.confidence_threshold
        ? segment->phone : -1;
    train_frame (self, &g_array_index (t->undecided_features, float, (gsize) i * t->dim),
                 target);
  }
  g_array_remove_range (t->undecided_features, 0, n * t->dim);
  g_array_remove_range (t->undecided_posteriors, 0, n * PH_NUM_PHONES);
}

/* Queues the frame for the decoder; trains the frames it decides. FALSE when the
 * starting model has no phone LM (targets then come frame by frame). */
static gboolean
self_decode_frame (GstLstmAdapt *self, const Frame *frame)
{
  Training *t = &self->training;
  PhDecoderConfig config;

  if (!t->initial->lm)
    return FALSE;
  if (!t->decoder) {
    ph_decoder_config_init (&config);
    config.min_duration = PH_DEFAULT_MIN_SEGMENT_FRAMES;
    t->decoder = ph_decoder_new (t->initial->lm, &config, NULL);
    t->undecided_features = g_array_new (FALSE, FALSE, sizeof (float));
    t->undecided_posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  }
  g_array_append_vals (t->undecided_features, frame->features, t->dim);
  g_array_append_vals (t->undecided_posteriors, frame->posteriors, PH_NUM_PHONES);
  ph_decoder_push (t->decoder, frame->posteriors, on_self_segment, self);
  return TRUE;
}

/* The end of a sequence: the decoder decides and trains every frame it still holds. */
static void
self_decode_flush (GstLstmAdapt *self)
{
  Training *t = &self->training;

  if (t->decoder)
    ph_decoder_flush (t->decoder, on_self_segment, self);
}

/* ---- training thread: prompted mode ---- */

static void
prompt_window_reset (PromptWindow *w)
{
  g_array_set_size (w->features, 0);
  g_array_set_size (w->posteriors, 0);
  w->n_frames = 0;
  w->speech_frames = 0;
  w->trailing_silence = 0;
}

/* Aligns the collected frames against the prompt and trains on them as one
 * sequence. Returns FALSE (window kept) when the alignment is impossible. */
static gboolean
prompt_align_and_train (GstLstmAdapt *self)
{
  Training *t = &self->training;
  PromptWindow *w = &t->prompt;
  PhAlignConfig config;
  PhAlignment *alignment;
  GError *error = NULL;
  gint *targets;
  const float *features = (const float *) w->features->data;
  guint dim = t->dim;
  double confidence;

  ph_align_config_init (&config);
  alignment = ph_align ((const float *) w->posteriors->data, w->n_frames, w->words, &config,
                        1, &error);
  if (!alignment) {
    GST_DEBUG_OBJECT (self, "prompt not aligned yet: %s", error->message);
    g_error_free (error);
    return FALSE;
  }
  targets = ph_labels_to_frame_targets (alignment->labels, 1, w->n_frames);
  confidence = alignment->mean_confidence;
  ph_alignment_free (alignment);
  GST_INFO_OBJECT (self, "prompt aligned over %u frames (confidence %.2f): training",
                   w->n_frames, confidence);
  end_sequence (self);
  for (guint i = 0; i < w->n_frames; i++)
    train_frame (self, features + (gsize) i * dim, targets[i]);
  end_sequence (self);
  g_free (targets);
  t->last_running_time = w->last_running_time;
  publish (self, confidence);
  prompt_window_reset (w);
  w->done = TRUE;
  return TRUE;
}

/* TRUE when the window holds enough speech for the prompt's phones. */
static gboolean
prompt_has_speech (const PromptWindow *w)
{
  guint n_phones = prompt_phone_count (w->words);

  return n_phones > 0 && w->speech_frames >= n_phones * PH_ALIGN_DEFAULT_MIN_FRAMES;
}

/* The reading ended (discont, EOS, new prompt): align what was heard, if enough. */
static void
prompt_close (GstLstmAdapt *self)
{
  PromptWindow *w = &self->training.prompt;

  if (w->words && !w->done && prompt_has_speech (w))
    prompt_align_and_train (self);
  prompt_window_reset (w);
}

/* A frame that arrived under another prompt-text: the reading of the previous one is
 * over, the new one starts with this frame. */
static void
prompt_refresh (GstLstmAdapt *self, guint serial)
{
  PromptWindow *w = &self->training.prompt;
  GPtrArray *words;

  if (serial == w->serial)
    return;
  GST_OBJECT_LOCK (self);
  words = self->prompt_words ? g_ptr_array_ref (self->prompt_words) : NULL;
  GST_OBJECT_UNLOCK (self);
  prompt_close (self);
  if (w->words)
    g_ptr_array_unref (w->words);
  w->words = words;
  w->serial = serial;
  w->done = FALSE;
}

/* Collects a frame of the reading; aligns once the prompt has been read (speech for
 * all its phones followed by PROMPT_END_SILENCE_FRAMES of silence). */
static void
prompt_collect (GstLstmAdapt *self, const Frame *frame)
{
  Training *t = &self->training;
  PromptWindow *w = &t->prompt;

  prompt_refresh (self, frame->info.prompt_serial);
  if (!w->words || w->done)
    return;
  if (w->n_frames == PROMPT_MAX_FRAMES) {
    GST_DEBUG_OBJECT (self, "prompt reading longer than %u frames: keeping the last half",
                      PROMPT_MAX_FRAMES);
    g_array_remove_range (w->features, 0, (PROMPT_MAX_FRAMES / 2) * t->dim);
    g_array_remove_range (w->posteriors, 0, (PROMPT_MAX_FRAMES / 2) * PH_NUM_PHONES);
    w->n_frames -= PROMPT_MAX_FRAMES / 2;
    w->speech_frames = MIN (w->speech_frames, w->n_frames);
  }
  g_array_append_vals (w->features, frame->features, t->dim);
  g_array_append_vals (w->posteriors, frame->posteriors, PH_NUM_PHONES);
  w->n_frames++;
  w->last_running_time = frame->info.running_time;
  if (ph_phone_is_silence (frame->info.phone)) {
    w->trailing_silence++;
  } else {
    w->speech_frames++;
    w->trailing_silence = 0;
  }
  if (w->trailing_silence >= PROMPT_END_SILENCE_FRAMES && prompt_has_speech (w))
    prompt_align_and_train (self);
}

/* ---- training thread: frames ---- */

/* Replaces non-finite features by 0; TRUE when there were any. */
static gboolean
sanitise_features (float *features, guint dim)
{
  gboolean bad = FALSE;

  for (guint i = 0; i < dim; i++) {
    if (!isfinite (features[i])) {
      features[i] = 0.0f;
      bad = TRUE;
    }
  }
  return bad;
}

/* The target of `frame` in the current mode, or -1. */
static gint
frame_target (Training *t, const Frame *frame)
{
  switch (t->settings.mode) {
    case GST_LSTM_ADAPT_MODE_SUPERVISED:
      t->supervised_frames++;
      t->unlabelled_frames += frame->target < 0;
      return frame->target;
    case GST_LSTM_ADAPT_MODE_SELF:
      return frame->info.confidence >= t->settings.confidence_threshold ? frame->info.phone
          : -1;
    default:
      return -1;
  }
}

/* Checks that the trainer takes frames of `dim` values. */
static gboolean
trainer_accepts (GstLstmAdapt *self, guint dim)
{
  Training *t = &self->training;

  if (t->initial->shape.input_dim == dim)
    return TRUE;
  if (!t->warned_dim)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("The phoneme meta has %u features per frame but the model takes %u: not "
         "adapting", dim, t->initial->shape.input_dim), (NULL));
  t->warned_dim = TRUE;
  return FALSE;
}

/* mode=self: steps the frozen starting model on the frame and counts whether its
 * argmax agrees with the labeller's for the same frame (the model's output delay
 * apart: the step's posteriors at frame t are for frame t - delay). */
static void
measure_agreement (GstLstmAdapt *self, const Frame *frame)
{
  Training *t = &self->training;
  guint delay = t->initial->shape.delay, slots = delay + 1, best = 0;
  gint labelled;

  if (!t->frozen_state) {
    t->frozen_state = ph_lstm_state_new (&t->initial->shape);
    t->recent_phones = g_new0 (gint, slots);
    t->frozen_frames = 0;
  }
  if (frame->info.flags & FRAME_BREAK) {
    ph_lstm_state_reset (t->frozen_state);
    t->frozen_frames = 0;
  }
  t->recent_phones[t->frozen_frames % slots] = frame->info.phone;
  ph_lstm_step (t->initial, t->frozen_state, frame->features, t->frozen_posteriors);
  if (t->frozen_frames++ < delay)
    return;
  labelled = t->recent_phones[(t->frozen_frames - 1 - delay) % slots];
  for (guint k = 1; k < PH_NUM_PHONES; k++)
    best = t->frozen_posteriors[k] > t->frozen_posteriors[best] ? k : best;
  if (labelled < 0)
    return;
  t->agreed += (gint) best == labelled;
  t->compared++;
}

static void
process_frame (GstLstmAdapt *self, Frame *frame)
{
  Training *t = &self->training;
  gint target;

  refresh_settings (self);
  if (frame->info.flags & FRAME_BREAK) {
    if (t->settings.mode == GST_LSTM_ADAPT_MODE_PROMPTED)
      prompt_close (self);
    self_decode_flush (self);
    end_sequence (self);
  }
  if (!t->trainer && !start_from_labeller (self))
    return;
  if (!trainer_accepts (self, t->dim))
    return;
  t->last_running_time = frame->info.running_time;
  if (sanitise_features (frame->features, t->dim)) {
    t->nonfinite_frames++;
    if (!t->warned_nonfinite)
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          ("Frames with non-finite features (NaN or Inf) in the phoneme meta: they "
           "carry state with zeros and are not trained on"), (NULL));
    t->warned_nonfinite = TRUE;
    frame->target = -1;
    frame->info.confidence = 0.0f;
  }
  if (t->settings.mode == GST_LSTM_ADAPT_MODE_PROMPTED) {
    prompt_collect (self, frame);
    return;
  }
  if (t->settings.mode == GST_LSTM_ADAPT_MODE_SELF) {
    measure_agreement (self, frame);
    if (self_decode_frame (self, frame))
      return;
  } else {
    self_decode_flush (self);   /* left self mode: decide what the decoder holds */
  }
  target = frame_target (t, frame);
  train_frame (self, frame->features, target);
}

/* At EOS: posts an error and returns FALSE when the labels-location labels do not fit
 * the audio just ended (unless they were checked against its duration at the start:
 * then the stream was only cut short); warns when many frames had no label. */
static gboolean
check_label_coverage (GstLstmAdapt *self)
{
  Training *t = &self->training;
  guint model_rate = t->initial ? t->initial->features.sample_rate : 0;
  gchar *misfit = NULL;
  gboolean fits;

  g_mutex_lock (&self->lock);
  if (!self->fit_checked)
    misfit = file_labels_misfit (self, model_rate, GST_CLOCK_TIME_IS_VALID (self->audio_end)
                                 ? self->audio_end : t->last_stream_end);
  g_mutex_unlock (&self->lock);
  fits = misfit == NULL;
  if (misfit)
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", misfit),
        ("the labels were trained on as they are; the adapted model is not written"));
  else if (t->supervised_frames > 0 && t->unlabelled_frames * 10 > t->supervised_frames)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames had no label covering "
         "them and were not trained on", t->unlabelled_frames, t->supervised_frames),
        (NULL));
  t->supervised_frames = t->unlabelled_frames = 0;
  g_free (misfit);
  return fits;
}

/* Writes `model` to `path`; FALSE + GError otherwise. */
static gboolean
save_model (const PhModel *model, const gchar *path, GError **error)
{
  return ph_model_save_file (model, path, error);
}

/* EOS: trains what is pending, publishes, writes save-location. */
static void
finish_stream (GstLstmAdapt *self)
{
  Training *t = &self->training;
  gchar *path;
  GError *error = NULL;

  if (t->settings.mode == GST_LSTM_ADAPT_MODE_PROMPTED)
    prompt_close (self);
  self_decode_flush (self);
  end_sequence (self);
  if (t->trainer && t->updates_since_publish > 0)
    publish (self, -1.0);
  if (!check_label_coverage (self))
    return;
  GST_OBJECT_LOCK (self);
  path = g_strdup (self->save_location);
  GST_OBJECT_UNLOCK (self);
  if (path && *path && !t->trainer) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Nothing adapted, %s not written: no model was found to adapt", path), (NULL));
  } else if (path && *path) {
    if (training_stats (t).updates == 0)
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Nothing was adapted: %s gets the starting weights, as no frame was trained on "
           "(%s)", path, t->settings.mode == GST_LSTM_ADAPT_MODE_SELF
           ? "lower confidence-threshold" : t->settings.mode == GST_LSTM_ADAPT_MODE_PROMPTED
           ? "was prompt-text read aloud, then followed by silence or the end?"
           : "do the labels cover the audio?"), (NULL));
    PhModel *adapted = adapted_copy (t);

    if (!save_model (adapted, path, &error)) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Cannot write the adapted model: %s", error->message), ("save-location = %s", path));
      g_error_free (error);
    } else {
      GST_INFO_OBJECT (self, "adapted model written to %s", path);
    }
    ph_model_unref (adapted);
  }
  g_free (path);
}

/* Resizes the scratch frame for the ring's dim. */
static void
ensure_scratch (Training *t, guint dim)
{
  if (t->dim == dim && t->features)
    return;
  g_free (t->features);
  t->features = g_new0 (float, MAX (dim, 1));
  if (t->dim != dim)
    prompt_window_reset (&t->prompt);
  t->dim = dim;
}

/* Drops the pending chunk (flush). */
static void
training_reset (GstLstmAdapt *self)
{
  Training *t = &self->training;

  if (t->trainer) {
    g_mutex_lock (&self->train_lock);
    ph_trainer_reset (t->trainer);
    g_mutex_unlock (&self->train_lock);
  }
  prompt_window_reset (&t->prompt);
  t->supervised_frames = t->unlabelled_frames = 0;
}

/* Lowers the calling (training) thread's priority: waking it must not preempt the
 * streaming threads it shares a CPU with. Linux only; elsewhere a no-op. */
static void
lower_thread_priority (void)
{
#ifdef __linux__
  id_t tid = (id_t) syscall (SYS_gettid);
  int nice_value;

  errno = 0;
  nice_value = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, tid, MIN (nice_value + TRAINING_NICE, 19)) != 0)
    GST_DEBUG ("cannot lower the training thread's priority");
#endif
}

static gpointer
training_thread (gpointer data)
{
  GstLstmAdapt *self = data;
  Training *t = &self->training;
  Frame frame = { 0 };

  lower_thread_priority ();
  t->cpu_start_ns = thread_cpu_time_ns ();
  g_mutex_lock (&self->lock);
  while (self->running) {
    if (self->reset_requested) {
      self->reset_requested = FALSE;
      g_mutex_unlock (&self->lock);
      training_reset (self);
      g_mutex_lock (&self->lock);
    } else if (self->ring.count == 0) {
      if (self->eos_pending && !self->eos_done) {
        g_mutex_unlock (&self->lock);
        refresh_settings (self);
        finish_stream (self);
        g_mutex_lock (&self->lock);
        self->eos_done = TRUE;
        g_cond_broadcast (&self->cond);
      } else {
        g_cond_wait (&self->cond, &self->lock);
      }
    } else if (!front_frame_ready (self, t->settings.mode)) {
      g_cond_wait (&self->cond, &self->lock);
    } else {
      guint model_rate = t->initial ? t->initial->features.sample_rate : 0;

      ensure_scratch (t, self->ring.dim);
      frame.features = t->features;
      ring_pop (&self->ring, &frame);
      frame.target = t->settings.mode == GST_LSTM_ADAPT_MODE_SUPERVISED
          ? supervised_target (self, frame.info.stream_time, model_rate) : -1;
      g_mutex_unlock (&self->lock);
      if (GST_CLOCK_TIME_IS_VALID (frame.info.stream_time))
        t->last_stream_end = frame.info.stream_time;
      process_frame (self, &frame);
      g_mutex_lock (&self->lock);
    }
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* ---- streaming thread: frames from the meta ---- */

/* A frame timestamp that does not follow the previous one starts a new sequence. */
static gboolean
frame_breaks_sequence (GstLstmAdapt *self, GstClockTime ts, GstClockTime duration)
{
  gboolean gap = GST_CLOCK_TIME_IS_VALID (self->prev_ts) &&
      (ts <= self->prev_ts || ts > self->prev_ts + duration + duration / 2);
  gboolean discont = GST_CLOCK_TIME_IS_VALID (self->discont_at) && ts >= self->discont_at;

  if (discont)
    self->discont_at = GST_CLOCK_TIME_NONE;
  self->prev_ts = ts;
  return gap || discont || self->break_next;
}

/* Decides whether the frame goes into the ring or is dropped with its window.
 * `lock` is held. Returns FALSE to drop. */
static gboolean
admit_frame (GstLstmAdapt *self, guint window, guint *flags)
{
  FrameRing *ring = &self->ring;
  gboolean boundary;

  if (*flags & FRAME_BREAK)
    self->seq_frames = 0;
  boundary = self->seq_frames % window == 0;
  self->seq_frames++;
  if (self->dropping) {
    if (boundary && ring->count <= ring->capacity / 2) {
      self->dropping = FALSE;
      *flags |= FRAME_BREAK;
      return TRUE;
    }
    self->windows_dropped += boundary;
    self->frames_dropped++;
    return FALSE;
  }
  if (ring->count < ring->capacity)
    return TRUE;
  self->dropping = TRUE;
  self->windows_dropped++;
  self->frames_dropped++;
  GST_DEBUG_OBJECT (self, "training is behind: dropping a window");
  return FALSE;
}

/* The arrays of a phoneme meta, checked against its documented layout. */
typedef struct {
  guint n, dim;
  GstClockTime duration;
  const GValue *timestamps, *phones, *confidence;
  const float *posteriors, *features;
} MetaView;

static gboolean
meta_view (const GstStructure *s, MetaView *view)
{
  const GValue *post, *feat;
  gsize post_size, feat_size;
  guint64 duration = 0;

  if (!gst_structure_get_uint (s, "n-frames", &view->n) ||
      !gst_structure_get_uint (s, "dim", &view->dim) ||
      !gst_structure_get_uint64 (s, "frame-duration", &duration))
    return FALSE;
  view->duration = duration;
  view->timestamps = gst_structure_get_value (s, "timestamps");
  view->phones = gst_structure_get_value (s, "phone-index");
  view->confidence = gst_structure_get_value (s, "confidence");
  post = gst_structure_get_value (s, "posteriors");
  feat = gst_structure_get_value (s, "features");
  if (!view->timestamps || !view->phones || !view->confidence || !post || !feat ||
      !GST_VALUE_HOLDS_ARRAY (view->timestamps) || !GST_VALUE_HOLDS_ARRAY (view->phones) ||
      !GST_VALUE_HOLDS_ARRAY (view->confidence) || !G_VALUE_HOLDS (post, G_TYPE_BYTES) ||
      !G_VALUE_HOLDS (feat, G_TYPE_BYTES) || view->dim == 0 || view->dim > 4096)
    return FALSE;
  view->posteriors = g_bytes_get_data (g_value_get_boxed (post), &post_size);
  view->features = g_bytes_get_data (g_value_get_boxed (feat), &feat_size);
  return gst_value_array_get_size (view->timestamps) == view->n &&
      gst_value_array_get_size (view->phones) == view->n &&
      gst_value_array_get_size (view->confidence) == view->n &&
      post_size == (gsize) view->n * PH_NUM_PHONES * sizeof (float) &&
      feat_size == (gsize) view->n * view->dim * sizeof (float);
}

/* Frame i of the meta as ring info (stream/running time from our segment). */
static FrameInfo
frame_info (GstLstmAdapt *self, const MetaView *view, guint i, GstClockTime ts)
{
  FrameInfo info = { 0 };
  const GValue *phone = gst_value_array_get_value (view->phones, i);
  const GValue *conf = gst_value_array_get_value (view->confidence, i);

  info.phone = G_VALUE_HOLDS_INT (phone) ? g_value_get_int (phone) : -1;
  if (info.phone < 0 || info.phone >= PH_NUM_PHONES)
    info.phone = -1;
  info.confidence = G_VALUE_HOLDS_DOUBLE (conf) ? (float) g_value_get_double (conf) : 0.0f;
  if (self->segment.format == GST_FORMAT_TIME) {
    info.stream_time = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME,
                                                   ts + view->duration / 2);
    info.running_time = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME, ts);
  } else {
    info.stream_time = ts + view->duration / 2;
    info.running_time = ts;
  }
  return info;
}

/* Copies the meta's frames into the ring (or drops them when it is full). */
static void
queue_frames (GstLstmAdapt *self, const MetaView *view, const Settings *settings,
              guint prompt_serial)
{
  guint window = window_frames (settings);
  gboolean queued = FALSE;

  g_mutex_lock (&self->lock);
  if (self->ring.dim != view->dim || self->ring.capacity != settings->max_backlog) {
    self->frames_dropped += self->ring.count;
    ring_setup (&self->ring, settings->max_backlog, view->dim);
    self->break_next = TRUE;
    self->dropping = FALSE;
  }
  for (guint i = 0; i < view->n; i++) {
    GstClockTime ts = g_value_get_uint64 (gst_value_array_get_value (view->timestamps, i));
    FrameInfo info = frame_info (self, view, i, ts);

    info.flags = frame_breaks_sequence (self, ts, view->duration) ? FRAME_BREAK : 0;
    info.prompt_serial = prompt_serial;
    self->break_next = FALSE;
    if (!admit_frame (self, window, &info.flags))
      continue;
    ring_push (&self->ring, &info, view->features + (gsize) i * view->dim,
               view->posteriors + (gsize) i * PH_NUM_PHONES);
    queued = TRUE;
  }
  if (queued)
    g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
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
  if (!GST_CLOCK_TIME_IS_VALID (end))
    return;
  g_mutex_lock (&self->lock);
  if (!GST_CLOCK_TIME_IS_VALID (self->audio_end) || end > self->audio_end)
    self->audio_end = end;
  g_mutex_unlock (&self->lock);
}

/* Streaming thread, at a stream's first buffer: when upstream knows the duration,
 * checks that labels-location fits it. FALSE after posting an error. */
static gboolean
check_labels_against_duration (GstLstmAdapt *self, const Settings *settings)
{
  gint64 duration = -1;
  gchar *misfit = NULL;
  gboolean have_labels;

  if (self->duration_asked)
    return TRUE;
  g_mutex_lock (&self->lock);
  have_labels = self->file_labels != NULL && !self->fit_checked;
  g_mutex_unlock (&self->lock);
  if (!have_labels || settings->mode != GST_LSTM_ADAPT_MODE_SUPERVISED)
    return TRUE;
  self->duration_asked = TRUE;
  if (!gst_pad_peer_query_duration (self->sinkpad, GST_FORMAT_TIME, &duration) ||
      duration <= 0)
    return TRUE;
  g_mutex_lock (&self->lock);
  self->fit_checked = TRUE;
  misfit = file_labels_misfit (self, self->rate, (GstClockTime) duration);
  g_mutex_unlock (&self->lock);
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

/* Streaming thread, per buffer: the frames of its meta go to the training thread.
 * FALSE after posting an error (the labels do not fit the audio). */
static gboolean
take_frames (GstLstmAdapt *self, GstBuffer *buffer)
{
  GstCustomMeta *meta;
  MetaView view;
  Settings settings;
  guint prompt_serial;

  GST_OBJECT_LOCK (self);
  settings = self->settings;
  prompt_serial = self->prompt_serial;
  GST_OBJECT_UNLOCK (self);
  note_audio_end (self, buffer);
  if (!check_labels_against_duration (self, &settings))
    return FALSE;
  if (GST_BUFFER_IS_DISCONT (buffer))
    self->discont_at = GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer) : 0;
  if (!settings.enabled) {
    self->was_enabled = FALSE;
    return TRUE;
  }
  if (!self->was_enabled)
    self->break_next = TRUE;
  self->was_enabled = TRUE;
  discover_labellers (self);
  meta = gst_phoneme_meta_get (buffer);
  check_meta_arrives (self, buffer, meta != NULL);
  if (!meta) {
    GST_LOG_OBJECT (self, "buffer pts %" GST_TIME_FORMAT " without phoneme meta",
                    GST_TIME_ARGS (GST_BUFFER_PTS (buffer)));
    return TRUE;
  }
  if (!meta_view (gst_custom_meta_get_structure (meta), &view)) {
    if (!self->warned_meta)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("A phoneme meta does not have the documented fields and sizes: ignored"), (NULL));
    self->warned_meta = TRUE;
    return TRUE;
  }
  queue_frames (self, &view, &settings, prompt_serial);
  GST_LOG_OBJECT (self, "buffer pts %" GST_TIME_FORMAT ": %u frames from its meta",
                  GST_TIME_ARGS (GST_BUFFER_PTS (buffer)), view.n);
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

/* Resets what the streaming thread knows of the stream. */
static void
reset_stream_state (GstLstmAdapt *self)
{
  self->dropping = FALSE;
  self->seq_frames = 0;
  self->prev_ts = GST_CLOCK_TIME_NONE;
  self->discont_at = GST_CLOCK_TIME_NONE;
  self->break_next = TRUE;
  self->first_pts = GST_CLOCK_TIME_NONE;
  self->seen_meta = FALSE;
  self->duration_asked = FALSE;
}

/* EOS: waits until the training thread has trained the queued frames, published and
 * saved (bounded by max-backlog frames), unless flushing or stopping. */
static void
drain_training (GstLstmAdapt *self)
{
  g_mutex_lock (&self->lock);
  if (self->running) {
    self->eos_pending = TRUE;
    self->eos_done = FALSE;
    g_cond_broadcast (&self->cond);
    while (!self->eos_done && !self->flushing && self->running)
      g_cond_wait (&self->cond, &self->lock);
    self->eos_pending = FALSE;
  }
  g_mutex_unlock (&self->lock);
}

static void
set_caps_rate (GstLstmAdapt *self, GstCaps *caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  gint rate = 0;

  if (!s || !gst_structure_get_int (s, "rate", &rate))
    rate = 0;
  g_mutex_lock (&self->lock);
  self->rate = rate > 0 ? (guint) rate : 0;
  g_mutex_unlock (&self->lock);
}

static gboolean
gst_lstm_adapt_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      set_caps_rate (self, caps);
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    case GST_EVENT_STREAM_START:
      reset_stream_state (self);
      self->discovered = FALSE;
      self->discovery_countdown = 0;
      g_mutex_lock (&self->lock);
      self->audio_end = GST_CLOCK_TIME_NONE;
      self->fit_checked = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      self->ring.count = 0;
      self->reset_requested = TRUE;
      self->flushing = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      reset_stream_state (self);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      break;
    case GST_EVENT_EOS:
      drain_training (self);
      reset_stream_state (self);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* ---- the labels pad ---- */

/* Parses one "start end phone" line; FALSE when it is not one. */
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
  if (n == 3) {
    start_s = g_ascii_strtod (parts[0], &end);
    ok = *end == '\0';
    end_s = g_ascii_strtod (parts[1], &end);
    ok = ok && *end == '\0' && isfinite (start_s) && isfinite (end_s) && start_s >= 0 &&
        end_s > start_s && end_s < 1e9;
    label->phone = ph_phone_index (parts[2]);
    if (label->phone < 0)
      label->phone = ph_phone_from_arpabet (parts[2]);
    ok = ok && label->phone >= 0;
    label->start = (GstClockTime) llround (start_s * GST_SECOND);
    label->end = (GstClockTime) llround (end_s * GST_SECOND);
  }
  g_strfreev (fields);
  return ok;
}

static void
warn_bad_label (GstLstmAdapt *self, const gchar *line)
{
  if (self->bad_label_lines++ == 0)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Bad line on the labels pad: \"%s\"; expected \"START END PHONE\" with times in "
         "seconds of stream time, START < END, and a TIMIT or ARPAbet phone. Bad lines "
         "are skipped", line), (NULL));
  else
    GST_WARNING_OBJECT (self, "bad label line skipped: \"%s\"", line);
}

/* Adds `label` to the pad labels; `lock` is held. */
static void
add_pad_label (GstLstmAdapt *self, const TimedLabel *label)
{
  GArray *labels = self->pad_labels;

  if (labels->len > 0 && !self->warned_overlap &&
      label->start < g_array_index (labels, TimedLabel, labels->len - 1).end &&
      label->end > g_array_index (labels, TimedLabel, labels->len - 1).start) {
    self->warned_overlap = TRUE;
    GST_WARNING_OBJECT (self, "labels overlap: where they do, the later one is used");
  }
  if (labels->len >= MAX_PAD_LABELS) {
    GST_WARNING_OBJECT (self, "more than %u labels waiting for audio: oldest dropped",
                        MAX_PAD_LABELS);
    g_array_remove_index (labels, 0);
  }
  g_array_append_val (labels, *label);
  if (!GST_CLOCK_TIME_IS_VALID (self->labels_watermark) || label->end > self->labels_watermark)
    self->labels_watermark = label->end;
}

/* Moves the labels watermark to `end` (stream time of the labels pad). */
static void
advance_labels_watermark (GstLstmAdapt *self, GstClockTime position)
{
  GstClockTime t;

  if (!GST_CLOCK_TIME_IS_VALID (position) || self->labels_segment.format != GST_FORMAT_TIME)
    return;
  t = gst_segment_to_stream_time (&self->labels_segment, GST_FORMAT_TIME, position);
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return;
  g_mutex_lock (&self->lock);
  if (!GST_CLOCK_TIME_IS_VALID (self->labels_watermark) || t > self->labels_watermark)
    self->labels_watermark = t;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static GstFlowReturn
gst_lstm_adapt_labels_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (parent);
  GstMapInfo map;
  gchar *text, **lines;

  (void) pad;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    TimedLabel label;
    gchar *line = g_strstrip (lines[i]);

    if (!*line || *line == '#')
      continue;
    if (!parse_label_line (line, &label)) {
      warn_bad_label (self, line);
      continue;
    }
    g_mutex_lock (&self->lock);
    add_pad_label (self, &label);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  g_strfreev (lines);
  g_free (text);
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    advance_labels_watermark (self, GST_BUFFER_PTS (buffer) +
        (GST_BUFFER_DURATION_IS_VALID (buffer) ? GST_BUFFER_DURATION (buffer) : 0));
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static gboolean
gst_lstm_adapt_labels_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (parent);

  (void) pad;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->labels_segment);
      break;
    case GST_EVENT_GAP: {
      GstClockTime ts, duration;

      gst_event_parse_gap (event, &ts, &duration);
      if (GST_CLOCK_TIME_IS_VALID (ts))
        advance_labels_watermark (self, ts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0));
      break;
    }
    case GST_EVENT_EOS:
      g_mutex_lock (&self->lock);
      self->labels_eos = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      g_mutex_lock (&self->lock);
      g_array_set_size (self->pad_labels, 0);
      self->labels_watermark = GST_CLOCK_TIME_NONE;
      self->labels_eos = FALSE;
      g_mutex_unlock (&self->lock);
      gst_segment_init (&self->labels_segment, GST_FORMAT_TIME);
      break;
    default:
      break;
  }
  gst_event_unref (event);   /* the labels stop here */
  return TRUE;
}

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
  pad = gst_pad_new_from_template (templ, "labels");
  self->labels_pad = pad;
  GST_OBJECT_UNLOCK (self);

  gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (gst_lstm_adapt_labels_chain));
  gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (gst_lstm_adapt_labels_event));
  gst_segment_init (&self->labels_segment, GST_FORMAT_TIME);
  g_mutex_lock (&self->lock);
  self->have_labels_pad = TRUE;
  self->labels_eos = FALSE;
  self->labels_watermark = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
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
  g_mutex_lock (&self->lock);
  self->have_labels_pad = FALSE;
  g_array_set_size (self->pad_labels, 0);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  gst_element_remove_pad (element, pad);
}

/* ---- the save action ---- */

/* A copy of the adapted weights as they are now, or NULL when nothing was adapted. */
static PhModel *
adapted_snapshot (GstLstmAdapt *self)
{
  Training *t = &self->training;
  PhModel *model = NULL;

  g_mutex_lock (&self->train_lock);
  if (t->trainer)
    model = adapted_copy (t);
  else if (t->final_model)
    model = ph_model_ref (t->final_model);
  g_mutex_unlock (&self->train_lock);
  return model;
}

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
  } else if (!(model = adapted_snapshot (self))) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("save: nothing adapted yet, %s not written (no model found to adapt, or no "
         "frame trained)", path), (NULL));
  } else {
    ok = save_model (model, path, &error);
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

/* Loads labels-location and parses prompt-text; posts an error and returns FALSE
 * when the user's input cannot be used. */
static gboolean
load_inputs (GstLstmAdapt *self)
{
  gchar *labels_path, *prompt;
  Settings settings;
  GError *error = NULL;
  GArray *labels = NULL;
  GPtrArray *words = NULL;
  gboolean have_pad;

  GST_OBJECT_LOCK (self);
  labels_path = g_strdup (self->labels_location);
  prompt = g_strdup (self->prompt_text);
  settings = self->settings;
  have_pad = self->labels_pad != NULL;
  GST_OBJECT_UNLOCK (self);

  if (labels_path && !(labels = load_file_labels (labels_path, &error))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Cannot read the labels: %s", error->message),
                       ("labels-location = %s", labels_path));
    goto fail;
  }
  if (prompt && *prompt && !(words = parse_prompt (self, prompt, &error))) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("Cannot use the prompt: %s", error->message),
                       (NULL));
    goto fail;
  }
  if (settings.mode == GST_LSTM_ADAPT_MODE_SUPERVISED && !labels && !have_pad)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("mode=supervised without labels-location nor a linked labels pad: there is "
         "nothing to train on"), (NULL));
  if (settings.mode == GST_LSTM_ADAPT_MODE_PROMPTED && !words)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("mode=prompted without prompt-text: nothing is trained until prompt-text is set "
         "to the text the speaker reads"), (NULL));

  g_mutex_lock (&self->lock);
  if (self->file_labels)
    g_array_unref (self->file_labels);
  self->file_labels = labels;
  g_free (self->file_labels_name);
  self->file_labels_name = g_strdup (labels_path);
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  if (self->prompt_words)
    g_ptr_array_unref (self->prompt_words);
  self->prompt_words = words;
  self->prompt_serial++;
  GST_OBJECT_UNLOCK (self);
  g_free (labels_path);
  g_free (prompt);
  return TRUE;

fail:
  g_error_free (error);
  g_free (labels_path);
  g_free (prompt);
  return FALSE;
}

/* Checks that save-location can be written (its folder exists and is writable, it
 * is not a folder): found at start, not at the end of the stream. */
static gboolean
check_save_location (GstLstmAdapt *self)
{
  gchar *path, *dir;
  const gchar *problem = NULL;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->save_location);
  GST_OBJECT_UNLOCK (self);
  if (!path || !*path) {
    g_free (path);
    return TRUE;
  }
  dir = g_path_get_dirname (path);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    problem = "it is a folder";
  else if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    problem = "its folder does not exist";
  else if (g_access (dir, W_OK | X_OK) != 0)
    problem = "its folder is not writable";
  else if (g_file_test (path, G_FILE_TEST_EXISTS) && g_access (path, W_OK) != 0)
    problem = "the file is not writable";
  ok = problem == NULL;
  if (!ok)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot write the adapted model to %s: %s; set save-location to a file in a "
         "writable folder", path, problem), ("save-location = %s", path));
  g_free (dir);
  g_free (path);
  return ok;
}

/* At start: the lstmphonemes to adapt must exist. With model-name, one registered under
 * it; else, when the sink pad is linked, one upstream (or given by a context); with
 * the pad not linked yet, the first buffer looks again (discover_labellers). The
 * upstream one must attach the meta. FALSE after posting an error naming the fix. */
static gboolean
check_labeller (GstLstmAdapt *self)
{
  GstElement *upstream = NULL;
  GPtrArray *found;
  gchar *name;
  gboolean linked = gst_pad_is_linked (self->sinkpad), attach_meta = TRUE;

  GST_OBJECT_LOCK (self);
  name = self->model_name && *self->model_name ? g_strdup (self->model_name) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (!name && !linked)
    return TRUE;
  found = find_labellers (self);
  if (found->len == 0) {
    if (name) {
      gchar *names = gst_model_share_names ();

      GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
          ("No lstmphonemes has model-name=%s in this process (%s%s): give the "
           "lstmphonemes to adapt the same model-name", name,
           *names ? "model-names in use: " : "no lstmphonemes has a model-name", names),
          (NULL));
      g_free (names);
    } else {
      GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
          ("No lstmphonemes element to adapt: put lstmadapt downstream of lstmphonemes "
           "(lstmphonemes ! lstmadapt, or on a tee branch after it), or give both "
           "elements the same model-name"), (NULL));
    }
    g_ptr_array_unref (found);
    g_free (name);
    return FALSE;
  }
  upstream = name ? (linked ? query_upstream_labeller (self) : NULL)
      : gst_object_ref (g_ptr_array_index (found, 0));
  if (upstream && GST_IS_LSTM_PHONEMES (upstream))
    g_object_get (upstream, "attach-meta", &attach_meta, NULL);
  if (!attach_meta)
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("%s has attach-meta=false: lstmadapt trains on the phoneme meta it attaches; set "
         "attach-meta=true on it", GST_OBJECT_NAME (upstream)), (NULL));
  g_clear_object (&upstream);
  g_ptr_array_unref (found);
  g_free (name);
  return attach_meta;
}

static void
training_init (Training *t)
{
  memset (t, 0, sizeof *t);
  t->last_running_time = GST_CLOCK_TIME_NONE;
  t->last_stream_end = GST_CLOCK_TIME_NONE;
  t->prompt.features = g_array_new (FALSE, FALSE, sizeof (float));
  t->prompt.posteriors = g_array_new (FALSE, FALSE, sizeof (float));
}

/* Frees the training state, keeping the adapted model for `save` in READY. */
static void
training_clear (GstLstmAdapt *self)
{
  Training *t = &self->training;
  PhModel *final_model = NULL;

  g_mutex_lock (&self->train_lock);
  if (t->trainer)
    final_model = adapted_copy (t);
  else if (t->final_model)
    final_model = ph_model_ref (t->final_model);
  g_mutex_unlock (&self->train_lock);
  set_trainer (self, NULL);
  if (t->initial)
    ph_model_unref (t->initial);
  if (t->labellers)
    g_ptr_array_unref (t->labellers);
  if (t->prompt.words)
    g_ptr_array_unref (t->prompt.words);
  g_array_unref (t->prompt.features);
  g_array_unref (t->prompt.posteriors);
  g_free (t->features);
  frozen_clear (t);
  g_mutex_lock (&self->train_lock);
  if (t->final_model)
    ph_model_unref (t->final_model);
  training_init (t);
  t->final_model = final_model;
  g_mutex_unlock (&self->train_lock);
}

static gboolean
gst_lstm_adapt_start (GstLstmAdapt *self)
{
  Settings settings;
  PhTrainConfig config;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  settings = self->settings;
  GST_OBJECT_UNLOCK (self);
  config = train_config (&settings);
  if (!check_train_config (&config, NULL, &error)) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("Cannot adapt: %s", error->message), (NULL));
    g_error_free (error);
    return FALSE;
  }
  if (!load_inputs (self) || !check_save_location (self) || !check_labeller (self))
    return FALSE;

  self->training.settings = settings;
  self->training.settings_serial = (guint) g_atomic_int_get (&self->settings_serial);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  reset_stream_state (self);
  self->was_enabled = TRUE;
  self->discovered = FALSE;
  self->discovery_countdown = 0;
  self->warned_no_labeller = FALSE;
  self->warned_meta = FALSE;
  self->warned_no_meta = FALSE;
  self->bad_label_lines = 0;
  self->warned_overlap = FALSE;

  g_mutex_lock (&self->lock);
  self->running = TRUE;
  self->flushing = FALSE;
  self->reset_requested = FALSE;
  self->eos_pending = self->eos_done = FALSE;
  self->windows_dropped = self->frames_dropped = 0;
  self->audio_end = GST_CLOCK_TIME_NONE;
  self->fit_checked = FALSE;
  g_mutex_unlock (&self->lock);
  self->thread = g_thread_new ("lstmadapt-train", training_thread, self);
  GST_OBJECT_LOCK (self);
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Asks the training thread to stop after the frame in hand and wakes every waiter
 * (an EOS drain too). Called before the pads are deactivated. */
static void
request_stop (GstLstmAdapt *self)
{
  g_mutex_lock (&self->lock);
  self->running = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
gst_lstm_adapt_stop (GstLstmAdapt *self)
{
  GPtrArray *labellers;

  request_stop (self);
  if (self->thread)
    g_thread_join (self->thread);
  self->thread = NULL;
  training_clear (self);
  g_mutex_lock (&self->lock);
  ring_clear (&self->ring);
  labellers = self->labellers;
  self->labellers = NULL;
  g_array_set_size (self->pad_labels, 0);
  g_mutex_unlock (&self->lock);
  if (labellers)
    g_ptr_array_unref (labellers);
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
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    request_stop (self);
  ret = GST_ELEMENT_CLASS (gst_lstm_adapt_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE))
    gst_lstm_adapt_stop (self);
  return ret;
}

static void
gst_lstm_adapt_set_context (GstElement *element, GstContext *context)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (element);
  GstElement *labeller = gst_model_share_context_get_labeller (context);

  if (labeller) {
    GST_OBJECT_LOCK (self);
    if (self->context_labeller)
      gst_object_unref (self->context_labeller);
    self->context_labeller = labeller;
    self->rediscover = TRUE;
    GST_OBJECT_UNLOCK (self);
  }
  GST_ELEMENT_CLASS (gst_lstm_adapt_parent_class)->set_context (element, context);
}

/* ---- properties ---- */

/* labels-location while running: loaded here; a bad file warns and keeps the old. */
static void
set_labels_location (GstLstmAdapt *self, const gchar *path)
{
  gboolean started;
  GArray *labels = NULL, *old;
  GError *error = NULL;

  if (path && !*path)
    path = NULL;
  GST_OBJECT_LOCK (self);
  g_free (self->labels_location);
  self->labels_location = g_strdup (path);
  started = self->started;
  GST_OBJECT_UNLOCK (self);
  if (!started)
    return;   /* start() loads it */
  if (path && !(labels = load_file_labels (path, &error))) {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("Cannot read the labels, keeping the previous ones: %s", error->message),
        ("labels-location = %s", path));
    g_error_free (error);
    return;
  }
  g_mutex_lock (&self->lock);
  old = self->file_labels;
  self->file_labels = labels;
  g_free (self->file_labels_name);
  self->file_labels_name = g_strdup (path);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (old)
    g_array_unref (old);
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
  if (started && text && *text && !(words = parse_prompt (self, text, &error))) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Cannot use the prompt, ignoring it: %s", error->message), (NULL));
    g_error_free (error);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->prompt_text);
  self->prompt_text = g_strdup (text);
  if (started) {
    if (self->prompt_words)
      g_ptr_array_unref (self->prompt_words);
    self->prompt_words = words;
    self->prompt_serial++;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_adapt_set_property (GObject *object, guint prop_id, const GValue *value,
                             GParamSpec *pspec)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);

  switch (prop_id) {
    case PROP_LABELS_LOCATION:
      set_labels_location (self, g_value_get_string (value));
      return;
    case PROP_PROMPT_TEXT:
      set_prompt_text (self, g_value_get_string (value));
      return;
    default:
      break;
  }

  if (prop_id == PROP_LABELS_RATE) {
    g_mutex_lock (&self->lock);
    self->labels_rate = g_value_get_uint (value);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_K1:
      self->settings.train.k1 = g_value_get_uint (value);
      break;
    case PROP_K2:
      self->settings.train.k2 = g_value_get_uint (value);
      break;
    case PROP_SCHEDULE:
      self->settings.train.schedule = g_value_get_enum (value);
      break;
    case PROP_LEARNING_RATE:
      self->settings.train.learning_rate = g_value_get_float (value);
      break;
    case PROP_MOMENTUM:
      self->settings.train.momentum = g_value_get_float (value);
      break;
    case PROP_OPTIMIZER:
      self->settings.train.optimizer = g_value_get_enum (value);
      break;
    case PROP_CLIP:
      self->settings.train.clip_norm = g_value_get_float (value);
      break;
    case PROP_ANCHOR_WEIGHT:
      self->settings.train.anchor_weight = g_value_get_float (value);
      break;
    case PROP_CONFIDENCE_THRESHOLD:
      self->settings.confidence_threshold = g_value_get_float (value);
      break;
    case PROP_MODE:
      self->settings.mode = g_value_get_enum (value);
      break;
    case PROP_MAX_BACKLOG:
      self->settings.max_backlog = g_value_get_uint (value);
      break;
    case PROP_PUBLISH_INTERVAL:
      self->settings.publish_interval = g_value_get_uint (value);
      break;
    case PROP_ENABLED:
      self->settings.enabled = g_value_get_boolean (value);
      break;
    case PROP_MODEL_NAME:
      g_free (self->model_name);
      self->model_name = g_value_dup_string (value);
      self->rediscover = TRUE;
      break;
    case PROP_SAVE_LOCATION:
      g_free (self->save_location);
      self->save_location = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  settings_changed (self);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_adapt_get_property (GObject *object, guint prop_id, GValue *value,
                             GParamSpec *pspec)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);

  if (prop_id == PROP_WINDOWS_DROPPED || prop_id == PROP_BACKLOG ||
      prop_id == PROP_LABELS_RATE) {
    g_mutex_lock (&self->lock);
    if (prop_id == PROP_WINDOWS_DROPPED)
      g_value_set_uint64 (value, self->windows_dropped);
    else if (prop_id == PROP_LABELS_RATE)
      g_value_set_uint (value, self->labels_rate);
    else
      g_value_set_uint (value, self->ring.count);
    g_mutex_unlock (&self->lock);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_K1:
      g_value_set_uint (value, self->settings.train.k1);
      break;
    case PROP_K2:
      g_value_set_uint (value, self->settings.train.k2);
      break;
    case PROP_SCHEDULE:
      g_value_set_enum (value, self->settings.train.schedule);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_float (value, self->settings.train.learning_rate);
      break;
    case PROP_MOMENTUM:
      g_value_set_float (value, self->settings.train.momentum);
      break;
    case PROP_OPTIMIZER:
      g_value_set_enum (value, self->settings.train.optimizer);
      break;
    case PROP_CLIP:
      g_value_set_float (value, self->settings.train.clip_norm);
      break;
    case PROP_ANCHOR_WEIGHT:
      g_value_set_float (value, self->settings.train.anchor_weight);
      break;
    case PROP_CONFIDENCE_THRESHOLD:
      g_value_set_float (value, self->settings.confidence_threshold);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->settings.mode);
      break;
    case PROP_LABELS_LOCATION:
      g_value_set_string (value, self->labels_location);
      break;
    case PROP_PROMPT_TEXT:
      g_value_set_string (value, self->prompt_text);
      break;
    case PROP_MODEL_NAME:
      g_value_set_string (value, self->model_name);
      break;
    case PROP_MAX_BACKLOG:
      g_value_set_uint (value, self->settings.max_backlog);
      break;
    case PROP_PUBLISH_INTERVAL:
      g_value_set_uint (value, self->settings.publish_interval);
      break;
    case PROP_SAVE_LOCATION:
      g_value_set_string (value, self->save_location);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->settings.enabled);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_lstm_adapt_finalize (GObject *object)
{
  GstLstmAdapt *self = GST_LSTM_ADAPT (object);

  if (self->thread)
    gst_lstm_adapt_stop (self);
  training_clear (self);
  g_array_unref (self->training.prompt.features);
  g_array_unref (self->training.prompt.posteriors);
  if (self->training.final_model)
    ph_model_unref (self->training.final_model);
  if (self->file_labels)
    g_array_unref (self->file_labels);
  g_free (self->file_labels_name);
  g_array_unref (self->pad_labels);
  if (self->prompt_words)
    g_ptr_array_unref (self->prompt_words);
  if (self->context_labeller)
    gst_object_unref (self->context_labeller);
#ifdef PH_HAVE_LEXICON
  ph_lexicon_free (self->lexicon);
#endif
  g_free (self->labels_location);
  g_free (self->prompt_text);
  g_free (self->model_name);
  g_free (self->save_location);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->train_lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (gst_lstm_adapt_parent_class)->finalize (object);
}

static void
install_training_properties (GObjectClass *gobject_class, GParamFlags rw)
{
  g_object_class_install_property (gobject_class, PROP_K1,
      g_param_spec_uint ("k1", "k1",
          "schedule=truncated: frames between two weight updates (10 ms each)",
          1, MAX_STEPS, DEFAULT_K1, rw));
  g_object_class_install_property (gobject_class, PROP_K2,
      g_param_spec_uint ("k2", "k2",
          "schedule=truncated: frames each update backpropagates through (10 ms each); "
          "k1 + k2 is limited by the memory the stored activations need",
          1, MAX_STEPS, DEFAULT_K2, rw));
  g_object_class_install_property (gobject_class, PROP_SCHEDULE,
      g_param_spec_enum ("schedule", "Schedule",
          "When to update: truncated (every k1 frames over the last k2), framewise "
          "(every frame, back to the sequence start) or sentence (once per sequence, at "
          "its end); a sequence runs from discont to discont, the presets keep at most "
          "1000 frames (10 s) of it", GST_TYPE_LSTM_ADAPT_SCHEDULE, DEFAULT_SCHEDULE, rw));
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_float ("learning-rate", "Learning rate",
          "Optimizer step size", 1e-9f, 10.0f, DEFAULT_LEARNING_RATE, rw));
  g_object_class_install_property (gobject_class, PROP_MOMENTUM,
      g_param_spec_float ("momentum", "Momentum",
          "Momentum of optimizer=momentum, beta1 of optimizer=adam", 0.0f, 0.999f,
          DEFAULT_MOMENTUM, rw));
  g_object_class_install_property (gobject_class, PROP_OPTIMIZER,
      g_param_spec_enum ("optimizer", "Optimizer", "The update rule",
          GST_TYPE_LSTM_ADAPT_OPTIMIZER, DEFAULT_OPTIMIZER, rw));
  g_object_class_install_property (gobject_class, PROP_CLIP,
      g_param_spec_float ("clip", "Gradient clip",
          "Largest global gradient norm of an update (larger ones are scaled down); "
          "0 = no clipping", 0.0f, 1e6f, DEFAULT_CLIP, rw));
  g_object_class_install_property (gobject_class, PROP_ANCHOR_WEIGHT,
      g_param_spec_float ("anchor-weight", "Anchor weight",
          "Strength of the L2 pull of the weights back toward the labeller's weights "
          "when adaptation started (keeps mode=self from drifting); 0 = off, -1 = "
          "automatic: 5 in mode=self, 0 in the other modes",
          -1.0f, 1e6f, DEFAULT_ANCHOR_WEIGHT, rw));
}

static void
install_properties (GObjectClass *gobject_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  install_training_properties (gobject_class, rw);
  g_object_class_install_property (gobject_class, PROP_CONFIDENCE_THRESHOLD,
      g_param_spec_float ("confidence-threshold", "Confidence threshold",
          "mode=self: a frame is trained on (toward its own argmax) when the labeller's "
          "posterior of that phone is at least this", 0.0f, 1.0f,
          DEFAULT_CONFIDENCE_THRESHOLD, rw));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "Where the targets come from: supervised (labels-location or the labels pad), "
          "prompted (forced alignment of the reading of prompt-text) or self (the "
          "model's confident frames). Frames without a target carry state only",
          GST_TYPE_LSTM_ADAPT_MODE, DEFAULT_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_LABELS_LOCATION,
      g_param_spec_string ("labels-location", "Labels location",
          "mode=supervised: a TIMIT .PHN file (\"start end phone\" in samples at "
          "labels-rate, times from stream time 0) labelling the audio; a frame's "
          "target is the label covering its centre. Missing or malformed: error at start",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_LABELS_RATE,
      g_param_spec_uint ("labels-rate", "Labels rate",
          "mode=supervised: sample rate (Hz) of the samples in labels-location; 0 = the "
          "rate of the audio reaching lstmadapt. A .PHN written for the original file "
          "(`phonemes align`, TIMIT) counts samples at that file's rate, which "
          "audioresample changes: give it here. Labels that end far from the audio's "
          "end (by more than 0.25 s or a tenth of the audio) are refused with an error, "
          "at the first buffer when upstream knows the duration, else at EOS",
          0, G_MAXINT, DEFAULT_LABELS_RATE, rw));
  g_object_class_install_property (gobject_class, PROP_PROMPT_TEXT,
      g_param_spec_string ("prompt-text", "Prompt text",
          "mode=prompted: the text the speaker reads (or a phone transcription such as "
          "\"hh ax l ow / w er l d\"), from the next buffer on. Once it has been read "
          "(speech for all its phones then 0.5 s of silence, a discont, EOS, or the next "
          "prompt-text), that audio is force-aligned to it with the current model and "
          "trained on",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_MODEL_NAME,
      g_param_spec_string ("model-name", "Model name",
          "Adapt the lstmphonemes element(s) with this model-name in this process "
          "(across a tee or another pipeline); NULL: the lstmphonemes upstream",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_BACKLOG,
      g_param_spec_uint ("max-backlog", "Maximum backlog",
          "Frames (10 ms each) waiting for the training thread at most; when it falls "
          "further behind, whole training windows are dropped (counted in "
          "windows-dropped) and the audio never waits",
          1, MAX_BACKLOG, DEFAULT_MAX_BACKLOG, rw));
  g_object_class_install_property (gobject_class, PROP_PUBLISH_INTERVAL,
      g_param_spec_uint ("publish-interval", "Publish interval",
          "Weight updates between two publications of the adapted weights to the "
          "labeller (each followed by an \"lstmadapt\" message)",
          1, MAX_PUBLISH_INTERVAL, DEFAULT_PUBLISH_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_SAVE_LOCATION,
      g_param_spec_string ("save-location", "Save location",
          "Model file (.phm) the adapted model is written to at EOS and by the `save` "
          "action signal; NULL: not written", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_ENABLED,
      g_param_spec_boolean ("enabled", "Enabled",
          "Adapt; FALSE pauses adaptation (frames are ignored, the audio still flows)",
          DEFAULT_ENABLED, rw));
  g_object_class_install_property (gobject_class, PROP_WINDOWS_DROPPED,
      g_param_spec_uint64 ("windows-dropped", "Windows dropped",
          "Training windows that lost frames because the backlog was full, since start",
          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_BACKLOG,
      g_param_spec_uint ("backlog", "Backlog",
          "Frames waiting for the training thread now", 0, G_MAXUINT, 0, ro));
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
      "Adapts the model of an upstream (or model-name) lstmphonemes while it runs: "
      "truncated BPTT(k1, k2) on its own thread from the phoneme meta, with targets "
      "from labels, a prompt or the model's confident frames. Posts an \"lstmadapt\" "
      "message after each publication (updates, frames-trained, windows-dropped, "
      "frames-dropped, loss, targeted-frames, running-time, train-time, and accuracy when "
      "frames had targets, or in mode=self agreement with the starting model). "
      "Request pad \"labels\" (text/x-phone-labels): lines \"START END PHONE\", times in "
      "seconds of the audio's stream time. Audio passes through unchanged",
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

  settings_init (&self->settings);
  g_mutex_init (&self->lock);
  g_mutex_init (&self->train_lock);
  g_cond_init (&self->cond);
  self->pad_labels = g_array_new (FALSE, FALSE, sizeof (TimedLabel));
  self->labels_watermark = GST_CLOCK_TIME_NONE;
  self->labels_rate = DEFAULT_LABELS_RATE;
  self->audio_end = GST_CLOCK_TIME_NONE;
  self->first_pts = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  gst_segment_init (&self->labels_segment, GST_FORMAT_TIME);
  training_init (&self->training);
  reset_stream_state (self);
  self->was_enabled = TRUE;
}
