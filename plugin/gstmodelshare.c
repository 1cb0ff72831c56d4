/* gstmodelshare.c: the model-name registry and the context that names an lstmphonemes
 * element. */
#include "gstmodelshare.h"

#include "gstlstmphonemes.h"

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
