/* ph_adapter.h: online adaptation of a running model, the engine behind the lstmadapt
 * element and the counterpart of PhLabeller. No GStreamer: times are guint64 ns.
 *
 *   ph_adapter_push ──► backlog (at most max_backlog frames; when full, whole training
 *     │                 windows are dropped and counted, the caller never waits)
 *     ▼
 *   training thread (ph_adapter_start_thread), or ph_adapter_train_queued in the
 *   caller's thread: a target per frame from the mode's target source, the TBPTT
 *   trainer, and every publish_interval updates an immutable weight snapshot handed to
 *   the `publish` callback, with a report.
 *
 * Target sources: supervised (labels of a .PHN file in samples, or timed labels given
 * while running), prompted (the frames of one reading of the prompt, force-aligned to
 * it and trained as one sequence; with replay_passes, gone over again when the reading
 * ends: ph_adapter_replay.c), self (the model's confident frames, through the
 * phone-LM decoder when the model carries one).
 *
 * Runs: a run is a stretch of frames with continuous LSTM state in the labeller that
 * produced them. A frame with `run_start` ends the trainer's sequence before it, as do
 * frames lost to the backlog.
 *
 * Why a thread of its own, optional: the thread's whole job (wait for frames and for
 * labels still on their way, train, serve save requests between two frames, finish a
 * stream) is adaptation logic, so it lives here and the element stays thin. Without the
 * thread the same code runs in the caller, which is how the tests check the drop
 * policy, saving and publishing without timing anything.
 *
 * Threads: push, the label functions, config and prompt changes may come from any
 * thread; the trainer's state belongs to the training thread alone (a save request is
 * served by it between two frames). Callbacks are called from the training thread (or
 * the caller of ph_adapter_train_queued / ph_adapter_finish_stream without a thread)
 * with no adapter lock held. */
#pragma once

#include <glib.h>

#include "ph_align.h"
#include "ph_model.h"
#include "ph_train.h"

G_BEGIN_DECLS

#define PH_TIME_NONE G_MAXUINT64

/* Frames the framewise and sentence schedules keep at most (10 s): a longer sentence is
 * updated every PH_ADAPT_SEQUENCE_MAX_FRAMES frames. */
#define PH_ADAPT_SEQUENCE_MAX_FRAMES 1000
/* The automatic anchor weight of the self mode: self-training on an unknown voice drifts
 * (bench/adapt measured -29 points of frame accuracy without an anchor, -0.1 with 3, 0
 * with 10). */
#define PH_ADAPT_SELF_ANCHOR_WEIGHT 5.0f

#define PH_ADAPT_MAX_REPLAY_PASSES 20

typedef enum {
  PH_ADAPT_SUPERVISED,   /* labels of a file, or timed labels */
  PH_ADAPT_PROMPTED,     /* forced alignment of the reading of a prompt */
  PH_ADAPT_SELF,         /* the model's own confident frames */
} PhAdaptMode;

typedef struct {
  PhTrainConfig train;        /* schedule, k1, k2, optimizer, rates, clip; anchor < 0: auto */
  PhAdaptMode mode;
  float confidence_threshold; /* self: frames trained on */
  guint replay_passes;        /* prompted: passes over the reading after it ends (0..
                               * PH_ADAPT_MAX_REPLAY_PASSES), see ph_adapter_replay.c */
  guint replay_holdout;       /* prompted replay: every Nth accepted segment is held back
                               * to choose the weights kept (0: none; else >= 2) */
  guint publish_interval;     /* updates between two snapshots */
  guint max_backlog;          /* frames waiting for training at most */
} PhAdapterConfig;

/* lstmadapt's defaults: truncated k1 = k2 = 20, Adam 1e-3, clip 1, supervised. */
void ph_adapter_config_init (PhAdapterConfig *config);

/* The trainer config `config` gives (presets capped, automatic anchor resolved). */
PhTrainConfig ph_adapter_train_config (const PhAdapterConfig *config);

/* FALSE + GError when the trainer would be invalid, or too large for `model` (NULL:
 * the config alone is checked). */
gboolean ph_adapter_config_check (const PhAdapterConfig *config, const PhModel *model,
                                  GError **error);

/* One frame of the labeller's output, copied by ph_adapter_push. */
typedef struct {
  const float *features;      /* dim raw features */
  guint dim;
  const float *posteriors;    /* 61 */
  gint phone;                 /* the labeller's argmax, -1 = unknown */
  float confidence;           /* its posterior */
  guint64 stream_time;        /* centre of the frame, ns (labels), or PH_TIME_NONE */
  guint64 running_time;       /* start of the frame, ns (reports) */
  gboolean run_start;         /* the labeller's LSTM state was zeroed before it */
} PhAdaptFrame;

/* What one publication reports. */
typedef struct {
  guint64 updates, frames_trained, windows_dropped, frames_dropped;
  double loss;                     /* mean over the last update's window */
  guint64 targeted_frames;         /* since the last report */
  guint64 running_time;            /* of the last frame trained */
  guint64 train_time_ns;           /* the training thread's CPU time */
  gboolean has_accuracy;           /* supervised, prompted: frames had targets */
  double accuracy;
  gboolean self_mode;              /* agreement measured instead of accuracy */
  guint64 compared_frames;
  double agreement;                /* valid when compared_frames > 0 */
  double alignment_confidence;     /* prompted, < 0 when not aligned now */
  gboolean has_prompt;             /* prompted with a prompt: how far its reading got */
  guint prompt_words;              /* words in the prompt */
  guint prompt_words_read;         /* the next word expected is this one (0-based) */
  guint prompt_words_matched;      /* distinct words an accepted segment covered */
  guint64 prompt_frames_aligned;   /* frames of accepted segments (trained on) */
  guint64 prompt_frames_unmatched; /* frames of rejected segments (not trained on) */
  guint64 prompt_frames_implausible; /* of accepted segments whose targets the model
                                    * found all but impossible (not trained on) */
  guint replay_pass;               /* prompted replay: 0 the reading (or, final, the
                                    * starting weights kept), 2.. a pass over it */
  double held_back_per;            /* held-back phone error rate, < 0 not measured */
  guint held_back_phones;          /* reference phones it was measured on */
  gboolean replay_final;           /* the weights the replay keeps */
  double held_back_per_start;      /* final: the starting weights' held-back rate */
} PhAdaptReport;

/* Problems worth a user's attention; the element maps them to its warnings and errors. */
typedef enum {
  PH_ADAPT_WARN_SETTINGS,          /* the settings cannot be used: paused */
  PH_ADAPT_WARN_FEATURE_DIM,       /* frames of another dim than the model's */
  PH_ADAPT_WARN_NONFINITE,         /* NaN or Inf features */
  PH_ADAPT_WARN_DIVERGED,          /* adaptation stopped, last good weights back */
  PH_ADAPT_WARN_UNLABELLED,        /* many frames without a label */
  PH_ADAPT_WARN_NOTHING_ADAPTED,   /* the saved model holds the starting weights */
  PH_ADAPT_WARN_PROMPT_MISMATCH,   /* the reading is not the prompt: weights restored */
  PH_ADAPT_ERROR_LABELS_MISFIT,    /* the labels do not fit the audio: not saved */
  PH_ADAPT_ERROR_SAVE,             /* the model could not be written at the end */
} PhAdaptProblem;

typedef enum {
  PH_ADAPT_LOG_INFO,
  PH_ADAPT_LOG_DEBUG,              /* one line per update and per publication */
} PhAdaptLogLevel;

typedef struct {
  /* The model to adapt (new reference; NULL: none yet) and a token that changes when
   * another model, or other consumers of the snapshots, take its place. */
  PhModel *(*source_model) (guint64 *token, gpointer user_data);
  /* An immutable snapshot (borrowed: take a reference to keep it). */
  void (*publish) (PhModel *snapshot, gpointer user_data);
  void (*report) (const PhAdaptReport *report, gpointer user_data);      /* may be NULL */
  void (*problem) (PhAdaptProblem problem, const char *message, const char *detail,
                   gpointer user_data);                                  /* may be NULL */
  void (*log) (PhAdaptLogLevel level, const char *format, va_list args,
               gpointer user_data);                                      /* may be NULL */
} PhAdapterCallbacks;

typedef struct _PhAdapter PhAdapter;

/* An adapter with `config`; the callbacks (copied) get `user_data`. No thread yet. */
PhAdapter *ph_adapter_new (const PhAdapterConfig *config, const PhAdapterCallbacks *callbacks,
                           gpointer user_data);

/* Stops the thread and frees everything. */
void ph_adapter_free (PhAdapter *adapter);

/* New settings, taken at the next frame; a new trainer config rebuilds the trainer
 * from the adapted weights. Any thread. */
void ph_adapter_set_config (PhAdapter *adapter, const PhAdapterConfig *config);

/* The prompt being read (words taken; NULL: none), from the next frame pushed on. */
void ph_adapter_set_prompt (PhAdapter *adapter, GPtrArray *words);

/* Labels of a .PHN file (PhLabel in samples; taken, NULL: none), named `name` in
 * messages. */
void ph_adapter_set_file_labels (PhAdapter *adapter, GArray *labels, const char *name);

/* The rate of the file labels' samples; 0 = the audio's (ph_adapter_set_audio_rate). */
void ph_adapter_set_labels_rate (PhAdapter *adapter, guint rate);
guint ph_adapter_get_labels_rate (PhAdapter *adapter);

/* Timed labels arrive while running (TRUE): a frame waits for them until they cover it
 * or end (ph_adapter_end_timed_labels). FALSE drops them. */
void ph_adapter_expect_timed_labels (PhAdapter *adapter, gboolean expect);

/* A timed label, stream time [start, end) ns; TRUE when it overlaps the previous one
 * (the later one wins where they do). */
gboolean ph_adapter_add_timed_label (PhAdapter *adapter, guint64 start, guint64 end,
                                     gint phone);

/* Adds the timed labels of `text` (lines "START END PHONE", seconds of stream time, a
 * TIMIT or ARPAbet phone; blank lines and # comments skipped); *overlap |= some overlap
 * the one before. Returns the lines that are not labels (free with g_ptr_array_unref). */
GPtrArray *ph_adapter_add_label_text (PhAdapter *adapter, const char *text, gsize length,
                                      gboolean *overlap);

/* The timed labels cover stream time up to `time`. */
void ph_adapter_advance_timed_labels (PhAdapter *adapter, guint64 time);

/* No more timed labels this stream (TRUE), or a new labels stream (FALSE: forgets them). */
void ph_adapter_end_timed_labels (PhAdapter *adapter, gboolean ended);

/* The audio's sample rate (0: unknown) and where the audio seen so far ends. */
void ph_adapter_set_audio_rate (PhAdapter *adapter, guint rate);
void ph_adapter_note_audio_end (PhAdapter *adapter, guint64 stream_time);

/* TRUE when the file labels wait to be checked against the audio's duration. */
gboolean ph_adapter_labels_await_duration (PhAdapter *adapter);

/* Checks the file labels against audio of `duration` ns (once per stream): NULL when
 * they fit, else why not and the fix (g_free it). */
gchar *ph_adapter_check_labels_fit (PhAdapter *adapter, guint64 duration);

/* Queues frames for training, dropping whole windows when the backlog is full. */
void ph_adapter_push (PhAdapter *adapter, const PhAdaptFrame *frames, guint n);

/* Frames waiting now; windows dropped since the stream began. */
guint ph_adapter_backlog (PhAdapter *adapter);
guint64 ph_adapter_windows_dropped (PhAdapter *adapter);

/* Starts the training thread (nice 10 on Linux); stop: after the frame in hand. */
void ph_adapter_start_thread (PhAdapter *adapter);
void ph_adapter_stop_thread (PhAdapter *adapter);

/* Without a thread: trains every queued frame in the caller's thread (nothing while a
 * training thread runs). */
void ph_adapter_train_queued (PhAdapter *adapter);

/* A new stream: counters, the audio end and the labels check start again. */
void ph_adapter_begin_stream (PhAdapter *adapter);

/* Flushing: a waiting ph_adapter_finish_stream returns; FALSE: the queue and the
 * trainer's pending window are dropped. */
void ph_adapter_set_flushing (PhAdapter *adapter, gboolean flushing);

/* End of stream: trains what is queued and pending, publishes, checks the labels'
 * fit and writes `save_path` (NULL: not written); returns when done, flushing or
 * stopped. */
void ph_adapter_finish_stream (PhAdapter *adapter, const char *save_path);

/* Ends adaptation: stops the thread, drops the trainer and keeps the adapted model
 * for ph_adapter_save. */
void ph_adapter_reset (PhAdapter *adapter);

/* A copy of the adapted weights as they are now, in the storage of the model adaptation
 * started from (taken by the training thread between two frames; new reference), or
 * NULL when nothing was adapted. The last good weights after a divergence. */
PhModel *ph_adapter_snapshot (PhAdapter *adapter);

G_END_DECLS
