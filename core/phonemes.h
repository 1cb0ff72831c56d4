/* phonemes.h: the phonemes core library (no GStreamer): phone set, streaming
 * features, LSTM, truncated BPTT trainer, model files, corpora, scoring. */
#pragma once

#include "ph_error.h"
#include "ph_file.h"
#include "ph_phoneset.h"
#include "ph_features.h"
#include "ph_model.h"
#include "ph_lstm.h"
#include "ph_train.h"
#include "ph_phone_lm.h"
#include "ph_decoder.h"
#include "ph_labeller.h"
#include "ph_audio.h"
#include "ph_labels.h"
#include "ph_adapter.h"
#include "ph_time.h"
#include "ph_corpus.h"
#include "ph_score.h"
#include "ph_align.h"
#include "ph_viseme.h"
