/* ph_viseme.h: the mouth shape (viseme) of each TIMIT phone, for lip sync, in two sets:
 *
 * - PH_VISEME_SET_OCULUS: the 15 visemes of the Oculus/Meta lip-sync SDK, which game
 *   engines and avatar tools share: sil, PP, FF, TH, DD, kk, CH, SS, nn, RR, aa, E, ih,
 *   oh, ou (indices 0..14 in this order).
 * - PH_VISEME_SET_PRESTON_BLAIR: Preston Blair's 10 mouth drawings of classic animation,
 *   as Papagayo and Rhubarb Lip Sync name them: rest, MBP, FV, L, WQ, etc, AI, E, O, U.
 *
 * The tables (ph_viseme.c) give every one of the 61 phones a viseme: silences are sil /
 * rest; a stop's closure takes the shape of its stop (bcl, pcl: lips shut); h and the
 * glottal stop q, which have no shape of their own, take kk / etc. Pure data: no state. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PH_VISEME_SET_OCULUS,
  PH_VISEME_SET_PRESTON_BLAIR,
} PhVisemeSet;

#define PH_NUM_VISEMES_OCULUS 15
#define PH_NUM_VISEMES_PRESTON_BLAIR 10

/* Number of visemes in `set` (0 for an unknown set). */
guint ph_viseme_set_size (PhVisemeSet set);

/* The set's name as options take it: "oculus", "preston-blair" (static; NULL if unknown). */
const char *ph_viseme_set_name (PhVisemeSet set);

/* Parses a set name; FALSE when `name` is none of them. */
gboolean ph_viseme_set_from_name (const char *name, PhVisemeSet *set);

/* The viseme (0..size-1) of TIMIT phone `phone` (0..60) in `set`, or -1 when out of range. */
gint ph_viseme_of_phone (PhVisemeSet set, gint phone);

/* Name of viseme `viseme` of `set` (static), or NULL when out of range. */
const char *ph_viseme_name (PhVisemeSet set, gint viseme);

/* The viseme name of TIMIT phone `phone` in `set` (static), or NULL when out of range. */
const char *ph_viseme_name_of_phone (PhVisemeSet set, gint phone);

/* The TIMIT symbol the table's row `phone` was written for (static), or NULL when out of
 * range: the tests check that it is ph_phone_name (phone). */
const char *ph_viseme_table_phone (gint phone);

G_END_DECLS
