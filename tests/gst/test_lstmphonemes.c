/* test_lstmphonemes.c: GstHarness tests of the lstmphonemes element.
 *
 * The element's output is checked against an independent path: the core labeller run
 * directly on the whole signal (the same path `phonemes label` uses), with timestamps
 * computed here from the documented rule (anchor + frame * hop / rate). The meta and
 * the messages are read with plain GStreamer API only (gst_buffer_get_custom_meta,
 * GstStructure), as an application that does not link this project would. */
#include <glib/gstdio.h>
#include <gmodule.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#include "phonemes.h"
#include "../test_common.h"
#include "phonemes-meta.h"

#define RATE 16000
#define HOP 160
#define CAPS_S16 "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved"
#define CAPS_F32 "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved"
#define CAPS_S16_8K "audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved"
#define CAPS_S16_44K "audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved"

/* Model files made once in main(), read-only afterwards. */
typedef struct {
  gchar *dir;
  gchar *model_a;     /* 16 kHz, seed 1 */
  gchar *model_b;     /* 16 kHz, seed 2, same layout */
  gchar *model_8k;    /* 8 kHz */
  gchar *model_lm;    /* model_a with a phone LM (version 2): decoded by default */
  gchar *bad_model;   /* not a model file */
  gchar *plugin_dir;
} Models;

static Models models;

/* ---- test audio ---- */

static guint32
lcg_next (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* Speech-like test signal: 60 ms pieces of quiet noise, tones, chirps and noise bursts.
 * Samples are integers so the S16 and F32 paths see identical values. */
static gint16 *
make_audio (gsize n, guint32 seed)
{
  gint16 *x = g_new (gint16, n);
  guint32 state = seed;
  double phase = 0, freq = 300, amp = 0;
  guint kind = 0;

  for (gsize i = 0; i < n; i++) {
    double v;

    if (i % 960 == 0) {
      kind = lcg_next (&state) % 4;
      freq = 150 + lcg_next (&state) % 2500;
      amp = 500 + lcg_next (&state) % 9000;
    }
    phase += 2 * G_PI * (kind == 2 ? freq * (1 + (i % 960) / 960.0) : freq) / RATE;
    v = kind == 0 ? 0.0 : amp * sin (phase);
    v += ((double) (lcg_next (&state) % 2001) - 1000) * (kind == 3 ? 4.0 : 0.05);
    x[i] = (gint16) CLAMP (lrint (v), -32768, 32767);
  }
  return x;
}

static float *
to_float (const gint16 *x, gsize n)
{
  float *f = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    f[i] = x[i] / 32768.0f;
  return f;
}

/* ---- what the element produced ---- */

typedef struct {
  guint64 timestamp, duration, stream_time, running_time;
  gint phone;
  gchar phone39[8];
  gchar viseme[8];
  double confidence;
} Seg;

typedef struct {
  GArray *segs;          /* Seg, from "phoneme" messages */
  GArray *frame_msgs;    /* GstStructure *, "phoneme-frame" messages */
  GArray *frame_ts;      /* guint64, from the metas, in order */
  GArray *frame_phone;   /* gint */
  GArray *frame_conf;    /* double */
  GByteArray *posteriors;
  GByteArray *features;
  guint dim;
  guint metas;
  guint warnings;
  gchar *last_warning;
  guint errors;
  gchar *last_error;
} Result;

typedef struct {
  GstHarness *h;
  GstElement *element;
  GstBus *bus;
  Result res;
} Run;

static void
result_init (Result *r)
{
  memset (r, 0, sizeof *r);
  r->segs = g_array_new (FALSE, TRUE, sizeof (Seg));
  r->frame_msgs = g_array_new (FALSE, TRUE, sizeof (GstStructure *));
  r->frame_ts = g_array_new (FALSE, TRUE, sizeof (guint64));
  r->frame_phone = g_array_new (FALSE, TRUE, sizeof (gint));
  r->frame_conf = g_array_new (FALSE, TRUE, sizeof (double));
  r->posteriors = g_byte_array_new ();
  r->features = g_byte_array_new ();
}

static void
result_clear (Result *r)
{
  for (guint i = 0; i < r->frame_msgs->len; i++)
    gst_structure_free (g_array_index (r->frame_msgs, GstStructure *, i));
  g_array_unref (r->frame_msgs);
  g_array_unref (r->segs);
  g_array_unref (r->frame_ts);
  g_array_unref (r->frame_phone);
  g_array_unref (r->frame_conf);
  g_byte_array_unref (r->posteriors);
  g_byte_array_unref (r->features);
  g_free (r->last_warning);
  g_free (r->last_error);
}

static guint64
get_u64 (const GstStructure *s, const char *field)
{
  guint64 v = 0;

  g_assert_true (gst_structure_get_uint64 (s, field, &v));
  return v;
}

/* Appends the frames of buffer's phoneme meta, checking its documented layout. */
static void
collect_meta (Result *r, GstBuffer *buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstPhonemeMeta");
  const GstStructure *s;
  const GValue *ts, *phones, *indices, *conf, *post, *feat;
  guint n, dim;
  gsize size;
  gconstpointer data;

  if (!meta)
    return;
  s = gst_custom_meta_get_structure (meta);
  g_assert_cmpstr (gst_structure_get_name (s), ==, "phoneme-meta");
  g_assert_true (gst_structure_get_uint (s, "n-frames", &n));
  g_assert_true (gst_structure_get_uint (s, "dim", &dim));
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (get_u64 (s, "frame-duration"), ==, 10 * GST_MSECOND);
  if (r->dim)
    g_assert_cmpuint (dim, ==, r->dim);
  r->dim = dim;
  ts = gst_structure_get_value (s, "timestamps");
  phones = gst_structure_get_value (s, "phones");
  indices = gst_structure_get_value (s, "phone-index");
  conf = gst_structure_get_value (s, "confidence");
  g_assert_true (GST_VALUE_HOLDS_ARRAY (ts) && GST_VALUE_HOLDS_ARRAY (phones));
  g_assert_true (GST_VALUE_HOLDS_ARRAY (indices) && GST_VALUE_HOLDS_ARRAY (conf));
  g_assert_cmpuint (gst_value_array_get_size (ts), ==, n);
  g_assert_cmpuint (gst_value_array_get_size (phones), ==, n);
  for (guint i = 0; i < n; i++) {
    guint64 t = g_value_get_uint64 (gst_value_array_get_value (ts, i));
    gint phone = g_value_get_int (gst_value_array_get_value (indices, i));
    double c = g_value_get_double (gst_value_array_get_value (conf, i));

    g_assert_cmpstr (g_value_get_string (gst_value_array_get_value (phones, i)), ==,
                     ph_phone_name (phone));
    g_array_append_val (r->frame_ts, t);
    g_array_append_val (r->frame_phone, phone);
    g_array_append_val (r->frame_conf, c);
  }
  post = gst_structure_get_value (s, "posteriors");
  feat = gst_structure_get_value (s, "features");
  g_assert_true (G_VALUE_HOLDS (post, G_TYPE_BYTES) && G_VALUE_HOLDS (feat, G_TYPE_BYTES));
  data = g_bytes_get_data (g_value_get_boxed (post), &size);
  g_assert_cmpuint (size, ==, (gsize) n * PH_NUM_PHONES * 4);
  g_byte_array_append (r->posteriors, data, size);
  data = g_bytes_get_data (g_value_get_boxed (feat), &size);
  g_assert_cmpuint (size, ==, (gsize) n * dim * 4);
  g_byte_array_append (r->features, data, size);
  r->metas++;
}

static void
collect_messages (Run *run)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (run->bus))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *error = NULL;

      gst_message_parse_warning (msg, &error, NULL);
      g_free (run->res.last_warning);
      run->res.last_warning = g_strdup (error->message);
      run->res.warnings++;
      g_error_free (error);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      g_free (run->res.last_error);
      run->res.last_error = g_strdup (error->message);
      run->res.errors++;
      g_error_free (error);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
               gst_structure_has_name (s, "phoneme")) {
      Seg seg = { 0 };

      seg.timestamp = get_u64 (s, "timestamp");
      seg.duration = get_u64 (s, "duration");
      seg.stream_time = get_u64 (s, "stream-time");
      seg.running_time = get_u64 (s, "running-time");
      seg.phone = ph_phone_index (gst_structure_get_string (s, "phone"));
      g_assert_cmpint (seg.phone, >=, 0);
      g_strlcpy (seg.phone39, gst_structure_get_string (s, "phone39"), sizeof seg.phone39);
      g_assert_true (gst_structure_get_double (s, "confidence", &seg.confidence));
      g_assert_nonnull (gst_structure_get_string (s, "viseme"));
      g_strlcpy (seg.viseme, gst_structure_get_string (s, "viseme"), sizeof seg.viseme);
      g_array_append_val (run->res.segs, seg);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
               gst_structure_has_name (s, "phoneme-frame")) {
      GstStructure *copy = gst_structure_copy (s);

      g_array_append_val (run->res.frame_msgs, copy);
    }
    gst_message_unref (msg);
  }
}

/* Pulls every output buffer (collecting metas) and every bus message. */
static void
drain (Run *run)
{
  GstBuffer *buffer;

  while ((buffer = gst_harness_try_pull (run->h))) {
    collect_meta (&run->res, buffer);
    gst_buffer_unref (buffer);
  }
  collect_messages (run);
}

/* An element with `model` (NULL: none set) and the property list, in a harness with
 * `caps`, started. */
static Run *
run_new (const char *model, const char *caps, const char *first_property, ...)
{
  Run *run = g_new0 (Run, 1);
  va_list args;

  run->element = gst_element_factory_make ("lstmphonemes", NULL);
  g_assert_nonnull (run->element);
  if (model)
    g_object_set (run->element, "model", model, NULL);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (run->element), first_property, args);
  va_end (args);
  run->bus = gst_bus_new ();
  gst_element_set_bus (run->element, run->bus);
  run->h = gst_harness_new_with_element (run->element, "sink", "src");
  gst_harness_set_src_caps_str (run->h, caps);
  result_init (&run->res);
  return run;
}

static void
run_free (Run *run)
{
  gst_harness_teardown (run->h);
  gst_element_set_bus (run->element, NULL);
  gst_object_unref (run->element);   /* the harness took its own reference */
  gst_object_unref (run->bus);
  result_clear (&run->res);
  g_free (run);
}

static GstBuffer *
make_buffer (gconstpointer data, gsize bytes, GstClockTime pts, GstClockTime duration,
             gboolean discont)
{
  GstBuffer *buffer = gst_buffer_new_memdup (data, bytes);

  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = duration;
  if (discont)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  return buffer;
}

/* Pushes n samples of `x` (S16 or F32 by sample_size) in chunks, timestamped from
 * pts0 (GST_CLOCK_TIME_NONE: no timestamps), the first buffer flagged `discont`. */
static void
push_audio (Run *run, gconstpointer x, gsize sample_size, gsize n, gsize chunk,
            GstClockTime pts0, gboolean discont)
{
  for (gsize off = 0; off < n; off += chunk) {
    gsize len = MIN (chunk, n - off);
    GstClockTime pts = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;

    if (GST_CLOCK_TIME_IS_VALID (pts0)) {
      pts = pts0 + gst_util_uint64_scale (off, GST_SECOND, RATE);
      duration = pts0 + gst_util_uint64_scale (off + len, GST_SECOND, RATE) - pts;
    }
    g_assert_cmpint (gst_harness_push (run->h,
                         make_buffer ((const guint8 *) x + off * sample_size,
                                      len * sample_size, pts, duration,
                                      discont && off == 0)), ==, GST_FLOW_OK);
    drain (run);
  }
}

static void
push_eos (Run *run)
{
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_eos ()));
  drain (run);
}

/* ---- the independent reference: the core labeller on the whole signal ---- */

typedef struct {
  GArray *segs;       /* PhSegment */
  GArray *phones;     /* gint per frame */
  GByteArray *posteriors;
  GByteArray *features;
} Reference;

static void
ref_frame (const PhFrame *frame, gpointer user_data)
{
  Reference *ref = user_data;

  g_assert_cmpuint (frame->index, ==, ref->phones->len);
  g_array_append_val (ref->phones, frame->phone);
  g_byte_array_append (ref->posteriors, (const guint8 *) frame->posteriors,
                       PH_NUM_PHONES * sizeof (float));
  g_byte_array_append (ref->features, (const guint8 *) frame->features,
                       frame->dim * sizeof (float));
}

static void
ref_segment (const PhSegment *segment, gpointer user_data)
{
  Reference *ref = user_data;

  g_array_append_val (ref->segs, *segment);
}

static const PhLabellerCallbacks ref_callbacks = { ref_frame, ref_segment };

static PhModel *
load_model (const char *path)
{
  GError *error = NULL;
  PhModel *model = ph_model_load_file (path, &error);

  g_assert_no_error (error);
  return model;
}

static Reference *
reference_alloc (void)
{
  Reference *ref = g_new0 (Reference, 1);

  ref->segs = g_array_new (FALSE, TRUE, sizeof (PhSegment));
  ref->phones = g_array_new (FALSE, TRUE, sizeof (gint));
  ref->posteriors = g_byte_array_new ();
  ref->features = g_byte_array_new ();
  return ref;
}

/* Labels x[0..n) with `model`; with `switch_to`, switches to it after `switch_at`
 * samples. */
static Reference *
reference_new (const char *model_path, guint min_frames, const float *x, gsize n,
               const char *switch_to, gsize switch_at)
{
  Reference *ref = reference_alloc ();
  PhModel *model = load_model (model_path);
  PhLabeller *labeller = ph_labeller_new (model, min_frames, NULL);
  gsize first = switch_to ? switch_at : n;

  ph_labeller_push_f32 (labeller, x, first, &ref_callbacks, ref);
  if (switch_to) {
    PhModel *other = load_model (switch_to);

    ph_labeller_set_model (labeller, other);
    ph_model_unref (other);
    ph_labeller_push_f32 (labeller, x + first, n - first, &ref_callbacks, ref);
  }
  ph_labeller_flush (labeller, &ref_callbacks, ref);
  ph_labeller_free (labeller);
  ph_model_unref (model);
  return ref;
}

/* Labels x[0..n) with the model's phone-LM decoder and `insertion_penalty`. */
static Reference *
reference_decoded (const char *model_path, const float *x, gsize n, float insertion_penalty)
{
  Reference *ref = reference_alloc ();
  PhModel *model = load_model (model_path);
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);
  PhDecoderConfig config;

  ph_decoder_config_init (&config);
  config.insertion_penalty = insertion_penalty;
  g_assert_true (ph_labeller_set_segmenter (labeller, PH_SEGMENTER_DECODER, &config, NULL));
  ph_labeller_push_f32 (labeller, x, n, &ref_callbacks, ref);
  ph_labeller_flush (labeller, &ref_callbacks, ref);
  ph_labeller_free (labeller);
  ph_model_unref (model);
  return ref;
}

static void
reference_free (Reference *ref)
{
  g_array_unref (ref->segs);
  g_array_unref (ref->phones);
  g_byte_array_unref (ref->posteriors);
  g_byte_array_unref (ref->features);
  g_free (ref);
}

static GstClockTime
frame_start (GstClockTime anchor, guint64 frame)
{
  return anchor + gst_util_uint64_scale (frame * HOP, GST_SECOND, RATE);
}

/* The element's segments [first, first + count) equal the reference's, timed from
 * `anchor`, the last one clipped to `n` samples. */
static void
assert_segments_match (const GArray *segs, guint first, const Reference *ref,
                       GstClockTime anchor, gsize n)
{
  GstClockTime audio_end = anchor + gst_util_uint64_scale (n, GST_SECOND, RATE);

  g_assert_cmpuint (segs->len - first, >=, ref->segs->len);
  for (guint i = 0; i < ref->segs->len; i++) {
    const PhSegment *want = &g_array_index (ref->segs, PhSegment, i);
    const Seg *got = &g_array_index (segs, Seg, first + i);
    GstClockTime start = frame_start (anchor, want->start_frame);
    GstClockTime end = MIN (frame_start (anchor, want->start_frame + want->n_frames),
                            audio_end);

    g_assert_cmpuint (got->timestamp, ==, start);
    g_assert_cmpuint (got->duration, ==, end - start);
    g_assert_cmpint (got->phone, ==, want->phone);
    g_assert_cmpfloat (got->confidence, ==, (double) want->confidence);
  }
}

static void
assert_same_segments (const GArray *a, const GArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++) {
    const Seg *x = &g_array_index (a, Seg, i), *y = &g_array_index (b, Seg, i);

    g_assert_cmpuint (x->timestamp, ==, y->timestamp);
    g_assert_cmpuint (x->duration, ==, y->duration);
    g_assert_cmpint (x->phone, ==, y->phone);
    g_assert_cmpfloat (x->confidence, ==, y->confidence);
  }
}

static void
assert_same_meta (const Result *a, const Result *b)
{
  g_assert_cmpuint (a->frame_ts->len, ==, b->frame_ts->len);
  g_assert_cmpmem (a->frame_ts->data, a->frame_ts->len * sizeof (guint64),
                   b->frame_ts->data, b->frame_ts->len * sizeof (guint64));
  g_assert_cmpmem (a->frame_phone->data, a->frame_phone->len * sizeof (gint),
                   b->frame_phone->data, b->frame_phone->len * sizeof (gint));
  g_assert_cmpmem (a->posteriors->data, a->posteriors->len,
                   b->posteriors->data, b->posteriors->len);
  g_assert_cmpmem (a->features->data, a->features->len, b->features->data, b->features->len);
}

/* Segments tile [start, end): each begins where the previous one ended. */
static void
assert_tiling (const GArray *segs, GstClockTime start, GstClockTime end)
{
  GstClockTime at = start;

  g_assert_cmpuint (segs->len, >, 0);
  for (guint i = 0; i < segs->len; i++) {
    const Seg *seg = &g_array_index (segs, Seg, i);

    g_assert_cmpuint (seg->timestamp, ==, at);
    g_assert_cmpuint (seg->duration, >, 0);
    at += seg->duration;
  }
  g_assert_cmpuint (at, ==, end);
}

/* The metas' frames are the reference's first frames, at anchor + i * 10 ms. */
static void
assert_meta_matches (const Result *res, const Reference *ref, GstClockTime anchor)
{
  guint n = res->frame_ts->len;

  g_assert_cmpuint (n, <=, ref->phones->len);
  /* Only the frames still held back at EOS (look-ahead + delay) have no buffer. */
  g_assert_cmpuint (n + 8, >=, ref->phones->len);
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint (g_array_index (res->frame_ts, guint64, i), ==, frame_start (anchor, i));
    g_assert_cmpint (g_array_index (res->frame_phone, gint, i), ==,
                     g_array_index (ref->phones, gint, i));
  }
  g_assert_cmpmem (res->posteriors->data, res->posteriors->len, ref->posteriors->data,
                   (gsize) n * PH_NUM_PHONES * sizeof (float));
  g_assert_cmpmem (res->features->data, res->features->len, ref->features->data,
                   (gsize) n * res->dim * sizeof (float));
}

/* ---- tests ---- */

static void
test_passthrough_bit_identical (void)
{
  const gsize n = 4410;
  gint16 *x = make_audio (n, 7);
  float *f = to_float (x, n);
  struct { const char *caps; gconstpointer data; gsize bytes; gboolean meta; } cases[] = {
    { CAPS_S16, x, n * 2, TRUE }, { CAPS_F32, f, n * 4, TRUE },
    { CAPS_S16, x, n * 2, FALSE }, { CAPS_F32, f, n * 4, FALSE },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    Run *run = run_new (models.model_a, cases[c].caps, "attach-meta", cases[c].meta, NULL);
    gsize chunk = cases[c].bytes / 10;

    for (gsize off = 0; off < cases[c].bytes; off += chunk) {
      GstBuffer *in = make_buffer ((const guint8 *) cases[c].data + off, chunk,
                                   GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, FALSE);
      GstBuffer *out;
      GstMapInfo in_map, out_map;

      /* Keep a reference so the element sees a shared buffer: the samples must still
       * not be copied. */
      gst_buffer_ref (in);
      g_assert_cmpint (gst_harness_push (run->h, in), ==, GST_FLOW_OK);
      out = gst_harness_pull (run->h);
      if (!cases[c].meta)
        g_assert_true (out == in);   /* pure passthrough: the very same buffer */
      g_assert_true (gst_buffer_map (in, &in_map, GST_MAP_READ));
      g_assert_true (gst_buffer_map (out, &out_map, GST_MAP_READ));
      g_assert_true (in_map.data == out_map.data);   /* the same memory, no copy */
      g_assert_cmpmem (out_map.data, out_map.size,
                       (const guint8 *) cases[c].data + off, chunk);
      gst_buffer_unmap (in, &in_map);
      gst_buffer_unmap (out, &out_map);
      collect_meta (&run->res, out);
      gst_buffer_unref (in);
      gst_buffer_unref (out);
    }
    if (cases[c].meta)
      g_assert_cmpuint (run->res.frame_ts->len, >, 0);
    else
      g_assert_cmpuint (run->res.frame_ts->len, ==, 0);
    run_free (run);
  }
  g_free (x);
  g_free (f);
}

static void
test_buffer_sizes (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 11);
  float *f = to_float (x, n);
  Reference *ref = reference_new (models.model_a, 3, f, n, NULL, 0);
  const gsize chunks[] = { 1, 160, 441, 16000 };
  Run *first = NULL;

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++) {
    Run *run = run_new (models.model_a, CAPS_S16, NULL);

    push_audio (run, x, 2, n, chunks[c], 0, TRUE);
    push_eos (run);
    assert_segments_match (run->res.segs, 0, ref, 0, n);
    g_assert_cmpuint (run->res.segs->len, ==, ref->segs->len);
    assert_tiling (run->res.segs, 0, GST_SECOND);
    assert_meta_matches (&run->res, ref, 0);
    if (first) {
      assert_same_segments (run->res.segs, first->res.segs);
      assert_same_meta (&run->res, &first->res);
      run_free (run);
    } else {
      first = run;
    }
  }
  run_free (first);
  reference_free (ref);
  g_free (x);
  g_free (f);
}

/* A 10 s buffer gives what 1 s buffers give; empty buffers change nothing. */
static void
test_long_and_empty_buffers (void)
{
  const gsize n = 10 * RATE;
  gint16 *x = make_audio (n, 12);
  Run *whole = run_new (models.model_a, CAPS_S16, NULL);
  Run *pieces = run_new (models.model_a, CAPS_S16, NULL);

  push_audio (whole, x, 2, n, n, 0, TRUE);
  push_eos (whole);
  for (gsize off = 0; off < n; off += RATE) {
    g_assert_cmpint (gst_harness_push (pieces->h, gst_buffer_new ()), ==, GST_FLOW_OK);
    push_audio (pieces, x + off, 2, RATE, RATE,
                gst_util_uint64_scale (off, GST_SECOND, RATE), off == 0);
  }
  push_eos (pieces);
  assert_same_segments (whole->res.segs, pieces->res.segs);
  assert_tiling (whole->res.segs, 0, 10 * GST_SECOND);
  g_assert_cmpuint (whole->res.frame_ts->len, ==, pieces->res.frame_ts->len);
  run_free (whole);
  run_free (pieces);
  g_free (x);
}

static void
test_timestamps (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (n, 13);
  float *f = to_float (x, n);
  Reference *ref = reference_new (models.model_a, 3, f, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  Run *no_pts = run_new (models.model_a, CAPS_S16, NULL);
  GstSegment segment;

  /* Buffers from 3 s in a segment that starts at 3 s and maps to stream time 100 s. */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = 3 * GST_SECOND;
  segment.time = 100 * GST_SECOND;
  segment.position = segment.start;
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_segment (&segment)));
  push_audio (run, x, 2, n, 441, 3 * GST_SECOND, TRUE);
  push_eos (run);
  assert_segments_match (run->res.segs, 0, ref, 3 * GST_SECOND, n);
  assert_tiling (run->res.segs, 3 * GST_SECOND, 3 * GST_SECOND + GST_SECOND / 2);
  for (guint i = 0; i < run->res.segs->len; i++) {
    const Seg *seg = &g_array_index (run->res.segs, Seg, i);

    g_assert_cmpuint (seg->running_time, ==, seg->timestamp - 3 * GST_SECOND);
    g_assert_cmpuint (seg->stream_time, ==, seg->timestamp - 3 * GST_SECOND + 100 * GST_SECOND);
  }
  assert_meta_matches (&run->res, ref, 3 * GST_SECOND);

  /* Without timestamps the frame clock starts at 0. */
  push_audio (no_pts, x, 2, n, 441, GST_CLOCK_TIME_NONE, FALSE);
  push_eos (no_pts);
  assert_segments_match (no_pts->res.segs, 0, ref, 0, n);
  assert_tiling (no_pts->res.segs, 0, GST_SECOND / 2);
  run_free (run);
  run_free (no_pts);
  reference_free (ref);
  g_free (x);
  g_free (f);
}

/* DISCONT reports the pending segment, resets the LSTM and re-anchors on the PTS. */
static void
test_discont_resets (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (2 * n, 14);
  float *f = to_float (x, 2 * n);
  Reference *ref1 = reference_new (models.model_a, 3, f, n, NULL, 0);
  Reference *ref2 = reference_new (models.model_a, 3, f + n, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  guint split;

  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_audio (run, x + n, 2, n, 441, 10 * GST_SECOND, TRUE);
  push_eos (run);
  split = ref1->segs->len;
  g_assert_cmpuint (run->res.segs->len, ==, ref1->segs->len + ref2->segs->len);
  assert_segments_match (run->res.segs, 0, ref1, 0, n);
  assert_segments_match (run->res.segs, split, ref2, 10 * GST_SECOND, n);
  g_array_set_size (run->res.segs, split);
  assert_tiling (run->res.segs, 0, GST_SECOND / 2);
  run_free (run);

  /* reset-on-discont=false: the state carries on, only the time is re-anchored so
   * that the discont buffer's first sample is at its PTS. */
  run = run_new (models.model_a, CAPS_S16, "reset-on-discont", FALSE, NULL);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_audio (run, x + n, 2, n, 441, 10 * GST_SECOND, TRUE);
  push_eos (run);
  {
    Reference *whole = reference_new (models.model_a, 3, f, 2 * n, NULL, 0);
    guint last = run->res.frame_ts->len - 1;

    g_assert_cmpuint (run->res.segs->len, ==, whole->segs->len);
    g_assert_cmpuint (g_array_index (run->res.frame_ts, guint64, last), ==,
                      frame_start (10 * GST_SECOND - GST_SECOND / 2, last));
    g_assert_cmpmem (run->res.posteriors->data, run->res.posteriors->len,
                     whole->posteriors->data, run->res.posteriors->len);
    reference_free (whole);
  }
  run_free (run);
  reference_free (ref1);
  reference_free (ref2);
  g_free (x);
  g_free (f);
}

/* FLUSH drops what is pending; the run after it starts from a zero state. */
static void
test_flush_resets (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (2 * n, 15);
  float *f = to_float (x, 2 * n);
  Reference *ref1 = reference_new (models.model_a, 3, f, n, NULL, 0);
  Reference *ref2 = reference_new (models.model_a, 3, f + n, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  GstSegment segment;
  guint before;

  push_audio (run, x, 2, n, 441, 0, TRUE);
  before = run->res.segs->len;
  g_assert_cmpuint (before, <, ref1->segs->len);   /* the last one is still pending */
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (run->h, gst_event_new_segment (&segment)));
  drain (run);
  g_assert_cmpuint (run->res.segs->len, ==, before);   /* dropped, not posted */
  push_audio (run, x + n, 2, n, 441, 0, FALSE);
  push_eos (run);
  assert_segments_match (run->res.segs, before, ref2, 0, n);
  g_assert_cmpuint (run->res.segs->len - before, ==, ref2->segs->len);
  run_free (run);
  reference_free (ref1);
  reference_free (ref2);
  g_free (x);
  g_free (f);
}

typedef struct {
  gint seq;
  gint last_segment_seq;
  gint eos_seq;
} Order;

static GstBusSyncReply
order_bus_handler (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Order *order = user_data;

  (void) bus;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
      gst_structure_has_name (gst_message_get_structure (msg), "phoneme"))
    order->last_segment_seq = ++order->seq;
  return GST_BUS_PASS;
}

static GstPadProbeReturn
order_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Order *order = user_data;

  (void) pad;
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    order->eos_seq = ++order->seq;
  return GST_PAD_PROBE_OK;
}

/* EOS: the held-back frames and the last segment are posted before EOS leaves. */
static void
test_eos_flush (void)
{
  const gsize n = RATE / 2 + 77;
  gint16 *x = make_audio (n, 16);
  float *f = to_float (x, n);
  Reference *ref = reference_new (models.model_a, 3, f, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  Order order = { 0, 0, 0 };
  GstPad *src = gst_element_get_static_pad (run->element, "src");

  gst_bus_set_sync_handler (run->bus, order_bus_handler, &order, NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, order_eos_probe, &order, NULL);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  g_assert_cmpuint (run->res.segs->len, <, ref->segs->len);
  push_eos (run);
  g_assert_cmpint (order.last_segment_seq, >, 0);
  g_assert_cmpint (order.eos_seq, >, order.last_segment_seq);
  g_assert_cmpuint (run->res.segs->len, ==, ref->segs->len);
  assert_segments_match (run->res.segs, 0, ref, 0, n);
  assert_tiling (run->res.segs, 0, gst_util_uint64_scale (n, GST_SECOND, RATE));
  gst_bus_set_sync_handler (run->bus, NULL, NULL, NULL);
  gst_object_unref (src);
  run_free (run);
  reference_free (ref);
  g_free (x);
  g_free (f);
}

static void
test_message_fields (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (n, 17);
  float *f = to_float (x, n);
  Reference *ref = reference_new (models.model_a, 3, f, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, "frame-messages", TRUE, NULL);
  GArray *frames;

  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_eos (run);
  frames = run->res.frame_msgs;
  g_assert_cmpuint (frames->len, ==, ref->phones->len);
  for (guint i = 0; i < frames->len; i++) {
    const GstStructure *s = g_array_index (frames, GstStructure *, i);
    const GValue *post = gst_structure_get_value (s, "posteriors");
    const float *want = (const float *) ref->posteriors->data + (gsize) i * PH_NUM_PHONES;
    gint phone = ph_phone_index (gst_structure_get_string (s, "phone"));
    double confidence, sum = 0;

    g_assert_cmpuint (get_u64 (s, "timestamp"), ==, frame_start (0, i));
    g_assert_cmpuint (get_u64 (s, "running-time"), ==, frame_start (0, i));
    g_assert_cmpuint (get_u64 (s, "duration"), ==,
                      MIN (frame_start (0, i + 1), GST_SECOND / 2) - frame_start (0, i));
    g_assert_cmpint (phone, ==, g_array_index (ref->phones, gint, i));
    g_assert_true (gst_structure_get_double (s, "confidence", &confidence));
    g_assert_cmpfloat (confidence, ==, (double) want[phone]);
    g_assert_true (GST_VALUE_HOLDS_ARRAY (post));
    g_assert_cmpuint (gst_value_array_get_size (post), ==, PH_NUM_PHONES);
    for (guint k = 0; k < PH_NUM_PHONES; k++) {
      double p = g_value_get_double (gst_value_array_get_value (post, k));

      g_assert_cmpfloat (p, ==, (double) want[k]);
      sum += p;
    }
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
  }
  for (guint i = 0; i < run->res.segs->len; i++) {
    const Seg *seg = &g_array_index (run->res.segs, Seg, i);
    gint folded = ph_phone_fold39 (seg->phone);

    g_assert_cmpuint (seg->stream_time, ==, seg->timestamp);
    g_assert_cmpuint (seg->running_time, ==, seg->timestamp);
    g_assert_cmpstr (seg->phone39, ==, folded >= 0 ? ph_phone39_name (folded) : "");
    g_assert_cmpstr (seg->viseme, ==, ph_viseme_name_of_phone (PH_VISEME_SET_OCULUS, seg->phone));
    g_assert_cmpfloat (seg->confidence, >, 0.0);
    g_assert_cmpfloat (seg->confidence, <=, 1.0);
  }
  assert_segments_match (run->res.segs, 0, ref, 0, n);
  run_free (run);

  /* post-messages=false: no messages at all. */
  run = run_new (models.model_a, CAPS_S16, "frame-messages", TRUE, "post-messages", FALSE,
                 NULL);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_eos (run);
  g_assert_cmpuint (run->res.segs->len + run->res.frame_msgs->len, ==, 0);
  run_free (run);
  reference_free (ref);
  g_free (x);
  g_free (f);
}

/* Own latency from the documented parts, computed here from the model's config. */
static GstClockTime
expected_latency (const char *model_path, guint min_frames)
{
  PhModel *model = load_model (model_path);
  const PhFeatureConfig *c = &model->features;
  guint64 samples = c->hop_length + ph_feature_config_latency_samples (c) +
      (guint64) model->shape.delay * c->hop_length + (guint64) min_frames * c->hop_length;
  GstClockTime latency = gst_util_uint64_scale (samples, GST_SECOND, c->sample_rate);

  ph_model_unref (model);
  return latency;
}

static void
test_latency_query (void)
{
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  gint16 *x = make_audio (RATE / 10, 18);
  GstClockTime own;
  gboolean report = TRUE;

  /* By default the element holds no audio back, so it adds no latency to the
   * pipeline's; `latency` still says how late its messages and metas are. */
  g_object_get (run->element, "latency", &own, "report-latency", &report, NULL);
  g_assert_false (report);
  g_assert_cmpuint (own, ==, expected_latency (models.model_a, 3));
  g_assert_cmpuint (own, >, 0);
  gst_harness_set_upstream_latency (run->h, 20 * GST_MSECOND);
  g_assert_cmpuint (gst_harness_query_latency (run->h), ==, 20 * GST_MSECOND);

  /* report-latency=true: upstream's plus the element's own. */
  g_object_set (run->element, "report-latency", TRUE, NULL);
  g_assert_cmpuint (gst_harness_query_latency (run->h), ==, 20 * GST_MSECOND + own);

  /* More smoothing: more latency, announced with a latency message. */
  g_object_set (run->element, "min-segment-frames", 10, NULL);
  push_audio (run, x, 2, RATE / 10, 441, 0, TRUE);
  g_object_get (run->element, "latency", &own, NULL);
  g_assert_cmpuint (own, ==, expected_latency (models.model_a, 10));
  g_assert_cmpuint (gst_harness_query_latency (run->h), ==, 20 * GST_MSECOND + own);
  g_object_set (run->element, "report-latency", FALSE, NULL);
  g_assert_cmpuint (gst_harness_query_latency (run->h), ==, 20 * GST_MSECOND);
  run_free (run);
  g_free (x);
}

/* The latency message is posted when the smoothing changes while playing. */
static void
test_latency_message (void)
{
  gint16 *x = make_audio (RATE / 10, 18);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  GstElement *element = run->element;
  GstBus *bus = run->bus;
  GstMessage *msg;

  /* Watch the bus directly, before drain() empties it. */
  g_object_set (element, "report-latency", TRUE, "min-segment-frames", 5, NULL);
  g_assert_cmpint (gst_harness_push (run->h, make_buffer (x, RATE / 10 * 2, 0,
                                                          GST_MSECOND * 100, TRUE)),
                   ==, GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_LATENCY);
  g_assert_nonnull (msg);
  gst_message_unref (msg);
  run_free (run);
  g_free (x);
}

static GstStateChangeReturn
start_element (GstElement *element, GstBus *bus, gchar **error_text)
{
  GstStateChangeReturn ret = gst_element_set_state (element, GST_STATE_PAUSED);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  *error_text = NULL;
  if (msg) {
    GError *error = NULL;

    gst_message_parse_error (msg, &error, NULL);
    *error_text = g_strdup (error->message);
    g_error_free (error);
    gst_message_unref (msg);
  }
  return ret;
}

/* A model file that cannot be loaded fails the start with an error naming it. */
static void
test_bad_model_file (void)
{
  gchar *missing = g_build_filename (models.dir, "missing.phm", NULL);
  const char *paths[] = { missing, models.bad_model };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    GstElement *element = gst_element_factory_make ("lstmphonemes", NULL);
    GstBus *bus = gst_bus_new ();
    gchar *text;

    gst_element_set_bus (element, bus);
    g_object_set (element, "model", paths[i], NULL);
    g_assert_cmpint (start_element (element, bus, &text), ==, GST_STATE_CHANGE_FAILURE);
    g_assert_nonnull (text);
    g_assert_nonnull (strstr (text, paths[i]));
    g_free (text);
    gst_element_set_state (element, GST_STATE_NULL);
    gst_element_set_bus (element, NULL);
    gst_object_unref (bus);
    gst_object_unref (element);
  }
  g_free (missing);
}

/* Without a `model` property the built-in model runs; a build without one fails the
 * start with an error that says to set the property. */
static void
test_default_model (void)
{
  GError *error = NULL;
  PhModel *builtin = ph_model_load_default (&error);
  GstElement *element = gst_element_factory_make ("lstmphonemes", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *text;

  gst_element_set_bus (element, bus);
  if (builtin) {
    g_assert_cmpint (start_element (element, bus, &text), ==, GST_STATE_CHANGE_SUCCESS);
    g_assert_null (text);
    ph_model_unref (builtin);
  } else {
    g_assert_cmpint (start_element (element, bus, &text), ==, GST_STATE_CHANGE_FAILURE);
    g_assert_nonnull (strstr (text, "'model' property"));
    g_free (text);
    g_error_free (error);
  }
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);
}

/* NaN and Inf samples are labelled as silence: the same output as zeros there. */
static void
test_nan_input (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (n, 19);
  float *clean = to_float (x, n);
  float *dirty = to_float (x, n);
  Run *a = run_new (models.model_a, CAPS_F32, NULL);
  Run *b = run_new (models.model_a, CAPS_F32, NULL);

  for (gsize i = 2000; i < 2600; i++) {
    clean[i] = 0.0f;
    dirty[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
  }
  push_audio (a, clean, 4, n, 441, 0, TRUE);
  push_eos (a);
  push_audio (b, dirty, 4, n, 441, 0, TRUE);
  push_eos (b);
  assert_same_segments (a->res.segs, b->res.segs);
  assert_same_meta (&a->res, &b->res);
  for (guint i = 0; i < b->res.posteriors->len / 4; i++)
    g_assert_true (isfinite (((const float *) b->res.posteriors->data)[i]));
  run_free (a);
  run_free (b);
  g_free (x);
  g_free (clean);
  g_free (dirty);
}

typedef struct {
  GstElement *element;
  gint stop;
  gint rounds;
} Toggler;

static gpointer
toggle_properties (gpointer data)
{
  Toggler *t = data;

  while (!g_atomic_int_get (&t->stop)) {
    guint r = (guint) g_atomic_int_add (&t->rounds, 1);

    g_object_set (t->element,
                  "frame-messages", (gboolean) (r % 2),
                  "attach-meta", (gboolean) (r % 3 != 0),
                  "min-segment-frames", 1 + r % 7,
                  "reset-on-discont", (gboolean) (r % 2),
                  "model-name", r % 2 ? "shared" : NULL,
                  NULL);
    if (r % 5 == 0)
      g_object_set (t->element, "model", r % 10 ? models.model_a : models.model_b, NULL);
    if (r % 11 == 0)
      g_signal_emit_by_name (t->element, "reset");
    g_usleep (100);
  }
  return NULL;
}

/* Properties, models and resets changed from another thread while buffers flow: no
 * crash, and the segments still tile the stream. Audio keeps flowing until the other
 * thread has made enough changes (a count, not a time). */
static void
test_properties_from_another_thread (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 20);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  Toggler t = { run->element, 0, 0 };
  GThread *thread = g_thread_new ("toggler", toggle_properties, &t);
  guint pass = 0;

  while (pass < 2 || (g_atomic_int_get (&t.rounds) < 200 && pass < 1000)) {
    push_audio (run, x, 2, n, 441, pass * GST_SECOND, FALSE);
    pass++;
  }
  g_atomic_int_set (&t.stop, 1);
  g_thread_join (thread);
  push_eos (run);
  g_assert_cmpint (t.rounds, >=, 2);
  assert_tiling (run->res.segs, 0, pass * GST_SECOND);
  run_free (run);
  g_free (x);
}

/* post-messages toggled between buffers: the messages posted never overlap. */
static void
test_post_messages_toggled (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 21);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  GstClockTime end = 0;

  for (guint pass = 0; pass < 4; pass++) {
    g_object_set (run->element, "post-messages", (gboolean) (pass % 2 == 0), NULL);
    push_audio (run, x, 2, n, 441, pass * GST_SECOND, FALSE);
  }
  push_eos (run);
  for (guint i = 0; i < run->res.segs->len; i++) {
    const Seg *seg = &g_array_index (run->res.segs, Seg, i);

    g_assert_cmpuint (seg->timestamp, >=, end);
    end = seg->timestamp + seg->duration;
  }
  g_assert_cmpuint (end, <=, 4 * GST_SECOND);
  run_free (run);
  g_free (x);
}

typedef void (*PublishFunc) (GstElement *element, PhModel *model);

/* gst_lstm_phonemes_publish_model, looked up in the loaded plugin module. */
static PublishFunc
find_publish_model (void)
{
  gchar *path = g_build_filename (models.plugin_dir, "libgstphonemes.so", NULL);
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  gpointer symbol = NULL;

  g_assert_nonnull (module);
  g_assert_true (g_module_symbol (module, "gst_lstm_phonemes_publish_model", &symbol));
  g_module_make_resident (module);
  g_module_close (module);
  g_free (path);
  return (PublishFunc) symbol;
}

/* A new model (property or publish_model) takes effect at the next buffer: the
 * output equals the core labeller switching models at that sample. */
static void
test_model_change_while_playing (void)
{
  const gsize n = RATE;
  const gsize at = 441 * 20;
  gint16 *x = make_audio (n, 22);
  float *f = to_float (x, n);
  Reference *ref = reference_new (models.model_a, 3, f, n, models.model_b, at);
  Reference *old = reference_new (models.model_a, 3, f, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  PublishFunc publish = find_publish_model ();

  push_audio (run, x, 2, at, 441, 0, TRUE);
  g_object_set (run->element, "model", models.model_b, NULL);
  push_audio (run, x + at, 2, n - at, 441, gst_util_uint64_scale (at, GST_SECOND, RATE),
              FALSE);
  push_eos (run);
  g_assert_cmpuint (run->res.segs->len, ==, ref->segs->len);
  assert_segments_match (run->res.segs, 0, ref, 0, n);
  assert_meta_matches (&run->res, ref, 0);
  g_assert_true (memcmp (ref->posteriors->data, old->posteriors->data,
                         ref->posteriors->len) != 0);
  run_free (run);

  /* The same through the lstmadapt entry point. */
  run = run_new (models.model_a, CAPS_S16, NULL);
  push_audio (run, x, 2, at, 441, 0, TRUE);
  {
    PhModel *b = load_model (models.model_b);

    publish (run->element, b);
    ph_model_unref (b);
  }
  push_audio (run, x + at, 2, n - at, 441, gst_util_uint64_scale (at, GST_SECOND, RATE),
              FALSE);
  push_eos (run);
  assert_segments_match (run->res.segs, 0, ref, 0, n);
  run_free (run);

  /* A bad file while playing: a warning, and the current model carries on. */
  run = run_new (models.model_a, CAPS_S16, NULL);
  push_audio (run, x, 2, at, 441, 0, TRUE);
  g_object_set (run->element, "model", models.bad_model, NULL);
  push_audio (run, x + at, 2, n - at, 441, gst_util_uint64_scale (at, GST_SECOND, RATE),
              FALSE);
  push_eos (run);
  g_assert_cmpuint (run->res.warnings, ==, 1);
  g_assert_nonnull (strstr (run->res.last_warning, models.bad_model));
  assert_segments_match (run->res.segs, 0, old, 0, n);
  run_free (run);
  reference_free (ref);
  reference_free (old);
  g_free (x);
  g_free (f);
}

/* A model with another sample rate: the sink caps follow it, the run at the old rate
 * is reported up to the renegotiation and the new one continues from there. */
static void
test_model_with_other_rate (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (n, 23);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  GstPad *sink = gst_element_get_static_pad (run->element, "sink");
  GstCaps *caps;
  gint rate = 0;
  GstClockTime latency16, latency8;

  g_object_get (run->element, "latency", &latency16, NULL);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  /* Caps at another rate than the model's are refused (not-negotiated); with the
   * right caps again the stream goes on. */
  gst_harness_set_src_caps_str (run->h, CAPS_S16_8K);
  g_assert_cmpint (gst_harness_push (run->h, make_buffer (x, 200, GST_CLOCK_TIME_NONE,
                                                          GST_CLOCK_TIME_NONE, FALSE)),
                   ==, GST_FLOW_NOT_NEGOTIATED);
  gst_harness_set_src_caps_str (run->h, CAPS_S16);
  g_object_set (run->element, "model", models.model_8k, NULL);
  caps = gst_pad_query_caps (sink, NULL);
  g_assert_true (gst_caps_is_fixed (caps) || gst_caps_get_size (caps) > 0);
  g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "rate", &rate));
  g_assert_cmpint (rate, ==, 8000);
  gst_caps_unref (caps);
  /* Until upstream renegotiates, the old model keeps labelling the old rate. */
  push_audio (run, x, 2, RATE / 10, 441, GST_SECOND / 2, FALSE);
  gst_harness_set_src_caps_str (run->h, CAPS_S16_8K);
  /* 0.5 s at 8 kHz, timestamps continuing at 0.6 s. */
  for (gsize off = 0; off < 4000; off += 400) {
    GstClockTime pts = 600 * GST_MSECOND + gst_util_uint64_scale (off, GST_SECOND, 8000);

    g_assert_cmpint (gst_harness_push (run->h, make_buffer (x + off, 800, pts, 50 * GST_MSECOND,
                                                            FALSE)), ==, GST_FLOW_OK);
    drain (run);
  }
  push_eos (run);
  assert_tiling (run->res.segs, 0, 1100 * GST_MSECOND);
  g_object_get (run->element, "latency", &latency8, NULL);
  g_assert_cmpuint (latency8, ==, expected_latency (models.model_8k, 3));
  (void) latency16;
  gst_object_unref (sink);
  run_free (run);
  g_free (x);
}

/* S16 then F32 caps mid-stream (same values): the same as S16 throughout. */
static void
test_format_change (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 24);
  float *f = to_float (x, n);
  Run *s16 = run_new (models.model_a, CAPS_S16, NULL);
  Run *mixed = run_new (models.model_a, CAPS_S16, NULL);

  push_audio (s16, x, 2, n, 441, 0, TRUE);
  push_eos (s16);
  push_audio (mixed, x, 2, 441 * 10, 441, 0, TRUE);
  gst_harness_set_src_caps_str (mixed->h, CAPS_F32);
  push_audio (mixed, f + 4410, 4, n - 4410, 441, gst_util_uint64_scale (4410, GST_SECOND, RATE),
              FALSE);
  push_eos (mixed);
  assert_same_segments (s16->res.segs, mixed->res.segs);
  assert_same_meta (&s16->res, &mixed->res);
  run_free (s16);
  run_free (mixed);
  g_free (x);
  g_free (f);
}

/* A GAP is labelled as silence of its duration: the same as zeros pushed there. */
static void
test_gap_is_silence (void)
{
  const gsize n = RATE;
  const gsize gap_start = RATE / 2, gap_len = RATE * 3 / 10;
  gint16 *x = make_audio (n, 25);
  gint16 *zeroed = g_memdup2 (x, n * 2);
  Run *gap = run_new (models.model_a, CAPS_S16, NULL);
  Run *zeros = run_new (models.model_a, CAPS_S16, NULL);
  GstClockTime gap_ts = gst_util_uint64_scale (gap_start, GST_SECOND, RATE);
  GstClockTime gap_duration = gst_util_uint64_scale (gap_len, GST_SECOND, RATE);
  GstClockTime after = gst_util_uint64_scale (gap_start + gap_len, GST_SECOND, RATE);

  memset (zeroed + gap_start, 0, gap_len * 2);
  push_audio (zeros, zeroed, 2, n, 400, 0, TRUE);
  push_eos (zeros);
  push_audio (gap, x, 2, gap_start, 400, 0, TRUE);
  g_assert_true (gst_harness_push_event (gap->h, gst_event_new_gap (gap_ts, gap_duration)));
  drain (gap);
  push_audio (gap, x + gap_start + gap_len, 2, n - gap_start - gap_len, 400, after, FALSE);
  push_eos (gap);
  assert_same_segments (zeros->res.segs, gap->res.segs);
  assert_tiling (gap->res.segs, 0, GST_SECOND);
  /* Frames computed during the gap ride on the next buffer. */
  g_assert_cmpuint (gap->res.frame_ts->len, ==, zeros->res.frame_ts->len);
  run_free (gap);
  run_free (zeros);
  g_free (x);
  g_free (zeroed);
}

/* The `reset` action signal: pending segment reported, state zeroed, clock continues. */
static void
test_reset_signal (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (2 * n, 26);
  float *f = to_float (x, 2 * n);
  Reference *ref1 = reference_new (models.model_a, 3, f, n, NULL, 0);
  Reference *ref2 = reference_new (models.model_a, 3, f + n, n, NULL, 0);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);

  push_audio (run, x, 2, n, 400, 0, TRUE);
  g_signal_emit_by_name (run->element, "reset");
  push_audio (run, x + n, 2, n, 400, GST_SECOND / 2, FALSE);
  push_eos (run);
  g_assert_cmpuint (run->res.segs->len, ==, ref1->segs->len + ref2->segs->len);
  assert_segments_match (run->res.segs, 0, ref1, 0, n);
  assert_segments_match (run->res.segs, ref1->segs->len, ref2, GST_SECOND / 2, n);
  assert_tiling (run->res.segs, 0, GST_SECOND);
  run_free (run);
  reference_free (ref1);
  reference_free (ref2);
  g_free (x);
  g_free (f);
}

typedef struct {
  guint frames;
} MetaCount;

static GstPadProbeReturn
count_meta_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  MetaCount *count = user_data;
  GstCustomMeta *meta = gst_buffer_get_custom_meta (GST_PAD_PROBE_INFO_BUFFER (info),
                                                    "GstPhonemeMeta");
  guint n = 0;

  (void) pad;
  if (meta && gst_structure_get_uint (gst_custom_meta_get_structure (meta), "n-frames", &n))
    count->frames += n;
  return GST_PAD_PROBE_OK;
}

static void
run_meta_pipeline (const char *tail, guint *at_element, guint *at_sink)
{
  gchar *desc = g_strdup_printf (
      "audiotestsrc num-buffers=40 samplesperbuffer=441 wave=pink-noise ! "
      "audio/x-raw,format=S16LE,rate=16000,channels=1 ! lstmphonemes name=ph model=\"%s\" ! "
      "%s ! fakesink name=sink", models.model_a, tail);
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *ph, *sink;
  GstPad *ph_src, *sink_pad;
  MetaCount c1 = { 0 }, c2 = { 0 };
  GstMessage *msg;
  GstBus *bus;

  g_assert_no_error (error);
  ph = gst_bin_get_by_name (GST_BIN (pipeline), "ph");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  ph_src = gst_element_get_static_pad (ph, "src");
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (ph_src, GST_PAD_PROBE_TYPE_BUFFER, count_meta_probe, &c1, NULL);
  gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER, count_meta_probe, &c2, NULL);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
                   GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
                                    GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  *at_element = c1.frames;
  *at_sink = c2.frames;
  gst_object_unref (bus);
  gst_object_unref (ph_src);
  gst_object_unref (sink_pad);
  gst_object_unref (ph);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
}

/* The meta survives identity, queue, tee and audioconvert (passthrough and converting). */
static void
test_meta_survives_passthrough_elements (void)
{
  const char *tails[] = {
    "identity ! queue ! audioconvert ! tee name=t t. ! queue",
    "audioconvert ! audio/x-raw,format=F32LE ! identity",
  };

  for (guint i = 0; i < G_N_ELEMENTS (tails); i++) {
    guint at_element = 0, at_sink = 0;

    run_meta_pipeline (tails[i], &at_element, &at_sink);
    g_assert_cmpuint (at_element, >, 100);
    g_assert_cmpuint (at_sink, ==, at_element);
  }
}

/* Audio at another rate than the model's: an error that names the fix, not a bare
 * not-negotiated; a converter in front still gets the model's rate. */
static void
test_wrong_rate_names_the_fix (void)
{
  const char *good[] = {
    "audiotestsrc num-buffers=5 ! audio/x-raw,rate=44100 ! audioresample ! lstmphonemes "
    "model=\"%s\" name=ph ! fakesink",
    "audiotestsrc num-buffers=5 ! lstmphonemes model=\"%s\" name=ph ! fakesink",
  };
  gint16 *x = make_audio (4410, 27);
  Run *run = run_new (models.model_a, CAPS_S16_44K, NULL);
  gchar *desc, *text = NULL;
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;

  g_assert_cmpint (gst_harness_push (run->h, make_buffer (x, 4410 * 2, 0, 100 * GST_MSECOND,
                                                          TRUE)), ==, GST_FLOW_NOT_NEGOTIATED);
  drain (run);
  g_assert_cmpuint (run->res.errors, ==, 1);
  g_assert_nonnull (strstr (run->res.last_error, "needs 16000 Hz audio"));
  g_assert_nonnull (strstr (run->res.last_error, "44100 Hz"));
  g_assert_nonnull (strstr (run->res.last_error, "put audioresample before it"));
  run_free (run);

  /* The usual mistake, a converter that cannot change the rate (audioconvert without
   * audioresample): the same error, not a failed link. */
  desc = g_strdup_printf ("audiotestsrc num-buffers=5 ! audio/x-raw,rate=44100 ! "
                          "audioconvert ! lstmphonemes model=\"%s\" ! fakesink", models.model_a);
  pipeline = gst_parse_launch (desc, NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
  {
    GError *error = NULL;

    gst_message_parse_error (msg, &error, NULL);
    text = g_strdup (error->message);
    g_error_free (error);
  }
  g_assert_nonnull (strstr (text, "put audioresample before it"));
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (text);
  g_free (desc);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    gchar *desc = g_strdup_printf (good[i], models.model_a);
    GstElement *pipeline = gst_parse_launch (desc, NULL);
    GstElement *ph = gst_bin_get_by_name (GST_BIN (pipeline), "ph");
    GstPad *pad = gst_element_get_static_pad (ph, "sink");
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *msg;
    GstCaps *caps;
    gint rate = 0;

    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
                                      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
    caps = gst_pad_get_current_caps (pad);
    g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "rate", &rate));
    g_assert_cmpint (rate, ==, RATE);
    gst_caps_unref (caps);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pad);
    gst_object_unref (ph);
    gst_object_unref (pipeline);
    g_free (desc);
  }
  g_free (x);
}

/* Log lines of the lstmphonemes category, by level. */
typedef struct {
  guint lines[GST_LEVEL_COUNT];
  guint buffer_lines;    /* LOG lines that describe a buffer */
  guint segment_lines;   /* DEBUG lines that describe a segment */
} LogCount;

/* Where count_log counts, or NULL. The log function is added in a subprocess of the
 * test: GStreamer keeps the lists of log functions it replaces, which valgrind reports
 * as leaks. */
static LogCount *log_count;

static void
count_log (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
           const gchar *function, gint line, GObject *object, GstDebugMessage *message,
           gpointer user_data)
{
  LogCount *count = g_atomic_pointer_get (&log_count);
  const gchar *text;

  (void) file, (void) function, (void) line, (void) object, (void) user_data;
  if (!count || g_strcmp0 (gst_debug_category_get_name (category), "lstmphonemes") != 0)
    return;
  text = gst_debug_message_get (message);
  count->lines[level]++;
  if (level == GST_LEVEL_LOG && strstr (text, "buffer pts") && strstr (text, "frames"))
    count->buffer_lines++;
  if (level == GST_LEVEL_DEBUG && strstr (text, "segment") && strstr (text, "confidence"))
    count->segment_lines++;
}

/* GST_DEBUG=lstmphonemes:6 shows every buffer (LOG) and every segment (DEBUG);
 * lstmphonemes:5 only the segments, not the buffers. */
static void
test_debug_levels (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 28);
  GstDebugLevel levels[] = { GST_LEVEL_LOG, GST_LEVEL_DEBUG };

  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_free (x);
    return;
  }
  gst_debug_add_log_function (count_log, NULL, NULL);
  gst_debug_remove_log_function (gst_debug_log_default);   /* quiet */
  gst_debug_set_active (TRUE);
  for (guint l = 0; l < G_N_ELEMENTS (levels); l++) {
    LogCount count = { { 0 }, 0, 0 };
    Run *run;

    g_atomic_pointer_set (&log_count, &count);
    gst_debug_set_threshold_for_name ("lstmphonemes", levels[l]);
    run = run_new (models.model_a, CAPS_S16, NULL);
    push_audio (run, x, 2, n, 1600, 0, TRUE);   /* 10 buffers */
    push_eos (run);
    gst_debug_unset_threshold_for_name ("lstmphonemes");
    g_atomic_pointer_set (&log_count, NULL);
    g_assert_cmpuint (run->res.segs->len, >, 5);
    g_assert_cmpuint (count.segment_lines, ==, run->res.segs->len);
    if (levels[l] == GST_LEVEL_LOG)
      g_assert_cmpuint (count.buffer_lines, ==, 10);
    else
      g_assert_cmpuint (count.lines[GST_LEVEL_LOG], ==, 0);
    run_free (run);
  }
  g_free (x);
}

/* frame-interval: one phoneme-frame message per interval, carrying the mean of the
 * interval's posteriors; its phone and confidence are that mean's argmax. */
static void
test_frame_interval (void)
{
  const gsize n = RATE / 2 + 480;   /* 53 frames: the last message covers 3 */
  gint16 *x = make_audio (n, 29);
  Run *every = run_new (models.model_a, CAPS_S16, "frame-messages", TRUE, NULL);
  Run *run = run_new (models.model_a, CAPS_S16, "frame-messages", TRUE,
                      "frame-interval", (guint64) (50 * GST_MSECOND), NULL);
  GstClockTime end = gst_util_uint64_scale (n, GST_SECOND, RATE);
  guint64 interval = 0;
  guint frames;

  g_object_get (run->element, "frame-interval", &interval, NULL);
  g_assert_cmpuint (interval, ==, 50 * GST_MSECOND);
  push_audio (every, x, 2, n, 441, 0, TRUE);
  push_eos (every);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_eos (run);
  frames = every->res.frame_msgs->len;
  g_assert_cmpuint (frames, ==, 53);
  g_assert_cmpuint (run->res.frame_msgs->len, ==, (frames + 4) / 5);
  for (guint m = 0; m < run->res.frame_msgs->len; m++) {
    const GstStructure *s = g_array_index (run->res.frame_msgs, GstStructure *, m);
    const GValue *post = gst_structure_get_value (s, "posteriors");
    guint first = m * 5, count = MIN (5, frames - first), n_frames = 0;
    double mean[PH_NUM_PHONES] = { 0 }, confidence;
    guint best = 0;

    g_assert_true (gst_structure_get_uint (s, "n-frames", &n_frames));
    g_assert_cmpuint (n_frames, ==, count);
    g_assert_cmpuint (get_u64 (s, "timestamp"), ==, frame_start (0, first));
    g_assert_cmpuint (get_u64 (s, "duration"), ==,
                      MIN (frame_start (0, first + count), end) - frame_start (0, first));
    for (guint i = first; i < first + count; i++) {
      const GstStructure *f = g_array_index (every->res.frame_msgs, GstStructure *, i);
      const GValue *p = gst_structure_get_value (f, "posteriors");

      for (guint k = 0; k < PH_NUM_PHONES; k++)
        mean[k] += g_value_get_double (gst_value_array_get_value (p, k)) / count;
    }
    for (guint k = 0; k < PH_NUM_PHONES; k++) {
      g_assert_cmpfloat_with_epsilon (g_value_get_double (gst_value_array_get_value (post, k)),
                                      mean[k], 1e-6);
      best = mean[k] > mean[best] ? k : best;
    }
    g_assert_cmpint (ph_phone_index (gst_structure_get_string (s, "phone")), ==, best);
    g_assert_true (gst_structure_get_double (s, "confidence", &confidence));
    g_assert_cmpfloat_with_epsilon (confidence, mean[best], 1e-6);
  }
  /* The segments are the same whatever the interval. */
  assert_same_segments (every->res.segs, run->res.segs);
  run_free (every);
  run_free (run);
  g_free (x);
}

/* The typed C API of phonemes-meta.h reads what the GstStructure holds: the same
 * frames, posteriors and features, for every buffer of a run. */
static void
test_meta_typed_api (void)
{
  const gsize n = RATE / 2;
  gint16 *x = make_audio (n, 30);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  GstBuffer *buffer;
  guint metas = 0, frames_seen = 0;

  g_assert_null (gst_phoneme_meta_get_structure (NULL));
  for (gsize off = 0; off < n; off += 800) {
    g_assert_cmpint (gst_harness_push (run->h, make_buffer (x + off, 1600,
        gst_util_uint64_scale (off, GST_SECOND, RATE), 50 * GST_MSECOND, off == 0)), ==,
        GST_FLOW_OK);
    while ((buffer = gst_harness_try_pull (run->h))) {
      const GstStructure *s = gst_phoneme_meta_get_structure (buffer);
      guint n_frames = 0, n_post = 0, n_feat = 0, dim = 0;
      GstPhonemeFrame *frames = gst_phoneme_meta_get_frames (buffer, &n_frames);
      const gfloat *post = gst_phoneme_meta_get_posteriors (buffer, &n_post);
      const gfloat *feat = gst_phoneme_meta_get_features (buffer, &n_feat, &dim);
      guint first = run->res.frame_ts->len;

      collect_meta (&run->res, buffer);
      if (!s) {
        g_assert_null (frames);
        g_assert_null (post);
        g_assert_null (feat);
        g_assert_cmpuint (n_frames + n_post + n_feat, ==, 0);
        gst_buffer_unref (buffer);
        continue;
      }
      metas++;
      g_assert_cmpuint (n_frames, ==, run->res.frame_ts->len - first);
      g_assert_cmpuint (n_post, ==, n_frames);
      g_assert_cmpuint (n_feat, ==, n_frames);
      g_assert_cmpuint (dim, ==, run->res.dim);
      for (guint i = 0; i < n_frames; i++) {
        g_assert_cmpuint (frames[i].timestamp, ==,
                          g_array_index (run->res.frame_ts, guint64, first + i));
        g_assert_cmpuint (frames[i].duration, ==, 10 * GST_MSECOND);
        g_assert_cmpint (frames[i].phone, ==, g_array_index (run->res.frame_phone, gint, first + i));
        g_assert_cmpstr (frames[i].phone_name, ==, ph_phone_name (frames[i].phone));
        g_assert_cmpfloat (frames[i].confidence, ==,
                           g_array_index (run->res.frame_conf, double, first + i));
        g_assert_cmpfloat (post[(gsize) i * GST_PHONEME_META_NUM_PHONES + frames[i].phone], ==,
                           (float) frames[i].confidence);
      }
      g_assert_cmpmem (post, (gsize) n_frames * GST_PHONEME_META_NUM_PHONES * sizeof (float),
                       run->res.posteriors->data + (gsize) first * PH_NUM_PHONES * sizeof (float),
                       (gsize) n_frames * PH_NUM_PHONES * sizeof (float));
      g_assert_cmpmem (feat, (gsize) n_frames * dim * sizeof (float),
                       run->res.features->data + (gsize) first * dim * sizeof (float),
                       (gsize) n_frames * dim * sizeof (float));
      frames_seen += n_frames;
      g_free (frames);
      gst_buffer_unref (buffer);
    }
  }
  g_assert_cmpuint (metas, >, 5);
  g_assert_cmpuint (frames_seen, >, 30);
  run_free (run);
  g_free (x);
}

/* A model with a phone LM is decoded (decoder=auto): the element's segments are the
 * core labeller's, which `phonemes label` prints, for any buffer size; the per-frame
 * meta stays what the network says. (No insertion penalty: a random model's phones
 * would otherwise rarely change.) */
static void
test_decoder_matches_labeller (void)
{
  const gsize n = RATE;
  gint16 *x = make_audio (n, 12);
  float *f = to_float (x, n);
  Reference *ref = reference_decoded (models.model_lm, f, n, 0.0f);
  Reference *greedy = reference_new (models.model_a, 3, f, n, NULL, 0);
  const gsize chunks[] = { 1, 441, 16000 };

  g_assert_cmpuint (ref->segs->len, >, 1);
  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++) {
    Run *run = run_new (models.model_lm, CAPS_S16, "insertion-penalty", 0.0f, NULL);

    push_audio (run, x, 2, n, chunks[c], 0, TRUE);
    push_eos (run);
    assert_segments_match (run->res.segs, 0, ref, 0, n);
    g_assert_cmpuint (run->res.segs->len, ==, ref->segs->len);
    assert_tiling (run->res.segs, 0, GST_SECOND);
    assert_meta_matches (&run->res, greedy, 0);
    run_free (run);
  }
  /* decoder=greedy on the same model gives the greedy segments */
  Run *run = run_new (models.model_lm, CAPS_S16, "decoder", PH_SEGMENTER_GREEDY, NULL);
  push_audio (run, x, 2, n, 441, 0, TRUE);
  push_eos (run);
  assert_segments_match (run->res.segs, 0, greedy, 0, n);
  g_assert_cmpuint (run->res.segs->len, ==, greedy->segs->len);
  run_free (run);
  reference_free (ref);
  reference_free (greedy);
  g_free (x);
  g_free (f);
}

/* decoder=lm with a model that has no phone LM fails the start with an error that
 * says so; set while playing, it posts a warning and labelling goes on. */
static void
test_decoder_needs_lm (void)
{
  GstElement *element = gst_element_factory_make ("lstmphonemes", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *text;

  gst_element_set_bus (element, bus);
  g_object_set (element, "model", models.model_a, "decoder", PH_SEGMENTER_DECODER, NULL);
  g_assert_cmpint (start_element (element, bus, &text), ==, GST_STATE_CHANGE_FAILURE);
  g_assert_nonnull (strstr (text, "no phone LM"));
  g_free (text);
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);

  gint16 *x = make_audio (RATE / 2, 13);
  Run *run = run_new (models.model_a, CAPS_S16, NULL);
  push_audio (run, x, 2, RATE / 4, 441, 0, TRUE);
  g_object_set (run->element, "decoder", PH_SEGMENTER_DECODER, NULL);
  g_assert_cmpint (gst_harness_push (run->h, make_buffer (x, RATE / 2, 0, 0, FALSE)), ==,
                   GST_FLOW_OK);
  GstMessage *msg = gst_bus_pop_filtered (run->bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  GError *error = NULL;
  gst_message_parse_warning (msg, &error, NULL);
  g_assert_nonnull (strstr (error->message, "no phone LM"));
  g_error_free (error);
  gst_message_unref (msg);
  push_eos (run);
  g_assert_cmpuint (run->res.segs->len, >, 0);
  run_free (run);
  g_free (x);
}

/* With the decoder, segments wait for max-lag + 1 frames at most: that is the
 * smoothing part of the latency, and changing max-lag changes the latency (which
 * report-latency adds to queries). */
static void
test_decoder_latency (void)
{
  Run *run = run_new (models.model_lm, CAPS_S16, "report-latency", TRUE, NULL);
  gint16 *x = make_audio (RATE / 10, 18);
  GstClockTime own;

  g_object_get (run->element, "latency", &own, NULL);
  g_assert_cmpuint (own, ==, expected_latency (models.model_lm,
                                               PH_DECODER_DEFAULT_MAX_LAG + 1));
  g_object_set (run->element, "max-lag", 50, NULL);
  push_audio (run, x, 2, RATE / 10, 441, 0, TRUE);
  g_object_get (run->element, "latency", &own, NULL);
  g_assert_cmpuint (own, ==, expected_latency (models.model_lm, 51));
  gst_harness_set_upstream_latency (run->h, 20 * GST_MSECOND);
  g_assert_cmpuint (gst_harness_query_latency (run->h), ==, 20 * GST_MSECOND + own);
  run_free (run);
  g_free (x);
}

/* ---- setup ---- */

static gchar *
write_model (const char *name, guint rate, guint64 seed)
{
  PhFeatureConfig features;
  PhLstmShape shape = { 0, 16, 1, PH_NUM_PHONES, 1 };
  GError *error = NULL;
  PhModel *model;
  gchar *path = g_build_filename (models.dir, name, NULL);

  ph_feature_config_init (&features, rate);
  shape.input_dim = ph_feature_config_dim (&features);
  model = ph_model_new (&features, &shape, &error);
  g_assert_no_error (error);
  ph_model_init_random (model, seed);
  g_assert_true (ph_model_save_file (model, path, &error));
  ph_model_unref (model);
  return path;
}

static void
make_models (void)
{
  GError *error = NULL;

  models.dir = g_dir_make_tmp ("lstmphonemes-test-XXXXXX", &error);
  g_assert_no_error (error);
  models.model_a = write_model ("a.phm", 16000, 1);
  models.model_b = write_model ("b.phm", 16000, 2);
  models.model_8k = write_model ("c8k.phm", 8000, 3);
  models.model_lm = g_build_filename (models.dir, "lm.phm", NULL);
  test_copy_model_with_lm (models.model_a, models.model_lm);
  models.bad_model = g_build_filename (models.dir, "bad.phm", NULL);
  g_assert_true (g_file_set_contents (models.bad_model, "not a model", -1, NULL));
}

static void
remove_models (void)
{
  const gchar *files[] = { models.model_a, models.model_b, models.model_8k, models.model_lm,
                           models.bad_model };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_remove (files[i]);
    g_free ((gchar *) files[i]);
  }
  g_rmdir (models.dir);
  g_free (models.dir);
  g_free (models.plugin_dir);
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
  models.plugin_dir = g_strdup (plugin_dir ? plugin_dir : ".");
  if (!gst_registry_check_feature_version (gst_registry_get (), "lstmphonemes", 0, 0, 0)) {
    g_printerr ("lstmphonemes not found: set PH_GST_PLUGIN_DIR or GST_PLUGIN_PATH\n");
    return 1;
  }
  make_models ();

  g_test_add_func ("/lstmphonemes/passthrough-bit-identical", test_passthrough_bit_identical);
  g_test_add_func ("/lstmphonemes/buffer-sizes", test_buffer_sizes);
  g_test_add_func ("/lstmphonemes/long-and-empty-buffers", test_long_and_empty_buffers);
  g_test_add_func ("/lstmphonemes/timestamps", test_timestamps);
  g_test_add_func ("/lstmphonemes/discont-resets", test_discont_resets);
  g_test_add_func ("/lstmphonemes/flush-resets", test_flush_resets);
  g_test_add_func ("/lstmphonemes/eos-flush", test_eos_flush);
  g_test_add_func ("/lstmphonemes/message-fields", test_message_fields);
  g_test_add_func ("/lstmphonemes/latency-query", test_latency_query);
  g_test_add_func ("/lstmphonemes/latency-message", test_latency_message);
  g_test_add_func ("/lstmphonemes/bad-model-file", test_bad_model_file);
  g_test_add_func ("/lstmphonemes/default-model", test_default_model);
  g_test_add_func ("/lstmphonemes/nan-input", test_nan_input);
  g_test_add_func ("/lstmphonemes/properties-from-another-thread",
                   test_properties_from_another_thread);
  g_test_add_func ("/lstmphonemes/post-messages-toggled", test_post_messages_toggled);
  g_test_add_func ("/lstmphonemes/model-change-while-playing", test_model_change_while_playing);
  g_test_add_func ("/lstmphonemes/model-with-other-rate", test_model_with_other_rate);
  g_test_add_func ("/lstmphonemes/format-change", test_format_change);
  g_test_add_func ("/lstmphonemes/gap-is-silence", test_gap_is_silence);
  g_test_add_func ("/lstmphonemes/reset-signal", test_reset_signal);
  g_test_add_func ("/lstmphonemes/decoder-matches-labeller", test_decoder_matches_labeller);
  g_test_add_func ("/lstmphonemes/decoder-needs-lm", test_decoder_needs_lm);
  g_test_add_func ("/lstmphonemes/decoder-latency", test_decoder_latency);
  g_test_add_func ("/lstmphonemes/meta-survives-passthrough-elements",
                   test_meta_survives_passthrough_elements);
  g_test_add_func ("/lstmphonemes/wrong-rate-names-the-fix", test_wrong_rate_names_the_fix);
  g_test_add_func ("/lstmphonemes/debug-levels", test_debug_levels);
  g_test_add_func ("/lstmphonemes/frame-interval", test_frame_interval);
  g_test_add_func ("/lstmphonemes/meta-typed-api", test_meta_typed_api);
  ret = g_test_run ();
  remove_models ();
  return ret;
}
