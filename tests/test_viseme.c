/* test_viseme.c: the phone -> viseme tables (core/ph_viseme.c). */
#include <string.h>

#include "phonemes.h"

static const PhVisemeSet sets[] = { PH_VISEME_SET_OCULUS, PH_VISEME_SET_PRESTON_BLAIR };

/* The table's rows are in phone-set order: row i was written for phone i. */
static void
test_rows_in_phone_order (void)
{
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    g_assert_cmpstr (ph_viseme_table_phone (p), ==, ph_phone_name (p));
  g_assert_null (ph_viseme_table_phone (PH_NUM_PHONES));
  g_assert_null (ph_viseme_table_phone (-1));
}

/* Every phone has a viseme of each set, and every viseme is some phone's. */
static void
test_every_phone_and_viseme (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (sets); s++) {
    guint size = ph_viseme_set_size (sets[s]);
    gboolean used[PH_NUM_VISEMES_OCULUS] = { FALSE };
    g_assert_cmpuint (size, >, 0);
    g_assert_cmpuint (size, <=, PH_NUM_VISEMES_OCULUS);
    for (gint p = 0; p < PH_NUM_PHONES; p++) {
      gint v = ph_viseme_of_phone (sets[s], p);
      g_assert_cmpint (v, >=, 0);
      g_assert_cmpint (v, <, (gint) size);
      g_assert_cmpstr (ph_viseme_name_of_phone (sets[s], p), ==, ph_viseme_name (sets[s], v));
      used[v] = TRUE;
    }
    for (guint v = 0; v < size; v++)
      g_assert_true (used[v]);
    g_assert_cmpint (ph_viseme_of_phone (sets[s], -1), ==, -1);
    g_assert_cmpint (ph_viseme_of_phone (sets[s], PH_NUM_PHONES), ==, -1);
    g_assert_null (ph_viseme_name (sets[s], (gint) size));
    g_assert_null (ph_viseme_name_of_phone (sets[s], PH_NUM_PHONES));
  }
}

/* The 15 Oculus names in the SDK's order, and the 10 Preston Blair drawings. */
static void
test_set_names (void)
{
  const char *oculus[] = { "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa",
                           "E", "ih", "oh", "ou" };
  const char *blair[] = { "rest", "MBP", "FV", "L", "WQ", "etc", "AI", "E", "O", "U" };
  PhVisemeSet set;

  g_assert_cmpuint (ph_viseme_set_size (PH_VISEME_SET_OCULUS), ==, G_N_ELEMENTS (oculus));
  for (guint v = 0; v < G_N_ELEMENTS (oculus); v++)
    g_assert_cmpstr (ph_viseme_name (PH_VISEME_SET_OCULUS, (gint) v), ==, oculus[v]);
  g_assert_cmpuint (ph_viseme_set_size (PH_VISEME_SET_PRESTON_BLAIR), ==, G_N_ELEMENTS (blair));
  for (guint v = 0; v < G_N_ELEMENTS (blair); v++)
    g_assert_cmpstr (ph_viseme_name (PH_VISEME_SET_PRESTON_BLAIR, (gint) v), ==, blair[v]);
  for (guint s = 0; s < G_N_ELEMENTS (sets); s++) {
    g_assert_true (ph_viseme_set_from_name (ph_viseme_set_name (sets[s]), &set));
    g_assert_cmpint (set, ==, sets[s]);
  }
  g_assert_false (ph_viseme_set_from_name ("disney", &set));
  g_assert_false (ph_viseme_set_from_name (NULL, &set));
}

/* Phones whose mouth shape nobody disputes. */
static void
test_known_shapes (void)
{
  const struct { const char *phone, *oculus, *blair; } known[] = {
    { "h#", "sil", "rest" }, { "pau", "sil", "rest" }, { "p", "PP", "MBP" },
    { "b", "PP", "MBP" },    { "m", "PP", "MBP" },     { "f", "FF", "FV" },
    { "v", "FF", "FV" },     { "th", "TH", "etc" },    { "s", "SS", "etc" },
    { "sh", "CH", "etc" },   { "l", "nn", "L" },       { "w", "ou", "WQ" },
    { "uw", "ou", "U" },     { "ow", "oh", "O" },      { "aa", "aa", "AI" },
    { "eh", "E", "E" },      { "ih", "ih", "AI" },     { "r", "RR", "etc" },
    { "k", "kk", "etc" },    { "d", "DD", "etc" },     { "pcl", "PP", "MBP" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (known); i++) {
    gint p = ph_phone_index (known[i].phone);
    g_assert_cmpint (p, >=, 0);
    g_assert_cmpstr (ph_viseme_name_of_phone (PH_VISEME_SET_OCULUS, p), ==, known[i].oculus);
    g_assert_cmpstr (ph_viseme_name_of_phone (PH_VISEME_SET_PRESTON_BLAIR, p), ==,
                     known[i].blair);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viseme/rows-in-phone-order", test_rows_in_phone_order);
  g_test_add_func ("/viseme/every-phone-and-viseme", test_every_phone_and_viseme);
  g_test_add_func ("/viseme/set-names", test_set_names);
  g_test_add_func ("/viseme/known-shapes", test_known_shapes);
  return g_test_run ();
}
