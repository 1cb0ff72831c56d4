/* phonemes.c: the `phonemes` command line, git-style subcommands. */
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
#ifdef HAVE_CMD_LABEL
  { "label", ph_cmd_label, "label audio with phones as the element does (.PHN, TextGrid, JSON, subtitles...)" },
#endif
#ifdef HAVE_CMD_FEATURES
  { "features", ph_cmd_features, "print the feature frames of an audio file" },
#endif
#ifdef HAVE_CMD_CORPUS
  { "corpus", ph_cmd_corpus, "make a corpus: synthesize speech or import recordings" },
#endif
#ifdef HAVE_CMD_ALIGN
  { "align", ph_cmd_align, "force-align a transcript to audio" },
#endif
#ifdef HAVE_CMD_TRAIN
  { "train", ph_cmd_train, "train a model with truncated BPTT" },
#endif
#ifdef HAVE_CMD_EVAL
  { "eval", ph_cmd_eval, "score a model on a labelled corpus" },
#endif
#ifdef HAVE_CMD_LM
  { "lm", ph_cmd_lm, "estimate the phone-LM decoder's bigram from text, into a model" },
#endif
#ifdef HAVE_CMD_ROUND_WEIGHTS
  { "round-weights", ph_cmd_round_weights, "round a model's recurrent weights to bfloat16" },
#endif
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

int
main (int argc, char **argv)
{
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
