/* tool_options.c: checks across the options of a `phonemes` subcommand. */
#include "tool_options.h"

#include <stdio.h>

gboolean
tool_options_exclusive (const char *command, const ToolOptionUse *options, guint n)
{
  const char *first = NULL;

  for (guint i = 0; i < n; i++) {
    if (!options[i].given)
      continue;
    if (first) {
      fprintf (stderr, "phonemes %s: %s and %s cannot be used together (see --help)\n",
               command, first, options[i].name);
      return FALSE;
    }
    first = options[i].name;
  }
  return TRUE;
}
