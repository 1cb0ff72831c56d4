/* corpus_import.h: `phonemes corpus import`: real recordings with transcripts become an
 * aligned corpus (WAV + .PHN + .WRD + .TXT). */
#pragma once

/* Runs `phonemes corpus import`; argv[0] is "import". Returns the exit status. */
int ph_corpus_import_main (int argc, char **argv);
