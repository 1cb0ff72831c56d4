/* tool_options.h: checks across the options of a `phonemes` subcommand. */
#pragma once

#include <glib.h>

/* One option of a group of which at most one may be given: its name as the user types
 * it ("--frames") and whether it was given. */
typedef struct {
  const char *name;
  gboolean given;
} ToolOptionUse;

/* TRUE when at most one of the `n` options was given. Otherwise prints
 * "phonemes COMMAND: --a and --b cannot be used together" (the first two given) on
 * stderr and returns FALSE; the caller exits with status 2. */
gboolean tool_options_exclusive (const char *command, const ToolOptionUse *options, guint n);
