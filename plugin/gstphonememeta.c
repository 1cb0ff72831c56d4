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
  g_free (queue->run_starts);
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
    queue->run_starts = g_renew (gboolean, queue->run_starts, capacity);
    queue->capacity = capacity;
  }
  features_needed = (gsize) queue->capacity * dim;
  if (features_needed > queue->features_capacity) {
    queue->features = g_renew (float, queue->features, features_needed);
    queue->features_capacity = features_needed;
  }
}

gboolean
gst_phoneme_frame_queue_push (GstPhonemeFrameQueue *queue, const GstPhonemeMetaFrame *frame)
{
  guint i, dim = frame->dim;

  /* One meta has one dim: frames of an earlier model with other features go. */
  if (queue->n_frames > 0 && dim != queue->dim) {
    queue->n_frames = 0;
    queue->dropped = TRUE;
  }
  if (queue->n_frames >= GST_PHONEME_FRAME_QUEUE_MAX) {
    queue->dropped = TRUE;
    return FALSE;
  }
  reserve_one_more (queue, dim);
  i = queue->n_frames++;
  queue->dim = dim;
  queue->frame_duration = frame->duration;
  queue->timestamps[i] = frame->timestamp;
  queue->phones[i] = frame->phone;
  queue->confidence[i] = frame->confidence;
  queue->run_starts[i] = frame->run_start || queue->dropped;
  queue->dropped = FALSE;
  memcpy (queue->posteriors + (gsize) i * PH_NUM_PHONES, frame->posteriors,
          PH_NUM_PHONES * sizeof (float));
  memcpy (queue->features + (gsize) i * dim, frame->features, dim * sizeof (float));
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
  GValue indices = G_VALUE_INIT, confidence = G_VALUE_INIT, run_starts = G_VALUE_INIT;

  gst_value_array_init (&timestamps, queue->n_frames);
  gst_value_array_init (&phones, queue->n_frames);
  gst_value_array_init (&indices, queue->n_frames);
  gst_value_array_init (&confidence, queue->n_frames);
  gst_value_array_init (&run_starts, 0);
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
    if (queue->run_starts[i]) {
      g_value_init (&v, G_TYPE_UINT);
      g_value_set_uint (&v, i);
      gst_value_array_append_and_take_value (&run_starts, &v);
    }
  }
  gst_structure_take_value (s, GST_PHONEME_META_FIELD_TIMESTAMPS, &timestamps);
  gst_structure_take_value (s, GST_PHONEME_META_FIELD_PHONES, &phones);
  gst_structure_take_value (s, GST_PHONEME_META_FIELD_PHONE_INDEX, &indices);
  gst_structure_take_value (s, GST_PHONEME_META_FIELD_CONFIDENCE, &confidence);
  gst_structure_take_value (s, GST_PHONEME_META_FIELD_RUN_STARTS, &run_starts);
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
      GST_PHONEME_META_FIELD_N_FRAMES, G_TYPE_UINT, n,
      GST_PHONEME_META_FIELD_DIM, G_TYPE_UINT, queue->dim,
      GST_PHONEME_META_FIELD_FRAME_DURATION, G_TYPE_UINT64, (guint64) queue->frame_duration,
      NULL);
  set_array_fields (s, queue);
  take_bytes_field (s, GST_PHONEME_META_FIELD_POSTERIORS,
                    float_le_bytes (queue->posteriors, (gsize) n * PH_NUM_PHONES));
  take_bytes_field (s, GST_PHONEME_META_FIELD_FEATURES,
                    float_le_bytes (queue->features, (gsize) n * queue->dim));
  queue->n_frames = 0;
  return meta;
}

/* ---- reading ---- */

/* The GstValueArray field `name` of `s` with `n` entries, or NULL. */
static const GValue *
array_field (const GstStructure *s, const gchar *name, guint n)
{
  const GValue *v = gst_structure_get_value (s, name);

  return v && GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) == n ? v : NULL;
}

/* The GBytes field `name` of `s` holding `n` floats, or NULL. */
static const float *
floats_field (const GstStructure *s, const gchar *name, gsize n)
{
  const GValue *v = gst_structure_get_value (s, name);
  gsize size = 0;
  gconstpointer data;

  if (!v || !G_VALUE_HOLDS (v, G_TYPE_BYTES) || !g_value_get_boxed (v))
    return NULL;
  data = g_bytes_get_data (g_value_get_boxed (v), &size);
  return size == n * sizeof (float) ? data : NULL;
}

gboolean
gst_phoneme_meta_view (const GstStructure *s, GstPhonemeMetaView *view)
{
  guint64 duration = 0;

  memset (view, 0, sizeof *view);
  if (!gst_structure_get_uint (s, GST_PHONEME_META_FIELD_N_FRAMES, &view->n_frames) ||
      !gst_structure_get_uint (s, GST_PHONEME_META_FIELD_DIM, &view->dim) ||
      !gst_structure_get_uint64 (s, GST_PHONEME_META_FIELD_FRAME_DURATION, &duration) ||
      view->dim == 0 || view->dim > 4096)
    return FALSE;
  view->frame_duration = duration;
  view->timestamps = array_field (s, GST_PHONEME_META_FIELD_TIMESTAMPS, view->n_frames);
  view->phone_index = array_field (s, GST_PHONEME_META_FIELD_PHONE_INDEX, view->n_frames);
  view->confidence = array_field (s, GST_PHONEME_META_FIELD_CONFIDENCE, view->n_frames);
  view->run_starts = gst_structure_get_value (s, GST_PHONEME_META_FIELD_RUN_STARTS);
  if (view->run_starts && !GST_VALUE_HOLDS_ARRAY (view->run_starts))
    return FALSE;
  view->posteriors = floats_field (s, GST_PHONEME_META_FIELD_POSTERIORS,
                                   (gsize) view->n_frames * PH_NUM_PHONES);
  view->features = floats_field (s, GST_PHONEME_META_FIELD_FEATURES,
                                 (gsize) view->n_frames * view->dim);
  return view->timestamps && view->phone_index && view->confidence && view->posteriors &&
      view->features;
}

/* TRUE when frame `i` is listed in the view's run-starts. */
static gboolean
view_run_start (const GstPhonemeMetaView *view, guint i)
{
  guint n = view->run_starts ? gst_value_array_get_size (view->run_starts) : 0;

  for (guint k = 0; k < n; k++) {
    const GValue *v = gst_value_array_get_value (view->run_starts, k);

    if (G_VALUE_HOLDS_UINT (v) && g_value_get_uint (v) == i)
      return TRUE;
  }
  return FALSE;
}

void
gst_phoneme_meta_view_frame (const GstPhonemeMetaView *view, guint i,
                             GstPhonemeMetaFrame *frame)
{
  const GValue *ts = gst_value_array_get_value (view->timestamps, i);
  const GValue *phone = gst_value_array_get_value (view->phone_index, i);
  const GValue *conf = gst_value_array_get_value (view->confidence, i);

  frame->timestamp = G_VALUE_HOLDS_UINT64 (ts) ? g_value_get_uint64 (ts) : GST_CLOCK_TIME_NONE;
  frame->duration = view->frame_duration;
  frame->phone = G_VALUE_HOLDS_INT (phone) ? g_value_get_int (phone) : -1;
  if (frame->phone < 0 || frame->phone >= PH_NUM_PHONES)
    frame->phone = -1;
  frame->confidence = G_VALUE_HOLDS_DOUBLE (conf) ? (float) g_value_get_double (conf) : 0.0f;
  frame->posteriors = view->posteriors + (gsize) i * PH_NUM_PHONES;
  frame->features = view->features + (gsize) i * view->dim;
  frame->dim = view->dim;
  frame->run_start = view_run_start (view, i);
}
