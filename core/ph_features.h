/* ph_features.h: streaming MFCC feature extractor, the one feature implementation
 * shared by training and streaming.
 *
 * Framing: frame i describes samples [i*hop, (i+1)*hop). Its analysis window is centred
 * on the middle of that span: it covers [i*hop + hop/2 - window/2, ... + window), with
 * zeros standing in for samples before the stream start and after its end (flush).
 * So a stream of n samples gives exactly ceil(n / hop) frames, and frames tile it.
 *
 * Per frame: pre-emphasis (inside the frame, as Kaldi does), a tapered window, real FFT
 * (FFTW, plans made once), power spectrum, triangular mel filterbank, log, DCT-II to
 * cepstra c1..cN with liftering, plus log energy; optional streaming cepstral mean
 * normalisation over the past `cmn_window` frames; then delta coefficients over
 * +-delta_window frames (edge frames replicated). The output is bit-identical however
 * the input is chunked. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PH_WINDOW_HAMMING = 0,
  PH_WINDOW_HANN = 1,
  PH_WINDOW_POVEY = 2,
} PhWindowType;

/* Every parameter of the features; recorded in model files. All fields are 32-bit so
 * the struct maps one-to-one onto the file format. */
typedef struct {
  guint32 sample_rate;   /* Hz, e.g. 16000 or 8000 */
  guint32 window_length; /* samples (25 ms: 400 at 16 kHz) */
  guint32 hop_length;    /* samples (10 ms: 160 at 16 kHz) */
  guint32 window_type;   /* PhWindowType */
  float preemphasis;     /* coefficient, 0 = off (default 0.97) */
  guint32 num_mel_bins;  /* triangular filters (default 26) */
  float low_freq;        /* Hz, lower edge of the filterbank (default 20) */
  float high_freq;       /* Hz, upper edge; 0 = Nyquist */
  guint32 num_ceps;      /* cepstra c1..cN kept (default 12) */
  float cep_lifter;      /* sinusoidal liftering coefficient, 0 = off (default 22) */
  guint32 use_energy;    /* 1: append log frame energy (default 1) */
  guint32 delta_window;  /* N in the delta regression over +-N frames, 0 = no deltas (default 2) */
  guint32 cmn_window;    /* frames of past context for streaming mean normalisation, 0 = off */
} PhFeatureConfig;

/* Fills `config` with the defaults above for `sample_rate` (window and hop scaled). */
void ph_feature_config_init (PhFeatureConfig *config, guint32 sample_rate);

/* Checks every field; FALSE with a GError naming the bad field otherwise. */
gboolean ph_feature_config_validate (const PhFeatureConfig *config, GError **error);

/* Number of values in one output frame: (num_ceps + use_energy) * (delta_window ? 2 : 1). */
guint ph_feature_config_dim (const PhFeatureConfig *config);

/* Samples between the end of frame i's span and the moment frame i can be emitted:
 * (window - hop) / 2 rounded up, plus delta_window frames of hop. */
guint ph_feature_config_latency_samples (const PhFeatureConfig *config);

typedef struct _PhFeatures PhFeatures;

/* Called once per complete frame, in order; `features` holds dim values and is only
 * valid during the call. `frame_index` counts frames since the last reset. */
typedef void (*PhFeatureFunc) (const float *features, guint64 frame_index, gpointer user_data);

/* Creates an extractor (FFTW plans made here, once). NULL + GError on a bad config. */
PhFeatures *ph_features_new (const PhFeatureConfig *config, GError **error);
void ph_features_free (PhFeatures *features);

/* The config this extractor was made with (owned by the extractor). */
const PhFeatureConfig *ph_features_config (const PhFeatures *features);

/* Frames of look-ahead the extractor holds back: ceil(((window-hop)/2) / hop) + delta_window. */
guint ph_features_lookahead (const PhFeatures *features);

/* Pushes samples (any count, including 0); calls `func` for every frame completed.
 * Float samples are in [-1, 1]; int16 samples are scaled by 1/32768. NaN and Inf
 * samples are treated as 0 (silence). `samples` need not be aligned to the sample size
 * (it is read byte-wise). */
void ph_features_push_s16 (PhFeatures *features, const gint16 *samples, gsize n_samples,
                           PhFeatureFunc func, gpointer user_data);
void ph_features_push_f32 (PhFeatures *features, const float *samples, gsize n_samples,
                           PhFeatureFunc func, gpointer user_data);

/* End of stream: emits the remaining frames (up to ceil(n/hop) in all), then resets. */
void ph_features_flush (PhFeatures *features, PhFeatureFunc func, gpointer user_data);

/* Vocal tract length perturbation, for training only (never stored in a model): the
 * filterbank reads the spectrum with frequencies scaled by `warp` (piecewise linear,
 * bent at 60% of Nyquist so the band maps onto itself; Jaitly & Hinton 2013). > 1
 * makes a voice look like one with a shorter vocal tract. 1 restores the plain
 * filterbank. FALSE + GError outside PH_VTLP_MIN_WARP..PH_VTLP_MAX_WARP. */
#define PH_VTLP_MIN_WARP 0.7
#define PH_VTLP_MAX_WARP 1.4
gboolean ph_features_set_vtlp_warp (PhFeatures *features, double warp, GError **error);

/* Drops all buffered samples and frames and starts a new stream at frame 0. */
void ph_features_reset (PhFeatures *features);

/* Convenience for offline use: all frames of a whole signal, row-major, newly
 * allocated (g_free); *n_frames receives the count. Same code path as streaming. */
float *ph_features_compute_f32 (const PhFeatureConfig *config, const float *samples,
                                gsize n_samples, guint *n_frames, GError **error);

/* The same through a filterbank warped by `warp` (see ph_features_set_vtlp_warp). */
float *ph_features_compute_warped_f32 (const PhFeatureConfig *config, double warp,
                                       const float *samples, gsize n_samples,
                                       guint *n_frames, GError **error);

G_END_DECLS
