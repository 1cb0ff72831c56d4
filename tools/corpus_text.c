/* corpus_text.c: the sentence pool for synthetic corpora: fortune files (Debian's
 * fortunes packages, when installed) split into plain sentences, plus the committed
 * tools/data/sentences.txt. */
#include "corpus_text.h"

#include <string.h>

#include "ph_error.h"
#include "ph_file.h"

#define MIN_WORDS 3
#define MAX_WORDS 25
#define MAX_WORD_CHARS 20
#define TEST_ONE_IN 10

/* Fortune files not worth reading: pictures, and jokes at people's expense. */
static const char *const skipped_fortune_files[] = { "ascii-art", "ethnic", NULL };

/* Words whose trailing period does not end a sentence. */
static const char *const abbreviations[] = {
  "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "Prof", "Gen", "Col", "Lt", "Sgt",
  "Capt", "Rev", "Mt", "etc", "No", NULL,
};

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static guint64
fnv1a_letters (const char *text)
{
  guint64 hash = 14695981039346656037ull;

  for (const char *p = text; *p; p++) {
    if (!g_ascii_isalpha (*p))
      continue;
    hash ^= (guchar) g_ascii_tolower (*p);
    hash *= 1099511628211ull;
  }
  return hash;
}

/* Only letters count, so punctuation or case edits do not move a sentence across. */
gboolean
corpus_text_is_test (const char *sentence)
{
  return fnv1a_letters (sentence) % TEST_ONE_IN == 0;
}

/* Indexed by CorpusTextSplit. */
static const char *const split_names[] = { "train", "test", "all" };

gboolean
corpus_text_parse_split (const char *name, CorpusTextSplit *split)
{
  for (guint i = 0; i < G_N_ELEMENTS (split_names); i++)
    if (g_strcmp0 (name, split_names[i]) == 0) {
      *split = (CorpusTextSplit) i;
      return TRUE;
    }
  return FALSE;
}

static gboolean
allowed_char (char c)
{
  return g_ascii_isalpha (c) || c == ' ' || strchr (",.!?';:-", c) != NULL;
}

/* All-caps words (acronyms, shouting) are spelled or read oddly by synthesizers. */
static gboolean
word_ok (const char *word)
{
  gsize letters = 0, upper = 0, len = strlen (word);

  if (len > MAX_WORD_CHARS)
    return FALSE;
  for (const char *p = word; *p; p++)
    if (g_ascii_isalpha (*p)) {
      letters++;
      upper += g_ascii_isupper (*p) != 0;
    }
  return letters > 0 && (letters < 2 || upper < letters);
}

static gboolean
words_ok (const char *sentence)
{
  g_auto (GStrv) words = g_strsplit (sentence, " ", -1);
  guint n = g_strv_length (words);

  if (n < MIN_WORDS || n > MAX_WORDS)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!word_ok (words[i]))
      return FALSE;
  return TRUE;
}

/* Drops quotes, collapses white space and ends the sentence with punctuation. */
static GString *
normalise_sentence (const char *raw)
{
  GString *out = g_string_new (NULL);

  for (const char *p = raw; *p; p++) {
    char c = *p;
    if (c == '"' || c == '`')
      continue;
    if (g_ascii_isspace (c)) {
      if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
      continue;
    }
    g_string_append_c (out, c);
  }
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  if (out->len > 0 && g_ascii_isalpha (out->str[out->len - 1]))
    g_string_append_c (out, '.');
  return out;
}

char *
corpus_text_clean_sentence (const char *raw)
{
  g_autoptr (GString) s = normalise_sentence (raw);

  if (s->len < 2 || !g_ascii_isupper (s->str[0]))
    return NULL;
  for (gsize i = 0; i < s->len; i++) {
    char c = s->str[i];
    if (!allowed_char (c))
      return NULL;
    /* Sentence punctuation inside means an abbreviation or a bad split. */
    if ((c == '.' || c == '!' || c == '?') && i + 1 < s->len)
      return NULL;
  }
  if (!strchr (".!?", s->str[s->len - 1]) || !words_ok (s->str))
    return NULL;
  return g_strdup (s->str);
}

/* TRUE when the period at text[pos] ends an abbreviation such as "Mr.". */
static gboolean
ends_abbreviation (const char *text, gsize pos)
{
  gsize start = pos;

  while (start > 0 && g_ascii_isalpha (text[start - 1]))
    start--;
  if (pos - start == 1)
    return TRUE; /* an initial: "J. Smith" */
  for (guint i = 0; abbreviations[i]; i++)
    if (strlen (abbreviations[i]) == pos - start
        && strncmp (text + start, abbreviations[i], pos - start) == 0)
      return TRUE;
  return FALSE;
}

static void
append_if_clean (GPtrArray *out, const char *raw)
{
  char *sentence = corpus_text_clean_sentence (raw);

  if (sentence)
    g_ptr_array_add (out, sentence);
}

/* Splits running text after . ! or ? followed by a space. */
static void
split_sentences (const char *text, GPtrArray *out)
{
  gsize start = 0, len = strlen (text);

  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    gboolean boundary = (c == '.' || c == '!' || c == '?')
                        && (i + 1 == len || text[i + 1] == ' ' || text[i + 1] == '"')
                        && !(c == '.' && ends_abbreviation (text, i));
    if (!boundary)
      continue;
    if (i + 1 < len && text[i + 1] == '"')
      i++;
    g_autofree char *piece = g_strndup (text + start, i + 1 - start);
    append_if_clean (out, piece);
    start = i + 1;
  }
  if (start < len) {
    g_autofree char *piece = g_strdup (text + start);
    append_if_clean (out, piece);
  }
}

/* One fortune entry as running text: attribution lines ("-- Someone") and what follows
 * are dropped, dashes become commas. */
static char *
fortune_entry_text (const char *entry)
{
  g_auto (GStrv) lines = g_strsplit (entry, "\n", -1);
  GString *text = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++) {
    const char *line = g_strstrip (lines[i]);
    if (g_str_has_prefix (line, "--"))
      break;
    g_string_append (text, line);
    g_string_append_c (text, ' ');
  }
  g_string_replace (text, " -- ", ", ", 0);
  g_string_replace (text, "--", ", ", 0);
  g_string_replace (text, "\t", " ", 0);
  return g_string_free (text, FALSE);
}

void
corpus_text_split_fortunes (const char *content, GPtrArray *out)
{
  g_auto (GStrv) entries = g_regex_split_simple ("\\n%\\n", content, 0, 0);

  for (guint i = 0; entries[i]; i++) {
    g_autofree char *text = fortune_entry_text (entries[i]);
    split_sentences (text, out);
  }
}

static void
add_text_file_lines (const char *content, GPtrArray *out)
{
  g_auto (GStrv) lines = g_strsplit (content, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    const char *line = g_strstrip (lines[i]);
    if (line[0] != '\0' && line[0] != '#')
      append_if_clean (out, line);
  }
}

static gboolean
fortune_file_wanted (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (strchr (name, '.') || !g_file_test (path, G_FILE_TEST_IS_REGULAR)
      || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    return FALSE;
  return !g_strv_contains (skipped_fortune_files, name);
}

/* Reads every fortune file of `dir` (sorted by name); returns how many were read. */
static guint
add_fortunes (const char *dir, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint read = 0;

  if (!d)
    return 0;
  while ((name = g_dir_read_name (d)))
    if (fortune_file_wanted (dir, name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
    g_autofree char *content = NULL;
    content = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "text file", NULL, NULL);
    if (content != NULL && g_utf8_validate (content, -1, NULL)) {
      corpus_text_split_fortunes (content, out);
      read++;
    }
  }
  return read;
}

/* tools/data/sentences.txt: $PHONEMES_DATA_DIR, the source tree above a build
 * directory's tools/, an installed share/phonemes, or the current directory. */
static char *
find_sentences_file (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe ? g_path_get_dirname (exe) : g_strdup (".");
  const char *env = g_getenv ("PHONEMES_DATA_DIR");
  char *candidates[] = {
    env ? g_build_filename (env, "sentences.txt", NULL) : NULL,
    g_build_filename (exe_dir, "..", "..", "tools", "data", "sentences.txt", NULL),
    g_build_filename (exe_dir, "..", "share", "phonemes", "sentences.txt", NULL),
    g_build_filename ("tools", "data", "sentences.txt", NULL),
  };
  char *found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++) {
    if (!found && candidates[i] && g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
      found = g_canonicalize_filename (candidates[i], NULL);
    g_free (candidates[i]);
  }
  return found;
}

static gboolean
add_file (const char *path, GPtrArray *out, GError **error)
{
  g_autofree char *content = NULL;

  if (!(content = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "text file", NULL,
                                        error)))
    return FALSE;
  if (!g_utf8_validate (content, -1, NULL)) {
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: not UTF-8 text", path);
    return FALSE;
  }
  add_text_file_lines (content, out);
  return TRUE;
}

static gboolean
add_default_sources (GPtrArray *out, GString *sources, GError **error)
{
  guint fortunes = add_fortunes (CORPUS_TEXT_FORTUNE_DIR, out);
  g_autofree char *sentences = find_sentences_file ();

  if (fortunes > 0)
    g_string_append_printf (sources, "%u fortune files in %s; ", fortunes,
                            CORPUS_TEXT_FORTUNE_DIR);
  if (sentences) {
    if (!add_file (sentences, out, error))
      return FALSE;
    g_string_append (sources, sentences);
  }
  if (fortunes == 0 && !sentences) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO,
                 "no text to synthesize: tools/data/sentences.txt not found (set "
                 "PHONEMES_DATA_DIR to its folder, or pass --text FILE) and no fortune "
                 "files in %s (apt-get install fortunes-min)", CORPUS_TEXT_FORTUNE_DIR);
    return FALSE;
  }
  return TRUE;
}

/* Sorts, removes duplicates and keeps the sentences of `split`. */
static GPtrArray *
select_split (GPtrArray *all, CorpusTextSplit split)
{
  GPtrArray *kept = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_sort (all, compare_strings);
  for (guint i = 0; i < all->len; i++) {
    const char *s = all->pdata[i];
    if (i > 0 && strcmp (s, all->pdata[i - 1]) == 0)
      continue;
    if (split == CORPUS_TEXT_ALL || corpus_text_is_test (s) == (split == CORPUS_TEXT_TEST))
      g_ptr_array_add (kept, g_strdup (s));
  }
  return kept;
}

CorpusText *
corpus_text_load (const char *const *files, CorpusTextSplit split, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) sources = g_string_new (NULL);
  CorpusText *text;

  if (files && files[0]) {
    for (guint i = 0; files[i]; i++) {
      if (!add_file (files[i], all, error))
        return NULL;
      g_string_append_printf (sources, "%s%s", i ? "; " : "", files[i]);
    }
  } else if (!add_default_sources (all, sources, error)) {
    return NULL;
  }
  text = g_new0 (CorpusText, 1);
  text->sentences = select_split (all, split);
  text->sources = g_string_free (g_steal_pointer (&sources), FALSE);
  if (text->sentences->len == 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "no usable sentence (plain English, %d-%d words) in the %s split of %s",
                 MIN_WORDS, MAX_WORDS, split_names[split], text->sources);
    corpus_text_free (text);
    return NULL;
  }
  return text;
}

void
corpus_text_free (CorpusText *text)
{
  if (!text)
    return;
  g_ptr_array_unref (text->sentences);
  g_free (text->sources);
  g_free (text);
}
