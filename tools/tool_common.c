/* tool_common.c: option parsing, model loading, errors and progress for the CLI. */
#include "tool_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tool_parse_options (const char *name, const char *parameter_string, const char *summary,
                    GOptionEntry *entries, int *argc, char ***argv)
{
  g_autofree char *usage = g_strdup_printf ("- %s", summary);
  g_autofree char *prgname = g_strdup_printf ("phonemes %s", name);
  g_autoptr (GOptionContext) context = g_option_context_new (parameter_string);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context, usage);
  g_option_context_add_main_entries (context, entries, NULL);
  g_set_prgname (prgname); /* GLib keeps a copy */
  if (!g_option_context_parse (context, argc, argv, &error)) {
    fprintf (stderr, "phonemes %s: %s\nRun 'phonemes %s --help' for usage.\n", name,
             error->message, name);
    exit (2);
  }
}

gboolean
tool_min_segment_frames_valid (const char *name, gint n)
{
  if (n >= 1 && n <= PH_MAX_MIN_SEGMENT_FRAMES)
    return TRUE;
  fprintf (stderr, "phonemes %s: --min-segment-frames is %d; expected 1..%d\n", name, n,
           PH_MAX_MIN_SEGMENT_FRAMES);
  return FALSE;
}

PhModel *
tool_load_model (const char *path)
{
  g_autoptr (GError) error = NULL;
  PhModel *model = path ? ph_model_load_file (path, &error) : ph_model_load_default (&error);

  if (!model)
    fprintf (stderr, "phonemes: %s\n", error->message);
  return model;
}

guint64
tool_frame_to_file_sample (const PhFeatureConfig *features, guint64 frame, guint file_rate)
{
  guint64 ns = ph_frame_to_ns (frame, features->hop_length, features->sample_rate);

  return ph_scale_round_down (ns, file_rate, PH_NS_PER_SECOND);
}

int
tool_fail (const char *name, const GError *error)
{
  fprintf (stderr, "phonemes %s: %s\n", name, error ? error->message : "failed");
  return 1;
}

static gboolean
progress_wanted (void)
{
  const char *env = g_getenv ("PH_PROGRESS");

  if (env)
    return atoi (env) != 0;
  return isatty (fileno (stderr));
}

void
tool_progress_start (ToolProgress *progress, const char *label, guint64 total)
{
  progress->label = label;
  progress->total = MAX (total, 1);
  progress->start_us = g_get_monotonic_time ();
  progress->last_draw_us = 0;
  progress->shown = FALSE;
}

static void
format_duration (char *out, gsize size, double seconds)
{
  guint s = (guint) (seconds + 0.5);

  if (s >= 3600)
    g_snprintf (out, size, "%uh%02um", s / 3600, s / 60 % 60);
  else
    g_snprintf (out, size, "%um%02us", s / 60, s % 60);
}

void
tool_progress_update (ToolProgress *progress, guint64 done)
{
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - progress->start_us) / 1e6;
  double fraction = MIN (1.0, (double) done / progress->total);
  char eta[32], spent[32];
  char bar[31];
  guint filled = (guint) (fraction * 30);

  if (elapsed < 2.0 || now - progress->last_draw_us < 200000 || !progress_wanted ())
    return;
  progress->last_draw_us = now;
  progress->shown = TRUE;
  for (guint i = 0; i < 30; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[30] = '\0';
  format_duration (spent, sizeof spent, elapsed);
  if (fraction > 0)
    format_duration (eta, sizeof eta, elapsed / fraction - elapsed);
  else
    g_strlcpy (eta, "?", sizeof eta);
  fprintf (stderr, "\r%s [%s] %3.0f%%  %s elapsed, ETA %s  ", progress->label, bar,
           100 * fraction, spent, eta);
  fflush (stderr);
}

void
tool_progress_finish (ToolProgress *progress)
{
  if (progress->shown)
    fprintf (stderr, "\n");
}
