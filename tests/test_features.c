/* test_features.c: the streaming MFCC extractor, checked against a naive reference
 * written out here (direct DFT in double, mel filters and DCT-II from their formulas),
 * hand-checkable signals (silence, DC, sines, exponential ramps), and for bit-identical
 * output under any chunking. */
#include "phonemes.h"

#include <math.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------- */

typedef struct {
  GArray *values; /* float, frames * dim */
  guint dim;
  guint64 n_frames;
} Frames;

static Frames *
frames_new (guint dim)
{
  Frames *frames = g_new0 (Frames, 1);

  frames->values = g_array_new (FALSE, FALSE, sizeof (float));
  frames->dim = dim;
  return frames;
}

static void
frames_free (Frames *frames)
{
  g_array_unref (frames->values);
  g_free (frames);
}

static const float *
frame_at (const Frames *frames, guint64 i)
{
  g_assert_cmpuint (i, <, frames->n_frames);
  return &g_array_index (frames->values, float, i * frames->dim);
}

/* Collects frames and checks they arrive in order. */
static void
collect (const float *features, guint64 frame_index, gpointer user_data)
{
  Frames *frames = user_data;

  g_assert_cmpuint (frame_index, ==, frames->n_frames);
  g_array_append_vals (frames->values, features, frames->dim);
  frames->n_frames++;
}

static void
count_frames (const float *features, guint64 frame_index, gpointer user_data)
{
  guint64 *count = user_data;

  (void) features;
  g_assert_cmpuint (frame_index, ==, *count);
  (*count)++;
}

static void
fail_on_frame (const float *features, guint64 frame_index, gpointer user_data)
{
  (void) features;
  (void) user_data;
  g_error ("unexpected frame %" G_GUINT64_FORMAT, frame_index);
}

static guint64
expected_frames (gsize n_samples, guint hop)
{
  return (n_samples + hop - 1) / hop;
}

/* A 100 Hz -> 0.45*rate chirp plus Gaussian noise from a seeded GRand. */
static float *
make_test_signal (guint rate, gsize n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  double duration = (double) n / rate;
  double f0 = 100.0, f1 = 0.45 * rate;

  for (gsize i = 0; i < n; i++) {
    double t = (double) i / rate;
    double phase = 2.0 * G_PI * (f0 * t + 0.5 * (f1 - f0) * t * t / duration);
    double u1 = g_rand_double_range (rand, 1e-12, 1.0);
    double u2 = g_rand_double (rand);
    double noise = sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
    x[i] = (float) (0.5 * sin (phase) + 0.05 * noise);
  }
  g_rand_free (rand);
  return x;
}

static gint16 *
to_s16 (const float *x, gsize n)
{
  gint16 *y = g_new (gint16, n);

  for (gsize i = 0; i < n; i++)
    y[i] = (gint16) CLAMP (lrint (x[i] * 32767.0), -32768, 32767);
  return y;
}

static PhFeatures *
new_features (const PhFeatureConfig *config)
{
  GError *error = NULL;
  PhFeatures *features = ph_features_new (config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (features);
  return features;
}

/* Pushes in chunks: chunk 0 = one block, 1 = single samples, otherwise random sizes
 * (0..2*hop+50, zeros included) from the given seed. Flushes at the end. */
static Frames *
run_chunked (const PhFeatureConfig *config, const float *f32, const gint16 *s16, gsize n,
             gint mode, guint32 seed)
{
  PhFeatures *features = new_features (config);
  Frames *frames = frames_new (ph_feature_config_dim (config));
  GRand *rand = g_rand_new_with_seed (seed);
  gsize done = 0;

  while (done < n) {
    gsize chunk = mode == 0 ? n : mode == 1 ? 1
                : (gsize) g_rand_int_range (rand, 0, 2 * config->hop_length + 50);
    chunk = MIN (chunk, n - done);
    if (s16 != NULL)
      ph_features_push_s16 (features, s16 + done, chunk, collect, frames);
    else
      ph_features_push_f32 (features, f32 + done, chunk, collect, frames);
    done += chunk;
  }
  ph_features_flush (features, collect, frames);
  g_rand_free (rand);
  ph_features_free (features);
  return frames;
}

static void
assert_frames_identical (const Frames *a, const Frames *b)
{
  g_assert_cmpuint (a->n_frames, ==, b->n_frames);
  g_assert_cmpuint (a->dim, ==, b->dim);
  g_assert_cmpint (memcmp (a->values->data, b->values->data,
                           a->n_frames * a->dim * sizeof (float)), ==, 0);
}

static void
assert_all_finite (const Frames *frames)
{
  for (guint i = 0; i < frames->values->len; i++)
    g_assert_true (isfinite (g_array_index (frames->values, float, i)));
}

/* ---- the naive reference ----------------------------------------------------------- */

static double
ref_mel (double hz)
{
  return 1127.0 * log (1.0 + hz / 700.0);
}

static double
ref_high_freq (const PhFeatureConfig *c)
{
  return c->high_freq > 0 ? c->high_freq : c->sample_rate / 2.0;
}

/* Centre of triangular filter m on the mel scale. */
static double
ref_filter_centre (const PhFeatureConfig *c, guint m)
{
  double low = ref_mel (c->low_freq), high = ref_mel (ref_high_freq (c));

  return low + (m + 1) * (high - low) / (c->num_mel_bins + 1);
}

static double
ref_window (const PhFeatureConfig *c, guint j)
{
  double a = 2.0 * G_PI * j / (c->window_length - 1);

  switch (c->window_type) {
  case PH_WINDOW_HANN:
    return 0.5 - 0.5 * cos (a);
  case PH_WINDOW_POVEY:
    return pow (0.5 - 0.5 * cos (a), 0.85);
  default:
    return 0.54 - 0.46 * cos (a);
  }
}

/* Base features (c1..cN, log E) of frame i of x[0..n), everything in double, with the
 * window placed at i*hop + hop/2 - window/2 as the header says. log_mel may be NULL. */
static void
ref_base_features (const PhFeatureConfig *c, const float *x, gsize n, gint64 i,
                   double *out, double *log_mel_out)
{
  guint w = c->window_length, m_bins = c->num_mel_bins;
  guint fft = 1;
  gint64 start = i * c->hop_length + c->hop_length / 2 - w / 2;
  double *raw = g_new0 (double, w), *y = g_new0 (double, w);
  double *log_mel = g_new0 (double, m_bins);
  double energy = 0.0;
  double spacing = (ref_mel (ref_high_freq (c)) - ref_mel (c->low_freq)) / (m_bins + 1);

  while (fft < w)
    fft *= 2;
  for (guint j = 0; j < w; j++) {
    gint64 s = start + j;
    raw[j] = s >= 0 && s < (gint64) n ? x[s] : 0.0;
    energy += raw[j] * raw[j];
  }
  for (guint j = 0; j < w; j++)
    y[j] = (raw[j] - c->preemphasis * raw[j > 0 ? j - 1 : 0]) * ref_window (c, j);

  for (guint k = 0; k <= fft / 2; k++) {
    double re = 0.0, im = 0.0, mel = ref_mel ((double) k * c->sample_rate / fft);
    for (guint j = 0; j < w; j++) {
      double angle = 2.0 * G_PI * (double) ((guint64) j * k % fft) / fft;
      re += y[j] * cos (angle);
      im -= y[j] * sin (angle);
    }
    for (guint m = 0; m < m_bins; m++) {
      /* Triangles rise from the previous centre and fall to the next one. */
      double weight = 1.0 - fabs (mel - ref_filter_centre (c, m)) / spacing;
      if (weight > 0)
        log_mel[m] += weight * (re * re + im * im);
    }
  }
  for (guint m = 0; m < m_bins; m++)
    log_mel[m] = log (MAX (log_mel[m], 1e-10));
  for (guint k = 1; k <= c->num_ceps; k++) {
    double sum = 0.0;
    for (guint m = 0; m < m_bins; m++)
      sum += log_mel[m] * cos (G_PI * k * (m + 0.5) / m_bins);
    sum *= sqrt (2.0 / m_bins);
    if (c->cep_lifter > 0)
      sum *= 1.0 + c->cep_lifter / 2.0 * sin (G_PI * k / c->cep_lifter);
    out[k - 1] = sum;
  }
  if (c->use_energy)
    out[c->num_ceps] = log (MAX (energy, 1e-10));
  if (log_mel_out != NULL)
    memcpy (log_mel_out, log_mel, m_bins * sizeof (double));
  g_free (raw);
  g_free (y);
  g_free (log_mel);
}

/* Relative error of a frame against the reference, scaled by the frame's largest value
 * (single-precision FFT error is relative to the whole spectrum, not per coefficient). */
static double
frame_error (const float *got, const double *want, guint dim)
{
  double scale = 1.0, worst = 0.0;

  for (guint d = 0; d < dim; d++)
    scale = MAX (scale, fabs (want[d]));
  for (guint d = 0; d < dim; d++)
    worst = MAX (worst, fabs (got[d] - want[d]) / scale);
  return worst;
}

static void
check_against_reference (const PhFeatureConfig *config, const float *x, gsize n)
{
  guint dim = ph_feature_config_dim (config);
  guint n_frames = 0;
  GError *error = NULL;
  float *got = ph_features_compute_f32 (config, x, n, &n_frames, &error);
  gint64 picks[] = { 0, 1, 2, 7, 33, (gint64) n_frames / 2, (gint64) n_frames - 2,
                     (gint64) n_frames - 1 };
  double *want = g_new (double, dim);

  g_assert_no_error (error);
  g_assert_cmpuint (n_frames, ==, expected_frames (n, config->hop_length));
  g_assert_cmpuint (config->delta_window, ==, 0);
  for (guint p = 0; p < G_N_ELEMENTS (picks); p++) {
    ref_base_features (config, x, n, picks[p], want, NULL);
    g_assert_cmpfloat (frame_error (got + picks[p] * dim, want, dim), <, 2e-5);
  }
  g_free (want);
  g_free (got);
}

/* ---- tests ------------------------------------------------------------------------- */

static void
test_defaults (void)
{
  PhFeatureConfig c16, c8;
  GError *error = NULL;
  PhFeatures *features;

  ph_feature_config_init (&c16, 16000);
  g_assert_cmpuint (c16.window_length, ==, 400);
  g_assert_cmpuint (c16.hop_length, ==, 160);
  g_assert_cmpuint (c16.window_type, ==, PH_WINDOW_HAMMING);
  g_assert_cmpfloat (c16.preemphasis, ==, 0.97f);
  g_assert_cmpuint (c16.num_mel_bins, ==, 26);
  g_assert_cmpfloat (c16.low_freq, ==, 20.0f);
  g_assert_cmpfloat (c16.high_freq, ==, 0.0f);
  g_assert_cmpuint (c16.num_ceps, ==, 12);
  g_assert_cmpfloat (c16.cep_lifter, ==, 22.0f);
  g_assert_cmpuint (c16.use_energy, ==, 1);
  g_assert_cmpuint (c16.delta_window, ==, 2);
  g_assert_cmpuint (c16.cmn_window, ==, 0);
  g_assert_cmpuint (ph_feature_config_dim (&c16), ==, 26);
  g_assert_true (ph_feature_config_validate (&c16, &error));
  g_assert_no_error (error);
  /* (400 - 160) / 2 = 120 samples of window overhang, plus 2 frames for deltas. */
  g_assert_cmpuint (ph_feature_config_latency_samples (&c16), ==, 120 + 2 * 160);

  features = new_features (&c16);
  g_assert_cmpuint (ph_features_lookahead (features), ==, 1 + 2);
  g_assert_true (memcmp (ph_features_config (features), &c16, sizeof c16) == 0);
  ph_features_free (features);

  ph_feature_config_init (&c8, 8000);
  g_assert_cmpuint (c8.window_length, ==, 200);
  g_assert_cmpuint (c8.hop_length, ==, 80);
  g_assert_cmpuint (ph_feature_config_dim (&c8), ==, 26);
  g_assert_true (ph_feature_config_validate (&c8, &error));
}

static void
check_chunking_invariance (const PhFeatureConfig *config)
{
  const gsize n = 3 * 16000 + 37;
  float *x = make_test_signal (config->sample_rate, n, 1234);
  gint16 *x16 = to_s16 (x, n);

  for (gint use_s16 = 0; use_s16 <= 1; use_s16++) {
    const float *f32 = use_s16 ? NULL : x;
    const gint16 *s16 = use_s16 ? x16 : NULL;
    Frames *whole = run_chunked (config, f32, s16, n, 0, 0);
    g_assert_cmpuint (whole->n_frames, ==, expected_frames (n, config->hop_length));
    assert_all_finite (whole);
    for (gint mode = 1; mode <= 4; mode++) {
      Frames *chunked = run_chunked (config, f32, s16, n, mode, 17 * mode + 3);
      assert_frames_identical (whole, chunked);
      frames_free (chunked);
    }
    if (!use_s16) {
      guint n_frames = 0;
      GError *error = NULL;
      float *offline = ph_features_compute_f32 (config, x, n, &n_frames, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (n_frames, ==, whole->n_frames);
      g_assert_cmpint (memcmp (offline, whole->values->data,
                               n_frames * whole->dim * sizeof (float)), ==, 0);
      g_free (offline);
    }
    frames_free (whole);
  }
  g_free (x16);
  g_free (x);
}

static void
test_chunking_invariance (void)
{
  PhFeatureConfig config;

  ph_feature_config_init (&config, 16000);
  check_chunking_invariance (&config);
  config.cmn_window = 50;
  check_chunking_invariance (&config);
  /* Odd hop with an even window: the window placement rounds, framing must not. */
  config.hop_length = 161;
  config.window_type = PH_WINDOW_POVEY;
  check_chunking_invariance (&config);
}

/* A second stream after flush, and a stream after a mid-stream reset, start afresh. */
static void
test_flush_and_reset_restart (void)
{
  PhFeatureConfig config;
  const gsize n = 16000;
  float *x = make_test_signal (16000, n, 99);
  Frames *fresh, *again;
  PhFeatures *features;

  ph_feature_config_init (&config, 16000);
  config.cmn_window = 20;
  fresh = run_chunked (&config, x, NULL, n, 0, 0);
  features = new_features (&config);
  again = frames_new (fresh->dim);
  ph_features_push_f32 (features, x + 5000, 3000, NULL, NULL);
  ph_features_flush (features, NULL, NULL);
  ph_features_push_f32 (features, x, 7777, NULL, NULL);
  ph_features_reset (features);
  ph_features_push_f32 (features, x, n, collect, again);
  ph_features_flush (features, collect, again);
  assert_frames_identical (fresh, again);
  ph_features_free (features);
  frames_free (again);
  frames_free (fresh);
  g_free (x);
}

static void
test_reference_16k (void)
{
  PhFeatureConfig config;
  const gsize n = 8000 + 59;
  float *x = make_test_signal (16000, n, 7);

  ph_feature_config_init (&config, 16000);
  config.delta_window = 0;
  check_against_reference (&config, x, n);
  config.window_type = PH_WINDOW_HANN;
  config.cep_lifter = 0;
  config.use_energy = 0;
  check_against_reference (&config, x, n);
  config.window_type = PH_WINDOW_POVEY;
  config.num_mel_bins = 40;
  config.num_ceps = 20;
  config.low_freq = 64;
  config.high_freq = 7000;
  config.preemphasis = 0;
  check_against_reference (&config, x, n);
  g_free (x);
}

static void
test_reference_8k (void)
{
  PhFeatureConfig config;
  const gsize n = 4000 + 13;
  float *x = make_test_signal (8000, n, 8);
  PhFeatures *features;
  GError *error = NULL;

  ph_feature_config_init (&config, 8000);
  features = new_features (&config);
  g_assert_cmpuint (ph_features_lookahead (features), ==, 1 + 2);
  ph_features_free (features);
  config.delta_window = 0;
  check_against_reference (&config, x, n);

  /* The filterbank may reach Nyquist (4 kHz) and no further. */
  config.high_freq = 4000;
  check_against_reference (&config, x, n);
  config.high_freq = 4001;
  g_assert_false (ph_feature_config_validate (&config, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "high_freq"));
  g_clear_error (&error);
  g_free (x);
}

/* With num_ceps = M-1, no lifter, the log mel energies come back from c1..c(M-1)
 * up to a constant (the missing c0) by the inverse DCT-II: enough for an argmax. */
static guint
strongest_mel_bin (const PhFeatureConfig *c, const float *ceps)
{
  guint m_bins = c->num_mel_bins, best = 0;
  double best_value = -G_MAXDOUBLE;

  for (guint m = 0; m < m_bins; m++) {
    double value = 0.0;
    for (guint k = 1; k < m_bins; k++)
      value += ceps[k - 1] * cos (G_PI * k * (m + 0.5) / m_bins);
    if (value > best_value) {
      best_value = value;
      best = m;
    }
  }
  return best;
}

/* The filter whose triangle peaks nearest the frequency on the mel scale. */
static guint
filter_containing (const PhFeatureConfig *c, double hz)
{
  guint best = 0;

  for (guint m = 1; m < c->num_mel_bins; m++)
    if (fabs (ref_mel (hz) - ref_filter_centre (c, m))
        < fabs (ref_mel (hz) - ref_filter_centre (c, best)))
      best = m;
  return best;
}

/* A sine at `hz` through a filterbank VTLP-warped by `warp` peaks in the filter that
 * holds `seen_hz`, the frequency the warp should make it look like. */
static void
check_warped_sine_peak (guint rate, double hz, double warp, double seen_hz)
{
  PhFeatureConfig config;
  const gsize n = rate / 2;
  float *x = g_new (float, n);
  float *features;
  guint n_frames = 0;
  GError *error = NULL;

  ph_feature_config_init (&config, rate);
  config.num_ceps = config.num_mel_bins - 1;
  config.cep_lifter = 0;
  config.use_energy = 0;
  config.delta_window = 0;
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (0.5 * sin (2.0 * G_PI * hz * i / rate));
  features = ph_features_compute_warped_f32 (&config, warp, x, n, &n_frames, &error);
  g_assert_no_error (error);
  for (guint t = 10; t < n_frames - 10; t += 7)
    g_assert_cmpuint (strongest_mel_bin (&config, features + t * config.num_ceps), ==,
                      filter_containing (&config, seen_hz));
  g_free (features);
  g_free (x);
}

static void
check_sine_peak (guint rate, double hz)
{
  check_warped_sine_peak (rate, hz, 1.0, hz);
}

static void
test_sine_peaks (void)
{
  PhFeatureConfig c;

  ph_feature_config_init (&c, 16000);
  /* 1 kHz by hand: mel(1000) = 1000.0; centres are spaced (2840.0 - 31.6) / 27 = 104.0
   * mel apart from 31.6, so filter m peaks at 31.6 + 104.0 (m + 1): m = 8 peaks at 967.8. */
  g_assert_cmpuint (filter_containing (&c, 1000.0), ==, 8);
  check_sine_peak (16000, 1000.0);
  check_sine_peak (16000, 440.0);
  check_sine_peak (16000, 3000.0);
  check_sine_peak (16000, 7000.0);
  ph_feature_config_init (&c, 8000);
  check_sine_peak (8000, 1000.0);
  /* Near Nyquist at 8 kHz the last filter, which ends at 4 kHz, takes it. */
  g_assert_cmpuint (filter_containing (&c, 3800.0), ==, c.num_mel_bins - 1);
  check_sine_peak (8000, 3800.0);
}

/* VTLP: warp 1 is the plain filterbank, bit for bit; other warps move a tone to where
 * Jaitly & Hinton's piecewise-linear warp puts it (bend at 0.6 Nyquist, worked by hand
 * below); out-of-range warps are refused. */
static void
test_vtlp_warp (void)
{
  PhFeatureConfig c;
  gsize n = 8000;
  float *x = make_test_signal (16000, n, 7);
  guint n_plain = 0, n_warped = 0;
  GError *error = NULL;

  ph_feature_config_init (&c, 16000);
  float *plain = ph_features_compute_f32 (&c, x, n, &n_plain, &error);
  float *warped = ph_features_compute_warped_f32 (&c, 1.0, x, n, &n_warped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_plain, ==, n_warped);
  g_assert_cmpmem (plain, n_plain * ph_feature_config_dim (&c) * sizeof (float), warped,
                   n_warped * ph_feature_config_dim (&c) * sizeof (float));
  g_free (warped);
  warped = ph_features_compute_warped_f32 (&c, 1.2, x, n, &n_warped, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (plain, warped, n_plain * sizeof (float)) != 0);

  /* Below the bend (0.6 * 8000 * min(warp, 1) / warp) frequencies scale by the warp. */
  check_warped_sine_peak (16000, 1000.0, 1.2, 1200.0);
  check_warped_sine_peak (16000, 1000.0, 0.8, 800.0);
  /* Above it, warp 0.8: the bend is 4800 Hz, mapped to 3840; the line from (4800, 3840)
   * to (8000, 8000) has slope 1.3, so 6400 Hz (1600 below Nyquist) reads as 5920 Hz.
   * That is filter 23, where the plain filterbank gives 24 and a straight 0.8 scaling
   * 22. */
  g_assert_cmpuint (filter_containing (&c, 5920.0), ==, 23);
  g_assert_cmpuint (filter_containing (&c, 6400.0), ==, 24);
  g_assert_cmpuint (filter_containing (&c, 0.8 * 6400.0), ==, 22);
  check_warped_sine_peak (16000, 6400.0, 0.8, 5920.0);

  PhFeatures *features = ph_features_new (&c, &error);
  g_assert_no_error (error);
  g_assert_false (ph_features_set_vtlp_warp (features, 2.0, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "VTLP warp 2"));
  g_clear_error (&error);
  g_assert_false (ph_features_set_vtlp_warp (features, NAN, &error));
  g_clear_error (&error);
  ph_features_free (features);
  g_free (warped);
  g_free (plain);
  g_free (x);
}

static void
test_silence (void)
{
  PhFeatureConfig config;
  float *zeros = g_new0 (float, 4000);
  Frames *frames;

  ph_feature_config_init (&config, 16000);
  config.cmn_window = 10;
  frames = run_chunked (&config, zeros, NULL, 4000, 2, 5);
  g_assert_cmpuint (frames->n_frames, ==, 25);
  assert_all_finite (frames);
  /* Every frame is the same silence, so deltas are exactly zero. */
  for (guint64 t = 0; t < frames->n_frames; t++)
    for (guint d = 13; d < 26; d++)
      g_assert_cmpfloat (frame_at (frames, t)[d], ==, 0.0f);
  frames_free (frames);

  config.cmn_window = 0;
  frames = run_chunked (&config, zeros, NULL, 4000, 0, 0);
  /* Log energy is the floor, log(1e-10), in every frame. */
  for (guint64 t = 0; t < frames->n_frames; t++)
    g_assert_cmpfloat (fabs (frame_at (frames, t)[12] - log (1e-10)), <, 1e-4);
  frames_free (frames);
  g_free (zeros);
}

/* A constant (DC) signal: frames whose whole delta neighbourhood lies inside the
 * signal see identical samples, so their deltas are exactly 0. */
static void
test_constant_signal_deltas (void)
{
  PhFeatureConfig config;
  const gsize n = 16000;
  float *x = g_new (float, n);
  Frames *frames;

  for (gsize i = 0; i < n; i++)
    x[i] = 0.5f;
  ph_feature_config_init (&config, 16000);
  frames = run_chunked (&config, x, NULL, n, 0, 0);
  /* Frame t's window spans [160 t - 120, 160 t + 280); +-2 frames must stay inside. */
  for (guint64 t = 3; t + 4 < frames->n_frames; t++)
    for (guint d = 13; d < 26; d++)
      g_assert_cmpfloat (frame_at (frames, t)[d], ==, 0.0f);
  frames_free (frames);
  g_free (x);
}

/* Deltas against the regression formula, computed here from the delta-free features,
 * with edge frames replicated. */
static void
test_delta_formula (void)
{
  PhFeatureConfig config;
  const gsize n = 5000 + 3;
  float *x = make_test_signal (16000, n, 11);

  for (guint window = 1; window <= 3; window++) {
    Frames *plain, *with_deltas;
    ph_feature_config_init (&config, 16000);
    config.delta_window = 0;
    config.cmn_window = window == 2 ? 15 : 0;
    plain = run_chunked (&config, x, NULL, n, 0, 0);
    config.delta_window = window;
    with_deltas = run_chunked (&config, x, NULL, n, 0, 0);
    g_assert_cmpuint (plain->n_frames, ==, with_deltas->n_frames);
    for (gint64 t = 0; t < (gint64) plain->n_frames; t++) {
      const float *row = frame_at (with_deltas, t);
      g_assert_cmpint (memcmp (row, frame_at (plain, t), 13 * sizeof (float)), ==, 0);
      for (guint d = 0; d < 13; d++) {
        double num = 0.0, den = 0.0;
        for (gint k = 1; k <= (gint) window; k++) {
          gint64 ahead = MIN (t + k, (gint64) plain->n_frames - 1);
          gint64 behind = MAX (t - k, 0);
          num += k * ((double) frame_at (plain, ahead)[d] - frame_at (plain, behind)[d]);
          den += 2.0 * k * k;
        }
        g_assert_cmpfloat (fabs (row[13 + d] - num / den), <=, 1e-6 * (1.0 + fabs (num / den)));
      }
    }
    frames_free (plain);
    frames_free (with_deltas);
  }
  g_free (x);
}

/* x[n] = r^n sin(2 pi n / 32): every frame is the previous one scaled by r^hop, so the
 * log energy is a linear ramp of slope 2 hop ln r per frame and the cepstra, which
 * ignore a constant shift of all log mel energies, are constant. */
static void
test_delta_of_linear_ramp (void)
{
  PhFeatureConfig config;
  const gsize n = 8000;
  const double log_r = log (1000.0) / n; /* amplitude 1e-3 up to 1 */
  double slope = 2.0 * 160 * log_r;
  float *x = g_new (float, n);
  Frames *frames;

  for (gsize i = 0; i < n; i++)
    x[i] = (float) (1e-3 * exp (log_r * i) * sin (2.0 * G_PI * i / 32.0));
  ph_feature_config_init (&config, 16000);
  frames = run_chunked (&config, x, NULL, n, 0, 0);
  for (guint64 t = 3; t + 4 < frames->n_frames; t++) {
    const float *row = frame_at (frames, t);
    g_assert_cmpfloat (fabs (row[13 + 12] - slope), <, 1e-3 * slope);
    g_assert_cmpfloat (fabs (row[12] - frame_at (frames, t - 1)[12] - slope), <, 1e-3 * slope);
    for (guint d = 13; d < 13 + 12; d++)
      g_assert_cmpfloat (fabs (row[d]), <, 1e-3);
  }
  frames_free (frames);
  g_free (x);
}

/* Streaming CMN against the causal mean computed here in double. */
static void
test_cmn (void)
{
  PhFeatureConfig config;
  const gsize n = 16000 + 77;
  const guint window = 20;
  float *x = make_test_signal (16000, n, 21);
  Frames *plain, *normalised;

  ph_feature_config_init (&config, 16000);
  config.delta_window = 0;
  plain = run_chunked (&config, x, NULL, n, 0, 0);
  config.cmn_window = window;
  normalised = run_chunked (&config, x, NULL, n, 2, 4);
  g_assert_cmpuint (plain->n_frames, ==, normalised->n_frames);
  for (guint64 t = 0; t < plain->n_frames; t++) {
    guint64 first = t + 1 >= window ? t + 1 - window : 0;
    for (guint d = 0; d < 13; d++) {
      double mean = 0.0;
      for (guint64 s = first; s <= t; s++)
        mean += frame_at (plain, s)[d];
      mean /= (double) (t + 1 - first);
      g_assert_cmpfloat (fabs (frame_at (normalised, t)[d] - (frame_at (plain, t)[d] - mean)),
                         <, 1e-4);
    }
  }
  /* The first frame is its own mean. */
  for (guint d = 0; d < 13; d++)
    g_assert_cmpfloat (frame_at (normalised, 0)[d], ==, 0.0f);
  frames_free (plain);
  frames_free (normalised);
  g_free (x);
}

/* Pushing k hops of samples emits exactly k - lookahead frames, each frame t appears
 * exactly latency_samples after the end of its span, and flush emits the rest. */
static void
check_lookahead (const PhFeatureConfig *config)
{
  PhFeatures *features = new_features (config);
  guint hop = config->hop_length, lookahead = ph_features_lookahead (features);
  guint latency = ph_feature_config_latency_samples (config);
  const guint n_hops = 40;
  gsize n = (gsize) n_hops * hop;
  float *x = make_test_signal (config->sample_rate, n, 3);
  guint64 count = 0;

  for (guint k = 1; k <= n_hops; k++) {
    ph_features_push_f32 (features, x + (gsize) (k - 1) * hop, hop, count_frames, &count);
    g_assert_cmpuint (count, ==, k > lookahead ? k - lookahead : 0);
  }
  ph_features_flush (features, count_frames, &count);
  g_assert_cmpuint (count, ==, n_hops);

  count = 0;
  for (gsize i = 0; i < n; i++) {
    guint64 before = count;
    ph_features_push_f32 (features, x + i, 1, count_frames, &count);
    /* After i + 1 samples, frame t is out iff i + 1 >= (t + 1) * hop + latency. */
    if (count > before) {
      g_assert_cmpuint (count, ==, before + 1);
      g_assert_cmpuint (i + 1, ==, count * hop + latency);
    }
  }
  g_assert_cmpuint (count, ==, (n - latency) / hop);
  ph_features_push_f32 (features, x, 1, count_frames, &count);
  ph_features_flush (features, count_frames, &count);
  g_assert_cmpuint (count, ==, n_hops + 1);
  ph_features_free (features);
  g_free (x);
}

static void
test_lookahead (void)
{
  PhFeatureConfig config;

  ph_feature_config_init (&config, 16000);
  check_lookahead (&config);
  config.cmn_window = 7;
  config.delta_window = 0;
  check_lookahead (&config);
  config.delta_window = 4;
  config.hop_length = 161; /* odd hop, even window */
  check_lookahead (&config);
  config.window_length = 401;
  check_lookahead (&config);
  config.hop_length = 400;
  check_lookahead (&config);
  config.window_length = 1024;
  config.hop_length = 100; /* overhang 462 samples: 5 frames */
  check_lookahead (&config);
  ph_feature_config_init (&config, 8000);
  check_lookahead (&config);
}

static void
test_nonfinite_samples (void)
{
  PhFeatureConfig config;
  const gsize n = 6000;
  float *dirty = make_test_signal (16000, n, 5);
  float *clean = g_memdup2 (dirty, n * sizeof (float));
  Frames *a, *b;
  const gsize bad[] = { 0, 1, 399, 1000, 1001, 1002, 2500, 5999 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    dirty[bad[i]] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
    clean[bad[i]] = 0.0f;
  }
  for (gsize i = 3000; i < 3400; i++) {
    dirty[i] = NAN; /* a whole window of NaN */
    clean[i] = 0.0f;
  }
  ph_feature_config_init (&config, 16000);
  config.cmn_window = 30;
  a = run_chunked (&config, dirty, NULL, n, 2, 9);
  b = run_chunked (&config, clean, NULL, n, 0, 0);
  assert_all_finite (a);
  assert_frames_identical (a, b);
  frames_free (a);
  frames_free (b);
  g_free (dirty);
  g_free (clean);
}

/* Samples at an odd address (GStreamer does not promise aligned audio memory) give the
 * same frames, read without misaligned loads (issue 17: UBSan flagged the int16 and
 * float loads; run under -fsanitize=alignment to see it). */
static void
test_misaligned_samples (void)
{
  PhFeatureConfig config;
  const gsize n = 4000;
  float *f32 = make_test_signal (16000, n, 6);
  gint16 *s16 = to_s16 (f32, n);
  guint8 *bytes = g_malloc (n * sizeof (float) + 4);

  ph_feature_config_init (&config, 16000);
  for (gsize shift = 1; shift < 4; shift++) {
    Frames *aligned = run_chunked (&config, NULL, s16, n, 2, 3);
    memcpy (bytes + shift, s16, n * sizeof (gint16));
    Frames *odd = run_chunked (&config, NULL, (const gint16 *) (gconstpointer) (bytes + shift),
                               n, 2, 3);
    assert_frames_identical (aligned, odd);
    frames_free (aligned);
    frames_free (odd);

    aligned = run_chunked (&config, f32, NULL, n, 2, 4);
    memcpy (bytes + shift, f32, n * sizeof (float));
    odd = run_chunked (&config, (const float *) (gconstpointer) (bytes + shift), NULL, n, 2, 4);
    assert_frames_identical (aligned, odd);
    frames_free (aligned);
    frames_free (odd);
  }
  g_free (bytes);
  g_free (s16);
  g_free (f32);
}

static void
test_empty_pushes (void)
{
  PhFeatureConfig config;
  PhFeatures *features;
  float sample = 0.25f;
  gint16 sample16 = 1000;
  float *out;
  guint n_frames = 99;
  GError *error = NULL;

  ph_feature_config_init (&config, 16000);
  features = new_features (&config);
  ph_features_push_f32 (features, NULL, 0, fail_on_frame, NULL);
  ph_features_push_s16 (features, NULL, 0, fail_on_frame, NULL);
  ph_features_push_f32 (features, &sample, 0, fail_on_frame, NULL);
  ph_features_flush (features, fail_on_frame, NULL);
  /* One sample is one frame, emitted only at flush. */
  ph_features_push_s16 (features, &sample16, 1, fail_on_frame, NULL);
  {
    guint64 count = 0;
    ph_features_flush (features, count_frames, &count);
    g_assert_cmpuint (count, ==, 1);
  }
  ph_features_free (features);

  out = ph_features_compute_f32 (&config, NULL, 0, &n_frames, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_cmpuint (n_frames, ==, 0);
  g_free (out);
}

typedef void (*ConfigBreaker) (PhFeatureConfig *c);

static void break_rate (PhFeatureConfig *c) { c->sample_rate = 0; }
static void break_hop (PhFeatureConfig *c) { c->hop_length = c->window_length + 1; }
static void break_zero_hop (PhFeatureConfig *c) { c->hop_length = 0; }
static void break_ceps (PhFeatureConfig *c) { c->num_ceps = c->num_mel_bins; }
static void break_high (PhFeatureConfig *c) { c->high_freq = 8000.5f; }
static void break_low (PhFeatureConfig *c) { c->low_freq = 7000; c->high_freq = 6000; }
static void break_window_type (PhFeatureConfig *c) { c->window_type = 3; }
static void break_preemphasis (PhFeatureConfig *c) { c->preemphasis = NAN; }
static void break_energy (PhFeatureConfig *c) { c->use_energy = 2; }
static void break_mel_bins (PhFeatureConfig *c) { c->window_length = 32; c->hop_length = 16; }

static void
test_invalid_configs (void)
{
  static const struct {
    ConfigBreaker apply;
    const char *field;
  } cases[] = {
    { break_rate, "sample_rate" },
    { break_hop, "hop_length" },
    { break_zero_hop, "hop_length" },
    { break_ceps, "num_ceps" },
    { break_high, "high_freq" },
    { break_low, "low_freq" },
    { break_window_type, "window_type" },
    { break_preemphasis, "preemphasis" },
    { break_energy, "use_energy" },
    { break_mel_bins, "num_mel_bins" }, /* 26 filters cannot fit a 32-point FFT */
  };
  float x[10] = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    PhFeatureConfig config;
    GError *error = NULL;
    guint n_frames = 7;
    ph_feature_config_init (&config, 16000);
    cases[i].apply (&config);

    g_assert_false (ph_feature_config_validate (&config, &error));
    g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, cases[i].field));
    g_clear_error (&error);

    g_assert_null (ph_features_new (&config, &error));
    g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
    g_clear_error (&error);

    g_assert_null (ph_features_compute_f32 (&config, x, 10, &n_frames, &error));
    g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
    g_assert_cmpuint (n_frames, ==, 0);
    g_clear_error (&error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/features/defaults", test_defaults);
  g_test_add_func ("/features/chunking-invariance", test_chunking_invariance);
  g_test_add_func ("/features/flush-and-reset-restart", test_flush_and_reset_restart);
  g_test_add_func ("/features/reference-16k", test_reference_16k);
  g_test_add_func ("/features/reference-8k", test_reference_8k);
  g_test_add_func ("/features/sine-peaks", test_sine_peaks);
  g_test_add_func ("/features/vtlp-warp", test_vtlp_warp);
  g_test_add_func ("/features/silence", test_silence);
  g_test_add_func ("/features/constant-signal-deltas", test_constant_signal_deltas);
  g_test_add_func ("/features/delta-formula", test_delta_formula);
  g_test_add_func ("/features/delta-of-linear-ramp", test_delta_of_linear_ramp);
  g_test_add_func ("/features/cmn", test_cmn);
  g_test_add_func ("/features/lookahead", test_lookahead);
  g_test_add_func ("/features/nonfinite-samples", test_nonfinite_samples);
  g_test_add_func ("/features/misaligned-samples", test_misaligned_samples);
  g_test_add_func ("/features/empty-pushes", test_empty_pushes);
  g_test_add_func ("/features/invalid-configs", test_invalid_configs);
  return g_test_run ();
}
