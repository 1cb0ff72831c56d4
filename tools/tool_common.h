/* tool_common.h: helpers shared by the `phonemes` subcommands. */
#pragma once

#include <glib.h>
#include "phonemes.h"

/* Parses `entries` for subcommand `name` (usage line `parameter_string`, e.g. "AUDIO").
 * On --help prints the help and exits 0; on a bad option prints the error and exits 2. */
void tool_parse_options (const char *name, const char *parameter_string, const char *summary,
                         GOptionEntry *entries, int *argc, char ***argv);

/* TRUE when `n` is a valid --min-segment-frames (1..PH_MAX_MIN_SEGMENT_FRAMES); prints
 * "phonemes NAME: ..." to stderr otherwise. */
gboolean tool_min_segment_frames_valid (const char *name, gint n);

/* Loads `path`, or the compiled-in default model when `path` is NULL. On failure prints
 * the error and returns NULL. */
PhModel *tool_load_model (const char *path);

/* The .PHN sample of model frame `frame` at `file_rate`: the frame's time in ns as the
 * lstmphonemes element computes it (rounded down), then the sample (rounded down). */
guint64 tool_frame_to_file_sample (const PhFeatureConfig *features, guint64 frame,
                                   guint file_rate);

/* Prints "phonemes NAME: message" to stderr and returns exit status 1. */
int tool_fail (const char *name, const GError *error);

/* A progress bar with ETA on stderr, shown only when the work lasts more than two
 * seconds and stderr is a terminal (or PH_PROGRESS=1). */
typedef struct {
  const char *label;
  guint64 total;
  gint64 start_us;
  gint64 last_draw_us;
  gboolean shown;
} ToolProgress;

void tool_progress_start (ToolProgress *progress, const char *label, guint64 total);
void tool_progress_update (ToolProgress *progress, guint64 done);
void tool_progress_finish (ToolProgress *progress);
