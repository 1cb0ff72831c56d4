/* adapt_bench.c: benchmarks of the lstmadapt element (bench/adapt/run drives them).
 *
 *   adapt-bench timing   --model M --corpus DIR [--seconds 60] [--mode supervised|self]
 *   adapt-bench accuracy --model M --corpus DIR [--minutes 5]
 *                        [--mode supervised|prompted|self|none]
 *                        [--schedule truncated|framewise|sentence] [--k1 20] [--k2 20]
 *                        [--lr 0.001] [--pace lossless|live] [--save FILE]
 *
 * The corpus (WAV/SPHERE + .PHN/.TextGrid, e.g. one synthetic voice) is concatenated,
 * cycling until long enough, into one stream; each utterance starts with a DISCONT
 * buffer, so the labeller and the trainer start a sequence per utterance, as the
 * model was trained. Its labels, offset to stream time, go to lstmadapt as a .PHN file
 * (mode=supervised); mode=prompted sets prompt-text to each utterance's text (the .TXT
 * beside it) as it starts, and the labels only score.
 *
 * timing: one live run (appsrc is-live, buffers pushed when their audio has been
 * "captured", clock-paced) through a tee into two labellers, one followed by lstmadapt
 * and one not. Per-buffer processing time of each labeller (pad probes around the
 * in-place transform, monotonic clock), median and 99th percentile, their ratio, and
 * buffers that reached their synced fakesink after their render time.
 *
 * accuracy: the same two branches; frame accuracy (39 folded classes) of each
 * labeller's meta against the labels, per 30 s of stream time. pace=lossless pushes
 * audio only as fast as the trainer keeps up (the labeller at most ~0.5 s ahead of
 * it), so the curve shows what the schedule learns for the CPU time it spent
 * (train-time); pace=live pushes at real time and lets lstmadapt drop what it cannot
 * train. */
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasesink.h>
#include <gst/gst.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phonemes.h"

#define LOSSLESS_LEAD_FRAMES 50   /* labeller ahead of the trainer at most, lossless */

typedef struct {
  gchar *command;
  gchar *model;
  gchar *corpus;
  gdouble seconds;      /* timing */
  gdouble minutes;      /* accuracy */
  gchar *mode;
  gchar *schedule;
  guint k1, k2;
  gdouble lr;
  gchar *pace;
  gchar *save;
  gdouble buffer_ms;
  gdouble bin_seconds;
  gchar *extra;         /* more lstmadapt properties */
} Options;

/* The whole stream: samples, labels in samples, utterance starts. */
typedef struct {
  gint16 *samples;
  gsize n;
  guint rate;
  GArray *labels;       /* PhLabel */
  GArray *starts;       /* gsize, sample where each utterance starts */
  GPtrArray *texts;     /* gchar *, what each utterance says (its .TXT), or "" */
  gchar *phn_path;
} Stream;

/* ---- the stream ---- */

static GArray *
read_labels (const PhUtterance *utt, guint rate, GError **error)
{
  if (g_str_has_suffix (utt->label_path, ".TextGrid"))
    return ph_labels_read_textgrid (utt->label_path, rate, error);
  return ph_labels_read_phn (utt->label_path, 0, error);
}

/* The text of a TIMIT-style .TXT beside the audio ("start end text"), or "". */
static gchar *
read_text (const gchar *audio_path)
{
  const gchar *dot = strrchr (audio_path, '.');
  gchar *stem = g_strndup (audio_path, dot ? (gsize) (dot - audio_path) : strlen (audio_path));
  const gchar *ext[] = { ".TXT", ".txt" };
  gchar *contents = NULL, *text = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (ext) && !contents; i++) {
    gchar *path = g_strconcat (stem, ext[i], NULL);

    g_file_get_contents (path, &contents, NULL, NULL);
    g_free (path);
  }
  if (contents) {
    gchar **fields = g_strsplit (g_strstrip (contents), " ", 3);

    if (g_strv_length (fields) == 3)
      text = g_strdup (fields[2]);
    g_strfreev (fields);
  }
  g_free (contents);
  g_free (stem);
  return text ? text : g_strdup ("");
}

/* Appends one utterance, resampled to `rate`, its labels shifted to its offset. */
static gboolean
append_utterance (Stream *st, const PhUtterance *utt, GError **error)
{
  PhAudio audio = { 0 };
  GArray *labels;
  guint file_rate;
  gsize offset = st->n;

  if (!ph_audio_read (utt->audio_path, &audio, error))
    return FALSE;
  file_rate = audio.sample_rate;
  labels = read_labels (utt, file_rate, error);
  if (!labels) {
    ph_audio_clear (&audio);
    return FALSE;
  }
  ph_audio_resample (&audio, st->rate);
  st->samples = g_renew (gint16, st->samples, st->n + audio.n_samples);
  for (gsize i = 0; i < audio.n_samples; i++)
    st->samples[st->n + i] = (gint16) CLAMP (lrintf (audio.samples[i] * 32768.0f), -32768, 32767);
  st->n += audio.n_samples;
  g_array_append_val (st->starts, offset);
  g_ptr_array_add (st->texts, read_text (utt->audio_path));
  for (guint i = 0; i < labels->len; i++) {
    PhLabel l = g_array_index (labels, PhLabel, i);

    l.start = offset + gst_util_uint64_scale (l.start, st->rate, file_rate);
    l.end = MIN (offset + gst_util_uint64_scale (l.end, st->rate, file_rate), st->n);
    if (l.end > l.start)
      g_array_append_val (st->labels, l);
  }
  g_array_unref (labels);
  ph_audio_clear (&audio);
  return TRUE;
}

/* Cuts the stream (and its labels) to `n` samples. */
static void
stream_truncate (Stream *st, gsize n)
{
  if (st->n <= n)
    return;
  st->n = n;
  for (guint i = st->labels->len; i-- > 0;) {
    PhLabel *l = &g_array_index (st->labels, PhLabel, i);

    if (l->start >= n)
      g_array_remove_index (st->labels, i);
    else if (l->end > n)
      l->end = n;
  }
}

/* Exactly `seconds` of the corpus, cycling through its utterances in order. */
static gboolean
stream_load (Stream *st, const gchar *dir, guint rate, gdouble seconds, GError **error)
{
  GPtrArray *utts = ph_corpus_list (dir, 0, error);

  if (!utts)
    return FALSE;
  if (utts->len == 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "no labelled audio under %s", dir);
    g_ptr_array_unref (utts);
    return FALSE;
  }
  memset (st, 0, sizeof *st);
  st->rate = rate;
  st->labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  st->starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  st->texts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; st->n < seconds * rate; i = (i + 1) % utts->len)
    if (!append_utterance (st, g_ptr_array_index (utts, i), error)) {
      g_ptr_array_unref (utts);
      return FALSE;
    }
  g_ptr_array_unref (utts);
  stream_truncate (st, (gsize) (seconds * rate));
  st->phn_path = g_build_filename (g_get_tmp_dir (), "adapt-bench-XXXXXX.PHN", NULL);
  {
    gint fd = g_mkstemp (st->phn_path);

    if (fd >= 0)
      close (fd);
  }
  return ph_labels_write_phn (st->phn_path, st->labels, error);
}

static void
stream_clear (Stream *st)
{
  if (st->phn_path)
    g_remove (st->phn_path);
  g_free (st->phn_path);
  g_free (st->samples);
  g_array_unref (st->labels);
  g_array_unref (st->starts);
  g_ptr_array_unref (st->texts);
}

/* The utterance starting at sample `at`, or -1. */
static gint
utterance_starting_at (const Stream *st, gsize at)
{
  for (guint i = 0; i < st->starts->len; i++)
    if (g_array_index (st->starts, gsize, i) == at)
      return (gint) i;
  return -1;
}

/* The first utterance start after `at`, or the stream end. */
static gsize
next_utterance_start (const Stream *st, gsize at)
{
  for (guint i = 0; i < st->starts->len; i++)
    if (g_array_index (st->starts, gsize, i) > at)
      return MIN (g_array_index (st->starts, gsize, i), st->n);
  return st->n;
}

/* ---- measurements on a branch ---- */

typedef struct {
  /* per-buffer processing time of the labeller (streaming thread only) */
  gint64 t0;
  GArray *process_ns;     /* double */
  /* lstmadapt chain time */
  gint64 a0;
  GArray *adapt_ns;       /* double */
  /* at the sink */
  guint64 buffers, judged, late;
  GstClockTimeDiff worst;  /* largest (arrival - render time), ns */
  /* accuracy */
  const Stream *stream;
  gdouble bin_seconds;
  GArray *bin_correct, *bin_total;   /* guint per bin */
  /* progress (lossless pacing) */
  gpointer labelled_until; /* atomic (GSIZE_TO_POINTER): end of the last labelled
                            * buffer, samples */
} Branch;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
branch_init (Branch *b, const Stream *st, gdouble bin_seconds)
{
  memset (b, 0, sizeof *b);
  b->process_ns = g_array_new (FALSE, FALSE, sizeof (double));
  b->adapt_ns = g_array_new (FALSE, FALSE, sizeof (double));
  b->stream = st;
  b->bin_seconds = bin_seconds;
  b->bin_correct = g_array_new (FALSE, TRUE, sizeof (guint));
  b->bin_total = g_array_new (FALSE, TRUE, sizeof (guint));
}

static void
branch_clear (Branch *b)
{
  g_array_unref (b->process_ns);
  g_array_unref (b->adapt_ns);
  g_array_unref (b->bin_correct);
  g_array_unref (b->bin_total);
}

static GstPadProbeReturn
on_labeller_in (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Branch *b = data;

  (void) pad;
  (void) info;
  b->t0 = now_ns ();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_labeller_out (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Branch *b = data;
  double dt = (double) (now_ns () - b->t0);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  (void) pad;
  g_array_append_val (b->process_ns, dt);
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    g_atomic_pointer_set (&b->labelled_until, GSIZE_TO_POINTER (gst_util_uint64_scale (
        GST_BUFFER_PTS (buffer) + GST_BUFFER_DURATION (buffer), b->stream->rate, GST_SECOND)));
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_adapt_in (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Branch *b = data;

  (void) pad;
  (void) info;
  b->a0 = now_ns ();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_adapt_out (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Branch *b = data;
  double dt = (double) (now_ns () - b->a0);

  (void) pad;
  (void) info;
  g_array_append_val (b->adapt_ns, dt);
  return GST_PAD_PROBE_OK;
}

/* Scores the frames of the buffer's meta against the labels (39 classes). */
static void
score_meta (Branch *b, GstBuffer *buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstPhonemeMeta");
  const GstStructure *s;
  const GValue *ts, *phones;
  guint n = 0;
  guint64 duration = 0;

  if (!meta)
    return;
  s = gst_custom_meta_get_structure (meta);
  gst_structure_get_uint (s, "n-frames", &n);
  gst_structure_get_uint64 (s, "frame-duration", &duration);
  ts = gst_structure_get_value (s, "timestamps");
  phones = gst_structure_get_value (s, "phone-index");
  for (guint i = 0; i < n; i++) {
    guint64 t = g_value_get_uint64 (gst_value_array_get_value (ts, i)) + duration / 2;
    gint phone = g_value_get_int (gst_value_array_get_value (phones, i));
    gint target = ph_labels_phone_at (b->stream->labels,
                                      gst_util_uint64_scale (t, b->stream->rate, GST_SECOND));
    guint bin = (guint) (t / (b->bin_seconds * GST_SECOND));

    if (target < 0 || ph_phone_fold39 (target) < 0)
      continue;
    if (bin >= b->bin_total->len) {
      g_array_set_size (b->bin_total, bin + 1);
      g_array_set_size (b->bin_correct, bin + 1);
    }
    g_array_index (b->bin_total, guint, bin)++;
    g_array_index (b->bin_correct, guint, bin) += ph_phone_fold39 (phone) == ph_phone_fold39 (target);
  }
}

static GstPadProbeReturn
on_sink_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Branch *b = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstElement *sink = GST_ELEMENT (gst_pad_get_parent (pad));
  GstClock *clock = gst_element_get_clock (sink);

  score_meta (b, buffer);
  b->buffers++;
  /* The first buffers preroll (the latency is configured after them): not judged. */
  if (clock && GST_BUFFER_PTS_IS_VALID (buffer) && GST_STATE (sink) == GST_STATE_PLAYING &&
      gst_base_sink_get_latency (GST_BASE_SINK (sink)) > 0) {
    GstClockTime now = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
    GstClockTime render = GST_BUFFER_PTS (buffer) +
        gst_base_sink_get_latency (GST_BASE_SINK (sink));
    GstClockTimeDiff lateness = GST_CLOCK_DIFF (render, now);

    b->late += lateness > 0;
    b->worst = b->judged++ == 0 ? lateness : MAX (b->worst, lateness);
  }
  if (clock)
    gst_object_unref (clock);
  gst_object_unref (sink);
  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement *pipeline, const gchar *element, const gchar *pad_name,
           GstPadProbeCallback callback, Branch *b)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  GstPad *pad;

  if (!e)
    return;
  pad = gst_element_get_static_pad (e, pad_name);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, callback, b, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* Labeller `name`'s probes, its adapter's (when `adapt` is non-NULL), its sink's. */
static void
instrument_branch (GstElement *pipeline, const gchar *labeller, const gchar *adapt,
                   const gchar *sink, Branch *b)
{
  add_probe (pipeline, labeller, "sink", on_labeller_in, b);
  add_probe (pipeline, labeller, "src", on_labeller_out, b);
  if (adapt) {
    add_probe (pipeline, adapt, "sink", on_adapt_in, b);
    add_probe (pipeline, adapt, "src", on_adapt_out, b);
  }
  add_probe (pipeline, sink, "sink", on_sink_buffer, b);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The p-quantile (nearest rank) of `values`. */
static double
percentile (GArray *values, double p)
{
  double *v, result;
  guint i;

  if (values->len == 0)
    return NAN;
  v = g_memdup2 (values->data, values->len * sizeof (double));
  qsort (v, values->len, sizeof (double), compare_double);
  i = (guint) MIN (values->len - 1, floor (p * (values->len - 1) + 0.5));
  result = v[i];
  g_free (v);
  return result;
}

/* ---- running a pipeline ---- */

typedef struct {
  GstElement *pipeline;
  GstElement *src;
  GstElement *adapt;          /* NULL in mode=none */
  const Stream *stream;
  gsize chunk;                /* samples per buffer */
  gboolean live;
  gboolean lossless;
  gboolean prompted;          /* set prompt-text to each utterance's text */
  Branch *adapted;            /* branch with lstmadapt (may be NULL) */
  GstStructure *last_adapt_msg;
  gchar *error;
} Run;

/* Pushes the stream into appsrc: at real time (live), as fast as the trainer keeps
 * up (lossless), or as fast as possible. */
static gpointer
feed_thread (gpointer data)
{
  Run *run = data;
  const Stream *st = run->stream;
  GstClock *clock = NULL;
  GstClockTime base = 0;

  if (run->live) {
    clock = gst_element_get_clock (run->pipeline);
    base = gst_element_get_base_time (run->pipeline);
  }
  /* Buffers end at utterance boundaries, so each utterance starts with a DISCONT
   * buffer of its own. */
  for (gsize off = 0, len; off < st->n; off += len) {
    gint utt = utterance_starting_at (st, off);
    GstBuffer *buffer;
    GstClockTime pts, end;

    len = MIN (run->chunk, next_utterance_start (st, off) - off);
    buffer = gst_buffer_new_memdup (st->samples + off, len * sizeof (gint16));
    pts = gst_util_uint64_scale (off, GST_SECOND, st->rate);
    end = gst_util_uint64_scale (off + len, GST_SECOND, st->rate);
    GST_BUFFER_PTS (buffer) = pts;
    GST_BUFFER_DURATION (buffer) = end - pts;
    if (off == 0 || utt >= 0)
      GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    if (run->prompted && utt >= 0)
      g_object_set (run->adapt, "prompt-text", g_ptr_array_index (st->texts, utt), NULL);
    if (clock) {
      /* A live source pushes a buffer once its last sample has been captured. */
      GstClockID id = gst_clock_new_single_shot_id (clock, base + end);

      gst_clock_id_wait (id, NULL);
      gst_clock_id_unref (id);
    }
    if (gst_app_src_push_buffer (GST_APP_SRC (run->src), buffer) != GST_FLOW_OK)
      break;
    while (run->lossless && run->adapt) {
      guint backlog = 0;
      gsize done = GPOINTER_TO_SIZE (g_atomic_pointer_get (&run->adapted->labelled_until));

      g_object_get (run->adapt, "backlog", &backlog, NULL);
      if (backlog <= LOSSLESS_LEAD_FRAMES && done + run->chunk >= off + len)
        break;
      g_usleep (500);
    }
  }
  gst_app_src_end_of_stream (GST_APP_SRC (run->src));
  if (clock)
    gst_object_unref (clock);
  return NULL;
}

/* Runs until EOS; keeps the last "lstmadapt" message. */
static gboolean
run_pipeline (Run *run)
{
  GstBus *bus = gst_element_get_bus (run->pipeline);
  GThread *feeder;
  gboolean ok = TRUE, done = FALSE;

  if (gst_element_set_state (run->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    run->error = g_strdup ("the pipeline does not start");
    ok = FALSE;
  }
  feeder = ok ? g_thread_new ("feeder", feed_thread, run) : NULL;
  while (ok && !done) {
    GstMessage *msg = gst_bus_timed_pop (bus, GST_CLOCK_TIME_NONE);
    const GstStructure *s = gst_message_get_structure (msg);

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR: {
        GError *error = NULL;

        gst_message_parse_error (msg, &error, NULL);
        run->error = g_strdup (error->message);
        g_error_free (error);
        ok = FALSE;
        break;
      }
      case GST_MESSAGE_WARNING: {
        GError *error = NULL;

        gst_message_parse_warning (msg, &error, NULL);
        g_printerr ("warning: %s\n", error->message);
        g_error_free (error);
        break;
      }
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (s, "lstmadapt")) {
          if (run->last_adapt_msg)
            gst_structure_free (run->last_adapt_msg);
          run->last_adapt_msg = gst_structure_copy (s);
        }
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  if (!ok)
    gst_app_src_end_of_stream (GST_APP_SRC (run->src));
  if (feeder)
    g_thread_join (feeder);
  gst_element_set_state (run->pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

static gchar *
adapt_properties (const Options *o, const Stream *st)
{
  GString *p = g_string_new (NULL);

  g_string_append_printf (p, "mode=%s schedule=%s k1=%u k2=%u learning-rate=%g ", o->mode,
                          o->schedule, o->k1, o->k2, o->lr);
  if (g_str_equal (o->mode, "supervised"))
    g_string_append_printf (p, "labels-location=%s ", st->phn_path);
  if (o->save)
    g_string_append_printf (p, "save-location=%s ", o->save);
  if (o->extra)
    g_string_append (p, o->extra);
  return g_string_free (p, FALSE);
}

/* appsrc ! tee: branch a = labeller [+ adapter], branch b = labeller alone. */
static GstElement *
make_pipeline (const Options *o, const Stream *st, gboolean live, gboolean with_adapt)
{
  gchar *props = adapt_properties (o, st);
  gchar *desc = g_strdup_printf (
      "appsrc name=src format=time is-live=%s min-latency=%" G_GUINT64_FORMAT " "
      "caps=audio/x-raw,format=S16LE,rate=%u,channels=1,layout=interleaved ! tee name=t "
      "t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=%" G_GUINT64_FORMAT " ! "
      "lstmphonemes name=la model=%s %s %s ! fakesink name=sa sync=%s "
      "t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=%" G_GUINT64_FORMAT " ! "
      "lstmphonemes name=lb model=%s ! fakesink name=sb sync=%s",
      live ? "true" : "false", (guint64) (o->buffer_ms * GST_MSECOND), st->rate,
      (guint64) (live ? 2 : 30) * GST_SECOND, o->model, with_adapt ? "! lstmadapt name=ad" : "",
      with_adapt ? props : "", live ? "true" : "false",
      (guint64) (live ? 2 : 30) * GST_SECOND, o->model, live ? "true" : "false");
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);

  if (!pipeline) {
    g_printerr ("cannot make the pipeline: %s\n%s\n", error->message, desc);
    exit (1);
  }
  g_free (desc);
  g_free (props);
  return pipeline;
}

static guint64
msg_u64 (const GstStructure *s, const gchar *field)
{
  guint64 v = 0;

  if (s)
    gst_structure_get_uint64 (s, field, &v);
  return v;
}

static void
print_adapt_summary (const Run *run, gdouble audio_seconds)
{
  const GstStructure *s = run->last_adapt_msg;
  guint64 frames = msg_u64 (s, "frames-trained"), dropped = msg_u64 (s, "frames-dropped");

  g_print ("adaptation: %" G_GUINT64_FORMAT " updates, %" G_GUINT64_FORMAT " frames trained, %"
           G_GUINT64_FORMAT " frames dropped in %" G_GUINT64_FORMAT " windows (%.1f%%), "
           "training thread CPU %.1f s for %.0f s of audio\n",
           msg_u64 (s, "updates"), frames, dropped, msg_u64 (s, "windows-dropped"),
           100.0 * dropped / MAX (frames + dropped, 1), msg_u64 (s, "train-time") / 1e9,
           audio_seconds);
}

/* ---- timing ---- */

static int
bench_timing (const Options *o, const Stream *st)
{
  Branch with, without;
  Run run = { 0 };
  double p99_with, p99_without;

  branch_init (&with, st, 30);
  branch_init (&without, st, 30);
  run.pipeline = make_pipeline (o, st, TRUE, TRUE);
  run.src = gst_bin_get_by_name (GST_BIN (run.pipeline), "src");
  run.adapt = gst_bin_get_by_name (GST_BIN (run.pipeline), "ad");
  run.stream = st;
  run.chunk = (gsize) (o->buffer_ms * st->rate / 1000);
  run.live = TRUE;
  run.adapted = &with;
  instrument_branch (run.pipeline, "la", "ad", "sa", &with);
  instrument_branch (run.pipeline, "lb", NULL, "sb", &without);
  if (!run_pipeline (&run)) {
    g_printerr ("timing run failed: %s\n", run.error);
    return 1;
  }
  p99_with = percentile (with.process_ns, 0.99);
  p99_without = percentile (without.process_ns, 0.99);
  g_print ("live run: %.0f s of audio in %.0f ms buffers, mode=%s schedule=%s k1=%u k2=%u\n",
           (double) st->n / st->rate, o->buffer_ms, o->mode, o->schedule, o->k1, o->k2);
  g_print ("labeller per-buffer time without adaptation: median %.1f us, p99 %.1f us "
           "(%u buffers)\n", percentile (without.process_ns, 0.5) / 1e3, p99_without / 1e3,
           without.process_ns->len);
  g_print ("labeller per-buffer time with adaptation:    median %.1f us, p99 %.1f us "
           "(%u buffers)\n", percentile (with.process_ns, 0.5) / 1e3, p99_with / 1e3,
           with.process_ns->len);
  g_print ("p99 ratio with/without: %.2f (median ratio %.2f)\n", p99_with / p99_without,
           percentile (with.process_ns, 0.5) / percentile (without.process_ns, 0.5));
  g_print ("lstmadapt streaming-thread time per buffer: median %.1f us, p99 %.1f us\n",
           percentile (with.adapt_ns, 0.5) / 1e3, percentile (with.adapt_ns, 0.99) / 1e3);
  g_print ("late buffers at the synced sinks: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
           " with adaptation, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " without "
           "(closest to late: %+.1f ms, %+.1f ms; the first %" G_GUINT64_FORMAT " buffers "
           "preroll)\n", with.late, with.judged, without.late, without.judged,
           with.worst / 1e6, without.worst / 1e6, with.buffers - with.judged);
  print_adapt_summary (&run, (double) st->n / st->rate);
  branch_clear (&with);
  branch_clear (&without);
  gst_object_unref (run.src);
  gst_object_unref (run.adapt);
  gst_object_unref (run.pipeline);
  return 0;
}

/* ---- accuracy ---- */

static double
bin_accuracy (const Branch *b, guint bin)
{
  guint total = bin < b->bin_total->len ? g_array_index (b->bin_total, guint, bin) : 0;

  return total ? (double) g_array_index (b->bin_correct, guint, bin) / total : NAN;
}

/* Accuracy over bins [from, to). */
static double
range_accuracy (const Branch *b, guint from, guint to)
{
  guint64 correct = 0, total = 0;

  for (guint i = from; i < to && i < b->bin_total->len; i++) {
    correct += g_array_index (b->bin_correct, guint, i);
    total += g_array_index (b->bin_total, guint, i);
  }
  return total ? (double) correct / total : NAN;
}

static int
bench_accuracy (const Options *o, const Stream *st)
{
  Branch adapted, baseline;
  Run run = { 0 };
  gboolean with_adapt = !g_str_equal (o->mode, "none");
  gboolean live = g_str_equal (o->pace, "live");
  guint bins, from;
  double duration = (double) st->n / st->rate;
  gint64 start = now_ns ();

  branch_init (&adapted, st, o->bin_seconds);
  branch_init (&baseline, st, o->bin_seconds);
  run.pipeline = make_pipeline (o, st, live, with_adapt);
  run.src = gst_bin_get_by_name (GST_BIN (run.pipeline), "src");
  run.adapt = with_adapt ? gst_bin_get_by_name (GST_BIN (run.pipeline), "ad") : NULL;
  run.stream = st;
  run.chunk = (gsize) (o->buffer_ms * st->rate / 1000);
  run.live = live;
  run.lossless = g_str_equal (o->pace, "lossless");
  run.prompted = g_str_equal (o->mode, "prompted");
  run.adapted = &adapted;
  instrument_branch (run.pipeline, "la", with_adapt ? "ad" : NULL, "sa", &adapted);
  instrument_branch (run.pipeline, "lb", NULL, "sb", &baseline);
  if (!run_pipeline (&run)) {
    g_printerr ("accuracy run failed: %s\n", run.error);
    return 1;
  }

  bins = MAX (adapted.bin_total->len, baseline.bin_total->len);
  from = duration > 60 ? (guint) floor ((duration - 60) / o->bin_seconds) : 0;
  g_print ("# model %s, %.0f s of %s, mode=%s", o->model, (double) st->n / st->rate,
           o->corpus, o->mode);
  if (with_adapt)
    g_print (" schedule=%s k1=%u k2=%u lr=%g pace=%s", o->schedule, o->k1, o->k2, o->lr,
             o->pace);
  g_print ("\n# frame accuracy, 39 classes, per %.0f s of stream time\n", o->bin_seconds);
  g_print ("# %8s %10s %10s\n", "until(s)", with_adapt ? "baseline" : "accuracy",
           with_adapt ? "adapted" : "");
  for (guint i = 0; i < bins; i++) {
    g_print ("  %8.0f %10.3f", MIN ((i + 1) * o->bin_seconds, (double) st->n / st->rate),
             bin_accuracy (&baseline, i));
    if (with_adapt)
      g_print (" %10.3f", bin_accuracy (&adapted, i));
    g_print ("\n");
  }
  {
    double a = range_accuracy (&adapted, from, bins), b = range_accuracy (&baseline, from, bins);

    if (with_adapt)
      g_print ("last minute: baseline %.1f%%, adapted %.1f%% (%+.1f points); whole stream: "
               "baseline %.1f%%, adapted %.1f%%\n", 100 * b, 100 * a, 100 * (a - b),
               100 * range_accuracy (&baseline, 0, bins), 100 * range_accuracy (&adapted, 0, bins));
    else
      g_print ("last minute: this model %.1f%%; whole stream %.1f%%\n", 100 * b,
               100 * range_accuracy (&baseline, 0, bins));
  }
  if (with_adapt)
    print_adapt_summary (&run, (double) st->n / st->rate);
  g_print ("wall time %.1f s\n", (now_ns () - start) / 1e9);
  if (run.last_adapt_msg)
    gst_structure_free (run.last_adapt_msg);
  branch_clear (&adapted);
  branch_clear (&baseline);
  gst_object_unref (run.src);
  if (run.adapt)
    gst_object_unref (run.adapt);
  gst_object_unref (run.pipeline);
  return 0;
}

/* ---- main ---- */

static gboolean
parse_options (int argc, char **argv, Options *o)
{
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &o->model, "Model file (.phm)", "FILE" },
    { "corpus", 0, 0, G_OPTION_ARG_FILENAME, &o->corpus, "Corpus directory (audio + labels)",
      "DIR" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->seconds, "timing: seconds of audio (60)", "S" },
    { "minutes", 0, 0, G_OPTION_ARG_DOUBLE, &o->minutes, "accuracy: minutes of audio (5)", "M" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &o->mode,
      "supervised (default), prompted (each utterance's .TXT), self or none", "MODE" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &o->schedule, "truncated, framewise, sentence",
      "NAME" },
    { "k1", 0, 0, G_OPTION_ARG_INT, &o->k1, "k1 (20)", "N" },
    { "k2", 0, 0, G_OPTION_ARG_INT, &o->k2, "k2 (20)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o->lr, "learning rate (0.001)", "X" },
    { "pace", 0, 0, G_OPTION_ARG_STRING, &o->pace, "accuracy: lossless (default), live or fast",
      "PACE" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &o->save, "save-location for the adapted model",
      "FILE" },
    { "buffer-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o->buffer_ms, "ms of audio per buffer (20)",
      "MS" },
    { "bin-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->bin_seconds, "accuracy bins (30)", "S" },
    { "adapt-props", 0, 0, G_OPTION_ARG_STRING, &o->extra, "more lstmadapt properties", "PROPS" },
    { NULL },
  };
  GOptionContext *context = g_option_context_new ("timing|accuracy - lstmadapt benchmarks");
  GError *error = NULL;
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  ok = g_option_context_parse (context, &argc, &argv, &error);
  g_option_context_free (context);
  if (!ok) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  if (argc != 2 || !o->model || !o->corpus ||
      !(g_str_equal (argv[1], "timing") || g_str_equal (argv[1], "accuracy"))) {
    g_printerr ("usage: %s timing|accuracy --model FILE --corpus DIR [options]\n", argv[0]);
    return FALSE;
  }
  o->command = g_strdup (argv[1]);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Options o = { .seconds = 60, .minutes = 5, .k1 = 20, .k2 = 20, .lr = 1e-3,
                .buffer_ms = 20, .bin_seconds = 30 };
  Stream st;
  GError *error = NULL;
  PhModel *model;
  int ret;

  if (!parse_options (argc, argv, &o))
    return 2;
  gst_init (NULL, NULL);
  if (!o.mode)
    o.mode = g_strdup ("supervised");
  if (!o.schedule)
    o.schedule = g_strdup ("truncated");
  if (!o.pace)
    o.pace = g_strdup ("lossless");
  model = ph_model_load_file (o.model, &error);
  if (!model || !stream_load (&st, o.corpus, model->features.sample_rate,
                              g_str_equal (o.command, "timing") ? o.seconds : o.minutes * 60,
                              &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  ph_model_unref (model);
  ret = g_str_equal (o.command, "timing") ? bench_timing (&o, &st) : bench_accuracy (&o, &st);
  stream_clear (&st);
  return ret;
}
