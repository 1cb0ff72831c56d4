/* label_formats.c: phone segments as .PHN, TextGrid, JSON lines, Audacity labels, SRT and
 * WebVTT. pipelines/phonemes-labels.py writes the same from bus messages: keep the two
 * in step. */
#include "label_formats.h"

#include <string.h>
#include "phonemes.h"

struct _LabelWriter {
  LabelFormat format;
  LabelGroup group;
  gboolean visemes;
  FILE *out;
  guint cues;
  GArray *kept;      /* LabelSegment: all of them (TextGrid) or the word group (subtitles) */
};

static const char *const format_names[] = {
  [LABEL_FORMAT_PHN] = "phn", [LABEL_FORMAT_TEXTGRID] = "textgrid",
  [LABEL_FORMAT_JSONL] = "jsonl", [LABEL_FORMAT_AUDACITY] = "audacity",
  [LABEL_FORMAT_SRT] = "srt", [LABEL_FORMAT_VTT] = "vtt",
};

const char *
label_format_names (void)
{
  return "phn, textgrid, jsonl, audacity, srt, vtt";
}

gboolean
label_format_from_name (const char *name, LabelFormat *format)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (g_strcmp0 (name, format_names[i]) == 0) {
      *format = (LabelFormat) i;
      return TRUE;
    }
  return FALSE;
}

gboolean
label_group_from_name (const char *name, LabelGroup *group)
{
  if (g_strcmp0 (name, "phone") == 0)
    *group = LABEL_GROUP_PHONE;
  else if (g_strcmp0 (name, "word") == 0)
    *group = LABEL_GROUP_WORD;
  else
    return FALSE;
  return TRUE;
}

LabelWriter *
label_writer_new (LabelFormat format, LabelGroup group, gboolean visemes, FILE *out)
{
  LabelWriter *w = g_new0 (LabelWriter, 1);

  w->format = format;
  w->group = group;
  w->visemes = visemes;
  w->out = out;
  w->kept = g_array_new (FALSE, FALSE, sizeof (LabelSegment));
  if (format == LABEL_FORMAT_VTT)
    fprintf (out, "WEBVTT\n\n");
  return w;
}

static double
seconds (guint64 ns)
{
  return ns / 1e9;
}

/* The 39-class name, "" for q (which folds to nothing), as the element posts it. */
static const char *
phone39 (gint phone)
{
  gint folded = ph_phone_fold39 (phone);

  return folded >= 0 ? ph_phone39_name (folded) : "";
}

/* What a segment is labelled with: its phone, or its viseme. */
static const char *
label_of (const LabelWriter *w, const LabelSegment *s)
{
  return w->visemes && s->viseme ? s->viseme : ph_phone_name (s->phone);
}

static gboolean
is_silence (gint phone)
{
  const char *name = ph_phone_name (phone);

  return !strcmp (name, "h#") || !strcmp (name, "pau") || !strcmp (name, "epi");
}

static void
write_jsonl (LabelWriter *w, const LabelSegment *s)
{
  fprintf (w->out, "{\"start\": %.6f, \"end\": %.6f, \"phone\": \"%s\", \"phone39\": \"%s\", "
           "\"confidence\": %.4f", seconds (s->start_ns), seconds (s->end_ns),
           ph_phone_name (s->phone), phone39 (s->phone), s->confidence);
  if (s->viseme)
    fprintf (w->out, ", \"viseme\": \"%s\"", s->viseme);
  fprintf (w->out, "}\n");
}

/* hh:mm:ss,mmm (SRT) or hh:mm:ss.mmm (WebVTT), rounded to the millisecond. */
static void
write_cue_time (LabelWriter *w, guint64 ns)
{
  guint64 ms = (ns + 500000) / 1000000;

  fprintf (w->out, "%02u:%02u:%02u%c%03u", (guint) (ms / 3600000), (guint) (ms / 60000 % 60),
           (guint) (ms / 1000 % 60), w->format == LABEL_FORMAT_SRT ? ',' : '.',
           (guint) (ms % 1000));
}

static void
write_cue (LabelWriter *w, guint64 start_ns, guint64 end_ns, const char *text)
{
  w->cues++;
  if (w->format == LABEL_FORMAT_SRT)
    fprintf (w->out, "%u\n", w->cues);
  write_cue_time (w, start_ns);
  fprintf (w->out, " --> ");
  write_cue_time (w, end_ns);
  fprintf (w->out, "\n%s\n\n", text);
}

/* The pending word group as one cue. */
static void
flush_group (LabelWriter *w)
{
  g_autoptr (GString) text = g_string_new (NULL);
  const LabelSegment *first, *last;

  if (w->kept->len == 0)
    return;
  first = &g_array_index (w->kept, LabelSegment, 0);
  last = &g_array_index (w->kept, LabelSegment, w->kept->len - 1);
  for (guint i = 0; i < w->kept->len; i++)
    g_string_append_printf (text, "%s%s", i ? " " : "",
                            label_of (w, &g_array_index (w->kept, LabelSegment, i)));
  write_cue (w, first->start_ns, last->end_ns, text->str);
  g_array_set_size (w->kept, 0);
}

static void
add_subtitle (LabelWriter *w, const LabelSegment *s)
{
  if (is_silence (s->phone)) {
    flush_group (w);
  } else if (w->group == LABEL_GROUP_PHONE) {
    g_autofree char *text = g_strdup_printf ("%s (%d%%)", label_of (w, s),
                                             (int) (100 * s->confidence + 0.5));
    write_cue (w, s->start_ns, s->end_ns, text);
  } else {
    g_array_append_val (w->kept, *s);
    if (w->kept->len >= LABEL_MAX_GROUP_PHONES)
      flush_group (w);
  }
}

void
label_writer_add (LabelWriter *w, const LabelSegment *s)
{
  switch (w->format) {
    case LABEL_FORMAT_PHN:
      fprintf (w->out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n", s->start_sample,
               s->end_sample, label_of (w, s));
      break;
    case LABEL_FORMAT_AUDACITY:
      fprintf (w->out, "%.6f\t%.6f\t%s\n", seconds (s->start_ns), seconds (s->end_ns),
               label_of (w, s));
      break;
    case LABEL_FORMAT_JSONL:
      write_jsonl (w, s);
      break;
    case LABEL_FORMAT_SRT:
    case LABEL_FORMAT_VTT:
      add_subtitle (w, s);
      break;
    case LABEL_FORMAT_TEXTGRID:
      g_array_append_val (w->kept, *s);
      break;
  }
}

/* Praat's long text format: one interval tier "phones", TIMIT symbols (silence h#), or
 * "visemes". */
static void
write_textgrid (LabelWriter *w)
{
  guint n = w->kept->len;
  double xmax = n ? seconds (g_array_index (w->kept, LabelSegment, n - 1).end_ns) : 0;

  fprintf (w->out, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n"
           "xmin = 0\nxmax = %.9g\ntiers? <exists>\nsize = 1\nitem []:\n"
           "    item [1]:\n        class = \"IntervalTier\"\n        name = \"%s\"\n"
           "        xmin = 0\n        xmax = %.9g\n        intervals: size = %u\n",
           xmax, w->visemes ? "visemes" : "phones", xmax, n);
  for (guint i = 0; i < n; i++) {
    const LabelSegment *s = &g_array_index (w->kept, LabelSegment, i);
    fprintf (w->out, "        intervals [%u]:\n            xmin = %.9g\n            xmax = %.9g\n"
             "            text = \"%s\"\n", i + 1, seconds (s->start_ns), seconds (s->end_ns),
             label_of (w, s));
  }
}

void
label_writer_finish (LabelWriter *w, gboolean complete)
{
  if (complete && w->format == LABEL_FORMAT_TEXTGRID)
    write_textgrid (w);
  else if (complete && (w->format == LABEL_FORMAT_SRT || w->format == LABEL_FORMAT_VTT))
    flush_group (w);
  g_array_free (w->kept, TRUE);
  g_free (w);
}
