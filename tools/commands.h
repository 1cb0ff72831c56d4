/* commands.h: the `phonemes` subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status. */
#pragma once

int ph_cmd_label (int argc, char **argv);
int ph_cmd_features (int argc, char **argv);
int ph_cmd_corpus (int argc, char **argv);
int ph_cmd_align (int argc, char **argv);
int ph_cmd_train (int argc, char **argv);
int ph_cmd_eval (int argc, char **argv);
int ph_cmd_round_weights (int argc, char **argv);
int ph_cmd_lm (int argc, char **argv);
