/* ph_train.h: truncated backpropagation through time, BPTT(k1, k2), and optimizers.
 *
 * The trainer is fed one (frame, target) pair at a time per stream and carries the
 * hidden state. Every k1 frames it backpropagates through stored activations, clips the
 * gradient by global norm, and updates the weights once per chunk:
 *   k2 >= k1: Williams & Peng BPTT(h = k2; h' = k1): the loss of the last k1 frames,
 *             backpropagated through the last k2 frames.
 *   k2 <  k1: each of the k1 frames' errors is backpropagated at most k2 frames back.
 * Presets: FRAMEWISE (k1 = 1, k2 = every frame since the sequence start), SENTENCE
 * (k1 = k2 = the sequence length: one update at its end), TRUNCATED (given k1, k2).
 * Frames with target -1 add no loss but still carry the state. The loss of a chunk is
 * the mean cross-entropy over its targeted frames (over all streams of a batch).
 * With output delay d (model->shape.delay) the trainer shifts targets itself: the
 * target fed with frame t is the label of frame t, and is applied to the output at
 * step t + d; ph_trainer_end_sequence feeds d copies of the last frame to reach them. */
#pragma once

#include "ph_model.h"

G_BEGIN_DECLS

typedef enum {
  PH_SCHEDULE_TRUNCATED = 0,
  PH_SCHEDULE_FRAMEWISE = 1,
  PH_SCHEDULE_SENTENCE = 2,
} PhSchedule;

typedef enum {
  PH_OPTIMIZER_SGD = 0,
  PH_OPTIMIZER_MOMENTUM = 1,
  PH_OPTIMIZER_ADAM = 2,
} PhOptimizerKind;

typedef struct {
  PhSchedule schedule;
  guint k1, k2;            /* TRUNCATED only; both >= 1 */
  PhOptimizerKind optimizer;
  float learning_rate;
  float momentum;          /* MOMENTUM; also Adam's beta1 */
  float beta2;             /* Adam */
  float epsilon;           /* Adam */
  float clip_norm;         /* global gradient norm clip, 0 = off */
  float weight_decay;      /* L2 toward zero, added to the gradient */
  float anchor_weight;     /* L2 toward the weights at ph_trainer_new, 0 = off */
  guint batch_size;        /* B parallel streams, each with its own state */
  guint max_window;        /* cap on stored frames for FRAMEWISE/SENTENCE, 0 = none */
  guint threads;           /* worker threads for the streams of a batch (1 = none) */
  float dropout;           /* probability of zeroing each hidden output on its way to the
                            * layer above or the output layer (not the recurrent path;
                            * Zaremba et al. 2014), survivors scaled by 1 / (1 - p) so
                            * that inference needs no change; 0 = off */
  guint32 seed;            /* seeds the dropout masks (one generator per stream) */
  guint64 max_updates;     /* updates over the trainer's life, 0 = no limit; once done,
                            * chunks are stepped but never trained */
} PhTrainConfig;

/* Defaults: TRUNCATED k1 = k2 = 20, Adam lr 1e-3 (beta 0.9, 0.999, eps 1e-8),
 * clip 1.0, no decay, no anchor, batch 1, no window cap, 1 thread, no dropout, no
 * limit on updates. */
void ph_train_config_init (PhTrainConfig *config);

/* FALSE with a GError naming the bad field (k1/k2 of 0, absurd sizes, ...). */
gboolean ph_train_config_validate (const PhTrainConfig *config, GError **error);

typedef struct {
  guint64 updates;          /* weight updates done */
  guint64 frames;           /* frames fed (all streams) */
  guint64 targeted_frames;  /* frames that carried a target and reached the loss */
  guint64 correct;          /* of those, argmax == target */
  double loss_sum;          /* sum of per-frame cross-entropy over targeted frames */
  double last_loss;         /* mean loss of the last update's chunk */
  double last_grad_norm;    /* global norm before clipping, last update */
} PhTrainStats;

typedef struct _PhTrainer PhTrainer;

/* A trainer that updates `model` in place (it takes a reference). NULL + GError on a
 * bad config. */
PhTrainer *ph_trainer_new (PhModel *model, const PhTrainConfig *config, GError **error);
void ph_trainer_free (PhTrainer *trainer);

/* The model being trained (owned by the trainer). */
PhModel *ph_trainer_model (PhTrainer *trainer);

/* Feeds one frame to each of the batch_size streams: `features` [B][input_dim] raw,
 * `targets` [B] (phone index, or -1 for none). `active` [B] may be NULL (all active);
 * an inactive stream is not stepped this frame. Returns TRUE when an update happened. */
gboolean ph_trainer_feed (PhTrainer *trainer, const float *features, const gint *targets,
                          const gboolean *active);

/* Ends the sequence in every stream: feeds the delay padding, runs the pending chunk
 * (one update) and resets all states. Returns TRUE when an update happened. */
gboolean ph_trainer_end_sequence (PhTrainer *trainer);

/* Drops pending frames without training and resets all states (discont, flush). */
void ph_trainer_reset (PhTrainer *trainer);

/* Running statistics; ph_trainer_reset_stats zeroes them. */
const PhTrainStats *ph_trainer_stats (const PhTrainer *trainer);
void ph_trainer_reset_stats (PhTrainer *trainer);

/* One sequence for offline training: row-major raw features and per-frame targets. */
typedef struct {
  const float *features; /* [n_frames][input_dim] */
  const gint *targets;   /* [n_frames], -1 = none */
  guint n_frames;
} PhSequence;

/* Trains on up to batch_size sequences in lockstep (one per stream, each from a zero
 * state), following the schedule, then ends the sequences; stops early once
 * config.max_updates are done. Returns updates done. */
guint ph_trainer_train_sequences (PhTrainer *trainer, const PhSequence *sequences, guint n);

/* Full-sequence backprop reference: mean cross-entropy over targeted frames of one
 * sequence from a zero state (with the model's delay applied to targets as above), and
 * its gradient added (+=) into `grad_flat` (ph_lstm_param_count floats). Used by the
 * tests and as the k1 = k2 = T reference. */
double ph_train_sequence_loss_grad (const PhModel *model, const PhSequence *sequence,
                                    float *grad_flat);

G_END_DECLS
