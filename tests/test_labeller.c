/* test_labeller.c: the labeller against an offline reference built from
 * ph_features_compute_f32 + ph_lstm_forward_sequence and a plain run-based smoothing. */
#include <math.h>
#include <string.h>

#include "phonemes.h"

#define RATE 16000

typedef struct {
  GArray *frames;      /* of RecordedFrame */
  GArray *segments;    /* of PhSegment */
  GArray *posteriors;  /* float, n_frames * 61 */
  GArray *features;    /* float, n_frames * dim */
} Recording;

typedef struct {
  guint64 index;
  gint phone;
  float confidence;
} RecordedFrame;

static void
on_frame (const PhFrame *frame, gpointer user_data)
{
  Recording *rec = user_data;
  RecordedFrame f = { frame->index, frame->phone, frame->confidence };

  g_array_append_val (rec->frames, f);
  g_array_append_vals (rec->posteriors, frame->posteriors, PH_NUM_PHONES);
  g_array_append_vals (rec->features, frame->features, frame->dim);
}

static void
on_segment (const PhSegment *segment, gpointer user_data)
{
  Recording *rec = user_data;

  g_array_append_val (rec->segments, *segment);
}

static const PhLabellerCallbacks callbacks = { on_frame, on_segment };

static void
recording_init (Recording *rec)
{
  rec->frames = g_array_new (FALSE, FALSE, sizeof (RecordedFrame));
  rec->segments = g_array_new (FALSE, FALSE, sizeof (PhSegment));
  rec->posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  rec->features = g_array_new (FALSE, FALSE, sizeof (float));
}

static void
recording_clear (Recording *rec)
{
  g_array_unref (rec->frames);
  g_array_unref (rec->segments);
  g_array_unref (rec->posteriors);
  g_array_unref (rec->features);
}

/* Speech-like test signal: gliding harmonics and noise bursts, from a seeded GRand. */
static float *
make_signal (gsize n, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  double phase = 0;

  for (gsize i = 0; i < n; i++) {
    double t = (double) i / RATE;
    double f0 = 120 + 60 * sin (2 * G_PI * 0.7 * t);
    gboolean noisy = fmod (t, 0.37) < 0.09;

    phase += 2 * G_PI * f0 / RATE;
    x[i] = 0.3 * sin (phase) + 0.15 * sin (3 * phase) + 0.1 * sin (7 * phase);
    if (noisy)
      x[i] = 0.4 * (g_rand_double (rand) - 0.5);
  }
  return x;
}

static PhModel *
make_model (guint delay, guint layers, guint64 seed)
{
  PhFeatureConfig config;
  PhLstmShape shape = { 0 };
  g_autoptr (GError) error = NULL;
  PhModel *model;

  ph_feature_config_init (&config, RATE);
  shape.input_dim = ph_feature_config_dim (&config);
  shape.hidden_size = 16;
  shape.num_layers = layers;
  shape.output_dim = PH_NUM_PHONES;
  shape.delay = delay;
  model = ph_model_new (&config, &shape, &error);
  g_assert_no_error (error);
  ph_model_init_random (model, seed);
  /* Large output weights so the argmax changes often and segmentation is exercised. */
  for (guint i = 0; i < PH_NUM_PHONES * shape.hidden_size; i++)
    model->params.w_out[i] *= 40;
  return model;
}

static void
label_in_chunks (PhLabeller *labeller, const float *x, gsize n, guint32 seed,
                 gsize fixed_chunk, Recording *rec)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gsize pos = 0;

  while (pos < n) {
    gsize chunk = fixed_chunk ? fixed_chunk : (gsize) g_rand_int_range (rand, 0, 2000);

    chunk = MIN (chunk, n - pos);
    ph_labeller_push_f32 (labeller, x + pos, chunk, &callbacks, rec);
    pos += chunk;
  }
  ph_labeller_flush (labeller, &callbacks, rec);
}

/* Offline reference of the smoothing rule over maximal runs of equal argmax. */
static GArray *
reference_segments (const float *posteriors, guint n_frames, guint min_frames)
{
  GArray *segments = g_array_new (FALSE, FALSE, sizeof (PhSegment));
  gint *best = g_new (gint, n_frames);
  PhSegment current = { 0 };

  for (guint t = 0; t < n_frames; t++) {
    const float *p = posteriors + (gsize) t * PH_NUM_PHONES;
    best[t] = 0;
    for (gint k = 1; k < PH_NUM_PHONES; k++)
      if (p[k] > p[best[t]])
        best[t] = k;
  }
  current.phone = best[0];
  for (guint start = 0; start < n_frames;) {
    guint end = start;
    while (end < n_frames && best[end] == best[start])
      end++;
    if (best[start] != current.phone && end - start >= min_frames) {
      current.n_frames = start - current.start_frame;
      g_array_append_val (segments, current);
      current.start_frame = start;
      current.phone = best[start];
    }
    start = end;
  }
  current.n_frames = n_frames - current.start_frame;
  g_array_append_val (segments, current);
  for (guint s = 0; s < segments->len; s++) {
    PhSegment *seg = &g_array_index (segments, PhSegment, s);
    double sum = 0;
    for (guint64 t = seg->start_frame; t < seg->start_frame + seg->n_frames; t++)
      sum += posteriors[t * PH_NUM_PHONES + seg->phone];
    seg->confidence = (float) (sum / seg->n_frames);
  }
  g_free (best);
  return segments;
}

/* Posteriors for every frame offline: features, then delay copies of the last frame. */
static float *
reference_posteriors (PhModel *model, double warp, const float *x, gsize n, guint *n_frames)
{
  g_autoptr (GError) error = NULL;
  guint dim = model->shape.input_dim, delay = model->shape.delay;
  float *features = ph_features_compute_warped_f32 (&model->features, warp, x, n, n_frames,
                                                     &error);
  guint steps = *n_frames + delay;
  float *padded = g_new (float, (gsize) steps * dim);
  float *out = g_new (float, (gsize) steps * PH_NUM_PHONES);
  float *posteriors = g_new (float, (gsize) *n_frames * PH_NUM_PHONES);

  g_assert_no_error (error);
  memcpy (padded, features, (gsize) *n_frames * dim * sizeof (float));
  for (guint i = 0; i < delay; i++)
    memcpy (padded + (gsize) (*n_frames + i) * dim, features + (gsize) (*n_frames - 1) * dim,
            dim * sizeof (float));
  ph_lstm_forward_sequence (model, padded, steps, out);
  memcpy (posteriors, out + (gsize) delay * PH_NUM_PHONES,
          (gsize) *n_frames * PH_NUM_PHONES * sizeof (float));
  g_free (features);
  g_free (padded);
  g_free (out);
  return posteriors;
}

static void
assert_segments_tile (GArray *segments, guint n_frames, guint min_frames)
{
  guint64 next = 0;

  for (guint s = 0; s < segments->len; s++) {
    PhSegment *seg = &g_array_index (segments, PhSegment, s);
    g_assert_cmpuint (seg->start_frame, ==, next);
    g_assert_cmpuint (seg->n_frames, >, 0);
    if (s > 0 && s + 1 < segments->len)
      g_assert_cmpuint (seg->n_frames, >=, min_frames);
    if (s > 0)
      g_assert_cmpint (seg->phone, !=, g_array_index (segments, PhSegment, s - 1).phone);
    next += seg->n_frames;
  }
  g_assert_cmpuint (next, ==, n_frames);
}

static void
check_against_reference_warped (guint delay, guint layers, guint min_frames, double warp)
{
  gsize n = RATE * 3 + 77;
  g_autofree float *x = make_signal (n, 7);
  PhModel *model = make_model (delay, layers, 11);
  guint n_frames;
  g_autofree float *posteriors = reference_posteriors (model, warp, x, n, &n_frames);
  g_autoptr (GArray) expected = reference_segments (posteriors, n_frames, min_frames);
  g_autoptr (GError) error = NULL;
  PhLabeller *labeller = ph_labeller_new (model, min_frames, &error);
  Recording rec;

  g_assert_no_error (error);
  if (warp != 1.0)
    g_assert_true (ph_labeller_set_vtlp_warp (labeller, warp, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_frames, ==, (n + 159) / 160);
  recording_init (&rec);
  label_in_chunks (labeller, x, n, 3, 0, &rec);
  g_assert_cmpuint (rec.frames->len, ==, n_frames);
  for (guint t = 0; t < n_frames; t++)
    g_assert_cmpuint (g_array_index (rec.frames, RecordedFrame, t).index, ==, t);
  g_assert_cmpmem (rec.posteriors->data, rec.posteriors->len * sizeof (float), posteriors,
                   (gsize) n_frames * PH_NUM_PHONES * sizeof (float));
  g_assert_cmpuint (expected->len, >, 3);
  g_assert_cmpuint (rec.segments->len, ==, expected->len);
  for (guint s = 0; s < expected->len; s++) {
    PhSegment *a = &g_array_index (rec.segments, PhSegment, s);
    PhSegment *b = &g_array_index (expected, PhSegment, s);
    g_assert_cmpuint (a->start_frame, ==, b->start_frame);
    g_assert_cmpuint (a->n_frames, ==, b->n_frames);
    g_assert_cmpint (a->phone, ==, b->phone);
    g_assert_cmpfloat_with_epsilon (a->confidence, b->confidence, 1e-5);
  }
  assert_segments_tile (rec.segments, n_frames, min_frames);
  recording_clear (&rec);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

static void
check_against_reference (guint delay, guint layers, guint min_frames)
{
  check_against_reference_warped (delay, layers, min_frames, 1.0);
}

/* A warped labeller (bench/real's per-speaker warp) labels as the offline warped
 * features do; an out-of-range warp is refused and changes nothing. */
static void
test_matches_offline_warped (void)
{
  g_autoptr (GError) error = NULL;
  PhModel *model = make_model (1, 1, 11);
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);

  check_against_reference_warped (1, 1, 3, 0.9);
  check_against_reference_warped (2, 1, 3, 1.12);
  g_assert_false (ph_labeller_set_vtlp_warp (labeller, 1.5, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

static void
test_matches_offline (void)
{
  check_against_reference (0, 1, 3);
}

static void
test_matches_offline_with_delay (void)
{
  check_against_reference (3, 2, 3);
}

static void
test_matches_offline_no_smoothing (void)
{
  check_against_reference (1, 1, 1);
}

/* Frames, features and segments are identical for any chunking of the input. */
static void
test_chunking_invariance (void)
{
  gsize n = RATE * 2 + 5;
  g_autofree float *x = make_signal (n, 5);
  PhModel *model = make_model (2, 1, 3);
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);
  const gsize chunks[] = { 1, 160, 441, 16000, 0 };
  Recording first;

  recording_init (&first);
  label_in_chunks (labeller, x, n, 1, n, &first);
  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++) {
    Recording rec;
    recording_init (&rec);
    label_in_chunks (labeller, x, n, 100 + c, chunks[c], &rec);
    g_assert_cmpmem (rec.posteriors->data, rec.posteriors->len * sizeof (float),
                     first.posteriors->data, first.posteriors->len * sizeof (float));
    g_assert_cmpmem (rec.features->data, rec.features->len * sizeof (float),
                     first.features->data, first.features->len * sizeof (float));
    g_assert_cmpmem (rec.segments->data, rec.segments->len * sizeof (PhSegment),
                     first.segments->data, first.segments->len * sizeof (PhSegment));
    recording_clear (&rec);
  }
  recording_clear (&first);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

/* After a reset, a stream labels as if the labeller were new. */
static void
test_reset_starts_over (void)
{
  gsize n = RATE;
  g_autofree float *x = make_signal (n, 9);
  PhModel *model = make_model (1, 1, 5);
  PhLabeller *labeller = ph_labeller_new (model, 2, NULL);
  Recording a, b;

  recording_init (&a);
  recording_init (&b);
  label_in_chunks (labeller, x, n, 1, 1000, &a);
  ph_labeller_push_f32 (labeller, x, 5000, NULL, NULL);
  ph_labeller_reset (labeller);
  g_assert_cmpuint (ph_labeller_samples_seen (labeller), ==, 0);
  label_in_chunks (labeller, x, n, 1, 1000, &b);
  g_assert_cmpmem (a.posteriors->data, a.posteriors->len * sizeof (float),
                   b.posteriors->data, b.posteriors->len * sizeof (float));
  recording_clear (&a);
  recording_clear (&b);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

/* Frames come out exactly the reported latency after their span ends. */
static void
test_latency_is_exact (void)
{
  PhModel *model = make_model (2, 1, 5);
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);
  guint64 latency = ph_labeller_latency_samples (labeller);
  g_autofree float *x = make_signal (RATE, 4);
  Recording rec;

  recording_init (&rec);
  for (gsize i = 0; i < RATE; i++) {
    guint before = rec.frames->len;
    ph_labeller_push_f32 (labeller, x + i, 1, &callbacks, &rec);
    if (rec.frames->len > before) {
      guint64 index = g_array_index (rec.frames, RecordedFrame, rec.frames->len - 1).index;
      guint64 span_end = (index + 1) * 160;
      g_assert_cmpuint (i + 1, ==, span_end + latency);
    }
  }
  g_assert_cmpuint (ph_labeller_segment_latency_samples (labeller), ==, latency + 3 * 160);
  recording_clear (&rec);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

/* A compatible model swaps mid-stream without a reset; an incompatible one resets. */
static void
test_model_switch (void)
{
  PhModel *a = make_model (0, 1, 1), *b = make_model (0, 1, 2), *c = make_model (1, 1, 3);
  PhLabeller *labeller = ph_labeller_new (a, 1, NULL);
  g_autofree float *x = make_signal (RATE, 2);

  ph_labeller_push_f32 (labeller, x, 8000, NULL, NULL);
  ph_labeller_set_model (labeller, b);
  g_assert_true (ph_labeller_model (labeller) == b);
  g_assert_cmpuint (ph_labeller_samples_seen (labeller), ==, 8000);
  ph_labeller_set_model (labeller, c);
  g_assert_cmpuint (ph_labeller_samples_seen (labeller), ==, 0);
  ph_labeller_free (labeller);
  ph_model_unref (a);
  ph_model_unref (b);
  ph_model_unref (c);
}

/* NaN and Inf samples label like silence; an empty stream emits nothing. */
static void
test_bad_samples (void)
{
  PhModel *model = make_model (1, 1, 8);
  PhLabeller *labeller = ph_labeller_new (model, 2, NULL);
  float *bad = g_new0 (float, RATE), *zeros = g_new0 (float, RATE);
  Recording a, b, empty;

  for (guint i = 0; i < RATE; i += 3)
    bad[i] = (i % 2) ? NAN : INFINITY;
  recording_init (&a);
  recording_init (&b);
  recording_init (&empty);
  label_in_chunks (labeller, bad, RATE, 1, 333, &a);
  label_in_chunks (labeller, zeros, RATE, 1, 333, &b);
  g_assert_cmpmem (a.posteriors->data, a.posteriors->len * sizeof (float),
                   b.posteriors->data, b.posteriors->len * sizeof (float));
  ph_labeller_flush (labeller, &callbacks, &empty);
  g_assert_cmpuint (empty.frames->len, ==, 0);
  g_assert_cmpuint (empty.segments->len, ==, 0);
  recording_clear (&a);
  recording_clear (&b);
  recording_clear (&empty);
  g_free (bad);
  g_free (zeros);
  ph_labeller_free (labeller);
  ph_model_unref (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/labeller/matches-offline", test_matches_offline);
  g_test_add_func ("/labeller/matches-offline-warped", test_matches_offline_warped);
  g_test_add_func ("/labeller/matches-offline-delay", test_matches_offline_with_delay);
  g_test_add_func ("/labeller/matches-offline-no-smoothing", test_matches_offline_no_smoothing);
  g_test_add_func ("/labeller/chunking-invariance", test_chunking_invariance);
  g_test_add_func ("/labeller/reset", test_reset_starts_over);
  g_test_add_func ("/labeller/latency", test_latency_is_exact);
  g_test_add_func ("/labeller/model-switch", test_model_switch);
  g_test_add_func ("/labeller/bad-samples", test_bad_samples);
  return g_test_run ();
}
