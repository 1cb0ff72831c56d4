/* test_valgrind_suppressions.c: what GLib leaks by design stays out of the valgrind
 * setup's leak reports (tests/valgrind.supp). Meaningful under
 * `meson test --setup valgrind valgrind-suppressions`; a plain run only checks the
 * quarks. */
#include <glib.h>

/* More quarks than GLib's first two quark blocks hold (2 x 2048 + 2048 names), as a
 * process that loads a large GStreamer registry makes: GLib then drops its old blocks,
 * which valgrind reports as definitely lost unless the suppressions name them. */
static void
test_many_quarks (void)
{
  for (guint i = 0; i < 3 * 2048; i++) {
    g_autofree char *name = g_strdup_printf ("phonemes-test-quark-%u", i);
    GQuark quark = g_quark_from_string (name);
    g_assert_cmpstr (g_quark_to_string (quark), ==, name);
    g_assert_true (g_intern_string (name) == g_quark_to_string (quark));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/valgrind-suppressions/many-quarks", test_many_quarks);
  return g_test_run ();
}
