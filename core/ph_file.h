/* ph_file.h: the one way the library and its tools read and write files.
 *
 * Reading: only regular files, opened without blocking (a FIFO or a device never
 * stalls a reader), their size checked against a bound before a byte is read, so no
 * file can make a reader allocate or read without bound.
 *
 * Writing: all or nothing. The bytes go to a temporary file next to the target, are
 * flushed to disk and checked, and only then renamed over the target, so a write error
 * (a full disk) leaves the old file as it was. A symlink is written through: its final
 * target is replaced and the link stays. An existing target that is not a regular file
 * (a device such as /dev/null, a FIFO, a directory) is refused, never replaced. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds for the readers: a model file (4 layers of 1024 cells is 122 MB), and a text
 * file (labels, TextGrid, lexicon, prompts, training state). */
#define PH_FILE_MAX_MODEL_BYTES ((gsize) 128 << 20)
#define PH_FILE_MAX_TEXT_BYTES ((gsize) 64 << 20)

/* Reads the regular file at `path` whole when it holds at most `max_bytes`; returns a
 * newly allocated buffer (g_free) with a NUL after the last byte, its length in
 * *length (may be NULL). NULL + PH_ERROR_IO naming `what` (e.g. "model file") and the
 * path for anything else: missing, not a regular file, too large, unreadable. */
char *ph_file_read_bounded (const char *path, gsize max_bytes, const char *what,
                            gsize *length, GError **error);

/* Maps the regular file at `path` read-only (g_mapped_file_unref); NULL + PH_ERROR_IO
 * naming `what` and the path when it is missing, not a regular file or unmappable. */
GMappedFile *ph_file_map_regular (const char *path, const char *what, GError **error);

/* Replaces the contents of `path` with `len` bytes, all or nothing (see above); FALSE +
 * PH_ERROR_IO naming `what` and the path, with the old file untouched, otherwise. */
gboolean ph_file_write_atomic (const char *path, const void *data, gsize len,
                               const char *what, GError **error);

/* TRUE when a file can be written at `path` (its folder exists and is writable, it is
 * not a folder, an existing file is writable); else FALSE + GError saying which. */
gboolean ph_file_check_writable (const char *path, GError **error);

G_END_DECLS
