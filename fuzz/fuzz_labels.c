/* fuzz_labels.c: the .PHN and TextGrid readers on any bytes (the same input through
 * both), with and without a known audio length. */
#include "fuzz.h"
#include "phonemes.h"

#include <string.h>

static void
drop (GArray *labels, GError **error)
{
  if (labels != NULL)
    g_array_unref (labels);
  g_clear_error (error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  char *text = g_strndup ((const char *) data, size); /* the PHN parser takes text */

  drop (ph_labels_parse_phn (text, "fuzz.PHN", 0, &error), &error);
  drop (ph_labels_parse_phn (text, "fuzz.PHN", 16000, &error), &error);
  drop (ph_labels_parse_textgrid ((const char *) data, size, "fuzz.TextGrid", 16000, &error),
        &error);
  drop (ph_labels_parse_textgrid ((const char *) data, size, "fuzz.TextGrid", 8000, &error),
        &error);
  g_free (text);
  return 0;
}
