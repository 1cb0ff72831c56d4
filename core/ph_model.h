/* ph_model.h: the LSTM phone classifier's parameters, and model files.
 *
 * Network (Graves & Schmidhuber 2005): num_layers LSTM layers with input, forget and
 * output gates, peephole connections and tanh cell, then a softmax over the 61 TIMIT
 * phones. Gate weights are fused: per layer one [4H x in] input matrix and one [4H x H]
 * recurrent matrix, gate rows in the order i, f, g (cell input), o.
 *
 *   i = sigma(Wx_i x + Wh_i h' + p_i * c' + b_i)     (h', c': previous step)
 *   f = sigma(Wx_f x + Wh_f h' + p_f * c' + b_f)
 *   g = tanh (Wx_g x + Wh_g h' + b_g)
 *   c = f * c' + i * g
 *   o = sigma(Wx_o x + Wh_o h' + p_o * c + b_o)
 *   h = o * tanh(c)
 *   y = softmax(W_out h_top + b_out)
 *
 * All trainable parameters live in one allocation (`flat`); PhLstmParams points into
 * it. Gradients and optimizer moments use the identical layout (ph_lstm_params_bind). */
#pragma once

#include <glib.h>
#include "ph_features.h"
#include "ph_phoneset.h"
#include "ph_phone_lm.h"

G_BEGIN_DECLS

#define PH_MAX_LAYERS 4
#define PH_MAX_DELAY 32

typedef struct {
  guint32 input_dim;   /* feature dimension (ph_feature_config_dim) */
  guint32 hidden_size; /* H, cells per layer */
  guint32 num_layers;  /* 1..PH_MAX_LAYERS */
  guint32 output_dim;  /* PH_NUM_PHONES */
  guint32 delay;       /* output delay in frames: the output at step t is for frame t - delay */
} PhLstmShape;

typedef struct {
  float *w_x;  /* [4H][in_dim]: in_dim = input_dim for layer 0, H above */
  float *w_h;  /* [4H][H] */
  float *bias; /* [4H] */
  float *peep; /* [3H]: input gate, forget gate (both from c'), output gate (from c) */
} PhLstmLayerParams;

typedef struct {
  PhLstmLayerParams layer[PH_MAX_LAYERS];
  float *w_out; /* [output_dim][H] */
  float *b_out; /* [output_dim] */
} PhLstmParams;

/* The parameter layout and shape limits (ph_lstm.c). */

/* Number of floats in the flat parameter block for `shape`. */
gsize ph_lstm_param_count (const PhLstmShape *shape);

/* Points `params` into `flat` (ph_lstm_param_count floats) in the documented order:
 * for each layer w_x, w_h, bias, peep; then w_out, b_out. */
void ph_lstm_params_bind (PhLstmParams *params, const PhLstmShape *shape, float *flat);

/* Checks sizes and limits; FALSE with a GError naming the bad field otherwise. */
gboolean ph_lstm_shape_validate (const PhLstmShape *shape, GError **error);

/* A model: features config, shape, input normalisation and weights. Reference counted
 * so a published snapshot can be shared between threads; treat a model that others may
 * hold as immutable (ph_model_copy before changing it). */
typedef struct {
  PhFeatureConfig features;
  PhLstmShape shape;
  float *norm_mean;   /* [input_dim]: subtracted from features */
  float *norm_scale;  /* [input_dim]: 1 / standard deviation, multiplied after */
  float *flat;        /* [n_params], one allocation */
  gsize n_params;
  PhLstmParams params;
  gint ref_count;
  gpointer step_weights; /* private: ph_lstm_step's repacked copy of the weights, made on
                          * first use; see ph_model_weights_changed */
  PhPhoneLm *lm;         /* the decoder's phone bigram (ph_decoder.h), or NULL: the
                          * labeller then segments greedily. Owned by the model. */
} PhModel;

/* A zero-weight model, identity normalisation. NULL + GError on an invalid config or
 * shape (shape->input_dim must equal the features' dim; output_dim must be 61). */
PhModel *ph_model_new (const PhFeatureConfig *features, const PhLstmShape *shape, GError **error);

/* Uniform random weights in +-1/sqrt(H) (deterministic for `seed`), forget-gate bias 1. */
void ph_model_init_random (PhModel *model, guint64 seed);

/* Call after changing a model's weights in place (only while no one else holds it):
 * drops ph_lstm_step's repacked copy, which the next step rebuilds. The trainer calls
 * it after every update. */
void ph_model_weights_changed (PhModel *model);

/* Rounds the recurrent matrices' weights (w_h of every layer) to the nearest bfloat16
 * values, floats whose low 16 bits are zero: on CPUs with AVX-512 the step then reads
 * them as 16-bit values, half the bytes, with the same arithmetic (ph_lstm.c). Each
 * weight moves by at most 2^-8 of itself (8 significant bits: half a step), a subnormal
 * one by at most 2^-134. Only while no one else holds the model. */
void ph_model_round_recurrent_to_bf16 (PhModel *model);

/* TRUE when x is a bfloat16 value: a float whose low 16 bits are zero. */
static inline gboolean
ph_float_is_bf16 (float x)
{
  union { float f; guint32 bits; } v = { x };

  return (v.bits & 0xffff) == 0;
}

/* TRUE when every recurrent weight of the model is a bfloat16 value (as after
 * ph_model_round_recurrent_to_bf16). */
gboolean ph_model_recurrent_is_bf16 (const PhModel *model);

/* A deep copy with ref count 1 (the phone LM included). */
PhModel *ph_model_copy (const PhModel *model);

/* TRUE when `a` and `b` take the same features and have the same shape: a stream can go
 * on from one's weights to the other's between two frames, state and all. */
gboolean ph_model_same_layout (const PhModel *a, const PhModel *b);

/* Replaces the model's phone LM by a copy of `lm` (NULL removes it). Only while no one
 * else holds the model. */
void ph_model_set_lm (PhModel *model, const PhPhoneLm *lm);

PhModel *ph_model_ref (PhModel *model);   /* atomic */
void ph_model_unref (PhModel *model);     /* atomic; frees at zero */

/* Model files (format: docs/model-format.md; version 2 adds the phone LM, and a model
 * without one is written as version 1, which older builds read). The loaders share one code path and fail
 * with a GError naming `name` (the file) and the problem: truncated, bad magic, wrong
 * version, bad sizes, checksum mismatch, non-finite values. They never crash. */
PhModel *ph_model_load_bytes (GBytes *bytes, const char *name, GError **error);
PhModel *ph_model_load_file (const char *path, GError **error);
GBytes *ph_model_to_bytes (const PhModel *model);
gboolean ph_model_save_file (const PhModel *model, const char *path, GError **error);

/* The default model compiled into the core library (models/default.phm). */
PhModel *ph_model_load_default (GError **error);

/* Sets norm_mean / norm_scale from `n_frames` rows of raw features (population std,
 * floored at 1e-5). */
void ph_model_set_normalisation (PhModel *model, const float *features, gsize n_frames);

G_END_DECLS
