/* ph_corpus.c: work in progress. */
#include "phonemes.h"
