#include "ph_error.h"

G_DEFINE_QUARK (ph-error-quark, ph_error)

/* Appends `c` (a code point from valid UTF-8) as is, or as \xNN / \u{N} when it is a
 * control character (C0, DEL, C1) that a terminal would act on. */
static void
append_quoted_char (GString *out, gunichar c, const char *bytes, gsize len)
{
  if (c < 0x20 || c == 0x7F)
    g_string_append_printf (out, "\\x%02X", c);
  else if (c >= 0x80 && c < 0xA0)
    g_string_append_printf (out, "\\u{%X}", c);
  else
    g_string_append_len (out, bytes, (gssize) len);
}

/* A copy of `text` fit to quote in a message; see ph_error.h. */
char *
ph_error_quote (const char *text)
{
  if (text == NULL)
    return g_strdup ("(null)");
  GString *out = g_string_new (NULL);
  const char *p = text;
  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02X", (guint8) *p);
          p++;
          continue;
        }
      const char *next = g_utf8_next_char (p);
      append_quoted_char (out, c, p, (gsize) (next - p));
      p = next;
    }
  return g_string_free (out, FALSE);
}
