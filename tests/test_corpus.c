/* test_corpus.c: audio readers/writer (WAV in every supported coding, NIST SPHERE),
 * the resampler against ideal sines, .PHN and TextGrid labels, frame targets, and
 * corpus directory listing. Binary audio is built byte by byte here, independently of
 * the reader. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "phonemes.h"

/* ---- helpers ------------------------------------------------------------------- */

static char *
tmp_dir_new (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("ph-corpus-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
          g_free (child);
        }
      if (d != NULL)
        g_dir_close (d);
    }
  g_remove (path);
}

/* Plain stdio rather than g_file_set_contents, whose fsync makes the many small
 * writes here slow on a busy disk. */
static void
write_bytes (const char *path, const void *data, gsize len)
{
  FILE *f = g_fopen (path, "wb");
  g_assert_nonnull (f);
  if (len > 0) /* fwrite's buffer must not be NULL, even for 0 bytes */
    g_assert_cmpuint (fwrite (data, 1, len, f), ==, len);
  g_assert_cmpint (fclose (f), ==, 0);
}

static void
append_le16 (GByteArray *b, guint v)
{
  guint8 p[2] = { (guint8) v, (guint8) (v >> 8) };
  g_byte_array_append (b, p, 2);
}

static void
append_le32 (GByteArray *b, guint32 v)
{
  guint8 p[4] = { (guint8) v, (guint8) (v >> 8), (guint8) (v >> 16), (guint8) (v >> 24) };
  g_byte_array_append (b, p, 4);
}

static void
append_str (GByteArray *b, const char *s)
{
  g_byte_array_append (b, (const guint8 *) s, (guint) strlen (s));
}

/* Reads audio bytes through a file in `dir`. */
static gboolean
read_audio_bytes (const char *dir, const GByteArray *bytes, PhAudio *audio, GError **error)
{
  char *path = g_build_filename (dir, "audio.bin", NULL);
  write_bytes (path, bytes->data, bytes->len);
  gboolean ok = ph_audio_read (path, audio, error);
  g_free (path);
  return ok;
}

/* ---- WAV ------------------------------------------------------------------------ */

typedef struct {
  guint format;         /* 1 PCM, 3 float, 0xFFFE extensible (with sub_format) */
  guint sub_format;
  guint channels;
  guint rate;
  guint bits;
  gboolean odd_chunk;   /* an odd-sized LIST chunk plus its pad byte before data */
  gboolean data_first;  /* data chunk before the fmt chunk */
  gboolean streamed;    /* data size 0xFFFFFFFF, as streaming writers leave it */
} WavSpec;

static void
append_fmt_chunk (GByteArray *b, const WavSpec *s)
{
  gboolean ext = s->format == 0xFFFE;
  guint block = s->channels * s->bits / 8;
  append_str (b, "fmt ");
  append_le32 (b, ext ? 40 : 16);
  append_le16 (b, s->format);
  append_le16 (b, s->channels);
  append_le32 (b, s->rate);
  append_le32 (b, s->rate * block);
  append_le16 (b, block);
  append_le16 (b, s->bits);
  if (ext)
    {
      static const guint8 guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };
      append_le16 (b, 22);           /* cbSize */
      append_le16 (b, s->bits);      /* valid bits */
      append_le32 (b, s->channels == 2 ? 3 : 4); /* channel mask */
      append_le16 (b, s->sub_format);
      g_byte_array_append (b, guid_tail, sizeof guid_tail);
    }
}

static void
append_data_chunk (GByteArray *b, const WavSpec *s, const guint8 *pcm, gsize len)
{
  append_str (b, "data");
  append_le32 (b, s->streamed ? 0xFFFFFFFFu : (guint32) len);
  g_byte_array_append (b, pcm, (guint) len);
  if (len & 1 && !s->streamed)
    g_byte_array_append (b, (const guint8 *) "", 1);
}

static GByteArray *
build_wav (const WavSpec *s, const guint8 *pcm, gsize len)
{
  GByteArray *b = g_byte_array_new ();
  append_str (b, "RIFF");
  append_le32 (b, 0);
  append_str (b, "WAVE");
  if (s->data_first)
    append_data_chunk (b, s, pcm, len);
  append_fmt_chunk (b, s);
  if (s->odd_chunk)
    {
      append_str (b, "LIST");
      append_le32 (b, 5);
      g_byte_array_append (b, (const guint8 *) "abcde\0", 6); /* 5 bytes + pad */
    }
  if (!s->data_first)
    append_data_chunk (b, s, pcm, len);
  guint32 riff = b->len - 8;
  memcpy (b->data + 4, (guint8[]) { (guint8) riff, (guint8) (riff >> 8),
                                    (guint8) (riff >> 16), (guint8) (riff >> 24) }, 4);
  return b;
}

/* Builds, reads and compares with `expected` (mono) exactly up to float rounding. */
static void
check_wav (const WavSpec *s, const guint8 *pcm, gsize len, const double *expected,
           gsize n_expected)
{
  char *dir = tmp_dir_new ();
  GByteArray *bytes = build_wav (s, pcm, len);
  PhAudio audio;
  GError *error = NULL;
  g_assert_true (read_audio_bytes (dir, bytes, &audio, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (audio.sample_rate, ==, s->rate);
  g_assert_cmpuint (audio.n_samples, ==, n_expected);
  for (gsize i = 0; i < n_expected; i++)
    g_assert_cmpfloat_with_epsilon (audio.samples[i], expected[i], 1e-7);
  ph_audio_clear (&audio);
  g_assert_null (audio.samples);
  g_byte_array_unref (bytes);
  remove_tree (dir);
  g_free (dir);
}

static void
test_wav_roundtrip_16 (void)
{
  char *dir = tmp_dir_new ();
  char *path = g_build_filename (dir, "rt.wav", NULL);
  enum { N = 1001 };
  float in[N];
  GRand *rand = g_rand_new_with_seed (7);
  for (guint i = 0; i < N; i++)
    in[i] = (float) g_rand_double_range (rand, -1.2, 1.2); /* some clip */
  in[0] = 0.0f;
  in[1] = 1.0f;
  in[2] = -1.0f;
  in[3] = 3.0f / 32768.0f + 0.4f / 32768.0f; /* rounds to 3 */
  in[4] = -2.6f / 32768.0f;                  /* rounds to -3 */
  g_rand_free (rand);

  GError *error = NULL;
  g_assert_true (ph_audio_write_wav (path, in, N, 16000, &error));
  g_assert_no_error (error);

  /* The header, checked by hand. */
  char *raw;
  gsize raw_len;
  g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
  g_assert_cmpuint (raw_len, ==, 44 + 2 * N);
  g_assert_cmpmem (raw, 4, "RIFF", 4);
  g_assert_cmpmem (raw + 8, 8, "WAVEfmt ", 8);
  g_assert_cmpmem (raw + 36, 4, "data", 4);
  g_free (raw);

  PhAudio audio;
  g_assert_true (ph_audio_read (path, &audio, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (audio.sample_rate, ==, 16000);
  g_assert_cmpuint (audio.n_samples, ==, N);
  for (guint i = 0; i < N; i++)
    {
      double clipped = CLAMP (in[i], -1.0, 32767.0 / 32768.0);
      g_assert_cmpfloat (fabs (audio.samples[i] - clipped), <=, 0.5 / 32768.0 + 1e-9);
    }
  g_assert_cmpfloat (audio.samples[3], ==, 3.0f / 32768.0f);
  g_assert_cmpfloat (audio.samples[4], ==, -3.0f / 32768.0f);
  g_assert_cmpfloat (audio.samples[1], ==, 32767.0f / 32768.0f);
  g_assert_cmpfloat (audio.samples[2], ==, -1.0f);

  /* Writing what was read reproduces the file bit for bit. */
  char *path2 = g_build_filename (dir, "rt2.wav", NULL);
  g_assert_true (ph_audio_write_wav (path2, audio.samples, audio.n_samples, 16000, &error));
  char *a, *b;
  gsize la, lb;
  g_assert_true (g_file_get_contents (path, &a, &la, NULL));
  g_assert_true (g_file_get_contents (path2, &b, &lb, NULL));
  g_assert_cmpmem (a, la, b, lb);
  g_free (a);
  g_free (b);

  ph_audio_clear (&audio);
  g_free (path);
  g_free (path2);
  remove_tree (dir);
  g_free (dir);
}

static void
test_wav_8bit (void)
{
  const guint8 pcm[] = { 0, 64, 128, 192, 255 };
  const double want[] = { -1.0, -0.5, 0.0, 0.5, 127.0 / 128.0 };
  WavSpec s = { .format = 1, .channels = 1, .rate = 8000, .bits = 8 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
  /* Odd data length: the pad byte must not become a sample. */
  check_wav (&s, pcm, 3, want, 3);
}

static void
test_wav_16bit_by_hand (void)
{
  const guint8 pcm[] = { 0x00, 0x80, 0xFF, 0x7F, 0x00, 0x40, 0xFF, 0xFF };
  const double want[] = { -1.0, 32767.0 / 32768.0, 0.5, -1.0 / 32768.0 };
  WavSpec s = { .format = 1, .channels = 1, .rate = 16000, .bits = 16 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
}

static void
test_wav_24bit (void)
{
  const guint8 pcm[] = { 0x00, 0x00, 0x80, 0x00, 0x00, 0x40, 0xFF, 0xFF, 0xFF,
                         0x01, 0x00, 0x00, 0x00, 0x00, 0xC0 };
  const double want[] = { -1.0, 0.5, -1.0 / 8388608.0, 1.0 / 8388608.0, -0.5 };
  WavSpec s = { .format = 1, .channels = 1, .rate = 44100, .bits = 24 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
}

static void
test_wav_32bit (void)
{
  const guint8 pcm[] = { 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x40,
                         0x00, 0x00, 0x00, 0xC0, 0x00, 0x01, 0x00, 0x00 };
  const double want[] = { -1.0, 0.5, -0.5, 256.0 / 2147483648.0 };
  WavSpec s = { .format = 1, .channels = 1, .rate = 48000, .bits = 32 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
}

/* IEEE float 32 bytes, little-endian, from the bit patterns (independent of host). */
static void
test_wav_float (void)
{
  const guint32 bits[] = { 0x3E800000u /* 0.25 */, 0xBF400000u /* -0.75 */,
                           0x3F800000u /* 1.0 */, 0x7FC00000u /* NaN -> 0 */ };
  const double want[] = { 0.25, -0.75, 1.0, 0.0 };
  GByteArray *pcm = g_byte_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (bits); i++)
    append_le32 (pcm, bits[i]);
  WavSpec s = { .format = 3, .channels = 1, .rate = 16000, .bits = 32 };
  check_wav (&s, pcm->data, pcm->len, want, G_N_ELEMENTS (want));
  g_byte_array_unref (pcm);
}

static void
test_wav_stereo (void)
{
  /* L = 0.5, R = -0.25 -> 0.125; L = -1, R = -1 -> -1. */
  const guint8 pcm[] = { 0x00, 0x40, 0x00, 0xE0, 0x00, 0x80, 0x00, 0x80 };
  const double want[] = { 0.125, -1.0 };
  WavSpec s = { .format = 1, .channels = 2, .rate = 16000, .bits = 16 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
  /* Three channels, 8-bit: (64 + 128 + 255 - 3*128) / 3 / 128. */
  const guint8 pcm3[] = { 64, 128, 255 };
  const double want3[] = { (-64.0 + 0.0 + 127.0) / 3.0 / 128.0 };
  WavSpec s3 = { .format = 1, .channels = 3, .rate = 16000, .bits = 8 };
  check_wav (&s3, pcm3, sizeof pcm3, want3, 1);
}

static void
test_wav_extensible (void)
{
  /* Stereo 24-bit PCM in WAVE_FORMAT_EXTENSIBLE. */
  const guint8 pcm[] = { 0x00, 0x00, 0x40, 0x00, 0x00, 0xC0, /* 0.5, -0.5 */
                         0x00, 0x00, 0x40, 0x00, 0x00, 0x20 }; /* 0.5, 0.25 */
  const double want[] = { 0.0, 0.375 };
  WavSpec s = { .format = 0xFFFE, .sub_format = 1, .channels = 2, .rate = 96000,
                .bits = 24 };
  check_wav (&s, pcm, sizeof pcm, want, G_N_ELEMENTS (want));
  /* Mono float in WAVE_FORMAT_EXTENSIBLE. */
  GByteArray *f = g_byte_array_new ();
  append_le32 (f, 0x3F000000u); /* 0.5 */
  const double wantf[] = { 0.5 };
  WavSpec sf = { .format = 0xFFFE, .sub_format = 3, .channels = 1, .rate = 16000,
                 .bits = 32 };
  check_wav (&sf, f->data, f->len, wantf, 1);
  g_byte_array_unref (f);
}

static void
test_wav_chunk_walk (void)
{
  const guint8 pcm[] = { 0x00, 0x40, 0x00, 0xC0, 0x01 }; /* 2 samples + a stray byte */
  const double want[] = { 0.5, -0.5 };
  WavSpec odd = { .format = 1, .channels = 1, .rate = 16000, .bits = 16,
                  .odd_chunk = TRUE };
  check_wav (&odd, pcm, sizeof pcm, want, 2);
  WavSpec first = { .format = 1, .channels = 1, .rate = 16000, .bits = 16,
                    .data_first = TRUE, .odd_chunk = TRUE };
  check_wav (&first, pcm, 4, want, 2);
  WavSpec streamed = { .format = 1, .channels = 1, .rate = 16000, .bits = 16,
                       .streamed = TRUE };
  check_wav (&streamed, pcm, sizeof pcm, want, 2);
}

/* ---- SPHERE --------------------------------------------------------------------- */

static GByteArray *
build_sphere (const char *fields, const guint8 *pcm, gsize len)
{
  GString *h = g_string_new ("NIST_1A\n   1024\n");
  g_string_append (h, fields);
  g_string_append (h, "end_head\n");
  g_assert_cmpuint (h->len, <=, 1024);
  while (h->len < 1024)
    g_string_append_c (h, ' ');
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) h->str, (guint) h->len);
  g_byte_array_append (b, pcm, (guint) len);
  g_string_free (h, TRUE);
  return b;
}

static void
check_sphere (const char *fields, const guint8 *pcm, gsize len, guint rate,
              const double *want, gsize n_want)
{
  char *dir = tmp_dir_new ();
  GByteArray *bytes = build_sphere (fields, pcm, len);
  PhAudio audio;
  GError *error = NULL;
  g_assert_true (read_audio_bytes (dir, bytes, &audio, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (audio.sample_rate, ==, rate);
  g_assert_cmpuint (audio.n_samples, ==, n_want);
  for (gsize i = 0; i < n_want; i++)
    g_assert_cmpfloat_with_epsilon (audio.samples[i], want[i], 1e-7);
  ph_audio_clear (&audio);
  g_byte_array_unref (bytes);
  remove_tree (dir);
  g_free (dir);
}

static void
test_sphere_little_endian (void)
{
  /* A TIMIT-like header. */
  const char *fields =
    "database_id -s5 TIMIT\n"
    "database_version -s3 1.0\n"
    "utterance_id -s8 aks0_sa1\n"
    "channel_count -i 1\n"
    "sample_count -i 3\n"
    "sample_rate -i 16000\n"
    "sample_min -i -2191\n"
    "sample_max -i 2790\n"
    "sample_n_bytes -i 2\n"
    "sample_byte_format -s2 01\n"
    "sample_sig_bits -i 16\n";
  const guint8 pcm[] = { 0x00, 0x40, 0x00, 0xC0, 0x01, 0x00, 0x77, 0x77 };
  const double want[] = { 0.5, -0.5, 1.0 / 32768.0 }; /* sample_count wins over the tail */
  check_sphere (fields, pcm, sizeof pcm, 16000, want, 3);
}

static void
test_sphere_big_endian (void)
{
  const char *fields =
    "sample_rate -i 8000\n"
    "channel_count -i 1\n"
    "sample_n_bytes -i 2\n"
    "sample_byte_format -s2 10\n"
    "sample_coding -s3 pcm\n";
  const guint8 pcm[] = { 0x40, 0x00, 0xC0, 0x00, 0xFF, 0xFF };
  const double want[] = { 0.5, -0.5, -1.0 / 32768.0 }; /* no sample_count: all of it */
  check_sphere (fields, pcm, sizeof pcm, 8000, want, 3);

  const char *stereo =
    "sample_rate -i 16000\n"
    "channel_count -i 2\n"
    "sample_count -i 1\n"
    "sample_n_bytes -i 2\n"
    "sample_byte_format -s2 10\n";
  const guint8 pcm2[] = { 0x40, 0x00, 0x20, 0x00 };
  const double want2[] = { 0.375 };
  check_sphere (stereo, pcm2, sizeof pcm2, 16000, want2, 1);
}

/* ---- errors: truncated, garbage, unsupported -------------------------------------- */

static void
check_read_fails (const char *dir, const GByteArray *bytes, gint code, const char *needle)
{
  PhAudio audio = { (float *) 0x1, 99, 99 }; /* an out parameter: overwritten */
  GError *error = NULL;
  g_assert_false (read_audio_bytes (dir, bytes, &audio, &error));
  g_assert_error (error, PH_ERROR, code);
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, "audio.bin"));
  if (strstr (error->message, needle) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", error->message, needle);
  g_assert_null (audio.samples);
  g_error_free (error);
}

static GByteArray *
bytes_of (const void *data, gsize len)
{
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, data, (guint) len);
  return b;
}

static void
test_audio_errors (void)
{
  char *dir = tmp_dir_new ();
  GByteArray *b;
  const guint8 pcm[] = { 0, 0, 0, 0 };

  b = bytes_of ("", 0);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "empty");
  g_byte_array_unref (b);

  b = bytes_of ("hello, this is not audio at all", 31);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "not a WAV");
  g_byte_array_unref (b);

  b = bytes_of ("RIFF\x10\0\0", 7);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "truncated header");
  g_byte_array_unref (b);

  b = bytes_of ("RIFF\x04\0\0\0WAVE", 12);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "no 'fmt ' chunk");
  g_byte_array_unref (b);

  WavSpec zero = { .format = 1, .channels = 0, .rate = 16000, .bits = 16 };
  b = build_wav (&zero, pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "zero channels");
  g_byte_array_unref (b);

  WavSpec adpcm = { .format = 2, .channels = 1, .rate = 16000, .bits = 4 };
  b = build_wav (&adpcm, pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "format code 2");
  g_byte_array_unref (b);

  WavSpec ext_adpcm = { .format = 0xFFFE, .sub_format = 0x55, .channels = 1,
                        .rate = 16000, .bits = 16 };
  b = build_wav (&ext_adpcm, pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "format code 85");
  g_byte_array_unref (b);

  WavSpec slow = { .format = 1, .channels = 1, .rate = 3, .bits = 16 };
  b = build_wav (&slow, pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "implausible sample rate 3 Hz");
  g_byte_array_unref (b);

  WavSpec bits12 = { .format = 1, .channels = 1, .rate = 16000, .bits = 12 };
  b = build_wav (&bits12, pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "12 bits");
  g_byte_array_unref (b);

  /* fmt chunk claiming more bytes than the file holds. */
  WavSpec ok = { .format = 1, .channels = 1, .rate = 16000, .bits = 16 };
  b = build_wav (&ok, pcm, 4);
  g_byte_array_set_size (b, 30);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "truncated header");
  g_byte_array_set_size (b, 36); /* fmt complete, no data chunk */
  check_read_fails (dir, b, PH_ERROR_FORMAT, "no 'data' chunk");
  g_byte_array_unref (b);

  b = bytes_of ("RIFX\x24\0\0\0WAVE", 12);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "RIFX");
  g_byte_array_unref (b);

  /* SPHERE problems. */
  b = build_sphere ("sample_rate -i 16000\nchannel_count -i 1\nsample_n_bytes -i 2\n"
                    "sample_byte_format -s2 01\nsample_coding -s26 pcm,embedded-shorten-v2.00\n",
                    pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "shorten");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 16000\nchannel_count -i 1\nsample_n_bytes -i 2\n"
                    "sample_byte_format -s2 01\nsample_coding -s7 wavpack\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "wavpack");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 16000\nchannel_count -i 0\nsample_n_bytes -i 2\n"
                    "sample_byte_format -s2 01\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "zero channels");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 16000\nsample_n_bytes -i 1\n"
                    "sample_byte_format -s1 1\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_UNSUPPORTED, "sample_n_bytes 1");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 0\nsample_byte_format -s2 01\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "implausible sample rate 0 Hz");
  g_byte_array_unref (b);

  b = build_sphere ("channel_count -i 1\nsample_byte_format -s2 01\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "sample_rate");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 16000\nsample_byte_format -s2 01\n"
                    "sample_count -i 100\n", pcm, 4);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "truncated");
  g_byte_array_unref (b);

  b = build_sphere ("sample_rate -i 16000\nsample_byte_format -s2 01\n", pcm, 4);
  memcpy (b->data + 16 + strlen ("sample_rate -i 16000\nsample_byte_format -s2 01\n"),
          "xxx_head", 8);
  check_read_fails (dir, b, PH_ERROR_FORMAT, "end_head");
  g_byte_array_set_size (b, 500); /* shorter than its 1024-byte header */
  check_read_fails (dir, b, PH_ERROR_FORMAT, "truncated header");
  g_byte_array_unref (b);

  /* Missing file. */
  PhAudio audio;
  GError *error = NULL;
  g_assert_false (ph_audio_read ("/nonexistent/dir/x.wav", &audio, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dir/x.wav"));
  g_clear_error (&error);

  remove_tree (dir);
  g_free (dir);
}

/* Every prefix and many corruptions of valid files must read or fail cleanly. */
static void
test_audio_truncated_and_garbage (void)
{
  char *dir = tmp_dir_new ();
  const guint8 pcm[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  WavSpec ext = { .format = 0xFFFE, .sub_format = 1, .channels = 2, .rate = 16000,
                  .bits = 24, .odd_chunk = TRUE };
  GByteArray *sources[2] = {
    build_wav (&ext, pcm, sizeof pcm),
    build_sphere ("sample_rate -i 16000\nchannel_count -i 1\nsample_count -i 6\n"
                  "sample_n_bytes -i 2\nsample_byte_format -s2 01\n", pcm, sizeof pcm),
  };
  GRand *rand = g_rand_new_with_seed (1234);
  for (guint s = 0; s < 2; s++)
    {
      GByteArray *src = sources[s];
      guint step = s == 0 ? 1 : 7;
      for (guint len = 0; len <= src->len; len += step)
        {
          GByteArray *cut = bytes_of (src->data, len);
          PhAudio audio;
          GError *error = NULL;
          gboolean ok = read_audio_bytes (dir, cut, &audio, &error);
          g_assert_true (ok == (error == NULL));
          if (ok)
            ph_audio_clear (&audio);
          g_clear_error (&error);
          g_byte_array_unref (cut);
        }
      for (guint trial = 0; trial < 300; trial++)
        {
          GByteArray *bad = bytes_of (src->data, src->len);
          guint span = s == 0 ? bad->len : 200; /* SPHERE: corrupt the header text */
          for (guint k = 0; k < 3; k++)
            bad->data[g_rand_int_range (rand, 0, (gint32) span)] =
              (guint8) g_rand_int_range (rand, 0, 256);
          PhAudio audio;
          GError *error = NULL;
          if (read_audio_bytes (dir, bad, &audio, &error))
            ph_audio_clear (&audio);
          g_clear_error (&error);
          g_byte_array_unref (bad);
        }
      g_byte_array_unref (src);
    }
  g_rand_free (rand);
  remove_tree (dir);
  g_free (dir);
}

/* ---- resampler -------------------------------------------------------------------- */

/* Resamples a sine of `freq` Hz and compares with the ideal sine at the new rate away
 * from the edges; returns the largest deviation. */
static double
resample_sine_error (guint in_rate, guint out_rate, double freq, double amplitude,
                     gsize n_in)
{
  PhAudio audio = { g_new (float, n_in), n_in, in_rate };
  for (gsize i = 0; i < n_in; i++)
    audio.samples[i] = (float) (amplitude * sin (2 * G_PI * freq * i / in_rate));
  ph_audio_resample (&audio, out_rate);
  g_assert_cmpuint (audio.sample_rate, ==, out_rate);
  g_assert_cmpuint (audio.n_samples, ==, (gsize) floor ((double) n_in * out_rate / in_rate + 0.5));
  gsize margin = (gsize) (0.01 * out_rate); /* 10 ms: beyond the kernel support */
  double worst = 0.0;
  for (gsize j = margin; j + margin < audio.n_samples; j++)
    {
      double ideal = amplitude * sin (2 * G_PI * freq * j / out_rate);
      worst = MAX (worst, fabs (audio.samples[j] - ideal));
    }
  ph_audio_clear (&audio);
  return worst;
}

/* Positive-going zero crossings in the middle of a resampled sine: frequency check. */
static guint
count_rising_crossings (const float *x, gsize from, gsize to)
{
  guint n = 0;
  for (gsize i = from + 1; i < to; i++)
    n += x[i - 1] < 0.0f && x[i] >= 0.0f;
  return n;
}

static void
test_resample_sine (void)
{
  static const guint pairs[][2] = {
    { 8000, 16000 }, { 16000, 8000 }, { 44100, 16000 }, { 48000, 16000 },
    { 16000, 44100 }, { 22050, 16000 }, { 8000, 7919 }, /* 7919: direct evaluation */
  };
  for (guint p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      double err = resample_sine_error (pairs[p][0], pairs[p][1], 1000.0, 0.5,
                                        pairs[p][0] / 5);
      if (g_test_verbose ())
        g_printerr ("  %u -> %u: max error %.2e\n", pairs[p][0], pairs[p][1], err);
      g_assert_cmpfloat (err, <, 1e-4);
    }

  /* 1 kHz at 8k -> 16k: 1000 rising zero crossings per second. */
  PhAudio audio = { g_new (float, 8000), 8000, 8000 };
  for (guint i = 0; i < 8000; i++)
    audio.samples[i] = (float) sin (2 * G_PI * 1000.0 * (i + 0.25) / 8000);
  ph_audio_resample (&audio, 16000);
  g_assert_cmpuint (audio.n_samples, ==, 16000);
  guint crossings = count_rising_crossings (audio.samples, 0, 16000);
  g_assert_cmpuint (crossings, >=, 999);
  g_assert_cmpuint (crossings, <=, 1000);
  ph_audio_clear (&audio);
}

static void
test_resample_properties (void)
{
  /* Output length = round (n * out / in), also for awkward lengths. */
  static const guint lengths[] = { 0, 1, 2, 3, 17, 12345 };
  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      PhAudio audio = { g_new0 (float, MAX (lengths[i], 1)), lengths[i], 44100 };
      ph_audio_resample (&audio, 16000);
      g_assert_cmpuint (audio.n_samples, ==,
                        (gsize) floor (lengths[i] * 16000.0 / 44100.0 + 0.5));
      ph_audio_clear (&audio);
    }

  /* A constant stays constant (away from the zero-padded edges). */
  PhAudio dc = { g_new (float, 4410), 4410, 44100 };
  for (guint i = 0; i < 4410; i++)
    dc.samples[i] = 0.3f;
  ph_audio_resample (&dc, 16000);
  for (gsize j = 100; j + 100 < dc.n_samples; j++)
    g_assert_cmpfloat_with_epsilon (dc.samples[j], 0.3, 1e-5);
  ph_audio_clear (&dc);

  /* A 6 kHz tone is above the 4 kHz Nyquist of 8 kHz: it must be filtered out. */
  PhAudio hi = { g_new (float, 8000), 8000, 16000 };
  for (guint i = 0; i < 8000; i++)
    hi.samples[i] = (float) (0.5 * sin (2 * G_PI * 6000.0 * i / 16000));
  ph_audio_resample (&hi, 8000);
  double energy = 0.0;
  for (gsize j = 100; j + 100 < hi.n_samples; j++)
    energy += hi.samples[j] * hi.samples[j];
  double rms = sqrt (energy / (hi.n_samples - 200));
  g_assert_cmpfloat (rms, <, 1e-3);
  ph_audio_clear (&hi);

  /* Same rate: untouched. */
  PhAudio same = { g_new (float, 4), 4, 16000 };
  float *before = same.samples;
  ph_audio_resample (&same, 16000);
  g_assert_true (same.samples == before);
  ph_audio_clear (&same);

  /* Deterministic: two runs are bit-identical. */
  PhAudio a = { g_new (float, 1000), 1000, 48000 }, b = { g_new (float, 1000), 1000, 48000 };
  for (guint i = 0; i < 1000; i++)
    a.samples[i] = b.samples[i] = (float) sin (i * 0.37);
  ph_audio_resample (&a, 16000);
  ph_audio_resample (&b, 16000);
  g_assert_cmpmem (a.samples, a.n_samples * sizeof (float), b.samples,
                   b.n_samples * sizeof (float));
  ph_audio_clear (&a);
  ph_audio_clear (&b);
}

/* ---- .PHN ------------------------------------------------------------------------- */

static void
assert_label (const GArray *labels, guint i, guint64 start, guint64 end, const char *phone)
{
  g_assert_cmpuint (i, <, labels->len);
  const PhLabel *l = &g_array_index (labels, PhLabel, i);
  g_assert_cmpuint (l->start, ==, start);
  g_assert_cmpuint (l->end, ==, end);
  g_assert_cmpstr (ph_phone_name (l->phone), ==, phone);
}

static void
test_phn_good (void)
{
  GError *error = NULL;
  const char *text = "0 3050 h#\n3050 4559 sh\n\n4559 5723 ix\r\n  6000\t7000  b \n"
                     "7000 8000 h#";
  GArray *labels = ph_labels_parse_phn (text, "good.PHN", 8000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, 5);
  assert_label (labels, 0, 0, 3050, "h#");
  assert_label (labels, 1, 3050, 4559, "sh");
  assert_label (labels, 2, 4559, 5723, "ix");
  assert_label (labels, 3, 6000, 7000, "b"); /* the gap before it is allowed */
  assert_label (labels, 4, 7000, 8000, "h#");

  /* Through files: write, read back, same spans. */
  char *dir = tmp_dir_new ();
  char *path = g_build_filename (dir, "x.PHN", NULL);
  g_assert_true (ph_labels_write_phn (path, labels, &error));
  g_assert_no_error (error);
  char *written;
  g_assert_true (g_file_get_contents (path, &written, NULL, NULL));
  g_assert_cmpstr (written, ==,
                   "0 3050 h#\n3050 4559 sh\n4559 5723 ix\n6000 7000 b\n7000 8000 h#\n");
  g_free (written);
  GArray *back = ph_labels_read_phn (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, labels->len);
  for (guint i = 0; i < back->len; i++) /* field by field: the struct has padding */
    {
      const PhLabel *l = &g_array_index (labels, PhLabel, i);
      assert_label (back, i, l->start, l->end, ph_phone_name (l->phone));
    }
  g_array_unref (back);

  /* An empty file is an empty label list. */
  GArray *none = ph_labels_parse_phn ("\n\n", "empty.PHN", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
  g_array_unref (none);

  /* A bad phone index cannot be written. */
  PhLabel bogus = { 0, 10, 99 };
  g_array_append_val (labels, bogus);
  g_assert_false (ph_labels_write_phn (path, labels, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_null (ph_labels_read_phn ("/nonexistent/x.PHN", 0, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_clear_error (&error);

  g_array_unref (labels);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static void
test_phn_errors (void)
{
  static const struct {
    const char *text;
    guint64 n_samples;
    const char *where;
    const char *what;
  } cases[] = {
    { "0 100 h#\n100 200\n", 0, "bad.PHN:2:", "3 fields" },
    { "0 100 h#\n100 200 aa extra\n", 0, "bad.PHN:2:", "found 4" },
    { "0 100 h#\n100 abc aa\n", 0, "bad.PHN:2:", "'abc' is not a non-negative integer" },
    { "0 100 h#\n\n-5 200 aa\n", 0, "bad.PHN:3:", "'-5'" },
    { "0 100 h#\n1.5e3 2000 aa\n", 0, "bad.PHN:2:", "'1.5e3'" },
    { "0 100 h#\n\n\n200 200 aa\n", 0, "bad.PHN:4:", "not before end" },
    { "0 100 h#\n300 200 aa\n", 0, "bad.PHN:2:", "not before end" },
    { "0 100 h#\n100 200 xx\n", 0, "bad.PHN:2:", "unknown phone 'xx'" },
    { "0 100 H#\n", 0, "bad.PHN:1:", "unknown phone 'H#'" },
    { "0 100 h#\n50 200 aa\n", 0, "bad.PHN:2:", "before the previous span ends (100)" },
    { "0 100 h#\n100 16001 aa\n", 16000, "bad.PHN:2:", "past the end of the audio" },
    /* File bytes are quoted escaped: valid UTF-8, no terminal escapes (issue 17). */
    { "0 100 h#\n100 200 \xff\x1b[2J\n", 0, "bad.PHN:2:", "unknown phone '\\xFF\\x1B[2J'" },
    { "0 100 h#\n100 200 caf\xc3\xa9\n", 0, "bad.PHN:2:", "unknown phone 'caf\xc3\xa9'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *error = NULL;
      GArray *labels = ph_labels_parse_phn (cases[i].text, "bad.PHN", cases[i].n_samples,
                                            &error);
      g_assert_null (labels);
      g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
      if (!g_str_has_prefix (error->message, cases[i].where)
          || strstr (error->message, cases[i].what) == NULL)
        g_error ("case %u: message \"%s\" lacks \"%s\" / \"%s\"", i, error->message,
                 cases[i].where, cases[i].what);
      g_error_free (error);
    }
  /* The same ends are fine when n_samples is 0 (unknown) or large enough. */
  GError *error = NULL;
  GArray *ok = ph_labels_parse_phn ("0 100 h#\n100 16001 aa\n", "ok.PHN", 16001, &error);
  g_assert_no_error (error);
  g_array_unref (ok);

  /* A NUL byte in a file is an error naming its line (it used to end the text there,
   * silently dropping every later line). */
  char *dir = tmp_dir_new ();
  char *path = g_build_filename (dir, "nul.PHN", NULL);
  static const char with_nul[] = "0 100 h#\n100 2\0000 aa\n200 300 h#\n";
  g_assert_true (g_file_set_contents (path, with_nul, sizeof with_nul - 1, NULL));
  g_assert_null (ph_labels_read_phn (path, 0, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "nul.PHN:2:"));
  g_assert_nonnull (strstr (error->message, "NUL"));
  g_clear_error (&error);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* ---- TextGrid --------------------------------------------------------------------- */

static char *
data_path (const char *name)
{
  const char *srcdir = g_getenv ("PH_TEST_SRCDIR");
  return g_build_filename (srcdir ? srcdir : ".", "data", name, NULL);
}

/* hello_*.TextGrid: "" HH AH0 L OW1 sp W ER1 L D "" at 0 .1 .15 .2 .26 .4 .45 .5 .6 .65
 * .7 .8 s. */
static void
check_hello_labels (const GArray *labels, guint rate)
{
  static const double edges[] = { 0, 0.1, 0.15, 0.2, 0.26, 0.4, 0.45, 0.5, 0.6, 0.65,
                                  0.7, 0.8 };
  static const char *const phones[] = { "h#", "hh", "ah", "l", "ow", "h#", "w", "er",
                                        "l", "d", "h#" };
  g_assert_cmpuint (labels->len, ==, G_N_ELEMENTS (phones));
  for (guint i = 0; i < labels->len; i++)
    {
      const char *want = phones[i];
      if (i == 5) /* "sp": whatever the phone set maps it to */
        want = ph_phone_name (ph_phone_from_arpabet ("sp"));
      assert_label (labels, i, (guint64) round (edges[i] * rate),
                    (guint64) round (edges[i + 1] * rate), want);
    }
}

static void
test_textgrid_long_and_short (void)
{
  const char *names[] = { "hello_long.TextGrid", "hello_short.TextGrid" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = data_path (names[i]);
      GError *error = NULL;
      GArray *labels = ph_labels_read_textgrid (path, 16000, &error);
      g_assert_no_error (error);
      check_hello_labels (labels, 16000);
      g_assert_cmpuint (g_array_index (labels, PhLabel, 4).start, ==, 4160);
      g_array_unref (labels);
      labels = ph_labels_read_textgrid (path, 8000, &error);
      g_assert_no_error (error);
      check_hello_labels (labels, 8000);
      g_array_unref (labels);
      g_free (path);
    }
}

/* Praat also saves UTF-16 with a byte-order mark. */
static void
test_textgrid_utf16 (void)
{
  char *src = data_path ("hello_long.TextGrid");
  char *text;
  gsize len;
  g_assert_true (g_file_get_contents (src, &text, &len, NULL));
  gsize utf16_len;
  char *utf16 = g_convert (text, (gssize) len, "UTF-16LE", "UTF-8", NULL, &utf16_len, NULL);
  g_assert_nonnull (utf16);
  char *dir = tmp_dir_new ();
  char *path = g_build_filename (dir, "u.TextGrid", NULL);
  GByteArray *b = bytes_of ("\xFF\xFE", 2);
  g_byte_array_append (b, (const guint8 *) utf16, (guint) utf16_len);
  write_bytes (path, b->data, b->len);
  GError *error = NULL;
  GArray *labels = ph_labels_read_textgrid (path, 16000, &error);
  g_assert_no_error (error);
  check_hello_labels (labels, 16000);
  g_array_unref (labels);
  g_byte_array_unref (b);
  g_free (utf16);
  g_free (text);
  g_free (src);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

/* Replaces `old` in `text` by `with` padded with spaces to the same length. */
static void
overwrite_padded (char *text, const char *old, const char *with)
{
  char *at = strstr (text, old);
  g_assert_nonnull (at);
  gsize n = strlen (old), m = strlen (with);
  g_assert_cmpuint (m, <=, n);
  memcpy (at, with, m);
  memset (at + m, ' ', n - m);
}

/* CRLF line ends, vertical tabs and form feeds between tokens: same labels. (A vertical
 * tab once sent the tokenizer into an endless loop.) */
static void
test_textgrid_odd_whitespace (void)
{
  char *src = data_path ("hello_long.TextGrid");
  char *text;
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  GString *odd = g_string_new (NULL);
  for (const char *p = text; *p; p++)
    {
      if (*p == '\n')
        g_string_append (odd, "\r\n");
      else if (*p == '=')
        g_string_append (odd, "\v=\f");
      else
        g_string_append_c (odd, *p);
    }
  char *dir = tmp_dir_new ();
  char *path = g_build_filename (dir, "odd.TextGrid", NULL);
  write_bytes (path, odd->str, odd->len);
  GError *error = NULL;
  GArray *labels = ph_labels_read_textgrid (path, 16000, &error);
  g_assert_no_error (error);
  check_hello_labels (labels, 16000);
  g_array_unref (labels);
  g_string_free (odd, TRUE);
  g_free (text);
  g_free (src);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static GError *
textgrid_error (const char *dir, const char *text)
{
  char *path = g_build_filename (dir, "bad.TextGrid", NULL);
  write_bytes (path, text, strlen (text));
  GError *error = NULL;
  GArray *labels = ph_labels_read_textgrid (path, 16000, &error);
  g_assert_null (labels);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PH_ERROR);
  g_assert_nonnull (strstr (error->message, path));
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_free (path);
  return error;
}

static void
test_textgrid_errors (void)
{
  char *dir = tmp_dir_new ();
  char *src = data_path ("hello_long.TextGrid");
  char *text;
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));

  /* An unmappable symbol: error naming its line. */
  char **parts = g_strsplit (text, "\"ER1\"", 2);
  guint line = 1;
  for (const char *p = parts[0]; *p; p++)
    line += *p == '\n';
  char *bad = g_strjoinv ("\"QQ7\"", parts);
  GError *error = textgrid_error (dir, bad);
  char *where = g_strdup_printf ("bad.TextGrid:%u:", line);
  g_assert_nonnull (strstr (error->message, where));
  g_assert_nonnull (strstr (error->message, "QQ7"));
  g_clear_error (&error);
  g_free (where);
  g_free (bad);
  g_strfreev (parts);

  /* No "phones" tier and two ARPAbet-looking tiers: ambiguous. */
  char *renamed = g_strdup (text);
  char *phones_name = strstr (renamed, "\"phones\"");
  memcpy (phones_name, "\"phonez\"", 8);
  /* Make the words tier look like phones too. */
  overwrite_padded (renamed, "\"say \"\"hello\"\"\"", "\"AA\"");
  overwrite_padded (renamed, "\"world\"", "\"B\"");
  error = textgrid_error (dir, renamed);
  g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "need exactly one"));
  g_clear_error (&error);
  g_free (renamed);

  error = textgrid_error (dir, "not a textgrid\n");
  g_assert_nonnull (strstr (error->message, "not a Praat TextGrid"));
  g_clear_error (&error);

  error = textgrid_error (dir, "File type = \"ooTextFile\"\nObject class = \"Pitch\"\n");
  g_assert_nonnull (strstr (error->message, "Pitch"));
  g_clear_error (&error);

  error = textgrid_error (dir, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n"
                               "0\n1\n<exists>\n1\n\"IntervalTier\"\n\"phones\"\n0\n1\n1\n"
                               "0\n1\n\"unclosed\n");
  g_assert_nonnull (strstr (error->message, "bad.TextGrid:14:"));
  g_clear_error (&error);

  error = textgrid_error (dir, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n"
                               "0\n1\n<exists>\n1\n\"IntervalTier\"\n\"phones\"\n0\n1\n1e12\n");
  g_assert_nonnull (strstr (error->message, "bad.TextGrid:11:"));
  g_clear_error (&error);

  /* Every prefix of a good file reads or fails cleanly. */
  gsize len = strlen (text);
  for (gsize cut = 0; cut < len; cut += 3)
    {
      char *prefix = g_strndup (text, cut);
      char *path = g_build_filename (dir, "cut.TextGrid", NULL);
      write_bytes (path, prefix, cut);
      GArray *labels = ph_labels_read_textgrid (path, 16000, &error);
      g_assert_true ((labels == NULL) == (error != NULL));
      if (labels)
        g_array_unref (labels);
      g_clear_error (&error);
      g_free (path);
      g_free (prefix);
    }

  g_free (text);
  g_free (src);
  remove_tree (dir);
  g_free (dir);
}

/* ---- frame targets ---------------------------------------------------------------- */

static void
test_frame_targets (void)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  gint hsh = ph_phone_index ("h#"), aa = ph_phone_index ("aa"), b = ph_phone_index ("b");
  PhLabel spans[] = { { 0, 100, hsh }, { 100, 250, aa }, { 300, 400, b } };
  g_array_append_vals (labels, spans, G_N_ELEMENTS (spans));

  /* hop 80: centres 40 120 200 280 360 440 -> h# aa aa (gap) b (none). */
  gint *t = ph_labels_to_frame_targets (labels, 80, 6);
  const gint want[] = { hsh, aa, aa, -1, b, -1 };
  g_assert_cmpmem (t, sizeof want, want, sizeof want);
  g_free (t);

  /* hop 100: centres 50 150 250 350 -> h# aa (250 is past aa's end) b. */
  t = ph_labels_to_frame_targets (labels, 100, 4);
  const gint want100[] = { hsh, aa, -1, b };
  g_assert_cmpmem (t, sizeof want100, want100, sizeof want100);
  g_free (t);

  /* Odd hop 3 (centre offset 1): centres 1 4 7 ... 100 is a boundary: centre 100 at
   * frame 33 belongs to aa, frame 32 (centre 97) to h#. */
  t = ph_labels_to_frame_targets (labels, 3, 140);
  g_assert_cmpint (t[0], ==, hsh);
  g_assert_cmpint (t[32], ==, hsh);
  g_assert_cmpint (t[33], ==, aa);
  g_assert_cmpint (t[82], ==, aa);  /* centre 247 */
  g_assert_cmpint (t[83], ==, -1);  /* centre 250 */
  g_assert_cmpint (t[100], ==, b);  /* centre 301 */
  g_assert_cmpint (t[133], ==, -1); /* centre 400 */
  g_free (t);

  /* Order of the label array does not matter; a label starting after 0 leaves -1. */
  GArray *rev = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  PhLabel late[] = { { 300, 400, b }, { 100, 250, aa } };
  g_array_append_vals (rev, late, 2);
  t = ph_labels_to_frame_targets (rev, 80, 6);
  const gint want_rev[] = { -1, aa, aa, -1, b, -1 };
  g_assert_cmpmem (t, sizeof want_rev, want_rev, sizeof want_rev);
  g_free (t);

  g_array_unref (rev);
  g_array_unref (labels);
}

/* ph_labels_phone_at (a binary search) against a linear scan, on every sample of sorted
 * labels with gaps, and on an empty array. */
static void
test_phone_at (void)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  g_assert_cmpint (ph_labels_phone_at (labels, 0), ==, -1);
  for (guint k = 0; k < 9; k++)
    {
      PhLabel span = { 10 * k + (k % 3 == 0 ? 3 : 0), 10 * k + 10, (gint) k + 1 };
      g_array_append_val (labels, span);
    }
  for (guint64 sample = 0; sample < 100; sample++)
    {
      gint want = -1;
      for (guint k = 0; k < labels->len; k++)
        {
          const PhLabel *label = &g_array_index (labels, PhLabel, k);
          if (sample >= label->start && sample < label->end)
            want = label->phone;
        }
      g_assert_cmpint (ph_labels_phone_at (labels, sample), ==, want);
    }
  g_array_unref (labels);
}

/* ---- corpus listing ----------------------------------------------------------------- */

static void
touch (const char *root, const char *rel)
{
  char *path = g_build_filename (root, rel, NULL);
  char *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  write_bytes (path, "", 0);
  g_free (dir);
  g_free (path);
}

static void
check_listing (const char *root, guint flags, const char *const *want_audio,
               const char *const *want_label, const char *const *want_speaker)
{
  GError *error = NULL;
  GPtrArray *utts = ph_corpus_list (root, flags, &error);
  g_assert_no_error (error);
  guint n = g_strv_length ((char **) want_audio);
  for (guint i = 0; i < utts->len && g_test_verbose (); i++)
    g_printerr ("  %s\n", ((PhUtterance *) utts->pdata[i])->audio_path);
  g_assert_cmpuint (utts->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const PhUtterance *u = utts->pdata[i];
      char *audio = g_build_filename (root, want_audio[i], NULL);
      char *label = g_build_filename (root, want_label[i], NULL);
      g_assert_cmpstr (u->audio_path, ==, audio);
      g_assert_cmpstr (u->label_path, ==, label);
      g_assert_cmpstr (u->speaker, ==, want_speaker[i]);
      g_free (audio);
      g_free (label);
    }
  g_ptr_array_unref (utts);
}

static void
test_corpus_list (void)
{
  char *root = tmp_dir_new ();
  const char *files[] = {
    "TIMIT/TRAIN/DR1/FCJF0/SA1.WAV", "TIMIT/TRAIN/DR1/FCJF0/SA1.PHN",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.WAV", "TIMIT/TRAIN/DR1/FCJF0/SI648.PHN",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.WRD", "TIMIT/TRAIN/DR1/FCJF0/SX37.WAV", /* no labels */
    "TIMIT/TEST/DR1/MDAB0/SA2.WAV", "TIMIT/TEST/DR1/MDAB0/SA2.PHN",
    "TIMIT/TEST/DR1/MDAB0/SI1039.WAV", "TIMIT/TEST/DR1/MDAB0/SI1039.PHN",
    "TIMIT/TEST/DR1/FAKS0/SI943.WAV", "TIMIT/TEST/DR1/FAKS0/SI943.PHN", /* not core */
    "timit/test/dr2/mwew0/sx11.wav", "timit/test/dr2/mwew0/sx11.phn",
    "timit/test/dr2/mwew0/sa1.wav", "timit/test/dr2/mwew0/sa1.phn",
    "other/spk1/utt1.wav", "other/spk1/utt1.TextGrid", "other/spk1/notes.txt",
    "other/spk1/utt1.txt", "other/.hidden/x.wav", "other/.hidden/x.phn",
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    touch (root, files[i]);

  const char *all_audio[] = {
    "TIMIT/TEST/DR1/FAKS0/SI943.WAV", "TIMIT/TEST/DR1/MDAB0/SA2.WAV",
    "TIMIT/TEST/DR1/MDAB0/SI1039.WAV", "TIMIT/TRAIN/DR1/FCJF0/SA1.WAV",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.WAV", "other/spk1/utt1.wav",
    "timit/test/dr2/mwew0/sa1.wav", "timit/test/dr2/mwew0/sx11.wav", NULL };
  const char *all_label[] = {
    "TIMIT/TEST/DR1/FAKS0/SI943.PHN", "TIMIT/TEST/DR1/MDAB0/SA2.PHN",
    "TIMIT/TEST/DR1/MDAB0/SI1039.PHN", "TIMIT/TRAIN/DR1/FCJF0/SA1.PHN",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.PHN", "other/spk1/utt1.TextGrid",
    "timit/test/dr2/mwew0/sa1.phn", "timit/test/dr2/mwew0/sx11.phn", NULL };
  const char *all_speaker[] = { "FAKS0", "MDAB0", "MDAB0", "FCJF0", "FCJF0", "spk1",
                                "mwew0", "mwew0", NULL };
  check_listing (root, 0, all_audio, all_label, all_speaker);

  const char *nosa_audio[] = {
    "TIMIT/TEST/DR1/FAKS0/SI943.WAV", "TIMIT/TEST/DR1/MDAB0/SI1039.WAV",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.WAV", "other/spk1/utt1.wav",
    "timit/test/dr2/mwew0/sx11.wav", NULL };
  const char *nosa_label[] = {
    "TIMIT/TEST/DR1/FAKS0/SI943.PHN", "TIMIT/TEST/DR1/MDAB0/SI1039.PHN",
    "TIMIT/TRAIN/DR1/FCJF0/SI648.PHN", "other/spk1/utt1.TextGrid",
    "timit/test/dr2/mwew0/sx11.phn", NULL };
  const char *nosa_speaker[] = { "FAKS0", "MDAB0", "FCJF0", "spk1", "mwew0", NULL };
  check_listing (root, PH_CORPUS_TIMIT_SKIP_SA, nosa_audio, nosa_label, nosa_speaker);

  const char *core_audio[] = {
    "TIMIT/TEST/DR1/MDAB0/SA2.WAV", "TIMIT/TEST/DR1/MDAB0/SI1039.WAV",
    "timit/test/dr2/mwew0/sa1.wav", "timit/test/dr2/mwew0/sx11.wav", NULL };
  const char *core_label[] = {
    "TIMIT/TEST/DR1/MDAB0/SA2.PHN", "TIMIT/TEST/DR1/MDAB0/SI1039.PHN",
    "timit/test/dr2/mwew0/sa1.phn", "timit/test/dr2/mwew0/sx11.phn", NULL };
  const char *core_speaker[] = { "MDAB0", "MDAB0", "mwew0", "mwew0", NULL };
  check_listing (root, PH_CORPUS_TIMIT_CORE_TEST, core_audio, core_label, core_speaker);

  const char *both_audio[] = { "TIMIT/TEST/DR1/MDAB0/SI1039.WAV",
                               "timit/test/dr2/mwew0/sx11.wav", NULL };
  const char *both_label[] = { "TIMIT/TEST/DR1/MDAB0/SI1039.PHN",
                               "timit/test/dr2/mwew0/sx11.phn", NULL };
  const char *both_speaker[] = { "MDAB0", "mwew0", NULL };
  check_listing (root, PH_CORPUS_TIMIT_SKIP_SA | PH_CORPUS_TIMIT_CORE_TEST, both_audio,
                 both_label, both_speaker);

  GError *error = NULL;
  char *missing = g_build_filename (root, "no-such-dir", NULL);
  g_assert_null (ph_corpus_list (missing, 0, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no-such-dir"));
  g_clear_error (&error);
  g_free (missing);

  remove_tree (root);
  g_free (root);
}

/* A corpus file read end to end: listing, audio, labels, frame targets. */
static void
test_corpus_end_to_end (void)
{
  char *root = tmp_dir_new ();
  char *spk = g_build_filename (root, "spk", NULL);
  g_assert_cmpint (g_mkdir (spk, 0755), ==, 0);
  char *wav = g_build_filename (spk, "u1.wav", NULL);
  char *phn = g_build_filename (spk, "u1.PHN", NULL);
  float samples[480] = { 0 };
  GError *error = NULL;
  g_assert_true (ph_audio_write_wav (wav, samples, 480, 16000, &error));
  const char *text = "0 160 h#\n160 400 aa\n400 480 h#\n";
  write_bytes (phn, text, strlen (text));

  GPtrArray *utts = ph_corpus_list (root, PH_CORPUS_TIMIT_SKIP_SA, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (utts->len, ==, 1);
  PhUtterance *u = utts->pdata[0];
  PhAudio audio;
  g_assert_true (ph_audio_read (u->audio_path, &audio, &error));
  GArray *labels = ph_labels_read_phn (u->label_path, audio.n_samples, &error);
  g_assert_no_error (error);
  gint *t = ph_labels_to_frame_targets (labels, 160, 3);
  /* Centres 80, 240, 400: 400 starts the final h#. */
  const gint want[] = { ph_phone_index ("h#"), ph_phone_index ("aa"),
                        ph_phone_index ("h#") };
  g_assert_cmpmem (t, sizeof want, want, sizeof want);
  g_free (t);
  g_array_unref (labels);
  ph_audio_clear (&audio);
  g_ptr_array_unref (utts);

  /* Labels running past the audio are caught once the length is known. */
  write_bytes (phn, "0 500 h#\n", 9);
  g_assert_null (ph_labels_read_phn (phn, 480, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "u1.PHN:1:"));
  g_clear_error (&error);

  g_free (wav);
  g_free (phn);
  g_free (spk);
  remove_tree (root);
  g_free (root);
}

/* Appending merges a span into the last label of the same phone and ignores empty ones. */
static void
test_labels_append (void)
{
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  gint aa = ph_phone_index ("aa"), s_ = ph_phone_index ("s");

  ph_labels_append (labels, 0, 100, aa);
  ph_labels_append (labels, 100, 150, aa);
  ph_labels_append (labels, 150, 150, s_);
  ph_labels_append (labels, 150, 200, s_);
  g_assert_cmpuint (labels->len, ==, 2);
  g_assert_cmpuint (g_array_index (labels, PhLabel, 0).end, ==, 150);
  g_assert_cmpint (g_array_index (labels, PhLabel, 1).phone, ==, s_);
  g_assert_cmpuint (g_array_index (labels, PhLabel, 1).start, ==, 150);
  g_assert_cmpuint (g_array_index (labels, PhLabel, 1).end, ==, 200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/corpus/wav/roundtrip-16", test_wav_roundtrip_16);
  g_test_add_func ("/corpus/wav/8bit", test_wav_8bit);
  g_test_add_func ("/corpus/wav/16bit-by-hand", test_wav_16bit_by_hand);
  g_test_add_func ("/corpus/wav/24bit", test_wav_24bit);
  g_test_add_func ("/corpus/wav/32bit", test_wav_32bit);
  g_test_add_func ("/corpus/wav/float", test_wav_float);
  g_test_add_func ("/corpus/wav/stereo", test_wav_stereo);
  g_test_add_func ("/corpus/wav/extensible", test_wav_extensible);
  g_test_add_func ("/corpus/wav/chunk-walk", test_wav_chunk_walk);
  g_test_add_func ("/corpus/sphere/little-endian", test_sphere_little_endian);
  g_test_add_func ("/corpus/sphere/big-endian", test_sphere_big_endian);
  g_test_add_func ("/corpus/audio/errors", test_audio_errors);
  g_test_add_func ("/corpus/audio/truncated-and-garbage", test_audio_truncated_and_garbage);
  g_test_add_func ("/corpus/resample/sine", test_resample_sine);
  g_test_add_func ("/corpus/resample/properties", test_resample_properties);
  g_test_add_func ("/corpus/phn/good", test_phn_good);
  g_test_add_func ("/corpus/phn/errors", test_phn_errors);
  g_test_add_func ("/corpus/textgrid/long-and-short", test_textgrid_long_and_short);
  g_test_add_func ("/corpus/textgrid/utf16", test_textgrid_utf16);
  g_test_add_func ("/corpus/textgrid/odd-whitespace", test_textgrid_odd_whitespace);
  g_test_add_func ("/corpus/textgrid/errors", test_textgrid_errors);
  g_test_add_func ("/corpus/frame-targets", test_frame_targets);
  g_test_add_func ("/corpus/phone-at", test_phone_at);
  g_test_add_func ("/corpus/labels-append", test_labels_append);
  g_test_add_func ("/corpus/list", test_corpus_list);
  g_test_add_func ("/corpus/end-to-end", test_corpus_end_to_end);
  return g_test_run ();
}
