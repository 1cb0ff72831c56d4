/* ph_audio.h: mono audio from WAV and NIST SPHERE files, WAV writing and resampling. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Mono audio as float samples in [-1, 1]. */
typedef struct {
  float *samples;
  gsize n_samples;
  guint sample_rate;
} PhAudio;

void ph_audio_clear (PhAudio *audio); /* frees samples */

/* Reads a RIFF WAV (PCM 8/16/24/32-bit or IEEE float 32, any channels: mixed to mono)
 * or a NIST SPHERE file (16-bit PCM, either byte order; header parsed properly),
 * chosen by content. FALSE + GError naming the file and the problem otherwise. */
gboolean ph_audio_read (const char *path, PhAudio *audio, GError **error);

/* Same, from a file image of `size` bytes in memory (`name` is used in messages). */
gboolean ph_audio_parse (const guint8 *data, gsize size, const char *name, PhAudio *audio,
                         GError **error);

/* Writes 16-bit PCM mono WAV, all or nothing (ph_file_write_atomic). */
gboolean ph_audio_write_wav (const char *path, const float *samples, gsize n,
                             guint sample_rate, GError **error);

/* Resamples (windowed-sinc, deterministic) to `rate`; no-op when equal. */
void ph_audio_resample (PhAudio *audio, guint rate);

G_END_DECLS
