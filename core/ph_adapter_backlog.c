/* ph_adapter_backlog.c: the adapter's backlog, a bounded FIFO of frames between the
 * thread that pushes them and the training side, and its drop policy. */
#include "ph_adapter_private.h"

#include <string.h>

/* Frames of one training window, the unit in which frames are dropped. */
static guint
window_frames (const PhAdapterConfig *config)
{
  switch (config->train.schedule)
    {
      case PH_SCHEDULE_FRAMEWISE:
        return 1;
      case PH_SCHEDULE_SENTENCE:
        return PH_ADAPT_SEQUENCE_MAX_FRAMES;
      default:
        return MAX (config->train.k1, 1);
    }
}

void
ph_adapter_ring_clear (FrameRing *ring)
{
  g_free (ring->info);
  g_free (ring->features);
  g_free (ring->posteriors);
  memset (ring, 0, sizeof *ring);
}

/* Empties the ring and gives it room for `capacity` frames of `dim` values. */
static void
ring_setup (FrameRing *ring, guint capacity, guint dim)
{
  ph_adapter_ring_clear (ring);
  ring->capacity = capacity;
  ring->dim = dim;
  ring->info = g_new0 (FrameInfo, capacity);
  ring->features = g_new0 (float, (gsize) capacity * dim);
  ring->posteriors = g_new0 (float, (gsize) capacity * PH_NUM_PHONES);
}

static void
ring_push (FrameRing *ring, const FrameInfo *info, const float *features,
           const float *posteriors)
{
  guint slot = (ring->head + ring->count) % ring->capacity;

  ring->info[slot] = *info;
  memcpy (ring->features + (gsize) slot * ring->dim, features, sizeof (float) * ring->dim);
  memcpy (ring->posteriors + (gsize) slot * PH_NUM_PHONES, posteriors,
          sizeof (float) * PH_NUM_PHONES);
  ring->count++;
}

/* Copies the oldest frame into `frame` (whose features hold ring->dim floats). */
void
ph_adapter_ring_pop (FrameRing *ring, Frame *frame)
{
  guint slot = ring->head;

  frame->info = ring->info[slot];
  memcpy (frame->features, ring->features + (gsize) slot * ring->dim,
          sizeof (float) * ring->dim);
  memcpy (frame->posteriors, ring->posteriors + (gsize) slot * PH_NUM_PHONES,
          sizeof frame->posteriors);
  ring->head = (ring->head + 1) % ring->capacity;
  ring->count--;
}

/* The drop policy. When the ring is full, frames are dropped up to the next window
 * boundary (windows count from the run's first frame) and whole windows after it until
 * the ring is at most half full; each window that lost frames is counted, and the
 * frame taken after the drop starts a new sequence. FALSE: drop this frame. */
static gboolean
admit_frame (PhAdapter *self, guint window, guint *flags)
{
  FrameRing *ring = &self->ring;
  gboolean boundary;

  if (*flags & FRAME_RUN_START)
    self->run_frames = 0;
  boundary = self->run_frames % window == 0;
  self->run_frames++;
  if (self->dropping)
    {
      if (boundary && ring->count <= ring->capacity / 2)
        {
          self->dropping = FALSE;
          *flags |= FRAME_RUN_START;
          return TRUE;
        }
      self->windows_dropped += boundary;
      self->frames_dropped++;
      return FALSE;
    }
  if (ring->count < ring->capacity)
    return TRUE;
  self->dropping = TRUE;
  self->windows_dropped++;
  self->frames_dropped++;
  ph_adapter_log (self, PH_ADAPT_LOG_DEBUG, "training is behind: dropping a window");
  return FALSE;
}

/* A ring for frames of `dim` values and the current backlog size; the frames it held
 * are lost. */
static void
ensure_ring (PhAdapter *self, guint dim)
{
  if (self->ring.dim == dim && self->ring.capacity == self->config.max_backlog)
    return;
  self->frames_dropped += self->ring.count;
  ring_setup (&self->ring, self->config.max_backlog, dim);
  self->run_start_next = TRUE;
  self->dropping = FALSE;
}

static FrameInfo
frame_info (const PhAdaptFrame *frame, guint prompt_serial)
{
  FrameInfo info = { 0 };

  info.flags = frame->run_start ? FRAME_RUN_START : 0;
  info.phone = frame->phone >= 0 && frame->phone < PH_NUM_PHONES ? frame->phone : -1;
  info.confidence = frame->confidence;
  info.stream_time = frame->stream_time;
  info.running_time = frame->running_time;
  info.prompt_serial = prompt_serial;
  return info;
}

void
ph_adapter_push (PhAdapter *self, const PhAdaptFrame *frames, guint n)
{
  gboolean queued = FALSE;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < n; i++)
    {
      FrameInfo info = frame_info (&frames[i], self->prompt_serial);

      ensure_ring (self, frames[i].dim);
      if (self->run_start_next)
        info.flags |= FRAME_RUN_START;
      self->run_start_next = FALSE;
      if (!admit_frame (self, window_frames (&self->config), &info.flags))
        continue;
      ring_push (&self->ring, &info, frames[i].features, frames[i].posteriors);
      queued = TRUE;
    }
  if (queued)
    g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

guint
ph_adapter_backlog (PhAdapter *self)
{
  guint count;

  g_mutex_lock (&self->lock);
  count = self->ring.count;
  g_mutex_unlock (&self->lock);
  return count;
}

guint64
ph_adapter_windows_dropped (PhAdapter *self)
{
  guint64 windows;

  g_mutex_lock (&self->lock);
  windows = self->windows_dropped;
  g_mutex_unlock (&self->lock);
  return windows;
}

/* The next frame starts a sequence, no window is being dropped. `lock` held. */
void
ph_adapter_restart_admission (PhAdapter *self)
{
  self->dropping = FALSE;
  self->run_frames = 0;
  self->run_start_next = TRUE;
}

