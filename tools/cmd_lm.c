/* cmd_lm.c: `phonemes lm`: estimates the decoder's phone bigram (ph_phone_lm.h) from
 * text through the lexicon and stores it in a copy of a model (model file version 2). */
#include <stdio.h>

#include "commands.h"
#include "corpus_text.h"
#include "ph_lexicon.h"
#include "tool_common.h"

/* Adds the sentence's pronunciation (closures written as TIMIT does) to the counts;
 * FALSE when a word has no pronunciation (the sentence is skipped). */
static gboolean
add_sentence (PhPhoneLmBuilder *builder, PhLexicon *lexicon, const char *sentence)
{
  g_autoptr (GPtrArray) words = ph_lexicon_pronounce (lexicon, sentence, NULL);
  g_autoptr (GArray) phones = g_array_new (FALSE, FALSE, sizeof (gint));

  if (words == NULL)
    return FALSE;
  for (guint w = 0; w < words->len; w++) {
    const PhWord *word = g_ptr_array_index (words, w);
    g_array_append_vals (phones, word->phones->data, word->phones->len);
  }
  g_autoptr (GArray) expanded = ph_phone_lm_expand_closures ((const gint *) phones->data,
                                                             phones->len);
  ph_phone_lm_builder_add (builder, (const gint *) expanded->data, expanded->len);
  return TRUE;
}

static gboolean
parse_class_set (gint classes, PhPhoneLmClassSet *set)
{
  if (classes != PH_PHONE_LM_CLASSES_40 && classes != PH_PHONE_LM_CLASSES_61)
    return FALSE;
  *set = (PhPhoneLmClassSet) classes;
  return TRUE;
}

/* The LM of the sentences of `text`, or NULL + GError. */
static PhPhoneLm *
estimate_lm (const CorpusText *text, const char *lexicon_path, PhPhoneLmClassSet set,
             GError **error)
{
  g_autoptr (PhLexicon) lexicon = ph_lexicon_new (error);
  guint skipped = 0;

  if (!lexicon || (lexicon_path && !ph_lexicon_load_file (lexicon, lexicon_path, error)))
    return NULL;
  PhPhoneLmBuilder *builder = ph_phone_lm_builder_new (set);
  for (guint i = 0; i < text->sentences->len; i++)
    skipped += !add_sentence (builder, lexicon, g_ptr_array_index (text->sentences, i));
  fprintf (stderr, "phonemes lm: %" G_GUINT64_FORMAT " sentences (%u skipped: a word "
           "without pronunciation), %" G_GUINT64_FORMAT " phone segments, %d classes\n",
           ph_phone_lm_builder_sentences (builder), skipped,
           ph_phone_lm_builder_segments (builder), (gint) set);
  PhPhoneLm *lm = NULL;
  if (ph_phone_lm_builder_sentences (builder) == 0)
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "no sentence could be pronounced");
  else
    lm = ph_phone_lm_builder_estimate (builder);
  ph_phone_lm_builder_free (builder);
  return lm;
}

int
ph_cmd_lm (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *output = NULL, *lexicon_path = NULL;
  g_auto (GStrv) text_files = NULL;
  gint classes = PH_PHONE_LM_CLASSES_40;
  gboolean remove = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Model to add the LM to (default: the built-in model)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Where to write the model with its LM", "FILE" },
    { "text", 't', 0, G_OPTION_ARG_FILENAME_ARRAY, &text_files,
      "Plain-text file, one sentence per line; repeatable (default: the training split of "
      "the synthesis texts, as `corpus synth --text-split train`)", "FILE" },
    { "lexicon", 0, 0, G_OPTION_ARG_FILENAME, &lexicon_path,
      "Extra pronunciations (CMUdict-style lines) taking precedence", "FILE" },
    { "classes", 0, 0, G_OPTION_ARG_INT, &classes,
      "40 (the 39-class folding with closures apart; default) or 61 (every phone)", "N" },
    { "remove", 0, 0, G_OPTION_ARG_NONE, &remove,
      "Write the model without an LM (version 1) instead", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  PhPhoneLmClassSet set;

  tool_parse_options ("lm", "",
                      "estimate the phone-LM decoder's bigram from text (through the "
                      "lexicon) and store it in a copy of a model", entries, &argc, &argv);
  if (!output || argc != 1) {
    fprintf (stderr, "phonemes lm: --output FILE is required (see --help)\n");
    return 2;
  }
  if (!parse_class_set (classes, &set)) {
    fprintf (stderr, "phonemes lm: --classes must be 40 or 61, not %d\n", classes);
    return 2;
  }
  PhModel *model = tool_load_model (model_path);
  if (!model)
    return 1;
  PhPhoneLm *lm = NULL;
  if (!remove) {
    CorpusText *text = corpus_text_load ((const char *const *) text_files,
                                         text_files ? CORPUS_TEXT_ALL : CORPUS_TEXT_TRAIN,
                                         &error);
    if (text)
      lm = estimate_lm (text, lexicon_path, set, &error);
    corpus_text_free (text);
    if (!lm) {
      ph_model_unref (model);
      return tool_fail ("lm", error);
    }
  }
  ph_model_set_lm (model, lm);
  ph_phone_lm_free (lm);
  gboolean saved = ph_model_save_file (model, output, &error);
  ph_model_unref (model);
  return saved ? 0 : tool_fail ("lm", error);
}
