/* ph_lstm.h: streaming LSTM inference: a caller-owned state and a step per frame. */
#pragma once

#include "ph_model.h"

G_BEGIN_DECLS

/* h and c per layer, plus scratch space so that a step allocates nothing. */
typedef struct _PhLstmState PhLstmState;

/* A zeroed state for networks of `shape`. */
PhLstmState *ph_lstm_state_new (const PhLstmShape *shape);
void ph_lstm_state_free (PhLstmState *state);

/* Zeroes h and c (start of a new sequence). */
void ph_lstm_state_reset (PhLstmState *state);

/* Current h / c of `layer` (H floats each), owned by the state. */
const float *ph_lstm_state_h (const PhLstmState *state, guint layer);
const float *ph_lstm_state_c (const PhLstmState *state, guint layer);

/* Consumes one raw feature frame (normalised inside with the model's mean/scale),
 * updates `state` in place and writes output_dim posteriors (softmax) to `posteriors`.
 * With delay d, the posteriors written at step t are for frame t - d. `state` must have
 * been made for model->shape. No allocation, except once per model: its first step
 * makes the repacked copy of the weights the kernels read (see ph_model_weights_changed). */
void ph_lstm_step (const PhModel *model, PhLstmState *state, const float *features,
                   float *posteriors);

/* The kernels the step runs on this CPU, as packed from now on: "avx512" (products and
 * cell with AVX-512, bfloat16 weights read as 16-bit values) or "portable". Both give
 * the same bits. PH_STEP_KERNEL=portable in the environment forces "portable". */
const char *ph_lstm_kernel_name (void);

/* Makes `model`'s repacked weights now; otherwise its first step does (about 0.1 ms for
 * the default model). Call it before handing a new model to a real-time thread, so that
 * no buffer pays for it. The model must not change afterwards (ph_model_weights_changed). */
void ph_lstm_prepare (const PhModel *model);

/* n_frames consecutive frames (row-major features [n_frames][input_dim], posteriors
 * [n_frames][output_dim]): bit-identical to as many ph_lstm_step calls, and faster, as
 * the input and output products of the frames are computed together and only the
 * recurrent weights are read once per frame. No allocation (beyond ph_lstm_step's). */
void ph_lstm_step_frames (const PhModel *model, PhLstmState *state, const float *features,
                          guint n_frames, float *posteriors);

/* Runs `n_frames` frames from a zero state (row-major features, posteriors
 * [n_frames][output_dim]); identical to stepping frame by frame. */
void ph_lstm_forward_sequence (const PhModel *model, const float *features, guint n_frames,
                               float *posteriors);

/* Frees ph_lstm_step's repacked weights (PhModel.step_weights, for ph_model.c); NULL is
 * allowed. */
G_GNUC_INTERNAL void ph_lstm_step_weights_free (gpointer step_weights);

G_END_DECLS
