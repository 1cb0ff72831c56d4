/* ph_labels.c: phone labels: TIMIT .PHN files read and written, Praat TextGrids read,
 * and the frame targets a trainer takes from them. */
#include "ph_labels.h"

#include <math.h>
#include <string.h>

#include "ph_error.h"
#include "ph_file.h"
#include "ph_phoneset.h"

/* Reads a labels file (PHN, TextGrid) of at most PH_FILE_MAX_TEXT_BYTES. */
static gboolean
read_text_file (const char *path, char **text, gsize *len, GError **error)
{
  *text = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "labels file", len, error);
  return *text != NULL;
}

/* ------------------------------------------------------------------------------------
 * TIMIT .PHN labels
 * ------------------------------------------------------------------------------------ */

/* Splits on runs of whitespace; no empty fields. */
static char **
split_fields (const char *line, guint *n_fields)
{
  char **parts = g_strsplit_set (line, " \t\r\v\f", -1);
  guint n = 0;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] != '\0')
        parts[n++] = parts[i];
      else
        g_free (parts[i]);
    }
  parts[n] = NULL;
  *n_fields = n;
  return parts;
}

static gboolean
parse_sample_index (const char *text, const char *what, const char *name, guint line_no,
                    guint64 *value, GError **error)
{
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL))
    return TRUE;
  char *shown = ph_error_quote (text);
  g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
               "%s:%u: %s '%s' is not a non-negative integer sample index", name, line_no,
               what, shown);
  g_free (shown);
  return FALSE;
}

/* Parses one non-blank "start end phone" line. */
static gboolean
phn_parse_line (char **fields, guint n_fields, const char *name, guint line_no,
                PhLabel *label, GError **error)
{
  if (n_fields != 3)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: expected 3 fields \"start end phone\", found %u", name, line_no,
                   n_fields);
      return FALSE;
    }
  if (!parse_sample_index (fields[0], "start", name, line_no, &label->start, error)
      || !parse_sample_index (fields[1], "end", name, line_no, &label->end, error))
    return FALSE;
  if (label->start >= label->end)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: start %" G_GUINT64_FORMAT " is not before end %" G_GUINT64_FORMAT,
                   name, line_no, label->start, label->end);
      return FALSE;
    }
  label->phone = ph_phone_index (fields[2]);
  if (label->phone < 0)
    {
      char *shown = ph_error_quote (fields[2]);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: unknown phone '%s' (expected one of the 61 TIMIT phones)", name,
                   line_no, shown);
      g_free (shown);
      return FALSE;
    }
  return TRUE;
}

/* Checks a label against the one before it and the audio length. */
static gboolean
label_check_placement (const PhLabel *label, guint64 prev_end, guint64 n_samples,
                       const char *name, guint line_no, GError **error)
{
  if (label->start < prev_end)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: span starts at %" G_GUINT64_FORMAT ", before the previous span "
                   "ends (%" G_GUINT64_FORMAT ")", name, line_no, label->start, prev_end);
      return FALSE;
    }
  if (n_samples != 0 && label->end > n_samples)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: span ends at %" G_GUINT64_FORMAT ", past the end of the audio (%"
                   G_GUINT64_FORMAT " samples)", name, line_no, label->end, n_samples);
      return FALSE;
    }
  return TRUE;
}

/* Parses "start end phone" lines; errors name `name` and the line. */
GArray *
ph_labels_parse_phn (const char *text, const char *name, guint64 n_samples,
                     GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  if (name == NULL)
    name = "<phn>";
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  char **lines = g_strsplit (text, "\n", -1);
  guint64 prev_end = 0;
  gboolean ok = TRUE;
  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      guint n_fields;
      char **fields = split_fields (lines[i], &n_fields);
      PhLabel label;
      if (n_fields > 0)
        {
          ok = phn_parse_line (fields, n_fields, name, i + 1, &label, error)
               && label_check_placement (&label, prev_end, n_samples, name, i + 1, error);
          if (ok)
            {
              g_array_append_val (labels, label);
              prev_end = label.end;
            }
        }
      g_strfreev (fields);
    }
  g_strfreev (lines);
  if (!ok)
    g_clear_pointer (&labels, g_array_unref);
  return labels;
}

/* Reads a .PHN file; see ph_labels_parse_phn. */
GArray *
ph_labels_read_phn (const char *path, guint64 n_samples, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  char *text;
  gsize len;
  if (!read_text_file (path, &text, &len, error))
    return NULL;
  const char *nul = memchr (text, '\0', len);
  if (nul != NULL)
    {
      guint line = 1;
      for (const char *p = text; p < nul; p++)
        line += *p == '\n';
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: a NUL byte (offset %" G_GSIZE_FORMAT "): not a text .PHN file",
                   path, line, (gsize) (nul - text));
      g_free (text);
      return NULL;
    }
  GArray *labels = ph_labels_parse_phn (text, path, n_samples, error);
  g_free (text);
  return labels;
}

void
ph_labels_append (GArray *labels, guint64 start, guint64 end, gint phone)
{
  PhLabel label = { start, end, phone };

  if (end <= start)
    return;
  if (labels->len > 0)
    {
      PhLabel *last = &g_array_index (labels, PhLabel, labels->len - 1);
      if (last->phone == phone)
        {
          last->end = end;
          return;
        }
    }
  g_array_append_val (labels, label);
}

/* Writes "start end phone" lines. */
gboolean
ph_labels_write_phn (const char *path, const GArray *labels, GError **error)
{
  g_return_val_if_fail (path != NULL && labels != NULL, FALSE);
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < labels->len; i++)
    {
      const PhLabel *label = &g_array_index (labels, PhLabel, i);
      const char *phone = ph_phone_name (label->phone);
      if (phone == NULL)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                       "%s: label %u has phone index %d, not a TIMIT phone", path, i,
                       label->phone);
          g_string_free (out, TRUE);
          return FALSE;
        }
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
                              label->start, label->end, phone);
    }
  gboolean ok = ph_file_write_atomic (path, out->str, out->len, "labels file", error);
  g_string_free (out, TRUE);
  return ok;
}

/* ------------------------------------------------------------------------------------
 * Praat TextGrid (long and short text formats)
 *
 * Both formats carry the same sequence of numbers, quoted strings and <exists> flags;
 * the long one adds labels ("xmin =", "intervals [3]:") around them. So one tokenizer
 * that keeps only numbers, strings and flags reads both.
 * ------------------------------------------------------------------------------------ */

#define TG_BLANKS " \t\r\v\f"

typedef enum { TG_NUMBER, TG_STRING, TG_FLAG } TgKind;

typedef struct {
  TgKind kind;
  double number;  /* TG_NUMBER; TG_FLAG: 1 = <exists>, 0 = <absent> */
  char *text;     /* TG_STRING */
  guint line;
} TgToken;

typedef struct {
  GArray *tokens; /* TgToken */
  guint next;
  const char *path;
} TgReader;

typedef struct {
  double xmin, xmax;
  const char *text; /* owned by the token array */
  guint line;
} TgInterval;

typedef struct {
  const char *name;
  gboolean is_interval;
  GArray *intervals; /* TgInterval; a TextTier's points have xmin == xmax */
} TgTier;

static void
tg_token_clear (gpointer data)
{
  g_free (((TgToken *) data)->text);
}

static void
tg_tier_clear (gpointer data)
{
  g_clear_pointer (&((TgTier *) data)->intervals, g_array_unref);
}

/* Reads a "..." string ("" is an escaped quote) starting at *p. */
static gboolean
tg_scan_string (const char **p, guint *line, TgToken *token, const char *path,
                GError **error)
{
  GString *s = g_string_new (NULL);
  token->kind = TG_STRING;
  token->line = *line;
  const char *q = *p + 1;
  for (;;)
    {
      if (*q == '\0')
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: string never closed (missing '\"')", path, token->line);
          g_string_free (s, TRUE);
          return FALSE;
        }
      if (*q == '"' && q[1] == '"')
        q++; /* "" stands for one quote */
      else if (*q == '"')
        break;
      if (*q == '\n')
        (*line)++;
      g_string_append_c (s, *q++);
    }
  *p = q + 1;
  token->text = g_string_free (s, FALSE);
  return TRUE;
}

/* Classifies a bare word: a number, a flag, or a label to skip (FALSE). */
static gboolean
tg_word_token (const char *word, guint line, TgToken *token)
{
  token->line = line;
  token->text = NULL;
  if (g_str_equal (word, "<exists>") || g_str_equal (word, "<absent>"))
    {
      token->kind = TG_FLAG;
      token->number = g_str_equal (word, "<exists>");
      return TRUE;
    }
  if (!(g_ascii_isdigit (word[0]) || word[0] == '-' || word[0] == '+' || word[0] == '.'))
    return FALSE;
  char *end = NULL;
  token->kind = TG_NUMBER;
  token->number = g_ascii_strtod (word, &end);
  return end != word && *end == '\0';
}

static GArray *
tg_tokenize (const char *text, const char *path, GError **error)
{
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (TgToken));
  g_array_set_clear_func (tokens, tg_token_clear);
  guint line = 1;
  const char *p = text;
  while (*p != '\0')
    {
      TgToken token = { 0 };
      if (*p == '\n')
        line++, p++;
      else if (strchr (TG_BLANKS, *p))
        p++;
      else if (*p == '!' || *p == '[')
        {
          /* "!" comments run to the end of the line; "[3]" indices are skipped. */
          const char *stop = *p == '!' ? "\n" : "]\n";
          p += strcspn (p, stop);
          if (*p == ']')
            p++;
        }
      else if (*p == '"')
        {
          if (!tg_scan_string (&p, &line, &token, path, error))
            {
              g_array_unref (tokens);
              return NULL;
            }
          g_array_append_val (tokens, token);
        }
      else
        {
          /* Never empty: every character that stops a word is handled above. */
          gsize len = strcspn (p, TG_BLANKS "\n\"[!");
          char *word = g_strndup (p, len);
          if (tg_word_token (word, line, &token))
            g_array_append_val (tokens, token);
          g_free (word);
          p += len;
        }
    }
  return tokens;
}

static const TgToken *
tg_peek (TgReader *r)
{
  return r->next < r->tokens->len ? &g_array_index (r->tokens, TgToken, r->next) : NULL;
}

/* Takes the next token, which must be of `kind`; `what` names it in the error. */
static const TgToken *
tg_expect (TgReader *r, TgKind kind, const char *what, GError **error)
{
  const TgToken *t = tg_peek (r);
  if (t == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: unexpected end of file, expected %s", r->path, what);
      return NULL;
    }
  if (t->kind != kind || (kind == TG_NUMBER && !isfinite (t->number)))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s:%u: expected %s", r->path,
                   t->line, what);
      return NULL;
    }
  r->next++;
  return t;
}

/* Reads a count, which must be a whole number no larger than what the file can hold. */
static gboolean
tg_expect_count (TgReader *r, const char *what, guint *count, GError **error)
{
  const TgToken *t = tg_expect (r, TG_NUMBER, what, error);
  if (t == NULL)
    return FALSE;
  if (t->number < 0 || t->number != floor (t->number) || t->number > r->tokens->len)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s:%u: %s %g is not a plausible count",
                   r->path, t->line, what, t->number);
      return FALSE;
    }
  *count = (guint) t->number;
  return TRUE;
}

static gboolean
tg_read_tier (TgReader *r, TgTier *tier, GError **error)
{
  const TgToken *cls = tg_expect (r, TG_STRING, "a tier class (\"IntervalTier\")", error);
  const TgToken *name = cls ? tg_expect (r, TG_STRING, "a tier name", error) : NULL;
  guint count;
  if (name == NULL || !tg_expect (r, TG_NUMBER, "tier xmin", error)
      || !tg_expect (r, TG_NUMBER, "tier xmax", error)
      || !tg_expect_count (r, "number of intervals", &count, error))
    return FALSE;
  tier->name = name->text;
  tier->is_interval = g_str_equal (cls->text, "IntervalTier");
  if (!tier->is_interval && !g_str_equal (cls->text, "TextTier"))
    {
      char *shown = ph_error_quote (cls->text);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: unknown tier class \"%s\" (expected IntervalTier or TextTier)",
                   r->path, cls->line, shown);
      g_free (shown);
      return FALSE;
    }
  tier->intervals = g_array_sized_new (FALSE, FALSE, sizeof (TgInterval), count);
  for (guint i = 0; i < count; i++)
    {
      TgInterval interval = { 0 };
      const TgToken *xmin = tg_expect (r, TG_NUMBER, tier->is_interval ? "interval xmin"
                                                                       : "point time", error);
      const TgToken *xmax = xmin && tier->is_interval
                            ? tg_expect (r, TG_NUMBER, "interval xmax", error) : xmin;
      const TgToken *text = xmax ? tg_expect (r, TG_STRING, "a quoted text", error) : NULL;
      if (text == NULL)
        return FALSE;
      interval.xmin = xmin->number;
      interval.xmax = xmax->number;
      interval.text = text->text;
      interval.line = text->line;
      g_array_append_val (tier->intervals, interval);
    }
  return TRUE;
}

/* Reads the file header and every tier into `tiers` (GArray of TgTier). */
static gboolean
tg_read_tiers (TgReader *r, GArray *tiers, GError **error)
{
  const TgToken *type = tg_peek (r);
  if (type == NULL || type->kind != TG_STRING || !g_str_has_prefix (type->text, "ooTextFile"))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: not a Praat TextGrid text file (expected File type = \"ooTextFile\")",
                   r->path);
      return FALSE;
    }
  r->next++;
  const TgToken *cls = tg_expect (r, TG_STRING, "Object class = \"TextGrid\"", error);
  if (cls != NULL && !g_str_equal (cls->text, "TextGrid"))
    {
      char *shown = ph_error_quote (cls->text);
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: object class is \"%s\", expected \"TextGrid\"", r->path, cls->line,
                   shown);
      g_free (shown);
      return FALSE;
    }
  if (cls == NULL || !tg_expect (r, TG_NUMBER, "xmin", error)
      || !tg_expect (r, TG_NUMBER, "xmax", error))
    return FALSE;
  const TgToken *flag = tg_peek (r);
  if (flag != NULL && flag->kind == TG_FLAG)
    {
      r->next++;
      if (flag->number == 0)
        return TRUE;
    }
  guint n_tiers;
  if (!tg_expect_count (r, "number of tiers", &n_tiers, error))
    return FALSE;
  for (guint i = 0; i < n_tiers; i++)
    {
      TgTier tier = { 0 };
      gboolean ok = tg_read_tier (r, &tier, error);
      g_array_append_val (tiers, tier);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* TIMIT index of a TextGrid text: ARPAbet first, then a TIMIT name; empty -> h#. */
static gint
tg_map_symbol (const char *text)
{
  char *s = g_strstrip (g_strdup (text));
  gint phone = *s == '\0' ? ph_phone_index ("h#") : ph_phone_from_arpabet (s);
  if (phone < 0)
    phone = ph_phone_index (s);
  g_free (s);
  return phone;
}

/* An interval tier "looks like ARPAbet" when it has text and at least 80% of its
 * non-empty texts map to a phone; the rest then get line-numbered errors. */
static gboolean
tg_tier_looks_like_phones (const TgTier *tier)
{
  guint n_text = 0, n_mapped = 0;
  if (!tier->is_interval)
    return FALSE;
  for (guint i = 0; i < tier->intervals->len; i++)
    {
      const char *text = g_array_index (tier->intervals, TgInterval, i).text;
      char *s = g_strstrip (g_strdup (text));
      if (*s != '\0')
        {
          n_text++;
          n_mapped += tg_map_symbol (s) >= 0;
        }
      g_free (s);
    }
  return n_text > 0 && n_mapped * 5 >= n_text * 4;
}

static const TgTier *
tg_pick_tier (const GArray *tiers, const char *path, GError **error)
{
  const TgTier *found = NULL;
  guint n_phone_like = 0;
  for (guint i = 0; i < tiers->len; i++)
    {
      const TgTier *tier = &g_array_index (tiers, TgTier, i);
      if (tier->is_interval && g_ascii_strcasecmp (tier->name, "phones") == 0)
        return tier;
    }
  GString *names = g_string_new (NULL);
  for (guint i = 0; i < tiers->len; i++)
    {
      const TgTier *tier = &g_array_index (tiers, TgTier, i);
      g_string_append_printf (names, "%s\"%s\"", i ? ", " : "", tier->name);
      if (tg_tier_looks_like_phones (tier))
        {
          found = tier;
          n_phone_like++;
        }
    }
  if (n_phone_like != 1)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: no interval tier named \"phones\", and %u interval tiers with ARPAbet "
                   "labels (need exactly one); tiers: %s", path, n_phone_like,
                   names->len ? names->str : "none");
      found = NULL;
    }
  g_string_free (names, TRUE);
  return found;
}

/* Converts a tier's intervals to sample spans; zero-length spans are dropped. */
static GArray *
tg_tier_to_labels (const TgTier *tier, guint sample_rate, const char *path, GError **error)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  guint64 prev_end = 0;
  for (guint i = 0; i < tier->intervals->len; i++)
    {
      const TgInterval *iv = &g_array_index (tier->intervals, TgInterval, i);
      PhLabel label;
      if (iv->xmax < iv->xmin)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: interval ends (%g s) before it starts (%g s)", path, iv->line,
                       iv->xmax, iv->xmin);
          goto fail;
        }
      label.phone = tg_map_symbol (iv->text);
      if (label.phone < 0)
        {
          char *shown = ph_error_quote (iv->text);
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s:%u: phone \"%s\" has no TIMIT equivalent", path, iv->line,
                       shown);
          g_free (shown);
          goto fail;
        }
      label.start = (guint64) MAX (0.0, round (iv->xmin * sample_rate));
      label.end = (guint64) MAX (0.0, round (iv->xmax * sample_rate));
      if (label.end <= label.start)
        continue;
      if (!label_check_placement (&label, prev_end, 0, path, iv->line, error))
        goto fail;
      g_array_append_val (labels, label);
      prev_end = label.end;
    }
  return labels;

fail:
  g_array_unref (labels);
  return NULL;
}

/* Praat may save UTF-16 (with a byte-order mark); everything else is taken as UTF-8. */
static char *
tg_text_to_utf8 (char *raw, gsize len, const char *path, GError **error)
{
  const guint8 *b = (const guint8 *) raw;
  if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
    {
      char *utf8 = g_convert (raw + 2, len - 2, "UTF-8",
                              b[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", NULL, NULL, NULL);
      if (utf8 == NULL)
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: invalid UTF-16 text", path);
      g_free (raw);
      return utf8;
    }
  if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
    memmove (raw, raw + 3, len - 2);
  return raw;
}

/* Reads the phone tier of a text TextGrid as TIMIT labels in samples. */
GArray *
ph_labels_read_textgrid (const char *path, guint sample_rate, GError **error)
{
  g_return_val_if_fail (path != NULL && sample_rate > 0, NULL);
  char *raw;
  gsize len;
  if (!read_text_file (path, &raw, &len, error))
    return NULL;
  GArray *labels = ph_labels_parse_textgrid (raw, len, path, sample_rate, error);
  g_free (raw);
  return labels;
}

/* The same from a file image in memory; errors name `name`. */
GArray *
ph_labels_parse_textgrid (const char *data, gsize len, const char *name, guint sample_rate,
                          GError **error)
{
  g_return_val_if_fail ((data != NULL || len == 0) && sample_rate > 0, NULL);
  const char *path = name != NULL ? name : "<TextGrid>";
  char *raw = g_malloc (len + 1);
  if (len > 0)
    memcpy (raw, data, len);
  raw[len] = '\0';
  char *text = tg_text_to_utf8 (raw, len, path, error);
  if (text == NULL)
    return NULL;

  GArray *labels = NULL;
  GArray *tiers = g_array_new (FALSE, FALSE, sizeof (TgTier));
  g_array_set_clear_func (tiers, tg_tier_clear);
  TgReader reader = { tg_tokenize (text, path, error), 0, path };
  if (reader.tokens != NULL && tg_read_tiers (&reader, tiers, error))
    {
      const TgTier *tier = tg_pick_tier (tiers, path, error);
      if (tier != NULL)
        labels = tg_tier_to_labels (tier, sample_rate, path, error);
    }
  g_array_unref (tiers);
  if (reader.tokens != NULL)
    g_array_unref (reader.tokens);
  g_free (text);
  return labels;
}

/* ------------------------------------------------------------------------------------
 * Frame targets
 * ------------------------------------------------------------------------------------ */

/* Binary search: the labels are sorted and do not overlap. */
gint
ph_labels_phone_at (const GArray *labels, guint64 sample)
{
  guint lo = 0, hi = labels->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const PhLabel *label = &g_array_index (labels, PhLabel, mid);

      if (sample < label->start)
        hi = mid;
      else if (sample >= label->end)
        lo = mid + 1;
      else
        return label->phone;
    }
  return -1;
}

/* Per frame, the label covering sample i*hop + hop/2, or -1; caller frees. */
gint *
ph_labels_to_frame_targets (const GArray *labels, guint hop, guint n_frames)
{
  g_return_val_if_fail (labels != NULL && hop > 0, NULL);
  gint *targets = g_new (gint, MAX (n_frames, 1));
  for (guint i = 0; i < n_frames; i++)
    targets[i] = -1;
  guint64 half = hop / 2;
  for (guint k = 0; k < labels->len; k++)
    {
      const PhLabel *label = &g_array_index (labels, PhLabel, k);
      /* First frame whose centre i*hop + hop/2 is >= start. */
      guint64 first = label->start <= half ? 0 : (label->start - half + hop - 1) / hop;
      for (guint64 i = first; i < n_frames && i * hop + half < label->end; i++)
        targets[i] = label->phone;
    }
  return targets;
}

