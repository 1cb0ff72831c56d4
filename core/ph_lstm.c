/* ph_lstm.c: streaming LSTM inference, one frame at a time, no allocation per step.
 *
 * The kernels below are shared with the trainer (ph_lstm_private.h) so that training
 * sees exactly the activations inference computes. Sums run in a fixed order (eight
 * interleaved partial sums, combined pairwise) so results do not depend on how the
 * compiler vectorises, and forward_sequence is bit-identical to stepping. */
#include "ph_lstm.h"
#include "ph_lstm_private.h"

#include <math.h>
#include <string.h>

struct _PhLstmState {
  PhLstmShape shape;
  float *h[PH_MAX_LAYERS]; /* [H] each */
  float *c[PH_MAX_LAYERS]; /* [H] each */
  float *x_norm;           /* [input_dim] normalised input */
  float *gates;            /* [4H] gate pre-activations, then activations */
  float *tanh_c;           /* [H] */
  float *block;            /* the one allocation all of the above point into */
};

/* Eight interleaved partial sums: a fixed order that gcc can still vectorise. */
static inline float
dot (const float *w, const float *x, guint n)
{
  float acc[8] = { 0 };
  guint k = 0;

  for (; k + 8 <= n; k += 8)
    for (guint j = 0; j < 8; j++)
      acc[j] += w[k + j] * x[k + j];
  for (guint j = 0; k < n; k++, j++)
    acc[j] += w[k] * x[k];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

void
ph_matvec_add (float *y, const float *w, const float *x, guint rows, guint cols)
{
  for (guint r = 0; r < rows; r++)
    y[r] += dot (w + (gsize) r * cols, x, cols);
}

void
ph_normalise_input (float *x_norm, const float *x, const float *mean, const float *scale,
                    guint dim)
{
  for (guint k = 0; k < dim; k++)
    x_norm[k] = (x[k] - mean[k]) * scale[k];
}

void
ph_lstm_gates (const PhLstmLayerParams *layer, guint in_dim, guint hidden, const float *x,
               const float *h_prev, float *gates)
{
  memcpy (gates, layer->bias, sizeof (float) * 4 * hidden);
  ph_matvec_add (gates, layer->w_x, x, 4 * hidden, in_dim);
  ph_matvec_add (gates, layer->w_h, h_prev, 4 * hidden, hidden);
}

static inline float
sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

void
ph_lstm_cell_forward (float *gates, const float *peep, const float *c_prev, float *c,
                      float *tanh_c, float *h, guint hidden)
{
  float *gi = gates, *gf = gates + hidden, *gg = gates + 2 * hidden, *go = gates + 3 * hidden;
  const float *p_i = peep, *p_f = peep + hidden, *p_o = peep + 2 * hidden;

  for (guint j = 0; j < hidden; j++)
    {
      float cp = c_prev[j]; /* read before c[j] is written: c may alias c_prev */
      float i = sigmoid (gi[j] + p_i[j] * cp);
      float f = sigmoid (gf[j] + p_f[j] * cp);
      float g = tanhf (gg[j]);
      float cj = f * cp + i * g;
      float o = sigmoid (go[j] + p_o[j] * cj);
      float tc = tanhf (cj);

      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = o;
      c[j] = cj;
      tanh_c[j] = tc;
      h[j] = o * tc;
    }
}

void
ph_softmax (float *y, guint n)
{
  float max = y[0];
  double sum = 0.0;

  for (guint k = 1; k < n; k++)
    max = MAX (max, y[k]);
  for (guint k = 0; k < n; k++)
    {
      y[k] = expf (y[k] - max);
      sum += y[k];
    }
  float inv = (float) (1.0 / sum);
  for (guint k = 0; k < n; k++)
    y[k] *= inv;
}

void
ph_lstm_output (const PhLstmParams *params, const PhLstmShape *shape, const float *h_top,
                float *posteriors)
{
  memcpy (posteriors, params->b_out, sizeof (float) * shape->output_dim);
  ph_matvec_add (posteriors, params->w_out, h_top, shape->output_dim, shape->hidden_size);
  ph_softmax (posteriors, shape->output_dim);
}

/* A zeroed state for networks of `shape`. */
PhLstmState *
ph_lstm_state_new (const PhLstmShape *shape)
{
  g_return_val_if_fail (shape != NULL, NULL);
  g_return_val_if_fail (shape->num_layers >= 1 && shape->num_layers <= PH_MAX_LAYERS, NULL);
  g_return_val_if_fail (shape->input_dim > 0 && shape->hidden_size > 0, NULL);

  PhLstmState *state = g_new0 (PhLstmState, 1);
  gsize H = shape->hidden_size, L = shape->num_layers;
  gsize n = 2 * L * H + shape->input_dim + 4 * H + H;
  float *p;

  state->shape = *shape;
  state->block = p = g_new0 (float, n);
  for (gsize l = 0; l < L; l++)
    {
      state->h[l] = p, p += H;
      state->c[l] = p, p += H;
    }
  state->x_norm = p, p += shape->input_dim;
  state->gates = p, p += 4 * H;
  state->tanh_c = p;
  return state;
}

/* Frees the state and its scratch. */
void
ph_lstm_state_free (PhLstmState *state)
{
  if (state == NULL)
    return;
  g_free (state->block);
  g_free (state);
}

/* Zeroes h and c (start of a new sequence). */
void
ph_lstm_state_reset (PhLstmState *state)
{
  g_return_if_fail (state != NULL);
  for (guint l = 0; l < state->shape.num_layers; l++)
    {
      memset (state->h[l], 0, sizeof (float) * state->shape.hidden_size);
      memset (state->c[l], 0, sizeof (float) * state->shape.hidden_size);
    }
}

/* Current h of `layer` (H floats), owned by the state. */
const float *
ph_lstm_state_h (const PhLstmState *state, guint layer)
{
  g_return_val_if_fail (state != NULL && layer < state->shape.num_layers, NULL);
  return state->h[layer];
}

/* Current c of `layer` (H floats), owned by the state. */
const float *
ph_lstm_state_c (const PhLstmState *state, guint layer)
{
  g_return_val_if_fail (state != NULL && layer < state->shape.num_layers, NULL);
  return state->c[layer];
}

static gboolean
shape_equal (const PhLstmShape *a, const PhLstmShape *b)
{
  return a->input_dim == b->input_dim && a->hidden_size == b->hidden_size
         && a->num_layers == b->num_layers && a->output_dim == b->output_dim;
}

/* One frame through every layer and the softmax; see ph_lstm.h. */
void
ph_lstm_step (const PhModel *model, PhLstmState *state, const float *features,
              float *posteriors)
{
  g_return_if_fail (model != NULL && state != NULL && features != NULL && posteriors != NULL);
  g_return_if_fail (shape_equal (&model->shape, &state->shape));

  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size;
  const float *x = state->x_norm;

  ph_normalise_input (state->x_norm, features, model->norm_mean, model->norm_scale,
                      shape->input_dim);
  for (guint l = 0; l < shape->num_layers; l++)
    {
      const PhLstmLayerParams *layer = &model->params.layer[l];

      ph_lstm_gates (layer, ph_lstm_layer_input_dim (shape, l), H, x, state->h[l],
                     state->gates);
      ph_lstm_cell_forward (state->gates, layer->peep, state->c[l], state->c[l],
                            state->tanh_c, state->h[l], H);
      x = state->h[l];
    }
  ph_lstm_output (&model->params, shape, x, posteriors);
}

/* Runs `n_frames` frames from a zero state; identical to stepping frame by frame. */
void
ph_lstm_forward_sequence (const PhModel *model, const float *features, guint n_frames,
                          float *posteriors)
{
  g_return_if_fail (model != NULL);
  g_return_if_fail (n_frames == 0 || (features != NULL && posteriors != NULL));

  PhLstmState *state = ph_lstm_state_new (&model->shape);
  gsize in = model->shape.input_dim, out = model->shape.output_dim;

  for (guint t = 0; t < n_frames; t++)
    ph_lstm_step (model, state, features + t * in, posteriors + t * out);
  ph_lstm_state_free (state);
}
