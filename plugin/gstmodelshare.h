/* gstmodelshare.h: how an lstmadapt element finds the lstmphonemes element(s) whose
 * model it adapts: gst_model_share_acquire_phonemes, one call (as webrtcdsp's
 * gst_webrtc_acquire_echo_probe). The context type and its field keep their first
 * names ("phonemes.labeller", "labeller"): applications hand such contexts.
 *
 * 1. In one chain (`lstmphonemes ! ... ! lstmadapt`): a GST_QUERY_CONTEXT of type
 *    GST_MODEL_SHARE_CONTEXT_TYPE sent upstream; lstmphonemes answers it with a
 *    context whose structure holds the element in the field "labeller". An
 *    application can also hand such a context to lstmadapt (gst_element_set_context)
 *    when it answers the NEED_CONTEXT message lstmadapt posts.
 * 2. By name, across a tee or between pipelines of one process: lstmphonemes
 *    registers under its `model-name`, lstmadapt looks the name up. The registry is
 *    the one process-wide table of the plugin, guarded by a mutex, holding weak
 *    references only. */
#pragma once

#include <gst/gst.h>

#include "ph_model.h"

G_BEGIN_DECLS

#define GST_MODEL_SHARE_CONTEXT_TYPE "phonemes.labeller"

/* Registers the lstmphonemes `element` under `name` (NULL or "" does nothing). A weak
 * reference is kept: the registry never keeps an element alive. */
void gst_model_share_register (const gchar *name, GstElement *element);

/* Removes `element` from `name`; safe to call from the element's finalize. */
void gst_model_share_unregister (const gchar *name, GstElement *element);

/* The live elements registered under `name`, each with a new reference (a GPtrArray
 * that unrefs them when freed); empty when none. */
GPtrArray *gst_model_share_lookup (const gchar *name);

/* The names under which live elements are registered now, sorted, comma-separated
 * (newly allocated; "" when none), for messages that name the choices. */
gchar *gst_model_share_names (void);

/* A context holding the lstmphonemes `element` (reference kept by the context). */
GstContext *gst_model_share_context_new (GstElement *element);

/* The lstmphonemes element upstream of `sinkpad` (context query), new reference, or
 * NULL. */
GstElement *gst_model_share_query_upstream (GstPad *sinkpad);

/* The lstmphonemes elements `adapter` adapts, each with a new reference (a GPtrArray
 * that unrefs them; empty when none): those registered under `model_name` when it is
 * set, else the one upstream of `sinkpad`, else the one held by a context set on
 * `adapter` (asked for with a NEED_CONTEXT message when there is none). */
GPtrArray *gst_model_share_acquire_phonemes (GstElement *adapter, GstPad *sinkpad,
                                             const gchar *model_name);

/* At the start of an lstmadapt: FALSE + GError (GST_CORE_ERROR, naming the fix) when
 * there is no lstmphonemes to adapt (under `model_name`, or upstream of a linked
 * `sinkpad`), or when the one upstream does not attach the meta. An unlinked pad
 * without a name passes: the first buffer looks again. */
gboolean gst_model_share_check (GstElement *adapter, GstPad *sinkpad,
                                const gchar *model_name, GError **error);

/* The lstmphonemes elements one lstmadapt adapts: found (again) by the streaming thread,
 * read by the training thread, whose model it takes and to which it publishes. */
typedef struct {
  GMutex lock;
  GPtrArray *elements;       /* GstElement refs, immutable, replaced; NULL: none yet */
  guint generation;          /* bumped when other elements are found */
  gboolean stale;            /* look again at the next discover */
  gboolean found;            /* streaming thread: elements were found */
  guint countdown;           /* streaming thread: calls until the next search */
} GstModelShareLink;

void gst_model_share_link_init (GstModelShareLink *link);
void gst_model_share_link_clear (GstModelShareLink *link);

/* Looks again at the next gst_model_share_link_discover (any thread). */
void gst_model_share_link_invalidate (GstModelShareLink *link);

/* Streaming thread: finds the elements (gst_model_share_acquire_phonemes) unless they
 * were found; while none is, looks again every `retry` calls. The elements found, with
 * a new reference, when it just looked (NULL otherwise); empty when none. */
GPtrArray *gst_model_share_link_discover (GstModelShareLink *link, GstElement *adapter,
                                          GstPad *sinkpad, const gchar *model_name,
                                          guint retry);

/* Forgets the elements (stop). */
void gst_model_share_link_forget (GstModelShareLink *link);

/* The model of the first element (new reference, NULL when none) and a token that
 * changes with the elements found and with that element's model. */
PhModel *gst_model_share_link_model (GstModelShareLink *link, guint64 *token);

/* Publishes `model` to every element found. */
void gst_model_share_link_publish (GstModelShareLink *link, PhModel *model);

G_END_DECLS
