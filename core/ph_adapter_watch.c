/* ph_adapter_watch.c: divergence. The loss of each window of updates that holds at
 * least 20 targeted frames (measured on the weights before them) is watched: a loss
 * that is not finite, that jumps far above the running loss, a running loss that
 * climbs far above the starting one, an agreement with the targets that collapses, or a
 * weight that is not finite stops the adaptation and hands the last good weights (the
 * last published ones a sane loss followed) back. */
#include "ph_adapter_private.h"

#include <math.h>

#define DIVERGED_LOSS_SMOOTHING 0.1  /* weight of each update's loss in the running loss */
#define DIVERGED_JUMP_FACTOR 4.0     /* one update's loss this many times the running one */
#define DIVERGED_CLIMB_FACTOR 4.0    /* the running loss this many times the starting one */
#define SANE_LOSS_FACTOR 2.0         /* a loss at most this many times the running one
                                      * vouches for the weights it was measured on */
#define START_ACCURACY_FRAMES 200    /* targeted frames that measure the start accuracy */
#define COLLAPSE_MIN_START 0.3       /* an accuracy (agreement with the targets) that ... */
#define COLLAPSE_FACTOR 3.0          /* ... falls below a third of where it started */
#define WINDOW_FRAMES 20             /* targeted frames a judged window holds at least */

/* Stops the adaptation: warns with `reason`, and publishes the last good weights
 * (snapshots give them from now on). */
static void
declare_divergence (PhAdapter *self, const gchar *reason)
{
  Training *training = &self->training;

  training->watch.diverged = TRUE;
  g_clear_pointer (&training->unverified, ph_model_unref);
  if (training->last_good)
    self->callbacks.publish (training->last_good, self->user_data);
  ph_adapter_problem (self, PH_ADAPT_WARN_DIVERGED, NULL,
                      "Adaptation diverged (%s): stopped; the labeller is back on the last "
                      "good weights, which save and save-location write. Lower "
                      "learning-rate or set clip; changing a training setting starts again "
                      "from those weights", reason);
}

/* The reason an update's `loss` (on the weights before it) shows divergence, or NULL;
 * keeps the running loss. *sane: the loss vouches for those weights. */
static gchar *
loss_divergence (DivergenceWatch *w, double loss, gboolean *sane)
{
  *sane = FALSE;
  if (!isfinite (loss))
    return g_strdup_printf ("the loss is %g", loss);
  if (w->windows == 0)
    {
      w->start_loss = w->running_loss = loss;
      *sane = TRUE;
      return NULL;
    }
  if (loss > DIVERGED_JUMP_FACTOR * w->running_loss && loss > 2 * PH_ADAPT_UNIFORM_GUESS_LOSS)
    return g_strdup_printf ("the loss jumped to %.2f from a running %.2f", loss,
                            w->running_loss);
  *sane = loss <= MAX (SANE_LOSS_FACTOR * w->running_loss, PH_ADAPT_UNIFORM_GUESS_LOSS);
  w->running_loss += DIVERGED_LOSS_SMOOTHING * (loss - w->running_loss);
  if (w->running_loss > DIVERGED_CLIMB_FACTOR * w->start_loss
      && w->running_loss > PH_ADAPT_UNIFORM_GUESS_LOSS)
    return g_strdup_printf ("the running loss climbed to %.2f from %.2f at the start",
                            w->running_loss, w->start_loss);
  return NULL;
}

/* The reason the agreement of the model with its targets (the labeller's own frames in
 * self mode, the labels or the alignment otherwise) shows a collapse, or NULL; keeps
 * the start and running accuracy from the trainer's counts. */
static gchar *
agreement_collapse (DivergenceWatch *w, const PhTrainStats *stats)
{
  guint64 targeted = stats->targeted_frames - w->targeted;
  guint64 correct = stats->correct - w->correct;

  if (targeted == 0)
    return NULL;
  if (w->start_accuracy < 0)
    {
      if (stats->targeted_frames >= START_ACCURACY_FRAMES)
        w->start_accuracy = w->running_accuracy =
            (double) stats->correct / stats->targeted_frames;
      w->targeted = stats->targeted_frames;
      w->correct = stats->correct;
      return NULL;
    }
  w->targeted = stats->targeted_frames;
  w->correct = stats->correct;
  w->running_accuracy += DIVERGED_LOSS_SMOOTHING * ((double) correct / targeted
                                                    - w->running_accuracy);
  if (w->start_accuracy >= COLLAPSE_MIN_START
      && w->running_accuracy < w->start_accuracy / COLLAPSE_FACTOR)
    return g_strdup_printf ("the agreement with the targets fell to %.0f%% from %.0f%% at "
                            "the start", 100 * w->running_accuracy, 100 * w->start_accuracy);
  return NULL;
}

/* Adds the last update to the current window; TRUE (and *loss, the window's mean) when
 * the window holds WINDOW_FRAMES targeted frames, for the first update (its loss is the
 * starting weights'), or when the loss is not finite (judged at once). An update of one
 * frame is right or wrong and its loss is that of one frame: a few hard frames in a row
 * must not read as divergence. */
static gboolean
window_complete (DivergenceWatch *w, const PhTrainStats *stats, double *loss)
{
  guint64 frames = stats->targeted_frames - w->seen_targeted;

  w->seen_targeted = stats->targeted_frames;
  if (!isfinite (stats->last_loss))
    {
      *loss = stats->last_loss;
      return TRUE;
    }
  w->window_loss += stats->last_loss * (double) frames;
  w->window_frames += frames;
  if (w->window_frames < WINDOW_FRAMES && w->windows > 0)  /* the first update alone:
                                                          * the starting weights' loss */
    return FALSE;
  *loss = w->window_frames ? w->window_loss / (double) w->window_frames : stats->last_loss;
  w->window_loss = 0;
  w->window_frames = 0;
  return TRUE;
}

/* After an update that completes a window: TRUE (adaptation stopped) when its loss
 * shows divergence; otherwise, when the loss is sane, the weights published before it
 * are now known good (a doubtful loss leaves them unproven: the next publication
 * replaces them). */
gboolean
ph_adapter_watch_losses (PhAdapter *self)
{
  Training *training = &self->training;
  const PhTrainStats *stats = ph_trainer_stats (training->trainer);
  gchar *reason;
  gboolean sane;
  double loss;

  if (training->watch.diverged || stats->updates == training->watch.updates)
    return training->watch.diverged;
  if (training->watch.updates == 0)
    training->watch.start_accuracy = -1;
  training->watch.updates = stats->updates;
  if (!window_complete (&training->watch, stats, &loss))
    return FALSE;
  reason = loss_divergence (&training->watch, loss, &sane);
  if (!reason)
    reason = agreement_collapse (&training->watch, stats);
  training->watch.windows++;
  if (reason)
    {
      declare_divergence (self, reason);
      g_free (reason);
      return TRUE;
    }
  if (training->unverified && sane)
    ph_adapter_set_last_good (self, training->unverified);
  g_clear_pointer (&training->unverified, ph_model_unref);
  return FALSE;
}

gboolean
ph_adapter_weights_finite (PhAdapter *self)
{
  const PhModel *model = ph_trainer_model (self->training.trainer);

  for (gsize i = 0; i < model->n_params; i++)
    if (!isfinite (model->flat[i]))
      {
        gchar *reason = g_strdup_printf ("weight %" G_GSIZE_FORMAT " is %g", i,
                                         model->flat[i]);

        declare_divergence (self, reason);
        g_free (reason);
        return FALSE;
      }
  return TRUE;
}
