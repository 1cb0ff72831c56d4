/* ph_error.h: the core library's GError domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PH_ERROR (ph_error_quark ())
GQuark ph_error_quark (void);

typedef enum {
  PH_ERROR_INVALID,   /* a bad argument or configuration value */
  PH_ERROR_IO,        /* a file could not be read or written */
  PH_ERROR_FORMAT,    /* a file's content is malformed or truncated */
  PH_ERROR_VERSION,   /* a model file of an unsupported version */
  PH_ERROR_CHECKSUM,  /* a model file whose checksum does not match */
  PH_ERROR_UNSUPPORTED, /* valid input this build cannot handle */
} PhError;

/* A copy (g_free) of untrusted `text` (file content, pad data, user input) fit to quote
 * in a message: valid UTF-8 is kept (so "café" stays readable), while bytes that are not
 * UTF-8 and control characters (a terminal's escape codes) become \xNN or \u{NN}; the
 * result is always valid UTF-8 without control characters. NULL gives "(null)". */
char *ph_error_quote (const char *text);

G_END_DECLS
