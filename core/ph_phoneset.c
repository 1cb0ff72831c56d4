/* ph_phoneset.c: work in progress. */
#include "phonemes.h"
