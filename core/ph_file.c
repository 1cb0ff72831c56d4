/* ph_file.c: bounded reads of regular files and all-or-nothing writes (ph_file.h). */
#include "ph_file.h"
#include "ph_error.h"

#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define PH_FILE_MAX_SYMLINKS 40 /* as the kernel's ELOOP limit */

/* What a file of mode `mode` is, for "... is a directory" messages. */
static const char *
describe_file_type (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

static void
set_io_error (GError **error, const char *verb, const char *what, const char *path,
              const char *reason)
{
  g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot %s %s %s: %s", verb, what, path,
               reason);
}

/* Opens `path` for reading without blocking (a FIFO's open would wait for a writer) and
 * checks that it is a regular file; the descriptor, or -1 + GError. */
static int
open_regular (const char *path, const char *what, GStatBuf *st, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      set_io_error (error, "read", what, path, g_strerror (errno));
      return -1;
    }
  if (fstat (fd, st) != 0)
    {
      set_io_error (error, "read", what, path, g_strerror (errno));
      close (fd);
      return -1;
    }
  if (!S_ISREG (st->st_mode))
    {
      char *reason = g_strdup_printf ("it is %s, not a regular file",
                                      describe_file_type (st->st_mode));
      set_io_error (error, "read", what, path, reason);
      g_free (reason);
      close (fd);
      return -1;
    }
  return fd;
}

/* Reads `fd` to its end or to `limit` bytes, into a buffer first sized for `expected`
 * bytes and grown as needed (a file may grow, /proc files say 0); the bytes (g_free)
 * with room for a NUL after them, their count in *count; NULL with errno set. */
static char *
read_up_to (int fd, gsize expected, gsize limit, gsize *count)
{
  gsize capacity = MIN (expected, limit) + 1, done = 0;
  char *buf = g_malloc (capacity + 1);
  for (;;)
    {
      if (done == capacity && capacity < limit)
        {
          capacity = MIN (capacity * 2, limit);
          buf = g_realloc (buf, capacity + 1);
        }
      if (done == capacity)
        break;
      gssize n = read (fd, buf + done, capacity - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_free (buf);
          errno = saved;
          return NULL;
        }
      if (n == 0)
        break;
      done += (gsize) n;
    }
  *count = done;
  return buf;
}

static void
set_too_large_error (GError **error, const char *what, const char *path, guint64 size,
                     gsize max_bytes)
{
  char *reason = g_strdup_printf ("it is larger than the %" G_GSIZE_FORMAT " bytes a %s "
                                  "may have (%" G_GUINT64_FORMAT " bytes)", max_bytes, what,
                                  size);
  set_io_error (error, "read", what, path, reason);
  g_free (reason);
}

/* Reads the regular file at `path` whole when it holds at most `max_bytes`; NUL-ended. */
char *
ph_file_read_bounded (const char *path, gsize max_bytes, const char *what, gsize *length,
                      GError **error)
{
  g_return_val_if_fail (path != NULL && what != NULL, NULL);
  GStatBuf st;
  int fd = open_regular (path, what, &st, error);
  if (fd < 0)
    return NULL;
  if ((guint64) st.st_size > max_bytes)
    {
      set_too_large_error (error, what, path, (guint64) st.st_size, max_bytes);
      close (fd);
      return NULL;
    }
  /* Up to one byte more than the bound, to notice a file that grew past it. */
  gsize n;
  char *data = read_up_to (fd, (gsize) st.st_size, max_bytes + 1, &n);
  int saved = errno;
  close (fd);
  if (data == NULL)
    {
      set_io_error (error, "read", what, path, g_strerror (saved));
      return NULL;
    }
  if (n > max_bytes)
    {
      set_too_large_error (error, what, path, (guint64) n, max_bytes);
      g_free (data);
      return NULL;
    }
  data[n] = '\0';
  if (length != NULL)
    *length = n;
  return data;
}

/* Maps the regular file at `path` read-only. */
GMappedFile *
ph_file_map_regular (const char *path, const char *what, GError **error)
{
  g_return_val_if_fail (path != NULL && what != NULL, NULL);
  GStatBuf st;
  int fd = open_regular (path, what, &st, error);
  if (fd < 0)
    return NULL;
  GError *local = NULL;
  GMappedFile *file = g_mapped_file_new_from_fd (fd, FALSE, &local);
  close (fd);
  if (file == NULL)
    {
      set_io_error (error, "read", what, path, local->message);
      g_error_free (local);
    }
  return file;
}

/* ---- writing ---- */

/* The path a write to `path` lands on: `path` with every symlink followed (relative
 * targets are relative to the link's folder); a missing final target is fine. */
static char *
resolve_symlinks (const char *path, const char *what, GError **error)
{
  char *current = g_strdup (path);
  for (int depth = 0; depth <= PH_FILE_MAX_SYMLINKS; depth++)
    {
      GStatBuf st;
      if (g_lstat (current, &st) != 0 || !S_ISLNK (st.st_mode))
        return current;
      GError *local = NULL;
      char *target = g_file_read_link (current, &local);
      if (target == NULL)
        {
          set_io_error (error, "write", what, path, local->message);
          g_error_free (local);
          g_free (current);
          return NULL;
        }
      char *next = target;
      if (!g_path_is_absolute (target))
        {
          char *dir = g_path_get_dirname (current);
          next = g_build_filename (dir, target, NULL);
          g_free (dir);
          g_free (target);
        }
      g_free (current);
      current = next;
    }
  set_io_error (error, "write", what, path, "too many levels of symbolic links");
  g_free (current);
  return NULL;
}

/* Writes all of `data` to `fd`, then flushes it to disk; FALSE with errno set. */
static gboolean
write_all_and_sync (int fd, const guint8 *data, gsize len)
{
  gsize done = 0;
  while (done < len)
    {
      gssize n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return FALSE;
        }
      done += (gsize) n;
    }
  return fsync (fd) == 0 || errno == EINVAL; /* EINVAL: a file system without fsync */
}

/* Writes `len` bytes to a new temporary file next to `target`, with `mode`; its path, or
 * NULL + GError (nothing left behind). */
static char *
write_temporary (const char *target, mode_t mode, gboolean keep_mode, const void *data,
                 gsize len, const char *what, const char *path, GError **error)
{
  char *dir = g_path_get_dirname (target);
  char *base = g_path_get_basename (target);
  char *name = g_strdup_printf (".%s.XXXXXX", base);
  char *tmp = g_build_filename (dir, name, NULL);
  g_free (dir);
  g_free (base);
  g_free (name);

  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, (int) mode);
  if (fd < 0)
    {
      set_io_error (error, "write", what, path, g_strerror (errno));
      g_free (tmp);
      return NULL;
    }
  gboolean ok = (!keep_mode || fchmod (fd, mode) == 0) && write_all_and_sync (fd, data, len);
  int saved = errno;
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    {
      set_io_error (error, "write", what, path, g_strerror (saved));
      g_unlink (tmp);
      g_clear_pointer (&tmp, g_free);
    }
  return tmp;
}

/* Replaces the contents of `path` with `len` bytes, all or nothing. */
gboolean
ph_file_write_atomic (const char *path, const void *data, gsize len, const char *what,
                      GError **error)
{
  g_return_val_if_fail (path != NULL && (data != NULL || len == 0) && what != NULL, FALSE);
  char *target = resolve_symlinks (path, what, error);
  if (target == NULL)
    return FALSE;

  GStatBuf st;
  gboolean exists = g_stat (target, &st) == 0;
  if (exists && !S_ISREG (st.st_mode))
    {
      char *reason = g_strdup_printf ("it is %s; only a regular file is replaced",
                                      describe_file_type (st.st_mode));
      set_io_error (error, "write", what, path, reason);
      g_free (reason);
      g_free (target);
      return FALSE;
    }
  mode_t mode = exists ? (st.st_mode & 07777) : 0666;
  char *tmp = write_temporary (target, mode, exists, data, len, what, path, error);
  gboolean ok = tmp != NULL;
  if (ok && g_rename (tmp, target) != 0)
    {
      set_io_error (error, "write", what, path, g_strerror (errno));
      g_unlink (tmp);
      ok = FALSE;
    }
  g_free (tmp);
  g_free (target);
  return ok;
}

gboolean
ph_file_check_writable (const char *path, GError **error)
{
  gchar *dir = g_path_get_dirname (path);
  const char *problem = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    problem = "it is a folder";
  else if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    problem = "its folder does not exist";
  else if (g_access (dir, W_OK | X_OK) != 0)
    problem = "its folder is not writable";
  else if (g_file_test (path, G_FILE_TEST_EXISTS) && g_access (path, W_OK) != 0)
    problem = "the file is not writable";
  g_free (dir);
  if (problem)
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "%s", problem);
  return problem == NULL;
}
