/* ph_score.c: work in progress. */
#include "phonemes.h"
