/* ph_align.c: forced alignment by Viterbi over a left-to-right chain of phones.
 *
 * The text becomes a list of units (one per phone, plus the optional silences and
 * closures). A unit of m = min_frames frames is a chain of m states: the first m-1 can
 * only advance, the last may stay. A unit's first state is entered from the last state
 * of the unit before it, or of an earlier one when every unit in between is optional.
 * Scores are kept for one frame at a time; backpointers are one byte per frame and
 * state: 0 = stayed, 1 = came from the previous state of the same unit, d >= 1 in a
 * unit's first state = came from the last state of the unit d places back.
 *
 * Reading a text piece by piece (start_words, partial_end): the first unit of each word
 * that may start the path is reachable at frame 0 and entered from the leading h# at
 * any frame (d = its index); the path may end in a word's last unit or in any optional
 * silence after a word. */
#include "ph_align.h"
#include "ph_labels.h"
#include "ph_error.h"

#include <math.h>
#include <string.h>

#define PROB_FLOOR 1e-10
#define MAX_SKIP 255                 /* backpointers are bytes */
#define MAX_TRELLIS_BYTES (G_GUINT64_CONSTANT (1) << 31)

typedef struct {
  guint64 mask;       /* phones whose posteriors are summed to score this unit */
  gint phone;         /* the label it gets */
  gint word;          /* word index, -1 for the optional silences */
  gboolean optional;
  gboolean relabel;   /* may be renamed to the best member of its class */
  gboolean unlabelled; /* "align only": the text marked it phone* */
  gboolean may_start; /* a path may begin here (start_words) */
  guint first_state;
  guint n_states;
  guint class_id;     /* index into the distinct score classes */
} AlignUnit;

typedef struct {
  GArray *units;      /* AlignUnit */
  GArray *classes;    /* guint64 masks, distinct */
  guint n_states;
  gboolean lead_silence; /* unit 0 is the optional leading h# */
  gboolean partial_end;  /* a path may end after any word */
} AlignGraph;

/* ---- words ---- */

PhWord *
ph_word_new (const char *text, const gint *phones, guint n_phones)
{
  PhWord *word = g_new0 (PhWord, 1);

  word->text = g_strdup (text);
  word->phones = g_array_sized_new (FALSE, FALSE, sizeof (gint), n_phones);
  if (n_phones > 0)
    g_array_append_vals (word->phones, phones, n_phones);
  return word;
}

void
ph_word_free (PhWord *word)
{
  if (word == NULL)
    return;
  g_free (word->text);
  g_array_unref (word->phones);
  if (word->unlabelled)
    g_array_unref (word->unlabelled);
  g_free (word);
}

/* TIMIT name first (so "ax-h" and "h#" work), then ARPAbet with stress digits. */
static gint
phone_from_symbol (const char *symbol)
{
  g_autofree char *lower = g_ascii_strdown (symbol, -1);
  gint phone = ph_phone_index (lower);

  return phone >= 0 ? phone : ph_phone_from_arpabet (symbol);
}

/* A symbol of a phone transcription: the phone, and whether it ends in "*" (align
 * only); -1 for an unknown symbol. */
static gint
phone_from_transcription_symbol (const char *symbol, gboolean *unlabelled)
{
  gsize len = strlen (symbol);
  g_autofree char *name = NULL;

  *unlabelled = len > 1 && symbol[len - 1] == '*';
  if (!*unlabelled)
    return phone_from_symbol (symbol);
  name = g_strndup (symbol, len - 1);
  return phone_from_symbol (name);
}

/* A word of the parsed phones, with its "align only" marks when it has any. */
static PhWord *
word_from_parsed (GArray *phones, GArray *unlabelled)
{
  PhWord *word = ph_word_new (NULL, (gint *) phones->data, phones->len);

  for (guint i = 0; i < unlabelled->len; i++)
    if (g_array_index (unlabelled, gboolean, i))
      {
        word->unlabelled = g_array_ref (unlabelled);
        break;
      }
  return word;
}

/* Parses "hh ax l ow / w er l d" into words. */
GPtrArray *
ph_words_parse_phones (const char *text, GError **error)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_word_free);
  g_auto (GStrv) chunks = g_regex_split_simple ("[/|]", text ? text : "", 0, 0);

  for (guint w = 0; chunks[w] != NULL; w++)
    {
      g_auto (GStrv) symbols = g_strsplit_set (chunks[w], " \t\r\n", -1);
      g_autoptr (GArray) phones = g_array_new (FALSE, FALSE, sizeof (gint));
      g_autoptr (GArray) unlabelled = g_array_new (FALSE, FALSE, sizeof (gboolean));

      for (guint i = 0; symbols[i] != NULL; i++)
        {
          gint phone;
          gboolean align_only;
          if (symbols[i][0] == '\0')
            continue;
          phone = phone_from_transcription_symbol (symbols[i], &align_only);
          if (phone < 0)
            {
              g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                           "unknown phone '%s' in word %u of the phone transcription "
                           "(expected TIMIT or ARPAbet symbols, each may end in '*', words "
                           "separated by '/')", symbols[i], words->len + 1);
              return NULL;
            }
          g_array_append_val (phones, phone);
          g_array_append_val (unlabelled, align_only);
        }
      if (phones->len > 0)
        g_ptr_array_add (words, word_from_parsed (phones, unlabelled));
    }
  return g_steal_pointer (&words);
}

/* ---- config and results ---- */

void
ph_align_config_init (PhAlignConfig *config)
{
  *config = (PhAlignConfig) {
    .min_frames = PH_ALIGN_DEFAULT_MIN_FRAMES,
    .posteriors_are_log = FALSE,
    .optional_silence = TRUE,
    .optional_closures = TRUE,
    .score_by_class = TRUE,
    .relabel_variants = TRUE,
    .prior_scale = 0.0f,
    .prior = NULL,
    .start_words = 0,
    .partial_end = FALSE,
  };
}

void
ph_alignment_free (PhAlignment *alignment)
{
  if (alignment == NULL)
    return;
  g_array_unref (alignment->labels);
  g_array_unref (alignment->confidence);
  g_array_unref (alignment->word_index);
  g_array_unref (alignment->unlabelled);
  g_free (alignment);
}

/* ---- phone classes ---- */

#define BIT(phone) (G_GUINT64_CONSTANT (1) << (phone))

static guint64
closure_mask (void)
{
  guint64 mask = 0;

  for (gint p = 0; p < PH_NUM_PHONES; p++)
    if (ph_phone_is_closure (p))
      mask |= BIT (p);
  return mask;
}

static guint64
silence_mask (void)
{
  return BIT (ph_phone_index ("h#")) | BIT (ph_phone_index ("pau")) |
         BIT (ph_phone_index ("epi"));
}

/* The phones that score `phone`: its fold group (closures: all closures; silences: all
 * silences; t and d also dx), or just itself. */
static guint64
phone_class_mask (gint phone, gboolean by_class)
{
  guint64 mask = 0;
  gint fold = ph_phone_fold39 (phone);

  if (!by_class || fold < 0)
    return BIT (phone);
  if (ph_phone_is_closure (phone))
    return closure_mask ();
  if (ph_phone_is_silence (phone))
    return silence_mask ();
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    if (ph_phone_fold39 (p) == fold)
      mask |= BIT (p);
  /* TIMIT writes a flapped t or d (water, ladder) as dx */
  if (phone == ph_phone_index ("t") || phone == ph_phone_index ("d"))
    mask |= BIT (ph_phone_index ("dx"));
  return mask;
}

/* ---- the state graph ---- */

static guint
class_id_for (GArray *classes, guint64 mask)
{
  for (guint i = 0; i < classes->len; i++)
    if (g_array_index (classes, guint64, i) == mask)
      return i;
  g_array_append_val (classes, mask);
  return classes->len - 1;
}

static AlignUnit *
add_unit (AlignGraph *graph, const PhAlignConfig *config, gint phone, gint word,
          gboolean optional, guint64 mask)
{
  AlignUnit unit = {
    .mask = mask,
    .phone = phone,
    .word = word,
    .optional = optional,
    .relabel = config->relabel_variants && word >= 0 && !ph_phone_is_silence (phone),
    .first_state = graph->n_states,
    .n_states = config->min_frames,
    .class_id = class_id_for (graph->classes, mask),
  };

  graph->n_states += unit.n_states;
  g_array_append_val (graph->units, unit);
  return &g_array_index (graph->units, AlignUnit, graph->units->len - 1);
}

static void
add_silence (AlignGraph *graph, const PhAlignConfig *config, const char *name, gboolean optional)
{
  add_unit (graph, config, ph_phone_index (name), -1, optional, silence_mask ());
}

static void
add_word (AlignGraph *graph, const PhAlignConfig *config, const PhWord *word, gint index)
{
  for (guint i = 0; i < word->phones->len; i++)
    {
      gint phone = g_array_index (word->phones, gint, i);
      gint closure = ph_phone_closure_before (phone);
      gint previous = i > 0 ? g_array_index (word->phones, gint, i - 1) : -1;

      if (config->optional_closures && closure >= 0 && !ph_phone_is_closure (previous))
        add_unit (graph, config, closure, index, TRUE,
                  phone_class_mask (closure, config->score_by_class));
      AlignUnit *unit = add_unit (graph, config, phone, index, FALSE,
                                  phone_class_mask (phone, config->score_by_class));
      unit->unlabelled = word->unlabelled && g_array_index (word->unlabelled, gboolean, i);
    }
}

static gboolean
words_valid (const GPtrArray *words, GError **error)
{
  for (guint w = 0; w < words->len; w++)
    {
      const PhWord *word = g_ptr_array_index ((GPtrArray *) words, w);
      for (guint i = 0; word->phones && i < word->phones->len; i++)
        {
          gint phone = g_array_index (word->phones, gint, i);
          if (phone < 0 || phone >= PH_NUM_PHONES)
            {
              g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                           "word %u (%s): phone %u is %d, expected a TIMIT index 0..%d",
                           w + 1, word->text ? word->text : "?", i + 1, phone, PH_NUM_PHONES - 1);
              return FALSE;
            }
        }
      if (word->unlabelled && (!word->phones || word->unlabelled->len != word->phones->len))
        {
          g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                       "word %u (%s): %u unlabelled marks for %u phones (expected one per "
                       "phone)", w + 1, word->text ? word->text : "?", word->unlabelled->len,
                       word->phones ? word->phones->len : 0);
          return FALSE;
        }
    }
  return TRUE;
}

/* [h#?] word [pau?] word ... [h#?]; a lone mandatory h# for an empty text. */
static void
graph_build (AlignGraph *graph, const GPtrArray *words, const PhAlignConfig *config)
{
  gboolean any = FALSE;

  graph->units = g_array_new (FALSE, FALSE, sizeof (AlignUnit));
  graph->classes = g_array_new (FALSE, FALSE, sizeof (guint64));
  graph->n_states = 0;
  graph->lead_silence = config->optional_silence;
  graph->partial_end = config->partial_end;
  if (config->optional_silence)
    add_silence (graph, config, "h#", TRUE);
  for (guint w = 0; w < words->len; w++)
    {
      const PhWord *word = g_ptr_array_index ((GPtrArray *) words, w);
      guint first_unit;
      if (word->phones == NULL || word->phones->len == 0)
        continue;
      if (any && config->optional_silence)
        add_silence (graph, config, "pau", TRUE);
      first_unit = graph->units->len;
      add_word (graph, config, word, (gint) w);
      if (any && w < config->start_words && first_unit <= MAX_SKIP)
        g_array_index (graph->units, AlignUnit, first_unit).may_start = TRUE;
      any = TRUE;
    }
  if (!any)
    {
      g_array_set_size (graph->units, 0);
      graph->n_states = 0;
      add_silence (graph, config, "h#", FALSE);
    }
  else if (config->optional_silence)
    {
      add_silence (graph, config, "h#", TRUE);
    }
}

static void
graph_clear (AlignGraph *graph)
{
  g_array_unref (graph->units);
  g_array_unref (graph->classes);
}

static inline const AlignUnit *
unit_at (const AlignGraph *graph, guint u)
{
  return &g_array_index (graph->units, AlignUnit, u);
}

/* TRUE when a path may end in unit `u`: the last unit, or with partial_end a word's
 * last unit or an optional silence after a word. */
static gboolean
may_end (const AlignGraph *graph, guint u)
{
  const AlignUnit *unit = unit_at (graph, u);

  if (u + 1 == graph->units->len)
    return TRUE;
  if (!graph->partial_end)
    return FALSE;
  if (unit->word < 0)
    return u > 0 || !graph->lead_silence;
  return unit_at (graph, u + 1)->word != unit->word;
}

/* Units a path starting in unit `from` goes through at least (to the end, or with
 * partial_end to its first word's end), and the frames they need. */
static guint
mandatory_units_from (const AlignGraph *graph, guint from, guint *frames)
{
  guint units = 0;

  *frames = 0;
  for (guint u = from; u < graph->units->len; u++)
    {
      const AlignUnit *unit = unit_at (graph, u);
      if (!unit->optional)
        {
          units++;
          *frames += unit->n_states;
        }
      if (graph->partial_end && unit->word >= 0 && may_end (graph, u))
        break;
    }
  return units;
}

/* The fewest units any path goes through, and the frames they need. */
static guint
mandatory_units (const AlignGraph *graph, guint *frames)
{
  guint units = mandatory_units_from (graph, 0, frames);

  for (guint u = 1; u < graph->units->len; u++)
    {
      guint f, n;
      if (!unit_at (graph, u)->may_start)
        continue;
      n = mandatory_units_from (graph, u, &f);
      if (f < *frames)
        {
          *frames = f;
          units = n;
        }
    }
  return units;
}

/* ---- scores ---- */

/* Posterior probability mass of `mask` in one frame; NaN counts as 0. */
static double
class_probability (const float *frame, guint64 mask, gboolean is_log)
{
  double sum = 0;

  for (gint p = 0; p < PH_NUM_PHONES; p++)
    {
      double v;
      if (!(mask & BIT (p)))
        continue;
      v = is_log ? exp (frame[p]) : frame[p];
      if (v > 0 && isfinite (v))
        sum += v;
    }
  return sum;
}

static double
log_floored (double p)
{
  return log (MAX (p, PROB_FLOOR));
}

/* Per class: prior_scale * log prior(class), 0 for a uniform prior. */
static double *
class_log_priors (const AlignGraph *graph, const PhAlignConfig *config)
{
  double *out = g_new0 (double, graph->classes->len);

  if (config->prior == NULL || config->prior_scale == 0)
    return out;
  for (guint c = 0; c < graph->classes->len; c++)
    out[c] = config->prior_scale *
             log_floored (class_probability (config->prior,
                                             g_array_index (graph->classes, guint64, c), FALSE));
  return out;
}

static void
frame_emissions (const AlignGraph *graph, const PhAlignConfig *config, const float *frame,
                 const double *log_priors, double *out)
{
  for (guint c = 0; c < graph->classes->len; c++)
    {
      guint64 mask = g_array_index (graph->classes, guint64, c);
      out[c] = log_floored (class_probability (frame, mask, config->posteriors_are_log)) -
               log_priors[c];
    }
}

/* ---- Viterbi ---- */

typedef struct {
  const AlignGraph *graph;
  guint n_frames;
  guint8 *backpointers; /* [n_frames][n_states] */
  double *prev;
  double *cur;
  double *entry;        /* per unit: best score entering it at this frame */
  guint *entry_skip;    /* per unit: how many units back that came from */
} Trellis;

/* Frame 0: the units from `from` up to and including the first mandatory one. */
static void
trellis_start_at (Trellis *tr, const double *emit, guint from)
{
  const AlignGraph *graph = tr->graph;
  gboolean reachable = TRUE;

  for (guint u = from; u < graph->units->len && reachable; u++)
    {
      const AlignUnit *unit = unit_at (graph, u);
      tr->prev[unit->first_state] = emit[unit->class_id];
      reachable = unit->optional;
    }
}

static void
trellis_start (Trellis *tr, const double *emit)
{
  const AlignGraph *graph = tr->graph;

  for (guint s = 0; s < graph->n_states; s++)
    tr->prev[s] = -INFINITY;
  trellis_start_at (tr, emit, 0);
  for (guint u = 1; u < graph->units->len; u++)
    if (unit_at (graph, u)->may_start)
      trellis_start_at (tr, emit, u);
}

/* A start unit `u` entered from the leading h#, when that is better. */
static void
trellis_enter_from_lead (Trellis *tr, guint u)
{
  const AlignUnit *lead = unit_at (tr->graph, 0);
  double from = tr->prev[lead->first_state + lead->n_states - 1];

  if (from > tr->entry[u])
    {
      tr->entry[u] = from;
      tr->entry_skip[u] = u;
    }
}

/* Best way into each unit's first state from the frame before. */
static void
trellis_entries (Trellis *tr)
{
  const AlignGraph *graph = tr->graph;

  for (guint u = 0; u < graph->units->len; u++)
    {
      const AlignUnit *before;
      tr->entry[u] = -INFINITY;
      tr->entry_skip[u] = 1;
      if (u == 0)
        continue;
      before = unit_at (graph, u - 1);
      tr->entry[u] = tr->prev[before->first_state + before->n_states - 1];
      if (before->optional && tr->entry_skip[u - 1] < MAX_SKIP &&
          tr->entry[u - 1] > tr->entry[u])
        {
          tr->entry[u] = tr->entry[u - 1];
          tr->entry_skip[u] = tr->entry_skip[u - 1] + 1;
        }
      if (unit_at (graph, u)->may_start && graph->lead_silence)
        trellis_enter_from_lead (tr, u);
    }
}

static void
trellis_step_unit (Trellis *tr, guint u, double emission, guint8 *bp)
{
  const AlignUnit *unit = unit_at (tr->graph, u);
  guint s0 = unit->first_state, last = s0 + unit->n_states - 1;
  double from = unit->n_states == 1 ? tr->entry[u] : tr->prev[last - 1];
  guint8 from_code = unit->n_states == 1 ? (guint8) tr->entry_skip[u] : 1;

  if (unit->n_states > 1)
    {
      tr->cur[s0] = tr->entry[u] + emission;
      bp[s0] = (guint8) tr->entry_skip[u];
      for (guint s = s0 + 1; s < last; s++)
        {
          tr->cur[s] = tr->prev[s - 1] + emission;
          bp[s] = 1;
        }
    }
  if (tr->prev[last] >= from)
    {
      tr->cur[last] = tr->prev[last] + emission;
      bp[last] = 0;
    }
  else
    {
      tr->cur[last] = from + emission;
      bp[last] = from_code;
    }
}

static void
trellis_step (Trellis *tr, const double *emit, guint t)
{
  guint8 *bp = tr->backpointers + (gsize) t * tr->graph->n_states;
  double *swap;

  trellis_entries (tr);
  for (guint u = 0; u < tr->graph->units->len; u++)
    trellis_step_unit (tr, u, emit[unit_at (tr->graph, u)->class_id], bp);
  swap = tr->prev;
  tr->prev = tr->cur;
  tr->cur = swap;
}

/* The last state of the best unit that may end the path: the last mandatory unit or
 * an optional one after it; with partial_end, any that may_end. */
static guint
trellis_best_end (const Trellis *tr, double *score)
{
  const AlignGraph *graph = tr->graph;
  gboolean in_tail = TRUE;
  guint best = 0;

  *score = -INFINITY;
  for (guint u = graph->units->len; u-- > 0;)
    {
      const AlignUnit *unit = unit_at (graph, u);
      guint last = unit->first_state + unit->n_states - 1;
      if ((in_tail || may_end (graph, u)) && tr->prev[last] > *score)
        {
          *score = tr->prev[last];
          best = last;
        }
      in_tail = in_tail && unit->optional;
      if (!in_tail && !graph->partial_end)
        break;
    }
  return best;
}

/* Unit index of every frame, following the backpointers from the best end. */
static guint *
trellis_backtrack (const Trellis *tr, guint end_state)
{
  const AlignGraph *graph = tr->graph;
  g_autofree guint *unit_of_state = g_new (guint, graph->n_states);
  guint *path = g_new (guint, tr->n_frames);
  guint s = end_state;

  for (guint u = 0; u < graph->units->len; u++)
    for (guint k = 0; k < unit_at (graph, u)->n_states; k++)
      unit_of_state[unit_at (graph, u)->first_state + k] = u;
  for (guint t = tr->n_frames; t-- > 0;)
    {
      guint u = unit_of_state[s];
      guint8 code = tr->backpointers[(gsize) t * graph->n_states + s];
      path[t] = u;
      if (t == 0 || code == 0)
        continue;
      if (s == unit_at (graph, u)->first_state)
        {
          const AlignUnit *from = unit_at (graph, u - code);
          s = from->first_state + from->n_states - 1;
        }
      else
        {
          s = s - 1;
        }
    }
  return path;
}

/* ---- labels from the path ---- */

/* The member of the unit's class with the most posterior mass over [start, end). */
static gint
best_variant (const AlignUnit *unit, const float *posteriors, guint start, guint end,
              gboolean is_log)
{
  gint best = unit->phone;
  double best_mass = -1;

  for (gint p = -1; p < PH_NUM_PHONES; p++)
    {
      gint phone = p < 0 ? unit->phone : p; /* the written phone first: it wins ties */
      double mass = 0;
      if (!(unit->mask & BIT (phone)))
        continue;
      for (guint t = start; t < end; t++)
        mass += class_probability (posteriors + (gsize) t * PH_NUM_PHONES, BIT (phone), is_log);
      if (mass > best_mass)
        {
          best_mass = mass;
          best = phone;
        }
    }
  return best;
}

static void
append_label (PhAlignment *result, const AlignUnit *unit, const float *posteriors,
              guint start, guint end, guint hop, const PhAlignConfig *config)
{
  PhLabel label = { (guint64) start * hop, (guint64) end * hop, unit->phone };
  double mass = 0;
  float confidence;

  if (unit->relabel)
    label.phone = best_variant (unit, posteriors, start, end, config->posteriors_are_log);
  for (guint t = start; t < end; t++)
    mass += class_probability (posteriors + (gsize) t * PH_NUM_PHONES, unit->mask,
                               config->posteriors_are_log);
  confidence = (float) (mass / (end - start));
  g_array_append_val (result->labels, label);
  g_array_append_val (result->confidence, confidence);
  g_array_append_val (result->word_index, unit->word);
  g_array_append_val (result->unlabelled, unit->unlabelled);
}

static float
mean_word_confidence (const PhAlignment *result)
{
  double sum = 0, sum_all = 0;
  guint n = 0;

  for (guint i = 0; i < result->labels->len; i++)
    {
      float c = g_array_index (result->confidence, float, i);
      sum_all += c;
      if (g_array_index (result->word_index, gint, i) >= 0)
        {
          sum += c;
          n++;
        }
    }
  if (n == 0)
    return result->labels->len ? (float) (sum_all / result->labels->len) : 0.0f;
  return (float) (sum / n);
}

/* A path that ends in the pause after a word (partial_end) ends the audio: the
 * silence there is named h#, as at the end of any alignment. */
static void
silence_at_end_is_h (PhAlignment *result)
{
  PhLabel *last = &g_array_index (result->labels, PhLabel, result->labels->len - 1);

  if (last->phone == ph_phone_index ("pau"))
    last->phone = ph_phone_index ("h#");
}

/* Sets first_word and last_word from the labels' word indices. */
static void
words_aligned (PhAlignment *result)
{
  result->first_word = result->last_word = -1;
  for (guint i = 0; i < result->word_index->len; i++)
    {
      gint w = g_array_index (result->word_index, gint, i);
      if (w < 0)
        continue;
      if (result->first_word < 0)
        result->first_word = w;
      result->last_word = w;
    }
}

static PhAlignment *
alignment_from_path (const AlignGraph *graph, const guint *path, guint n_frames,
                     const float *posteriors, guint hop, const PhAlignConfig *config)
{
  PhAlignment *result = g_new0 (PhAlignment, 1);
  guint start = 0;

  result->labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  result->confidence = g_array_new (FALSE, FALSE, sizeof (float));
  result->word_index = g_array_new (FALSE, FALSE, sizeof (gint));
  result->unlabelled = g_array_new (FALSE, FALSE, sizeof (gboolean));
  for (guint t = 1; t <= n_frames; t++)
    {
      if (t < n_frames && path[t] == path[start])
        continue;
      append_label (result, unit_at (graph, path[start]), posteriors, start, t, hop, config);
      start = t;
    }
  result->mean_confidence = mean_word_confidence (result);
  words_aligned (result);
  if (graph->partial_end)
    silence_at_end_is_h (result);
  return result;
}

/* ---- entry point ---- */

static gboolean
config_valid (const PhAlignConfig *config, guint hop, GError **error)
{
  if (config->min_frames < 1 || config->min_frames > 100)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "alignment min_frames is %u, expected 1..100", config->min_frames);
      return FALSE;
    }
  if (!(config->prior_scale >= 0 && config->prior_scale <= 10))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "alignment prior_scale is %g, expected 0..10", config->prior_scale);
      return FALSE;
    }
  if (hop == 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "alignment hop is 0, expected >= 1");
      return FALSE;
    }
  return TRUE;
}

static gboolean
graph_fits (const AlignGraph *graph, guint n_frames, GError **error)
{
  guint needed, phones = mandatory_units (graph, &needed);

  if (n_frames < needed)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "the audio is too short for the text: %u frames, but its %u phones need "
                   "at least %u (%u frames each)", n_frames, phones, needed,
                   needed / MAX (phones, 1));
      return FALSE;
    }
  if ((guint64) n_frames * graph->n_states > MAX_TRELLIS_BYTES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "too long to align in one piece: %u frames x %u states; split the audio",
                   n_frames, graph->n_states);
      return FALSE;
    }
  return TRUE;
}

/* Viterbi alignment of `words` to the posteriors; see ph_align.h. */
PhAlignment *
ph_align (const float *posteriors, guint n_frames, const GPtrArray *words,
          const PhAlignConfig *config, guint hop, GError **error)
{
  AlignGraph graph;
  Trellis tr = { 0 };
  PhAlignment *result = NULL;
  g_autofree double *log_priors = NULL;
  g_autofree double *emit = NULL;
  g_autofree guint *path = NULL;
  double score;
  guint end;

  g_return_val_if_fail (words != NULL && config != NULL, NULL);
  if (!config_valid (config, hop, error) || !words_valid (words, error))
    return NULL;
  if (n_frames == 0 || posteriors == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "nothing to align: the audio has no frames");
      return NULL;
    }
  graph_build (&graph, words, config);
  if (!graph_fits (&graph, n_frames, error))
    {
      graph_clear (&graph);
      return NULL;
    }
  log_priors = class_log_priors (&graph, config);
  emit = g_new (double, graph.classes->len);
  tr = (Trellis) {
    .graph = &graph,
    .n_frames = n_frames,
    .backpointers = g_malloc0 ((gsize) n_frames * graph.n_states),
    .prev = g_new (double, graph.n_states),
    .cur = g_new (double, graph.n_states),
    .entry = g_new (double, graph.units->len),
    .entry_skip = g_new (guint, graph.units->len),
  };
  frame_emissions (&graph, config, posteriors, log_priors, emit);
  trellis_start (&tr, emit);
  for (guint t = 1; t < n_frames; t++)
    {
      frame_emissions (&graph, config, posteriors + (gsize) t * PH_NUM_PHONES, log_priors, emit);
      trellis_step (&tr, emit, t);
    }
  end = trellis_best_end (&tr, &score);
  path = trellis_backtrack (&tr, end);
  result = alignment_from_path (&graph, path, n_frames, posteriors, hop, config);
  result->log_score = score / n_frames;
  g_free (tr.backpointers);
  g_free (tr.prev);
  g_free (tr.cur);
  g_free (tr.entry);
  g_free (tr.entry_skip);
  graph_clear (&graph);
  return result;
}

/* ---- boundary comparison ---- */

/* Indices of the labels that count: not silence, not q. */
static GArray *
speech_labels (const GArray *labels)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < labels->len; i++)
    {
      gint phone = g_array_index (labels, PhLabel, i).phone;
      if (ph_phone_fold39 (phone) >= 0 && !ph_phone_is_silence (phone))
        g_array_append_val (out, i);
    }
  return out;
}

static gint
label_fold (const GArray *labels, const GArray *picked, guint i)
{
  return ph_phone_fold39 (g_array_index (labels, PhLabel, g_array_index (picked, guint, i)).phone);
}

static void
add_boundary (PhBoundaryStats *stats, guint64 reference, guint64 aligned, guint64 tolerance,
              double *sum)
{
  guint64 error = reference > aligned ? reference - aligned : aligned - reference;

  stats->n_boundaries++;
  stats->n_within += error <= tolerance;
  sum[0] += (double) error;
  sum[1] += (double) aligned - (double) reference;
}

/* Edit-distance match of the speech phones, then boundary errors of matched pairs. */
void
ph_align_compare_boundaries (const GArray *reference, const GArray *aligned,
                             guint64 tolerance, PhBoundaryStats *stats)
{
  g_autoptr (GArray) ref = speech_labels (reference);
  g_autoptr (GArray) hyp = speech_labels (aligned);
  guint n = ref->len, m = hyp->len;
  g_autofree guint *cost = g_new (guint, (gsize) (n + 1) * (m + 1));
  double sum[2] = { 0, 0 };

#define COST(i, j) cost[(gsize) (i) * (m + 1) + (j)]
  memset (stats, 0, sizeof *stats);
  stats->n_reference = n;
  for (guint i = 0; i <= n; i++)
    for (guint j = 0; j <= m; j++)
      {
        if (i == 0 || j == 0)
          {
            COST (i, j) = i + j;
            continue;
          }
        COST (i, j) = MIN (MIN (COST (i - 1, j), COST (i, j - 1)) + 1,
                           COST (i - 1, j - 1) +
                           (label_fold (reference, ref, i - 1)
                            != label_fold (aligned, hyp, j - 1)));
      }
  for (guint i = n, j = m; i > 0 && j > 0;)
    {
      gboolean same = label_fold (reference, ref, i - 1) == label_fold (aligned, hyp, j - 1);
      if (COST (i, j) == COST (i - 1, j - 1) + !same)
        {
          if (same)
            {
              const PhLabel *a = &g_array_index (reference, PhLabel,
                                                 g_array_index (ref, guint, i - 1));
              const PhLabel *b = &g_array_index (aligned, PhLabel,
                                                 g_array_index (hyp, guint, j - 1));
              stats->n_matched++;
              add_boundary (stats, a->start, b->start, tolerance, sum);
              add_boundary (stats, a->end, b->end, tolerance, sum);
            }
          i--, j--;
        }
      else if (COST (i, j) == COST (i - 1, j) + 1)
        {
          i--;
        }
      else
        {
          j--;
        }
    }
#undef COST
  stats->mean_abs_error = stats->n_boundaries ? sum[0] / stats->n_boundaries : 0;
  stats->mean_error = stats->n_boundaries ? sum[1] / stats->n_boundaries : 0;
}
