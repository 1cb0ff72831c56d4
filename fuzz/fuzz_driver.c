/* fuzz_driver.c: a plain driver for the libFuzzer entry points, for builds without
 * libFuzzer (gcc): runs every seed file, then mutations of them (bit flips, interesting
 * bytes and 32-bit values, truncation, insertion, duplication, splicing) for a bounded
 * time, deterministically for a given --seed. An input that crashes or trips a
 * sanitizer is written to fuzz-crash-TARGET.bin (or $PH_FUZZ_ARTIFACT_DIR) first.
 *
 * Usage: fuzz-TARGET [--seconds S] [--runs N] [--seed N] [--max-len BYTES] SEED...
 * (a SEED is a file or a folder of files; --runs 0 only replays the seeds). */
#include "fuzz.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SECONDS 10.0
#define DEFAULT_MAX_LEN 65536

typedef struct {
  double seconds;
  gint64 runs;           /* -1: until the time is up */
  guint32 seed;
  gsize max_len;
  GPtrArray *seeds;      /* GBytes */
} Options;

/* The input being run, for the crash artifact (read from a signal handler). */
static const guint8 *current_data;
static volatile gsize current_size;
static char artifact_path[4096];

/* Writes the current input to artifact_path; async-signal-safe. */
static void
save_current_input (void)
{
  int fd = open (artifact_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return;
  gsize done = 0;
  while (current_data != NULL && done < current_size)
    {
      ssize_t n = write (fd, current_data + done, current_size - done);
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  close (fd);
  static const char note[] = "fuzz: the crashing input was written to the artifact file\n";
  ssize_t ignored = write (STDERR_FILENO, note, sizeof note - 1);
  (void) ignored;
}

static void
on_fatal_signal (int sig)
{
  save_current_input ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* Provided by the sanitizer runtimes (ASan, UBSan with -fno-sanitize-recover). */
extern void __sanitizer_set_death_callback (void (*callback) (void)) __attribute__ ((weak));

static void
install_crash_handlers (const char *argv0)
{
  const char *dir = g_getenv ("PH_FUZZ_ARTIFACT_DIR");
  char *base = g_path_get_basename (argv0);
  g_snprintf (artifact_path, sizeof artifact_path, "%s/%s-crash.bin", dir ? dir : ".", base);
  g_free (base);
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback (save_current_input);
  signal (SIGSEGV, on_fatal_signal);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGBUS, on_fatal_signal);
  signal (SIGFPE, on_fatal_signal);
}

static void
run_one (const guint8 *data, gsize size)
{
  current_data = data;
  current_size = size;
  LLVMFuzzerTestOneInput (data, size);
  current_data = NULL;
}

/* ---- mutations ---- */

/* Inserts `n` bytes at `pos` (GLib 2.74 has no g_byte_array_insert). */
static void
insert_bytes (GByteArray *b, guint pos, const guint8 *bytes, guint n)
{
  guint old_len = b->len;
  g_byte_array_set_size (b, old_len + n);
  memmove (b->data + pos + n, b->data + pos, old_len - pos);
  memcpy (b->data + pos, bytes, n);
}

static const guint32 interesting_u32[] = {
  0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
  0x80000000u, 0xFFFFFFFFu, 16000, 44100, 65536, 1000000,
};

static void
mutate_once (GByteArray *b, GRand *rand, gsize max_len, const GPtrArray *seeds)
{
  guint pos = b->len ? (guint) g_rand_int_range (rand, 0, (gint32) b->len) : 0;
  switch (g_rand_int_range (rand, 0, 8))
    {
    case 0: /* flip a bit */
      if (b->len)
        b->data[pos] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
      break;
    case 1: /* an interesting byte */
      if (b->len)
        b->data[pos] = (guint8) interesting_u32[g_rand_int_range (rand, 0, 6)];
      break;
    case 2: /* an interesting 32-bit value, little-endian */
      if (b->len >= 4)
        {
          guint32 v = GUINT32_TO_LE (interesting_u32[g_rand_int_range (
              rand, 0, G_N_ELEMENTS (interesting_u32))]);
          memcpy (b->data + MIN (pos, b->len - 4), &v, 4);
        }
      break;
    case 3: /* truncate */
      g_byte_array_set_size (b, pos);
      break;
    case 4: /* insert random bytes */
      {
        guint8 bytes[8];
        guint n = (guint) g_rand_int_range (rand, 1, 9);
        for (guint i = 0; i < n; i++)
          bytes[i] = (guint8) g_rand_int (rand);
        if (b->len + n <= max_len)
          insert_bytes (b, pos, bytes, n);
      }
      break;
    case 5: /* duplicate a chunk */
      if (b->len)
        {
          guint n = (guint) g_rand_int_range (rand, 1, 64); /* not inside MIN: twice */
          n = MIN (n, b->len - pos);
          guint8 *chunk = g_memdup2 (b->data + pos, n);
          if (b->len + n <= max_len)
            insert_bytes (b, (guint) g_rand_int_range (rand, 0, (gint32) b->len + 1), chunk, n);
          g_free (chunk);
        }
      break;
    case 6: /* erase a chunk */
      if (b->len)
        {
          guint n = (guint) g_rand_int_range (rand, 1, 32);
          g_byte_array_remove_range (b, pos, MIN (n, b->len - pos));
        }
      break;
    default: /* splice the tail of another seed */
      {
        GBytes *other = g_ptr_array_index (seeds, g_rand_int_range (rand, 0,
                                                                    (gint32) seeds->len));
        gsize other_len;
        const guint8 *o = g_bytes_get_data (other, &other_len);
        if (other_len > 0)
          {
            gsize from = (gsize) g_rand_int_range (rand, 0, (gint32) other_len);
            g_byte_array_set_size (b, pos);
            g_byte_array_append (b, o + from, (guint) MIN (other_len - from, max_len - pos));
          }
      }
      break;
    }
}

/* ---- seeds and options ---- */

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
add_seed_file (Options *o, const char *path)
{
  GError *error = NULL;
  char *data;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("fuzz: %s\n", error->message);
      exit (2);
    }
  o->seeds = o->seeds ? o->seeds : g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (o->seeds, g_bytes_new_take (data, MIN (len, o->max_len)));
}

static void
add_seed (Options *o, const char *path)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      add_seed_file (o, path);
      return;
    }
  GDir *dir = g_dir_open (path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  if (dir != NULL)
    g_dir_close (dir);
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    if (g_file_test (g_ptr_array_index (names, i), G_FILE_TEST_IS_REGULAR))
      add_seed_file (o, g_ptr_array_index (names, i));
  g_ptr_array_unref (names);
}

static void
parse_options (Options *o, int argc, char **argv)
{
  gint64 runs = -1, seed = 1, max_len = DEFAULT_MAX_LEN;
  double seconds = DEFAULT_SECONDS;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Mutate for this long (default 10)",
      "S" },
    { "runs", 0, 0, G_OPTION_ARG_INT64, &runs, "Stop after N mutated inputs (0: replay)",
      "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "N" },
    { "max-len", 0, 0, G_OPTION_ARG_INT64, &max_len, "Longest input (default 65536)", "B" },
    { NULL },
  };
  GOptionContext *context = g_option_context_new ("SEED_FILE_OR_DIR...");
  GError *error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2 || max_len < 16
      || !(seconds >= 0))
    {
      g_printerr ("fuzz: %s (see --help)\n", error ? error->message : "bad arguments");
      exit (2);
    }
  g_option_context_free (context);
  o->seconds = seconds;
  o->runs = runs;
  o->seed = (guint32) seed;
  o->max_len = (gsize) max_len;
  for (int i = 1; i < argc; i++)
    add_seed (o, argv[i]);
  if (o->seeds == NULL || o->seeds->len == 0)
    {
      g_printerr ("fuzz: no seed files\n");
      exit (2);
    }
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  parse_options (&o, argc, argv);
  install_crash_handlers (argv[0]);

  for (guint i = 0; i < o.seeds->len; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (o.seeds, i), &len);
      run_one (data, len);
    }

  GRand *rand = g_rand_new_with_seed (o.seed);
  GByteArray *input = g_byte_array_new ();
  gint64 deadline = g_get_monotonic_time () + (gint64) (o.seconds * G_USEC_PER_SEC);
  gint64 done = 0;
  while ((o.runs < 0 || done < o.runs) && (o.runs >= 0 || g_get_monotonic_time () < deadline))
    {
      gsize len;
      const guint8 *seed = g_bytes_get_data (
          g_ptr_array_index (o.seeds, g_rand_int_range (rand, 0, (gint32) o.seeds->len)), &len);
      g_byte_array_set_size (input, 0);
      g_byte_array_append (input, seed, (guint) len);
      for (gint k = g_rand_int_range (rand, 1, 5); k > 0; k--)
        mutate_once (input, rand, o.max_len, o.seeds);
      run_one (input->data, input->len);
      done++;
    }
  g_print ("%s: %u seeds, %" G_GINT64_FORMAT " mutated inputs, no crash\n", argv[0],
           o.seeds->len, done);
  g_byte_array_unref (input);
  g_rand_free (rand);
  g_ptr_array_unref (o.seeds);
  return 0;
}
