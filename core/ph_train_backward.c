/* ph_train_backward.c: backpropagation through a stream's stored frames with the
 * current weights, and the full-sequence reference ph_train_sequence_loss_grad.
 *
 * Speed (bench/run): the kernels are ph_lstm_private.h's vector code. The backward
 * pass runs the recurrence frame by frame (cell, dh = W^T dz) but defers the weight
 * gradients: each frame records its gate gradients and where its inputs are, and every
 * REC_CAPACITY frames (and at the end of a job) one small GEMM per weight matrix adds
 * all their outer products, so a gradient matrix is read and written once per many
 * frames rather than once per frame. */
#include "ph_train_private.h"

#include <math.h>
#include <string.h>

/* ---- backward kernels ------------------------------------------------------------- */

/* dx[k] += sum_r w[r][k] dz[r], r in increasing order for every k (element-wise the
 * same sums whatever the vector width). Four rows per pass over dx. */
PH_SIMD_CLONES static void
matvec_t_add (float *dx, const float *w, const float *dz, guint rows, guint cols)
{
  guint full = cols / PH_LANES * PH_LANES, r = 0;

  for (; r + 4 <= rows; r += 4)
    {
      const float *w0 = w + (gsize) r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
      PhVec d0 = ph_vec_set1 (dz[r]), d1 = ph_vec_set1 (dz[r + 1]);
      PhVec d2 = ph_vec_set1 (dz[r + 2]), d3 = ph_vec_set1 (dz[r + 3]);

      for (guint k = 0; k < full; k += PH_LANES)
        {
          PhVec v = ph_vec_load (dx + k);
          v += ph_vec_load (w0 + k) * d0;
          v += ph_vec_load (w1 + k) * d1;
          v += ph_vec_load (w2 + k) * d2;
          v += ph_vec_load (w3 + k) * d3;
          ph_vec_store (dx + k, v);
        }
      for (guint k = full; k < cols; k++)
        dx[k] = (((dx[k] + w0[k] * dz[r]) + w1[k] * dz[r + 1]) + w2[k] * dz[r + 2])
                + w3[k] * dz[r + 3];
    }
  for (; r < rows; r++)
    {
      const float *w0 = w + (gsize) r * cols;
      PhVec d0 = ph_vec_set1 (dz[r]);

      for (guint k = 0; k < full; k += PH_LANES)
        ph_vec_store (dx + k, ph_vec_load (dx + k) + ph_vec_load (w0 + k) * d0);
      for (guint k = full; k < cols; k++)
        dx[k] += w0[k] * dz[r];
    }
}

/* dw[r][k] += sum_n d_n[r] x_n[k] over n records (d_n = d + n * d_stride, x_n =
 * x[n * x_stride]) for rows [r, r + 4) and columns [k, k + 16): the block stays in
 * registers (named, so that it does) while the records stream by. Each element sums
 * in record order, as in the other block shapes below. */
PH_INLINE void
outer_block4x16 (float *dw, guint cols, guint k, const float *d, gsize d_stride,
                 const float *const *x, gsize x_stride, guint n)
{
  float *r0 = dw + k, *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
  PhVec a0 = ph_vec_load (r0), b0 = ph_vec_load (r0 + 8), a1 = ph_vec_load (r1);
  PhVec b1 = ph_vec_load (r1 + 8), a2 = ph_vec_load (r2), b2 = ph_vec_load (r2 + 8);
  PhVec a3 = ph_vec_load (r3), b3 = ph_vec_load (r3 + 8);

  for (guint m = 0; m < n; m++)
    {
      const float *xm = x[m * x_stride] + k, *dm = d + m * d_stride;
      PhVec x0 = ph_vec_load (xm), x1 = ph_vec_load (xm + 8);
      PhVec d0 = ph_vec_set1 (dm[0]), d1 = ph_vec_set1 (dm[1]);
      PhVec d2 = ph_vec_set1 (dm[2]), d3 = ph_vec_set1 (dm[3]);

      a0 += d0 * x0, b0 += d0 * x1;
      a1 += d1 * x0, b1 += d1 * x1;
      a2 += d2 * x0, b2 += d2 * x1;
      a3 += d3 * x0, b3 += d3 * x1;
    }
  ph_vec_store (r0, a0), ph_vec_store (r0 + 8, b0);
  ph_vec_store (r1, a1), ph_vec_store (r1 + 8, b1);
  ph_vec_store (r2, a2), ph_vec_store (r2 + 8, b2);
  ph_vec_store (r3, a3), ph_vec_store (r3 + 8, b3);
}

/* As outer_block4x16 for 4 rows and 8 columns. */
PH_INLINE void
outer_block4x8 (float *dw, guint cols, guint k, const float *d, gsize d_stride,
                const float *const *x, gsize x_stride, guint n)
{
  float *r0 = dw + k, *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
  PhVec a0 = ph_vec_load (r0), a1 = ph_vec_load (r1), a2 = ph_vec_load (r2);
  PhVec a3 = ph_vec_load (r3);

  for (guint m = 0; m < n; m++)
    {
      const float *dm = d + m * d_stride;
      PhVec x0 = ph_vec_load (x[m * x_stride] + k);

      a0 += ph_vec_set1 (dm[0]) * x0;
      a1 += ph_vec_set1 (dm[1]) * x0;
      a2 += ph_vec_set1 (dm[2]) * x0;
      a3 += ph_vec_set1 (dm[3]) * x0;
    }
  ph_vec_store (r0, a0), ph_vec_store (r1, a1), ph_vec_store (r2, a2), ph_vec_store (r3, a3);
}

/* One row, columns [k, k + 8). */
PH_INLINE void
outer_block1x8 (float *dw, guint k, const float *d, gsize d_stride, const float *const *x,
                gsize x_stride, guint n)
{
  PhVec a = ph_vec_load (dw + k);

  for (guint m = 0; m < n; m++)
    a += ph_vec_set1 (d[m * d_stride]) * ph_vec_load (x[m * x_stride] + k);
  ph_vec_store (dw + k, a);
}

/* One element. */
PH_INLINE void
outer_element (float *dw, guint k, const float *d, gsize d_stride, const float *const *x,
               gsize x_stride, guint n)
{
  float a = dw[k];

  for (guint m = 0; m < n; m++)
    a += d[m * d_stride] * x[m * x_stride][k];
  dw[k] = a;
}

/* dw[r][k] += sum_n d_n[r] x_n[k]: the outer products of n frames as one matrix
 * product, so that dw is read and written once per n frames instead of once per frame
 * (a small GEMM, with the block sizes above). */
PH_SIMD_CLONES static void
outer_gemm (float *dw, guint rows, guint cols, const float *d, gsize d_stride,
            const float *const *x, gsize x_stride, guint n)
{
  guint k16 = cols / 16 * 16, k8 = cols / 8 * 8, r = 0;

  for (; r + 4 <= rows; r += 4)
    {
      float *dw_r = dw + (gsize) r * cols;
      for (guint k = 0; k < k16; k += 16)
        outer_block4x16 (dw_r, cols, k, d + r, d_stride, x, x_stride, n);
      if (k16 < k8)
        outer_block4x8 (dw_r, cols, k16, d + r, d_stride, x, x_stride, n);
      for (guint i = 0; i < 4; i++)
        for (guint k = k8; k < cols; k++)
          outer_element (dw_r + (gsize) i * cols, k, d + r + i, d_stride, x, x_stride, n);
    }
  for (; r < rows; r++)
    {
      float *dw_r = dw + (gsize) r * cols;
      for (guint k = 0; k < k8; k += 8)
        outer_block1x8 (dw_r, k, d + r, d_stride, x, x_stride, n);
      for (guint k = k8; k < cols; k++)
        outer_element (dw_r, k, d + r, d_stride, x, x_stride, n);
    }
}

/* Backward through one cell. `a` is the layer's stored block; dh is dL/dh at this step,
 * dc enters as dL/dc from the next step and leaves as dL/dc'. Writes the gate
 * pre-activation gradients dz (i f g o) and accumulates the peephole gradients. */
static void
lstm_cell_backward (const float *a, const float *peep, const float *dh, float *dc, float *dz,
                    float *dpeep, guint hidden)
{
  const float *c_prev = a + LAYER_C_PREV * hidden, *gates = a + LAYER_GATES * hidden;
  const float *c = a + LAYER_C * hidden, *tanh_c = a + LAYER_TANH_C * hidden;
  const float *p_i = peep, *p_f = peep + hidden, *p_o = peep + 2 * hidden;

  for (guint j = 0; j < hidden; j++)
    {
      float i = gates[j], f = gates[hidden + j], g = gates[2 * hidden + j];
      float o = gates[3 * hidden + j], tc = tanh_c[j], cp = c_prev[j];
      float dzo = dh[j] * tc * o * (1.0f - o);
      float dcj = dc[j] + dh[j] * o * (1.0f - tc * tc) + dzo * p_o[j];
      float dzi = dcj * g * i * (1.0f - i);
      float dzf = dcj * cp * f * (1.0f - f);
      float dzg = dcj * i * (1.0f - g * g);

      dz[j] = dzi;
      dz[hidden + j] = dzf;
      dz[2 * hidden + j] = dzg;
      dz[3 * hidden + j] = dzo;
      dc[j] = dcj * f + dzi * p_i[j] + dzf * p_f[j];
      dpeep[j] += dzi * cp;
      dpeep[hidden + j] += dzf * cp;
      dpeep[2 * hidden + j] += dzo * c[j];
    }
}

/* Cross-entropy of one stored output; sets *correct when the argmax is the target. */
static double
frame_loss (const float *y, guint n, gint target, gboolean *correct)
{
  guint best = 0;

  for (guint k = 1; k < n; k++)
    if (y[k] > y[best])
      best = k;
  *correct = (gint) best == target;
  return -log (MAX ((double) y[target], 1e-30));
}

/* dlogits = (y - onehot(target)) * scale: the softmax + cross-entropy gradient. */
static void
softmax_xent_backward (float *dlogits, const float *y, guint n, gint target, float scale)
{
  for (guint k = 0; k < n; k++)
    dlogits[k] = y[k] * scale;
  dlogits[target] -= scale;
}

/* ---- backward over stored frames -------------------------------------------------- */

void
ph_train_worker_init (Worker *w, const PhLstmShape *shape, float *grad)
{
  gsize H = shape->hidden_size, L = shape->num_layers;

  memset (w, 0, sizeof *w);
  w->grad = grad;
  ph_lstm_params_bind (&w->grad_params, shape, grad);
  w->dh_rec = g_new0 (float, L * H);
  w->dc_rec = g_new0 (float, L * H);
  w->dh = g_new0 (float, H);
  w->dlogits = g_new0 (float, shape->output_dim);
  w->dropped_grad = g_new0 (float, H);
  w->rec_dz = g_new0 (float, REC_CAPACITY * L * 4 * H);
  w->rec_in = g_new0 (const float *, REC_CAPACITY * L);
  w->rec_h_prev = g_new0 (const float *, REC_CAPACITY * L);
  w->rec_dlogits = g_new0 (float, REC_CAPACITY * shape->output_dim);
  w->rec_h_top = g_new0 (const float *, REC_CAPACITY);
}

void
ph_train_worker_clear (Worker *w)
{
  g_free (w->own_grad);
  g_free (w->dh_rec);
  g_free (w->dc_rec);
  g_free (w->dh);
  g_free (w->dlogits);
  g_free (w->dropped_grad);
  g_free (w->rec_dz);
  g_free (w->rec_in);
  g_free (w->rec_h_prev);
  g_free (w->rec_dlogits);
  g_free (w->rec_h_top);
}

/* Adds the outer products of every recorded frame to the weight gradients, one matrix
 * product per weight matrix, and empties the records. The records point into stored
 * frames, so this runs before any stream steps again. */
void
ph_train_worker_flush (const PhLstmShape *shape, Worker *w)
{
  guint H = shape->hidden_size, L = shape->num_layers, out = shape->output_dim;
  gsize dz_stride = (gsize) L * 4 * H;

  for (guint l = 0; l < L && w->n_rec > 0; l++)
    {
      PhLstmLayerParams *g = &w->grad_params.layer[l];
      const float *d = w->rec_dz + (gsize) l * 4 * H;

      outer_gemm (g->w_x, 4 * H, ph_lstm_layer_input_dim (shape, l), d, dz_stride,
                  w->rec_in + l, L, w->n_rec);
      outer_gemm (g->w_h, 4 * H, H, d, dz_stride, w->rec_h_prev + l, L, w->n_rec);
    }
  if (w->n_out_rec > 0)
    outer_gemm (w->grad_params.w_out, out, H, w->rec_dlogits, out, w->rec_h_top, 1,
                w->n_out_rec);
  w->n_rec = w->n_out_rec = 0;
}

/* dh += keep * (W^T dz) for a layer output that went through dropout (`keep` its
 * mask), dh += W^T dz without (keep NULL). W is [rows][cols]. */
static void
add_input_grad (Worker *w, float *dh, const float *weights, const float *dz, guint rows,
                guint cols, const float *keep)
{
  if (keep == NULL)
    {
      matvec_t_add (dh, weights, dz, rows, cols);
      return;
    }
  memset (w->dropped_grad, 0, sizeof (float) * cols);
  matvec_t_add (w->dropped_grad, weights, dz, rows, cols);
  for (guint j = 0; j < cols; j++)
    dh[j] += keep[j] * w->dropped_grad[j];
}

/* Output layer backward at one frame: gradients of b_out now and of W_out deferred
 * (recorded), and dL/dh_top (+=). h_top is the output layer's input, `keep` the top
 * layer's dropout mask (NULL without). */
static void
output_backward (const PhModel *model, Worker *w, const float *y, const float *h_top,
                 const float *keep, gint target, float scale)
{
  const PhLstmShape *shape = &model->shape;
  float *dlogits = w->rec_dlogits + (gsize) w->n_out_rec * shape->output_dim;

  softmax_xent_backward (dlogits, y, shape->output_dim, target, scale);
  for (guint k = 0; k < shape->output_dim; k++)
    w->grad_params.b_out[k] += dlogits[k];
  w->rec_h_top[w->n_out_rec++] = h_top;
  add_input_grad (w, w->dh, model->params.w_out, dlogits, shape->output_dim,
                  shape->hidden_size, keep);
}

/* One layer's backward at one frame, given dL/dh in w->dh. Records the gate gradients
 * for the deferred weight gradients, leaves the recurrent gradients for the previous
 * step in dh_rec/dc_rec and, below the first layer, the gradient for the layer
 * underneath in w->dh. */
static void
layer_backward (const PhModel *model, Worker *w, const SlotLayout *layout, const float *slot,
                guint l)
{
  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size, L = shape->num_layers;
  const PhLstmLayerParams *p = &model->params.layer[l];
  PhLstmLayerParams *g = &w->grad_params.layer[l];
  const float *a = slot + layout->layer[l];
  const float *in = l == 0 ? slot + layout->x : layer_output (layout, slot, l - 1, H);
  float *dh_rec = w->dh_rec + (gsize) l * H, *dc_rec = w->dc_rec + (gsize) l * H;
  gsize rec = (gsize) w->n_rec * L + l;
  float *dz = w->rec_dz + rec * 4 * H;

  lstm_cell_backward (a, p->peep, w->dh, dc_rec, dz, g->peep, H);
  for (guint r = 0; r < 4 * H; r++)
    g->bias[r] += dz[r];
  w->rec_in[rec] = in;
  w->rec_h_prev[rec] = a + LAYER_H_PREV * H;
  if (l > 0)
    {
      /* dL/dh of the layer below: from this layer now, plus its own recurrent part. */
      memcpy (w->dh, w->dh_rec + (gsize) (l - 1) * H, sizeof (float) * H);
      add_input_grad (w, w->dh, p->w_x, dz, 4 * H, H, layer_keep (layout, slot, l - 1));
    }
  memset (dh_rec, 0, sizeof (float) * H);
  matvec_t_add (dh_rec, p->w_h, dz, 4 * H, H);
}

/* Backpropagates from stored frame `hi` down to `lo` (ages in the ring), with the
 * losses of the targeted frames in [loss_lo, loss_hi] scaled by `scale`. Nothing flows
 * in from after `hi` nor out before `lo`: that is the truncation. */
static void
stream_backward_range (const Stream *st, const PhModel *model, const SlotLayout *layout,
                       Worker *w, guint lo, guint hi, guint loss_lo, guint loss_hi,
                       float scale)
{
  const PhLstmShape *shape = &model->shape;
  guint H = shape->hidden_size, top = shape->num_layers - 1;

  memset (w->dh_rec, 0, sizeof (float) * shape->num_layers * H);
  memset (w->dc_rec, 0, sizeof (float) * shape->num_layers * H);
  for (guint s = hi + 1; s-- > lo;)
    {
      const float *slot = stream_slot (st, layout, s);
      gint target = st->ring_target[stream_index (st, s)];

      memcpy (w->dh, w->dh_rec + (gsize) top * H, sizeof (float) * H);
      if (s >= loss_lo && s <= loss_hi && target >= 0)
        output_backward (model, w, slot + layout->y, layer_output (layout, slot, top, H),
                         layer_keep (layout, slot, top), target, scale);
      for (guint l = top + 1; l-- > 0;)
        layer_backward (model, w, layout, slot, l);
      if (++w->n_rec == REC_CAPACITY)
        ph_train_worker_flush (shape, w);
    }
}

/* Targeted frames among the stream's loss frames (those stepped since the last update). */
guint
ph_train_stream_count_targets (const Stream *st)
{
  guint n = 0;

  for (guint s = st->n_stored - st->n_new; s < st->n_stored; s++)
    n += st->ring_target[stream_index (st, s)] >= 0;
  return n;
}

/* Adds the loss frames' cross-entropy and argmax hits to the worker's counters. */
void
ph_train_stream_loss_stats (const Stream *st, const SlotLayout *layout, guint output_dim, Worker *w)
{
  for (guint s = st->n_stored - st->n_new; s < st->n_stored; s++)
    {
      gint target = st->ring_target[stream_index (st, s)];
      gboolean correct;

      if (target < 0)
        continue;
      w->loss_sum += frame_loss (stream_slot (st, layout, s) + layout->y, output_dim, target,
                                 &correct);
      w->targeted++;
      w->correct += correct;
    }
}

/* The truncated backward of one stream's pending chunk (see the file comment). */
void
ph_train_stream_backward (const Stream *st, const PhModel *model, const SlotLayout *layout,
                          Worker *w, guint k1, guint k2, float scale)
{
  guint n = st->n_stored, first_loss = n - st->n_new;

  if (st->n_new == 0)
    return;
  if (k2 >= k1)
    {
      guint lo = n > k2 ? n - k2 : 0;
      stream_backward_range (st, model, layout, w, lo, n - 1, first_loss, n - 1, scale);
      return;
    }
  for (guint s = first_loss; s < n; s++)
    if (st->ring_target[stream_index (st, s)] >= 0)
      stream_backward_range (st, model, layout, w, s + 1 > k2 ? s + 1 - k2 : 0, s, s, s, scale);
}

/* Full-sequence backprop from a zero state; see ph_train.h. */
double
ph_train_sequence_loss_grad (const PhModel *model, const PhSequence *sequence,
                             float *grad_flat)
{
  g_return_val_if_fail (model != NULL && sequence != NULL && grad_flat != NULL, NAN);
  g_return_val_if_fail (sequence->n_frames == 0 || sequence->features != NULL, NAN);

  const PhLstmShape *shape = &model->shape;
  guint T = sequence->n_frames, in = shape->input_dim;
  guint n_steps = T > 0 ? T + shape->delay : 0;
  SlotLayout layout;
  Stream st;
  Worker w;
  double loss = 0.0;

  if (T == 0)
    return 0.0;
  ph_train_slot_layout_init (&layout, shape, FALSE);
  if (!ph_train_stream_init (&st, shape, &layout, n_steps, n_steps))
    {
      g_critical ("ph_train_sequence_loss_grad: out of memory for %u frames", n_steps);
      ph_train_stream_free (&st);
      return NAN;
    }
  for (guint t = 0; t < n_steps; t++)
    ph_train_stream_step (&st, model, &layout, 0.0f,
                          sequence->features + (gsize) MIN (t, T - 1) * in,
                          t < T && sequence->targets != NULL ? sequence->targets[t] : -1);

  guint n_targets = ph_train_stream_count_targets (&st);
  if (n_targets > 0)
    {
      ph_train_worker_init (&w, shape, grad_flat);
      ph_train_stream_loss_stats (&st, &layout, shape->output_dim, &w);
      stream_backward_range (&st, model, &layout, &w, 0, n_steps - 1, 0, n_steps - 1,
                             (float) (1.0 / n_targets));
      ph_train_worker_flush (shape, &w);
      loss = w.loss_sum / n_targets;
      ph_train_worker_clear (&w);
    }
  ph_train_stream_free (&st);
  return loss;
}
