/* ph_adapter_private.h: the adapter's state, shared by its units: ph_adapter.c (backlog,
 * thread, trainer, snapshots), ph_adapter_targets.c (the target sources) and
 * ph_adapter_watch.c (divergence). Not installed. */
#pragma once

#include "ph_adapter.h"
#include "ph_decoder.h"
#include "ph_lstm.h"
#include "ph_phoneset.h"
#include "ph_prompt_reader.h"

/* ln 61: the cross-entropy of guessing uniformly among the phones. */
#define PH_ADAPT_UNIFORM_GUESS_LOSS 4.1109

enum {
  FRAME_RUN_START = 1 << 0,   /* the trainer's sequence ends before this frame */
};

/* Per frame, beside its features and posteriors. */
typedef struct {
  guint flags;
  gint phone;                 /* labeller's argmax */
  float confidence;           /* its posterior */
  guint64 stream_time;        /* centre of the frame (labels) */
  guint64 running_time;       /* start of the frame (reports) */
  guint prompt_serial;        /* the prompt in force when the frame arrived */
} FrameInfo;

/* The backlog: a bounded FIFO of frames, storage allocated once per (capacity, dim). */
typedef struct {
  guint capacity, head, count, dim;
  FrameInfo *info;
  float *features;            /* capacity x dim */
  float *posteriors;          /* capacity x PH_NUM_PHONES */
} FrameRing;

/* One frame in the training thread's hands. */
typedef struct {
  FrameInfo info;
  float *features;            /* dim, scratch owned by the Training */
  float posteriors[PH_NUM_PHONES];
  gint target;                /* supervised: from the labels, -1 = none */
} Frame;

/* A timed label, stream time. */
typedef struct {
  guint64 start, end;
  gint phone;
} TimedLabel;

/* The reading of the current prompt (prompted mode). */
typedef struct {
  PhPromptReader *reader;     /* follows the reading of `words`; NULL = no prompt */
  GPtrArray *words;           /* the prompt (PhWord *), NULL = none */
  guint serial;               /* prompt_serial of `words` */
  PhModel *at_start;          /* the trainer's weights when the prompt began: a reading
                               * that does not match it goes back to them */
  gboolean mismatch_handled;  /* the mismatch was reported and the weights restored */
  GPtrArray *replay;          /* the accepted segments, kept for replay (replay_passes >
                               * 0), NULL = none yet (ph_adapter_replay.c) */
  guint accepted;             /* segments accepted since the prompt began */
  guint64 replay_frames;      /* frames kept in `replay` (past the cap: cap + 1) */
  guint64 implausible_frames; /* of accepted segments not trained on: implausible */
} PromptWindow;

/* What the divergence watch knows of the current trainer. It judges windows of updates
 * that together hold enough targeted frames (one update of truncated BPTT; twenty of
 * framewise, whose updates hold one frame each). */
typedef struct {
  guint64 updates;            /* the trainer's updates seen */
  guint64 windows;            /* windows judged */
  double start_loss;          /* loss of its first window: the weights it started from */
  double running_loss;        /* exponential average of the per-window losses */
  guint64 targeted, correct;  /* the trainer's counts at the last window judged */
  double start_accuracy;      /* argmax == target over its first frames, -1 until known */
  double running_accuracy;    /* exponential average of the per-window accuracies */
  guint64 seen_targeted;      /* the trainer's targeted frames at the last update seen */
  double window_loss;         /* sum of loss x targeted frames over the current window */
  guint64 window_frames;      /* targeted frames in it */
  gboolean diverged;          /* adaptation stopped: last_good is what counts */
} DivergenceWatch;

/* The training thread's state (or the caller's, without a thread): nobody else
 * touches it. */
typedef struct {
  PhTrainer *trainer;
  DivergenceWatch watch;
  PhModel *last_good;         /* the latest weights known good: published and followed
                               * by a sane loss, or the starting model */
  PhModel *unverified;        /* published, the next update's loss not yet seen */
  gboolean bf16_storage;      /* `initial` has bfloat16 recurrent weights */
  PhModel *initial;           /* the model the trainer started from */
  guint64 source_token;       /* the source's token when `initial` was taken */
  PhAdapterConfig config;
  guint config_serial;
  float *features;            /* scratch, dim floats */
  guint dim;
  PhTrainStats done_stats;    /* of trainers replaced since start */
  guint updates_since_publish;
  guint64 reported_targeted, reported_correct;
  guint64 last_running_time;
  gint64 cpu_start_ns;
  guint64 supervised_frames, unlabelled_frames;
  gboolean warned_dim, warned_settings, warned_nonfinite;
  PromptWindow prompt;
  /* prompted replay: what the reports say about it */
  guint replay_pass;          /* 0: the live reading (or the starting weights kept) */
  double held_back_per;       /* of the last held-back scoring, < 0 none */
  guint held_back_phones;
  double held_back_per_start; /* the starting weights', known at the end, < 0 none */
  gboolean replay_final;      /* the publication of the weights the replay keeps */
  /* self: the frozen starting model run on the same frames, to report how often the
   * labeller's argmax still agrees with it. */
  PhLstmState *frozen_state;
  float frozen_posteriors[PH_NUM_PHONES];
  gint *recent_phones;        /* the labeller's argmax of the last delay + 1 frames */
  guint64 frozen_frames;      /* frames stepped since the frozen state was reset */
  guint64 agreed, compared;   /* since the last report */
  /* self with a phone LM: the decoder gives the targets; frames wait here until it
   * has decided their phone. */
  PhDecoder *decoder;
  GArray *undecided_features;    /* float, n x dim */
  GArray *undecided_posteriors;  /* float, n x 61 */
} Training;

/* A snapshot request, served by the training thread between two frames. */
typedef struct {
  PhModel *model;
  gboolean served;
} SnapshotRequest;

struct _PhAdapter {
  PhAdapterCallbacks callbacks;
  gpointer user_data;

  /* `lock` + `cond`: what the producer, labels and training threads share. */
  GMutex lock;
  GCond cond;
  PhAdapterConfig config;     /* the latest settings */
  guint config_serial;
  GPtrArray *prompt_words;    /* immutable, replaced */
  guint prompt_serial;
  FrameRing ring;
  gboolean dropping;          /* dropping up to a window boundary */
  guint64 run_frames;         /* frames since the last run start (window boundaries) */
  gboolean run_start_next;    /* the next frame starts a sequence */
  guint64 windows_dropped, frames_dropped;
  GArray *file_labels;        /* PhLabel (samples), or NULL */
  gchar *file_labels_name;
  guint labels_rate;          /* Hz of the file labels' samples, 0 = `audio_rate` */
  guint audio_rate;
  guint64 audio_end;          /* stream time where the audio seen so far ends */
  gboolean fit_checked;       /* the file labels were checked against the duration */
  GArray *timed_labels;       /* TimedLabel, arrival order */
  guint64 labels_watermark;   /* stream time the timed labels cover */
  gboolean expect_timed_labels;
  gboolean timed_labels_ended;
  gboolean threaded;          /* a training thread was started (until the reset) */
  gboolean thread_running;    /* the training thread should run */
  gboolean thread_active;     /* it runs and serves snapshot requests */
  gboolean flushing;
  gboolean reset_requested;   /* flush: drop the pending window */
  gboolean eos_pending, eos_done;
  gchar *eos_save_path;
  GQueue snapshot_requests;   /* SnapshotRequest *, waiting */
  PhModel *final_model;       /* the adapted model after a reset, for snapshots */
  GThread *thread;
  GThread *training_thread;   /* the thread itself sets it, under `lock` */

  Training training;
};

/* ph_adapter.c */
G_GNUC_INTERNAL void ph_adapter_log (PhAdapter *self, PhAdaptLogLevel level,
                                     const char *format, ...) G_GNUC_PRINTF (3, 4);
G_GNUC_INTERNAL void ph_adapter_problem (PhAdapter *self, PhAdaptProblem problem,
                                         const char *detail, const char *format, ...)
    G_GNUC_PRINTF (4, 5);
G_GNUC_INTERNAL void ph_adapter_train_frame (PhAdapter *self, const float *features,
                                             gint target);
G_GNUC_INTERNAL void ph_adapter_end_sequence (PhAdapter *self);
G_GNUC_INTERNAL void ph_adapter_publish (PhAdapter *self, double alignment_confidence);
G_GNUC_INTERNAL void ph_adapter_set_last_good (PhAdapter *self, PhModel *model);
G_GNUC_INTERNAL PhModel *ph_adapter_trainer_weights (PhAdapter *self);
G_GNUC_INTERNAL void ph_adapter_restart_from (PhAdapter *self, const PhModel *weights);
/* For long work on the training thread (a replay): serves waiting snapshot requests;
 * TRUE when the work should stop (flushing, a reset, the thread stopping). */
G_GNUC_INTERNAL gboolean ph_adapter_pause_point (PhAdapter *self);

/* ph_adapter_backlog.c (`lock` held) */
G_GNUC_INTERNAL void ph_adapter_ring_clear (FrameRing *ring);
G_GNUC_INTERNAL void ph_adapter_ring_pop (FrameRing *ring, Frame *frame);
G_GNUC_INTERNAL void ph_adapter_restart_admission (PhAdapter *self);

/* ph_adapter_targets.c: the target sources (training thread, unless noted). */
G_GNUC_INTERNAL void ph_adapter_targets_clear (Training *training);
/* `lock` held: */
G_GNUC_INTERNAL gint ph_adapter_supervised_target (PhAdapter *self, guint64 stream_time,
                                                   guint model_rate);
G_GNUC_INTERNAL gboolean ph_adapter_front_frame_ready (PhAdapter *self, PhAdaptMode mode);
G_GNUC_INTERNAL gchar *ph_adapter_labels_misfit (PhAdapter *self, guint model_rate,
                                                 guint64 audio_end);
/* training thread: */
G_GNUC_INTERNAL gint ph_adapter_frame_target (Training *training, const Frame *frame);
G_GNUC_INTERNAL void ph_adapter_measure_agreement (PhAdapter *self, const Frame *frame);
G_GNUC_INTERNAL gboolean ph_adapter_self_decode (PhAdapter *self, const Frame *frame);
G_GNUC_INTERNAL void ph_adapter_self_decode_flush (PhAdapter *self);
G_GNUC_INTERNAL void ph_adapter_prompt_reset (PromptWindow *window, guint dim);
G_GNUC_INTERNAL void ph_adapter_prompt_clear (PromptWindow *window);
G_GNUC_INTERNAL void ph_adapter_prompt_close (PhAdapter *self);
G_GNUC_INTERNAL void ph_adapter_prompt_collect (PhAdapter *self, const Frame *frame);

/* ph_adapter_replay.c (training thread) */
/* `model`'s posteriors [n_frames][61] of a sequence of frames from a zero state, frame
 * t's at row t: the output delay is met by stepping copies of the last frame, as the
 * labeller does (g_free it). */
G_GNUC_INTERNAL float *ph_adapter_sequence_posteriors (const PhModel *model,
                                                       const float *features,
                                                       guint n_frames, guint dim);
G_GNUC_INTERNAL gboolean ph_adapter_replay_keep (PhAdapter *self, const PhPromptSegment *seg);
G_GNUC_INTERNAL void ph_adapter_replay_run (PhAdapter *self);
G_GNUC_INTERNAL void ph_adapter_replay_clear (PromptWindow *window);

/* ph_adapter_watch.c: divergence (training thread). */
G_GNUC_INTERNAL gboolean ph_adapter_watch_losses (PhAdapter *self);
G_GNUC_INTERNAL gboolean ph_adapter_weights_finite (PhAdapter *self);
