/* ph_lexicon.h: text to words to TIMIT phones, with flite's CMU lexicon and its
 * letter-to-sound rules for words the lexicon does not hold.
 *
 * Normalisation: Unicode folded to ASCII, lower case; numbers spoken as words
 * ("28.8" -> twenty eight point eight, "1st" -> first, "007" -> zero zero seven);
 * "#" -> pound, "*" -> star, "%" -> percent, "&" -> and, "@" -> at, "+" -> plus,
 * "=" -> equals; a "." inside a word -> dot (asterisk.org); acronyms (2-4 capitals in
 * mixed-case text, "A.M.", "3D", or a text of one letter) spelt letter by letter, as
 * "x." words that look up the letter's name; hyphens split words; other
 * punctuation dropped. Contractions and possessives ("'s", "'re", "'ll", "'d", "'ve",
 * "'m", "n't") are the stem's pronunciation plus the ending. */
#pragma once

#include <glib.h>
#include "phonemes.h"

G_BEGIN_DECLS

typedef struct _PhLexicon PhLexicon;

/* A lexicon over flite's CMU dictionary. */
PhLexicon *ph_lexicon_new (GError **error);
void ph_lexicon_free (PhLexicon *lexicon);

/* Adds pronunciations that take precedence over flite's: a file of lines
 * "word phone phone ..." (CMUdict style, ARPAbet or TIMIT symbols; ";;;" and "#" start
 * comments; "WORD(2)" alternates are skipped). FALSE + GError naming file and line. */
gboolean ph_lexicon_load_file (PhLexicon *lexicon, const char *path, GError **error);

/* Adds (or replaces) one pronunciation; `word` is lower-cased. */
void ph_lexicon_add (PhLexicon *lexicon, const char *word, const gint *phones, guint n_phones);

/* The spoken words of `text`, normalised as above (NULL-terminated, g_strfreev). */
char **ph_lexicon_normalise (const char *text);

/* The TIMIT phones (GArray of gint) of one normalised word, NULL + GError when neither
 * the lexicon nor the letter-to-sound rules give one. */
GArray *ph_lexicon_lookup (PhLexicon *lexicon, const char *word, GError **error);

/* Normalises `text` and looks up every word: a GPtrArray of PhWord* (ph_align.h), empty
 * for a text with nothing to say, NULL + GError when a word has no pronunciation. */
GPtrArray *ph_lexicon_pronounce (PhLexicon *lexicon, const char *text, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhLexicon, ph_lexicon_free)

G_END_DECLS
