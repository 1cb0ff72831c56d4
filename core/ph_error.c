#include "ph_error.h"

G_DEFINE_QUARK (ph-error-quark, ph_error)
