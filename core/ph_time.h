/* ph_time.h: sample and frame counts as nanoseconds, one rounding rule for the whole
 * project (the element's timestamps, `phonemes label`, labels read from files): the
 * exact product, rounded down, as GStreamer's gst_util_uint64_scale does it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PH_NS_PER_SECOND G_GUINT64_CONSTANT (1000000000)

/* value * num / denom rounded down, without overflow for any 64-bit inputs whose result
 * fits (denom > 0). */
static inline guint64
ph_scale_round_down (guint64 value, guint64 num, guint64 denom)
{
#ifdef __SIZEOF_INT128__
  return (guint64) ((unsigned __int128) value * num / denom);
#else
  return value / denom * num + (value % denom) * num / denom;   /* exact for num <= 2^32 */
#endif
}

/* `samples` at `rate` Hz as ns, rounded down. */
static inline guint64
ph_samples_to_ns (guint64 samples, guint rate)
{
  return ph_scale_round_down (samples, PH_NS_PER_SECOND, rate);
}

/* Start of frame `index` (hops of `hop` samples at `rate` Hz) after a run's first
 * sample, ns. */
static inline guint64
ph_frame_to_ns (guint64 index, guint hop, guint rate)
{
  return ph_samples_to_ns (index * hop, rate);
}

G_END_DECLS
