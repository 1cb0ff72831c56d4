/* ph_model.c: work in progress. */
#include "phonemes.h"
