/* gstmodelshare.c: the model-name registry and the context that names an lstmphonemes
 * element. */
#include "gstmodelshare.h"

#include <string.h>

#include "gstlstmphonemes.h"
#include "ph_model.h"

/* The context structure's field holding the element. */
#define CONTEXT_FIELD "labeller"

/* One registered element: a weak reference to get it safely, and its address to
 * recognise it when it unregisters from finalize (the weak reference is cleared by
 * then). */
typedef struct {
  GWeakRef ref;
  gconstpointer address;
} Entry;

/* The plugin's one piece of process-wide state: name -> GPtrArray of Entry *. */
static GMutex registry_lock;
static GHashTable *registry;

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_weak_ref_clear (&entry->ref);
  g_free (entry);
}

/* Drops entries whose element is gone; the registry lock is held. */
static void
prune_dead (GPtrArray *entries)
{
  for (guint i = entries->len; i-- > 0;) {
    Entry *entry = g_ptr_array_index (entries, i);
    GObject *object = g_weak_ref_get (&entry->ref);

    if (object)
      g_object_unref (object);
    else
      g_ptr_array_remove_index (entries, i);
  }
}

void
gst_model_share_register (const gchar *name, GstElement *element)
{
  GPtrArray *entries;
  Entry *entry;

  g_return_if_fail (GST_IS_ELEMENT (element));
  if (!name || !*name)
    return;
  g_mutex_lock (&registry_lock);
  if (!registry)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_ptr_array_unref);
  entries = g_hash_table_lookup (registry, name);
  if (!entries) {
    entries = g_ptr_array_new_with_free_func (entry_free);
    g_hash_table_insert (registry, g_strdup (name), entries);
  }
  prune_dead (entries);
  entry = g_new0 (Entry, 1);
  g_weak_ref_init (&entry->ref, element);
  entry->address = element;
  g_ptr_array_add (entries, entry);
  g_mutex_unlock (&registry_lock);
}

void
gst_model_share_unregister (const gchar *name, GstElement *element)
{
  GPtrArray *entries;

  if (!name || !*name)
    return;
  g_mutex_lock (&registry_lock);
  entries = registry ? g_hash_table_lookup (registry, name) : NULL;
  if (entries) {
    for (guint i = entries->len; i-- > 0;) {
      Entry *entry = g_ptr_array_index (entries, i);

      if (entry->address == (gconstpointer) element)
        g_ptr_array_remove_index (entries, i);
    }
    prune_dead (entries);
    if (entries->len == 0)
      g_hash_table_remove (registry, name);
  }
  g_mutex_unlock (&registry_lock);
}

GPtrArray *
gst_model_share_lookup (const gchar *name)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (gst_object_unref);
  GPtrArray *entries;

  if (!name || !*name)
    return found;
  g_mutex_lock (&registry_lock);
  entries = registry ? g_hash_table_lookup (registry, name) : NULL;
  for (guint i = 0; entries && i < entries->len; i++) {
    Entry *entry = g_ptr_array_index (entries, i);
    GObject *object = g_weak_ref_get (&entry->ref);

    if (object)
      g_ptr_array_add (found, object);
  }
  g_mutex_unlock (&registry_lock);
  return found;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

gchar *
gst_model_share_names (void)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;
  gchar *joined;

  g_mutex_lock (&registry_lock);
  if (registry) {
    g_hash_table_iter_init (&iter, registry);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      prune_dead (value);
      if (((GPtrArray *) value)->len > 0)
        g_ptr_array_add (names, g_strdup (key));
    }
  }
  g_mutex_unlock (&registry_lock);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (", ", (gchar **) names->pdata);
  g_strfreev ((gchar **) g_ptr_array_free (names, FALSE));
  return joined;
}

GstContext *
gst_model_share_context_new (GstElement *element)
{
  GstContext *context = gst_context_new (GST_MODEL_SHARE_CONTEXT_TYPE, FALSE);
  GstStructure *s = gst_context_writable_structure (context);

  gst_structure_set (s, CONTEXT_FIELD, GST_TYPE_ELEMENT, element, NULL);
  return context;
}

/* The element held by `context` with a new reference, or NULL. */
static GstElement *
context_element (GstContext *context)
{
  const GstStructure *s;
  GstElement *element = NULL;

  if (!context || !gst_context_has_context_type (context, GST_MODEL_SHARE_CONTEXT_TYPE))
    return NULL;
  s = gst_context_get_structure (context);
  if (!gst_structure_get (s, CONTEXT_FIELD, GST_TYPE_ELEMENT, &element, NULL))
    return NULL;
  return element;
}

GstElement *
gst_model_share_query_upstream (GstPad *sinkpad)
{
  GstQuery *query = gst_query_new_context (GST_MODEL_SHARE_CONTEXT_TYPE);
  GstElement *element = NULL;

  if (gst_pad_peer_query (sinkpad, query)) {
    GstContext *context = NULL;

    gst_query_parse_context (query, &context);
    element = context_element (context);
  }
  gst_query_unref (query);
  return element;
}

/* The element of the context set on `adapter` (new reference), or NULL. */
static GstElement *
element_of_set_context (GstElement *adapter)
{
  GstContext *context = gst_element_get_context (adapter, GST_MODEL_SHARE_CONTEXT_TYPE);
  GstElement *element = context_element (context);

  if (context)
    gst_context_unref (context);
  return element;
}

/* The one element upstream, or given by a context (asked for when missing), or NULL. */
static GstElement *
acquire_by_context (GstElement *adapter, GstPad *sinkpad)
{
  GstElement *element = gst_model_share_query_upstream (sinkpad);

  if (!element)
    element = element_of_set_context (adapter);
  if (!element) {
    gst_element_post_message (adapter, gst_message_new_need_context (GST_OBJECT (adapter),
                                                             GST_MODEL_SHARE_CONTEXT_TYPE));
    element = element_of_set_context (adapter);
  }
  return element;
}

GPtrArray *
gst_model_share_acquire_phonemes (GstElement *adapter, GstPad *sinkpad,
                                  const gchar *model_name)
{
  GPtrArray *found;
  GstElement *element;

  if (model_name && *model_name) {
    found = gst_model_share_lookup (model_name);
  } else {
    found = g_ptr_array_new_with_free_func (gst_object_unref);
    if ((element = acquire_by_context (adapter, sinkpad)))
      g_ptr_array_add (found, element);
  }
  for (guint i = found->len; i-- > 0;)
    if (!GST_IS_LSTM_PHONEMES (g_ptr_array_index (found, i)))
      g_ptr_array_remove_index (found, i);
  return found;
}

/* ---- the link of one lstmadapt ---- */

void
gst_model_share_link_init (GstModelShareLink *link)
{
  memset (link, 0, sizeof *link);
  g_mutex_init (&link->lock);
}

void
gst_model_share_link_clear (GstModelShareLink *link)
{
  g_clear_pointer (&link->elements, g_ptr_array_unref);
  g_mutex_clear (&link->lock);
}

void
gst_model_share_link_invalidate (GstModelShareLink *link)
{
  g_mutex_lock (&link->lock);
  link->stale = TRUE;
  g_mutex_unlock (&link->lock);
}

static gboolean
same_elements (const GPtrArray *a, const GPtrArray *b)
{
  if (!a || !b || a->len != b->len)
    return a == b;
  for (guint i = 0; i < a->len; i++)
    if (g_ptr_array_index (a, i) != g_ptr_array_index (b, i))
      return FALSE;
  return TRUE;
}

/* Takes `found` (may be NULL) as the elements; other elements bump the generation. */
static void
link_set (GstModelShareLink *link, GPtrArray *found)
{
  GPtrArray *old;

  g_mutex_lock (&link->lock);
  old = link->elements;
  if (!same_elements (old, found))
    link->generation++;
  link->elements = found;
  g_mutex_unlock (&link->lock);
  if (old)
    g_ptr_array_unref (old);
}

void
gst_model_share_link_forget (GstModelShareLink *link)
{
  link_set (link, NULL);
  link->found = FALSE;
  link->countdown = 0;
}

GPtrArray *
gst_model_share_link_discover (GstModelShareLink *link, GstElement *adapter,
                               GstPad *sinkpad, const gchar *model_name, guint retry)
{
  GPtrArray *found;

  g_mutex_lock (&link->lock);
  if (link->stale)
    link->found = link->countdown = 0;
  link->stale = FALSE;
  g_mutex_unlock (&link->lock);
  if (link->found)
    return NULL;
  if (link->countdown > 0) {
    link->countdown--;
    return NULL;
  }
  found = gst_model_share_acquire_phonemes (adapter, sinkpad, model_name);
  link->found = found->len > 0;
  link->countdown = link->found ? 0 : retry;
  link_set (link, g_ptr_array_ref (found));
  return found;
}

/* The elements now (new reference, may be NULL) and their generation. */
static GPtrArray *
link_elements (GstModelShareLink *link, guint *generation)
{
  GPtrArray *elements;

  g_mutex_lock (&link->lock);
  elements = link->elements ? g_ptr_array_ref (link->elements) : NULL;
  *generation = link->generation;
  g_mutex_unlock (&link->lock);
  return elements;
}

PhModel *
gst_model_share_link_model (GstModelShareLink *link, guint64 *token)
{
  guint generation = 0, serial = 0;
  GPtrArray *elements = link_elements (link, &generation);
  PhModel *model = NULL;

  if (elements && elements->len > 0)
    model = gst_lstm_phonemes_get_model (g_ptr_array_index (elements, 0), &serial);
  if (elements)
    g_ptr_array_unref (elements);
  *token = (guint64) generation << 32 | serial;
  return model;
}

void
gst_model_share_link_publish (GstModelShareLink *link, PhModel *model)
{
  guint generation;
  GPtrArray *elements = link_elements (link, &generation);

  for (guint i = 0; elements && i < elements->len; i++)
    gst_lstm_phonemes_publish_model (g_ptr_array_index (elements, i), model);
  if (elements)
    g_ptr_array_unref (elements);
}

/* The GError saying that no lstmphonemes element was found (under `name`, or upstream). */
static GError *
no_element_error (const gchar *name)
{
  gchar *names;
  GError *error;

  if (!name)
    return g_error_new (GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "No lstmphonemes element to adapt: put lstmadapt downstream of lstmphonemes "
        "(lstmphonemes ! lstmadapt, or on a tee branch after it), or give both "
        "elements the same model-name");
  names = gst_model_share_names ();
  error = g_error_new (GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
      "No lstmphonemes has model-name=%s in this process (%s%s): give the "
      "lstmphonemes to adapt the same model-name", name,
      *names ? "model-names in use: " : "no lstmphonemes has a model-name", names);
  g_free (names);
  return error;
}

/* FALSE + GError when `upstream` (may be NULL) does not attach the meta. */
static gboolean
check_attaches_meta (GstElement *upstream, GError **error)
{
  gboolean attach_meta = TRUE;

  if (upstream && GST_IS_LSTM_PHONEMES (upstream))
    g_object_get (upstream, "attach-meta", &attach_meta, NULL);
  if (!attach_meta)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                 "%s has attach-meta=false: lstmadapt trains on the phoneme meta it "
                 "attaches; set attach-meta=true on it", GST_OBJECT_NAME (upstream));
  return attach_meta;
}

gboolean
gst_model_share_check (GstElement *adapter, GstPad *sinkpad, const gchar *model_name,
                       GError **error)
{
  const gchar *name = model_name && *model_name ? model_name : NULL;
  gboolean linked = gst_pad_is_linked (sinkpad), ok;
  GstElement *upstream;
  GPtrArray *found;

  if (!name && !linked)
    return TRUE;
  found = gst_model_share_acquire_phonemes (adapter, sinkpad, name);
  if (found->len == 0)
    g_propagate_error (error, no_element_error (name));
  upstream = found->len == 0 ? NULL : !name ? gst_object_ref (g_ptr_array_index (found, 0))
      : linked ? gst_model_share_query_upstream (sinkpad) : NULL;
  ok = found->len > 0 && check_attaches_meta (upstream, error);
  g_clear_object (&upstream);
  g_ptr_array_unref (found);
  return ok;
}
