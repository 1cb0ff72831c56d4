/* gstphonememeta.c: the phoneme buffer meta (GstCustomMeta) and the queue of frames
 * waiting to be attached. Field layout: gstphonememeta.h. */
#include "gstphonememeta.h"

#include <string.h>

#include "ph_phoneset.h"

const GstMetaInfo *
gst_phoneme_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter (&info)) {
    /* No tags and the default transform (a copy of the structure on GST_META_TRANSFORM
     * copies): the frames describe stream time, which survives any copy. */
    static const gchar *tags[] = { NULL };
    const GstMetaInfo *registered =
        gst_meta_register_custom (GST_PHONEME_META_NAME, tags, NULL, NULL, NULL);
    g_once_init_leave (&info, registered);
  }
  return info;
}

GstCustomMeta *
gst_phoneme_meta_get (GstBuffer *buffer)
{
  return gst_buffer_get_custom_meta (buffer, GST_PHONEME_META_NAME);
}

void
gst_phoneme_frame_queue_init (GstPhonemeFrameQueue *queue)
{
  memset (queue, 0, sizeof *queue);
}

void
gst_phoneme_frame_queue_clear (GstPhonemeFrameQueue *queue)
{
  g_free (queue->timestamps);
  g_free (queue->phones);
  g_free (queue->confidence);
  g_free (queue->posteriors);
  g_free (queue->features);
  gst_phoneme_frame_queue_init (queue);
}

void
gst_phoneme_frame_queue_drop (GstPhonemeFrameQueue *queue)
{
  queue->n_frames = 0;
}

/* Makes room for one more frame of `dim` values. */
static void
reserve_one_more (GstPhonemeFrameQueue *queue, guint dim)
{
  gsize features_needed;

  if (queue->n_frames == queue->capacity) {
    guint capacity = MAX (64, queue->capacity * 2);

    queue->timestamps = g_renew (guint64, queue->timestamps, capacity);
    queue->phones = g_renew (gint, queue->phones, capacity);
    queue->confidence = g_renew (float, queue->confidence, capacity);
    queue->posteriors = g_renew (float, queue->posteriors, (gsize) capacity * PH_NUM_PHONES);
    queue->capacity = capacity;
  }
  features_needed = (gsize) queue->capacity * dim;
  if (features_needed > queue->features_capacity) {
    queue->features = g_renew (float, queue->features, features_needed);
    queue->features_capacity = features_needed;
  }
}

gboolean
gst_phoneme_frame_queue_push (GstPhonemeFrameQueue *queue, GstClockTime timestamp,
                              GstClockTime frame_duration, gint phone, float confidence,
                              const float *posteriors, const float *features, guint dim)
{
  guint i;

  /* One meta has one dim: frames of an earlier model with other features go. */
  if (queue->n_frames > 0 && dim != queue->dim)
    queue->n_frames = 0;
  if (queue->n_frames >= GST_PHONEME_FRAME_QUEUE_MAX)
    return FALSE;
  reserve_one_more (queue, dim);
  i = queue->n_frames++;
  queue->dim = dim;
  queue->frame_duration = frame_duration;
  queue->timestamps[i] = timestamp;
  queue->phones[i] = phone;
  queue->confidence[i] = confidence;
  memcpy (queue->posteriors + (gsize) i * PH_NUM_PHONES, posteriors,
          PH_NUM_PHONES * sizeof (float));
  memcpy (queue->features + (gsize) i * dim, features, dim * sizeof (float));
  return TRUE;
}

/* float32 little-endian bytes of `values`. */
static GBytes *
float_le_bytes (const float *values, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  return g_bytes_new (values, n * sizeof (float));
#else
  guint32 *swapped = g_new (guint32, n);

  for (gsize i = 0; i < n; i++) {
    guint32 bits;

    memcpy (&bits, &values[i], sizeof bits);
    swapped[i] = GUINT32_TO_LE (bits);
  }
  return g_bytes_new_take (swapped, n * sizeof (float));
#endif
}

static void
take_bytes_field (GstStructure *s, const char *field, GBytes *bytes)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_BYTES);
  g_value_take_boxed (&value, bytes);
  gst_structure_take_value (s, field, &value);
}

/* The per-frame GstValueArray fields. */
static void
set_array_fields (GstStructure *s, const GstPhonemeFrameQueue *queue)
{
  GValue timestamps = G_VALUE_INIT, phones = G_VALUE_INIT;
  GValue indices = G_VALUE_INIT, confidence = G_VALUE_INIT;

  gst_value_array_init (&timestamps, queue->n_frames);
  gst_value_array_init (&phones, queue->n_frames);
  gst_value_array_init (&indices, queue->n_frames);
  gst_value_array_init (&confidence, queue->n_frames);
  for (guint i = 0; i < queue->n_frames; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, queue->timestamps[i]);
    gst_value_array_append_and_take_value (&timestamps, &v);
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_static_string (&v, ph_phone_name (queue->phones[i]));
    gst_value_array_append_and_take_value (&phones, &v);
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, queue->phones[i]);
    gst_value_array_append_and_take_value (&indices, &v);
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, queue->confidence[i]);
    gst_value_array_append_and_take_value (&confidence, &v);
  }
  gst_structure_take_value (s, "timestamps", &timestamps);
  gst_structure_take_value (s, "phones", &phones);
  gst_structure_take_value (s, "phone-index", &indices);
  gst_structure_take_value (s, "confidence", &confidence);
}

GstCustomMeta *
gst_phoneme_frame_queue_attach (GstPhonemeFrameQueue *queue, GstBuffer *buffer)
{
  GstCustomMeta *meta;
  GstStructure *s;
  guint n = queue->n_frames;

  if (n == 0)
    return NULL;
  gst_phoneme_meta_get_info ();
  meta = gst_buffer_add_custom_meta (buffer, GST_PHONEME_META_NAME);
  if (meta == NULL)
    return NULL;
  s = gst_custom_meta_get_structure (meta);
  gst_structure_set_name (s, GST_PHONEME_META_STRUCTURE_NAME);
  gst_structure_set (s,
      "n-frames", G_TYPE_UINT, n,
      "dim", G_TYPE_UINT, queue->dim,
      "frame-duration", G_TYPE_UINT64, (guint64) queue->frame_duration,
      NULL);
  set_array_fields (s, queue);
  take_bytes_field (s, "posteriors",
                    float_le_bytes (queue->posteriors, (gsize) n * PH_NUM_PHONES));
  take_bytes_field (s, "features", float_le_bytes (queue->features, (gsize) n * queue->dim));
  queue->n_frames = 0;
  return meta;
}
