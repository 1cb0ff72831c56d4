/* ph_corpus.c: audio and label files (RIFF WAV, NIST SPHERE, TIMIT .PHN, Praat
 * TextGrid) and corpus directories made of them. */
#include "ph_corpus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "ph_error.h"
#include "ph_file.h"
#include "ph_phoneset.h"

/* ------------------------------------------------------------------------------------
 * Small helpers: little-endian access, whole-file writes
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

/* Reads a labels file (PHN, TextGrid) of at most PH_FILE_MAX_TEXT_BYTES. */
static gboolean
read_text_file (const char *path, char **text, gsize *len, GError **error)
{
  *text = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "labels file", len, error);
  return *text != NULL;
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

/* ------------------------------------------------------------------------------------
 * TIMIT .PHN labels
 * ------------------------------------------------------------------------------------ */

/* Splits on runs of whitespace; no empty fields. */
static char **
split_fields (const char *line, guint *n_fields)
{
  char **parts = g_strsplit_set (line, " \t\r\v\f", -1);
  guint n = 0;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] != '\0')
        parts[n++] = parts[i];
      else
        g_free (parts[i]);
    }
  parts[n] = NULL;
  *n_fields = n;
  return parts;
}

static gboolean
parse_sample_index (const char *text, const char *what, const char *name, guint line_no,
                    guint64 *value, GError **error)
{
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL))
    return TRUE;
  char *shown = ph_error_quote (text);
  g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
               "%s:%u: %s '%s' is not a non-negative integer sample index", name, line_no,
               what, shown);
  g_free (shown);
  return FALSE;
}

/* Parses one non-blank "start end phone" line. */
static gboolean
phn_parse_line (char **fields, guint n_fields, const char *name, guint line_no,
                PhLabel *label, GError **error)
{
  if (n_fields != 3)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: expected 3 fields \"start end phone\", found %u", name, line_no,
                   n_fields);
      return FALSE;
    }
  if (!parse_sample_index (fields[0], "start", name, line_no, &label->start, error)
      || !parse_sample_index (fields[1], "end", name, line_no, &label->end, error))
    return FALSE;
  if (label->start >= label->end)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: start %" G_GUINT64_FORMAT " is not before end %" G_GUINT64_FORMAT,
                   name, line_no, label->start, label->end);
      return FALSE;
    }
  label->phone = ph_phone_index (fields[2]);
  if (label->phone < 0)
    {
      char *shown = ph_error_quote (fields[2]);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: unknown phone '%s' (expected one of the 61 TIMIT phones)", name,
                   line_no, shown);
      g_free (shown);
      return FALSE;
    }
  return TRUE;
}

/* Checks a label against the one before it and the audio length. */
static gboolean
label_check_placement (const PhLabel *label, guint64 prev_end, guint64 n_samples,
                       const char *name, guint line_no, GError **error)
{
  if (label->start < prev_end)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: span starts at %" G_GUINT64_FORMAT ", before the previous span "
                   "ends (%" G_GUINT64_FORMAT ")", name, line_no, label->start, prev_end);
      return FALSE;
    }
  if (n_samples != 0 && label->end > n_samples)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: span ends at %" G_GUINT64_FORMAT ", past the end of the audio (%"
                   G_GUINT64_FORMAT " samples)", name, line_no, label->end, n_samples);
      return FALSE;
    }
  return TRUE;
}

/* Parses "start end phone" lines; errors name `name` and the line. */
GArray *
ph_labels_parse_phn (const char *text, const char *name, guint64 n_samples,
                     GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (name == NULL)
    name = "<phn>";
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  char **lines = g_strsplit (text, "\n", -1);
  guint64 prev_end = 0;
  gboolean ok = TRUE;
  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      guint n_fields;
      char **fields = split_fields (lines[i], &n_fields);
      PhLabel label;
      if (n_fields > 0)
        {
          ok = phn_parse_line (fields, n_fields, name, i + 1, &label, error)
               && label_check_placement (&label, prev_end, n_samples, name, i + 1, error);
          if (ok)
            {
              g_array_append_val (labels, label);
              prev_end = label.end;
            }
        }
      g_strfreev (fields);
    }
  g_strfreev (lines);
  if (!ok)
    g_clear_pointer (&labels, g_array_unref);
  return labels;
}

/* Reads a .PHN file; see ph_labels_parse_phn. */
GArray *
ph_labels_read_phn (const char *path, guint64 n_samples, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  char *text;
  gsize len;
  if (!read_text_file (path, &text, &len, error))
    return NULL;
  const char *nul = memchr (text, '\0', len);
  if (nul != NULL)
    {
      guint line = 1;
      for (const char *p = text; p < nul; p++)
        line += *p == '\n';
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: a NUL byte (offset %" G_GSIZE_FORMAT "): not a text .PHN file",
                   path, line, (gsize) (nul - text));
      g_free (text);
      return NULL;
    }
  GArray *labels = ph_labels_parse_phn (text, path, n_samples, error);
  g_free (text);
  return labels;
}

void
ph_labels_append (GArray *labels, guint64 start, guint64 end, gint phone)
{
  PhLabel label = { start, end, phone };

  if (end <= start)
    return;
  if (labels->len > 0)
    {
      PhLabel *last = &g_array_index (labels, PhLabel, labels->len - 1);
      if (last->phone == phone)
        {
          last->end = end;
          return;
        }
    }
  g_array_append_val (labels, label);
}

/* Writes "start end phone" lines. */
gboolean
ph_labels_write_phn (const char *path, const GArray *labels, GError **error)
{
  g_return_val_if_fail (path != NULL && labels != NULL, FALSE);
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < labels->len; i++)
    {
      const PhLabel *label = &g_array_index (labels, PhLabel, i);
      const char *phone = ph_phone_name (label->phone);
      if (phone == NULL)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                       "%s: label %u has phone index %d, not a TIMIT phone", path, i,
                       label->phone);
          g_string_free (out, TRUE);
          return FALSE;
        }
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
                              label->start, label->end, phone);
    }
  gboolean ok = ph_file_write_atomic (path, out->str, out->len, "labels file", error);
  g_string_free (out, TRUE);
  return ok;
}

/* ------------------------------------------------------------------------------------
 * Praat TextGrid (long and short text formats)
 *
 * Both formats carry the same sequence of numbers, quoted strings and <exists> flags;
 * the long one adds labels ("xmin =", "intervals [3]:") around them. So one tokenizer
 * that keeps only numbers, strings and flags reads both.
 * ------------------------------------------------------------------------------------ */

#define TG_BLANKS " \t\r\v\f"

typedef enum { TG_NUMBER, TG_STRING, TG_FLAG } TgKind;

typedef struct {
  TgKind kind;
  double number;  /* TG_NUMBER; TG_FLAG: 1 = <exists>, 0 = <absent> */
  char *text;     /* TG_STRING */
  guint line;
} TgToken;

typedef struct {
  GArray *tokens; /* TgToken */
  guint next;
  const char *path;
} TgReader;

typedef struct {
  double xmin, xmax;
  const char *text; /* owned by the token array */
  guint line;
} TgInterval;

typedef struct {
  const char *name;
  gboolean is_interval;
  GArray *intervals; /* TgInterval; a TextTier's points have xmin == xmax */
} TgTier;

static void
tg_token_clear (gpointer data)
{
  g_free (((TgToken *) data)->text);
}

static void
tg_tier_clear (gpointer data)
{
  g_clear_pointer (&((TgTier *) data)->intervals, g_array_unref);
}

/* Reads a "..." string ("" is an escaped quote) starting at *p. */
static gboolean
tg_scan_string (const char **p, guint *line, TgToken *token, const char *path,
                GError **error)
{
  GString *s = g_string_new (NULL);
  token->kind = TG_STRING;
  token->line = *line;
  const char *q = *p + 1;
  for (;;)
    {
      if (*q == '\0')
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: string never closed (missing '\"')", path, token->line);
          g_string_free (s, TRUE);
          return FALSE;
        }
      if (*q == '"' && q[1] == '"')
        q++; /* "" stands for one quote */
      else if (*q == '"')
        break;
      if (*q == '\n')
        (*line)++;
      g_string_append_c (s, *q++);
    }
  *p = q + 1;
  token->text = g_string_free (s, FALSE);
  return TRUE;
}

/* Classifies a bare word: a number, a flag, or a label to skip (FALSE). */
static gboolean
tg_word_token (const char *word, guint line, TgToken *token)
{
  token->line = line;
  token->text = NULL;
  if (g_str_equal (word, "<exists>") || g_str_equal (word, "<absent>"))
    {
      token->kind = TG_FLAG;
      token->number = g_str_equal (word, "<exists>");
      return TRUE;
    }
  if (!(g_ascii_isdigit (word[0]) || word[0] == '-' || word[0] == '+' || word[0] == '.'))
    return FALSE;
  char *end = NULL;
  token->kind = TG_NUMBER;
  token->number = g_ascii_strtod (word, &end);
  return end != word && *end == '\0';
}

static GArray *
tg_tokenize (const char *text, const char *path, GError **error)
{
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (TgToken));
  g_array_set_clear_func (tokens, tg_token_clear);
  guint line = 1;
  const char *p = text;
  while (*p != '\0')
    {
      TgToken token = { 0 };
      if (*p == '\n')
        line++, p++;
      else if (strchr (TG_BLANKS, *p))
        p++;
      else if (*p == '!' || *p == '[')
        {
          /* "!" comments run to the end of the line; "[3]" indices are skipped. */
          const char *stop = *p == '!' ? "\n" : "]\n";
          p += strcspn (p, stop);
          if (*p == ']')
            p++;
        }
      else if (*p == '"')
        {
          if (!tg_scan_string (&p, &line, &token, path, error))
            {
              g_array_unref (tokens);
              return NULL;
            }
          g_array_append_val (tokens, token);
        }
      else
        {
          /* Never empty: every character that stops a word is handled above. */
          gsize len = strcspn (p, TG_BLANKS "\n\"[!");
          char *word = g_strndup (p, len);
          if (tg_word_token (word, line, &token))
            g_array_append_val (tokens, token);
          g_free (word);
          p += len;
        }
    }
  return tokens;
}

static const TgToken *
tg_peek (TgReader *r)
{
  return r->next < r->tokens->len ? &g_array_index (r->tokens, TgToken, r->next) : NULL;
}

/* Takes the next token, which must be of `kind`; `what` names it in the error. */
static const TgToken *
tg_expect (TgReader *r, TgKind kind, const char *what, GError **error)
{
  const TgToken *t = tg_peek (r);
  if (t == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: unexpected end of file, expected %s", r->path, what);
      return NULL;
    }
  if (t->kind != kind || (kind == TG_NUMBER && !isfinite (t->number)))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s:%u: expected %s", r->path,
                   t->line, what);
      return NULL;
    }
  r->next++;
  return t;
}

/* Reads a count, which must be a whole number no larger than what the file can hold. */
static gboolean
tg_expect_count (TgReader *r, const char *what, guint *count, GError **error)
{
  const TgToken *t = tg_expect (r, TG_NUMBER, what, error);
  if (t == NULL)
    return FALSE;
  if (t->number < 0 || t->number != floor (t->number) || t->number > r->tokens->len)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s:%u: %s %g is not a plausible count",
                   r->path, t->line, what, t->number);
      return FALSE;
    }
  *count = (guint) t->number;
  return TRUE;
}

static gboolean
tg_read_tier (TgReader *r, TgTier *tier, GError **error)
{
  const TgToken *cls = tg_expect (r, TG_STRING, "a tier class (\"IntervalTier\")", error);
  const TgToken *name = cls ? tg_expect (r, TG_STRING, "a tier name", error) : NULL;
  guint count;
  if (name == NULL || !tg_expect (r, TG_NUMBER, "tier xmin", error)
      || !tg_expect (r, TG_NUMBER, "tier xmax", error)
      || !tg_expect_count (r, "number of intervals", &count, error))
    return FALSE;
  tier->name = name->text;
  tier->is_interval = g_str_equal (cls->text, "IntervalTier");
  if (!tier->is_interval && !g_str_equal (cls->text, "TextTier"))
    {
      char *shown = ph_error_quote (cls->text);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: unknown tier class \"%s\" (expected IntervalTier or TextTier)",
                   r->path, cls->line, shown);
      g_free (shown);
      return FALSE;
    }
  tier->intervals = g_array_sized_new (FALSE, FALSE, sizeof (TgInterval), count);
  for (guint i = 0; i < count; i++)
    {
      TgInterval interval = { 0 };
      const TgToken *xmin = tg_expect (r, TG_NUMBER, tier->is_interval ? "interval xmin"
                                                                       : "point time", error);
      const TgToken *xmax = xmin && tier->is_interval
                            ? tg_expect (r, TG_NUMBER, "interval xmax", error) : xmin;
      const TgToken *text = xmax ? tg_expect (r, TG_STRING, "a quoted text", error) : NULL;
      if (text == NULL)
        return FALSE;
      interval.xmin = xmin->number;
      interval.xmax = xmax->number;
      interval.text = text->text;
      interval.line = text->line;
      g_array_append_val (tier->intervals, interval);
    }
  return TRUE;
}

/* Reads the file header and every tier into `tiers` (GArray of TgTier). */
static gboolean
tg_read_tiers (TgReader *r, GArray *tiers, GError **error)
{
  const TgToken *type = tg_peek (r);
  if (type == NULL || type->kind != TG_STRING || !g_str_has_prefix (type->text, "ooTextFile"))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: not a Praat TextGrid text file (expected File type = \"ooTextFile\")",
                   r->path);
      return FALSE;
    }
  r->next++;
  const TgToken *cls = tg_expect (r, TG_STRING, "Object class = \"TextGrid\"", error);
  if (cls != NULL && !g_str_equal (cls->text, "TextGrid"))
    {
      char *shown = ph_error_quote (cls->text);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: object class is \"%s\", expected \"TextGrid\"", r->path, cls->line,
                   shown);
      g_free (shown);
      return FALSE;
    }
  if (cls == NULL || !tg_expect (r, TG_NUMBER, "xmin", error)
      || !tg_expect (r, TG_NUMBER, "xmax", error))
    return FALSE;
  const TgToken *flag = tg_peek (r);
  if (flag != NULL && flag->kind == TG_FLAG)
    {
      r->next++;
      if (flag->number == 0)
        return TRUE;
    }
  guint n_tiers;
  if (!tg_expect_count (r, "number of tiers", &n_tiers, error))
    return FALSE;
  for (guint i = 0; i < n_tiers; i++)
    {
      TgTier tier = { 0 };
      gboolean ok = tg_read_tier (r, &tier, error);
      g_array_append_val (tiers, tier);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* TIMIT index of a TextGrid text: ARPAbet first, then a TIMIT name; empty -> h#. */
static gint
tg_map_symbol (const char *text)
{
  char *s = g_strstrip (g_strdup (text));
  gint phone = *s == '\0' ? ph_phone_index ("h#") : ph_phone_from_arpabet (s);
  if (phone < 0)
    phone = ph_phone_index (s);
  g_free (s);
  return phone;
}

/* An interval tier "looks like ARPAbet" when it has text and at least 80% of its
 * non-empty texts map to a phone; the rest then get line-numbered errors. */
static gboolean
tg_tier_looks_like_phones (const TgTier *tier)
{
  guint n_text = 0, n_mapped = 0;
  if (!tier->is_interval)
    return FALSE;
  for (guint i = 0; i < tier->intervals->len; i++)
    {
      const char *text = g_array_index (tier->intervals, TgInterval, i).text;
      char *s = g_strstrip (g_strdup (text));
      if (*s != '\0')
        {
          n_text++;
          n_mapped += tg_map_symbol (s) >= 0;
        }
      g_free (s);
    }
  return n_text > 0 && n_mapped * 5 >= n_text * 4;
}

static const TgTier *
tg_pick_tier (const GArray *tiers, const char *path, GError **error)
{
  const TgTier *found = NULL;
  guint n_phone_like = 0;
  for (guint i = 0; i < tiers->len; i++)
    {
      const TgTier *tier = &g_array_index (tiers, TgTier, i);
      if (tier->is_interval && g_ascii_strcasecmp (tier->name, "phones") == 0)
        return tier;
    }
  GString *names = g_string_new (NULL);
  for (guint i = 0; i < tiers->len; i++)
    {
      const TgTier *tier = &g_array_index (tiers, TgTier, i);
      g_string_append_printf (names, "%s\"%s\"", i ? ", " : "", tier->name);
      if (tg_tier_looks_like_phones (tier))
        {
          found = tier;
          n_phone_like++;
        }
    }
  if (n_phone_like != 1)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: no interval tier named \"phones\", and %u interval tiers with ARPAbet "
                   "labels (need exactly one); tiers: %s", path, n_phone_like,
                   names->len ? names->str : "none");
      found = NULL;
    }
  g_string_free (names, TRUE);
  return found;
}

/* Converts a tier's intervals to sample spans; zero-length spans are dropped. */
static GArray *
tg_tier_to_labels (const TgTier *tier, guint sample_rate, const char *path, GError **error)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  guint64 prev_end = 0;
  for (guint i = 0; i < tier->intervals->len; i++)
    {
      const TgInterval *iv = &g_array_index (tier->intervals, TgInterval, i);
      PhLabel label;
      if (iv->xmax < iv->xmin)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: interval ends (%g s) before it starts (%g s)", path, iv->line,
                       iv->xmax, iv->xmin);
          goto fail;
        }
      label.phone = tg_map_symbol (iv->text);
      if (label.phone < 0)
        {
          char *shown = ph_error_quote (iv->text);
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: phone \"%s\" has no TIMIT equivalent", path, iv->line,
                       shown);
          g_free (shown);
          goto fail;
        }
      label.start = (guint64) MAX (0.0, round (iv->xmin * sample_rate));
      label.end = (guint64) MAX (0.0, round (iv->xmax * sample_rate));
      if (label.end <= label.start)
        continue;
      if (!label_check_placement (&label, prev_end, 0, path, iv->line, error))
        goto fail;
      g_array_append_val (labels, label);
      prev_end = label.end;
    }
  return labels;

fail:
  g_array_unref (labels);
  return NULL;
}

/* Praat may save UTF-16 (with a byte-order mark); everything else is taken as UTF-8. */
static char *
tg_text_to_utf8 (char *raw, gsize len, const char *path, GError **error)
{
  const guint8 *b = (const guint8 *) raw;
  if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
    {
      char *utf8 = g_convert (raw + 2, len - 2, "UTF-8",
                              b[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", NULL, NULL, NULL);
      if (utf8 == NULL)
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: invalid UTF-16 text", path);
      g_free (raw);
      return utf8;
    }
  if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
    memmove (raw, raw + 3, len - 2);
  return raw;
}

/* Reads the phone tier of a text TextGrid as TIMIT labels in samples. */
GArray *
ph_labels_read_textgrid (const char *path, guint sample_rate, GError **error)
{
  g_return_val_if_fail (path != NULL && sample_rate > 0, NULL);
  char *raw;
  gsize len;
  if (!read_text_file (path, &raw, &len, error))
    return NULL;
  GArray *labels = ph_labels_parse_textgrid (raw, len, path, sample_rate, error);
  g_free (raw);
  return labels;
}

/* The same from a file image in memory; errors name `name`. */
GArray *
ph_labels_parse_textgrid (const char *data, gsize len, const char *name, guint sample_rate,
                          GError **error)
{
  g_return_val_if_fail ((data != NULL || len == 0) && sample_rate > 0, NULL);
  const char *path = name != NULL ? name : "<TextGrid>";
  char *raw = g_malloc (len + 1);
  if (len > 0)
    memcpy (raw, data, len);
  raw[len] = '\0';
  char *text = tg_text_to_utf8 (raw, len, path, error);
  if (text == NULL)
    return NULL;

  GArray *labels = NULL;
  GArray *tiers = g_array_new (FALSE, FALSE, sizeof (TgTier));
  g_array_set_clear_func (tiers, tg_tier_clear);
  TgReader reader = { tg_tokenize (text, path, error), 0, path };
  if (reader.tokens != NULL && tg_read_tiers (&reader, tiers, error))
    {
      const TgTier *tier = tg_pick_tier (tiers, path, error);
      if (tier != NULL)
        labels = tg_tier_to_labels (tier, sample_rate, path, error);
    }
  g_array_unref (tiers);
  if (reader.tokens != NULL)
    g_array_unref (reader.tokens);
  g_free (text);
  return labels;
}

/* ------------------------------------------------------------------------------------
 * Frame targets
 * ------------------------------------------------------------------------------------ */

/* Per frame, the label covering sample i*hop + hop/2, or -1; caller frees. */
gint *
ph_labels_to_frame_targets (const GArray *labels, guint hop, guint n_frames)
{
  g_return_val_if_fail (labels != NULL && hop > 0, NULL);
  gint *targets = g_new (gint, MAX (n_frames, 1));
  for (guint i = 0; i < n_frames; i++)
    targets[i] = -1;
  guint64 half = hop / 2;
  for (guint k = 0; k < labels->len; k++)
    {
      const PhLabel *label = &g_array_index (labels, PhLabel, k);
      /* First frame whose centre i*hop + hop/2 is >= start. */
      guint64 first = label->start <= half ? 0 : (label->start - half + hop - 1) / hop;
      for (guint64 i = first; i < n_frames && i * hop + half < label->end; i++)
        targets[i] = label->phone;
    }
  return targets;
}

/* ------------------------------------------------------------------------------------
 * Corpus directories
 * ------------------------------------------------------------------------------------ */

#define CORPUS_MAX_DEPTH 64 /* guards against symlink loops */

/* The 24-speaker TIMIT core test set (Halberstadt 1998), upper case. */
static const char *const timit_core_test_speakers[] = {
  "MDAB0", "MWBT0", "FELC0", "MTAS1", "MWEW0", "FPAS0", "MJMP0", "MLNT0",
  "FPKT0", "MLLL0", "MTLS0", "FJLM0", "MBPM0", "MKLT0", "FNLP0", "MCMJ0",
  "MJDH0", "FMGD0", "MGRT0", "MNJM0", "FDHC0", "MJLN0", "MPAM0", "FMLD0",
};

static gboolean
is_core_test_speaker (const char *speaker)
{
  for (guint i = 0; i < G_N_ELEMENTS (timit_core_test_speakers); i++)
    if (g_ascii_strcasecmp (speaker, timit_core_test_speakers[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
utterance_free (gpointer data)
{
  PhUtterance *u = data;
  g_free (u->audio_path);
  g_free (u->label_path);
  g_free (u->speaker);
  g_free (u);
}

static gint
utterance_compare (gconstpointer a, gconstpointer b)
{
  const PhUtterance *ua = *(const PhUtterance *const *) a;
  const PhUtterance *ub = *(const PhUtterance *const *) b;
  return strcmp (ua->audio_path, ub->audio_path);
}

static gboolean
has_extension (const char *name, const char *ext)
{
  const char *dot = strrchr (name, '.');
  return dot != NULL && dot != name && g_ascii_strcasecmp (dot + 1, ext) == 0;
}

/* Name of the label file beside `audio_name` (.PHN preferred over .TextGrid, any case),
 * or NULL. `by_lower` maps lower-cased entry names to real ones. */
static const char *
find_label_name (GHashTable *by_lower, const char *audio_name)
{
  const char *dot = strrchr (audio_name, '.');
  char *stem = g_ascii_strdown (audio_name, dot - audio_name);
  const char *exts[] = { ".phn", ".textgrid" };
  const char *found = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (exts) && found == NULL; i++)
    {
      char *key = g_strconcat (stem, exts[i], NULL);
      found = g_hash_table_lookup (by_lower, key);
      g_free (key);
    }
  g_free (stem);
  return found;
}

static gboolean
utterance_wanted (const char *audio_name, const char *speaker, guint flags)
{
  if ((flags & PH_CORPUS_TIMIT_SKIP_SA) && g_ascii_strncasecmp (audio_name, "SA", 2) == 0)
    return FALSE;
  if ((flags & PH_CORPUS_TIMIT_CORE_TEST) && !is_core_test_speaker (speaker))
    return FALSE;
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted entry names of `dir`, hidden ones left out. */
static GPtrArray *
list_directory (const char *dir, GError **error)
{
  GError *local = NULL;
  GDir *d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot list directory %s: %s", dir,
                   local->message);
      g_error_free (local);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  return names;
}

static gboolean
corpus_walk (const char *dir, guint flags, guint depth, GPtrArray *out, GError **error)
{
  if (depth > CORPUS_MAX_DEPTH)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_IO,
                   "%s: directories nested more than %u deep (a symlink loop?)", dir,
                   CORPUS_MAX_DEPTH);
      return FALSE;
    }
  GPtrArray *names = list_directory (dir, error);
  if (names == NULL)
    return FALSE;
  GHashTable *by_lower = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = names->len; i-- > 0;) /* backwards: the first name wins a clash */
    g_hash_table_insert (by_lower, g_ascii_strdown (names->pdata[i], -1), names->pdata[i]);

  char *speaker = g_path_get_basename (dir);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        ok = corpus_walk (path, flags, depth + 1, out, error);
      else if ((has_extension (name, "wav") || has_extension (name, "sph"))
               && utterance_wanted (name, speaker, flags))
        {
          const char *label = find_label_name (by_lower, name);
          if (label != NULL)
            {
              PhUtterance *u = g_new0 (PhUtterance, 1);
              u->audio_path = g_strdup (path);
              u->label_path = g_build_filename (dir, label, NULL);
              u->speaker = g_strdup (speaker);
              g_ptr_array_add (out, u);
            }
        }
      g_free (path);
    }
  g_free (speaker);
  g_hash_table_unref (by_lower);
  g_ptr_array_unref (names);
  return ok;
}

/* Lists labelled audio files under `dir`, sorted by path. */
GPtrArray *
ph_corpus_list (const char *dir, guint flags, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func (utterance_free);
  if (!corpus_walk (dir, flags, 0, out, error))
    {
      g_ptr_array_unref (out);
      return NULL;
    }
  g_ptr_array_sort (out, utterance_compare);
  return out;
}
