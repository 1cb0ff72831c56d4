/* ph_lexicon.c: text normalisation, number expansion and pronunciation lookup over
 * flite's CMU lexicon (cmulex) with its letter-to-sound rules. */
#include "ph_lexicon.h"

#include <string.h>

#include "ph_file.h"
#include <flite/flite.h>

/* flite's libflite_cmulex entry point; its header is not installed. */
cst_lexicon *cmu_lex_init (void);

struct _PhLexicon {
  const cst_lexicon *cmu;  /* flite's, shared and read-only after initialisation */
  GHashTable *added;       /* word -> GArray of gint, checked before flite */
};

static gpointer
cmu_lexicon_init (gpointer unused)
{
  (void) unused;
  return cmu_lex_init ();
}

/* flite initialises one static lexicon; do it once so lexicons made in different
 * threads do not race on it. */
static const cst_lexicon *
cmu_lexicon (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, cmu_lexicon_init, NULL);
}

PhLexicon *
ph_lexicon_new (GError **error)
{
  PhLexicon *lexicon;
  const cst_lexicon *cmu = cmu_lexicon ();

  if (cmu == NULL) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                 "flite's CMU lexicon (libflite_cmulex) could not be initialised");
    return NULL;
  }
  lexicon = g_new0 (PhLexicon, 1);
  lexicon->cmu = cmu;
  lexicon->added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_array_unref);
  return lexicon;
}

void
ph_lexicon_free (PhLexicon *lexicon)
{
  if (lexicon == NULL)
    return;
  g_hash_table_unref (lexicon->added);
  g_free (lexicon);
}

void
ph_lexicon_add (PhLexicon *lexicon, const char *word, const gint *phones, guint n_phones)
{
  GArray *array = g_array_sized_new (FALSE, FALSE, sizeof (gint), n_phones);

  g_array_append_vals (array, phones, n_phones);
  g_hash_table_replace (lexicon->added, g_ascii_strdown (word, -1), array);
}

/* ---- user pronunciation files ---- */

static gint
phone_from_symbol (const char *symbol)
{
  g_autofree char *lower = g_ascii_strdown (symbol, -1);
  gint phone = ph_phone_index (lower);

  return phone >= 0 ? phone : ph_phone_from_arpabet (symbol);
}

static gboolean
parse_lexicon_line (PhLexicon *lexicon, const char *line, const char *path, guint line_no,
                    GError **error)
{
  g_auto (GStrv) fields = g_strsplit_set (line, " \t", -1);
  g_autoptr (GArray) phones = g_array_new (FALSE, FALSE, sizeof (gint));
  const char *word = NULL;

  for (guint i = 0; fields[i] != NULL; i++) {
    gint phone;
    if (fields[i][0] == '\0')
      continue;
    if (word == NULL) {
      word = fields[i];
      if (strchr (word, '(') != NULL) /* CMUdict alternate pronunciation */
        return TRUE;
      continue;
    }
    phone = phone_from_symbol (fields[i]);
    if (phone < 0) {
      g_autofree char *shown_phone = ph_error_quote (fields[i]);
      g_autofree char *shown_word = ph_error_quote (word);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: unknown phone '%s' for '%s' (expected ARPAbet or TIMIT symbols)",
                   path, line_no, shown_phone, shown_word);
      return FALSE;
    }
    g_array_append_val (phones, phone);
  }
  if (word == NULL)
    return TRUE;
  if (phones->len == 0) {
    g_autofree char *shown = ph_error_quote (word);
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                 "%s:%u: '%s' has no phones (expected \"word phone phone ...\")",
                 path, line_no, shown);
    return FALSE;
  }
  ph_lexicon_add (lexicon, word, (gint *) phones->data, phones->len);
  return TRUE;
}

gboolean
ph_lexicon_load_file (PhLexicon *lexicon, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  contents = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "pronunciations file",
                                   NULL, error);
  if (contents == NULL)
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip (lines[i]);
    if (line[0] == '\0' || line[0] == '#' || g_str_has_prefix (line, ";;;"))
      continue;
    if (!parse_lexicon_line (lexicon, line, path, i + 1, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- numbers ---- */

static const char *const ones[] = {
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
  "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
  "eighteen", "nineteen",
};
static const char *const tens[] = {
  "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
};

static void
say_below_thousand (GPtrArray *out, guint n)
{
  if (n >= 100) {
    g_ptr_array_add (out, g_strdup (ones[n / 100]));
    g_ptr_array_add (out, g_strdup ("hundred"));
    n %= 100;
    if (n == 0)
      return;
  }
  if (n >= 20) {
    g_ptr_array_add (out, g_strdup (tens[n / 10]));
    if (n % 10)
      g_ptr_array_add (out, g_strdup (ones[n % 10]));
  } else {
    g_ptr_array_add (out, g_strdup (ones[n]));
  }
}

/* A cardinal below 10^12 as words. */
static void
say_cardinal (GPtrArray *out, guint64 n)
{
  static const struct { guint64 scale; const char *name; } scales[] = {
    { G_GUINT64_CONSTANT (1000000000), "billion" },
    { 1000000, "million" },
    { 1000, "thousand" },
  };

  if (n == 0) {
    g_ptr_array_add (out, g_strdup ("zero"));
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (scales); i++)
    if (n >= scales[i].scale) {
      say_below_thousand (out, (guint) (n / scales[i].scale));
      g_ptr_array_add (out, g_strdup (scales[i].name));
      n %= scales[i].scale;
    }
  if (n > 0)
    say_below_thousand (out, (guint) n);
}

static void
say_digits (GPtrArray *out, const char *digits, gsize len)
{
  for (gsize i = 0; i < len; i++)
    g_ptr_array_add (out, g_strdup (ones[digits[i] - '0']));
}

/* Turns the last cardinal word into its ordinal ("two" -> "second", "twenty" ->
 * "twentieth"). */
static void
make_ordinal (GPtrArray *out)
{
  static const char *const irregular[][2] = {
    { "one", "first" }, { "two", "second" }, { "three", "third" }, { "five", "fifth" },
    { "eight", "eighth" }, { "nine", "ninth" }, { "twelve", "twelfth" },
  };
  char **last = (char **) &out->pdata[out->len - 1];
  char *word = *last;

  for (gsize i = 0; i < G_N_ELEMENTS (irregular); i++)
    if (strcmp (word, irregular[i][0]) == 0) {
      *last = g_strdup (irregular[i][1]);
      g_free (word);
      return;
    }
  if (g_str_has_suffix (word, "y")) {
    word[strlen (word) - 1] = '\0';
    *last = g_strconcat (word, "ieth", NULL);
  } else {
    *last = g_strconcat (word, "th", NULL);
  }
  g_free (word);
}

/* Digits with optional thousands commas; leading zeros and numbers of more than 12
 * digits are read digit by digit. */
static void
say_integer (GPtrArray *out, const char *text, gsize len)
{
  g_autoptr (GString) digits = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    if (g_ascii_isdigit (text[i]))
      g_string_append_c (digits, text[i]);
  if (digits->len == 0)
    return;
  if ((digits->str[0] == '0' && digits->len > 1) || digits->len > 12)
    say_digits (out, digits->str, digits->len);
  else
    say_cardinal (out, g_ascii_strtoull (digits->str, NULL, 10));
}

/* ---- tokens ---- */

typedef struct {
  GPtrArray *out;
  gboolean mixed_case; /* the text has lower-case letters: capitals mark acronyms */
} Normaliser;

static void
spell (GPtrArray *out, const char *letters, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (g_ascii_isalpha (letters[i]))
      g_ptr_array_add (out, g_strdup_printf ("%c.", g_ascii_tolower (letters[i])));
}

static gboolean
all_upper (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

/* A run of letters and inner apostrophes: a word, or an acronym spelt out. */
static void
say_letters (Normaliser *n, const char *s, gsize len)
{
  while (len > 0 && s[0] == '\'')
    s++, len--;
  while (len > 0 && s[len - 1] == '\'')
    len--;
  if (len == 0)
    return;
  if (n->mixed_case && len >= 2 && len <= 4 && all_upper (s, len))
    spell (n->out, s, len);
  else
    g_ptr_array_add (n->out, g_ascii_strdown (s, (gssize) len));
}

static const char *
symbol_word (char c)
{
  switch (c) {
  case '#': return "pound";
  case '*': return "star";
  case '%': return "percent";
  case '&': return "and";
  case '@': return "at";
  case '+': return "plus";
  case '=': return "equals";
  default: return NULL;
  }
}

/* "A.M." or "u.s.a": single letters joined by dots. */
static gboolean
is_dotted_letters (const char *s, gsize len)
{
  if (len < 3)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((i % 2 == 0 && !g_ascii_isalpha (s[i])) || (i % 2 == 1 && s[i] != '.'))
      return FALSE;
  return TRUE;
}

/* TRUE when `s` holds a thousands group: ",ddd" not followed by another digit. */
static gboolean
is_thousands_group (const char *s, gsize len)
{
  if (len < 4 || s[0] != ',')
    return FALSE;
  for (gsize i = 1; i < 4; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return len == 4 || !g_ascii_isdigit (s[4]);
}

/* Length of the number at `s`: digits, with thousands commas and one decimal point
 * between digits. `*decimal` is set to the offset of the point, or 0. */
static gsize
number_length (const char *s, gsize len, gsize *decimal)
{
  gsize i = 0;

  *decimal = 0;
  while (i < len) {
    if (g_ascii_isdigit (s[i]))
      i++;
    else if (*decimal == 0 && is_thousands_group (s + i, len - i))
      i++;
    else if (s[i] == '.' && *decimal == 0 && i + 1 < len && g_ascii_isdigit (s[i + 1]))
      *decimal = i++;
    else
      break;
  }
  return i;
}

static gboolean
is_ordinal_suffix (const char *s, gsize len)
{
  static const char *const suffixes[] = { "st", "nd", "rd", "th" };

  if (len != 2)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_ascii_strncasecmp (s, suffixes[i], 2) == 0)
      return TRUE;
  return FALSE;
}

static gsize
letter_run (const char *s, gsize len)
{
  gsize i = 0;

  while (i < len && (g_ascii_isalpha (s[i]) || (s[i] == '\'' && i > 0 && i + 1 < len &&
                                                g_ascii_isalpha (s[i + 1]))))
    i++;
  return i;
}

/* A number at `s`; returns the characters used (including an ordinal suffix). */
static gsize
say_number (Normaliser *n, const char *s, gsize len)
{
  gsize decimal, used = number_length (s, len, &decimal);
  gsize suffix = letter_run (s + used, len - used);

  if (decimal) {
    say_integer (n->out, s, decimal);
    g_ptr_array_add (n->out, g_strdup ("point"));
    say_digits (n->out, s + decimal + 1, used - decimal - 1);
    return used;
  }
  say_integer (n->out, s, used);
  if (is_ordinal_suffix (s + used, suffix)) {
    make_ordinal (n->out);
    return used + suffix;
  }
  return used;
}

/* One whitespace-separated token. */
static void
say_token (Normaliser *n, const char *s, gsize len)
{
  gsize i = 0;

  if (is_dotted_letters (s, len) || (len > 3 && s[len - 1] == '.' &&
                                     is_dotted_letters (s, len - 1))) {
    spell (n->out, s, len);
    return;
  }
  while (i < len) {
    gsize run;
    if (g_ascii_isdigit (s[i])) {
      i += say_number (n, s + i, len - i);
    } else if ((run = letter_run (s + i, len - i)) > 0) {
      /* one or two letters stuck to a number are letters: 3D, 9P */
      if (i > 0 && g_ascii_isdigit (s[i - 1]) && run <= 2)
        spell (n->out, s + i, run);
      else
        say_letters (n, s + i, run);
      i += run;
      /* a dot between letters is spoken: asterisk.org */
      if (i + 1 < len && s[i] == '.' && g_ascii_isalpha (s[i + 1]))
        g_ptr_array_add (n->out, g_strdup ("dot"));
    } else {
      if (symbol_word (s[i]))
        g_ptr_array_add (n->out, g_strdup (symbol_word (s[i])));
      i++;
    }
  }
}

char **
ph_lexicon_normalise (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);
  g_autofree char *ascii = g_str_to_ascii (valid, "C");
  Normaliser n = { g_ptr_array_new (), FALSE };
  const char *p = ascii;

  for (const char *c = ascii; *c; c++)
    n.mixed_case |= g_ascii_islower (*c);
  while (*p) {
    gsize len;
    while (*p && g_ascii_isspace (*p))
      p++;
    len = 0;
    while (p[len] && !g_ascii_isspace (p[len]))
      len++;
    if (len > 0)
      say_token (&n, p, len);
    p += len;
  }
  /* a text that is one letter names the letter ("A" is "ey", not "ax") */
  if (n.out->len == 1 && strlen (n.out->pdata[0]) == 1) {
    char *letter = n.out->pdata[0];
    n.out->pdata[0] = g_strdup_printf ("%c.", letter[0]);
    g_free (letter);
  }
  g_ptr_array_add (n.out, NULL);
  return (char **) g_ptr_array_free (n.out, FALSE);
}

/* ---- lookup ---- */

static const char *const letter_names[26] = {
  "ey", "b iy", "s iy", "d iy", "iy", "eh f", "jh iy", "ey ch", "ay", "jh ey", "k ey",
  "eh l", "eh m", "eh n", "ow", "p iy", "k y uw", "aa r", "eh s", "t iy", "y uw", "v iy",
  "d ah b ax l y uw", "eh k s", "w ay", "z iy",
};

static void
append_symbols (GArray *phones, const char *symbols)
{
  g_auto (GStrv) parts = g_strsplit (symbols, " ", -1);

  for (guint i = 0; parts[i] != NULL; i++) {
    gint phone = phone_from_symbol (parts[i]);
    g_assert (phone >= 0);
    g_array_append_val (phones, phone);
  }
}

/* flite's pronunciation (lexicon, else letter-to-sound, else the letters spelt) of a
 * lower-case a-z word. */
static gboolean
flite_lookup (const PhLexicon *lexicon, const char *word, GArray *phones, GError **error)
{
  cst_val *entry = lex_lookup (lexicon->cmu, word, NULL, NULL);
  gboolean ok = entry != NULL;

  for (const cst_val *v = entry; v != NULL && ok; v = val_cdr (v)) {
    const char *symbol = val_string (val_car (v));
    gint phone = ph_phone_from_arpabet (symbol);
    if (phone < 0) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "flite gave the phone '%s' for '%s', which has no TIMIT equivalent",
                   symbol, word);
      ok = FALSE;
    } else {
      g_array_append_val (phones, phone);
    }
  }
  delete_val (entry);
  /* letter-to-sound gives nothing for a few clusters ("dj"): spell them */
  if (entry == NULL) {
    for (const char *c = word; *c; c++)
      append_symbols (phones, letter_names[*c - 'a']);
    ok = TRUE;
  }
  return ok;
}

static gboolean
lookup_plain (const PhLexicon *lexicon, const char *word, GArray *phones, GError **error)
{
  GArray *added = g_hash_table_lookup (lexicon->added, word);

  if (added) {
    g_array_append_vals (phones, added->data, added->len);
    return TRUE;
  }
  for (const char *c = word; *c; c++)
    if (*c < 'a' || *c > 'z') {
      g_autofree char *shown = ph_error_quote (word);
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "cannot pronounce '%s': only the letters a-z are looked up", shown);
      return FALSE;
    }
  return flite_lookup (lexicon, word, phones, error);
}

/* The ending of a contraction or possessive after the stem's last phone. */
static const char *
ending_phones (const char *ending, gint last_phone)
{
  const char *name = ph_phone_name (last_phone);

  if (strcmp (ending, "s") == 0) {
    if (g_strv_contains ((const char *[]) { "s", "z", "sh", "zh", "ch", "jh", NULL }, name))
      return "ih z";
    if (g_strv_contains ((const char *[]) { "p", "t", "k", "f", "th", NULL }, name))
      return "s";
    return "z";
  }
  if (strcmp (ending, "re") == 0)
    return "r";
  if (strcmp (ending, "ll") == 0)
    return "l";
  if (strcmp (ending, "d") == 0)
    return "d";
  if (strcmp (ending, "ve") == 0)
    return "v";
  if (strcmp (ending, "m") == 0)
    return "m";
  return NULL;
}

/* "don't", "we're", "party's": the stem, then the ending. */
static gboolean
lookup_contraction (const PhLexicon *lexicon, const char *word, GArray *phones,
                    GError **error)
{
  static const char *const whole[][2] = {
    { "can't", "k ae n t" }, { "won't", "w ow n t" }, { "don't", "d ow n t" },
    { "ain't", "ey n t" }, { "shan't", "sh ae n t" }, { "o'clock", "ax k l aa k" },
  };
  const char *apostrophe = strrchr (word, '\'');
  g_autofree char *stem = NULL;
  const char *ending;

  for (gsize i = 0; i < G_N_ELEMENTS (whole); i++)
    if (strcmp (word, whole[i][0]) == 0) {
      append_symbols (phones, whole[i][1]);
      return TRUE;
    }
  if (g_str_has_suffix (word, "n't")) {
    stem = g_strndup (word, strlen (word) - 3);
    if (!lookup_plain (lexicon, stem, phones, error))
      return FALSE;
    append_symbols (phones, "ax n t");
    return TRUE;
  }
  stem = g_strndup (word, apostrophe - word);
  if (!lookup_plain (lexicon, stem, phones, error))
    return FALSE;
  ending = phones->len ? ending_phones (apostrophe + 1, g_array_index (phones, gint,
                                                                        phones->len - 1))
                       : NULL;
  if (ending)
    append_symbols (phones, ending);
  return TRUE;
}

GArray *
ph_lexicon_lookup (PhLexicon *lexicon, const char *word, GError **error)
{
  g_autoptr (GArray) phones = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autofree char *lower = g_ascii_strdown (word, -1);
  gsize len = strlen (lower);
  gboolean ok;

  if (len == 2 && lower[1] == '.' && lower[0] >= 'a' && lower[0] <= 'z') {
    append_symbols (phones, letter_names[lower[0] - 'a']);
    return g_steal_pointer (&phones);
  }
  if (g_hash_table_contains (lexicon->added, lower) || strchr (lower, '\'') == NULL)
    ok = lookup_plain (lexicon, lower, phones, error);
  else
    ok = lookup_contraction (lexicon, lower, phones, error);
  if (ok && phones->len == 0) {
    g_autofree char *shown = ph_error_quote (word);
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "no pronunciation for '%s'", shown);
    ok = FALSE;
  }
  return ok ? g_steal_pointer (&phones) : NULL;
}

GPtrArray *
ph_lexicon_pronounce (PhLexicon *lexicon, const char *text, GError **error)
{
  g_auto (GStrv) spoken = ph_lexicon_normalise (text);
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_word_free);

  for (guint i = 0; spoken[i] != NULL; i++) {
    g_autoptr (GArray) phones = ph_lexicon_lookup (lexicon, spoken[i], error);
    if (phones == NULL)
      return NULL;
    g_ptr_array_add (words, ph_word_new (spoken[i], (gint *) phones->data, phones->len));
  }
  return g_steal_pointer (&words);
}
