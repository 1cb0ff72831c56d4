/* ph_corpus.h: corpus directories: audio files (ph_audio.h) with their labels
 * (ph_labels.h) beside them. */
#pragma once

#include <glib.h>

/* A corpus is audio files with their labels: this header brings their readers too. */
#include "ph_audio.h"
#include "ph_labels.h"

G_BEGIN_DECLS

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
