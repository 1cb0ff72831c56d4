/* tsan_glib_sync.c: tells ThreadSanitizer about GLib's locks. GLib's GMutex, GRecMutex,
 * GRWLock and GCond sit on raw futexes that TSan cannot see, so every access guarded by
 * them looks like a race. Linked into a -Db_sanitize=thread test program (exported, so
 * the plugin and GStreamer bind to it), these definitions wrap GLib's own (found with
 * dlsym RTLD_NEXT) in TSan's mutex annotations. Calls inside libglib itself are not
 * seen; the races that remain are in code that uses GLib's locks from libglib only. */
#include <glib.h>
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

/* real_NAME: GLib's NAME, looked up once. */
#define REAL(name)                                                            \
  static __typeof__ (&name) real_##name;                                      \
  if (G_UNLIKELY (real_##name == NULL))                                        \
    real_##name = (__typeof__ (&name)) dlsym (RTLD_NEXT, #name)

/* TSan annotations: `m` was just taken, or just given back. */
static void
annotate_acquired (void *m, unsigned flags)
{
  __tsan_mutex_pre_lock (m, flags);
  __tsan_mutex_post_lock (m, flags, 0);
}

static void
annotate_released (void *m, unsigned flags)
{
  __tsan_mutex_pre_unlock (m, flags);
  __tsan_mutex_post_unlock (m, flags);
}

void
g_mutex_lock (GMutex *mutex)
{
  REAL (g_mutex_lock);
  __tsan_mutex_pre_lock (mutex, 0);
  real_g_mutex_lock (mutex);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  REAL (g_mutex_trylock);
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  gboolean locked = real_g_mutex_trylock (mutex);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_try_lock
                          | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (g_mutex_unlock);
  __tsan_mutex_pre_unlock (mutex, 0);
  real_g_mutex_unlock (mutex);
  __tsan_mutex_post_unlock (mutex, 0);
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_lock);
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_write_reentrant);
  real_g_rec_mutex_lock (mutex);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_write_reentrant, 0);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_trylock);
  unsigned flags = __tsan_mutex_write_reentrant | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock (mutex, flags);
  gboolean locked = real_g_rec_mutex_trylock (mutex);
  __tsan_mutex_post_lock (mutex, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_unlock);
  __tsan_mutex_pre_unlock (mutex, __tsan_mutex_write_reentrant);
  real_g_rec_mutex_unlock (mutex);
  __tsan_mutex_post_unlock (mutex, __tsan_mutex_write_reentrant);
}

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_lock);
  __tsan_mutex_pre_lock (lock, 0);
  real_g_rw_lock_writer_lock (lock);
  __tsan_mutex_post_lock (lock, 0, 0);
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_unlock);
  __tsan_mutex_pre_unlock (lock, 0);
  real_g_rw_lock_writer_unlock (lock);
  __tsan_mutex_post_unlock (lock, 0);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_lock);
  __tsan_mutex_pre_lock (lock, __tsan_mutex_read_lock);
  real_g_rw_lock_reader_lock (lock);
  __tsan_mutex_post_lock (lock, __tsan_mutex_read_lock, 0);
}

void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_unlock);
  __tsan_mutex_pre_unlock (lock, __tsan_mutex_read_lock);
  real_g_rw_lock_reader_unlock (lock);
  __tsan_mutex_post_unlock (lock, __tsan_mutex_read_lock);
}

/* A wait releases the mutex and takes it again before returning. */
void
g_cond_wait (GCond *cond, GMutex *mutex)
{
  REAL (g_cond_wait);
  annotate_released (mutex, 0);
  real_g_cond_wait (cond, mutex);
  annotate_acquired (mutex, 0);
}

gboolean
g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
  REAL (g_cond_wait_until);
  annotate_released (mutex, 0);
  gboolean signalled = real_g_cond_wait_until (cond, mutex, end_time);
  annotate_acquired (mutex, 0);
  return signalled;
}
