/* ph_viseme.c: the phone -> viseme tables of ph_viseme.h. One row per TIMIT phone, in
 * phone-set order (ph_phoneset.c; test_viseme checks the order). Where sources differ:
 *
 * Oculus/Meta (15): the SDK's own examples (PP: put, bat, mat; FF: fat, vat; TH: think,
 *   that; DD: tip, doll; kk: call, gas; CH: chair, join, she; SS: sir, zeal; nn: lot,
 *   not; RR: red; aa: car; E: bed; ih: tip; oh: toe; ou: book). Vowels by their open
 *   shape: iy, ix, y -> ih; ae, ah, ax, aw, ay -> aa; ao, ow, oy -> oh; uh, uw, ux, w -> ou;
 *   er, axr -> RR. h (hh, hv) and the glottal stop q have no mouth shape of their own:
 *   kk, the open-jaw consonant shape, as Amazon Polly's viseme table does for h.
 * Preston Blair (10): Papagayo's English table (CMU phones -> rest, MBP, FV, L, WQ, etc,
 *   AI, E, O, U); TIMIT's extra phones as their CMU equivalents (ax, ax-h, ix -> AI;
 *   ux -> U; axr -> E; el -> L; em -> MBP; dx, nx, en, eng, hv, q -> etc).
 * Both: silences (h#, pau, epi) are sil / rest; a closure has its stop's shape (bcl and
 * pcl: lips shut). */
#include "ph_viseme.h"

#include "ph_phoneset.h"

enum {
  OC_sil, OC_PP, OC_FF, OC_TH, OC_DD, OC_kk, OC_CH, OC_SS, OC_nn, OC_RR, OC_aa, OC_E, OC_ih,
  OC_oh, OC_ou,
};
enum { PB_rest, PB_MBP, PB_FV, PB_L, PB_WQ, PB_etc, PB_AI, PB_E, PB_O, PB_U };

static const char *const oculus_names[PH_NUM_VISEMES_OCULUS] = {
  "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
};
static const char *const preston_blair_names[PH_NUM_VISEMES_PRESTON_BLAIR] = {
  "rest", "MBP", "FV", "L", "WQ", "etc", "AI", "E", "O", "U",
};

typedef struct {
  const char *phone;   /* TIMIT symbol, for the order check */
  guint8 oculus;
  guint8 preston_blair;
} PhVisemeRow;

static const PhVisemeRow rows[PH_NUM_PHONES] = {
  { "iy", OC_ih, PB_E },    { "ih", OC_ih, PB_AI },   { "eh", OC_E, PB_E },
  { "ey", OC_E, PB_E },     { "ae", OC_aa, PB_AI },   { "aa", OC_aa, PB_AI },
  { "aw", OC_aa, PB_O },    { "ay", OC_aa, PB_AI },   { "ah", OC_aa, PB_AI },
  { "ao", OC_oh, PB_O },    { "oy", OC_oh, PB_WQ },   { "ow", OC_oh, PB_O },
  { "uh", OC_ou, PB_U },    { "uw", OC_ou, PB_U },    { "ux", OC_ou, PB_U },
  { "er", OC_RR, PB_E },    { "ax", OC_aa, PB_AI },   { "ix", OC_ih, PB_AI },
  { "axr", OC_RR, PB_E },   { "ax-h", OC_aa, PB_AI }, { "jh", OC_CH, PB_etc },
  { "ch", OC_CH, PB_etc },  { "b", OC_PP, PB_MBP },   { "d", OC_DD, PB_etc },
  { "g", OC_kk, PB_etc },   { "p", OC_PP, PB_MBP },   { "t", OC_DD, PB_etc },
  { "k", OC_kk, PB_etc },   { "dx", OC_DD, PB_etc },  { "s", OC_SS, PB_etc },
  { "sh", OC_CH, PB_etc },  { "z", OC_SS, PB_etc },   { "zh", OC_CH, PB_etc },
  { "f", OC_FF, PB_FV },    { "th", OC_TH, PB_etc },  { "v", OC_FF, PB_FV },
  { "dh", OC_TH, PB_etc },  { "m", OC_PP, PB_MBP },   { "n", OC_nn, PB_etc },
  { "ng", OC_kk, PB_etc },  { "em", OC_PP, PB_MBP },  { "nx", OC_nn, PB_etc },
  { "en", OC_nn, PB_etc },  { "eng", OC_kk, PB_etc }, { "l", OC_nn, PB_L },
  { "r", OC_RR, PB_etc },   { "w", OC_ou, PB_WQ },    { "y", OC_ih, PB_etc },
  { "hh", OC_kk, PB_etc },  { "hv", OC_kk, PB_etc },  { "el", OC_nn, PB_L },
  { "bcl", OC_PP, PB_MBP }, { "dcl", OC_DD, PB_etc }, { "gcl", OC_kk, PB_etc },
  { "pcl", OC_PP, PB_MBP }, { "tcl", OC_DD, PB_etc }, { "kcl", OC_kk, PB_etc },
  { "q", OC_kk, PB_etc },   { "pau", OC_sil, PB_rest }, { "epi", OC_sil, PB_rest },
  { "h#", OC_sil, PB_rest },
};

guint
ph_viseme_set_size (PhVisemeSet set)
{
  switch (set)
    {
      case PH_VISEME_SET_OCULUS:
        return PH_NUM_VISEMES_OCULUS;
      case PH_VISEME_SET_PRESTON_BLAIR:
        return PH_NUM_VISEMES_PRESTON_BLAIR;
    }
  return 0;
}

const char *
ph_viseme_set_name (PhVisemeSet set)
{
  switch (set)
    {
      case PH_VISEME_SET_OCULUS:
        return "oculus";
      case PH_VISEME_SET_PRESTON_BLAIR:
        return "preston-blair";
    }
  return NULL;
}

gboolean
ph_viseme_set_from_name (const char *name, PhVisemeSet *set)
{
  if (g_strcmp0 (name, "oculus") == 0)
    *set = PH_VISEME_SET_OCULUS;
  else if (g_strcmp0 (name, "preston-blair") == 0)
    *set = PH_VISEME_SET_PRESTON_BLAIR;
  else
    return FALSE;
  return TRUE;
}

gint
ph_viseme_of_phone (PhVisemeSet set, gint phone)
{
  if (phone < 0 || phone >= PH_NUM_PHONES || ph_viseme_set_size (set) == 0)
    return -1;
  return set == PH_VISEME_SET_OCULUS ? rows[phone].oculus : rows[phone].preston_blair;
}

const char *
ph_viseme_name (PhVisemeSet set, gint viseme)
{
  if (viseme < 0 || (guint) viseme >= ph_viseme_set_size (set))
    return NULL;
  return set == PH_VISEME_SET_OCULUS ? oculus_names[viseme] : preston_blair_names[viseme];
}

const char *
ph_viseme_name_of_phone (PhVisemeSet set, gint phone)
{
  return ph_viseme_name (set, ph_viseme_of_phone (set, phone));
}

const char *
ph_viseme_table_phone (gint phone)
{
  return phone >= 0 && phone < PH_NUM_PHONES ? rows[phone].phone : NULL;
}
