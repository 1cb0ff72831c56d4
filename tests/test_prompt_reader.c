/* test_prompt_reader.c: a prompt read aloud and followed segment by segment, on
 * synthetic posteriors made from a known reading (peaked on the phone read, noise
 * elsewhere): pauses of any length, a reader who stops, repeats or skips, and a reading
 * of another text. Each frame's one feature is its index, so a segment's frames can be
 * traced back. */
#include <string.h>

#include "phonemes.h"
#include "ph_prompt_reader.h"

#define PROMPT "aa s / iy m / ow n / ae f / uw sh / ey v / oy z / aw th"
#define N_WORDS 8
#define PHONE_FRAMES 7

typedef struct {
  GArray *posteriors;   /* float, frames x PH_NUM_PHONES */
  GArray *truth;        /* gint per frame: the phone read (h# in pauses) */
  GRand *rand;
} Reading;

static void
reading_init (Reading *r, guint32 seed)
{
  r->posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  r->truth = g_array_new (FALSE, FALSE, sizeof (gint));
  r->rand = g_rand_new_with_seed (seed);
}

static void
reading_clear (Reading *r)
{
  g_array_unref (r->posteriors);
  g_array_unref (r->truth);
  g_rand_free (r->rand);
}

/* `frames` frames of `phone`: 0.6 on it, the rest spread with noise. */
static void
add_phone (Reading *r, gint phone, guint frames)
{
  for (guint k = 0; k < frames; k++) {
    float row[PH_NUM_PHONES];
    double sum = 0;

    for (gint p = 0; p < PH_NUM_PHONES; p++)
      sum += row[p] = (float) g_rand_double_range (r->rand, 0.1, 1.0);
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      row[p] = (float) (0.4 * row[p] / sum);
    row[phone] += 0.6f;
    g_array_append_vals (r->posteriors, row, PH_NUM_PHONES);
    g_array_append_val (r->truth, phone);
  }
}

static void
add_pause (Reading *r, guint frames)
{
  add_phone (r, ph_phone_index ("h#"), frames);
}

/* Words [first, last] of `text` read, each followed by `pause` frames of silence. */
static void
add_words (Reading *r, const char *text, guint first, guint last, guint pause)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = ph_words_parse_phones (text, &error);

  g_assert_no_error (error);
  for (guint w = first; w <= last; w++) {
    const PhWord *word = g_ptr_array_index (words, w);
    for (guint i = 0; i < word->phones->len; i++)
      add_phone (r, g_array_index (word->phones, gint, i), PHONE_FRAMES);
    add_pause (r, pause);
  }
}

/* Pushes the reading (and finishes it); checks every accepted segment against the
 * truth and the frame indices; returns the frames handed back. */
static guint64
follow (PhPromptReader *reader, const Reading *r)
{
  guint n = r->truth->len;
  guint64 handed = 0, right = 0;
  PhPromptSegment seg;

  for (guint t = 0; t <= n; t++) {
    float feature = (float) t;
    gboolean got = t < n
        ? ph_prompt_reader_push (reader, &feature, &g_array_index (r->posteriors, float,
                                                                   (gsize) t * PH_NUM_PHONES),
                                 1000 + t, &seg)
        : ph_prompt_reader_finish (reader, &seg);

    if (!got)
      continue;
    for (guint i = 0; i < seg.n_frames; i++) {
      guint frame = (guint) seg.first_frame + i;
      gint truth = g_array_index (r->truth, gint, frame);
      gint target = seg.targets[i];

      g_assert_cmpfloat (seg.features[i], ==, (float) frame);
      right += target == truth || (ph_phone_is_silence (target) && ph_phone_is_silence (truth));
    }
    g_assert_cmpuint (seg.last_stamp, ==, 1000 + seg.first_frame + seg.n_frames - 1);
    handed += seg.n_frames;
  }
  g_assert_cmpuint (right, ==, handed);   /* exact on peaked posteriors */
  return handed;
}

static PhPromptReader *
reader_new (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = ph_words_parse_phones (text, &error);

  g_assert_no_error (error);
  return ph_prompt_reader_new (words, 1, NULL);
}

/* Pauses of 3 frames to 5 s: every word read is matched, every frame with speech
 * handed back with its right target, long silences dropped. */
static void
test_whole_reading (void)
{
  static const guint pauses[N_WORDS] = { 3, 40, 500, 8, 25, 120, 5, 60 };
  PhPromptReader *reader = reader_new (PROMPT);
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (reader);
  Reading r;
  guint64 handed;

  reading_init (&r, 1);
  add_pause (&r, 30);
  for (guint w = 0; w < N_WORDS; w++)
    add_words (&r, PROMPT, w, w, pauses[w]);
  handed = follow (reader, &r);
  g_assert_cmpuint (stats->cursor, ==, N_WORDS);
  g_assert_cmpuint (stats->words_matched, ==, N_WORDS);
  g_assert_cmpuint (stats->segments_rejected, ==, 0);
  g_assert_false (stats->mismatch);
  g_assert_cmpuint (handed, >=, N_WORDS * 2 * PHONE_FRAMES);
  g_assert_cmpuint (handed, <, r.truth->len - 400);   /* the 5 s pause is not trained */
  g_assert_cmpuint (stats->frames, ==, r.truth->len);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

/* A reader who stops after word 4: the cursor says so. */
static void
test_stops_mid_prompt (void)
{
  PhPromptReader *reader = reader_new (PROMPT);
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (reader);
  Reading r;

  reading_init (&r, 2);
  add_words (&r, PROMPT, 0, 4, 30);
  follow (reader, &r);
  g_assert_cmpuint (stats->cursor, ==, 5);
  g_assert_cmpuint (stats->words_matched, ==, 5);
  g_assert_cmpuint (stats->words, ==, N_WORDS);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

/* Words 2-3 read twice, word 5 skipped, each after a pause (a segment starts there:
 * inside one, the path goes through every word of the text). The reading goes on past
 * both. */
static void
test_repeat_and_skip (void)
{
  PhPromptReader *reader = reader_new (PROMPT);
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (reader);
  Reading r;

  reading_init (&r, 3);
  add_words (&r, PROMPT, 0, 3, 60);
  add_words (&r, PROMPT, 2, 3, 60);
  add_words (&r, PROMPT, 4, 4, 60);
  add_words (&r, PROMPT, 6, 7, 60);
  follow (reader, &r);
  g_assert_cmpuint (stats->cursor, ==, N_WORDS);
  g_assert_cmpuint (stats->words_matched, ==, N_WORDS - 1);
  g_assert_cmpuint (stats->segments_rejected, ==, 0);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

/* Words 2-4 misheard (the posteriors peak on other phones), then 5-7 read clearly: the
 * reader finds its place again after the rejected segment. */
static void
test_finds_its_place_again (void)
{
  PhPromptReader *reader = reader_new (PROMPT);
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (reader);
  Reading r;

  reading_init (&r, 6);
  add_words (&r, PROMPT, 0, 1, 60);
  add_words (&r, "k t / p b / g d", 0, 2, 10);
  add_pause (&r, 50);
  add_words (&r, PROMPT, 5, 7, 60);
  follow (reader, &r);
  g_assert_cmpuint (stats->segments_rejected, ==, 1);
  g_assert_cmpuint (stats->cursor, ==, N_WORDS);
  g_assert_cmpuint (stats->words_matched, ==, 5);
  g_assert_false (stats->mismatch);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

/* Another text read: nothing accepted, the mismatch reported, later frames ignored. */
static void
test_wrong_text (void)
{
  const char *other = "p / t / k / b / d / g / ch / jh";
  PhPromptReader *reader = reader_new (PROMPT);
  const PhPromptReaderStats *stats = ph_prompt_reader_stats (reader);
  Reading r;

  reading_init (&r, 4);
  for (guint i = 0; i < 10; i++)
    add_words (&r, other, 0, 7, 25);
  g_assert_cmpuint (follow (reader, &r), ==, 0);
  g_assert_true (stats->mismatch);
  g_assert_cmpuint (stats->segments_accepted, ==, 0);
  g_assert_cmpuint (stats->cursor, ==, 0);
  g_assert_cmpfloat (stats->last_confidence, <, 0.15f);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

/* Speech without pauses longer than the longest segment: cut, every word matched. */
static void
test_no_pause (void)
{
  PhPromptReaderConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = ph_words_parse_phones (PROMPT, &error);
  PhPromptReader *reader;
  const PhPromptReaderStats *stats;
  Reading r;

  ph_prompt_reader_config_init (&config);
  config.max_segment_frames = 60;
  reader = ph_prompt_reader_new (words, 1, &config);
  stats = ph_prompt_reader_stats (reader);
  reading_init (&r, 5);
  add_words (&r, PROMPT, 0, 7, 4);
  follow (reader, &r);
  g_assert_cmpuint (stats->cursor, ==, N_WORDS);
  g_assert_cmpuint (stats->segments_accepted, >=, 3);
  ph_prompt_reader_free (reader);
  reading_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prompt-reader/whole-reading", test_whole_reading);
  g_test_add_func ("/prompt-reader/stops-mid-prompt", test_stops_mid_prompt);
  g_test_add_func ("/prompt-reader/repeat-and-skip", test_repeat_and_skip);
  g_test_add_func ("/prompt-reader/finds-its-place-again", test_finds_its_place_again);
  g_test_add_func ("/prompt-reader/wrong-text", test_wrong_text);
  g_test_add_func ("/prompt-reader/no-pause", test_no_pause);
  return g_test_run ();
}
