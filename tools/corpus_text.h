/* corpus_text.h: English sentences to synthesize, with a fixed train/test split so an
 * evaluation corpus never repeats a training sentence. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  CORPUS_TEXT_TRAIN, /* the ~90% of sentences whose hash puts them in training */
  CORPUS_TEXT_TEST,  /* the other ~10%, held out for evaluation */
  CORPUS_TEXT_ALL,
} CorpusTextSplit;

/* A pool of distinct sentences, sorted, so that picks depend only on the seed. */
typedef struct {
  GPtrArray *sentences; /* char*, owned */
  char *sources;        /* where they came from, for the corpus README */
} CorpusText;

/* Where fortune files are looked for (Debian packages fortunes-min, fortunes). */
#define CORPUS_TEXT_FORTUNE_DIR "/usr/share/games/fortunes"

/* Loads the sentences of `split`. With `files` (NULL-terminated, may be NULL) only those
 * plain-text files are read (one sentence per line, '#' comments); otherwise the fortune
 * files under CORPUS_TEXT_FORTUNE_DIR when installed, plus tools/data/sentences.txt
 * found through $PHONEMES_DATA_DIR or beside the executable. NULL + GError when no
 * sentence is left. */
CorpusText *corpus_text_load (const char *const *files, CorpusTextSplit split,
                              GError **error);

void corpus_text_free (CorpusText *text);

/* TRUE when `sentence` belongs to the held-out test split (hash of its letters). */
gboolean corpus_text_is_test (const char *sentence);

/* Cleans one candidate sentence (quotes dropped, spaces collapsed) and returns it
 * newly allocated when it is plain English of 3..25 words, else NULL. */
char *corpus_text_clean_sentence (const char *raw);

/* Appends the acceptable sentences of fortune-file `content` ("%"-separated entries,
 * attributions dropped) to `out` (char*, caller frees). */
void corpus_text_split_fortunes (const char *content, GPtrArray *out);

/* Reads a split name: "train", "test" or "all". FALSE for anything else. */
gboolean corpus_text_parse_split (const char *name, CorpusTextSplit *split);

G_END_DECLS
