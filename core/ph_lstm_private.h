/* ph_lstm_private.h: the LSTM kernels shared by inference (ph_lstm.c) and training
 * (ph_train.c), so that the trainer's forward pass is bit-identical to ph_lstm_step.
 * Not installed. */
#pragma once

#include "ph_model.h"

G_BEGIN_DECLS

/* y[r] += dot(w[r][0..cols), x) for r < rows; w row-major. Fixed summation order. */
G_GNUC_INTERNAL void ph_matvec_add (float *y, const float *w, const float *x,
                                    guint rows, guint cols);

/* x_norm[k] = (x[k] - mean[k]) * scale[k]. */
G_GNUC_INTERNAL void ph_normalise_input (float *x_norm, const float *x, const float *mean,
                                         const float *scale, guint dim);

/* Gate pre-activations of one layer: gates = bias + W_x x + W_h h_prev ([4H]). */
G_GNUC_INTERNAL void ph_lstm_gates (const PhLstmLayerParams *layer, guint in_dim, guint hidden,
                                    const float *x, const float *h_prev, float *gates);

/* Applies the cell to pre-activations: replaces `gates` (i, f, g, o) by their activated
 * values and writes c, tanh(c) and h. `c` may alias `c_prev`, `h` may alias nothing read. */
G_GNUC_INTERNAL void ph_lstm_cell_forward (float *gates, const float *peep, const float *c_prev,
                                           float *c, float *tanh_c, float *h, guint hidden);

/* In-place softmax over n values (max-subtracted). */
G_GNUC_INTERNAL void ph_softmax (float *y, guint n);

/* posteriors = softmax(W_out h + b_out). */
G_GNUC_INTERNAL void ph_lstm_output (const PhLstmParams *params, const PhLstmShape *shape,
                                     const float *h_top, float *posteriors);

/* Input width of `layer`: the feature dimension for layer 0, H above. */
static inline guint
ph_lstm_layer_input_dim (const PhLstmShape *shape, guint layer)
{
  return layer == 0 ? shape->input_dim : shape->hidden_size;
}

G_END_DECLS
