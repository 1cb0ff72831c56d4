/* ph_labels.h: phone labels in samples: TIMIT .PHN and Praat TextGrid files, and the
 * per-frame targets of training. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One labelled span in samples: [start, end). */
typedef struct {
  guint64 start;
  guint64 end;
  gint phone; /* TIMIT-61 index */
} PhLabel;

/* Reads a TIMIT .PHN file ("start end phone" per line). Unknown symbols, reversed or
 * overlapping spans, and spans past `n_samples` (when nonzero) are errors naming the
 * file and line. Returns a GArray of PhLabel. */
GArray *ph_labels_read_phn (const char *path, guint64 n_samples, GError **error);

/* Same, from text already in memory (`name` is used in messages). */
GArray *ph_labels_parse_phn (const char *text, const char *name, guint64 n_samples,
                             GError **error);

/* Reads a Praat TextGrid (long or short text format); takes the tier named "phones"
 * (or the only interval tier with ARPAbet symbols), maps ARPAbet to TIMIT, empty
 * intervals to h#. Times are converted to samples at `sample_rate`. */
GArray *ph_labels_read_textgrid (const char *path, guint sample_rate, GError **error);

/* Same, from a file image of `len` bytes in memory (`name` is used in messages). */
GArray *ph_labels_parse_textgrid (const char *data, gsize len, const char *name,
                                  guint sample_rate, GError **error);

/* Appends the span [start, end) labelled `phone` to `labels` (a GArray of PhLabel),
 * extending the last label instead when it has the same phone; empty spans are ignored. */
void ph_labels_append (GArray *labels, guint64 start, guint64 end, gint phone);

/* Writes .PHN lines, all or nothing (ph_file_write_atomic). */
gboolean ph_labels_write_phn (const char *path, const GArray *labels, GError **error);

/* The phone (TIMIT index) of the label covering `sample`, or -1 where none does.
 * `labels` must be sorted and not overlap (as read and as ph_labels_append makes them):
 * a binary search. */
gint ph_labels_phone_at (const GArray *labels, guint64 sample);

/* Frame targets: for each of `n_frames` frames of `hop` samples, the label covering the
 * frame's centre sample (i*hop + hop/2), or -1 where no label covers it. */
gint *ph_labels_to_frame_targets (const GArray *labels, guint hop, guint n_frames);

G_END_DECLS
