/* phonemes-embed.c: how an application uses the lstmphonemes element. It links only
 * GStreamer (pkg-config gstreamer-1.0): the element is found at run time like any
 * plugin, and its results come as bus messages and as a buffer meta that is a plain
 * GstStructure, so no header or library of this project is needed.
 *
 *   phonemes-embed AUDIO [MODEL]      label a file (any format decodebin reads)
 *
 * Prints, as the pipeline runs:
 *   phoneme START END PHONE PHONE39 CONFIDENCE   a "phoneme" bus message: one phone
 *                                                segment, times in seconds
 *   meta N FIRST LAST PHONES...                  a GstPhonemeMeta on a buffer: N 10 ms
 *                                                frames from FIRST to LAST (s), the
 *                                                argmax phone of each
 * and a summary line. Build: meson setup build && ninja -C build (in this folder, or
 * as part of the phonemes build); run with GST_PLUGIN_PATH pointing to the plugin
 * unless it is installed. */
#include <gst/gst.h>

#define PHONEME_META_NAME "GstPhonemeMeta"
#define NUM_PHONES 61

typedef struct {
  guint metas;
  guint frames;
  gboolean bad_meta;
} MetaCount;

/* The GstValueArray field `name` of `s`, or NULL. */
static const GValue *
array_field (const GstStructure *s, const gchar *name)
{
  const GValue *v = gst_structure_get_value (s, name);

  return v && GST_VALUE_HOLDS_ARRAY (v) ? v : NULL;
}

/* Prints one phoneme meta; FALSE when its fields are not what the element documents. */
static gboolean
print_meta (const GstStructure *s)
{
  const GValue *timestamps = array_field (s, "timestamps");
  const GValue *phones = array_field (s, "phones");
  GBytes *posteriors = NULL;
  guint n = 0;
  GString *line;

  if (!gst_structure_get_uint (s, "n-frames", &n) || n == 0 || !timestamps || !phones ||
      gst_value_array_get_size (timestamps) != n || gst_value_array_get_size (phones) != n ||
      !gst_structure_get (s, "posteriors", G_TYPE_BYTES, &posteriors, NULL))
    return FALSE;
  if (g_bytes_get_size (posteriors) != (gsize) n * NUM_PHONES * sizeof (float)) {
    g_bytes_unref (posteriors);
    return FALSE;
  }
  g_bytes_unref (posteriors);

  line = g_string_new (NULL);
  g_string_append_printf (line, "meta %u %.3f %.3f", n,
      g_value_get_uint64 (gst_value_array_get_value (timestamps, 0)) / 1e9,
      g_value_get_uint64 (gst_value_array_get_value (timestamps, n - 1)) / 1e9);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (line, " %s",
        g_value_get_string (gst_value_array_get_value (phones, i)));
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
  return TRUE;
}

/* Buffer probe on the sink's pad (streaming thread): reads the meta of each buffer. */
static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MetaCount *count = user_data;
  GstCustomMeta *meta = gst_buffer_get_custom_meta (GST_PAD_PROBE_INFO_BUFFER (info),
                                                    PHONEME_META_NAME);
  const GstStructure *s;
  guint n = 0;

  (void) pad;
  if (!meta)
    return GST_PAD_PROBE_OK;
  s = gst_custom_meta_get_structure (meta);
  if (print_meta (s) && gst_structure_get_uint (s, "n-frames", &n)) {
    count->metas++;
    count->frames += n;
  } else {
    count->bad_meta = TRUE;
  }
  return GST_PAD_PROBE_OK;
}

/* Prints a "phoneme" element message; returns TRUE when it was one. */
static gboolean
print_phoneme_message (GstMessage *message)
{
  const GstStructure *s = gst_message_get_structure (message);
  guint64 start, duration;
  gdouble confidence;

  if (!gst_structure_has_name (s, "phoneme") ||
      !gst_structure_get_uint64 (s, "timestamp", &start) ||
      !gst_structure_get_uint64 (s, "duration", &duration) ||
      !gst_structure_get_double (s, "confidence", &confidence))
    return FALSE;
  g_print ("phoneme %.3f %.3f %s %s %.4f\n", start / 1e9, (start + duration) / 1e9,
           gst_structure_get_string (s, "phone"), gst_structure_get_string (s, "phone39"),
           confidence);
  return TRUE;
}

/* Runs the pipeline to EOS or error, printing the messages; the exit status. */
static int
run (GstElement *pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  guint phonemes = 0;
  int status = -1;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_printerr ("the pipeline does not start\n");
  while (status < 0) {
    GstMessage *message = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    GError *error = NULL;
    gchar *debug = NULL;

    switch (GST_MESSAGE_TYPE (message)) {
      case GST_MESSAGE_ELEMENT:
        phonemes += print_phoneme_message (message);
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (message, &error, &debug);
        g_printerr ("error from %s: %s\n%s\n", GST_OBJECT_NAME (message->src),
                    error->message, debug ? debug : "");
        g_clear_error (&error);
        g_free (debug);
        status = 1;
        break;
      default:   /* EOS */
        status = 0;
        break;
    }
    gst_message_unref (message);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  g_print ("%u phoneme messages\n", phonemes);
  return status;
}

/* Sets property `name` of the element called `element` in `pipeline` to `value`. */
static void
set_string (GstElement *pipeline, const gchar *element, const gchar *name,
            const gchar *value)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);

  g_object_set (e, name, value, NULL);
  gst_object_unref (e);
}

/* file ! decode ! lstmphonemes ! fakesink, with a probe on the sink reading the metas. */
static GstElement *
build_pipeline (const gchar *audio, const gchar *model, MetaCount *count)
{
  GError *error = NULL;
  GstElement *pipeline, *sink;
  GstPad *pad;

  pipeline = gst_parse_launch_full ("filesrc name=source ! decodebin ! audioconvert ! "
      "audioresample ! lstmphonemes name=labeller ! fakesink name=sink", NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!pipeline) {
    g_printerr ("cannot build the pipeline: %s (is the phonemes plugin installed or on "
                "GST_PLUGIN_PATH?)\n", error->message);
    g_error_free (error);
    return NULL;
  }
  set_string (pipeline, "source", "location", audio);
  if (model)
    set_string (pipeline, "labeller", "model", model);

  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, count, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  return pipeline;
}

int
main (int argc, char **argv)
{
  GstElement *pipeline;
  MetaCount count = { 0, 0, FALSE };
  int status;

  gst_init (&argc, &argv);
  if (argc < 2 || argc > 3) {
    g_printerr ("usage: %s AUDIO [MODEL]\n", argv[0]);
    return 2;
  }
  pipeline = build_pipeline (argv[1], argc > 2 ? argv[2] : NULL, &count);
  if (!pipeline)
    return 1;
  status = run (pipeline);
  gst_object_unref (pipeline);
  g_print ("%u metas, %u frames\n", count.metas, count.frames);
  if (count.bad_meta) {
    g_printerr ("a phoneme meta lacked documented fields\n");
    status = 1;
  }
  return status;
}
