/* ph_labeller.c: work in progress. */
#include "phonemes.h"
