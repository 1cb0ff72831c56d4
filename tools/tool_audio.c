/* tool_audio.c: audio input through GStreamer:
 *   filesrc location=PATH (fdsrc fd=0 for "-") ! decodebin ! audioconvert ! audioresample !
 *   audio/x-raw,format={S16LE,F32LE},layout=interleaved,channels=1,rate=RATE ! appsink
 * pulled buffer by buffer on the caller's thread (the appsink holds a few buffers, so the
 * decoder waits for the caller instead of filling memory). */
#include "tool_audio.h"

#include "ph_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gst/app/gstappsink.h>
#include <gst/audio/audio.h>
#include <gst/gst.h>

#define APPSINK_MAX_BUFFERS 4
#define PULL_TIMEOUT (100 * GST_MSECOND)

typedef struct {
  GstElement *pipeline;
  GstElement *convert;      /* audioconvert: where decodebin's audio pad links */
  GstElement *sink;         /* appsink */
  ToolAudioSource *source;
  gint bytes_per_frame;     /* of the decoded audio, for counting its samples */
  gint no_audio;            /* atomic: decodebin exposed all its streams, none audio */
} Decoder;

/* The caps in front of lstmphonemes: its formats, mono, at `rate` (0: any). */
static GstCaps *
element_caps (guint rate)
{
  GstCaps *caps = gst_caps_from_string ("audio/x-raw, format=(string){ S16LE, F32LE }, "
                                        "layout=(string)interleaved, channels=(int)1");

  if (rate)
    gst_caps_set_simple (caps, "rate", G_TYPE_INT, (gint) rate, NULL);
  return caps;
}

/* Counts the decoded samples (per channel) at the source's rate. */
static GstPadProbeReturn
count_source_samples (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Decoder *d = user_data;

  (void) pad;
  if (d->bytes_per_frame > 0)
    d->source->source_samples += gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)) /
                                 (guint) d->bytes_per_frame;
  return GST_PAD_PROBE_OK;
}

/* decodebin's first raw audio pad goes to audioconvert; other streams are left alone. */
static void
on_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  Decoder *d = user_data;
  g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (d->convert, "sink");
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstAudioInfo info;

  (void) decodebin;
  if (gst_pad_is_linked (sink_pad) || !caps || !gst_audio_info_from_caps (&info, caps))
    return;
  d->source->source_rate = (guint) GST_AUDIO_INFO_RATE (&info);
  d->bytes_per_frame = GST_AUDIO_INFO_BPF (&info);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_source_samples, d, NULL);
  gst_pad_link (pad, sink_pad);
}

/* All streams are exposed: without an audio one nothing would ever reach the appsink
 * (not even EOS), so the pull loop is told to stop. */
static void
on_no_more_pads (GstElement *decodebin, gpointer user_data)
{
  Decoder *d = user_data;
  g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (d->convert, "sink");

  (void) decodebin;
  if (!gst_pad_is_linked (sink_pad))
    g_atomic_int_set (&d->no_audio, 1);
}

/* The source element: filesrc for a path (random access for any container), fdsrc on
 * standard input for "-". A path that is not a readable regular file fails here. */
static GstElement *
make_source (const char *path, GError **error)
{
  GstElement *src;

  if (g_strcmp0 (path, "-") == 0) {
    src = gst_element_factory_make ("fdsrc", NULL);
    if (src)
      g_object_set (src, "fd", 0, NULL);
    return src;
  }
  /* Only regular files: a FIFO or device would block filesrc (and open) forever. */
  GMappedFile *checked = ph_file_map_regular (path, "audio file", error);
  if (!checked)
    return NULL;
  g_mapped_file_unref (checked);
  src = gst_element_factory_make ("filesrc", NULL);
  if (src)
    g_object_set (src, "location", path, NULL);
  return src;
}

static gboolean
build_pipeline (Decoder *d, const char *path, guint rate, GError **error)
{
  GstElement *src, *decodebin, *resample, *filter;
  g_autoptr (GstCaps) caps = element_caps (rate);

  if (!(src = make_source (path, error)))
    return FALSE;
  d->pipeline = gst_pipeline_new ("phonemes-input");
  decodebin = gst_element_factory_make ("decodebin", NULL);
  d->convert = gst_element_factory_make ("audioconvert", NULL);
  resample = gst_element_factory_make ("audioresample", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  d->sink = gst_element_factory_make ("appsink", NULL);
  if (!decodebin || !d->convert || !resample || !filter || !d->sink) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "cannot read %s: GStreamer's "
                 "decodebin, audioconvert, audioresample or appsink is missing (install "
                 "gstreamer1.0-plugins-base)", path);
    return FALSE;
  }
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (d->sink, "sync", FALSE, "max-buffers", APPSINK_MAX_BUFFERS, NULL);
  gst_bin_add_many (GST_BIN (d->pipeline), src, decodebin, d->convert, resample, filter,
                    d->sink, NULL);
  if (!gst_element_link (src, decodebin) ||
      !gst_element_link_many (d->convert, resample, filter, d->sink, NULL)) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "cannot read %s: cannot link the "
                 "decoding pipeline", path);
    return FALSE;
  }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), d);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (on_no_more_pads), d);
  return TRUE;
}

/* The pipeline's first error, as "cannot decode PATH: what GStreamer says". */
static gboolean
check_bus (Decoder *d, const char *path, GError **error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (d->pipeline);
  g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autoptr (GError) gst_error = NULL;

  if (!message)
    return TRUE;
  gst_message_parse_error (message, &gst_error, NULL);
  g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "cannot decode %s: %s%s", path,
               gst_error->message,
               d->source->source_rate ? "" : " (no audio stream found)");
  return FALSE;
}

static void
deliver (GstSample *sample, ToolAudioFunc func, gpointer user_data)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstStructure *s = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
  gboolean is_f32 = g_strcmp0 (gst_structure_get_string (s, "format"), "F32LE") == 0;
  GstMapInfo map;

  if (!buffer || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;
  if (is_f32)
    func (NULL, (const float *) map.data, map.size / sizeof (float), user_data);
  else
    func ((const gint16 *) map.data, NULL, map.size / sizeof (gint16), user_data);
  gst_buffer_unmap (buffer, &map);
}

/* Pulls every buffer until EOS or an error. */
static gboolean
pull_all (Decoder *d, const char *path, ToolAudioFunc func, gpointer user_data,
          GError **error)
{
  GstAppSink *sink = GST_APP_SINK (d->sink);

  for (;;) {
    GstSample *sample = gst_app_sink_try_pull_sample (sink, PULL_TIMEOUT);
    if (sample) {
      deliver (sample, func, user_data);
      gst_sample_unref (sample);
    } else if (gst_app_sink_is_eos (sink)) {
      return check_bus (d, path, error);
    } else if (!check_bus (d, path, error)) {
      return FALSE;
    } else if (g_atomic_int_get (&d->no_audio)) {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "cannot decode %s: no audio stream found",
                   path);
      return FALSE;
    }
  }
}

gboolean
tool_audio_stream (const char *path, guint rate, ToolAudioFunc func, gpointer user_data,
                   ToolAudioSource *source, GError **error)
{
  ToolAudioSource local = { 0 };
  Decoder d = { .source = source ? source : &local };
  gboolean ok;

  g_return_val_if_fail (path != NULL && func != NULL, FALSE);
  *d.source = (ToolAudioSource) { 0 };
  if (!gst_init_check (NULL, NULL, error))
    return FALSE;
  ok = build_pipeline (&d, path, rate, error);
  if (ok && gst_element_set_state (d.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    ok = FALSE;
    if (check_bus (&d, path, error))   /* failed without saying why */
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "cannot decode %s", path);
  }
  if (ok)
    ok = pull_all (&d, path, func, user_data, error);
  if (d.pipeline) {
    gst_element_set_state (d.pipeline, GST_STATE_NULL);
    gst_object_unref (d.pipeline);
  }
  return ok;
}

/* Appends a buffer's samples as floats (int16 scaled by 1/32768, as the features do). */
static void
append_samples (const gint16 *s16, const float *f32, gsize n, gpointer user_data)
{
  GArray *samples = user_data;
  gsize at = samples->len;

  if (f32) {
    g_array_append_vals (samples, f32, (guint) n);
    return;
  }
  g_array_set_size (samples, (guint) (at + n));
  for (gsize i = 0; i < n; i++)
    g_array_index (samples, float, at + i) = s16[i] * (1.0f / 32768.0f);
}

gboolean
tool_audio_read (const char *path, guint rate, PhAudio *audio, ToolAudioSource *source,
                 GError **error)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (float));
  ToolAudioSource local;

  if (!source)
    source = &local;
  memset (audio, 0, sizeof *audio);
  if (!tool_audio_stream (path, rate, append_samples, samples, source, error)) {
    g_array_free (samples, TRUE);
    return FALSE;
  }
  audio->n_samples = samples->len;
  audio->sample_rate = rate ? rate : source->source_rate;
  audio->samples = (float *) g_array_free (samples, FALSE);
  return TRUE;
}
