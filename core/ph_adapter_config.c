/* ph_adapter_config.c: the adapter's settings: defaults, the trainer configuration they
 * make, and the check of both against a model (the memory the trainer would store). */
#include "ph_adapter_private.h"

#include <string.h>

#include "ph_error.h"

/* Stored activations the trainer may use, bytes. */
#define MAX_TRAINER_BYTES ((gsize) 512 << 20)

void
ph_adapter_config_init (PhAdapterConfig *config)
{
  memset (config, 0, sizeof *config);
  ph_train_config_init (&config->train);
  config->train.schedule = PH_SCHEDULE_TRUNCATED;
  config->train.k1 = 20;
  config->train.k2 = 20;
  config->train.optimizer = PH_OPTIMIZER_ADAM;
  config->train.learning_rate = 1e-3f;
  config->train.momentum = 0.9f;
  config->train.clip_norm = 1.0f;
  config->train.anchor_weight = -1.0f;
  config->mode = PH_ADAPT_SUPERVISED;
  config->confidence_threshold = 0.9f;
  config->replay_passes = 0;
  config->replay_holdout = 5;
  config->publish_interval = 5;
  config->max_backlog = 1000;
}

PhTrainConfig
ph_adapter_train_config (const PhAdapterConfig *config)
{
  PhTrainConfig train = config->train;

  if (train.schedule != PH_SCHEDULE_TRUNCATED)
    train.max_window = PH_ADAPT_SEQUENCE_MAX_FRAMES;
  if (train.anchor_weight < 0)
    train.anchor_weight = config->mode == PH_ADAPT_SELF ? PH_ADAPT_SELF_ANCHOR_WEIGHT : 0.0f;
  train.batch_size = 1;
  train.threads = 1;
  return train;
}

/* Frames of activations the trainer stores at most. */
static guint64
stored_frames (const PhTrainConfig *train)
{
  if (train->schedule != PH_SCHEDULE_TRUNCATED)
    return PH_ADAPT_SEQUENCE_MAX_FRAMES + PH_MAX_DELAY;
  return (guint64) train->k1 + train->k2 + PH_MAX_DELAY;
}

gboolean
ph_adapter_config_check (const PhAdapterConfig *config, const PhModel *model, GError **error)
{
  PhTrainConfig train = ph_adapter_train_config (config);
  guint64 per_frame, bytes;

  if (!ph_train_config_validate (&train, error))
    return FALSE;
  if (config->replay_passes > PH_ADAPT_MAX_REPLAY_PASSES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "replay-passes must be 0..%u, not %u",
                   PH_ADAPT_MAX_REPLAY_PASSES, config->replay_passes);
      return FALSE;
    }
  if (config->replay_holdout == 1)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "replay-holdout=1 would hold back "
                   "every stretch of the reading: 0 (none) or at least 2");
      return FALSE;
    }
  if (!model)
    return TRUE;
  per_frame = model->shape.input_dim + model->shape.output_dim +
      (guint64) model->shape.num_layers * 9 * model->shape.hidden_size;
  bytes = stored_frames (&train) * per_frame * sizeof (float);
  if (bytes > MAX_TRAINER_BYTES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "k1 = %u and k2 = %u would store %" G_GUINT64_FORMAT " MiB of "
                   "activations for this model (at most %" G_GSIZE_FORMAT " MiB): make "
                   "k1 + k2 smaller", train.k1, train.k2, bytes >> 20,
                   MAX_TRAINER_BYTES >> 20);
      return FALSE;
    }
  return TRUE;
}
