/* phonemes.c: the `phonemes` command line, git-style subcommands. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "label", ph_cmd_label, "label audio with phones as the element does (.PHN, TextGrid, JSON, subtitles...)" },
  { "features", ph_cmd_features, "print the feature frames of an audio file" },
  { "corpus", ph_cmd_corpus, "make a corpus: synthesize speech or import recordings" },
  { "align", ph_cmd_align, "force-align a transcript to audio" },
  { "train", ph_cmd_train, "train a model with truncated BPTT" },
  { "eval", ph_cmd_eval, "score a model on a labelled corpus" },
  { "lm", ph_cmd_lm, "estimate the phone-LM decoder's bigram from text, into a model" },
  { "round-weights", ph_cmd_round_weights, "round a model's recurrent weights to bfloat16" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: phonemes COMMAND [OPTIONS] ...\n       phonemes --version\n\n"
           "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-14s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'phonemes COMMAND --help' for the options of a command.\n");
}

/* Takes the character set from the environment, so that text arguments (--text
 * 'naïve café') reach GOption as the UTF-8 they are; a plain C/POSIX locale (ASCII)
 * reads them as UTF-8 too. Numbers stay in the C format ("0.5") in every locale, since
 * programs read the output. */
static void
init_locale (void)
{
  const char *charset;

  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  if (!g_get_charset (&charset) && (g_str_equal (charset, "ANSI_X3.4-1968")
                                    || g_str_equal (charset, "ASCII")))
    setlocale (LC_CTYPE, "C.UTF-8");
}

int
main (int argc, char **argv)
{
  init_locale ();
  if (argc < 2) {
    print_usage (stderr);
    return 2;
  }
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h") || !strcmp (argv[1], "help")) {
    print_usage (stdout);
    return 0;
  }
  if (!strcmp (argv[1], "--version") || !strcmp (argv[1], "-V")) {
    printf ("phonemes %s\n", PH_VERSION);
    return 0;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (!strcmp (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "phonemes: unknown command '%s'\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
