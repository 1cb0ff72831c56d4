/* label_formats.h: the phone segments of `phonemes label` written as TIMIT .PHN, Praat
 * TextGrid, JSON lines, Audacity labels, SubRip or WebVTT subtitles. The same formats,
 * with the same numbers, as pipelines/phonemes-labels.py writes from the element's
 * "phoneme" bus messages. */
#pragma once

#include <stdio.h>
#include <glib.h>

typedef enum {
  LABEL_FORMAT_PHN,       /* start_sample end_sample phone (the file's rate) */
  LABEL_FORMAT_TEXTGRID,  /* Praat TextGrid (long text), one interval tier "phones" */
  LABEL_FORMAT_JSONL,     /* one JSON object per segment */
  LABEL_FORMAT_AUDACITY,  /* start_s<TAB>end_s<TAB>phone: Audacity's label track */
  LABEL_FORMAT_SRT,       /* SubRip: one cue per spoken phone (or word group) */
  LABEL_FORMAT_VTT,       /* WebVTT: the same cues */
} LabelFormat;

/* Subtitle cues: one per spoken phone with its confidence, or one per word-sized group
 * (the phones between silences, at most LABEL_MAX_GROUP_PHONES). */
typedef enum {
  LABEL_GROUP_PHONE,
  LABEL_GROUP_WORD,
} LabelGroup;

#define LABEL_MAX_GROUP_PHONES 6

/* One finished segment, timed as the element times it. */
typedef struct {
  guint64 start_ns, end_ns;          /* the message's timestamp and timestamp + duration */
  guint64 start_sample, end_sample;  /* the same at the file's rate, rounded down */
  gint phone;                        /* TIMIT-61 index */
  float confidence;
  const char *viseme;                /* its viseme (JSON lines; the label with visemes) */
} LabelSegment;

typedef struct _LabelWriter LabelWriter;

/* The names `--format` takes, "phn, textgrid, ..." (static). */
const char *label_format_names (void);

/* Parses a --format or --group value; FALSE for an unknown name. */
gboolean label_format_from_name (const char *name, LabelFormat *format);
gboolean label_group_from_name (const char *name, LabelGroup *group);

/* A writer of `format` to `out` (borrowed, stays open). With `visemes`, segments are
 * labelled with their viseme instead of their phone (JSON lines keep both). */
LabelWriter *label_writer_new (LabelFormat format, LabelGroup group, gboolean visemes,
                               FILE *out);

/* Writes (or, for TextGrid and word groups, keeps) one segment. Segments come in order. */
void label_writer_add (LabelWriter *writer, const LabelSegment *segment);

/* With `complete`, writes what is pending (a TextGrid, the last word group); frees the
 * writer. */
void label_writer_finish (LabelWriter *writer, gboolean complete);
