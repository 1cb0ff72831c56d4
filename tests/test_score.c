/* test_score.c: edit distance, folding before the phone error rate, frame accuracy
 * and confusion counts against cases worked out by hand. */
#include "phonemes.h"

/* TIMIT-61 indices of a NULL-terminated list of names. */
static gsize
phones (const char *const *names, gint *out)
{
  gsize n = 0;
  for (; names[n] != NULL; n++)
    {
      out[n] = ph_phone_index (names[n]);
      g_assert_cmpint (out[n], >=, 0);
    }
  return n;
}

static void
test_edit_distance (void)
{
  const gint kitten[] = { 'k', 'i', 't', 't', 'e', 'n' };
  const gint sitting[] = { 's', 'i', 't', 't', 'i', 'n', 'g' };
  const gint abc[] = { 1, 2, 3 }, cba[] = { 3, 2, 1 };
  const gint flaw[] = { 'f', 'l', 'a', 'w' }, lawn[] = { 'l', 'a', 'w', 'n' };

  g_assert_cmpuint (ph_edit_distance (kitten, 6, sitting, 7), ==, 3);
  g_assert_cmpuint (ph_edit_distance (sitting, 7, kitten, 6), ==, 3);
  g_assert_cmpuint (ph_edit_distance (flaw, 4, lawn, 4), ==, 2);
  g_assert_cmpuint (ph_edit_distance (abc, 3, cba, 3), ==, 2);
  g_assert_cmpuint (ph_edit_distance (abc, 3, abc, 3), ==, 0);
  g_assert_cmpuint (ph_edit_distance (abc, 3, NULL, 0), ==, 3);
  g_assert_cmpuint (ph_edit_distance (NULL, 0, cba, 3), ==, 3);
  g_assert_cmpuint (ph_edit_distance (NULL, 0, NULL, 0), ==, 0);
  g_assert_cmpuint (ph_edit_distance (abc, 1, cba, 3), ==, 2);
}

static void
test_sequence_folding (void)
{
  /* ref folds to sil sh ih hh eh sil d sil (ix ix merged, q dropped): 8 phones.
   * hyp folds to sil sh ih hh ae sil d sil: one substitution (eh -> ae). */
  const char *ref_names[] = { "h#", "sh", "ix", "ix", "hv", "eh", "q", "dcl", "d", "h#", NULL };
  const char *hyp_names[] = { "pau", "zh", "ih", "hh", "ae", "bcl", "d", "epi", NULL };
  gint ref[16], hyp[16];
  gsize nr = phones (ref_names, ref), nh = phones (hyp_names, hyp);
  PhScore score;

  ph_score_init (&score);
  ph_score_add_sequence (&score, ref, nr, hyp, nh);
  g_assert_cmpuint (score.phone_errors, ==, 1);
  g_assert_cmpuint (score.phone_reference, ==, 8);
  g_assert_cmpfloat_with_epsilon (ph_score_phone_error_rate (&score), 1.0 / 8, 1e-12);

  /* Repeats merge across a removed q and across a fold: ax q ah -> ah; bcl pcl -> sil. */
  const char *ref2_names[] = { "ax", "q", "ah", "bcl", "pcl", NULL };
  const char *hyp2_names[] = { "ah", "h#", NULL };
  nr = phones (ref2_names, ref);
  nh = phones (hyp2_names, hyp);
  ph_score_add_sequence (&score, ref, nr, hyp, nh);
  g_assert_cmpuint (score.phone_errors, ==, 1);
  g_assert_cmpuint (score.phone_reference, ==, 10);

  /* An empty hypothesis deletes everything: 3 more errors (iy, s, sil). */
  const char *ref3_names[] = { "iy", "s", "h#", NULL };
  nr = phones (ref3_names, ref);
  ph_score_add_sequence (&score, ref, nr, NULL, 0);
  g_assert_cmpuint (score.phone_errors, ==, 4);
  g_assert_cmpuint (score.phone_reference, ==, 13);
  g_assert_cmpfloat_with_epsilon (ph_score_phone_error_rate (&score), 4.0 / 13, 1e-12);
}

static void
test_frames (void)
{
  gint aa = ph_phone_index ("aa"), ao = ph_phone_index ("ao"), q = ph_phone_index ("q");
  gint ix = ph_phone_index ("ix"), ih = ph_phone_index ("ih"), hh = ph_phone_index ("h#");
  gint pau = ph_phone_index ("pau"), s = ph_phone_index ("s");
  /* frame: 0 exact; 1 right in 39 only; 2 q: right in 61, never in 39; 3 skipped;
   * 4 right in 39 only; 5 right in 39 only; 6 wrong; 7 hypothesis out of range. */
  const gint ref[] = { aa, ao, q, -1, ix, hh, s, s };
  const gint hyp[] = { aa, aa, q, aa, ih, pau, aa, 99 };
  PhScore score;

  ph_score_init (&score);
  g_assert_cmpfloat (ph_score_frame_accuracy61 (&score), ==, 0.0);
  g_assert_cmpfloat (ph_score_phone_error_rate (&score), ==, 0.0);
  ph_score_add_frames (&score, ref, hyp, G_N_ELEMENTS (ref));
  g_assert_cmpuint (score.frames, ==, 7);
  g_assert_cmpuint (score.correct61, ==, 2);
  g_assert_cmpuint (score.correct39, ==, 4);
  g_assert_cmpfloat_with_epsilon (ph_score_frame_accuracy61 (&score), 2.0 / 7, 1e-12);
  g_assert_cmpfloat_with_epsilon (ph_score_frame_accuracy39 (&score), 4.0 / 7, 1e-12);

  gint aa39 = ph_phone39_index ("aa"), ih39 = ph_phone39_index ("ih");
  gint sil39 = ph_phone39_index ("sil"), s39 = ph_phone39_index ("s");
  g_assert_cmpuint (score.confusion39[aa39][aa39], ==, 2);
  g_assert_cmpuint (score.confusion39[ih39][ih39], ==, 1);
  g_assert_cmpuint (score.confusion39[sil39][sil39], ==, 1);
  g_assert_cmpuint (score.confusion39[s39][aa39], ==, 1);
  guint64 total = 0;
  for (gint r = 0; r < PH_NUM_PHONES39; r++)
    for (gint h = 0; h < PH_NUM_PHONES39; h++)
      total += score.confusion39[r][h];
  g_assert_cmpuint (total, ==, 5); /* q and the out-of-range hypothesis have no cell */

  g_assert_cmpuint (score.per_phone_total[aa], ==, 1);
  g_assert_cmpuint (score.per_phone_correct[aa], ==, 1);
  g_assert_cmpuint (score.per_phone_total[ao], ==, 1);
  g_assert_cmpuint (score.per_phone_correct[ao], ==, 0);
  g_assert_cmpuint (score.per_phone_total[q], ==, 1);
  g_assert_cmpuint (score.per_phone_correct[q], ==, 1);
  g_assert_cmpuint (score.per_phone_total[s], ==, 2);
  g_assert_cmpuint (score.per_phone_correct[s], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/score/edit-distance", test_edit_distance);
  g_test_add_func ("/score/sequence-folding", test_sequence_folding);
  g_test_add_func ("/score/frames", test_frames);
  return g_test_run ();
}
