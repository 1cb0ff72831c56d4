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

/* A regular file whose size says 0 (Linux /proc) is read to its end, not to its size. */
static void
test_read_past_stated_size (void)
{
  const char *path = "/proc/self/status";
  GError *error = NULL;
  gsize length = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("no /proc/self/status");
      return;
    }
  char *text = ph_file_read_bounded (path, 1 << 20, "status file", &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 100);
  g_assert_cmpuint (strlen (text), ==, length);
  g_assert_nonnull (strstr (text, "Name:"));
  g_free (text);
}

/* ---- writes ---- */

typedef gboolean (*WriteFunc) (const char *path, GError **error);

static gboolean
write_model (const char *path, GError **error)
{
  PhFeatureConfig features;
  ph_feature_config_init (&features, 16000);
  PhLstmShape shape = { ph_feature_config_dim (&features), 4, 1, PH_NUM_PHONES, 0 };
  PhModel *model = ph_model_new (&features, &shape, NULL);
  ph_model_init_random (model, 7);
  gboolean ok = ph_model_save_file (model, path, error);
  ph_model_unref (model);
  return ok;
}

static gboolean
write_wav (const char *path, GError **error)
{
  float samples[4000] = { 0 };
  return ph_audio_write_wav (path, samples, G_N_ELEMENTS (samples), 16000, error);
}

static gboolean
write_phn (const char *path, GError **error)
{
  GArray *labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  for (guint i = 0; i < 200; i++)
    ph_labels_append (labels, 160 * i, 160 * (i + 1), (gint) (i % PH_NUM_PHONES));
  gboolean ok = ph_labels_write_phn (path, labels, error);
  g_array_unref (labels);
  return ok;
}

static const struct {
  const char *name;
  WriteFunc write;
} writers[] = {
  { "model", write_model },
  { "wav", write_wav },
  { "phn", write_phn },
};

static char *
file_contents (const char *path)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* The temporary files are gone: only `expected` entries remain in tmp_dir. */
static void
assert_dir_entries (guint expected)
{
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  guint n = 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_test_message ("entry %s", name);
      n++;
    }
  g_dir_close (d);
  g_assert_cmpuint (n, ==, expected);
}

/* A symlink is written through: its target gets the new bytes, the link stays a link
 * (it used to be replaced by a regular file). */
static void
test_write_through_symlink (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      char *target = tmp_path ("target");
      char *link = tmp_path ("link");
      GError *error = NULL;
      g_assert_true (g_file_set_contents (target, "old", 3, NULL));
      g_assert_cmpint (symlink ("target", link), ==, 0);

      g_assert_true (writers[i].write (link, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
      char *via_link = file_contents (link);
      g_assert_cmpstr (via_link, !=, "old");
      g_free (via_link);
      GStatBuf st;
      g_assert_cmpint (g_stat (target, &st), ==, 0);
      g_assert_cmpint (st.st_size, >, 3);
      assert_dir_entries (2);
      g_remove (link);
      g_remove (target);
      g_free (link);
      g_free (target);
    }
}

/* A FIFO or a directory at the target is refused and left as it was (as root, /dev/null
 * used to be replaced by a regular file). Never tried on a real device node. */
static void
test_write_refuses_non_regular (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      char *fifo = make_fifo ("out.fifo");
      char *dir = tmp_path ("out.dir");
      char *link = tmp_path ("link-to-fifo");
      g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
      g_assert_cmpint (symlink ("out.fifo", link), ==, 0);
      const char *targets[] = { fifo, dir, link };
      const char *expect[] = { "FIFO", "directory", "FIFO" };
      for (guint k = 0; k < G_N_ELEMENTS (targets); k++)
        {
          GError *error = NULL;
          g_assert_false (writers[i].write (targets[k], &error));
          g_test_message ("%s: %s", writers[i].name, error->message);
          g_assert_error (error, PH_ERROR, PH_ERROR_IO);
          g_assert_nonnull (strstr (error->message, targets[k]));
          g_assert_nonnull (strstr (error->message, expect[k]));
          g_clear_error (&error);
        }
      GStatBuf st;
      g_assert_cmpint (g_lstat (fifo, &st), ==, 0);
      g_assert_true (S_ISFIFO (st.st_mode));
      g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
      g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
      assert_dir_entries (3);
      g_remove (link);
      g_remove (fifo);
      g_rmdir (dir);
      g_free (link);
      g_free (fifo);
      g_free (dir);
    }
}

/* A write that fails half-way (here: the file size limit, as a full disk would) leaves
 * the old file whole and no temporary file behind (align -o used to leave a partial
 * .PHN). In a subprocess, since the limit is per process. */
static void
test_write_error_keeps_old_file (void)
{
  if (g_test_subprocess ())
    {
      struct rlimit limit = { 1000, 1000 };
      signal (SIGXFSZ, SIG_IGN);
      for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
        {
          char *path = tmp_path ("old");
          GError *error = NULL;
          g_assert_true (g_file_set_contents (path, "old contents\n", -1, NULL));
          g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
          g_assert_false (writers[i].write (path, &error));
          g_test_message ("%s: %s", writers[i].name, error->message);
          g_assert_error (error, PH_ERROR, PH_ERROR_IO);
          g_assert_nonnull (strstr (error->message, path));
          g_clear_error (&error);
          char *text = file_contents (path);
          g_assert_cmpstr (text, ==, "old contents\n");
          g_free (text);
          assert_dir_entries (1);
          g_remove (path);
          g_free (path);
        }
      return;
    }
  g_test_trap_subprocess (NULL, READ_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A new file gets the usual permissions (0666 less the umask), a replaced one keeps
 * its own. */
static void
test_write_modes (void)
{
  char *path = tmp_path ("mode.phm");
  mode_t mask = umask (022);
  GStatBuf st;
  g_assert_true (write_model (path, NULL));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_true (write_model (path, NULL));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  umask (mask);
  g_remove (path);
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
  g_test_add_func ("/file/read-past-stated-size", test_read_past_stated_size);
  g_test_add_func ("/file/write-through-symlink", test_write_through_symlink);
  g_test_add_func ("/file/write-refuses-non-regular", test_write_refuses_non_regular);
  g_test_add_func ("/file/write-error-keeps-old-file", test_write_error_keeps_old_file);
  g_test_add_func ("/file/write-modes", test_write_modes);
  int status = g_test_run ();

  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
