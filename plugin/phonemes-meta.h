/* phonemes-meta.h: typed access, for C applications, to the phoneme meta that the
 * lstmphonemes element attaches to audio buffers. Header only: it needs GStreamer
 * (gstreamer-1.0) and nothing of this project, and is installed beside the engine's
 * headers (#include <phonemes/phonemes-meta.h>).
 *
 *   guint n;
 *   GstPhonemeFrame *frames = gst_phoneme_meta_get_frames (buffer, &n);
 *   const gfloat *posteriors = gst_phoneme_meta_get_posteriors (buffer, NULL);
 *   for (guint i = 0; i < n; i++)
 *     g_print ("%" GST_TIME_FORMAT " %s %.2f (p[aa] = %.2f)\n",
 *              GST_TIME_ARGS (frames[i].timestamp), frames[i].phone_name,
 *              frames[i].confidence, posteriors[i * GST_PHONEME_META_NUM_PHONES + 2]);
 *   g_free (frames);
 *
 * The meta itself is a GstCustomMeta named GST_PHONEME_META_NAME holding a GstStructure
 * (field layout in the README and gstphonememeta.h), which bindings read directly
 * (Python: pipelines/phonemes_meta.py). Which frames ride on which buffer: a buffer's
 * meta holds the frames computed while it was processed, which lie up to the element's
 * latency before it; `timestamp` gives each frame's true time. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_PHONEME_META_NAME "GstPhonemeMeta"
#define GST_PHONEME_META_STRUCTURE_NAME "phoneme-meta"
/* The structure's fields (layout in gstphonememeta.h and the README), defined once for
 * the writer, the readers and applications. */
#define GST_PHONEME_META_FIELD_N_FRAMES "n-frames"
#define GST_PHONEME_META_FIELD_DIM "dim"
#define GST_PHONEME_META_FIELD_FRAME_DURATION "frame-duration"
#define GST_PHONEME_META_FIELD_TIMESTAMPS "timestamps"
#define GST_PHONEME_META_FIELD_PHONES "phones"
#define GST_PHONEME_META_FIELD_PHONE_INDEX "phone-index"
#define GST_PHONEME_META_FIELD_CONFIDENCE "confidence"
#define GST_PHONEME_META_FIELD_POSTERIORS "posteriors"
#define GST_PHONEME_META_FIELD_FEATURES "features"
#define GST_PHONEME_META_FIELD_RUN_STARTS "run-starts"

/* Posteriors per frame: the 61 TIMIT phones, in the phone set's order. */
#define GST_PHONEME_META_NUM_PHONES 61

/* One 10 ms frame of a phoneme meta. */
typedef struct {
  GstClockTime timestamp;   /* start of the frame, ns, in the buffers' time base */
  GstClockTime duration;    /* ns the frame covers (10 ms) */
  gint phone;               /* TIMIT-61 index of the most likely phone, 0..60 */
  const gchar *phone_name;  /* its TIMIT symbol, owned by the meta */
  gdouble confidence;       /* its posterior */
} GstPhonemeFrame;

/* The phoneme meta's structure on `buffer` (borrowed: valid while the buffer and its
 * meta live), or NULL when the buffer (which may be NULL) has none. */
static inline const GstStructure *
gst_phoneme_meta_get_structure (GstBuffer *buffer)
{
  GstCustomMeta *meta = buffer ? gst_buffer_get_custom_meta (buffer, GST_PHONEME_META_NAME)
      : NULL;

  return meta ? gst_custom_meta_get_structure (meta) : NULL;
}

/* The frame count of the meta's structure `s`, or 0 when it is not a well-formed
 * phoneme meta (every per-frame field present with n-frames entries). */
static inline guint
gst_phoneme_meta_structure_n_frames (const GstStructure *s)
{
  const gchar *arrays[] = { GST_PHONEME_META_FIELD_TIMESTAMPS, GST_PHONEME_META_FIELD_PHONES,
                            GST_PHONEME_META_FIELD_PHONE_INDEX,
                            GST_PHONEME_META_FIELD_CONFIDENCE };
  guint n = 0;

  if (!s || !gst_structure_has_name (s, GST_PHONEME_META_STRUCTURE_NAME) ||
      !gst_structure_get_uint (s, GST_PHONEME_META_FIELD_N_FRAMES, &n))
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++) {
    const GValue *v = gst_structure_get_value (s, arrays[i]);

    if (!v || !GST_VALUE_HOLDS_ARRAY (v) || gst_value_array_get_size (v) != n)
      return 0;
  }
  return n;
}

/* The frames of `buffer`'s phoneme meta, newly allocated (free with g_free; the phone
 * names stay owned by the meta), with their count in `n_frames` (may be NULL). NULL
 * and 0 when the buffer has no (well-formed) phoneme meta. */
static inline GstPhonemeFrame *
gst_phoneme_meta_get_frames (GstBuffer *buffer, guint *n_frames)
{
  const GstStructure *s = gst_phoneme_meta_get_structure (buffer);
  guint n = gst_phoneme_meta_structure_n_frames (s);
  const GValue *timestamps, *phones, *indices, *confidence;
  guint64 duration = 0;
  GstPhonemeFrame *frames;

  if (n_frames)
    *n_frames = 0;
  if (n == 0)
    return NULL;
  gst_structure_get_uint64 (s, GST_PHONEME_META_FIELD_FRAME_DURATION, &duration);
  timestamps = gst_structure_get_value (s, GST_PHONEME_META_FIELD_TIMESTAMPS);
  phones = gst_structure_get_value (s, GST_PHONEME_META_FIELD_PHONES);
  indices = gst_structure_get_value (s, GST_PHONEME_META_FIELD_PHONE_INDEX);
  confidence = gst_structure_get_value (s, GST_PHONEME_META_FIELD_CONFIDENCE);
  frames = g_new0 (GstPhonemeFrame, n);
  for (guint i = 0; i < n; i++) {
    const GValue *t = gst_value_array_get_value (timestamps, i);
    const GValue *name = gst_value_array_get_value (phones, i);
    const GValue *index = gst_value_array_get_value (indices, i);
    const GValue *c = gst_value_array_get_value (confidence, i);

    frames[i].timestamp = G_VALUE_HOLDS_UINT64 (t) ? g_value_get_uint64 (t)
        : GST_CLOCK_TIME_NONE;
    frames[i].duration = duration;
    frames[i].phone = G_VALUE_HOLDS_INT (index) ? g_value_get_int (index) : -1;
    frames[i].phone_name = G_VALUE_HOLDS_STRING (name) ? g_value_get_string (name) : NULL;
    frames[i].confidence = G_VALUE_HOLDS_DOUBLE (c) ? g_value_get_double (c) : 0.0;
  }
  if (n_frames)
    *n_frames = n;
  return frames;
}

/* The float32 values of the GBytes field `field` as rows of `row` values (borrowed
 * from the meta), or NULL when absent, of the wrong size, or on a big-endian host (the
 * meta stores little-endian floats: read the GBytes field there). */
static inline const gfloat *
gst_phoneme_meta_float_rows (const GstStructure *s, const gchar *field, guint n, guint row)
{
  const GValue *v = s ? gst_structure_get_value (s, field) : NULL;
  gconstpointer data;
  gsize size = 0;

  if (G_BYTE_ORDER != G_LITTLE_ENDIAN || n == 0 || row == 0 || !v ||
      !G_VALUE_HOLDS (v, G_TYPE_BYTES) || !g_value_get_boxed (v))
    return NULL;
  data = g_bytes_get_data ((GBytes *) g_value_get_boxed (v), &size);
  if (size != (gsize) n * row * sizeof (gfloat) || ((guintptr) data % sizeof (gfloat)) != 0)
    return NULL;
  return (const gfloat *) data;
}

/* The posteriors of `buffer`'s phoneme meta: n_frames rows of
 * GST_PHONEME_META_NUM_PHONES floats (borrowed: valid while the buffer and its meta
 * live), the count in `n_frames` (may be NULL); NULL and 0 without a meta. */
static inline const gfloat *
gst_phoneme_meta_get_posteriors (GstBuffer *buffer, guint *n_frames)
{
  const GstStructure *s = gst_phoneme_meta_get_structure (buffer);
  guint n = gst_phoneme_meta_structure_n_frames (s);
  const gfloat *rows = gst_phoneme_meta_float_rows (s, GST_PHONEME_META_FIELD_POSTERIORS, n,
                                                    GST_PHONEME_META_NUM_PHONES);

  if (n_frames)
    *n_frames = rows ? n : 0;
  return rows;
}

/* The raw feature frames of `buffer`'s phoneme meta (what lstmadapt trains on):
 * n_frames rows of `dim` floats (borrowed), counts in `n_frames` and `dim` (either may
 * be NULL); NULL and 0 without a meta. */
static inline const gfloat *
gst_phoneme_meta_get_features (GstBuffer *buffer, guint *n_frames, guint *dim)
{
  const GstStructure *s = gst_phoneme_meta_get_structure (buffer);
  guint n = gst_phoneme_meta_structure_n_frames (s), d = 0;
  const gfloat *rows;

  if (n > 0)
    gst_structure_get_uint (s, GST_PHONEME_META_FIELD_DIM, &d);
  rows = gst_phoneme_meta_float_rows (s, GST_PHONEME_META_FIELD_FEATURES, n, d);
  if (n_frames)
    *n_frames = rows ? n : 0;
  if (dim)
    *dim = rows ? d : 0;
  return rows;
}

G_END_DECLS
