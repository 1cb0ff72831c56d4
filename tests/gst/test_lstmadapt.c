/* test_lstmadapt.c: tests of the lstmadapt element, with GstHarness around
 * `lstmphonemes ! lstmadapt` (a bin, the labeller found by context query) or around
 * each element on its own (linked by model-name).
 *
 * The learning checks are independent of the element's own statistics: the adapted
 * model is written to a file and scored offline with the core forward pass
 * (ph_lstm_forward_sequence) against the labels, and the labeller's posteriors are
 * compared frame by frame with a run of lstmphonemes alone. The task is synthetic:
 * quiet noise, tones, noise bursts and chirps, labelled h#, aa, s and iy. */
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "phonemes.h"
#include "../test_common.h"

#define RATE 16000
#define HOP 160
#define CHUNK 1600   /* samples per buffer: 100 ms */
#define CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved"

typedef struct {
  gchar *dir;
  gchar *model;        /* 16 hidden cells, random */
  gchar *plugin_dir;
} Fixture;

static Fixture fx;

/* ---- synthetic labelled audio ---- */

typedef struct {
  gint16 *samples;
  gsize n;
  GArray *labels;      /* PhLabel in samples */
} Signal;

static guint32
lcg_next (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* Segments of 100..300 ms of four kinds, each labelled. */
static Signal
make_signal (double seconds, guint32 seed)
{
  static const char *phones[] = { "h#", "aa", "s", "iy" };
  Signal sig = { 0 };
  guint32 state = seed;
  double phase = 0;

  sig.n = (gsize) (seconds * RATE);
  sig.samples = g_new (gint16, sig.n);
  sig.labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  for (gsize start = 0; start < sig.n;) {
    gsize len = 1600 + lcg_next (&state) % 3200;   /* not inside MIN: evaluated twice */
    guint kind = lcg_next (&state) % 4;
    PhLabel label;

    len = MIN (len, sig.n - start);
    label = (PhLabel) { start, start + len, ph_phone_index (phones[kind]) };

    for (gsize i = start; i < start + len; i++) {
      double noise = ((double) (lcg_next (&state) % 2001) - 1000);
      double v = 0;

      if (kind == 1)
        phase += 2 * G_PI * 220 / RATE, v = 6000 * sin (phase) + 3000 * sin (3 * phase);
      else if (kind == 3)
        phase += 2 * G_PI * (800 + 1600.0 * (i - start) / len) / RATE, v = 5000 * sin (phase);
      v += noise * (kind == 2 ? 6.0 : 0.05);
      sig.samples[i] = (gint16) CLAMP (lrint (v), -32768, 32767);
    }
    g_array_append_val (sig.labels, label);
    start += len;
  }
  return sig;
}

static void
signal_clear (Signal *sig)
{
  g_free (sig->samples);
  g_array_unref (sig->labels);
}

static gchar *
write_phn (const Signal *sig, const char *name)
{
  gchar *path = g_build_filename (fx.dir, name, NULL);
  GError *error = NULL;

  g_assert_true (ph_labels_write_phn (path, sig->labels, &error));
  g_assert_no_error (error);
  return path;
}

/* The independent measure: mean cross-entropy of `model` over the labelled frames of
 * the whole signal, from a zero state, with the model's output delay. */
static double
offline_loss (const PhModel *model, const Signal *sig, double *accuracy)
{
  float *x = g_new (float, sig->n), *features, *post;
  guint n_frames = 0, delay = model->shape.delay, counted = 0, correct = 0;
  gint *targets;
  double loss = 0;
  GError *error = NULL;

  for (gsize i = 0; i < sig->n; i++)
    x[i] = sig->samples[i] / 32768.0f;
  features = ph_features_compute_f32 (&model->features, x, sig->n, &n_frames, &error);
  g_assert_no_error (error);
  post = g_new (float, (gsize) n_frames * PH_NUM_PHONES);
  ph_lstm_forward_sequence (model, features, n_frames, post);
  targets = ph_labels_to_frame_targets (sig->labels, HOP, n_frames);
  for (guint i = 0; i + delay < n_frames; i++) {
    const float *p = post + (gsize) (i + delay) * PH_NUM_PHONES;
    guint best = 0;

    if (targets[i] < 0)
      continue;
    for (guint k = 1; k < PH_NUM_PHONES; k++)
      best = p[k] > p[best] ? k : best;
    loss -= log (MAX (p[targets[i]], 1e-12f));
    correct += (gint) best == targets[i];
    counted++;
  }
  g_free (targets);
  g_free (post);
  g_free (features);
  g_free (x);
  if (accuracy)
    *accuracy = (double) correct / MAX (counted, 1);
  return loss / MAX (counted, 1);
}

/* ---- running elements ---- */

typedef struct {
  GstHarness *h;
  GstElement *element;   /* harnessed element: the bin, or the single element */
  GstElement *labeller;  /* lstmphonemes (may be NULL) */
  GstElement *adapt;     /* lstmadapt (may be NULL) */
  GstBus *bus;
  GArray *posteriors;    /* float, 61 per frame, from the output metas */
  GArray *phones;        /* gint per frame */
  GPtrArray *adapt_msgs; /* GstStructure * of "lstmadapt" messages */
  guint warnings, errors;
  GString *warning_text;
  GString *error_text;
} Run;

static void
run_init (Run *run)
{
  run->posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  run->phones = g_array_new (FALSE, FALSE, sizeof (gint));
  run->adapt_msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  run->warning_text = g_string_new (NULL);
  run->error_text = g_string_new (NULL);
  run->bus = gst_bus_new ();
}

/* `lstmphonemes model=MODEL ! lstmadapt PROPS` in a bin, harnessed. The backlog holds
 * every frame (unless PROPS say otherwise), so what is trained does not depend on
 * timing. */
static Run *
chain_new_with_model (const char *model, const char *adapt_props)
{
  Run *run = g_new0 (Run, 1);
  GError *error = NULL;
  gchar *desc = g_strdup_printf ("lstmphonemes name=l model=%s ! lstmadapt name=a "
                                 "max-backlog=100000 %s", model, adapt_props);

  run_init (run);
  run->element = gst_parse_bin_from_description (desc, TRUE, &error);
  g_assert_no_error (error);
  g_free (desc);
  gst_object_ref_sink (run->element);
  run->labeller = gst_bin_get_by_name (GST_BIN (run->element), "l");
  run->adapt = gst_bin_get_by_name (GST_BIN (run->element), "a");
  gst_element_set_bus (run->element, run->bus);
  run->h = gst_harness_new_with_element (run->element, "sink", "src");
  gst_harness_set_src_caps_str (run->h, CAPS);
  return run;
}

/* The same with the fixture's model. */
static Run *
chain_new (const char *adapt_props)
{
  return chain_new_with_model (fx.model, adapt_props);
}

/* One element made from `desc` (gst_parse_launch syntax), harnessed. */
static Run *
single_new (const char *desc)
{
  Run *run = g_new0 (Run, 1);
  GError *error = NULL;

  run_init (run);
  run->element = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  gst_object_ref_sink (run->element);
  if (g_str_has_prefix (desc, "lstmphonemes"))
    run->labeller = gst_object_ref (run->element);
  else
    run->adapt = gst_object_ref (run->element);
  gst_element_set_bus (run->element, run->bus);
  run->h = gst_harness_new_with_element (run->element, "sink", "src");
  gst_harness_set_src_caps_str (run->h, CAPS);
  return run;
}

/* lstmphonemes running the fixture's model, with more properties. */
static Run *
single_new_labeller (const char *props)
{
  gchar *desc = g_strdup_printf ("lstmphonemes model=%s %s", fx.model, props);
  Run *run = single_new (desc);

  g_free (desc);
  return run;
}

static void
run_free (Run *run)
{
  gst_harness_teardown (run->h);
  gst_element_set_bus (run->element, NULL);
  g_clear_object (&run->labeller);
  g_clear_object (&run->adapt);
  gst_object_unref (run->element);
  gst_object_unref (run->bus);
  g_array_unref (run->posteriors);
  g_array_unref (run->phones);
  g_ptr_array_unref (run->adapt_msgs);
  g_string_free (run->warning_text, TRUE);
  g_string_free (run->error_text, TRUE);
  g_free (run);
}

static void
note_message (Run *run, GstMessage *msg)
{
  GError *error = NULL;
  const GstStructure *s = gst_message_get_structure (msg);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &error, NULL);
      g_string_append_printf (run->warning_text, "%s\n", error->message);
      run->warnings++;
      g_error_free (error);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, NULL);
      g_string_append_printf (run->error_text, "%s\n", error->message);
      run->errors++;
      g_error_free (error);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name (s, "lstmadapt"))
        g_ptr_array_add (run->adapt_msgs, gst_structure_copy (s));
      break;
    default:
      break;
  }
}

static void
collect_messages (Run *run)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (run->bus))) {
    note_message (run, msg);
    gst_message_unref (msg);
  }
}

/* Waits (up to a minute: no timing is asserted) until an "lstmadapt" message, i.e. a
 * publication, has arrived. */
static gboolean
wait_adapt_message (Run *run)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  collect_messages (run);
  while (run->adapt_msgs->len == 0 && g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop (run->bus, 100 * GST_MSECOND);

    if (msg) {
      note_message (run, msg);
      gst_message_unref (msg);
    }
  }
  return run->adapt_msgs->len > 0;
}

/* Waits (up to a minute) until the training thread has taken every queued frame. */
static void
wait_backlog_empty (Run *run)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  guint backlog = 1;

  while (g_get_monotonic_time () < deadline) {
    g_object_get (run->adapt, "backlog", &backlog, NULL);
    if (backlog == 0)
      break;
    g_usleep (1000);
  }
  g_assert_cmpuint (backlog, ==, 0);
}

static void
collect_meta (Run *run, GstBuffer *buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstPhonemeMeta");
  const GstStructure *s;
  const GValue *post, *phones;
  gsize size;
  gconstpointer data;
  guint n = 0;

  if (!meta)
    return;
  s = gst_custom_meta_get_structure (meta);
  g_assert_true (gst_structure_get_uint (s, "n-frames", &n));
  post = gst_structure_get_value (s, "posteriors");
  data = g_bytes_get_data (g_value_get_boxed (post), &size);
  g_array_append_vals (run->posteriors, data, size / sizeof (float));
  phones = gst_structure_get_value (s, "phone-index");
  for (guint i = 0; i < n; i++) {
    gint phone = g_value_get_int (gst_value_array_get_value (phones, i));

    g_array_append_val (run->phones, phone);
  }
}

static void
drain (Run *run)
{
  GstBuffer *buffer;

  while ((buffer = gst_harness_try_pull (run->h))) {
    collect_meta (run, buffer);
    gst_buffer_unref (buffer);
  }
  collect_messages (run);
}

static GstBuffer *
audio_buffer (const Signal *sig, gsize off, gsize len)
{
  GstBuffer *buffer = gst_buffer_new_memdup (sig->samples + off, len * sizeof (gint16));

  GST_BUFFER_PTS (buffer) = gst_util_uint64_scale (off, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buffer) = gst_util_uint64_scale (off + len, GST_SECOND, RATE) -
      GST_BUFFER_PTS (buffer);
  if (off == 0)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  return buffer;
}

/* Pushes samples [from, to) of `sig` in CHUNK buffers. */
static void
push_range (Run *run, const Signal *sig, gsize from, gsize to)
{
  for (gsize off = from; off < to; off += CHUNK) {
    g_assert_cmpint (gst_harness_push (run->h, audio_buffer (sig, off, MIN (CHUNK, to - off))),
                     ==, GST_FLOW_OK);
    drain (run);
  }
}

/* Pushes `sig` through `first` and every buffer it outputs into `second`; returns the
 * number of buffers forwarded. */
static guint
push_through (Run *first, Run *second, const Signal *sig)
{
  GstBuffer *buffer;
  guint forwarded = 0;

  for (gsize off = 0; off < sig->n; off += CHUNK) {
    g_assert_cmpint (gst_harness_push (first->h, audio_buffer (sig, off,
                                                               MIN (CHUNK, sig->n - off))),
                     ==, GST_FLOW_OK);
    while ((buffer = gst_harness_try_pull (first->h))) {
      collect_meta (first, buffer);
      g_assert_cmpint (gst_harness_push (second->h, buffer), ==, GST_FLOW_OK);
      forwarded++;
    }
    drain (second);
    collect_messages (first);
  }
  return forwarded;
}

static void
push_eos (Run *run)
{
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_eos ()));
  drain (run);
}

/* Flushes (new stream time from 0) so the same audio can be pushed again. */
static void
push_flush (Run *run)
{
  GstSegment segment;

  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_segment (&segment)));
  drain (run);
}

/* Forgets the frames collected so far. */
static void
forget_frames (Run *run)
{
  g_array_set_size (run->posteriors, 0);
  g_array_set_size (run->phones, 0);
}

/* TRUE when the two runs' posteriors are identical over their common frames. */
static gboolean
same_posteriors (Run *a, Run *b)
{
  guint n = MIN (a->posteriors->len, b->posteriors->len);

  g_assert_cmpuint (n, >, 0);
  return memcmp (a->posteriors->data, b->posteriors->data, n * sizeof (float)) == 0;
}

/* The chain's labeller, with adaptation paused, runs what `path` holds: over the whole
 * signal again, its posteriors equal those of a new lstmphonemes loading the file. */
static void
assert_labeller_runs_file (Run *run, const Signal *sig, const char *path)
{
  gchar *desc = g_strdup_printf ("lstmphonemes model=%s", path);
  Run *fresh;

  g_object_set (run->adapt, "enabled", FALSE, NULL);
  push_flush (run);
  forget_frames (run);
  push_range (run, sig, 0, sig->n);
  fresh = single_new (desc);
  push_range (fresh, sig, 0, sig->n);
  g_assert_true (same_posteriors (run, fresh));
  run_free (fresh);
  g_free (desc);
}

/* Waits until EOS comes out of the harness, then collects the messages. */
static void
wait_eos (Run *run)
{
  GstEvent *event;
  gboolean eos = FALSE;

  while (!eos && (event = gst_harness_pull_event (run->h))) {
    eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    gst_event_unref (event);
  }
  g_assert_true (eos);
  drain (run);
}

static guint64
msg_u64 (const GstStructure *s, const char *field)
{
  guint64 v = 0;

  g_assert_true (gst_structure_get_uint64 (s, field, &v));
  return v;
}

static const GstStructure *
last_msg (Run *run)
{
  g_assert_cmpuint (run->adapt_msgs->len, >, 0);
  return g_ptr_array_index (run->adapt_msgs, run->adapt_msgs->len - 1);
}

static PhModel *
load_model (const char *path)
{
  GError *error = NULL;
  PhModel *model = ph_model_load_file (path, &error);

  g_assert_no_error (error);
  return model;
}

static gchar *
temp_path (const char *name)
{
  return g_build_filename (fx.dir, name, NULL);
}

/* Frame accuracy of the labeller's argmax over frames [from, to) of `run`. */
static double
labeller_accuracy (Run *run, const Signal *sig, guint from, guint to)
{
  guint n = MIN (to, run->phones->len), correct = 0, counted = 0;
  gint *targets = ph_labels_to_frame_targets (sig->labels, HOP, n);

  for (guint i = from; i < n; i++) {
    if (targets[i] < 0)
      continue;
    correct += g_array_index (run->phones, gint, i) == targets[i];
    counted++;
  }
  g_free (targets);
  return (double) correct / MAX (counted, 1);
}

/* ---- tests ---- */

/* Audio comes out bit-identical, with adaptation running. */
static void
test_passthrough (void)
{
  Signal sig = make_signal (3.0, 1);
  Run *run = chain_new ("mode=self confidence-threshold=0");
  gsize out = 0;

  for (gsize off = 0; off < sig.n; off += CHUNK) {
    GstBuffer *buffer;
    GstMapInfo map;
    gsize len = MIN (CHUNK, sig.n - off);

    g_assert_cmpint (gst_harness_push (run->h, audio_buffer (&sig, off, len)), ==, GST_FLOW_OK);
    buffer = gst_harness_pull (run->h);
    g_assert_cmpuint (GST_BUFFER_PTS (buffer), ==, gst_util_uint64_scale (off, GST_SECOND, RATE));
    g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
    g_assert_cmpuint (map.size, ==, len * sizeof (gint16));
    g_assert_cmpint (memcmp (map.data, sig.samples + off, map.size), ==, 0);
    gst_buffer_unmap (buffer, &map);
    gst_buffer_unref (buffer);
    out += len;
  }
  g_assert_cmpuint (out, ==, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_cmpuint (run->adapt_msgs->len, >, 0);
  run_free (run);
  signal_clear (&sig);
}

/* Supervised adaptation from a .PHN file: the independent offline loss of the saved
 * model drops well below the initial model's, the labeller's posteriors change after
 * the first publication (and not before), and the labeller gets more frames right
 * than lstmphonemes alone on the same audio. */
static void
test_supervised_learns (void)
{
  Signal sig = make_signal (24.0, 3);
  gchar *phn = write_phn (&sig, "learn.PHN");
  gchar *saved = temp_path ("learned.phm");
  gchar *props = g_strdup_printf ("labels-location=%s learning-rate=0.01 publish-interval=1 "
                                  "save-location=%s", phn, saved);
  Run *run = chain_new (props), *ref = single_new_labeller ("");
  PhModel *initial = load_model (fx.model), *adapted;
  double loss0, loss1, acc0, acc1, acc_ref, acc_adapted;
  guint n, first_diff = G_MAXUINT, half = (guint) (sig.n / 2 / CHUNK) * CHUNK;
  guint last = (guint) (sig.n - 5 * RATE);
  const GstStructure *s;

  push_range (ref, &sig, 0, sig.n);
  push_eos (ref);

  push_range (run, &sig, 0, half);
  g_assert_true (wait_adapt_message (run));
  push_range (run, &sig, half, last);
  wait_backlog_empty (run);   /* the labeller then runs what 19 s taught */
  push_range (run, &sig, last, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);

  /* The message carries the documented fields. */
  s = last_msg (run);
  g_assert_cmpuint (msg_u64 (s, "updates"), >, 50);
  g_assert_cmpuint (msg_u64 (s, "frames-trained"), >, 2000);
  g_assert_cmpuint (msg_u64 (s, "windows-dropped"), ==, 0);
  g_assert_true (gst_structure_has_field_typed (s, "loss", G_TYPE_DOUBLE));
  g_assert_true (gst_structure_has_field_typed (s, "accuracy", G_TYPE_DOUBLE));
  g_assert_true (gst_structure_has_field_typed (s, "running-time", G_TYPE_UINT64));

  /* Independent measure on the saved model. */
  adapted = load_model (saved);
  loss0 = offline_loss (initial, &sig, &acc0);
  loss1 = offline_loss (adapted, &sig, &acc1);
  g_test_message ("offline loss %.3f -> %.3f, accuracy %.3f -> %.3f", loss0, loss1, acc0, acc1);
  g_assert_cmpfloat (loss1, <, 0.5 * loss0);
  g_assert_cmpfloat (acc1, >, acc0 + 0.3);

  /* The labeller picked the new weights up. */
  n = MIN (run->phones->len, ref->phones->len);
  g_assert_cmpuint (n, >, 2000);
  for (guint i = 0; i < n * PH_NUM_PHONES && first_diff == G_MAXUINT; i++)
    if (g_array_index (run->posteriors, float, i) != g_array_index (ref->posteriors, float, i))
      first_diff = i / PH_NUM_PHONES;
  g_test_message ("labeller's posteriors first differ at frame %u", first_diff);
  g_assert_cmpuint (first_diff, >=, 20);   /* no update before k1 frames */
  g_assert_cmpuint (first_diff, <, half / HOP + 10);
  acc_ref = labeller_accuracy (ref, &sig, n - 500, n);
  acc_adapted = labeller_accuracy (run, &sig, n - 500, n);
  g_test_message ("labeller accuracy on the last 5 s: %.3f alone, %.3f adapted", acc_ref,
                  acc_adapted);
  g_assert_cmpfloat (acc_adapted, >, acc_ref + 0.3);

  ph_model_unref (initial);
  ph_model_unref (adapted);
  run_free (run);
  run_free (ref);
  g_remove (phn);
  g_remove (saved);
  g_free (phn);
  g_free (saved);
  g_free (props);
  signal_clear (&sig);
}

/* Labels through the request pad, sent after the audio they label: the frames wait
 * for them, and every labelled frame is trained on. Bad lines warn and are skipped.
 * The two elements are linked by model-name. */
static void
test_labels_pad (void)
{
  Signal sig = make_signal (6.0, 4);
  Run *labeller = single_new_labeller ("model-name=pad-test");
  Run *adapt = single_new ("lstmadapt model-name=pad-test k1=10 publish-interval=1 "
                           "max-backlog=100000");
  GstHarness *labels;
  /* Pad bytes that are not UTF-8, and a terminal escape, in the first bad line. */
  GString *text = g_string_new ("garbage line \xff\xfe\x1b[2J\n0.5 0.2 aa\n0 1 zz\n"
                                "0 0.05 aa\n");
  GstBuffer *buffer;
  guint64 targeted = 0;
  guint64 frames = 0;
  GArray *first_pass;

  labels = gst_harness_new_with_element (adapt->element, "labels", NULL);
  gst_harness_set_src_caps_str (labels, "text/x-phone-labels");
  g_assert_cmpuint (push_through (labeller, adapt, &sig), >, 0);

  /* The audio went first (through the labeller into the adapter), labels come now. */
  first_pass = g_array_copy (labeller->posteriors);

  for (guint i = 0; i < sig.labels->len; i++) {
    const PhLabel *l = &g_array_index (sig.labels, PhLabel, i);

    g_string_append_printf (text, "%.6f %.6f %s\n", (double) l->start / RATE,
                            (double) l->end / RATE, ph_phone_name (l->phone));
  }
  buffer = gst_buffer_new_memdup (text->str, text->len);
  g_assert_cmpint (gst_harness_push (labels, buffer), ==, GST_FLOW_OK);
  g_assert_true (gst_harness_push_event (labels, gst_event_new_eos ()));
  push_eos (adapt);

  for (guint i = 0; i < adapt->adapt_msgs->len; i++)
    targeted += msg_u64 (g_ptr_array_index (adapt->adapt_msgs, i), "targeted-frames");
  frames = msg_u64 (last_msg (adapt), "frames-trained");
  g_test_message ("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames targeted", targeted,
                  frames);
  g_assert_cmpuint (frames, >, 500);
  g_assert_cmpuint (targeted + 1, >=, frames);   /* every frame has a label */
  g_assert_cmpuint (adapt->warnings, >=, 1);
  g_assert_nonnull (strstr (adapt->warning_text->str, "garbage line"));
  g_assert_true (g_utf8_validate (adapt->warning_text->str, -1, NULL));
  g_assert_null (strchr (adapt->warning_text->str, '\x1b'));

  /* The weights reached the labeller of the other harness, by name: the same audio
   * now gets other posteriors. */
  push_eos (labeller);
  push_flush (labeller);
  forget_frames (labeller);
  push_range (labeller, &sig, 0, sig.n);
  g_assert_cmpuint (labeller->posteriors->len, >, 0);
  g_assert_cmpint (memcmp (first_pass->data, labeller->posteriors->data,
                           sizeof (float) * MIN (first_pass->len, labeller->posteriors->len)),
                   !=, 0);
  g_array_unref (first_pass);

  gst_harness_teardown (labels);
  run_free (adapt);
  run_free (labeller);
  g_string_free (text, TRUE);
  signal_clear (&sig);
}

/* ---- a training thread held still ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean hold;     /* block the training thread in its next message */
  gboolean held;     /* it is blocked */
} Gate;

static GstBusSyncReply
gate_sync_handler (GstBus *bus, GstMessage *msg, gpointer data)
{
  Gate *gate = data;
  const GstStructure *s = gst_message_get_structure (msg);

  (void) bus;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "lstmadapt")) {
    g_mutex_lock (&gate->lock);
    gate->held = TRUE;
    g_cond_broadcast (&gate->cond);
    while (gate->hold)
      g_cond_wait (&gate->cond, &gate->lock);
    gate->held = FALSE;
    g_mutex_unlock (&gate->lock);
  }
  return GST_BUS_PASS;
}

/* With the training thread blocked (in a bus sync handler, so no timing is involved)
 * and a tiny backlog, pushing 20 s of audio never blocks, and the frames that did not
 * fit are dropped in whole windows and counted. The labels, which cover the 20 s, are
 * not said to run past the audio (issue 17: the check took the last trained frame,
 * near 2 s, for the end of the audio). */
static void
test_drops_when_behind (void)
{
  Signal sig = make_signal (20.0, 5);
  gchar *phn = write_phn (&sig, "drop.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s k1=10 max-backlog=50 publish-interval=1",
                                  phn);
  Run *run = chain_new (props);
  Gate gate = { .hold = TRUE };
  guint64 windows, frames_dropped, trained;
  const GstStructure *s;
  guint queued_while_held;

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  gst_bus_set_sync_handler (run->bus, gate_sync_handler, &gate, NULL);

  push_range (run, &sig, 0, sig.n / 10);
  g_mutex_lock (&gate.lock);
  while (!gate.held)
    g_cond_wait (&gate.cond, &gate.lock);
  g_mutex_unlock (&gate.lock);
  /* The training thread is stuck: the rest must still go through. */
  push_range (run, &sig, sig.n / 10, sig.n);
  g_object_get (run->adapt, "backlog", &queued_while_held, "windows-dropped", &windows, NULL);
  g_assert_cmpuint (queued_while_held, <=, 50);
  g_assert_cmpuint (windows, >, 10);

  g_mutex_lock (&gate.lock);
  gate.hold = FALSE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.lock);
  push_eos (run);
  gst_bus_set_sync_handler (run->bus, NULL, NULL, NULL);
  collect_messages (run);

  s = last_msg (run);
  windows = msg_u64 (s, "windows-dropped");
  frames_dropped = msg_u64 (s, "frames-dropped");
  trained = msg_u64 (s, "frames-trained");
  g_test_message ("windows dropped %" G_GUINT64_FORMAT ", frames dropped %" G_GUINT64_FORMAT
                  ", trained %" G_GUINT64_FORMAT ", output frames %u", windows,
                  frames_dropped, trained, run->phones->len);
  g_assert_cmpuint (frames_dropped, >, 1000);
  g_assert_cmpuint (frames_dropped + trained, ==, run->phones->len);
  g_assert_cmpuint (windows * 10, >=, frames_dropped);
  g_assert_cmpuint (run->errors, ==, 0);
  g_test_message ("warnings: %s", run->warning_text->str);
  g_assert_null (strstr (run->warning_text->str, "audio ended"));

  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* The `save` action while playing and save-location at EOS: both files load; the one
 * written at EOS holds the weights last published to the labeller. */
static void
test_save_and_reload (void)
{
  Signal sig = make_signal (6.0, 6);
  gchar *phn = write_phn (&sig, "save.PHN");
  gchar *at_eos = temp_path ("at-eos.phm"), *mid = temp_path ("mid.phm");
  gchar *props = g_strdup_printf ("labels-location=%s save-location=%s learning-rate=0.01",
                                  phn, at_eos);
  Run *run = chain_new (props);
  PhModel *initial = load_model (fx.model), *m_mid, *m_eos;
  gboolean ok = FALSE;

  push_range (run, &sig, 0, sig.n / 2);
  g_assert_true (wait_adapt_message (run));
  g_signal_emit_by_name (run->adapt, "save", mid, &ok);
  g_assert_true (ok);
  push_range (run, &sig, sig.n / 2, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);

  m_mid = load_model (mid);
  m_eos = load_model (at_eos);
  g_assert_cmpuint (m_mid->n_params, ==, initial->n_params);
  g_assert_cmpint (memcmp (m_mid->flat, initial->flat, sizeof (float) * initial->n_params), !=, 0);
  g_assert_cmpint (memcmp (m_eos->flat, m_mid->flat, sizeof (float) * initial->n_params), !=, 0);
  g_assert_false (ph_model_recurrent_is_bf16 (m_eos));
  g_assert_cmpint (memcmp (m_eos->norm_mean, initial->norm_mean,
                           sizeof (float) * initial->shape.input_dim), ==, 0);

  assert_labeller_runs_file (run, &sig, at_eos);

  /* A target that is not a regular file (a FIFO here; as root, /dev/null used to be
   * replaced by the model) is refused and left alone. */
  {
    gchar *fifo = temp_path ("save.fifo");
    GStatBuf st;

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    g_signal_emit_by_name (run->adapt, "save", fifo, &ok);
    g_assert_false (ok);
    collect_messages (run);
    g_assert_nonnull (strstr (run->warning_text->str, "FIFO"));
    g_assert_cmpint (g_lstat (fifo, &st), ==, 0);
    g_assert_true (S_ISFIFO (st.st_mode));
    g_remove (fifo);
    g_free (fifo);
  }

  /* Without a location: a warning and FALSE, no crash. */
  g_object_set (run->adapt, "save-location", NULL, NULL);
  g_signal_emit_by_name (run->adapt, "save", NULL, &ok);
  g_assert_false (ok);

  ph_model_unref (initial);
  ph_model_unref (m_mid);
  ph_model_unref (m_eos);
  run_free (run);
  g_remove (phn);
  g_remove (mid);
  g_remove (at_eos);
  g_free (phn);
  g_free (mid);
  g_free (at_eos);
  g_free (props);
  signal_clear (&sig);
}

/* With learning-rate=10 and no clipping the adapter's loss saturates (69.08); it used to
 * publish and save the diverged weights without a word (issue 17). Now: a warning, the
 * labeller back on the last good weights (the last published ones a sane loss
 * followed), and save-location and `save` write them: their loss on the audio is near
 * the starting model's, nowhere near saturation. */
static void
test_divergence_stops_and_keeps_good_weights (void)
{
  Signal sig = make_signal (4.0, 16);
  gchar *phn = write_phn (&sig, "diverge.PHN");
  gchar *at_eos = temp_path ("diverged-eos.phm"), *saved = temp_path ("diverged-save.phm");
  gchar *props = g_strdup_printf ("labels-location=%s save-location=%s learning-rate=10 "
                                  "clip=0 publish-interval=1", phn, at_eos);
  Run *run = chain_new (props);
  PhModel *initial = load_model (fx.model), *m_eos, *m_saved;
  gboolean ok = FALSE;

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_test_message ("warnings: %s", run->warning_text->str);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_nonnull (strstr (run->warning_text->str, "Adaptation diverged"));
  g_signal_emit_by_name (run->adapt, "save", saved, &ok);
  g_assert_true (ok);

  m_eos = load_model (at_eos);
  m_saved = load_model (saved);
  g_assert_cmpmem (m_saved->flat, sizeof (float) * m_saved->n_params, m_eos->flat,
                   sizeof (float) * m_eos->n_params);
  {
    double start = offline_loss (initial, &sig, NULL), kept = offline_loss (m_eos, &sig, NULL);

    g_test_message ("offline loss: start %.3f, kept weights %.3f", start, kept);
    g_assert_cmpfloat (kept, <, 2 * start);
  }
  assert_labeller_runs_file (run, &sig, at_eos);

  ph_model_unref (initial);
  ph_model_unref (m_eos);
  ph_model_unref (m_saved);
  run_free (run);
  g_remove (phn);
  g_remove (at_eos);
  g_remove (saved);
  g_free (phn);
  g_free (at_eos);
  g_free (saved);
  g_free (props);
  signal_clear (&sig);
}

/* Ordinary adaptation (test_save_and_reload's settings) is never taken for divergence. */
static void
test_no_false_divergence (void)
{
  Signal sig = make_signal (6.0, 17);
  gchar *phn = write_phn (&sig, "calm.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s learning-rate=0.01 publish-interval=1",
                                  phn);
  Run *run = chain_new (props);

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_null (strstr (run->warning_text->str, "diverged"));
  g_assert_cmpuint (msg_u64 (last_msg (run), "updates"), >, 10);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* A model whose recurrent weights are bfloat16 values (as the default model's) is
 * published and saved in that storage, so the labeller keeps the step that reads them
 * as 16-bit values; the labeller runs what was saved. A float model stays float
 * (test_save_and_reload). */
static void
test_keeps_bf16_storage (void)
{
  Signal sig = make_signal (4.0, 11);
  gchar *phn = write_phn (&sig, "bf16.PHN");
  gchar *rounded_path = temp_path ("rounded.phm"), *saved_path = temp_path ("rounded-eos.phm");
  gchar *props = g_strdup_printf ("labels-location=%s save-location=%s learning-rate=0.01 "
                                  "publish-interval=1", phn, saved_path);
  PhModel *initial = load_model (fx.model), *saved;
  GError *error = NULL;
  Run *run;

  ph_model_round_recurrent_to_bf16 (initial);
  g_assert_true (ph_model_save_file (initial, rounded_path, &error));
  g_assert_no_error (error);
  run = chain_new_with_model (rounded_path, props);
  push_range (run, &sig, 0, sig.n);
  g_assert_true (wait_adapt_message (run));
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);

  saved = load_model (saved_path);
  g_assert_true (ph_model_recurrent_is_bf16 (saved));
  g_assert_cmpint (memcmp (saved->flat, initial->flat, sizeof (float) * initial->n_params), !=, 0);
  assert_labeller_runs_file (run, &sig, saved_path);

  run_free (run);
  ph_model_unref (saved);
  ph_model_unref (initial);
  g_remove (phn);
  g_remove (rounded_path);
  g_remove (saved_path);
  g_free (phn);
  g_free (rounded_path);
  g_free (saved_path);
  g_free (props);
  signal_clear (&sig);
}

/* mode=self trains on confident frames; with a threshold nothing reaches, nothing. */
static void
test_self_mode (void)
{
  Signal sig = make_signal (4.0, 7);
  Run *run = chain_new ("mode=self confidence-threshold=0 anchor-weight=0.1 publish-interval=1");
  Run *none = chain_new ("mode=self confidence-threshold=1");

  Run *still = chain_new ("mode=self confidence-threshold=0 learning-rate=1e-9 "
                          "publish-interval=1");

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (msg_u64 (last_msg (run), "updates"), >, 10);
  push_range (none, &sig, 0, sig.n);
  push_eos (none);
  g_assert_cmpuint (none->adapt_msgs->len, ==, 0);

  /* Progress in self mode: no accuracy (it would be measured against the model's own
   * targets: always 1), but the agreement of the labeller with the frozen starting
   * model, which is 1 while the weights hardly move. */
  push_range (still, &sig, 0, sig.n);
  push_eos (still);
  g_assert_cmpuint (still->adapt_msgs->len, >, 10);
  for (guint i = 0; i < still->adapt_msgs->len; i++) {
    const GstStructure *m = g_ptr_array_index (still->adapt_msgs, i);
    double agreement = -1;

    g_assert_false (gst_structure_has_field (m, "accuracy"));
    if (msg_u64 (m, "compared-frames") == 0) {
      g_assert_false (gst_structure_has_field (m, "agreement"));
      continue;
    }
    g_assert_true (gst_structure_get_double (m, "agreement", &agreement));
    g_assert_cmpfloat (agreement, >=, 0.99);
  }
  for (guint i = 0; i < run->adapt_msgs->len; i++)
    g_assert_false (gst_structure_has_field (g_ptr_array_index (run->adapt_msgs, i),
                                             "accuracy"));
  run_free (run);
  run_free (none);
  run_free (still);
  signal_clear (&sig);
}

/* mode=self with a model that carries a phone LM takes its targets from the labeller's
 * decoder, not from the per-frame argmax: the adapted weights differ from those the
 * argmax targets give, and every frame is still trained on once the stream ends (the
 * frames the decoder holds back are decided at EOS). */
static void
test_self_mode_decodes (void)
{
  Signal sig = make_signal (3.0, 9);
  gchar *with_lm = g_build_filename (fx.dir, "with-lm.phm", NULL);
  gchar *saved_lm = g_build_filename (fx.dir, "self-lm.phm", NULL);
  gchar *saved_plain = g_build_filename (fx.dir, "self-plain.phm", NULL);
  const char *props = "mode=self confidence-threshold=0 anchor-weight=0.1 publish-interval=1";
  gchar *p1 = g_strdup_printf ("%s save-location=%s", props, saved_lm);
  gchar *p2 = g_strdup_printf ("%s save-location=%s", props, saved_plain);
  test_copy_model_with_lm (fx.model, with_lm);
  Run *decoded = chain_new_with_model (with_lm, p1);
  Run *plain = chain_new_with_model (fx.model, p2);

  push_range (decoded, &sig, 0, sig.n);
  push_eos (decoded);
  push_range (plain, &sig, 0, sig.n);
  push_eos (plain);
  g_assert_cmpuint (msg_u64 (last_msg (decoded), "frames-trained"), ==,
                    msg_u64 (last_msg (plain), "frames-trained"));
  g_assert_cmpuint (msg_u64 (last_msg (decoded), "frames-trained"), >, 250);
  PhModel *a = load_model (saved_lm), *b = load_model (saved_plain);
  g_assert_nonnull (a->lm);
  g_assert_true (memcmp (a->flat, b->flat, a->n_params * sizeof (float)) != 0);
  ph_model_unref (a);
  ph_model_unref (b);
  run_free (decoded);
  run_free (plain);
  g_remove (saved_lm);
  g_remove (saved_plain);
  g_remove (with_lm);
  g_free (saved_lm);
  g_free (saved_plain);
  g_free (with_lm);
  g_free (p1);
  g_free (p2);
  signal_clear (&sig);
}

/* Real speech for the prompted mode (which trains only on a reading that matches its
 * prompt, as a trained model can tell): samples/speech.wav at RATE, no labels. FALSE
 * when PH_SOURCE_ROOT is not set. */
static gboolean
sample_speech (Signal *sig, gchar **model)
{
  const gchar *root = g_getenv ("PH_SOURCE_ROOT");
  g_autofree gchar *path = root ? g_build_filename (root, "samples", "speech.wav", NULL) : NULL;
  PhAudio audio = { 0 };
  GError *error = NULL;

  if (!root)
    return FALSE;
  g_assert_true (ph_audio_read (path, &audio, &error));
  g_assert_no_error (error);
  ph_audio_resample (&audio, RATE);
  *sig = (Signal) { g_new (gint16, audio.n_samples), audio.n_samples,
                    g_array_new (FALSE, FALSE, sizeof (PhLabel)) };
  for (gsize i = 0; i < audio.n_samples; i++)
    sig->samples[i] = (gint16) CLAMP (lrintf (audio.samples[i] * 32768.0f), -32768, 32767);
  ph_audio_clear (&audio);
  *model = g_build_filename (root, "models", "default.phm", NULL);
  return TRUE;
}

#define SAMPLE_PROMPT "mode=prompted prompt-text=\"The number you have dialed is not in " \
  "service. Please check the number and try again.\" "

/* mode=prompted: the reading is aligned to the prompt and trained on. */
static void
test_prompted_mode (void)
{
  Signal sig;
  g_autofree gchar *model = NULL;
  Run *run;
  const GstStructure *s;
  double confidence = -1;

  if (!sample_speech (&sig, &model)) {
    g_test_skip ("PH_SOURCE_ROOT is not set: samples/speech.wav not found");
    return;
  }
  run = chain_new_with_model (model, SAMPLE_PROMPT "publish-interval=1000");
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  s = last_msg (run);
  g_assert_true (gst_structure_get_double (s, "alignment-confidence", &confidence));
  g_assert_cmpfloat (confidence, >=, 0);
  g_assert_cmpuint (msg_u64 (s, "updates"), >, 5);
  g_assert_cmpuint (msg_u64 (s, "targeted-frames"), >, 200);
  run_free (run);

  /* Published after every update: the message after the last update has measured
   * nothing, and says so by having no accuracy (not -1). */
  run = chain_new_with_model (model, SAMPLE_PROMPT "publish-interval=1");
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->adapt_msgs->len, >, 5);
  s = last_msg (run);
  g_assert_cmpuint (msg_u64 (s, "targeted-frames"), ==, 0);
  for (guint i = 0; i < run->adapt_msgs->len; i++) {
    const GstStructure *m = g_ptr_array_index (run->adapt_msgs, i);
    double accuracy = -1;

    if (msg_u64 (m, "targeted-frames") == 0) {
      g_assert_false (gst_structure_has_field (m, "accuracy"));
    } else {
      g_assert_true (gst_structure_get_double (m, "accuracy", &accuracy));
      g_assert_cmpfloat (accuracy, >=, 0.0);
      g_assert_cmpfloat (accuracy, <=, 1.0);
    }
  }
  run_free (run);
  signal_clear (&sig);
}

/* ---- bad inputs ---- */

/* Starts a lone lstmadapt with `props`; returns the error text (or NULL). */
static gchar *
start_error (const char *props)
{
  gchar *desc = g_strdup_printf ("lstmadapt %s", props);
  GstElement *element = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_bus_new ();
  GstStateChangeReturn ret;
  GstMessage *msg;
  gchar *text = NULL;

  gst_object_ref_sink (element);
  gst_element_set_bus (element, bus);
  ret = gst_element_set_state (element, GST_STATE_PAUSED);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    GError *error = NULL;

    gst_message_parse_error (msg, &error, NULL);
    if (!text)
      text = g_strdup (error->message);
    g_error_free (error);
    gst_message_unref (msg);
  }
  if (text)
    g_assert_cmpint (ret, ==, GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (element);
  gst_object_unref (bus);
  g_free (desc);
  return text;
}

static void
test_bad_labels_file (void)
{
  gchar *missing = temp_path ("no-such.PHN");
  gchar *bad = temp_path ("bad.PHN");
  gchar *props, *text;

  props = g_strdup_printf ("labels-location=%s", missing);
  text = start_error (props);
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, missing));
  g_free (text);
  g_free (props);

  g_assert_true (g_file_set_contents (bad, "0 1600 h#\n1600 3200 zzz\n", -1, NULL));
  props = g_strdup_printf ("labels-location=%s", bad);
  text = start_error (props);
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, bad));
  g_assert_nonnull (strstr (text, "zzz"));
  g_free (text);
  g_free (props);

  /* File bytes that are not UTF-8 reach the message escaped (PyGObject's parse_error()
   * raised UnicodeDecodeError on the raw bytes). */
  g_assert_true (g_file_set_contents (bad, "0 1600 h#\n1600 3200 \xe9t\xe9\x1b[31m\n", -1,
                                      NULL));
  props = g_strdup_printf ("labels-location=%s", bad);
  text = start_error (props);
  g_assert_nonnull (text);
  g_test_message ("%s", text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_null (strchr (text, '\x1b'));
  g_assert_nonnull (strstr (text, "\\xE9t\\xE9\\x1B[31m"));
  g_free (text);
  g_free (props);

  g_assert_true (g_file_set_contents (bad, "0 3200 h#\n1600 4800 aa\n", -1, NULL));
  props = g_strdup_printf ("labels-location=%s", bad);
  text = start_error (props);
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, bad));
  g_free (text);
  g_free (props);

  /* A FIFO is refused at once (it blocked forever), a device is never read (/dev/zero
   * took 2 GB). */
  g_remove (bad);
  g_assert_cmpint (mkfifo (bad, 0600), ==, 0);
  props = g_strdup_printf ("labels-location=%s", bad);
  text = start_error (props);
  g_assert_nonnull (strstr (text, "FIFO"));
  g_free (text);
  g_free (props);
  text = start_error ("labels-location=/dev/null");
  g_assert_nonnull (strstr (text, "character device"));
  g_free (text);

  g_remove (bad);
  g_free (bad);
  g_free (missing);
}

/* On a tee branch after the labeller (`lstmphonemes ! tee ! queue ! lstmadapt`), the
 * context query still finds it. */
static void
test_tee_branch (void)
{
  Signal sig = make_signal (3.0, 15);
  gchar *phn = write_phn (&sig, "tee.PHN");
  gchar *desc = g_strdup_printf ("lstmphonemes model=%s ! tee name=t ! queue ! lstmadapt "
                                 "name=a max-backlog=100000 labels-location=%s "
                                 "publish-interval=1 t. ! queue ! fakesink async=false", fx.model,
                                 phn);
  Run *run = g_new0 (Run, 1);
  GError *error = NULL;

  run_init (run);
  run->element = gst_parse_bin_from_description (desc, TRUE, &error);
  g_assert_no_error (error);
  gst_object_ref_sink (run->element);
  run->adapt = gst_bin_get_by_name (GST_BIN (run->element), "a");
  gst_element_set_bus (run->element, run->bus);
  run->h = gst_harness_new_with_element (run->element, "sink", "src");
  gst_harness_set_src_caps_str (run->h, CAPS);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  wait_eos (run);   /* the queue thread carries it: lstmadapt passes it on when done */
  g_assert_cmpuint (run->warnings, ==, 0);
  g_assert_cmpuint (msg_u64 (last_msg (run), "updates"), >, 5);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (desc);
  signal_clear (&sig);
}

/* A labels-location that cannot be read, set while playing: a warning naming it, and
 * the previous labels stay in use. */
static void
test_bad_labels_while_playing (void)
{
  Signal sig = make_signal (4.0, 16);
  gchar *phn = write_phn (&sig, "good.PHN");
  gchar *missing = temp_path ("missing-later.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s publish-interval=1000", phn);
  Run *run = chain_new (props);
  guint64 targeted;

  push_range (run, &sig, 0, sig.n / 2);
  g_object_set (run->adapt, "labels-location", missing, NULL);
  push_range (run, &sig, sig.n / 2, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_nonnull (strstr (run->warning_text->str, missing));
  targeted = msg_u64 (last_msg (run), "targeted-frames");
  g_assert_cmpuint (targeted + 10, >=, msg_u64 (last_msg (run), "frames-trained"));
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (missing);
  g_free (props);
  signal_clear (&sig);
}

/* Labels that run far beyond the audio's end, or end far before it, are refused with an
 * error at EOS (when the audio's duration was not known before) and the adapted model
 * is not written. */
static void
test_labels_past_end (void)
{
  Signal sig = make_signal (2.0, 9), longer = make_signal (6.0, 9);
  gchar *phn = write_phn (&longer, "long.PHN");
  gchar *saved = temp_path ("past-end.phm");
  gchar *props = g_strdup_printf ("labels-location=%s save-location=%s", phn, saved);
  Run *run = chain_new (props);

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 1);
  g_assert_nonnull (strstr (run->error_text->str, "audio ended"));
  g_assert_false (g_file_test (saved, G_FILE_TEST_EXISTS));
  run_free (run);
  g_free (props);

  /* Labels for the first 2 s of 6 s of audio. */
  props = g_strdup_printf ("labels-location=%s/short.PHN", fx.dir);
  g_free (phn);
  phn = write_phn (&sig, "short.PHN");
  run = chain_new (props);
  push_range (run, &longer, 0, longer.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 1);
  g_assert_nonnull (strstr (run->error_text->str, "end at 2.00 s"));
  run_free (run);
  g_remove (phn);
  g_free (saved);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
  signal_clear (&longer);
}

/* `labels` at `rate` Hz (scaled from 16 kHz; the boundaries are multiples of 320
 * samples, so exact at 22050 Hz). */
static gchar *
write_phn_at_rate (const Signal *sig, const char *name, guint rate)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  gchar *path = g_build_filename (fx.dir, name, NULL);
  GError *error = NULL;

  for (guint i = 0; i < sig->labels->len; i++) {
    PhLabel label = g_array_index (sig->labels, PhLabel, i);

    label.start = label.start / 320 * 320 * rate / RATE;
    label.end = (i + 1 == sig->labels->len ? sig->n : label.end / 320 * 320) * rate / RATE;
    g_array_append_val (labels, label);
  }
  g_assert_true (ph_labels_write_phn (path, labels, &error));
  g_assert_no_error (error);
  g_array_unref (labels);
  return path;
}

/* A 16-bit mono WAV file of `sig`. */
static gchar *
write_wav (const Signal *sig, const char *name)
{
  gchar *path = temp_path (name);
  guint32 data_size = (guint32) (sig->n * 2);
  GByteArray *bytes = g_byte_array_new ();
  guint32 u32;
  guint16 u16;

#define PUT(value, type, var) (var = (type) (value), g_byte_array_append (bytes, (const guint8 *) &var, sizeof var))
  g_byte_array_append (bytes, (const guint8 *) "RIFF", 4);
  PUT (GUINT32_TO_LE (36 + data_size), guint32, u32);
  g_byte_array_append (bytes, (const guint8 *) "WAVEfmt ", 8);
  PUT (GUINT32_TO_LE (16), guint32, u32);
  PUT (GUINT16_TO_LE (1), guint16, u16);
  PUT (GUINT16_TO_LE (1), guint16, u16);
  PUT (GUINT32_TO_LE (RATE), guint32, u32);
  PUT (GUINT32_TO_LE (RATE * 2), guint32, u32);
  PUT (GUINT16_TO_LE (2), guint16, u16);
  PUT (GUINT16_TO_LE (16), guint16, u16);
  g_byte_array_append (bytes, (const guint8 *) "data", 4);
  PUT (GUINT32_TO_LE (data_size), guint32, u32);
#undef PUT
  g_byte_array_append (bytes, (const guint8 *) sig->samples, data_size);   /* little-endian host */
  g_assert_true (g_file_set_contents (path, (const gchar *) bytes->data, bytes->len, NULL));
  g_byte_array_unref (bytes);
  return path;
}

/* Runs `desc` (a whole pipeline) to EOS or error; the error text or NULL, and the
 * number of "lstmadapt" messages. */
static gchar *
run_pipeline (const char *desc, guint *adapt_messages)
{
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  gchar *text = NULL;
  gboolean done = FALSE;

  *adapt_messages = 0;
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop (bus, 60 * GST_SECOND);

    g_assert_nonnull (msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      text = g_strdup (error->message);
      g_error_free (error);
      done = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      done = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
               gst_structure_has_name (gst_message_get_structure (msg), "lstmadapt")) {
      (*adapt_messages)++;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return text;
}

/* Labels written at another rate than the audio's (`phonemes align` writes the file's
 * rate, lstmadapt sees 16 kHz after audioresample): with labels-rate they mean the same
 * times, and the adapted model is the one 16 kHz labels give; without it they are
 * refused with an error that names labels-rate, at the first buffer when the duration
 * is known, else at EOS; nothing is written. */
static void
test_labels_rate (void)
{
  Signal sig = make_signal (4.0, 21);
  gchar *phn16 = write_phn_at_rate (&sig, "rate16.PHN", 16000);
  gchar *phn22 = write_phn_at_rate (&sig, "rate22.PHN", 22050);
  gchar *saved16 = temp_path ("rate16.phm"), *saved22 = temp_path ("rate22.phm");
  gchar *saved_bad = temp_path ("rate-bad.phm");
  gchar *props16 = g_strdup_printf ("labels-location=%s save-location=%s", phn16, saved16);
  gchar *props22 = g_strdup_printf ("labels-location=%s labels-rate=22050 save-location=%s",
                                    phn22, saved22);
  gchar *props_bad = g_strdup_printf ("labels-location=%s save-location=%s", phn22,
                                      saved_bad);
  gchar *wav = write_wav (&sig, "rate.wav");
  gchar *desc, *text, *c16 = NULL, *c22 = NULL;
  gsize n16 = 0, n22 = 0;
  guint rate = 0, messages = 0;
  Run *run;

  run = chain_new (props16);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  run_free (run);
  run = chain_new (props22);
  g_object_get (run->adapt, "labels-rate", &rate, NULL);
  g_assert_cmpuint (rate, ==, 22050);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  run_free (run);
  g_assert_true (g_file_get_contents (saved16, &c16, &n16, NULL));
  g_assert_true (g_file_get_contents (saved22, &c22, &n22, NULL));
  g_assert_cmpmem (c16, n16, c22, n22);

  /* Unknown duration (the harness): refused at EOS. */
  run = chain_new (props_bad);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 1);
  g_assert_nonnull (strstr (run->error_text->str, "labels-rate=22050"));
  g_assert_false (g_file_test (saved_bad, G_FILE_TEST_EXISTS));
  run_free (run);

  /* A file: refused at the first buffer, before anything is trained. */
  desc = g_strdup_printf ("filesrc location=%s ! wavparse ! lstmphonemes model=%s ! "
                          "lstmadapt publish-interval=1 %s ! fakesink", wav, fx.model, props_bad);
  text = run_pipeline (desc, &messages);
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "labels-rate=22050"));
  g_assert_cmpuint (messages, ==, 0);
  g_assert_false (g_file_test (saved_bad, G_FILE_TEST_EXISTS));
  g_free (text);
  g_free (desc);

  g_free (c16);
  g_free (c22);
  g_remove (phn16);
  g_remove (phn22);
  g_remove (saved16);
  g_remove (saved22);
  g_remove (wav);
  g_free (phn16);
  g_free (phn22);
  g_free (saved16);
  g_free (saved22);
  g_free (saved_bad);
  g_free (props16);
  g_free (props22);
  g_free (props_bad);
  g_free (wav);
  signal_clear (&sig);
}

/* Log lines of the lstmadapt category. */
typedef struct {
  guint update_lines;    /* DEBUG: one per weight update */
  guint publish_lines;   /* DEBUG: one per publication */
  guint buffer_lines;    /* LOG: one per buffer with a meta */
} AdaptLog;

/* Where count_adapt_log counts, or NULL. The log function is added in a subprocess of
 * the test: GStreamer keeps the lists of log functions it replaces, which valgrind
 * reports as leaks. */
static AdaptLog *adapt_log;

static void
count_adapt_log (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
                 const gchar *function, gint line, GObject *object, GstDebugMessage *message,
                 gpointer user_data)
{
  AdaptLog *count = g_atomic_pointer_get (&adapt_log);
  const gchar *text;

  (void) file, (void) function, (void) line, (void) object, (void) user_data;
  if (!count || g_strcmp0 (gst_debug_category_get_name (category), "lstmadapt") != 0)
    return;
  text = gst_debug_message_get (message);
  if (level == GST_LEVEL_DEBUG && g_str_has_prefix (text, "update ") && strstr (text, "loss"))
    g_atomic_int_inc (&count->update_lines);
  if (level == GST_LEVEL_DEBUG && g_str_has_prefix (text, "published"))
    g_atomic_int_inc (&count->publish_lines);
  if (level == GST_LEVEL_LOG && strstr (text, "buffer pts") && strstr (text, "frames"))
    g_atomic_int_inc (&count->buffer_lines);
}

/* GST_DEBUG=lstmadapt:5 shows every update and publication, :6 every buffer. */
static void
test_debug_levels (void)
{
  Signal sig = make_signal (3.0, 23);
  gchar *phn = write_phn (&sig, "debug.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s publish-interval=2", phn);
  AdaptLog count = { 0, 0, 0 };
  Run *run;

  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_remove (phn);
    g_free (phn);
    g_free (props);
    signal_clear (&sig);
    return;
  }
  gst_debug_add_log_function (count_adapt_log, NULL, NULL);
  gst_debug_remove_log_function (gst_debug_log_default);   /* quiet */
  gst_debug_set_active (TRUE);
  g_atomic_pointer_set (&adapt_log, &count);
  gst_debug_set_threshold_for_name ("lstmadapt", GST_LEVEL_LOG);
  run = chain_new (props);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  gst_debug_unset_threshold_for_name ("lstmadapt");
  g_atomic_pointer_set (&adapt_log, NULL);
  g_assert_cmpuint (count.update_lines, ==, msg_u64 (last_msg (run), "updates"));
  g_assert_cmpuint (count.publish_lines, ==, run->adapt_msgs->len);
  g_assert_cmpuint (count.buffer_lines, >=, sig.n / CHUNK - 2);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* Sets `desc` (a whole pipeline) to PAUSED; the state change result, the first error
 * and the warnings posted meanwhile. */
static GstStateChangeReturn
start_pipeline (const char *desc, gchar **error_text, GString *warnings)
{
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstStateChangeReturn ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  GstMessage *msg;

  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (pipeline, NULL, NULL, 30 * GST_SECOND);
  *error_text = NULL;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GError *error = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &error, NULL);
      if (!*error_text)
        *error_text = g_strdup (error->message);
    } else {
      gst_message_parse_warning (msg, &error, NULL);
      g_string_append_printf (warnings, "%s\n", error->message);
    }
    g_error_free (error);
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return ret;
}

/* lstmadapt that could only do nothing fails at start with an error naming the fix:
 * no lstmphonemes upstream, one with attach-meta=false, a model-name no lstmphonemes
 * has, a save-location that cannot be written, replay-holdout=1 (every segment held
 * back). mode=prompted without prompt-text
 * (which may still be set while playing) warns at start. */
static void
test_start_checks (void)
{
  struct {
    const char *adapt;
    const char *labeller;    /* NULL: no lstmphonemes */
    const char *error;       /* NULL: starts, with a warning naming `warning` */
    const char *warning;
  } cases[] = {
    { "mode=self", NULL, "downstream of lstmphonemes", NULL },
    { "mode=self", "attach-meta=false", "attach-meta=true", NULL },
    { "mode=self model-name=beta", "model-name=alpha", "model-name=beta", NULL },
    { "mode=self save-location=/nonexistent-folder/me.phm", "", "/nonexistent-folder", NULL },
    { "mode=prompted", "", NULL, "prompt-text" },
    { "mode=prompted prompt-text=one replay-passes=2 replay-holdout=1", "", "replay-holdout",
      NULL },
    { "mode=self", "", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *labeller = cases[i].labeller
        ? g_strdup_printf ("lstmphonemes model=%s %s !", fx.model, cases[i].labeller)
        : g_strdup ("");
    gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=5 ! %s lstmadapt %s ! fakesink",
                                   labeller, cases[i].adapt);
    GString *warnings = g_string_new (NULL);
    gchar *text = NULL;
    GstStateChangeReturn ret = start_pipeline (desc, &text, warnings);

    g_test_message ("%s: %s / %s", desc, text, warnings->str);
    if (cases[i].error) {
      g_assert_cmpint (ret, ==, GST_STATE_CHANGE_FAILURE);
      g_assert_nonnull (text);
      g_assert_nonnull (strstr (text, cases[i].error));
      if (i == 2)
        g_assert_nonnull (strstr (text, "alpha"));
    } else {
      g_assert_cmpint (ret, !=, GST_STATE_CHANGE_FAILURE);
      g_assert_null (text);
      if (cases[i].warning)
        g_assert_nonnull (strstr (warnings->str, cases[i].warning));
      else
        g_assert_cmpuint (warnings->len, ==, 0);
    }
    g_free (text);
    g_string_free (warnings, TRUE);
    g_free (desc);
    g_free (labeller);
  }
}

/* Buffers without the phoneme meta (here pushed past the labeller, found by
 * model-name): a warning after the first second of audio, naming the fix. */
static void
test_no_meta_warns (void)
{
  Signal sig = make_signal (1.5, 22);
  Run *labeller = single_new_labeller ("model-name=no-meta");
  Run *adapt = single_new ("lstmadapt model-name=no-meta mode=self");

  push_range (adapt, &sig, 0, RATE / 2);
  g_assert_cmpuint (adapt->warnings, ==, 0);
  push_range (adapt, &sig, RATE / 2, sig.n);
  push_eos (adapt);
  g_assert_cmpuint (adapt->warnings, ==, 1);
  g_assert_nonnull (strstr (adapt->warning_text->str, "meta"));
  g_assert_nonnull (strstr (adapt->warning_text->str, "attach-meta=true"));
  run_free (adapt);
  run_free (labeller);
  signal_clear (&sig);
}

/* k1 / k2 of 0 are refused by the property, the old value stays; the largest values
 * work (one update at EOS). */
static void
test_k_limits (void)
{
  Signal sig = make_signal (2.0, 10);
  gchar *phn = write_phn (&sig, "k.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s k1=10000 k2=10000", phn);
  GstElement *adapt = gst_element_factory_make ("lstmadapt", NULL);
  Run *run;
  guint k1 = 0;

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*k1*");
  g_object_set (adapt, "k1", 0, NULL);
  g_test_assert_expected_messages ();
  g_object_get (adapt, "k1", &k1, NULL);
  g_assert_cmpuint (k1, ==, 20);
  gst_object_unref (adapt);

  run = chain_new (props);
  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_cmpuint (msg_u64 (last_msg (run), "updates"), ==, 1);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* Replaces the features of the meta with NaN. */
static void
poison_features (GstElement *identity, GstBuffer *buffer, gpointer data)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstPhonemeMeta");
  GstStructure *s;
  guint n = 0, dim = 0;
  float *nan_features;
  GBytes *bytes;

  (void) identity;
  (void) data;
  if (!meta)
    return;
  s = gst_custom_meta_get_structure (meta);
  gst_structure_get_uint (s, "n-frames", &n);
  gst_structure_get_uint (s, "dim", &dim);
  nan_features = g_new (float, (gsize) n * dim);
  for (gsize i = 0; i < (gsize) n * dim; i++)
    nan_features[i] = i % 3 ? NAN : INFINITY;
  bytes = g_bytes_new_take (nan_features, sizeof (float) * n * dim);
  gst_structure_set (s, "features", G_TYPE_BYTES, bytes, NULL);
  g_bytes_unref (bytes);
}

/* NaN features in the meta: a warning, no crash, the model stays finite (the saved
 * file loads: the loader rejects non-finite values). */
static void
test_nan_features (void)
{
  Signal sig = make_signal (3.0, 11);
  gchar *phn = write_phn (&sig, "nan.PHN");
  gchar *saved = temp_path ("nan.phm");
  gchar *desc = g_strdup_printf ("lstmphonemes name=l model=%s ! identity name=i "
                                 "signal-handoffs=true ! lstmadapt name=a labels-location=%s "
                                 "save-location=%s", fx.model, phn, saved);
  Run *run = g_new0 (Run, 1);
  GstElement *identity;
  PhModel *model;
  GError *error = NULL;

  run_init (run);
  run->element = gst_parse_bin_from_description (desc, TRUE, &error);
  g_assert_no_error (error);
  gst_object_ref_sink (run->element);
  identity = gst_bin_get_by_name (GST_BIN (run->element), "i");
  g_signal_connect (identity, "handoff", G_CALLBACK (poison_features), NULL);
  gst_object_unref (identity);
  run->adapt = gst_bin_get_by_name (GST_BIN (run->element), "a");
  gst_element_set_bus (run->element, run->bus);
  run->h = gst_harness_new_with_element (run->element, "sink", "src");
  gst_harness_set_src_caps_str (run->h, CAPS);

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  g_assert_cmpuint (run->errors, ==, 0);
  g_assert_nonnull (strstr (run->warning_text->str, "non-finite"));
  model = load_model (saved);
  ph_model_unref (model);
  run_free (run);
  g_remove (phn);
  g_remove (saved);
  g_free (phn);
  g_free (saved);
  g_free (desc);
  signal_clear (&sig);
}

/* Another thread changes every property while audio flows; flushes and disconts in
 * between. No crash, no deadlock, no error. */
typedef struct {
  GstElement *adapt;
  gint stop;
} Twiddler;

static gpointer
twiddle_properties (gpointer data)
{
  Twiddler *tw = data;
  guint i = 0;

  while (!g_atomic_int_get (&tw->stop)) {
    g_object_set (tw->adapt, "k1", 1 + i % 7, "k2", 1 + i % 5, "schedule", i % 3,
                  "learning-rate", 1e-3 * (1 + i % 3), "optimizer", i % 3,
                  "clip", (float) (i % 2), "anchor-weight", 0.01 * (i % 2),
                  "mode", i % 3, "confidence-threshold", 0.1 * (i % 10),
                  "max-backlog", 20 + i % 300, "publish-interval", 1 + i % 4,
                  "enabled", i % 5 != 0, "prompt-text", i % 2 ? "hh ax l ow" : NULL,
                  NULL);
    i++;
    g_usleep (500);
  }
  return NULL;
}

static void
test_properties_while_playing (void)
{
  Signal sig = make_signal (8.0, 12);
  gchar *phn = write_phn (&sig, "props.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s", phn);
  Run *run = chain_new (props);
  Twiddler tw = { run->adapt, 0 };
  GThread *thread = g_thread_new ("twiddler", twiddle_properties, &tw);

  for (guint round = 0; round < 3; round++) {
    push_range (run, &sig, 0, sig.n / 2);
    push_flush (run);
    push_range (run, &sig, sig.n / 2, sig.n);
  }
  g_object_set (run->adapt, "labels-location", phn, NULL);
  push_eos (run);
  g_atomic_int_set (&tw.stop, 1);
  g_thread_join (thread);
  g_assert_cmpuint (run->errors, ==, 0);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* Setting the state to NULL while a long training step runs (sentence schedule over
 * 1000 frames, a big backlog): returns, frees everything. */
static void
test_null_while_training (void)
{
  Signal sig = make_signal (20.0, 13);
  gchar *phn = write_phn (&sig, "null.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s schedule=framewise max-backlog=100000",
                                  phn);

  for (guint round = 0; round < 2; round++) {
    Run *run = chain_new (props);

    push_range (run, &sig, 0, sig.n);
    if (round == 1) {
      gboolean ok;

      g_signal_emit_by_name (run->adapt, "save", NULL, &ok);
      g_assert_false (ok);   /* no save-location */
    }
    run_free (run);   /* tears down while the trainer is far behind */
  }
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* How the stream is cut in the middle in the run-boundary tests. */
typedef enum {
  CUT_NONE,
  CUT_DISCONT,     /* a DISCONT buffer, timestamps continuous */
  CUT_RESET,       /* lstmphonemes' `reset` action */
} Cut;

/* Updates of a sentence-schedule adaptation (one per sequence) over 3 s of audio cut in
 * the middle by `cut`, with lstmphonemes' reset-on-discont as given. */
static guint64
sentence_updates (Cut cut, gboolean reset_on_discont)
{
  Signal sig = make_signal (3.0, 31);
  gchar *phn = write_phn (&sig, "runs.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s schedule=sentence publish-interval=1",
                                  phn);
  Run *run = chain_new (props);
  gsize mid = (sig.n / 2 / CHUNK) * CHUNK;
  GstBuffer *buffer;
  guint64 updates;

  g_object_set (run->labeller, "reset-on-discont", reset_on_discont, NULL);
  push_range (run, &sig, 0, mid);
  if (cut == CUT_RESET)
    g_signal_emit_by_name (run->labeller, "reset");
  buffer = audio_buffer (&sig, mid, CHUNK);
  if (cut == CUT_DISCONT)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  g_assert_cmpint (gst_harness_push (run->h, buffer), ==, GST_FLOW_OK);
  push_range (run, &sig, mid + CHUNK, sig.n);
  push_eos (run);
  updates = msg_u64 (last_msg (run), "updates");
  g_assert_cmpuint (run->errors, ==, 0);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
  return updates;
}

/* Where lstmphonemes' LSTM state runs on, the adapter's sequence does too; where it was
 * zeroed, the sequence ends. The adapter used to guess from DISCONT flags and timestamp
 * gaps: it ended the sequence at a DISCONT that reset-on-discont=false keeps in one run,
 * and missed the reset action, which zeroes the state without either. */
static void
test_runs_follow_the_labeller (void)
{
  g_assert_cmpuint (sentence_updates (CUT_NONE, TRUE), ==, 1);
  g_assert_cmpuint (sentence_updates (CUT_DISCONT, TRUE), ==, 2);
  g_assert_cmpuint (sentence_updates (CUT_DISCONT, FALSE), ==, 1);
  g_assert_cmpuint (sentence_updates (CUT_RESET, TRUE), ==, 2);
}

/* EOS in the middle of a window: the partial window is trained (one update more). */
static void
test_eos_mid_window (void)
{
  Signal sig = make_signal (3.05, 14);
  gchar *phn = write_phn (&sig, "mid.PHN");
  gchar *props = g_strdup_printf ("labels-location=%s k1=50 k2=50 publish-interval=1000", phn);
  Run *run = chain_new (props);
  guint64 updates, frames;

  push_range (run, &sig, 0, sig.n);
  push_eos (run);
  updates = msg_u64 (last_msg (run), "updates");
  frames = msg_u64 (last_msg (run), "frames-trained");
  g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " updates", frames,
                  updates);
  g_assert_cmpuint (frames % 50, !=, 0);
  g_assert_cmpuint (updates, ==, (frames + 49) / 50);
  run_free (run);
  g_remove (phn);
  g_free (phn);
  g_free (props);
  signal_clear (&sig);
}

/* ---- setup ---- */

static void
make_fixture (void)
{
  PhFeatureConfig features;
  PhLstmShape shape = { 0, 16, 1, PH_NUM_PHONES, 1 };
  GError *error = NULL;
  PhModel *model;

  fx.dir = g_dir_make_tmp ("lstmadapt-test-XXXXXX", &error);
  g_assert_no_error (error);
  fx.model = g_build_filename (fx.dir, "model.phm", NULL);
  ph_feature_config_init (&features, RATE);
  shape.input_dim = ph_feature_config_dim (&features);
  model = ph_model_new (&features, &shape, &error);
  g_assert_no_error (error);
  ph_model_init_random (model, 7);
  g_assert_true (ph_model_save_file (model, fx.model, &error));
  ph_model_unref (model);
}

int
main (int argc, char **argv)
{
  const gchar *plugin_dir = g_getenv ("PH_GST_PLUGIN_DIR");
  int ret;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  if (plugin_dir)
    gst_registry_scan_path (gst_registry_get (), plugin_dir);
  if (!gst_registry_check_feature_version (gst_registry_get (), "lstmadapt", 0, 0, 0)) {
    g_printerr ("lstmadapt not found: set PH_GST_PLUGIN_DIR or GST_PLUGIN_PATH\n");
    return 1;
  }
  make_fixture ();

  g_test_add_func ("/lstmadapt/passthrough", test_passthrough);
  g_test_add_func ("/lstmadapt/supervised-learns", test_supervised_learns);
  g_test_add_func ("/lstmadapt/labels-pad", test_labels_pad);
  g_test_add_func ("/lstmadapt/divergence-stops-and-keeps-good-weights",
                   test_divergence_stops_and_keeps_good_weights);
  g_test_add_func ("/lstmadapt/no-false-divergence", test_no_false_divergence);
  g_test_add_func ("/lstmadapt/drops-when-behind", test_drops_when_behind);
  g_test_add_func ("/lstmadapt/save-and-reload", test_save_and_reload);
  g_test_add_func ("/lstmadapt/keeps-bf16-storage", test_keeps_bf16_storage);
  g_test_add_func ("/lstmadapt/self-mode", test_self_mode);
  g_test_add_func ("/lstmadapt/self-mode-decodes", test_self_mode_decodes);
  g_test_add_func ("/lstmadapt/prompted-mode", test_prompted_mode);
  g_test_add_func ("/lstmadapt/bad-labels-file", test_bad_labels_file);
  g_test_add_func ("/lstmadapt/labels-past-end", test_labels_past_end);
  g_test_add_func ("/lstmadapt/bad-labels-while-playing", test_bad_labels_while_playing);
  g_test_add_func ("/lstmadapt/tee-branch", test_tee_branch);
  g_test_add_func ("/lstmadapt/k-limits", test_k_limits);
  g_test_add_func ("/lstmadapt/nan-features", test_nan_features);
  g_test_add_func ("/lstmadapt/properties-while-playing", test_properties_while_playing);
  g_test_add_func ("/lstmadapt/null-while-training", test_null_while_training);
  g_test_add_func ("/lstmadapt/eos-mid-window", test_eos_mid_window);
  g_test_add_func ("/lstmadapt/labels-rate", test_labels_rate);
  g_test_add_func ("/lstmadapt/start-checks", test_start_checks);
  g_test_add_func ("/lstmadapt/no-meta-warns", test_no_meta_warns);
  g_test_add_func ("/lstmadapt/debug-levels", test_debug_levels);
  g_test_add_func ("/lstmadapt/runs-follow-the-labeller", test_runs_follow_the_labeller);
  ret = g_test_run ();

  g_remove (fx.model);
  g_rmdir (fx.dir);
  g_free (fx.model);
  g_free (fx.dir);
  return ret;
}
