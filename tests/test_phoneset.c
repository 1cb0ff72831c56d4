/* test_phoneset.c: the TIMIT-61 list, the 61->39 folding and ARPAbet names, checked
 * against tables written out here by hand from the TIMIT docs and Lee & Hon (1989). */
#include "phonemes.h"

#include <string.h>

static const char *const timit61[] = {
  "iy", "ih", "eh", "ey", "ae", "aa", "aw", "ay", "ah", "ao", "oy", "ow", "uh", "uw",
  "ux", "er", "ax", "ix", "axr", "ax-h", "jh", "ch", "b", "d", "g", "p", "t", "k", "dx",
  "s", "sh", "z", "zh", "f", "th", "v", "dh", "m", "n", "ng", "em", "nx", "en", "eng",
  "l", "r", "w", "y", "hh", "hv", "el", "bcl", "dcl", "gcl", "pcl", "tcl", "kcl", "q",
  "pau", "epi", "h#",
};

static void
test_count_and_order (void)
{
  g_assert_cmpuint (G_N_ELEMENTS (timit61), ==, 61);
  g_assert_cmpint (PH_NUM_PHONES, ==, 61);
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    g_assert_cmpstr (ph_phone_name (i), ==, timit61[i]);
  g_assert_null (ph_phone_name (-1));
  g_assert_null (ph_phone_name (61));
}

static void
test_round_trip (void)
{
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    g_assert_cmpint (ph_phone_index (ph_phone_name (i)), ==, i);
  for (gint i = 0; i < PH_NUM_PHONES39; i++)
    g_assert_cmpint (ph_phone39_index (ph_phone39_name (i)), ==, i);
}

static gint
fold (const char *name)
{
  gint i = ph_phone_index (name);
  g_assert_cmpint (i, >=, 0);
  return ph_phone_fold39 (i);
}

static void
assert_folds_to (const char *from, const char *to)
{
  gint f = fold (from);
  g_assert_cmpint (f, >=, 0);
  g_assert_cmpstr (ph_phone39_name (f), ==, to);
}

static void
test_folding_rules (void)
{
  const char *silences[] = { "bcl", "dcl", "gcl", "pcl", "tcl", "kcl", "h#", "pau", "epi" };
  for (gsize i = 0; i < G_N_ELEMENTS (silences); i++)
    {
      assert_folds_to (silences[i], "sil");
      g_assert_true (ph_phone_is_silence (ph_phone_index (silences[i])));
    }
  assert_folds_to ("ao", "aa");
  assert_folds_to ("ax", "ah");
  assert_folds_to ("ax-h", "ah");
  assert_folds_to ("axr", "er");
  assert_folds_to ("el", "l");
  assert_folds_to ("em", "m");
  assert_folds_to ("en", "n");
  assert_folds_to ("nx", "n");
  assert_folds_to ("eng", "ng");
  assert_folds_to ("hv", "hh");
  assert_folds_to ("ix", "ih");
  assert_folds_to ("ux", "uw");
  assert_folds_to ("zh", "sh");
  g_assert_cmpint (fold ("q"), ==, -1);
  g_assert_false (ph_phone_is_silence (ph_phone_index ("q")));
  g_assert_false (ph_phone_is_silence (ph_phone_index ("aa")));

  /* Every phone not named by a rule folds to the class of its own name. */
  const char *folded[] = { "ao", "ax", "ax-h", "axr", "el", "em", "en", "nx", "eng", "hv",
                           "ix", "ux", "zh", "q", "bcl", "dcl", "gcl", "pcl", "tcl", "kcl",
                           "h#", "pau", "epi" };
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    {
      gboolean ruled = FALSE;
      for (gsize k = 0; k < G_N_ELEMENTS (folded); k++)
        ruled |= strcmp (folded[k], timit61[i]) == 0;
      if (!ruled)
        assert_folds_to (timit61[i], timit61[i]);
    }
  g_assert_cmpint (ph_phone_fold39 (-1), ==, -1);
  g_assert_cmpint (ph_phone_fold39 (61), ==, -1);
}

static void
test_39_classes (void)
{
  /* Order of first appearance when folding the 61 list, derived here independently. */
  const char *expected[] = { "iy", "ih", "eh", "ey", "ae", "aa", "aw", "ay", "ah", "oy",
                             "ow", "uh", "uw", "er", "jh", "ch", "b", "d", "g", "p",
                             "t", "k", "dx", "s", "sh", "z", "f", "th", "v", "dh",
                             "m", "n", "ng", "l", "r", "w", "y", "hh", "sil" };
  g_assert_cmpuint (G_N_ELEMENTS (expected), ==, PH_NUM_PHONES39);
  for (gint i = 0; i < PH_NUM_PHONES39; i++)
    g_assert_cmpstr (ph_phone39_name (i), ==, expected[i]);

  gboolean seen[PH_NUM_PHONES39] = { FALSE };
  gint next = 0;
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    {
      gint f = ph_phone_fold39 (i);
      if (f < 0 || seen[f])
        continue;
      g_assert_cmpint (f, ==, next);
      seen[f] = TRUE;
      next++;
    }
  g_assert_cmpint (next, ==, 39);
  g_assert_null (ph_phone39_name (39));
  g_assert_null (ph_phone39_name (-1));
}

static void
assert_arpabet (const char *symbol, const char *timit)
{
  gint i = ph_phone_from_arpabet (symbol);
  g_assert_cmpint (i, >=, 0);
  g_assert_cmpstr (ph_phone_name (i), ==, timit);
}

static void
test_arpabet (void)
{
  const char *pairs[][2] = {
    { "AA", "aa" }, { "AE", "ae" }, { "AH", "ah" }, { "AO", "ao" }, { "AW", "aw" },
    { "AY", "ay" }, { "EH", "eh" }, { "ER", "er" }, { "EY", "ey" }, { "IH", "ih" },
    { "IY", "iy" }, { "OW", "ow" }, { "OY", "oy" }, { "UH", "uh" }, { "UW", "uw" },
    { "B", "b" }, { "CH", "ch" }, { "D", "d" }, { "DH", "dh" }, { "F", "f" },
    { "G", "g" }, { "HH", "hh" }, { "JH", "jh" }, { "K", "k" }, { "L", "l" },
    { "M", "m" }, { "N", "n" }, { "NG", "ng" }, { "P", "p" }, { "R", "r" },
    { "S", "s" }, { "SH", "sh" }, { "T", "t" }, { "TH", "th" }, { "V", "v" },
    { "W", "w" }, { "Y", "y" }, { "Z", "z" }, { "ZH", "zh" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      assert_arpabet (pairs[i][0], pairs[i][1]);
      assert_arpabet (pairs[i][1], pairs[i][1]);
    }
  assert_arpabet ("AH0", "ah");
  assert_arpabet ("ey1", "ey");
  assert_arpabet ("Er2", "er");
  assert_arpabet ("sil", "h#");
  assert_arpabet ("SIL", "h#");
  assert_arpabet ("sp", "h#");
  assert_arpabet ("spn", "h#");
  assert_arpabet ("", "h#");
  assert_arpabet ("pau", "pau");
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    assert_arpabet (timit61[i], timit61[i]);
  assert_arpabet ("AX-H", "ax-h");
  assert_arpabet ("H#", "h#");
}

static void
test_unknown (void)
{
  g_assert_cmpint (ph_phone_index ("xx"), ==, -1);
  g_assert_cmpint (ph_phone_index ("AA"), ==, -1); /* case-sensitive */
  g_assert_cmpint (ph_phone_index (""), ==, -1);
  g_assert_cmpint (ph_phone_index (NULL), ==, -1);
  g_assert_cmpint (ph_phone39_index ("ao"), ==, -1);
  g_assert_cmpint (ph_phone39_index (NULL), ==, -1);
  g_assert_cmpint (ph_phone_from_arpabet ("XX"), ==, -1);
  g_assert_cmpint (ph_phone_from_arpabet ("1"), ==, -1);
  g_assert_cmpint (ph_phone_from_arpabet ("A1A"), ==, -1);
  g_assert_cmpint (ph_phone_from_arpabet ("averyveryverylongsymbolname"), ==, -1);
  g_assert_cmpint (ph_phone_from_arpabet (NULL), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/phoneset/count-and-order", test_count_and_order);
  g_test_add_func ("/phoneset/round-trip", test_round_trip);
  g_test_add_func ("/phoneset/folding-rules", test_folding_rules);
  g_test_add_func ("/phoneset/39-classes", test_39_classes);
  g_test_add_func ("/phoneset/arpabet", test_arpabet);
  g_test_add_func ("/phoneset/unknown", test_unknown);
  return g_test_run ();
}
