/* ph_train_private.h: what the trainer's files share (ph_train.c, ph_train_frames.c,
 * ph_train_backward.c): the stored frames of a stream and the backward pass's worker. */
#pragma once

#include "ph_lstm_private.h"
#include "ph_train.h"

G_BEGIN_DECLS

#define REC_CAPACITY 128u /* backward frames whose weight gradients are deferred */

/* Per layer and frame, in units of H floats: h', c', gates (i f g o), c, tanh c, h. */
enum {
  LAYER_H_PREV = 0,
  LAYER_C_PREV = 1,
  LAYER_GATES = 2,
  LAYER_C = 6,
  LAYER_TANH_C = 7,
  LAYER_H = 8,
  LAYER_UNITS = 9,
};

/* Where each stored activation sits in one ring slot, in floats. */
typedef struct {
  gsize x;                     /* normalised input [input_dim] */
  gsize layer[PH_MAX_LAYERS];  /* LAYER_UNITS * H per layer */
  gsize y;                     /* softmax output [output_dim] */
  gboolean dropout;            /* with dropout, per layer: */
  gsize dropped[PH_MAX_LAYERS]; /* h after dropout [H], the layer above's input */
  gsize keep[PH_MAX_LAYERS];   /* each unit's factor, 0 or 1 / (1 - p) [H] */
  gsize stride;
} SlotLayout;

typedef struct {
  float *state;          /* carried h then c per layer: [L][2][H] */
  float *ring;           /* [capacity][stride] */
  gint *ring_target;     /* [capacity]: the (delayed) target of each stored output */
  guint capacity, max_capacity, head, n_stored;
  guint n_new;           /* frames stepped since the last update: the loss frames */
  gint *delay_queue;     /* [delay]: targets waiting for their output step */
  guint64 rng;           /* the dropout masks' generator (ph_random.h) */
  guint64 steps;         /* steps since the sequence start, padding included */
  float *last_features;  /* [input_dim] raw, repeated for the delay padding */
} Stream;

/* Scratch and a gradient block for one group of streams. */
typedef struct {
  guint first, end;      /* streams [first, end) */
  float *grad;           /* the trainer's block for group 0, own_grad otherwise */
  float *own_grad;
  PhLstmParams grad_params;
  float *dh_rec, *dc_rec;  /* [L][H]: gradients arriving from the next step */
  float *dh, *dlogits;     /* [H], [output_dim] */
  float *dropped_grad;     /* [H]: a gradient on its way back through a dropout mask */
  /* Deferred weight gradients: each backward frame records its gate gradients and
   * where its inputs are; ph_train_worker_flush adds all their outer products at once. */
  guint n_rec, n_out_rec;
  float *rec_dz;           /* [REC_CAPACITY][L][4H]: gate pre-activation gradients */
  const float **rec_in;    /* [REC_CAPACITY][L]: each layer's input at that frame */
  const float **rec_h_prev; /* [REC_CAPACITY][L] */
  float *rec_dlogits;      /* [REC_CAPACITY][output_dim], targeted frames only */
  const float **rec_h_top; /* [REC_CAPACITY] */
  double loss_sum;
  guint64 targeted, correct;
} Worker;

/* What layer l passes up (to the layer above or the output layer) at a stored frame:
 * its h, or with dropout its h after the mask. */
static inline const float *
layer_output (const SlotLayout *layout, const float *slot, guint l, gsize H)
{
  return layout->dropout ? slot + layout->dropped[l] : slot + layout->layer[l] + LAYER_H * H;
}

/* Layer l's dropout mask at a stored frame, NULL without dropout. */
static inline const float *
layer_keep (const SlotLayout *layout, const float *slot, guint l)
{
  return layout->dropout ? slot + layout->keep[l] : NULL;
}

/* Physical slot index of the frame `age` frames after the oldest stored one. */
static inline guint
stream_index (const Stream *st, guint age)
{
  return (guint) (((gsize) st->head + age) % st->capacity);
}

static inline float *
stream_slot (const Stream *st, const SlotLayout *layout, guint age)
{
  return st->ring + (gsize) stream_index (st, age) * layout->stride;
}

/* ---- stored frames (ph_train_frames.c) ---- */

/* Where each activation of a frame sits in a ring slot, for `shape` (+ dropout masks). */
G_GNUC_INTERNAL void ph_train_slot_layout_init (SlotLayout *layout, const PhLstmShape *shape,
                                                gboolean dropout);

/* A stream with a ring of `capacity` frames, growing up to `max_capacity`; FALSE when
 * the ring cannot be allocated (free it with ph_train_stream_free all the same). */
G_GNUC_INTERNAL gboolean ph_train_stream_init (Stream *st, const PhLstmShape *shape,
                                               const SlotLayout *layout, guint capacity,
                                               guint max_capacity);

/* Zeroes the carried state and forgets the stored frames (a new sequence). */
G_GNUC_INTERNAL void ph_train_stream_clear (Stream *st, const PhLstmShape *shape);
G_GNUC_INTERNAL void ph_train_stream_free (Stream *st);

/* One forward step, storing every activation the backward pass needs; `target` applies
 * to the output `delay` steps later. */
G_GNUC_INTERNAL void ph_train_stream_step (Stream *st, const PhModel *model,
                                           const SlotLayout *layout, float dropout,
                                           const float *features, gint target);

/* ---- the backward pass (ph_train_backward.c) ---- */

/* Scratch for backward passes adding (+=) into `grad` (the flat parameter layout). */
G_GNUC_INTERNAL void ph_train_worker_init (Worker *w, const PhLstmShape *shape, float *grad);
G_GNUC_INTERNAL void ph_train_worker_clear (Worker *w);

/* Adds the deferred weight gradients of the recorded frames; before any stream steps. */
G_GNUC_INTERNAL void ph_train_worker_flush (const PhLstmShape *shape, Worker *w);

/* Targeted frames among the stream's loss frames (those stepped since the last update). */
G_GNUC_INTERNAL guint ph_train_stream_count_targets (const Stream *st);

/* Adds the loss frames' cross-entropy and argmax hits to the worker's counters. */
G_GNUC_INTERNAL void ph_train_stream_loss_stats (const Stream *st, const SlotLayout *layout,
                                                 guint output_dim, Worker *w);

/* The truncated backward of one stream's pending chunk, losses scaled by `scale`. */
G_GNUC_INTERNAL void ph_train_stream_backward (const Stream *st, const PhModel *model,
                                               const SlotLayout *layout, Worker *w,
                                               guint k1, guint k2, float scale);

G_END_DECLS
