/* prompt_reader_check.c: follows a reading with ph_prompt_reader offline, from the
 * labeller's posteriors, and prints each segment it accepts and how far it got.
 *
 *   phonemes label --posteriors READING.wav > READING.post
 *   prompt-reader-check READING.post "$(phonemes align --print-phones --text "$TEXT" |
 *                                      cut -f2 | paste -sd/)" [OUT.PHN]
 *
 * With OUT.PHN, the accepted segments' frame targets are written as TIMIT labels
 * (samples at 16 kHz, 160 per frame; frames outside them unlabelled): what lstmadapt
 * mode=supervised trains on as the prompted mode would, from the unadapted model's
 * alignment (bench/adapt/enroll-curve's prompted-reader row).
 *
 * The second argument is the prompt as a phone transcription (words separated by "/"),
 * which `phonemes align --print-phones` gives for a text with this project's lexicon.
 * The features handed to the reader are the frame indices (nothing is trained). */
#include <stdio.h>
#include <stdlib.h>

#include "phonemes.h"
#include "ph_prompt_reader.h"

/* Reads one "time p0 ... p60" line into `posteriors`; FALSE at the end or on a short line. */
static gboolean
read_frame (FILE *in, float *posteriors)
{
  char line[16384];
  char *p, *end;

  if (!fgets (line, sizeof line, in))
    return FALSE;
  strtod (line, &p);
  for (guint k = 0; k < PH_NUM_PHONES; k++) {
    posteriors[k] = strtof (p, &end);
    if (end == p)
      return FALSE;
    p = end;
  }
  return TRUE;
}

#define PHN_HOP 160

/* Appends the segment's targets to `labels` (PhLabel, samples), one label per run. */
static void
add_labels (GArray *labels, const PhPromptSegment *seg)
{
  for (guint i = 0, start = 0; i <= seg->n_frames; i++) {
    PhLabel label;

    if (i < seg->n_frames && seg->targets[i] == seg->targets[start])
      continue;
    label = (PhLabel) { (seg->first_frame + start) * PHN_HOP, (seg->first_frame + i) * PHN_HOP,
                        seg->targets[start] };
    if (label.phone >= 0)
      g_array_append_val (labels, label);
    start = i;
  }
}

static void
print_segment (const PhPromptSegment *seg)
{
  printf ("segment: frames %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT ", words %u-%u, "
          "confidence %.2f\n", seg->first_frame, seg->first_frame + seg->n_frames,
          seg->first_word, seg->last_word, seg->confidence);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = NULL;
  const PhPromptReaderStats *s;
  PhPromptReader *reader;
  PhPromptSegment seg;
  float posteriors[PH_NUM_PHONES];
  FILE *in;

  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));

  if (argc != 3 && argc != 4) {
    fprintf (stderr, "usage: prompt-reader-check POSTERIORS PHONE-TRANSCRIPTION [OUT.PHN]\n");
    return 2;
  }
  if (!(words = ph_words_parse_phones (argv[2], &error))) {
    fprintf (stderr, "prompt-reader-check: %s\n", error->message);
    return 1;
  }
  if (!(in = fopen (argv[1], "r"))) {
    fprintf (stderr, "prompt-reader-check: cannot read %s\n", argv[1]);
    return 1;
  }
  reader = ph_prompt_reader_new (words, 1, NULL);
  for (float t = 0; read_frame (in, posteriors); t++)
    if (ph_prompt_reader_push (reader, &t, posteriors, (guint64) t, &seg)) {
      print_segment (&seg);
      add_labels (labels, &seg);
    }
  if (ph_prompt_reader_finish (reader, &seg)) {
    print_segment (&seg);
    add_labels (labels, &seg);
  }
  fclose (in);
  s = ph_prompt_reader_stats (reader);
  printf ("frames %" G_GUINT64_FORMAT ": read to word %u of %u, %u words matched, %"
          G_GUINT64_FORMAT " frames aligned, %" G_GUINT64_FORMAT " unmatched, segments %u "
          "accepted / %u rejected%s\n", s->frames, s->cursor, s->words, s->words_matched,
          s->frames_aligned, s->frames_unmatched, s->segments_accepted, s->segments_rejected,
          s->mismatch ? ", MISMATCH: the reading is not the prompt" : "");
  ph_prompt_reader_free (reader);
  if (argc == 4 && !ph_labels_write_phn (argv[3], labels, &error)) {
    fprintf (stderr, "prompt-reader-check: %s\n", error->message);
    return 1;
  }
  return 0;
}
