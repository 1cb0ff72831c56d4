/* ph_train.c: work in progress. */
#include "phonemes.h"
