/* ph_corpus.c: corpus directories: utterances made of an audio file and the labels
 * beside it. */
#include "ph_corpus.h"

#include <string.h>

#include "ph_error.h"

/* ------------------------------------------------------------------------------------
 * Corpus directories
 * ------------------------------------------------------------------------------------ */

#define CORPUS_MAX_DEPTH 64 /* guards against symlink loops */

/* The 24-speaker TIMIT core test set (Halberstadt 1998), upper case. */
static const char *const timit_core_test_speakers[] = {
  "MDAB0", "MWBT0", "FELC0", "MTAS1", "MWEW0", "FPAS0", "MJMP0", "MLNT0",
  "FPKT0", "MLLL0", "MTLS0", "FJLM0", "MBPM0", "MKLT0", "FNLP0", "MCMJ0",
  "MJDH0", "FMGD0", "MGRT0", "MNJM0", "FDHC0", "MJLN0", "MPAM0", "FMLD0",
};

static gboolean
is_core_test_speaker (const char *speaker)
{
  for (guint i = 0; i < G_N_ELEMENTS (timit_core_test_speakers); i++)
    if (g_ascii_strcasecmp (speaker, timit_core_test_speakers[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
utterance_free (gpointer data)
{
  PhUtterance *u = data;
  g_free (u->audio_path);
  g_free (u->label_path);
  g_free (u->speaker);
  g_free (u);
}

static gint
utterance_compare (gconstpointer a, gconstpointer b)
{
  const PhUtterance *ua = *(const PhUtterance *const *) a;
  const PhUtterance *ub = *(const PhUtterance *const *) b;
  return strcmp (ua->audio_path, ub->audio_path);
}

static gboolean
has_extension (const char *name, const char *ext)
{
  const char *dot = strrchr (name, '.');
  return dot != NULL && dot != name && g_ascii_strcasecmp (dot + 1, ext) == 0;
}

/* Name of the label file beside `audio_name` (.PHN preferred over .TextGrid, any case),
 * or NULL. `by_lower` maps lower-cased entry names to real ones. */
static const char *
find_label_name (GHashTable *by_lower, const char *audio_name)
{
  const char *dot = strrchr (audio_name, '.');
  char *stem = g_ascii_strdown (audio_name, dot - audio_name);
  const char *exts[] = { ".phn", ".textgrid" };
  const char *found = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (exts) && found == NULL; i++)
    {
      char *key = g_strconcat (stem, exts[i], NULL);
      found = g_hash_table_lookup (by_lower, key);
      g_free (key);
    }
  g_free (stem);
  return found;
}

static gboolean
utterance_wanted (const char *audio_name, const char *speaker, guint flags)
{
  if ((flags & PH_CORPUS_TIMIT_SKIP_SA) && g_ascii_strncasecmp (audio_name, "SA", 2) == 0)
    return FALSE;
  if ((flags & PH_CORPUS_TIMIT_CORE_TEST) && !is_core_test_speaker (speaker))
    return FALSE;
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted entry names of `dir`, hidden ones left out. */
static GPtrArray *
list_directory (const char *dir, GError **error)
{
  GError *local = NULL;
  GDir *d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot list directory %s: %s", dir,
                   local->message);
      g_error_free (local);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  return names;
}

static gboolean
corpus_walk (const char *dir, guint flags, guint depth, GPtrArray *out, GError **error)
{
  if (depth > CORPUS_MAX_DEPTH)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_IO,
                   "%s: directories nested more than %u deep (a symlink loop?)", dir,
                   CORPUS_MAX_DEPTH);
      return FALSE;
    }
  GPtrArray *names = list_directory (dir, error);
  if (names == NULL)
    return FALSE;
  GHashTable *by_lower = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = names->len; i-- > 0;) /* backwards: the first name wins a clash */
    g_hash_table_insert (by_lower, g_ascii_strdown (names->pdata[i], -1), names->pdata[i]);

  char *speaker = g_path_get_basename (dir);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        ok = corpus_walk (path, flags, depth + 1, out, error);
      else if ((has_extension (name, "wav") || has_extension (name, "sph"))
               && utterance_wanted (name, speaker, flags))
        {
          const char *label = find_label_name (by_lower, name);
          if (label != NULL)
            {
              PhUtterance *u = g_new0 (PhUtterance, 1);
              u->audio_path = g_strdup (path);
              u->label_path = g_build_filename (dir, label, NULL);
              u->speaker = g_strdup (speaker);
              g_ptr_array_add (out, u);
            }
        }
      g_free (path);
    }
  g_free (speaker);
  g_hash_table_unref (by_lower);
  g_ptr_array_unref (names);
  return ok;
}

/* Lists labelled audio files under `dir`, sorted by path. */
GPtrArray *
ph_corpus_list (const char *dir, guint flags, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func (utterance_free);
  if (!corpus_walk (dir, flags, 0, out, error))
    {
      g_ptr_array_unref (out);
      return NULL;
    }
  g_ptr_array_sort (out, utterance_compare);
  return out;
}
