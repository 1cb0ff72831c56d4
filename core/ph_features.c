/* ph_features.c: work in progress. */
#include "phonemes.h"
