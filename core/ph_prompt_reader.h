/* ph_prompt_reader.h: follows a prompt read aloud, frame by frame, and hands back the
 * stretches of the reading aligned to it (the targets of lstmadapt mode=prompted).
 *
 * The frames (features and the labeller's posteriors) are cut into segments at pauses:
 * a segment ends in the middle of the first run of `cut_silence_frames` silence frames
 * (argmax h#, pau or epi) once it holds `min_segment_speech` speech frames, in the
 * middle of any run of `pause_frames` after speech, or at the longest silence run when
 * it reaches `max_segment_frames`. Silence with no speech
 * before it is dropped (pauses of any length cost nothing). Each segment is aligned
 * (ph_align, partial_end) against the prompt's words from a cursor: it may start up to
 * `back_words` before the cursor (a repeated word) or `skip_words` after it (a skipped
 * one; after rejected segments, also as many words as their speech may have held, one
 * per 150 ms) and end after any word. An alignment is accepted when its mean confidence is at
 * least `min_confidence` and its Viterbi score per frame at most `-min_score_gap` below
 * that of the best phone of every frame (the text costs little): its frames and
 * targets are handed back and the cursor moves past its last word. Otherwise its frames
 * are not trained on; once the speech rejected reaches `mismatch_speech_frames` and is
 * more than twice the speech accepted, the reading does not match the text
 * (`mismatch`) and nothing more is aligned.
 *
 * Not thread-safe: one reader per training thread. */
#pragma once

#include <glib.h>
#include "ph_align.h"

G_BEGIN_DECLS

typedef struct {
  guint cut_silence_frames;     /* silence that ends a segment (default 20: 0.2 s) */
  guint min_segment_speech;     /* speech frames a segment holds at least (50) ... */
  guint pause_frames;           /* ... unless this much silence follows (50: 0.5 s) */
  guint max_segment_frames;     /* frames a segment holds at most (1500: 15 s) */
  guint back_words;             /* words before the cursor a segment may start at (2) */
  guint skip_words;             /* words after the cursor it may start at (2) */
  float min_confidence;         /* mean alignment confidence to accept (0.15) */
  float min_score_gap;          /* alignment score per frame less the free one (-1.5) */
  guint mismatch_speech_frames; /* rejected speech that can make a mismatch (500) */
} PhPromptReaderConfig;

/* Fills `config` with the defaults above. */
void ph_prompt_reader_config_init (PhPromptReaderConfig *config);

/* How far the reading got. */
typedef struct {
  guint words;                 /* words in the prompt */
  guint cursor;                /* words read so far: the next expected is words[cursor] */
  guint words_matched;         /* distinct words some accepted segment covered */
  guint64 frames;              /* frames pushed */
  guint64 frames_aligned;      /* in accepted segments */
  guint64 frames_unmatched;    /* in rejected segments */
  guint segments_accepted, segments_rejected;
  float last_confidence;       /* of the last segment aligned, accepted or not; -1 none */
  float last_score_gap;        /* its score per frame less the free one; -inf none */
  gboolean mismatch;           /* the reading does not match the prompt */
} PhPromptReaderStats;

/* A segment to train on; its arrays belong to the reader and stay valid until the next
 * push or finish. */
typedef struct {
  const float *features;       /* n_frames x dim */
  const gint *targets;         /* n_frames TIMIT-61 indices */
  guint n_frames;
  guint64 first_frame;         /* index of its first frame among the frames pushed */
  guint64 last_stamp;          /* the stamp its last frame was pushed with */
  float confidence;            /* mean alignment confidence */
  guint first_word, last_word; /* words of the prompt it covers */
} PhPromptSegment;

typedef struct _PhPromptReader PhPromptReader;

/* A reader of `words` (PhWord *, referenced, not copied) for frames of `dim` features;
 * `config` NULL = defaults. */
PhPromptReader *ph_prompt_reader_new (GPtrArray *words, guint dim,
                                      const PhPromptReaderConfig *config);
void ph_prompt_reader_free (PhPromptReader *reader);

/* Takes one frame (`dim` features, PH_NUM_PHONES posteriors, both copied, and the
 * caller's `stamp` of it, e.g. its running time); TRUE when a segment was accepted:
 * *segment then says what to train on. */
gboolean ph_prompt_reader_push (PhPromptReader *reader, const float *features,
                                const float *posteriors, guint64 stamp,
                                PhPromptSegment *segment);

/* The reading ended (end of stream, a break, another prompt): aligns what is pending;
 * TRUE + *segment as for push. The reader then starts a new segment, cursor kept. */
gboolean ph_prompt_reader_finish (PhPromptReader *reader, PhPromptSegment *segment);

const PhPromptReaderStats *ph_prompt_reader_stats (const PhPromptReader *reader);

G_END_DECLS
