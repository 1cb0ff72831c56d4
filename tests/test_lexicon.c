/* test_lexicon.c: text normalisation and flite-backed pronunciations. Expected
 * pronunciations are written out by hand from CMUdict/flite's cmulex. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "ph_lexicon.h"

/* The phones of `word` as a space-separated string of TIMIT names. */
static char *
phones_string (const GArray *phones)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < phones->len; i++)
    g_string_append_printf (out, "%s%s", i ? " " : "",
                            ph_phone_name (g_array_index (phones, gint, i)));
  return g_string_free (out, FALSE);
}

static char *
pronounce_word (PhLexicon *lexicon, const char *word)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) phones = ph_lexicon_lookup (lexicon, word, &error);

  g_assert_no_error (error);
  return phones_string (phones);
}

static char *
normalised (const char *text)
{
  g_auto (GStrv) words = ph_lexicon_normalise (text);
  return g_strjoinv (" ", words);
}

static void
check_normalised (const char *text, const char *expected)
{
  g_autofree char *got = normalised (text);
  g_assert_cmpstr (got, ==, expected);
}

static void
check_word (PhLexicon *lexicon, const char *word, const char *expected)
{
  g_autofree char *got = pronounce_word (lexicon, word);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_known_words (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLexicon) lexicon = ph_lexicon_new (&error);

  g_assert_no_error (error);
  check_word (lexicon, "hello", "hh ax l ow");
  check_word (lexicon, "one", "w ah n");
  check_word (lexicon, "asterisk", "ae s t er ih s k");
  check_word (lexicon, "Hundred", "hh ah n d r ax d");
  /* spelt letters use letter names, not the article "a" */
  check_word (lexicon, "a.", "ey");
  check_word (lexicon, "w.", "d ah b ax l y uw");
  /* contractions and possessives: stem + ending */
  check_word (lexicon, "don't", "d ow n t");
  check_word (lexicon, "it's", "ih t s");
  check_word (lexicon, "one's", "w ah n z");
}

static void
test_unknown_word_uses_letter_to_sound (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLexicon) lexicon = ph_lexicon_new (&error);
  g_autoptr (GArray) phones = ph_lexicon_lookup (lexicon, "zorblaxity", &error);

  g_assert_no_error (error);
  g_assert_nonnull (phones);
  g_assert_cmpuint (phones->len, >=, 6);
  g_assert_cmpstr (ph_phone_name (g_array_index (phones, gint, 0)), ==, "z");
  for (guint i = 0; i < phones->len; i++) {
    gint p = g_array_index (phones, gint, i);
    g_assert_cmpint (p, >=, 0);
    g_assert_cmpint (p, <, PH_NUM_PHONES);
  }
  /* letter-to-sound gives nothing for "dj": spelt */
  check_word (lexicon, "dj", "d iy jh ey");
  /* anything but a-z is refused with an error, not a crash */
  g_assert_null (ph_lexicon_lookup (lexicon, "x2y", &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
}

static void
test_numbers (void)
{
  check_normalised ("0", "zero");
  check_normalised ("7 13 40", "seven thirteen forty");
  check_normalised ("500", "five hundred");
  check_normalised ("1234", "one thousand two hundred thirty four");
  check_normalised ("1,000,001", "one million one");
  check_normalised ("28.8", "twenty eight point eight");
  check_normalised ("1st 2nd 3rd 4th 21st 100th 20th", "first second third fourth twenty first "
                    "one hundredth twentieth");
  check_normalised ("007", "zero zero seven");
  check_normalised ("12345678901234", "one two three four five six seven eight nine zero "
                    "one two three four");
  check_normalised ("3D", "three d.");
}

static void
test_punctuation_and_symbols (void)
{
  check_normalised ("Hello, world!", "hello world");
  check_normalised ("  \"Call-Forward\" on (Busy)... ", "call forward on busy");
  check_normalised ("Waldo's premier PBX.", "waldo's premier p. b. x.");
  check_normalised ("A.M. or p.m.", "a. m. or p. m.");
  check_normalised ("press # or *", "press pound or star");
  check_normalised ("visit www.asterisk.org", "visit www dot asterisk dot org");
  check_normalised ("SHOUTING IS FINE", "shouting is fine");
  check_normalised ("café 'quoted'", "cafe quoted");
  check_normalised ("... !!", "");
  check_normalised (NULL, "");
  check_normalised ("A", "a.");
  check_normalised ("a b", "a b");
}

static void
test_pronounce_text (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLexicon) lexicon = ph_lexicon_new (&error);
  g_autoptr (GPtrArray) words = ph_lexicon_pronounce (lexicon, "Hello, world: dial 2.", &error);
  const char *expected[] = { "hello", "world", "dial", "two" };

  g_assert_no_error (error);
  g_assert_cmpuint (words->len, ==, 4);
  for (guint i = 0; i < words->len; i++) {
    PhWord *w = g_ptr_array_index (words, i);
    g_assert_cmpstr (w->text, ==, expected[i]);
    g_assert_cmpuint (w->phones->len, >, 0);
  }
  {
    g_autofree char *two = phones_string (((PhWord *) g_ptr_array_index (words, 3))->phones);
    g_assert_cmpstr (two, ==, "t uw");
  }
  g_ptr_array_unref (g_steal_pointer (&words));
  words = ph_lexicon_pronounce (lexicon, " [ ] ", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (words->len, ==, 0);
}

static void
test_user_pronunciations (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PhLexicon) lexicon = ph_lexicon_new (&error);
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("lexicon-XXXXXX.dict", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path,
                                      ";;; comment\n# comment\nHELLO  HH EH1 L OW0\n"
                                      "HELLO(2)  HH AH0 L OW1\ndigium d ih jh iy ax m\n", -1,
                                      &error));
  g_assert_true (ph_lexicon_load_file (lexicon, path, &error));
  g_assert_no_error (error);
  check_word (lexicon, "hello", "hh eh l ow");
  check_word (lexicon, "Digium", "d ih jh iy ax m");
  g_assert_true (g_file_set_contents (path, "word  XX YY\n", -1, &error));
  g_assert_false (ph_lexicon_load_file (lexicon, path, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, ":1:"));
  g_clear_error (&error);
  g_assert_false (ph_lexicon_load_file (lexicon, "/nonexistent/lexicon.dict", &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lexicon/known-words", test_known_words);
  g_test_add_func ("/lexicon/letter-to-sound", test_unknown_word_uses_letter_to_sound);
  g_test_add_func ("/lexicon/numbers", test_numbers);
  g_test_add_func ("/lexicon/punctuation", test_punctuation_and_symbols);
  g_test_add_func ("/lexicon/pronounce", test_pronounce_text);
  g_test_add_func ("/lexicon/user-pronunciations", test_user_pronunciations);
  return g_test_run ();
}
