/* ph_adapter.c: the adapter's backlog and drop policy, its training thread, the trainer,
 * snapshots, and the end of a stream. Settings: ph_adapter_config.c; target sources:
 * ph_adapter_targets.c; the divergence watch: ph_adapter_watch.c. */
#include "ph_adapter_private.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ph_error.h"
#include "ph_lstm.h"

/* Nice increment of the training thread (Linux). */
#define TRAINING_NICE 10

/* ---- callbacks ---- */

void
ph_adapter_log (PhAdapter *self, PhAdaptLogLevel level, const char *format, ...)
{
  va_list args;

  if (!self->callbacks.log)
    return;
  va_start (args, format);
  self->callbacks.log (level, format, args, self->user_data);
  va_end (args);
}

void
ph_adapter_problem (PhAdapter *self, PhAdaptProblem problem, const char *detail,
                    const char *format, ...)
{
  va_list args;
  gchar *message;

  if (!self->callbacks.problem)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  self->callbacks.problem (problem, message, detail, self->user_data);
  g_free (message);
}

/* ---- settings and inputs ---- */

void
ph_adapter_set_config (PhAdapter *self, const PhAdapterConfig *config)
{
  g_mutex_lock (&self->lock);
  self->config = *config;
  self->config_serial++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_set_prompt (PhAdapter *self, GPtrArray *words)
{
  GPtrArray *old;

  g_mutex_lock (&self->lock);
  old = self->prompt_words;
  self->prompt_words = words;
  self->prompt_serial++;
  g_mutex_unlock (&self->lock);
  if (old)
    g_ptr_array_unref (old);
}

/* ---- the trainer ---- */

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
training_stats (const Training *training)
{
  PhTrainStats total = training->done_stats;

  if (training->trainer)
    stats_accumulate (&total, ph_trainer_stats (training->trainer));
  return total;
}

/* Replaces the trainer by `trainer`, keeping its statistics. */
static void
set_trainer (Training *training, PhTrainer *trainer)
{
  if (training->trainer)
    {
      stats_accumulate (&training->done_stats, ph_trainer_stats (training->trainer));
      ph_trainer_free (training->trainer);
    }
  training->trainer = trainer;
  training->bf16_storage = trainer && ph_model_recurrent_is_bf16 (training->initial);
  memset (&training->watch, 0, sizeof training->watch);
}

void
ph_adapter_set_last_good (PhAdapter *self, PhModel *model)
{
  Training *training = &self->training;

  if (training->last_good)
    ph_model_unref (training->last_good);
  training->last_good = ph_model_ref (model);
}

/* A copy of the trainer's weights now (new reference), or NULL without a trainer. */
PhModel *
ph_adapter_trainer_weights (PhAdapter *self)
{
  PhTrainer *trainer = self->training.trainer;

  return trainer ? ph_model_copy (ph_trainer_model (trainer)) : NULL;
}

/* Warns (once per settings change) that the settings cannot be used; NULL. */
static PhTrainer *
warn_settings (PhAdapter *self, GError *error)
{
  if (!self->training.warned_settings)
    ph_adapter_problem (self, PH_ADAPT_WARN_SETTINGS, NULL,
                        "Cannot adapt with these settings, adaptation paused: %s",
                        error->message);
  self->training.warned_settings = TRUE;
  g_error_free (error);
  return NULL;
}

/* A trainer for a copy of training->initial carrying the weights of `weights` (NULL: the
 * initial ones), so the anchor stays at the starting weights. */
static PhTrainer *
new_trainer (PhAdapter *self, const PhModel *weights)
{
  Training *training = &self->training;
  PhTrainConfig config = ph_adapter_train_config (&training->config);
  GError *error = NULL;
  PhModel *copy;
  PhTrainer *trainer;

  if (!ph_adapter_config_check (&training->config, training->initial, &error))
    return warn_settings (self, error);
  copy = ph_model_copy (training->initial);
  trainer = ph_trainer_new (copy, &config, &error);
  ph_model_unref (copy);
  if (!trainer)
    return warn_settings (self, error);
  if (weights)
    {
      memcpy (ph_trainer_model (trainer)->flat, weights->flat,
              sizeof (float) * weights->n_params);
      ph_model_weights_changed (ph_trainer_model (trainer));
    }
  return trainer;
}

/* Goes back to `weights`: a new trainer on them (the anchor stays at the starting
 * weights), published and taken as the last good ones. */
void
ph_adapter_restart_from (PhAdapter *self, const PhModel *weights)
{
  Training *training = &self->training;

  set_trainer (training, new_trainer (self, weights));
  if (!training->trainer)
    return;
  g_clear_pointer (&training->unverified, ph_model_unref);
  ph_adapter_set_last_good (self, (PhModel *) weights);
  ph_adapter_publish (self, -1.0);
}

/* Drops the frozen model's state and the self-mode decoder (a new starting model). */
static void
frozen_clear (Training *training)
{
  g_clear_pointer (&training->frozen_state, ph_lstm_state_free);
  g_clear_pointer (&training->recent_phones, g_free);
  training->frozen_frames = 0;
  ph_adapter_targets_clear (training);
}

/* Takes the source's model as the starting point, and a fresh trainer for it. */
static gboolean
start_from_source (PhAdapter *self)
{
  Training *training = &self->training;
  guint64 token = 0;
  PhModel *model = self->callbacks.source_model (&token, self->user_data);

  if (!model)
    return FALSE;
  if (training->initial)
    ph_model_unref (training->initial);
  training->initial = model;
  ph_adapter_set_last_good (self, model);
  training->source_token = token;
  frozen_clear (training);
  training->updates_since_publish = 0;
  set_trainer (training, new_trainer (self, NULL));
  ph_adapter_log (self, PH_ADAPT_LOG_INFO, "adapting a model of %u x %u cells",
                  model->shape.num_layers, model->shape.hidden_size);
  return training->trainer != NULL;
}

/* TRUE while the source still gives the model adaptation started from (the same
 * model, for the same consumers of snapshots). */
static gboolean
source_unchanged (PhAdapter *self)
{
  guint64 token = 0;
  PhModel *model = self->callbacks.source_model (&token, self->user_data);

  if (!model)
    return TRUE;
  ph_model_unref (model);
  return token == self->training.source_token;
}

/* Takes new settings; a new trainer config rebuilds the trainer, keeping the adapted
 * weights (the pending window is trained first). */
static void
refresh_config (PhAdapter *self)
{
  Training *training = &self->training;
  PhTrainConfig before = ph_adapter_train_config (&training->config), after;
  gboolean changed;

  g_mutex_lock (&self->lock);
  changed = self->config_serial != training->config_serial;
  training->config = self->config;
  training->config_serial = self->config_serial;
  g_mutex_unlock (&self->lock);
  if (!changed)
    return;
  after = ph_adapter_train_config (&training->config);
  training->warned_settings = FALSE;
  if (training->trainer && memcmp (&before, &after, sizeof before) != 0)
    {
      PhTrainer *trainer;

      ph_trainer_end_sequence (training->trainer);
      trainer = new_trainer (self, training->watch.diverged && training->last_good
                             ? training->last_good : ph_trainer_model (training->trainer));
      if (trainer)
        {
          set_trainer (training, trainer);
          ph_adapter_log (self, PH_ADAPT_LOG_INFO, "training settings changed: new trainer");
        }
    }
}

/* ---- snapshots and publication ---- */

/* A copy of the adapted weights in the storage of the starting model: bfloat16
 * recurrent weights (the default model's) stay bfloat16, so the labeller keeps its
 * faster step; the trainer keeps float weights, in which small updates add up. */
static PhModel *
adapted_copy (const Training *training)
{
  PhModel *copy;

  if (training->watch.diverged && training->last_good)
    return ph_model_ref (training->last_good);
  copy = ph_model_copy (ph_trainer_model (training->trainer));
  if (training->bf16_storage)
    ph_model_round_recurrent_to_bf16 (copy);
  return copy;
}

/* Prompted with a prompt: how far its reading got. */
static void
report_prompt (const Training *training, PhAdaptReport *r)
{
  const PhPromptReaderStats *stats;

  if (training->config.mode != PH_ADAPT_PROMPTED || !training->prompt.reader)
    return;
  stats = ph_prompt_reader_stats (training->prompt.reader);
  r->has_prompt = TRUE;
  r->prompt_words = stats->words;
  r->prompt_words_read = stats->cursor;
  r->prompt_words_matched = stats->words_matched;
  r->prompt_frames_aligned = stats->frames_aligned;
  r->prompt_frames_unmatched = stats->frames_unmatched;
  r->prompt_frames_implausible = training->prompt.implausible_frames;
}

static void
report (PhAdapter *self, double alignment_confidence)
{
  Training *training = &self->training;
  PhTrainStats stats = training_stats (training);
  PhAdaptReport r = { 0 };
  guint64 correct = stats.correct - training->reported_correct;

  g_mutex_lock (&self->lock);
  r.windows_dropped = self->windows_dropped;
  r.frames_dropped = self->frames_dropped;
  g_mutex_unlock (&self->lock);
  r.updates = stats.updates;
  r.frames_trained = stats.frames;
  r.loss = stats.last_loss;
  r.targeted_frames = stats.targeted_frames - training->reported_targeted;
  r.running_time = training->last_running_time;
  r.train_time_ns = (guint64) (thread_cpu_time_ns () - training->cpu_start_ns);
  /* Only what was measured: in self mode the targets are the labeller's own argmax, so
   * accuracy against them says nothing; its agreement with the starting model does. */
  r.self_mode = training->config.mode == PH_ADAPT_SELF;
  r.compared_frames = training->compared;
  r.agreement = training->compared > 0 ? (double) training->agreed / training->compared : 0.0;
  r.has_accuracy = !r.self_mode && r.targeted_frames > 0;
  r.accuracy = r.has_accuracy ? (double) correct / r.targeted_frames : 0.0;
  r.alignment_confidence = alignment_confidence;
  report_prompt (training, &r);
  r.replay_pass = training->replay_pass;
  r.held_back_per = training->held_back_per;
  r.held_back_phones = training->held_back_phones;
  r.replay_final = training->replay_final;
  r.held_back_per_start = training->held_back_per_start;
  ph_adapter_log (self, PH_ADAPT_LOG_DEBUG, "published after %" G_GUINT64_FORMAT " updates, %"
                  G_GUINT64_FORMAT " frames trained: loss %.3f, %" G_GUINT64_FORMAT " of %"
                  G_GUINT64_FORMAT " targeted frames right, %" G_GUINT64_FORMAT " of %"
                  G_GUINT64_FORMAT " agreeing with the starting model", stats.updates,
                  stats.frames, stats.last_loss, correct, r.targeted_frames, training->agreed,
                  training->compared);
  training->reported_targeted = stats.targeted_frames;
  training->reported_correct = stats.correct;
  training->agreed = training->compared = 0;
  if (self->callbacks.report)
    self->callbacks.report (&r, self->user_data);
}

/* Hands a snapshot of the adapted weights to the publish callback and reports. */
void
ph_adapter_publish (PhAdapter *self, double alignment_confidence)
{
  Training *training = &self->training;
  PhModel *snapshot;

  if (!training->trainer)
    return;
  if (!source_unchanged (self))
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO,
                      "the model to adapt changed: adapting the new one");
      start_from_source (self);
      return;
    }
  if (training->watch.diverged || !ph_adapter_weights_finite (self))
    return;
  snapshot = adapted_copy (training);
  ph_lstm_prepare (snapshot); /* here, not in the labeller's first step on the audio thread */
  self->callbacks.publish (snapshot, self->user_data);
  if (training->unverified)
    ph_model_unref (training->unverified);
  training->unverified = snapshot;   /* good once the next update's loss is sane */
  training->updates_since_publish = 0;
  report (self, alignment_confidence);
}

static void
after_updates (PhAdapter *self, guint updates)
{
  Training *training = &self->training;
  const PhTrainStats *stats;

  if (updates == 0)
    return;
  stats = ph_trainer_stats (training->trainer);
  ph_adapter_log (self, PH_ADAPT_LOG_DEBUG, "update %" G_GUINT64_FORMAT
                  ": loss %.4f, gradient norm %.3f", training->done_stats.updates + stats->updates,
                  stats->last_loss, stats->last_grad_norm);
  training->updates_since_publish += updates;
  if (ph_adapter_watch_losses (self))
    return;
  if (training->updates_since_publish >= training->config.publish_interval)
    ph_adapter_publish (self, -1.0);
}

void
ph_adapter_train_frame (PhAdapter *self, const float *features, gint target)
{
  Training *training = &self->training;

  if (!training->trainer || training->watch.diverged)
    return;
  after_updates (self, ph_trainer_feed (training->trainer, features, &target, NULL) ? 1 : 0);
}

void
ph_adapter_end_sequence (PhAdapter *self)
{
  Training *training = &self->training;

  if (training->trainer)
    after_updates (self, ph_trainer_end_sequence (training->trainer) ? 1 : 0);
}

/* ---- frames ---- */

/* Replaces non-finite features by 0; TRUE when there were any. */
static gboolean
sanitise_features (float *features, guint dim)
{
  gboolean bad = FALSE;

  for (guint i = 0; i < dim; i++)
    {
      if (!isfinite (features[i]))
        {
          features[i] = 0.0f;
          bad = TRUE;
        }
    }
  return bad;
}

/* Checks that the trainer takes frames of `dim` values. */
static gboolean
trainer_accepts (PhAdapter *self, guint dim)
{
  Training *training = &self->training;

  if (training->initial->shape.input_dim == dim)
    return TRUE;
  if (!training->warned_dim)
    ph_adapter_problem (self, PH_ADAPT_WARN_FEATURE_DIM, NULL,
                        "The phoneme meta has %u features per frame but the model takes "
                        "%u: not adapting", dim, training->initial->shape.input_dim);
  training->warned_dim = TRUE;
  return FALSE;
}

/* A frame with NaN or Inf features carries state with zeros and is not trained on. */
static void
neutralise_nonfinite (PhAdapter *self, Frame *frame)
{
  Training *training = &self->training;

  if (!sanitise_features (frame->features, training->dim))
    return;
  if (!training->warned_nonfinite)
    ph_adapter_problem (self, PH_ADAPT_WARN_NONFINITE, NULL,
                        "Frames with non-finite features (NaN or Inf) in the phoneme meta: "
                        "they carry state with zeros and are not trained on");
  training->warned_nonfinite = TRUE;
  frame->target = -1;
  frame->info.confidence = 0.0f;
}

/* The run ended: every target source gives up what it holds, the sequence ends. */
static void
end_run (PhAdapter *self)
{
  if (self->training.config.mode == PH_ADAPT_PROMPTED)
    ph_adapter_prompt_close (self);
  ph_adapter_self_decode_flush (self);
  ph_adapter_end_sequence (self);
}

static void
process_frame (PhAdapter *self, Frame *frame)
{
  Training *training = &self->training;

  refresh_config (self);
  if (frame->info.flags & FRAME_RUN_START)
    end_run (self);
  if (!training->trainer && !start_from_source (self))
    return;
  if (!trainer_accepts (self, training->dim))
    return;
  training->last_running_time = frame->info.running_time;
  neutralise_nonfinite (self, frame);
  switch (training->config.mode)
    {
      case PH_ADAPT_PROMPTED:
        ph_adapter_prompt_collect (self, frame);
        return;
      case PH_ADAPT_SELF:
        ph_adapter_measure_agreement (self, frame);
        if (ph_adapter_self_decode (self, frame))
          return;
        break;
      default:
        ph_adapter_self_decode_flush (self);   /* left self mode: decide what it holds */
        break;
    }
  ph_adapter_train_frame (self, frame->features, ph_adapter_frame_target (training, frame));
}

/* Resizes the scratch frame for frames of `dim` values. */
static void
ensure_scratch (Training *training, guint dim)
{
  if (training->dim == dim && training->features)
    return;
  g_free (training->features);
  training->features = g_new0 (float, MAX (dim, 1));
  if (training->dim != dim)
    ph_adapter_prompt_reset (&training->prompt, dim);
  training->dim = dim;
}

/* Takes the oldest queued frame with its target and trains it. `lock` held, released
 * meanwhile. */
static void
train_next_frame (PhAdapter *self)
{
  Training *training = &self->training;
  guint model_rate = training->initial ? training->initial->features.sample_rate : 0;
  Frame frame = { 0 };

  ensure_scratch (training, self->ring.dim);
  frame.features = training->features;
  ph_adapter_ring_pop (&self->ring, &frame);
  frame.target = training->config.mode == PH_ADAPT_SUPERVISED
      ? ph_adapter_supervised_target (self, frame.info.stream_time, model_rate) : -1;
  g_mutex_unlock (&self->lock);
  process_frame (self, &frame);
  g_mutex_lock (&self->lock);
}

/* ---- the end of a stream ---- */

/* Posts an error and returns FALSE when the file labels do not fit the audio just ended
 * (unless they were checked against its duration at the start: then the stream was only
 * cut short); warns when many frames had no label. */
static gboolean
check_label_coverage (PhAdapter *self)
{
  Training *training = &self->training;
  guint model_rate = training->initial ? training->initial->features.sample_rate : 0;
  gchar *misfit = NULL;
  gboolean fits;

  g_mutex_lock (&self->lock);
  if (!self->fit_checked)
    misfit = ph_adapter_labels_misfit (self, model_rate, self->audio_end);
  g_mutex_unlock (&self->lock);
  fits = misfit == NULL;
  if (misfit)
    ph_adapter_problem (self, PH_ADAPT_ERROR_LABELS_MISFIT, "the labels were trained on as "
                        "they are; the adapted model is not written", "%s", misfit);
  else if (training->supervised_frames > 0 &&
           training->unlabelled_frames * 10 > training->supervised_frames)
    ph_adapter_problem (self, PH_ADAPT_WARN_UNLABELLED, NULL,
                        "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames had no label "
                        "covering them and were not trained on", training->unlabelled_frames,
                        training->supervised_frames);
  training->supervised_frames = training->unlabelled_frames = 0;
  g_free (misfit);
  return fits;
}

static const char *
nothing_adapted_hint (PhAdaptMode mode)
{
  switch (mode)
    {
      case PH_ADAPT_SELF:
        return "lower confidence-threshold";
      case PH_ADAPT_PROMPTED:
        return "was prompt-text read aloud, and does the reading match it?";
      default:
        return "do the labels cover the audio?";
    }
}

/* Writes the adapted model to `path` at the end of a stream. */
static void
save_at_end (PhAdapter *self, const char *path)
{
  Training *training = &self->training;
  GError *error = NULL;
  PhModel *adapted;
  gchar *detail;

  if (!training->trainer)
    {
      ph_adapter_problem (self, PH_ADAPT_WARN_NOTHING_ADAPTED, NULL, "Nothing adapted, %s not "
                          "written: no model was found to adapt", path);
      return;
    }
  if (training_stats (training).updates == 0)
    ph_adapter_problem (self, PH_ADAPT_WARN_NOTHING_ADAPTED, NULL,
                        "Nothing was adapted: %s gets the starting weights, as no frame was "
                        "trained on (%s)", path, nothing_adapted_hint (training->config.mode));
  adapted = adapted_copy (training);
  if (ph_model_save_file (adapted, path, &error))
    {
      ph_adapter_log (self, PH_ADAPT_LOG_INFO, "adapted model written to %s", path);
    }
  else
    {
      detail = g_strdup_printf ("save-location = %s", path);
      ph_adapter_problem (self, PH_ADAPT_ERROR_SAVE, detail,
                          "Cannot write the adapted model: %s", error->message);
      g_free (detail);
      g_error_free (error);
    }
  ph_model_unref (adapted);
}

/* Trains what is pending, publishes, writes `path`. */
static void
finish_stream (PhAdapter *self, const char *path)
{
  Training *training = &self->training;

  refresh_config (self);
  end_run (self);
  if (training->config.mode == PH_ADAPT_PROMPTED)
    ph_adapter_replay_run (self);
  if (training->trainer && training->updates_since_publish > 0)
    ph_adapter_publish (self, -1.0);
  if (check_label_coverage (self) && path && *path)
    save_at_end (self, path);
}

/* Drops the pending window (flush). */
static void
drop_pending (Training *training)
{
  if (training->trainer)
    ph_trainer_reset (training->trainer);
  ph_adapter_prompt_reset (&training->prompt, training->dim);
  training->supervised_frames = training->unlabelled_frames = 0;
}

/* ---- the training side: one thing at a time ---- */

/* The adapted weights now, the model kept at the last reset, or NULL. Called by whoever
 * drives the training (the training thread, or the caller without one). */
static PhModel *
current_snapshot (PhAdapter *self)
{
  if (self->training.trainer)
    return adapted_copy (&self->training);
  return self->final_model ? ph_model_ref (self->final_model) : NULL;
}

/* Serves the waiting snapshot requests; `lock` held, released while copying (the
 * streaming thread may push meanwhile). */
static void
serve_snapshots (PhAdapter *self)
{
  GQueue requests = G_QUEUE_INIT;
  SnapshotRequest *request;

  while ((request = g_queue_pop_head (&self->snapshot_requests)))
    g_queue_push_tail (&requests, request);
  g_mutex_unlock (&self->lock);
  for (GList *l = requests.head; l; l = l->next)
    ((SnapshotRequest *) l->data)->model = current_snapshot (self);
  g_mutex_lock (&self->lock);
  while ((request = g_queue_pop_head (&requests)))
    request->served = TRUE;
  g_cond_broadcast (&self->cond);
}

gboolean
ph_adapter_pause_point (PhAdapter *self)
{
  gboolean stop;

  g_mutex_lock (&self->lock);
  if (!g_queue_is_empty (&self->snapshot_requests))
    serve_snapshots (self);
  stop = self->flushing || self->reset_requested || (self->threaded && !self->thread_running);
  g_mutex_unlock (&self->lock);
  return stop;
}

/* Does the next thing the training side can do now: serve snapshots, drop the pending
 * window after a flush, finish a stream, or train a frame. `lock` held (released
 * meanwhile). FALSE when there is nothing to do. */
static gboolean
serve_next (PhAdapter *self)
{
  if (!g_queue_is_empty (&self->snapshot_requests))
    {
      serve_snapshots (self);
    }
  else if (self->reset_requested)
    {
      self->reset_requested = FALSE;
      drop_pending (&self->training);
    }
  else if (self->ring.count > 0 &&
             ph_adapter_front_frame_ready (self, self->training.config.mode))
    {
      train_next_frame (self);
    }
  else if (self->ring.count == 0 && self->eos_pending && !self->eos_done)
    {
      gchar *path = g_strdup (self->eos_save_path);

      g_mutex_unlock (&self->lock);
      finish_stream (self, path);
      g_free (path);
      g_mutex_lock (&self->lock);
      self->eos_done = TRUE;
      ph_adapter_restart_admission (self);
      g_cond_broadcast (&self->cond);
    }
  else
    {
      return FALSE;
    }
  return TRUE;
}

/* Lowers the calling (training) thread's priority: waking it must not preempt the
 * streaming threads it shares a CPU with. Linux only; elsewhere a no-op. */
static void
lower_thread_priority (PhAdapter *self)
{
#ifdef __linux__
  id_t tid = (id_t) syscall (SYS_gettid);
  int nice_value;

  errno = 0;
  nice_value = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, tid, MIN (nice_value + TRAINING_NICE, 19)) != 0)
    ph_adapter_log (self, PH_ADAPT_LOG_DEBUG, "cannot lower the training thread's priority");
#else
  (void) self;
#endif
}

static gpointer
training_thread (gpointer data)
{
  PhAdapter *self = data;

  lower_thread_priority (self);
  self->training.cpu_start_ns = thread_cpu_time_ns ();
  g_mutex_lock (&self->lock);
  self->training_thread = g_thread_self ();
  while (self->thread_running)
    if (!serve_next (self))
      g_cond_wait (&self->cond, &self->lock);
  self->thread_active = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return NULL;
}

void
ph_adapter_start_thread (PhAdapter *self)
{
  g_return_if_fail (self->thread == NULL);
  g_mutex_lock (&self->lock);
  self->threaded = self->thread_running = self->thread_active = TRUE;
  self->flushing = self->reset_requested = FALSE;
  self->eos_pending = self->eos_done = FALSE;
  self->windows_dropped = self->frames_dropped = 0;
  self->audio_end = PH_TIME_NONE;
  self->fit_checked = FALSE;
  ph_adapter_restart_admission (self);
  g_mutex_unlock (&self->lock);
  self->thread = g_thread_new ("lstmadapt-train", training_thread, self);
}

void
ph_adapter_stop_thread (PhAdapter *self)
{
  g_mutex_lock (&self->lock);
  self->thread_running = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->thread)
    g_thread_join (self->thread);
  self->thread = NULL;
}

void
ph_adapter_train_queued (PhAdapter *self)
{
  g_mutex_lock (&self->lock);
  if (!self->threaded && self->training.cpu_start_ns == 0)
    self->training.cpu_start_ns = thread_cpu_time_ns ();
  while (!self->threaded && serve_next (self))
    ;
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_begin_stream (PhAdapter *self)
{
  g_mutex_lock (&self->lock);
  ph_adapter_restart_admission (self);
  self->audio_end = PH_TIME_NONE;
  self->fit_checked = FALSE;
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_set_flushing (PhAdapter *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  if (!flushing)
    {
      self->ring.count = 0;
      self->reset_requested = TRUE;
      ph_adapter_restart_admission (self);
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_finish_stream (PhAdapter *self, const char *save_path)
{
  g_mutex_lock (&self->lock);
  self->eos_pending = TRUE;
  self->eos_done = FALSE;
  g_free (self->eos_save_path);
  self->eos_save_path = g_strdup (save_path);
  g_cond_broadcast (&self->cond);
  if (self->threaded)
    {
      while (!self->eos_done && !self->flushing && self->thread_running)
        g_cond_wait (&self->cond, &self->lock);
    }
  else
    {
      while (serve_next (self))
        ;
    }
  self->eos_pending = FALSE;
  ph_adapter_restart_admission (self);
  g_mutex_unlock (&self->lock);
}

PhModel *
ph_adapter_snapshot (PhAdapter *self)
{
  SnapshotRequest request = { NULL, FALSE };

  g_mutex_lock (&self->lock);
  if (self->thread_active && g_thread_self () != self->training_thread)
    {
      g_queue_push_tail (&self->snapshot_requests, &request);
      g_cond_broadcast (&self->cond);
      while (!request.served && self->thread_active)
        g_cond_wait (&self->cond, &self->lock);
    }
  if (!request.served)
    { /* no thread, or the calling thread is the training one */
      g_queue_remove (&self->snapshot_requests, &request);
      request.model = current_snapshot (self);
    }
  g_mutex_unlock (&self->lock);
  return request.model;
}

/* ---- life cycle ---- */

static void
training_init (Training *training)
{
  memset (training, 0, sizeof *training);
  training->last_running_time = PH_TIME_NONE;
  training->held_back_per = training->held_back_per_start = -1.0;
}

/* Frees the training state. */
static void
training_clear (Training *training)
{
  set_trainer (training, NULL);
  g_clear_pointer (&training->initial, ph_model_unref);
  g_clear_pointer (&training->last_good, ph_model_unref);
  g_clear_pointer (&training->unverified, ph_model_unref);
  ph_adapter_prompt_clear (&training->prompt);
  g_free (training->features);
  frozen_clear (training);
}

PhAdapter *
ph_adapter_new (const PhAdapterConfig *config, const PhAdapterCallbacks *callbacks,
                gpointer user_data)
{
  PhAdapter *self = g_new0 (PhAdapter, 1);

  g_return_val_if_fail (callbacks->source_model && callbacks->publish, NULL);
  self->callbacks = *callbacks;
  self->user_data = user_data;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->config = *config;
  self->timed_labels = g_array_new (FALSE, FALSE, sizeof (TimedLabel));
  self->labels_watermark = PH_TIME_NONE;
  self->audio_end = PH_TIME_NONE;
  g_queue_init (&self->snapshot_requests);
  ph_adapter_restart_admission (self);
  training_init (&self->training);
  self->training.config = *config;
  return self;
}

void
ph_adapter_reset (PhAdapter *self)
{
  Training *training = &self->training;

  ph_adapter_stop_thread (self);
  g_mutex_lock (&self->lock);
  self->threaded = FALSE;
  if (training->trainer)
    {
      g_clear_pointer (&self->final_model, ph_model_unref);
      self->final_model = adapted_copy (training);
    }
  training_clear (training);
  training_init (training);
  training->config = self->config;
  training->config_serial = self->config_serial;
  ph_adapter_ring_clear (&self->ring);
  g_array_set_size (self->timed_labels, 0);
  g_mutex_unlock (&self->lock);
}

void
ph_adapter_free (PhAdapter *self)
{
  if (!self)
    return;
  ph_adapter_stop_thread (self);
  training_clear (&self->training);
  ph_adapter_ring_clear (&self->ring);
  g_clear_pointer (&self->final_model, ph_model_unref);
  g_clear_pointer (&self->prompt_words, g_ptr_array_unref);
  g_clear_pointer (&self->file_labels, g_array_unref);
  g_array_unref (self->timed_labels);
  g_free (self->file_labels_name);
  g_free (self->eos_save_path);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}
