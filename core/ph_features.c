/* ph_features.c: the streaming MFCC extractor (framing contract in ph_features.h).
 *
 * Data flow, one base frame at a time:
 *   samples -> ring (last window_length samples) -> frame assembly -> log energy,
 *   pre-emphasis + window -> FFT -> power -> mel -> log -> DCT + lifter
 *   -> streaming CMN -> delta history -> deltas -> callback.
 *
 * The stream is conceptually prefixed with `pad` = (window - hop) / 2 zeros, so base
 * frame b covers internal samples [b*hop, b*hop + window) and is computed the moment
 * the last of them arrives. Frames are computed by the same code in the same order
 * whatever the chunking, which is what makes the output bit-identical. */
#include "ph_features.h"
#include "ph_error.h"

#include <fftw3.h>
#include <math.h>
#include <string.h>

#define PH_LOG_FLOOR 1e-10        /* floor before every log, so silence stays finite */
#define PH_SAMPLE_LIMIT 1e6f      /* clamp so absurd float input cannot overflow the FFT */
/* Limits on what a config (and so a model file) may ask for, sized for speech so that
 * no file can make the extractor allocate or compute without bound (docs/model-format.md):
 * rates from 1 kHz to 192 kHz, an analysis window of at most 100 ms, a hop of at least
 * 1 ms (at most 1000 frames per second), at most 128 mel filters, a CMN window of at
 * most 30 s of frames. */
#define PH_MIN_SAMPLE_RATE 1000
#define PH_MAX_SAMPLE_RATE 192000
#define PH_MAX_WINDOW_MS 100
#define PH_MIN_HOP_MS 1
#define PH_MAX_MEL_BINS 128
#define PH_MAX_DELTA_WINDOW 50
#define PH_MAX_CMN_SECONDS 30

/* FFTW's planner is not thread-safe; plan creation and destruction take this lock.
 * It is the library's only global. */
static GMutex fftw_planner_lock;

typedef enum {
  SAMPLES_ZERO, /* no source: zeros (the padding after the end at flush) */
  SAMPLES_S16,
  SAMPLES_F32,
} SampleFormat;

/* The non-zero span of one triangular filter inside its row of mel_weights. */
typedef struct {
  guint first_bin;
  guint n_bins;
} MelFilter;

struct _PhFeatures {
  PhFeatureConfig config;
  guint pad;        /* zeros in front of the stream: (window - hop) / 2 */
  guint fft_size;   /* next power of two >= window_length */
  guint n_fft_bins; /* fft_size / 2 + 1 */
  guint base_dim;   /* num_ceps + use_energy */
  guint dim;        /* base_dim, doubled with deltas */
  guint delta_slots; /* 2 * delta_window + 1 */

  /* Constant tables, made once. */
  float *window;        /* [window_length] */
  MelFilter *filters;   /* [num_mel_bins] */
  float *mel_weights;   /* [num_mel_bins][n_fft_bins] */
  double *dct;          /* [num_ceps][num_mel_bins], liftering folded in */

  /* FFT buffers and plan. */
  float *fft_in;          /* [fft_size] */
  fftwf_complex *fft_out; /* [n_fft_bins] */
  fftwf_plan plan;

  /* Per-frame scratch. */
  float *frame;    /* [window_length] raw samples of the current frame */
  float *power;    /* [n_fft_bins] */
  double *log_mel; /* [num_mel_bins] */
  float *base;     /* [base_dim] cepstra (+ log energy) of the current frame */
  float *output;   /* [dim] the frame handed to the callback */

  /* Streaming state (cleared by reset). */
  float *ring;         /* [window_length] the most recent samples */
  guint ring_pos;      /* next slot to write */
  guint64 position;    /* internal samples written, including the leading pad */
  guint64 n_base;      /* base frames computed */
  guint64 n_out;       /* frames emitted */
  float *cmn_history;  /* [cmn_window][base_dim] un-normalised base frames */
  double *cmn_sum;     /* [base_dim] sum over the frames in cmn_history */
  float *delta_history; /* [delta_slots][base_dim] normalised base frames */
};

/* ---- configuration -------------------------------------------------------------- */

/* Fills `config` with the defaults above for `sample_rate` (window and hop scaled). */
void
ph_feature_config_init (PhFeatureConfig *config, guint32 sample_rate)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->sample_rate = sample_rate;
  config->window_length = (guint32) (((guint64) sample_rate * 25 + 500) / 1000);
  config->hop_length = (guint32) (((guint64) sample_rate * 10 + 500) / 1000);
  config->window_type = PH_WINDOW_HAMMING;
  config->preemphasis = 0.97f;
  config->num_mel_bins = 26;
  config->low_freq = 20.0f;
  config->high_freq = 0.0f;
  config->num_ceps = 12;
  config->cep_lifter = 22.0f;
  config->use_energy = 1;
  config->delta_window = 2;
  config->cmn_window = 0;
}

static guint
next_power_of_two (guint n)
{
  guint size = 1;

  while (size < n)
    size <<= 1;
  return size;
}

static double
mel_scale (double hz)
{
  return 1127.0 * log (1.0 + hz / 700.0);
}

static double
effective_high_freq (const PhFeatureConfig *config)
{
  return config->high_freq > 0.0f ? config->high_freq : 0.5 * config->sample_rate;
}

/* Vocal tract length perturbation (Jaitly & Hinton 2013): frequency f is read as
 * warp * f, except near Nyquist, where a second line maps the rest of the band onto
 * itself so that nothing falls off the end. warp > 1 moves formants up (a shorter
 * vocal tract), as if the speaker were another one. The bend sits at 60% of Nyquist
 * (their 4.8 kHz at 16 kHz). */
static double
vtlp_warp_hz (double hz, double warp, double nyquist)
{
  double bend = 0.6 * nyquist * MIN (warp, 1.0) / warp;

  if (warp == 1.0 || hz <= bend)
    return hz * warp;
  return nyquist - (nyquist - warp * bend) / (nyquist - bend) * (nyquist - hz);
}

/* Weight of FFT bin `bin` in triangular filter `m`: triangles are equally spaced on
 * the mel scale between low_freq and the high edge, each spanning two spacings. The
 * bin's frequency goes through the VTLP warp first (1 = none). */
static double
mel_filter_weight (const PhFeatureConfig *config, double warp, guint fft_size, guint m,
                   guint bin)
{
  double low_mel = mel_scale (config->low_freq);
  double high_mel = mel_scale (effective_high_freq (config));
  double spacing = (high_mel - low_mel) / (config->num_mel_bins + 1);
  double left = low_mel + m * spacing;
  double centre = left + spacing;
  double right = centre + spacing;
  double hz = (double) bin * config->sample_rate / fft_size;
  double mel = mel_scale (vtlp_warp_hz (hz, warp, 0.5 * config->sample_rate));

  if (mel <= left || mel >= right)
    return 0.0;
  if (mel <= centre)
    return (mel - left) / (centre - left);
  return (right - mel) / (right - centre);
}

/* Index of the first filter that no FFT bin falls into, or -1 if all are non-empty. */
static gint
first_empty_mel_filter (const PhFeatureConfig *config)
{
  guint fft_size = next_power_of_two (config->window_length);

  for (guint m = 0; m < config->num_mel_bins; m++)
    {
      gboolean empty = TRUE;
      for (guint k = 0; k <= fft_size / 2 && empty; k++)
        empty = mel_filter_weight (config, 1.0, fft_size, m, k) <= 0.0;
      if (empty)
        return (gint) m;
    }
  return -1;
}

static gboolean
invalid_field (GError **error, const char *field, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid_field (GError **error, const char *field, const char *format, ...)
{
  va_list args;
  char *detail;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "feature config: %s %s", field, detail);
  g_free (detail);
  return FALSE;
}

/* The longest window: PH_MAX_WINDOW_MS of audio at `rate`. */
static guint
max_window_samples (guint32 rate)
{
  return (guint) ((guint64) rate * PH_MAX_WINDOW_MS / 1000);
}

/* The shortest hop: PH_MIN_HOP_MS of audio at `rate`, rounded up. */
static guint
min_hop_samples (guint32 rate)
{
  return (guint) (((guint64) rate * PH_MIN_HOP_MS + 999) / 1000);
}

/* The longest CMN window: PH_MAX_CMN_SECONDS of hops (needs a validated framing). */
static guint
max_cmn_frames (const PhFeatureConfig *c)
{
  return (guint) ((guint64) c->sample_rate * PH_MAX_CMN_SECONDS / c->hop_length);
}

static gboolean
validate_framing (const PhFeatureConfig *c, GError **error)
{
  if (c->sample_rate < PH_MIN_SAMPLE_RATE || c->sample_rate > PH_MAX_SAMPLE_RATE)
    return invalid_field (error, "sample_rate", "is %u Hz; expected %u..%u",
                          c->sample_rate, PH_MIN_SAMPLE_RATE, PH_MAX_SAMPLE_RATE);
  guint max_window = max_window_samples (c->sample_rate);
  if (c->window_length < 2 || c->window_length > max_window)
    return invalid_field (error, "window_length", "is %u samples; expected 2..%u (%u ms "
                          "at %u Hz)", c->window_length, max_window, PH_MAX_WINDOW_MS,
                          c->sample_rate);
  guint min_hop = min_hop_samples (c->sample_rate);
  if (c->hop_length < min_hop || c->hop_length > c->window_length)
    return invalid_field (error, "hop_length", "is %u samples; expected %u (%u ms at %u Hz)"
                          "..window_length (%u)", c->hop_length, min_hop, PH_MIN_HOP_MS,
                          c->sample_rate, c->window_length);
  if (c->window_type > PH_WINDOW_POVEY)
    return invalid_field (error, "window_type", "is %u; expected 0 (Hamming), 1 (Hann) "
                          "or 2 (Povey)", c->window_type);
  if (!isfinite (c->preemphasis) || c->preemphasis < 0.0f || c->preemphasis > 1.0f)
    return invalid_field (error, "preemphasis", "is %g; expected 0..1", c->preemphasis);
  return TRUE;
}

static gboolean
validate_filterbank (const PhFeatureConfig *c, GError **error)
{
  double nyquist = 0.5 * c->sample_rate;
  gint empty;

  if (c->num_mel_bins < 2 || c->num_mel_bins > PH_MAX_MEL_BINS)
    return invalid_field (error, "num_mel_bins", "is %u; expected 2..%u",
                          c->num_mel_bins, PH_MAX_MEL_BINS);
  if (!isfinite (c->high_freq) || c->high_freq < 0.0f || c->high_freq > nyquist)
    return invalid_field (error, "high_freq", "is %g Hz; expected 0 (Nyquist) or up to "
                          "the Nyquist frequency %g Hz", c->high_freq, nyquist);
  if (!isfinite (c->low_freq) || c->low_freq < 0.0f
      || c->low_freq >= effective_high_freq (c))
    return invalid_field (error, "low_freq", "is %g Hz; expected 0 up to below the high "
                          "edge %g Hz", c->low_freq, effective_high_freq (c));
  empty = first_empty_mel_filter (c);
  if (empty >= 0)
    return invalid_field (error, "num_mel_bins", "is %u, too many for a %u-sample window: "
                          "filter %d covers no FFT bin; use fewer bins or a longer window",
                          c->num_mel_bins, c->window_length, empty);
  return TRUE;
}

static gboolean
validate_outputs (const PhFeatureConfig *c, GError **error)
{
  if (c->num_ceps == 0 || c->num_ceps >= c->num_mel_bins)
    return invalid_field (error, "num_ceps", "is %u; expected 1..num_mel_bins-1 (%u)",
                          c->num_ceps, c->num_mel_bins - 1);
  if (!isfinite (c->cep_lifter) || c->cep_lifter < 0.0f)
    return invalid_field (error, "cep_lifter", "is %g; expected 0 (off) or positive",
                          c->cep_lifter);
  if (c->use_energy > 1)
    return invalid_field (error, "use_energy", "is %u; expected 0 or 1", c->use_energy);
  if (c->delta_window > PH_MAX_DELTA_WINDOW)
    return invalid_field (error, "delta_window", "is %u frames; expected 0..%u",
                          c->delta_window, PH_MAX_DELTA_WINDOW);
  guint max_cmn = max_cmn_frames (c);
  if (c->cmn_window > max_cmn)
    return invalid_field (error, "cmn_window", "is %u frames; expected 0..%u (%u s of "
                          "%u-sample hops at %u Hz)", c->cmn_window, max_cmn,
                          PH_MAX_CMN_SECONDS, c->hop_length, c->sample_rate);
  return TRUE;
}

/* Checks every field; FALSE with a GError naming the bad field otherwise. */
gboolean
ph_feature_config_validate (const PhFeatureConfig *config, GError **error)
{
  if (config == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "feature config: missing (NULL)");
      return FALSE;
    }
  /* Framing first: the filterbank checks rely on a sane rate and window. */
  return validate_framing (config, error) && validate_filterbank (config, error)
         && validate_outputs (config, error);
}

/* Number of values in one output frame: (num_ceps + use_energy) * (delta_window ? 2 : 1). */
guint
ph_feature_config_dim (const PhFeatureConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return (config->num_ceps + (config->use_energy ? 1 : 0)) * (config->delta_window ? 2 : 1);
}

/* Samples the analysis window reaches past the end of a frame's span: the window is
 * placed at b*hop - (window - hop)/2 (rounded down), so it ends this many (rounded up)
 * samples after (b+1)*hop. */
static guint
window_overhang (const PhFeatureConfig *config)
{
  if (config->window_length <= config->hop_length)
    return 0;
  return (config->window_length - config->hop_length + 1) / 2;
}

/* Samples between the end of frame i's span and the moment frame i can be emitted. */
guint
ph_feature_config_latency_samples (const PhFeatureConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return window_overhang (config) + config->delta_window * config->hop_length;
}

/* ---- constant tables --------------------------------------------------------------- */

static void
make_window (const PhFeatureConfig *config, float *window)
{
  guint n = config->window_length;

  for (guint j = 0; j < n; j++)
    {
      double hann = 0.5 - 0.5 * cos (2.0 * G_PI * j / (n - 1));
      double w;
      switch (config->window_type)
        {
        case PH_WINDOW_HANN:
          w = hann;
          break;
        case PH_WINDOW_POVEY:
          w = pow (hann, 0.85);
          break;
        case PH_WINDOW_HAMMING:
        default:
          w = 0.54 - 0.46 * cos (2.0 * G_PI * j / (n - 1));
          break;
        }
      window[j] = (float) w;
    }
}

static void
make_mel_filters (PhFeatures *self, double warp)
{
  const PhFeatureConfig *c = &self->config;

  for (guint m = 0; m < c->num_mel_bins; m++)
    {
      float *row = self->mel_weights + (gsize) m * self->n_fft_bins;
      MelFilter *filter = &self->filters[m];
      filter->first_bin = self->n_fft_bins;
      filter->n_bins = 0;
      for (guint k = 0; k < self->n_fft_bins; k++)
        {
          row[k] = (float) mel_filter_weight (c, warp, self->fft_size, m, k);
          if (row[k] > 0.0f)
            {
              filter->first_bin = MIN (filter->first_bin, k);
              filter->n_bins = k + 1 - filter->first_bin;
            }
        }
    }
}

/* DCT-II rows for c1..cN (HTK scaling sqrt(2/M)) with the sinusoidal lifter folded in. */
static void
make_dct (PhFeatures *self)
{
  const PhFeatureConfig *c = &self->config;
  guint n_mel = c->num_mel_bins;

  for (guint k = 1; k <= c->num_ceps; k++)
    {
      double lifter = 1.0;
      if (c->cep_lifter > 0.0f)
        lifter += 0.5 * c->cep_lifter * sin (G_PI * k / c->cep_lifter);
      for (guint m = 0; m < n_mel; m++)
        self->dct[(gsize) (k - 1) * n_mel + m]
            = sqrt (2.0 / n_mel) * cos (G_PI * k * (m + 0.5) / n_mel) * lifter;
    }
}

static void
make_fft_plan (PhFeatures *self)
{
  self->fft_in = fftwf_alloc_real (self->fft_size);
  self->fft_out = fftwf_alloc_complex (self->n_fft_bins);
  g_mutex_lock (&fftw_planner_lock);
  self->plan = fftwf_plan_dft_r2c_1d ((int) self->fft_size, self->fft_in, self->fft_out,
                                      FFTW_ESTIMATE);
  g_mutex_unlock (&fftw_planner_lock);
  memset (self->fft_in, 0, self->fft_size * sizeof (float));
}

/* ---- lifetime ---------------------------------------------------------------------- */

/* Creates an extractor (FFTW plans made here, once). NULL + GError on a bad config. */
PhFeatures *
ph_features_new (const PhFeatureConfig *config, GError **error)
{
  PhFeatures *self;
  const PhFeatureConfig *c;

  if (!ph_feature_config_validate (config, error))
    return NULL;

  self = g_new0 (PhFeatures, 1);
  self->config = *config;
  c = &self->config;
  self->pad = (c->window_length - c->hop_length) / 2;
  self->fft_size = next_power_of_two (c->window_length);
  self->n_fft_bins = self->fft_size / 2 + 1;
  self->base_dim = c->num_ceps + c->use_energy;
  self->dim = ph_feature_config_dim (c);
  self->delta_slots = 2 * c->delta_window + 1;

  self->window = g_new (float, c->window_length);
  self->filters = g_new (MelFilter, c->num_mel_bins);
  self->mel_weights = g_new (float, (gsize) c->num_mel_bins * self->n_fft_bins);
  self->dct = g_new (double, (gsize) c->num_ceps * c->num_mel_bins);
  make_window (c, self->window);
  make_mel_filters (self, 1.0);
  make_dct (self);
  make_fft_plan (self);

  self->frame = g_new (float, c->window_length);
  self->power = g_new (float, self->n_fft_bins);
  self->log_mel = g_new (double, c->num_mel_bins);
  self->base = g_new (float, self->base_dim);
  self->output = g_new (float, self->dim);

  self->ring = g_new (float, c->window_length);
  self->cmn_history = g_new (float, (gsize) c->cmn_window * self->base_dim);
  self->cmn_sum = g_new (double, self->base_dim);
  self->delta_history = g_new (float, (gsize) self->delta_slots * self->base_dim);
  ph_features_reset (self);
  return self;
}

/* Frees the extractor and its FFTW plan; NULL is allowed. */
void
ph_features_free (PhFeatures *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&fftw_planner_lock);
  fftwf_destroy_plan (self->plan);
  g_mutex_unlock (&fftw_planner_lock);
  fftwf_free (self->fft_in);
  fftwf_free (self->fft_out);
  g_free (self->window);
  g_free (self->filters);
  g_free (self->mel_weights);
  g_free (self->dct);
  g_free (self->frame);
  g_free (self->power);
  g_free (self->log_mel);
  g_free (self->base);
  g_free (self->output);
  g_free (self->ring);
  g_free (self->cmn_history);
  g_free (self->cmn_sum);
  g_free (self->delta_history);
  g_free (self);
}

/* The config this extractor was made with (owned by the extractor). */
const PhFeatureConfig *
ph_features_config (const PhFeatures *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->config;
}

/* Frames of look-ahead the extractor holds back: ceil(overhang / hop) + delta_window. */
guint
ph_features_lookahead (const PhFeatures *self)
{
  const PhFeatureConfig *c;

  g_return_val_if_fail (self != NULL, 0);
  c = &self->config;
  return (window_overhang (c) + c->hop_length - 1) / c->hop_length + c->delta_window;
}

/* Training-time vocal tract length perturbation; see ph_features.h. */
gboolean
ph_features_set_vtlp_warp (PhFeatures *self, double warp, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!(warp >= PH_VTLP_MIN_WARP && warp <= PH_VTLP_MAX_WARP))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "features: VTLP warp %g is outside %g..%g", warp, PH_VTLP_MIN_WARP,
                   PH_VTLP_MAX_WARP);
      return FALSE;
    }
  make_mel_filters (self, warp);
  return TRUE;
}

/* Drops all buffered samples and frames and starts a new stream at frame 0. */
void
ph_features_reset (PhFeatures *self)
{
  g_return_if_fail (self != NULL);

  /* The ring starts as the `pad` zeros that precede the stream. */
  memset (self->ring, 0, self->config.window_length * sizeof (float));
  self->ring_pos = self->pad;
  self->position = self->pad;
  self->n_base = 0;
  self->n_out = 0;
  memset (self->cmn_sum, 0, self->base_dim * sizeof (double));
}

/* ---- per-frame DSP ----------------------------------------------------------------- */

/* Copies the last window_length samples from the ring, oldest first. */
static void
assemble_frame (PhFeatures *self)
{
  guint n = self->config.window_length;
  guint head = n - self->ring_pos;

  memcpy (self->frame, self->ring + self->ring_pos, head * sizeof (float));
  memcpy (self->frame + head, self->ring, self->ring_pos * sizeof (float));
}

/* Log of the sum of squares of the raw frame (before pre-emphasis and window). Four
 * partial sums in a fixed order: a single chain of double adds is latency-bound. */
static float
log_frame_energy (const float *frame, guint n)
{
  double e0 = 0.0, e1 = 0.0, e2 = 0.0, e3 = 0.0;
  guint j = 0;

  for (; j + 4 <= n; j += 4)
    {
      e0 += (double) frame[j] * frame[j];
      e1 += (double) frame[j + 1] * frame[j + 1];
      e2 += (double) frame[j + 2] * frame[j + 2];
      e3 += (double) frame[j + 3] * frame[j + 3];
    }
  for (; j < n; j++)
    e0 += (double) frame[j] * frame[j];
  return (float) log (MAX ((e0 + e1) + (e2 + e3), PH_LOG_FLOOR));
}

/* Pre-emphasis inside the frame (the first sample uses itself as predecessor, as
 * Kaldi does), then the taper, into the zero-padded FFT input. */
static void
preemphasise_and_window (PhFeatures *self)
{
  /* restrict: the three arrays are distinct, so the loop vectorizes. */
  const float *restrict x = self->frame, *restrict window = self->window;
  float *restrict out = self->fft_in;
  float p = self->config.preemphasis;

  out[0] = (x[0] - p * x[0]) * window[0];
  for (guint j = 1; j < self->config.window_length; j++)
    out[j] = (x[j] - p * x[j - 1]) * window[j];
  /* fft_in[window_length..fft_size) stays zero from creation; FFTW r2c out-of-place
   * with FFTW_ESTIMATE preserves its input. */
}

static void
power_spectrum (PhFeatures *self)
{
  const fftwf_complex *restrict bins = self->fft_out;
  float *restrict power = self->power;

  for (guint k = 0; k < self->n_fft_bins; k++)
    power[k] = bins[k][0] * bins[k][0] + bins[k][1] * bins[k][1];
}

static void
log_mel_energies (PhFeatures *self)
{
  for (guint m = 0; m < self->config.num_mel_bins; m++)
    {
      const MelFilter *filter = &self->filters[m];
      const float *row = self->mel_weights + (gsize) m * self->n_fft_bins;
      guint k = filter->first_bin, end = filter->first_bin + filter->n_bins;
      double e0 = 0.0, e1 = 0.0, e2 = 0.0, e3 = 0.0;

      /* Four partial sums (the filter's bins in turn): a chain of dependent adds is
       * latency-bound. */
      for (; k + 4 <= end; k += 4)
        {
          e0 += (double) row[k] * self->power[k];
          e1 += (double) row[k + 1] * self->power[k + 1];
          e2 += (double) row[k + 2] * self->power[k + 2];
          e3 += (double) row[k + 3] * self->power[k + 3];
        }
      if (k < end)
        e0 += (double) row[k] * self->power[k];
      if (k + 1 < end)
        e1 += (double) row[k + 1] * self->power[k + 1];
      if (k + 2 < end)
        e2 += (double) row[k + 2] * self->power[k + 2];
      self->log_mel[m] = log (MAX ((e0 + e1) + (e2 + e3), PH_LOG_FLOOR));
    }
}

static void
cepstra (PhFeatures *self, float *out)
{
  guint n_mel = self->config.num_mel_bins;

  for (guint k = 0; k < self->config.num_ceps; k++)
    {
      const double *row = self->dct + (gsize) k * n_mel;
      double c = 0.0;
      for (guint m = 0; m < n_mel; m++)
        c += row[m] * self->log_mel[m];
      out[k] = (float) c;
    }
}

/* The un-normalised features of the frame in self->frame, into self->base. */
static void
compute_base_features (PhFeatures *self)
{
  float log_energy = log_frame_energy (self->frame, self->config.window_length);

  preemphasise_and_window (self);
  fftwf_execute (self->plan);
  power_spectrum (self);
  log_mel_energies (self);
  cepstra (self, self->base);
  if (self->config.use_energy)
    self->base[self->config.num_ceps] = log_energy;
}

/* Causal mean normalisation: subtracts the mean of this and up to cmn_window-1
 * previous base frames. A running double sum keeps it O(dim) per frame. */
static void
normalise_cmn (PhFeatures *self, float *base)
{
  guint window = self->config.cmn_window;
  float *slot = self->cmn_history + (self->n_base % window) * self->base_dim;
  double count = (double) MIN (self->n_base + 1, (guint64) window);

  for (guint d = 0; d < self->base_dim; d++)
    {
      if (self->n_base >= window)
        self->cmn_sum[d] -= slot[d];
      slot[d] = base[d];
      self->cmn_sum[d] += base[d];
      base[d] = (float) (base[d] - self->cmn_sum[d] / count);
    }
}

static const float *
delta_history_frame (const PhFeatures *self, guint64 index)
{
  return self->delta_history + (index % self->delta_slots) * self->base_dim;
}

/* Regression deltas over +-N frames, sum_n n (x[t+n] - x[t-n]) / (2 sum_n n^2), with
 * frames outside [0, last] replaced by the edge frame (HTK/Kaldi). */
static void
compute_deltas (const PhFeatures *self, guint64 t, guint64 last, float *out)
{
  guint n_max = self->config.delta_window;
  const float *ahead[PH_MAX_DELTA_WINDOW + 1], *behind[PH_MAX_DELTA_WINDOW + 1];
  double denominator = 0.0;

  /* The history slots are looked up once per frame, not once per value. */
  for (guint n = 1; n <= n_max; n++)
    {
      denominator += 2.0 * n * n;
      ahead[n] = delta_history_frame (self, MIN (t + n, last));
      behind[n] = delta_history_frame (self, t >= n ? t - n : 0);
    }
  for (guint d = 0; d < self->base_dim; d++)
    {
      double acc = 0.0;
      for (guint n = 1; n <= n_max; n++)
        acc += n * ((double) ahead[n][d] - behind[n][d]);
      out[d] = (float) (acc / denominator);
    }
}

/* Emits the next output frame; `last` is the last base frame of the stream so far
 * (or of the whole stream at flush). */
static void
emit_frame (PhFeatures *self, guint64 last, PhFeatureFunc func, gpointer user_data)
{
  guint64 t = self->n_out;

  memcpy (self->output, delta_history_frame (self, t), self->base_dim * sizeof (float));
  if (self->config.delta_window > 0)
    compute_deltas (self, t, last, self->output + self->base_dim);
  self->n_out++;
  if (func != NULL)
    func (self->output, t, user_data);
}

/* The ring holds a complete window: compute base frame n_base and emit what it allows. */
static void
process_base_frame (PhFeatures *self, PhFeatureFunc func, gpointer user_data)
{
  float *slot = self->delta_history + (self->n_base % self->delta_slots) * self->base_dim;

  assemble_frame (self);
  compute_base_features (self);
  if (self->config.cmn_window > 0)
    normalise_cmn (self, self->base);
  memcpy (slot, self->base, self->base_dim * sizeof (float));
  self->n_base++;
  if (self->n_base > self->config.delta_window)
    emit_frame (self, self->n_base - 1, func, user_data);
}

/* ---- sample intake ----------------------------------------------------------------- */

/* Converts n samples into dst (no wrap-around): one tight loop per format. The samples
 * are read with memcpy: audio memory need not be aligned to the sample size (GStreamer
 * does not promise it, and a WAV with an 18-byte fmt chunk through wavparse is not). */
static void
convert_samples (float *dst, SampleFormat format, const void *samples, gsize offset, gsize n)
{
  if (format == SAMPLES_S16)
    {
      const guint8 *src = (const guint8 *) samples + offset * sizeof (gint16);
      for (gsize i = 0; i < n; i++)
        {
          gint16 x;
          memcpy (&x, src + i * sizeof x, sizeof x);
          dst[i] = x * (1.0f / 32768.0f);
        }
    }
  else if (format == SAMPLES_F32)
    {
      const guint8 *src = (const guint8 *) samples + offset * sizeof (float);
      for (gsize i = 0; i < n; i++)
        {
          float x;
          memcpy (&x, src + i * sizeof x, sizeof x);
          dst[i] = isfinite (x) ? CLAMP (x, -PH_SAMPLE_LIMIT, PH_SAMPLE_LIMIT) : 0.0f;
        }
    }
  else
    {
      memset (dst, 0, n * sizeof (float));
    }
}

/* Appends n samples to the ring in contiguous spans (two at most when n <= window). */
static void
write_samples (PhFeatures *self, SampleFormat format, const void *samples, gsize offset,
               gsize n)
{
  guint capacity = self->config.window_length;

  self->position += n;
  while (n > 0)
    {
      gsize span = MIN (n, (gsize) (capacity - self->ring_pos));
      convert_samples (self->ring + self->ring_pos, format, samples, offset, span);
      self->ring_pos += span;
      if (self->ring_pos == capacity)
        self->ring_pos = 0;
      offset += span;
      n -= span;
    }
}

/* Internal sample position at which base frame n_base is complete. */
static guint64
next_frame_end (const PhFeatures *self)
{
  return self->n_base * self->config.hop_length + self->config.window_length;
}

/* Writes samples up to each frame boundary in turn, so the ring never has to hold
 * more than one window. */
static void
push_samples (PhFeatures *self, SampleFormat format, const void *samples, gsize n_samples,
              PhFeatureFunc func, gpointer user_data)
{
  gsize done = 0;

  while (done < n_samples)
    {
      guint64 frame_end = next_frame_end (self);
      gsize take = (gsize) MIN ((guint64) (n_samples - done), frame_end - self->position);
      write_samples (self, format, samples, done, take);
      done += take;
      if (self->position == frame_end)
        process_base_frame (self, func, user_data);
    }
}

/* Pushes int16 samples (scaled by 1/32768); calls `func` for every frame completed. */
void
ph_features_push_s16 (PhFeatures *self, const gint16 *samples, gsize n_samples,
                      PhFeatureFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (samples != NULL || n_samples == 0);
  push_samples (self, SAMPLES_S16, samples, n_samples, func, user_data);
}

/* Pushes float samples (NaN/Inf read as 0); calls `func` for every frame completed. */
void
ph_features_push_f32 (PhFeatures *self, const float *samples, gsize n_samples,
                      PhFeatureFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (samples != NULL || n_samples == 0);
  push_samples (self, SAMPLES_F32, samples, n_samples, func, user_data);
}

/* End of stream: pads with zeros until all ceil(n/hop) base frames exist, emits the
 * held-back frames with the last base frame replicated, then resets. */
void
ph_features_flush (PhFeatures *self, PhFeatureFunc func, gpointer user_data)
{
  guint hop;
  guint64 n_samples, n_frames;

  g_return_if_fail (self != NULL);
  hop = self->config.hop_length;
  n_samples = self->position - self->pad;
  n_frames = (n_samples + hop - 1) / hop;

  while (self->n_base < n_frames)
    {
      guint64 frame_end = next_frame_end (self);
      write_samples (self, SAMPLES_ZERO, NULL, 0, (gsize) (frame_end - self->position));
      process_base_frame (self, func, user_data);
    }
  while (self->n_out < self->n_base)
    emit_frame (self, self->n_base - 1, func, user_data);
  ph_features_reset (self);
}

/* ---- offline convenience ----------------------------------------------------------- */

typedef struct {
  float *frames;
  guint dim;
  guint64 capacity;
} FrameCollector;

static void
collect_frame (const float *features, guint64 frame_index, gpointer user_data)
{
  FrameCollector *collector = user_data;

  g_assert (frame_index < collector->capacity);
  memcpy (collector->frames + frame_index * collector->dim, features,
          collector->dim * sizeof (float));
}

/* All frames of a whole signal, row-major, newly allocated (g_free; never NULL on
 * success, even for 0 frames); *n_frames receives the count. Same path as streaming. */
float *
ph_features_compute_f32 (const PhFeatureConfig *config, const float *samples,
                         gsize n_samples, guint *n_frames, GError **error)
{
  return ph_features_compute_warped_f32 (config, 1.0, samples, n_samples, n_frames, error);
}

/* The same with the filterbank VTLP-warped by `warp` (training augmentation). */
float *
ph_features_compute_warped_f32 (const PhFeatureConfig *config, double warp,
                                const float *samples, gsize n_samples, guint *n_frames,
                                GError **error)
{
  PhFeatures *features;
  FrameCollector collector;
  guint64 count;

  if (n_frames != NULL)
    *n_frames = 0;
  if (samples == NULL && n_samples > 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "features: %" G_GSIZE_FORMAT " samples requested from a NULL buffer",
                   n_samples);
      return NULL;
    }
  features = ph_features_new (config, error);
  if (features == NULL)
    return NULL;
  /* ph_features_new made the plain filterbank: rebuild it only for another warp. */
  if (warp != 1.0 && !ph_features_set_vtlp_warp (features, warp, error))
    {
      ph_features_free (features);
      return NULL;
    }
  count = ((guint64) n_samples + config->hop_length - 1) / config->hop_length;
  if (count > G_MAXUINT)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "features: %" G_GSIZE_FORMAT " samples give more frames than fit in a guint",
                   n_samples);
      ph_features_free (features);
      return NULL;
    }

  collector.dim = features->dim;
  collector.capacity = count;
  collector.frames = g_new0 (float, MAX (count * collector.dim, 1));
  ph_features_push_f32 (features, samples, n_samples, collect_frame, &collector);
  ph_features_flush (features, collect_frame, &collector);
  ph_features_free (features);
  if (n_frames != NULL)
    *n_frames = (guint) count;
  return collector.frames;
}
