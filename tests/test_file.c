/* test_file.c: every reader takes only regular files of bounded size and never blocks
 * (a FIFO, a directory, a device, a huge file), and every writer is all or nothing and
 * never replaces a device, a FIFO, a directory or a symlink (core/ph_file.h). */
#include "phonemes.h"

#include <glib/gstdio.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static char *
make_fifo (const char *name)
{
  char *path = tmp_path (name);
  g_remove (path);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  return path;
}

/* A sparse regular file of `size` bytes (no disk space used). */
static char *
make_sparse_file (const char *name, goffset size)
{
  char *path = tmp_path (name);
  g_assert_true (g_file_set_contents (path, "PHLSTM", 6, NULL));
  g_assert_cmpint (truncate (path, size), ==, 0);
  return path;
}

typedef gboolean (*ReadFunc) (const char *path, GError **error);

static gboolean
read_model (const char *path, GError **error)
{
  PhModel *model = ph_model_load_file (path, error);
  if (model != NULL)
    ph_model_unref (model);
  return model != NULL;
}

static gboolean
read_phn (const char *path, GError **error)
{
  GArray *labels = ph_labels_read_phn (path, 0, error);
  if (labels != NULL)
    g_array_unref (labels);
  return labels != NULL;
}

static gboolean
read_textgrid (const char *path, GError **error)
{
  GArray *labels = ph_labels_read_textgrid (path, 16000, error);
  if (labels != NULL)
    g_array_unref (labels);
  return labels != NULL;
}

static gboolean
read_audio (const char *path, GError **error)
{
  PhAudio audio;
  gboolean ok = ph_audio_read (path, &audio, error);
  ph_audio_clear (&audio);
  return ok;
}

static const struct {
  const char *name;
  ReadFunc read;
} readers[] = {
  { "model", read_model },
  { "phn", read_phn },
  { "textgrid", read_textgrid },
  { "audio", read_audio },
};

/* `read` refuses `path` with an I/O error naming it and saying `expect`. */
static void
assert_read_refused (ReadFunc read, const char *path, const char *expect)
{
  GError *error = NULL;
  g_assert_false (read (path, &error));
  g_test_message ("%s", error ? error->message : "(read)");
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, expect));
  g_clear_error (&error);
}

/* In a subprocess, so that a reader that blocks on the FIFO fails by the timeout. */
static void
test_read_fifo (void)
{
  if (g_test_subprocess ())
    {
      char *fifo = make_fifo ("fifo");
      for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
        assert_read_refused (readers[i].read, fifo, "FIFO");
      char *text = ph_file_read_bounded (fifo, 100, "text file", NULL, NULL);
      g_assert_null (text);
      g_remove (fifo);
      g_free (fifo);
      return;
    }
  g_test_trap_subprocess (NULL, READ_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_read_directory (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    assert_read_refused (readers[i].read, tmp_dir, "is a directory");
}

/* /dev/null is a character device: refused before any read (/dev/zero would be read
 * without end). Only opened for reading, never written. */
static void
test_read_device (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    assert_read_refused (readers[i].read, "/dev/null", "character device");
}

/* A file larger than its reader's bound is refused from its size, before a byte is read
 * (a 129 MiB model used to be read whole before "bad magic"). */
static void
test_read_too_large (void)
{
  char *model = make_sparse_file ("huge.phm", (goffset) 129 << 20);
  assert_read_refused (read_model, model, "larger than");
  char *phn = make_sparse_file ("huge.PHN", (goffset) 65 << 20);
  assert_read_refused (read_phn, phn, "larger than");
  assert_read_refused (read_textgrid, phn, "larger than");

  GError *error = NULL;
  gsize length = 7;
  char *path = tmp_path ("small.txt");
  g_assert_true (g_file_set_contents (path, "0123456789", 10, NULL));
  g_assert_null (ph_file_read_bounded (path, 9, "text file", &length, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "text file"));
  g_clear_error (&error);
  char *text = ph_file_read_bounded (path, 10, "text file", &length, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "0123456789");
  g_assert_cmpuint (length, ==, 10);
  g_free (text);

  g_remove (model);
  g_remove (phn);
  g_remove (path);
  g_free (model);
  g_free (phn);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  tmp_dir = g_dir_make_tmp ("ph-test-file-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/file/read-fifo", test_read_fifo);
  g_test_add_func ("/file/read-directory", test_read_directory);
  g_test_add_func ("/file/read-device", test_read_device);
  g_test_add_func ("/file/read-too-large", test_read_too_large);
  int status = g_test_run ();

  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
