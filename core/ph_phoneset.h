/* ph_phoneset.h: the 61 TIMIT phones, in a fixed order, and the 61->39 folding. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PH_NUM_PHONES 61
#define PH_NUM_PHONES39 39

/* Name of TIMIT phone `index` (0..60), or NULL when out of range. Static string. */
const char *ph_phone_name (gint index);

/* Index of the TIMIT phone called `name` (case-sensitive, e.g. "aa", "h#"), or -1. */
gint ph_phone_index (const char *name);

/* Index (0..38) of the 39-class folding of phone `index` (Lee & Hon), or -1 for "q"
 * (which the folding removes) or an out-of-range index. */
gint ph_phone_fold39 (gint index);

/* Name of 39-class phone `index39` (0..38), or NULL when out of range. "sil" covers
 * silences and closures. */
const char *ph_phone39_name (gint index39);

/* Index of the 39-class phone called `name`, or -1. */
gint ph_phone39_index (const char *name);

/* Maps an ARPAbet symbol (any case, stress digits ignored, e.g. "AH0", "sil", "sp",
 * "pau") to its TIMIT-61 index, or -1 when it has no equivalent. */
gint ph_phone_from_arpabet (const char *symbol);

/* TRUE for phones the folding maps to "sil" (closures, h#, pau, epi). */
gboolean ph_phone_is_silence (gint index);

/* TRUE for the six stop closures (bcl dcl gcl pcl tcl kcl). */
gboolean ph_phone_is_closure (gint index);

/* The closure TIMIT writes before stop or affricate `index` (b -> bcl, ch -> tcl), or
 * -1 for any other phone. */
gint ph_phone_closure_before (gint index);

G_END_DECLS
