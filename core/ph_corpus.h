/* ph_corpus.h: audio and label files: WAV, NIST SPHERE, TIMIT .PHN, Praat TextGrid,
 * and corpus directories made of them. */
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

/* One labelled span in samples: [start, end). */
typedef struct {
  guint64 start;
  guint64 end;
  gint phone; /* TIMIT-61 index */
} PhLabel;

/* Reads a TIMIT .PHN file ("start end phone" per line). Unknown symbols, reversed or
 * overlapping spans, and spans past `n_samples` (when nonzero) are errors naming the
 * file and line. Returns a GArray of PhLabel. */
GArray *ph_labels_read_phn (const char *path, guint64 n_samples, GError **error);

/* Same, from text already in memory (`name` is used in messages). */
GArray *ph_labels_parse_phn (const char *text, const char *name, guint64 n_samples,
                             GError **error);

/* Reads a Praat TextGrid (long or short text format); takes the tier named "phones"
 * (or the only interval tier with ARPAbet symbols), maps ARPAbet to TIMIT, empty
 * intervals to h#. Times are converted to samples at `sample_rate`. */
GArray *ph_labels_read_textgrid (const char *path, guint sample_rate, GError **error);

/* Same, from a file image of `len` bytes in memory (`name` is used in messages). */
GArray *ph_labels_parse_textgrid (const char *data, gsize len, const char *name,
                                  guint sample_rate, GError **error);

/* Appends the span [start, end) labelled `phone` to `labels` (a GArray of PhLabel),
 * extending the last label instead when it has the same phone; empty spans are ignored. */
void ph_labels_append (GArray *labels, guint64 start, guint64 end, gint phone);

/* Writes .PHN lines, all or nothing (ph_file_write_atomic). */
gboolean ph_labels_write_phn (const char *path, const GArray *labels, GError **error);

/* Frame targets: for each of `n_frames` frames of `hop` samples, the label covering the
 * frame's centre sample (i*hop + hop/2), or -1 where no label covers it. */
gint *ph_labels_to_frame_targets (const GArray *labels, guint hop, guint n_frames);

/* One utterance of a corpus: an audio file and its labels. */
typedef struct {
  char *audio_path;
  char *label_path;   /* .PHN or .TextGrid */
  char *speaker;      /* directory name above the file */
} PhUtterance;

typedef enum {
  PH_CORPUS_TIMIT_SKIP_SA = 1 << 0,  /* skip SA1/SA2 (default for TIMIT) */
  PH_CORPUS_TIMIT_CORE_TEST = 1 << 1, /* only the 24-speaker core test set */
} PhCorpusFlags;

/* Lists utterances under `dir` recursively: every audio file (.wav/.WAV, SPHERE) that
 * has a .PHN/.phn or .TextGrid beside it, sorted by path. Returns a GPtrArray of
 * PhUtterance* (free with g_ptr_array_unref). */
GPtrArray *ph_corpus_list (const char *dir, guint flags, GError **error);

G_END_DECLS
