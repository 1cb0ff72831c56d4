/* ph_phoneset.c: the 61 TIMIT phones, their 39-class folding and ARPAbet names.
 *
 * TIMIT-61 order (index 0..60), fixed forever: model files and trained output layers
 * depend on it.
 *
 *    0 iy   1 ih   2 eh   3 ey   4 ae   5 aa   6 aw   7 ay   8 ah   9 ao
 *   10 oy  11 ow  12 uh  13 uw  14 ux  15 er  16 ax  17 ix  18 axr 19 ax-h
 *   20 jh  21 ch  22 b   23 d   24 g   25 p   26 t   27 k   28 dx  29 s
 *   30 sh  31 z   32 zh  33 f   34 th  35 v   36 dh  37 m   38 n   39 ng
 *   40 em  41 nx  42 en  43 eng 44 l   45 r   46 w   47 y   48 hh  49 hv
 *   50 el  51 bcl 52 dcl 53 gcl 54 pcl 55 tcl 56 kcl 57 q   58 pau 59 epi
 *   60 h#
 *
 * 39-class folding (Lee & Hon 1989): bcl dcl gcl pcl tcl kcl h# pau epi -> sil;
 * ao -> aa; ax ax-h -> ah; axr -> er; el -> l; em -> m; en nx -> n; eng -> ng;
 * hv -> hh; ix -> ih; ux -> uw; zh -> sh; q is removed (-1).
 *
 * 39-class order: order of first appearance when folding the 61 list in order:
 *
 *    0 iy   1 ih   2 eh   3 ey   4 ae   5 aa   6 aw   7 ay   8 ah   9 oy
 *   10 ow  11 uh  12 uw  13 er  14 jh  15 ch  16 b   17 d   18 g   19 p
 *   20 t   21 k   22 dx  23 s   24 sh  25 z   26 f   27 th  28 v   29 dh
 *   30 m   31 n   32 ng  33 l   34 r   35 w   36 y   37 hh  38 sil
 */
#include "ph_phoneset.h"

#include <string.h>

typedef struct {
  const char *name;
  gint8 fold39; /* index into phones39, -1 for q */
} PhPhone;

static const PhPhone phones61[PH_NUM_PHONES] = {
  { "iy", 0 },   { "ih", 1 },   { "eh", 2 },   { "ey", 3 },   { "ae", 4 },
  { "aa", 5 },   { "aw", 6 },   { "ay", 7 },   { "ah", 8 },   { "ao", 5 },
  { "oy", 9 },   { "ow", 10 },  { "uh", 11 },  { "uw", 12 },  { "ux", 12 },
  { "er", 13 },  { "ax", 8 },   { "ix", 1 },   { "axr", 13 }, { "ax-h", 8 },
  { "jh", 14 },  { "ch", 15 },  { "b", 16 },   { "d", 17 },   { "g", 18 },
  { "p", 19 },   { "t", 20 },   { "k", 21 },   { "dx", 22 },  { "s", 23 },
  { "sh", 24 },  { "z", 25 },   { "zh", 24 },  { "f", 26 },   { "th", 27 },
  { "v", 28 },   { "dh", 29 },  { "m", 30 },   { "n", 31 },   { "ng", 32 },
  { "em", 30 },  { "nx", 31 },  { "en", 31 },  { "eng", 32 }, { "l", 33 },
  { "r", 34 },   { "w", 35 },   { "y", 36 },   { "hh", 37 },  { "hv", 37 },
  { "el", 33 },  { "bcl", 38 }, { "dcl", 38 }, { "gcl", 38 }, { "pcl", 38 },
  { "tcl", 38 }, { "kcl", 38 }, { "q", -1 },   { "pau", 38 }, { "epi", 38 },
  { "h#", 38 },
};

static const char *const phones39[PH_NUM_PHONES39] = {
  "iy", "ih", "eh", "ey", "ae", "aa", "aw", "ay", "ah", "oy",
  "ow", "uh", "uw", "er", "jh", "ch", "b", "d", "g", "p",
  "t", "k", "dx", "s", "sh", "z", "f", "th", "v", "dh",
  "m", "n", "ng", "l", "r", "w", "y", "hh", "sil",
};

#define PH_SIL39 38

/* Name of TIMIT phone `index`, or NULL when out of range. */
const char *
ph_phone_name (gint index)
{
  if (index < 0 || index >= PH_NUM_PHONES)
    return NULL;
  return phones61[index].name;
}

/* Index of the TIMIT phone `name` (case-sensitive), or -1. */
gint
ph_phone_index (const char *name)
{
  if (name == NULL)
    return -1;
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    if (strcmp (phones61[i].name, name) == 0)
      return i;
  return -1;
}

/* 39-class index of TIMIT phone `index`, -1 for q or out of range. */
gint
ph_phone_fold39 (gint index)
{
  if (index < 0 || index >= PH_NUM_PHONES)
    return -1;
  return phones61[index].fold39;
}

/* Name of 39-class phone `index39`, or NULL. */
const char *
ph_phone39_name (gint index39)
{
  if (index39 < 0 || index39 >= PH_NUM_PHONES39)
    return NULL;
  return phones39[index39];
}

/* Index of the 39-class phone `name`, or -1. */
gint
ph_phone39_index (const char *name)
{
  if (name == NULL)
    return -1;
  for (gint i = 0; i < PH_NUM_PHONES39; i++)
    if (strcmp (phones39[i], name) == 0)
      return i;
  return -1;
}

/* TRUE for closures and silences (those folded to "sil"). */
gboolean
ph_phone_is_silence (gint index)
{
  return ph_phone_fold39 (index) == PH_SIL39;
}

gboolean
ph_phone_is_closure (gint index)
{
  return index >= ph_phone_index ("bcl") && index <= ph_phone_index ("kcl");
}

gint
ph_phone_closure_before (gint index)
{
  static const char *const pairs[][2] = {
    { "b", "bcl" }, { "d", "dcl" }, { "g", "gcl" }, { "p", "pcl" },
    { "t", "tcl" }, { "k", "kcl" }, { "jh", "dcl" }, { "ch", "tcl" },
  };
  const char *name = ph_phone_name (index);

  for (gsize i = 0; name && i < G_N_ELEMENTS (pairs); i++)
    if (strcmp (name, pairs[i][0]) == 0)
      return ph_phone_index (pairs[i][1]);
  return -1;
}

/* Copies `symbol` lower-cased with trailing stress digits removed into `out`
 * (`out_size` bytes); FALSE when it does not fit or was nothing but digits. */
static gboolean
normalise_arpabet (const char *symbol, char *out, gsize out_size)
{
  gsize len = strlen (symbol);
  while (len > 0 && g_ascii_isdigit (symbol[len - 1]))
    len--;
  if (len >= out_size || (len == 0 && symbol[0] != '\0'))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    out[i] = g_ascii_tolower (symbol[i]);
  out[len] = '\0';
  return TRUE;
}

/* TIMIT-61 index of an ARPAbet (CMUdict, flite, MFA) or TIMIT symbol, or -1. The 39
 * ARPAbet phones share their lower-case names with TIMIT phones, so after normalising
 * only the silence markers need a table. */
gint
ph_phone_from_arpabet (const char *symbol)
{
  static const char *const silences[] = { "sil", "sp", "spn", "" };
  char buf[16];

  if (symbol == NULL || !normalise_arpabet (symbol, buf, sizeof buf))
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (silences); i++)
    if (strcmp (buf, silences[i]) == 0)
      return ph_phone_index ("h#");
  return ph_phone_index (buf);
}
