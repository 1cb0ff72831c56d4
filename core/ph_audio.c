/* ph_audio.c: audio files (RIFF WAV, NIST SPHERE) read and written, and the resampler
 * of the corpus tools. */
#include "ph_audio.h"

#include <math.h>
#include <string.h>

#include "ph_error.h"
#include "ph_file.h"

/* ------------------------------------------------------------------------------------
 * Small helpers: little-endian access
 * ------------------------------------------------------------------------------------ */

static guint16
get_le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
         | ((guint32) p[3] << 24);
}

static void
put_le16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

/* ------------------------------------------------------------------------------------
 * Audio: sample decoding shared by WAV and SPHERE
 * ------------------------------------------------------------------------------------ */

/* Frees the samples and zeroes the struct. */
void
ph_audio_clear (PhAudio *audio)
{
  if (audio == NULL)
    return;
  g_clear_pointer (&audio->samples, g_free);
  audio->n_samples = 0;
  audio->sample_rate = 0;
}

typedef enum {
  CODING_U8,
  CODING_S16LE,
  CODING_S16BE,
  CODING_S24LE,
  CODING_S32LE,
  CODING_F32LE,
  CODING_F64LE,
} SampleCoding;

static guint
coding_bytes (SampleCoding coding)
{
  switch (coding)
    {
    case CODING_U8: return 1;
    case CODING_S16LE:
    case CODING_S16BE: return 2;
    case CODING_S24LE: return 3;
    case CODING_S32LE:
    case CODING_F32LE: return 4;
    case CODING_F64LE: return 8;
    }
  return 1;
}

/* One sample scaled to [-1, 1); non-finite floats become 0 so they cannot poison
 * features downstream. */
static double
decode_sample (const guint8 *p, SampleCoding coding)
{
  switch (coding)
    {
    case CODING_U8:
      return (p[0] - 128) / 128.0;
    case CODING_S16LE:
      return (gint16) get_le16 (p) / 32768.0;
    case CODING_S16BE:
      return (gint16) (guint16) ((p[0] << 8) | p[1]) / 32768.0;
    case CODING_S24LE:
      {
        gint32 v = (gint32) (p[0] | (p[1] << 8) | (p[2] << 16));
        if (v & 0x800000)
          v -= 0x1000000;
        return v / 8388608.0;
      }
    case CODING_S32LE:
      return (gint32) get_le32 (p) / 2147483648.0;
    case CODING_F32LE:
      {
        guint32 bits = get_le32 (p);
        float f;
        memcpy (&f, &bits, sizeof f);
        return isfinite (f) ? f : 0.0;
      }
    case CODING_F64LE:
      {
        guint64 bits = get_le32 (p) | ((guint64) get_le32 (p + 4) << 32);
        double d;
        memcpy (&d, &bits, sizeof d);
        return isfinite (d) ? d : 0.0;
      }
    }
  return 0.0;
}

/* Rates outside this range are corrupt headers, not speech; refusing them keeps the
 * resampler from being asked for absurd ratios. */
#define AUDIO_MIN_RATE 1000
#define AUDIO_MAX_RATE 768000

static gboolean
check_sample_rate (const char *path, gint64 rate, GError **error)
{
  if (rate >= AUDIO_MIN_RATE && rate <= AUDIO_MAX_RATE)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
               "%s: implausible sample rate %" G_GINT64_FORMAT " Hz (expected %d to %d)",
               path, rate, AUDIO_MIN_RATE, AUDIO_MAX_RATE);
  return FALSE;
}

/* Decodes `n_frames` interleaved frames and averages the channels to mono. */
static void
audio_from_interleaved (PhAudio *audio, const guint8 *data, gsize n_frames,
                        guint channels, SampleCoding coding, guint sample_rate)
{
  gsize width = coding_bytes (coding);
  audio->samples = g_new (float, MAX (n_frames, 1));
  audio->n_samples = n_frames;
  audio->sample_rate = sample_rate;
  for (gsize i = 0; i < n_frames; i++)
    {
      const guint8 *frame = data + i * channels * width;
      double sum = 0.0;
      for (guint c = 0; c < channels; c++)
        sum += decode_sample (frame + c * width, coding);
      audio->samples[i] = (float) (sum / channels);
    }
}

/* ------------------------------------------------------------------------------------
 * RIFF WAV
 * ------------------------------------------------------------------------------------ */

#define WAVE_FORMAT_PCM 0x0001
#define WAVE_FORMAT_IEEE_FLOAT 0x0003
#define WAVE_FORMAT_EXTENSIBLE 0xFFFE

typedef struct {
  guint format_code; /* after resolving WAVE_FORMAT_EXTENSIBLE to its sub-format */
  guint channels;
  guint sample_rate;
  guint bits;        /* container bits per sample */
} WavFormat;

static gboolean
wav_parse_fmt (const char *path, const guint8 *p, guint64 size, WavFormat *fmt,
               GError **error)
{
  if (size < 16)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated header: 'fmt ' chunk has %u bytes, expected at least 16",
                   path, (guint) size);
      return FALSE;
    }
  fmt->format_code = get_le16 (p);
  fmt->channels = get_le16 (p + 2);
  fmt->sample_rate = get_le32 (p + 4);
  fmt->bits = get_le16 (p + 14);
  if (fmt->format_code == WAVE_FORMAT_EXTENSIBLE)
    {
      if (size < 40)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s: truncated header: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk has %u "
                       "bytes, expected 40", path, (guint) size);
          return FALSE;
        }
      /* The sub-format GUID begins with the plain format code. */
      fmt->format_code = get_le16 (p + 24);
    }
  return TRUE;
}

/* Maps a parsed fmt chunk onto a sample coding, or explains why it cannot. */
static gboolean
wav_coding (const char *path, const WavFormat *fmt, SampleCoding *coding,
            GError **error)
{
  if (fmt->channels == 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: zero channels in 'fmt ' chunk",
                   path);
      return FALSE;
    }
  if (!check_sample_rate (path, fmt->sample_rate, error))
    return FALSE;
  if (fmt->format_code == WAVE_FORMAT_PCM)
    {
      switch (fmt->bits)
        {
        case 8: *coding = CODING_U8; return TRUE;
        case 16: *coding = CODING_S16LE; return TRUE;
        case 24: *coding = CODING_S24LE; return TRUE;
        case 32: *coding = CODING_S32LE; return TRUE;
        default: break;
        }
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "%s: unsupported PCM sample size of %u bits (expected 8, 16, 24 or 32)",
                   path, fmt->bits);
      return FALSE;
    }
  if (fmt->format_code == WAVE_FORMAT_IEEE_FLOAT)
    {
      if (fmt->bits == 32 || fmt->bits == 64)
        {
          *coding = fmt->bits == 32 ? CODING_F32LE : CODING_F64LE;
          return TRUE;
        }
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "%s: unsupported float sample size of %u bits (expected 32)", path,
                   fmt->bits);
      return FALSE;
    }
  g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
               "%s: unsupported WAV format code %u (0x%04x); only PCM (1) and IEEE float (3) "
               "can be read", path, fmt->format_code, fmt->format_code);
  return FALSE;
}

/* Walks the RIFF chunks after "RIFF<size>WAVE" and decodes fmt + data. */
static gboolean
wav_parse (const char *path, const guint8 *data, gsize size, PhAudio *audio,
           GError **error)
{
  WavFormat fmt = { 0 };
  gboolean have_fmt = FALSE;
  const guint8 *pcm = NULL;
  guint64 pcm_size = 0;
  guint64 pos = 12;

  while (pos + 8 <= size)
    {
      const guint8 *id = data + pos;
      guint64 chunk_size = get_le32 (data + pos + 4);
      guint64 avail = size - pos - 8;
      if (memcmp (id, "fmt ", 4) == 0 && !have_fmt)
        {
          if (chunk_size > avail)
            {
              g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                           "%s: truncated header: 'fmt ' chunk runs past the end of the file",
                           path);
              return FALSE;
            }
          if (!wav_parse_fmt (path, data + pos + 8, chunk_size, &fmt, error))
            return FALSE;
          have_fmt = TRUE;
        }
      else if (memcmp (id, "data", 4) == 0 && pcm == NULL)
        {
          /* Streamed WAVs promise more data than they hold: use what is there. */
          pcm = data + pos + 8;
          pcm_size = MIN (chunk_size, avail);
        }
      /* Chunks are padded to an even size. */
      pos += 8 + chunk_size + (chunk_size & 1);
    }

  if (!have_fmt)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated header: no 'fmt ' chunk", path);
      return FALSE;
    }
  SampleCoding coding;
  if (!wav_coding (path, &fmt, &coding, error))
    return FALSE;
  if (pcm == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: no 'data' chunk", path);
      return FALSE;
    }
  gsize frame_bytes = (gsize) fmt.channels * coding_bytes (coding);
  audio_from_interleaved (audio, pcm, pcm_size / frame_bytes, fmt.channels, coding,
                          fmt.sample_rate);
  return TRUE;
}

/* ------------------------------------------------------------------------------------
 * NIST SPHERE
 * ------------------------------------------------------------------------------------ */

#define SPHERE_MAX_CHANNELS 1024

typedef struct {
  gint64 sample_rate;    /* -1 when absent */
  gint64 channel_count;
  gint64 sample_n_bytes;
  gint64 sample_count;
  char *byte_format;     /* "01" little-endian, "10" big-endian */
  char *coding;          /* "pcm", "pcm,embedded-shorten-v2.00", "ulaw", ... */
} SphereHeader;

static void
sphere_header_clear (SphereHeader *h)
{
  g_free (h->byte_format);
  g_free (h->coding);
}

/* Stores one "key -type value" header line into `h`; unknown keys are ignored. */
static gboolean
sphere_parse_field (const char *path, const char *line, SphereHeader *h, GError **error)
{
  const char *type = strchr (line, ' ');
  if (type == NULL || line[0] == ';')
    return TRUE;
  char *key = g_strndup (line, type - line);
  while (*type == ' ')
    type++;
  const char *value = strchr (type, ' ');
  value = value ? value + 1 : type + strlen (type);
  gboolean ok = TRUE;

  if (g_str_has_prefix (type, "-i") || g_str_has_prefix (type, "-r"))
    {
      char *end = NULL;
      double number = g_ascii_strtod (value, &end);
      gint64 *slot = NULL;
      if (g_str_equal (key, "sample_rate"))
        slot = &h->sample_rate;
      else if (g_str_equal (key, "channel_count"))
        slot = &h->channel_count;
      else if (g_str_equal (key, "sample_n_bytes"))
        slot = &h->sample_n_bytes;
      else if (g_str_equal (key, "sample_count"))
        slot = &h->sample_count;
      if (slot != NULL && (end == value || !isfinite (number) || number < 0
                           || number > (double) G_MAXINT64 / 2))
        {
          char *shown = ph_error_quote (value);
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s: header field %s has value '%s', expected a non-negative number",
                       path, key, shown);
          g_free (shown);
          ok = FALSE;
        }
      else if (slot != NULL)
        *slot = (gint64) llround (number);
    }
  else if (g_str_has_prefix (type, "-s"))
    {
      /* -sN: the value is exactly N characters and may contain spaces. */
      guint64 n = g_ascii_strtoull (type + 2, NULL, 10);
      char **slot = NULL;
      if (g_str_equal (key, "sample_byte_format"))
        slot = &h->byte_format;
      else if (g_str_equal (key, "sample_coding"))
        slot = &h->coding;
      if (slot != NULL)
        {
          g_free (*slot);
          *slot = g_strndup (value, (gsize) MIN (n, strlen (value)));
        }
    }
  g_free (key);
  return ok;
}

/* Parses the ASCII header lines up to "end_head". */
static gboolean
sphere_parse_header (const char *path, const guint8 *data, gsize header_size,
                     SphereHeader *h, GError **error)
{
  char *text = g_strndup ((const char *) data + 16, header_size - 16);
  char **lines = g_strsplit (text, "\n", -1);
  gboolean found_end = FALSE, ok = TRUE;
  for (guint i = 0; ok && lines[i] != NULL && !found_end; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (g_str_equal (line, "end_head"))
        found_end = TRUE;
      else
        ok = sphere_parse_field (path, line, h, error);
    }
  if (ok && !found_end)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated header: no end_head within its %u bytes", path,
                   (guint) header_size);
      ok = FALSE;
    }
  g_strfreev (lines);
  g_free (text);
  return ok;
}

/* Checks the fields this reader needs and picks the sample coding. */
static gboolean
sphere_coding (const char *path, const SphereHeader *h, SampleCoding *coding,
               GError **error)
{
  if (h->coding != NULL && !g_str_equal (h->coding, "pcm"))
    {
      gboolean compressed = strstr (h->coding, "shorten") || strstr (h->coding, "wavpack")
                            || strstr (h->coding, "shortpack");
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   compressed ? "%s: compressed SPHERE audio (sample_coding %s) is not "
                                "supported; decompress it first, e.g. sph2pipe -f wav"
                              : "%s: unsupported SPHERE sample_coding %s (only pcm)",
                   path, h->coding);
      return FALSE;
    }
  if (h->sample_rate < 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: SPHERE header has no sample_rate",
                   path);
      return FALSE;
    }
  if (!check_sample_rate (path, h->sample_rate, error))
    return FALSE;
  if (h->channel_count == 0 || h->channel_count > SPHERE_MAX_CHANNELS)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   h->channel_count ? "%s: implausible channel_count %" G_GINT64_FORMAT
                                    : "%s: zero channels (channel_count %" G_GINT64_FORMAT ")",
                   path, h->channel_count);
      return FALSE;
    }
  if (h->sample_n_bytes != 2)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "%s: unsupported SPHERE sample_n_bytes %" G_GINT64_FORMAT
                   " (only 2 = 16-bit)", path, h->sample_n_bytes);
      return FALSE;
    }
  if (h->byte_format == NULL || (!g_str_equal (h->byte_format, "01")
                                 && !g_str_equal (h->byte_format, "10")))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: SPHERE sample_byte_format is %s, expected 01 or 10", path,
                   h->byte_format ? h->byte_format : "missing");
      return FALSE;
    }
  *coding = g_str_equal (h->byte_format, "01") ? CODING_S16LE : CODING_S16BE;
  return TRUE;
}

static gboolean
sphere_parse (const char *path, const guint8 *data, gsize size, PhAudio *audio,
              GError **error)
{
  char size_text[9] = { 0 };
  if (size >= 16)
    memcpy (size_text, data + 8, 8);
  char *end = NULL;
  guint64 header_size = g_ascii_strtoull (size_text, &end, 10);
  if (size < 16 || end == size_text || header_size < 16 || header_size > size)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated header (SPHERE header size '%s', file has %" G_GSIZE_FORMAT
                   " bytes)", path, g_strstrip (size_text), size);
      return FALSE;
    }

  SphereHeader h = { -1, 1, 2, -1, NULL, NULL };
  SampleCoding coding = CODING_S16LE;
  gboolean ok = sphere_parse_header (path, data, header_size, &h, error)
                && sphere_coding (path, &h, &coding, error);
  if (ok)
    {
      guint64 frame_bytes = (guint64) h.channel_count * 2;
      guint64 available = (size - header_size) / frame_bytes;
      guint64 n_frames = h.sample_count >= 0 ? (guint64) h.sample_count : available;
      if (n_frames > available)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s: truncated: header says %" G_GUINT64_FORMAT " samples, file holds %"
                       G_GUINT64_FORMAT, path, n_frames, available);
          ok = FALSE;
        }
      else
        audio_from_interleaved (audio, data + header_size, n_frames,
                                (guint) h.channel_count, coding, (guint) h.sample_rate);
    }
  sphere_header_clear (&h);
  return ok;
}

/* ------------------------------------------------------------------------------------
 * Audio files: read, write
 * ------------------------------------------------------------------------------------ */

static gboolean
audio_parse (const char *path, const guint8 *data, gsize size, PhAudio *audio,
             GError **error)
{
  if (size >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WAVE", 4) == 0)
    return wav_parse (path, data, size, audio, error);
  if (size >= 8 && memcmp (data, "NIST_1A\n", 8) == 0)
    return sphere_parse (path, data, size, audio, error);

  if (size == 0)
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: empty file, expected a WAV or "
                 "NIST SPHERE file", path);
  else if (size < 12 && memcmp (data, "RIFF", MIN (size, 4)) == 0)
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: truncated header", path);
  else if (size >= 4 && (memcmp (data, "RIFX", 4) == 0 || memcmp (data, "RF64", 4) == 0))
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                 "%s: %.4s WAV files are not supported; convert to a plain RIFF WAV",
                 path, (const char *) data);
  else
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                 "%s: not a WAV (RIFF/WAVE) or NIST SPHERE (NIST_1A) file", path);
  return FALSE;
}

/* Decodes a WAV or SPHERE file image in memory; errors name `name`. */
gboolean
ph_audio_parse (const guint8 *data, gsize size, const char *name, PhAudio *audio,
                GError **error)
{
  g_return_val_if_fail ((data != NULL || size == 0) && audio != NULL, FALSE);
  memset (audio, 0, sizeof *audio);
  return audio_parse (name != NULL ? name : "<audio>", data, size, audio, error);
}

/* Reads a WAV or SPHERE file, chosen by its first bytes, into mono float samples. */
gboolean
ph_audio_read (const char *path, PhAudio *audio, GError **error)
{
  g_return_val_if_fail (path != NULL && audio != NULL, FALSE);
  memset (audio, 0, sizeof *audio);

  GMappedFile *file = ph_file_map_regular (path, "audio file", error);
  if (file == NULL)
    return FALSE;
  gboolean ok = audio_parse (path, (const guint8 *) g_mapped_file_get_contents (file),
                             g_mapped_file_get_length (file), audio, error);
  g_mapped_file_unref (file);
  return ok;
}

static gint16
float_to_s16 (float x)
{
  if (isnan (x))
    return 0;
  double v = nearbyint ((double) x * 32768.0);
  return (gint16) CLAMP (v, -32768.0, 32767.0);
}

/* Writes 16-bit PCM mono WAV, clipping to [-1, 1) and rounding to nearest. */
gboolean
ph_audio_write_wav (const char *path, const float *samples, gsize n, guint sample_rate,
                    GError **error)
{
  g_return_val_if_fail (path != NULL && (samples != NULL || n == 0), FALSE);
  if (sample_rate == 0 || n > (G_MAXUINT32 - 36) / 2)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "%s: cannot write a WAV with %" G_GSIZE_FORMAT " samples at %u Hz",
                   path, n, sample_rate);
      return FALSE;
    }
  gsize data_bytes = n * 2;
  guint8 *buf = g_malloc (44 + data_bytes);
  memcpy (buf, "RIFF", 4);
  put_le32 (buf + 4, (guint32) (36 + data_bytes));
  memcpy (buf + 8, "WAVEfmt ", 8);
  put_le32 (buf + 16, 16);
  put_le16 (buf + 20, WAVE_FORMAT_PCM);
  put_le16 (buf + 22, 1);
  put_le32 (buf + 24, sample_rate);
  put_le32 (buf + 28, sample_rate * 2);
  put_le16 (buf + 32, 2);
  put_le16 (buf + 34, 16);
  memcpy (buf + 36, "data", 4);
  put_le32 (buf + 40, (guint32) data_bytes);
  for (gsize i = 0; i < n; i++)
    put_le16 (buf + 44 + 2 * i, (guint16) float_to_s16 (samples[i]));
  gboolean ok = ph_file_write_atomic (path, buf, 44 + data_bytes, "WAV file", error);
  g_free (buf);
  return ok;
}

/* ------------------------------------------------------------------------------------
 * Resampling: Kaiser-windowed sinc, polyphase table when the rate ratio is small
 * ------------------------------------------------------------------------------------ */

#define RESAMPLE_ZERO_CROSSINGS 16   /* per side, at the cutoff frequency */
#define RESAMPLE_CUTOFF 0.95         /* fraction of the lower Nyquist frequency */
#define RESAMPLE_KAISER_BETA 8.6     /* about -80 dB sidelobes */
#define RESAMPLE_MAX_PHASES 4096     /* larger ratios: taps computed per output sample */
#define RESAMPLE_PROFILE_STEPS 1024  /* profile points per zero crossing */

/* The kernel is one fixed shape (windowed sinc over +-16 zero crossings) stretched to
 * the cutoff; the shape is tabulated finely once and linearly interpolated, which is
 * accurate to ~1e-7 and keeps arbitrary rate pairs cheap. */
typedef struct {
  double cutoff;     /* cycles per input sample */
  double half_width; /* kernel support on each side, in input samples */
  guint half_taps;   /* ceil (half_width) */
  double *profile;   /* shape at z = m / RESAMPLE_PROFILE_STEPS zero crossings */
} SincKernel;

static double
bessel_i0 (double x)
{
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 200 && term > 1e-14 * sum; k++)
    {
      term *= q / ((double) k * k);
      sum += term;
    }
  return sum;
}

static void
sinc_kernel_init (SincKernel *k, guint in_rate, guint out_rate)
{
  guint n = RESAMPLE_ZERO_CROSSINGS * RESAMPLE_PROFILE_STEPS;
  double i0_beta = bessel_i0 (RESAMPLE_KAISER_BETA);
  k->cutoff = RESAMPLE_CUTOFF * 0.5 * MIN (in_rate, out_rate) / in_rate;
  k->half_width = RESAMPLE_ZERO_CROSSINGS / (2.0 * k->cutoff);
  k->half_taps = (guint) ceil (k->half_width);
  k->profile = g_new (double, n + 2);
  for (guint m = 0; m <= n; m++)
    {
      double z = (double) m / RESAMPLE_PROFILE_STEPS;
      double r = z / RESAMPLE_ZERO_CROSSINGS;
      double window = bessel_i0 (RESAMPLE_KAISER_BETA * sqrt (MAX (0.0, 1.0 - r * r)));
      double sinc = m == 0 ? 1.0 : sin (G_PI * z) / (G_PI * z);
      k->profile[m] = sinc * window / i0_beta;
    }
  k->profile[n + 1] = 0.0; /* guard for interpolation at the very end */
}

/* Low-pass impulse response (unnormalised) at `x` input samples from the centre. */
static double
sinc_kernel_value (const SincKernel *k, double x)
{
  double z = fabs (x) * 2.0 * k->cutoff * RESAMPLE_PROFILE_STEPS;
  if (z >= RESAMPLE_ZERO_CROSSINGS * RESAMPLE_PROFILE_STEPS)
    return 0.0;
  guint m = (guint) z;
  double f = z - m;
  return k->profile[m] + f * (k->profile[m + 1] - k->profile[m]);
}

/* Taps for an output sample `frac` (in [0,1)) input samples after input sample `base`:
 * tap i weighs input sample base - half_taps + 1 + i. Normalised to sum 1 so DC is
 * preserved exactly at every phase. */
static void
sinc_kernel_taps (const SincKernel *k, double frac, float *taps)
{
  guint n = 2 * k->half_taps;
  double sum = 0.0;
  for (guint i = 0; i < n; i++)
    {
      double t = sinc_kernel_value (k, frac + k->half_taps - 1.0 - i);
      taps[i] = (float) t;
      sum += t;
    }
  for (guint i = 0; i < n; i++)
    taps[i] = (float) (taps[i] / sum);
}

static guint
gcd_uint (guint a, guint b)
{
  while (b != 0)
    {
      guint t = a % b;
      a = b;
      b = t;
    }
  return a;
}

/* Resamples in place with a Kaiser-windowed sinc; output n = round (n * rate / in). */
void
ph_audio_resample (PhAudio *audio, guint rate)
{
  g_return_if_fail (audio != NULL && rate > 0);
  guint in_rate = audio->sample_rate;
  if (in_rate == rate || in_rate == 0)
    return;

  /* Output j sits at input time j * M / L. */
  guint g = gcd_uint (in_rate, rate);
  guint64 L = rate / g, M = in_rate / g;
  gsize n_in = audio->n_samples;
  gsize n_out = (gsize) (((guint64) n_in * rate + in_rate / 2) / in_rate);

  SincKernel kernel;
  sinc_kernel_init (&kernel, in_rate, rate);
  guint n_taps = 2 * kernel.half_taps;
  gboolean polyphase = L <= RESAMPLE_MAX_PHASES;
  float *table = g_new (float, (polyphase ? L : 1) * n_taps);
  if (polyphase)
    for (guint64 p = 0; p < L; p++)
      sinc_kernel_taps (&kernel, (double) p / (double) L, table + p * n_taps);

  float *out = g_new (float, MAX (n_out, 1));
  for (gsize j = 0; j < n_out; j++)
    {
      guint64 pos = (guint64) j * M;
      gint64 first = (gint64) (pos / L) - kernel.half_taps + 1;
      const float *taps = table + (polyphase ? (pos % L) * n_taps : 0);
      if (!polyphase)
        sinc_kernel_taps (&kernel, (double) (pos % L) / (double) L, table);
      gint64 lo = MAX (0, -first);
      gint64 hi = MIN ((gint64) n_taps, (gint64) n_in - first);
      double acc = 0.0;
      for (gint64 i = lo; i < hi; i++)
        acc += (double) taps[i] * audio->samples[first + i];
      out[j] = (float) acc;
    }

  g_free (table);
  g_free (kernel.profile);
  g_free (audio->samples);
  audio->samples = out;
  audio->n_samples = n_out;
  audio->sample_rate = rate;
}

