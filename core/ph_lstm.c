/* ph_lstm.c: work in progress. */
#include "phonemes.h"
