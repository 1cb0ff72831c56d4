/* ph_train_frames.c: the trainer's streams: a carried state and a ring of the last
 * frames' activations (growing for the presets), each frame stepped with ph_lstm_step's
 * kernels and stored with its delayed target and dropout masks. */
#include "ph_train_private.h"
#include "ph_random.h"

#include <string.h>

/* ---- stored frames ------------------------------------------------------------------ */

void
ph_train_slot_layout_init (SlotLayout *layout, const PhLstmShape *shape, gboolean dropout)
{
  gsize off = 0;

  memset (layout, 0, sizeof *layout);
  layout->x = off;
  off += shape->input_dim;
  for (guint l = 0; l < shape->num_layers; l++)
    {
      layout->layer[l] = off;
      off += (gsize) LAYER_UNITS * shape->hidden_size;
    }
  layout->y = off;
  off += shape->output_dim;
  layout->dropout = dropout;
  for (guint l = 0; l < shape->num_layers && dropout; l++)
    {
      layout->dropped[l] = off;
      layout->keep[l] = off + shape->hidden_size;
      off += 2 * (gsize) shape->hidden_size;
    }
  layout->stride = off;
}

/* The next uniform value in [0, 1) of a stream's generator (ph_random.h). */
static inline float
stream_uniform (Stream *st)
{
  return ph_random_float (&st->rng);
}

/* Inverted dropout of one layer's h at one frame: draws the mask into `keep` and writes
 * the masked h into `dropped`. */
static void
drop_units (Stream *st, float p, const float *h, float *dropped, float *keep, gsize H)
{
  float scale = 1.0f / (1.0f - p);

  for (gsize j = 0; j < H; j++)
    {
      keep[j] = stream_uniform (st) < p ? 0.0f : scale;
      dropped[j] = h[j] * keep[j];
    }
}

gboolean
ph_train_stream_init (Stream *st, const PhLstmShape *shape, const SlotLayout *layout,
                      guint capacity, guint max_capacity)
{
  memset (st, 0, sizeof *st);
  st->capacity = capacity;
  st->max_capacity = max_capacity;
  st->ring = g_try_malloc0_n ((gsize) capacity * layout->stride, sizeof (float));
  st->ring_target = g_try_malloc0_n (capacity, sizeof (gint));
  st->state = g_new0 (float, 2 * (gsize) shape->num_layers * shape->hidden_size);
  st->delay_queue = g_new0 (gint, MAX (shape->delay, 1));
  st->last_features = g_new0 (float, shape->input_dim);
  return st->ring != NULL && st->ring_target != NULL;
}

void
ph_train_stream_clear (Stream *st, const PhLstmShape *shape)
{
  memset (st->state, 0, sizeof (float) * 2 * shape->num_layers * shape->hidden_size);
  st->head = st->n_stored = st->n_new = 0;
  st->steps = 0;
}

void
ph_train_stream_free (Stream *st)
{
  g_free (st->state);
  g_free (st->ring);
  g_free (st->ring_target);
  g_free (st->delay_queue);
  g_free (st->last_features);
}

/* Doubles a growing ring (up to max_capacity), oldest frame first; FALSE if it cannot. */
static gboolean
stream_grow (Stream *st, const SlotLayout *layout)
{
  if (st->capacity >= st->max_capacity)
    return FALSE;

  guint cap = (guint) MIN ((gsize) st->capacity * 2, (gsize) st->max_capacity);
  float *ring = g_try_malloc_n ((gsize) cap * layout->stride, sizeof (float));
  gint *target = g_try_malloc_n (cap, sizeof (gint));

  if (ring == NULL || target == NULL)
    {
      g_free (ring);
      g_free (target);
      return FALSE;
    }
  for (guint a = 0; a < st->n_stored; a++)
    {
      memcpy (ring + (gsize) a * layout->stride, stream_slot (st, layout, a),
              sizeof (float) * layout->stride);
      target[a] = st->ring_target[stream_index (st, a)];
    }
  g_free (st->ring);
  g_free (st->ring_target);
  st->ring = ring;
  st->ring_target = target;
  st->capacity = cap;
  st->head = 0;
  return TRUE;
}

/* Makes room for one more frame (growing, or dropping the oldest) and returns its index. */
static guint
stream_push (Stream *st, const SlotLayout *layout)
{
  if (st->n_stored == st->capacity && !stream_grow (st, layout))
    {
      st->head = (st->head + 1) % st->capacity;
      st->n_stored--;
    }
  st->n_stored++;
  st->n_new = MIN (st->n_new + 1, st->n_stored);
  return stream_index (st, st->n_stored - 1);
}

/* The target that applies to this step's output: the one fed `delay` steps ago. */
static gint
stream_delay_target (Stream *st, guint delay, gint target)
{
  if (delay == 0)
    return target;

  guint slot = (guint) (st->steps % delay);
  gint out = st->steps >= delay ? st->delay_queue[slot] : -1;

  st->delay_queue[slot] = target;
  return out;
}

/* One forward step of a stream, storing every activation the backward pass needs. The
 * arithmetic is ph_lstm_step's, kernel for kernel (with dropout, plus the masks). */
void
ph_train_stream_step (Stream *st, const PhModel *model, const SlotLayout *layout, float dropout,
                      const float *features, gint target)
{
  const PhLstmShape *shape = &model->shape;
  gsize H = shape->hidden_size;
  guint index = stream_push (st, layout);
  float *slot = st->ring + (gsize) index * layout->stride;
  const float *in = slot + layout->x;

  if (target < -1 || target >= (gint) shape->output_dim)
    target = -1; /* not a phone index: no loss, as documented for -1 */
  memcpy (st->last_features, features, sizeof (float) * shape->input_dim);
  ph_normalise_input (slot + layout->x, features, model->norm_mean, model->norm_scale,
                      shape->input_dim);
  for (guint l = 0; l < shape->num_layers; l++)
    {
      const PhLstmLayerParams *p = &model->params.layer[l];
      float *a = slot + layout->layer[l];
      float *h_state = st->state + 2 * l * H, *c_state = h_state + H;

      memcpy (a + LAYER_H_PREV * H, h_state, sizeof (float) * H);
      memcpy (a + LAYER_C_PREV * H, c_state, sizeof (float) * H);
      ph_lstm_gates (p, ph_lstm_layer_input_dim (shape, l), (guint) H, in,
                     a + LAYER_H_PREV * H, a + LAYER_GATES * H);
      ph_lstm_cell_forward (a + LAYER_GATES * H, p->peep, a + LAYER_C_PREV * H,
                            a + LAYER_C * H, a + LAYER_TANH_C * H, a + LAYER_H * H, (guint) H);
      memcpy (h_state, a + LAYER_H * H, sizeof (float) * H);
      memcpy (c_state, a + LAYER_C * H, sizeof (float) * H);
      if (layout->dropout)
        drop_units (st, dropout, a + LAYER_H * H, slot + layout->dropped[l],
                    slot + layout->keep[l], H);
      in = layer_output (layout, slot, l, H);
    }
  ph_lstm_output (&model->params, shape, in, slot + layout->y);
  st->ring_target[index] = stream_delay_target (st, shape->delay, target);
  st->steps++;
}
