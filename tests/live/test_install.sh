#!/usr/bin/env bash
# `meson install` as users and other projects see it, into a scratch DESTDIR:
#  - the plugin lands under the prefix, in PREFIX/LIBDIR/gstreamer-1.0 (GStreamer's
#    own directory for prefix /usr; another prefix needs GST_PLUGIN_PATH, said in the
#    log) and gst-inspect-1.0 finds lstmphonemes there;
#  - phonemes-meta.h (the typed C API of the phoneme meta) is installed and compiles
#    with GStreamer's flags alone;
#  - phonemes-core.pc and the headers are installed, and a small C program using the
#    engine compiles against them with pkg-config alone (the .pc relocated into DESTDIR)
#    and labels a second of audio: 100 frames;
#  - pipelines/embed builds as a stand-alone meson project and runs on the installed
#    plugin.
# Environment (tests/live/meson.build): PH_BUILD_ROOT, PH_SOURCE_ROOT, PH_MAKE_TEST_MODEL.
set -euo pipefail
build="${PH_BUILD_ROOT:?}"
source_root="${PH_SOURCE_ROOT:?}"
dest="$(mktemp -d "${TMPDIR:-/tmp}/phonemes-install-XXXXXX")"
trap 'rm -rf "$dest"' EXIT

fail () {
  echo "FAIL: $*"
  exit 1
}

# The configured prefix and libdir of the build.
option () {
  meson introspect "$build" --buildoptions |
    /usr/bin/python3 -c "import json, sys; print([o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'][0])"
}
prefix="$(option prefix)"
libdir="$(option libdir)"
[[ "$libdir" == /* ]] || libdir="$prefix/$libdir"

meson install -C "$build" --no-rebuild --destdir "$dest/root" > "$dest/install.log" 2>&1 ||
  { cat "$dest/install.log"; fail "meson install failed"; }
root="$dest/root"

# -- the plugin, under the prefix (PREFIX/LIBDIR/gstreamer-1.0, as GStreamer's own
# plugins install), never outside it --
plugin="$(find "$root" -name libgstphonemes.so)"
[[ -n "$plugin" && $(wc -l <<< "$plugin") -eq 1 ]] || fail "libgstphonemes.so installed $(wc -l <<< "$plugin") times"
plugin_dir="$(dirname "${plugin#"$root"}")"
[[ "$plugin_dir" == "$libdir/gstreamer-1.0" ]] ||
  fail "prefix $prefix: the plugin goes to $plugin_dir, not under the prefix ($libdir/gstreamer-1.0)"
gst_dir="$(pkg-config --variable=pluginsdir gstreamer-1.0)"
[[ "$plugin_dir" == "$gst_dir" ]] ||
  echo "note: prefix $prefix: the plugin goes to $plugin_dir; GStreamer loads plugins from $gst_dir, so it needs GST_PLUGIN_PATH=$plugin_dir"
echo "plugin: $plugin_dir/libgstphonemes.so"
export LD_LIBRARY_PATH="$root$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
GST_PLUGIN_PATH="$root$plugin_dir" GST_PLUGIN_SYSTEM_PATH="$root$plugin_dir" \
  gst-inspect-1.0 lstmphonemes > "$dest/inspect.txt" 2>&1 ||
  { cat "$dest/inspect.txt"; fail "gst-inspect-1.0 does not load the installed plugin"; }
grep -q "Filename *$root$plugin_dir/libgstphonemes.so" "$dest/inspect.txt" ||
  fail "gst-inspect-1.0 loaded another copy of the plugin: $(grep Filename "$dest/inspect.txt")"

# -- the engine for other C projects: pkg-config + headers --
pc="$root$libdir/pkgconfig/phonemes-core.pc"
[[ -f "$pc" ]] || fail "phonemes-core.pc not installed in $libdir/pkgconfig"
[[ -f "$root$prefix/include/phonemes/phonemes.h" ]] || fail "headers not in $prefix/include/phonemes"
cat > "$dest/engine-demo.c" <<'EOF'
#include <math.h>
#include <phonemes.h>

static void
count_frame (const PhFrame *frame, gpointer counts)
{
  (void) frame;
  ((guint *) counts)[0]++;
}

static void
count_segment (const PhSegment *segment, gpointer counts)
{
  (void) segment;
  ((guint *) counts)[1]++;
}

int
main (void)
{
  const PhLabellerCallbacks callbacks = { count_frame, count_segment };
  PhLstmShape shape = { 0, 8, 1, PH_NUM_PHONES, 1 };
  PhFeatureConfig features;
  guint counts[2] = { 0, 0 };
  gint16 samples[16000];
  GError *error = NULL;
  PhLabeller *labeller;
  PhModel *model;

  ph_feature_config_init (&features, 16000);
  shape.input_dim = ph_feature_config_dim (&features);
  model = ph_model_new (&features, &shape, &error);
  if (!model) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  ph_model_init_random (model, 1);
  labeller = ph_labeller_new (model, 3, &error);
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    samples[i] = (gint16) (8000 * sin (2 * G_PI * 220 * i / 16000.0));
  ph_labeller_push_s16 (labeller, samples, G_N_ELEMENTS (samples), &callbacks, counts);
  ph_labeller_flush (labeller, &callbacks, counts);
  g_print ("%u frames, %u segments\n", counts[0], counts[1]);
  ph_labeller_free (labeller);
  ph_model_unref (model);
  return 0;
}
EOF
# The installed .pc, relocated into DESTDIR (its paths all derive from ${prefix}).
mkdir "$dest/pkgconfig"
sed "s|^prefix=.*|prefix=$root$prefix|" "$pc" > "$dest/pkgconfig/phonemes-core.pc"
export PKG_CONFIG_PATH="$dest/pkgconfig"
flags="$(pkg-config --cflags --libs phonemes-core)" || fail "pkg-config cannot use $pc"
# shellcheck disable=SC2086  # flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$dest/engine-demo" "$dest/engine-demo.c" $flags -lm ||
  fail "a C program does not compile against the installed phonemes-core ($flags)"
[[ "$flags" == *"$root"* ]] || fail "pkg-config flags do not point into the installation: $flags"
out="$("$dest/engine-demo")" || fail "engine-demo failed: $out"
[[ "$out" == "100 frames, "* ]] || fail "engine-demo: expected 100 frames for 1 s, got: $out"
echo "engine-demo against the installed phonemes-core.pc: $out"
unset PKG_CONFIG_PATH

# -- the typed C API of the phoneme meta: a header needing GStreamer only --
[[ -f "$root$prefix/include/phonemes/phonemes-meta.h" ]] ||
  fail "phonemes-meta.h not installed in $prefix/include/phonemes"
cat > "$dest/meta-demo.c" <<'EOF'
#include <phonemes/phonemes-meta.h>

int
main (void)
{
  GstBuffer *buffer;
  guint n = 1;

  gst_init (NULL, NULL);
  buffer = gst_buffer_new ();
  g_free (gst_phoneme_meta_get_frames (buffer, &n));
  gst_buffer_unref (buffer);
  return n == 0 ? 0 : 1;
}
EOF
# shellcheck disable=SC2046  # flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$dest/meta-demo" "$dest/meta-demo.c" \
  -I"$root$prefix/include" $(pkg-config --cflags --libs gstreamer-1.0) ||
  fail "a C program does not compile against the installed phonemes-meta.h"
"$dest/meta-demo" || fail "meta-demo: a buffer without meta has frames"
echo "phonemes-meta.h: installed, compiles with GStreamer alone"

# -- pipelines/embed as a stand-alone project, on the installed plugin --
if ! { meson setup "$dest/embed-build" "$source_root/pipelines/embed" &&
        ninja -C "$dest/embed-build"; } > "$dest/embed.log" 2>&1; then
  cat "$dest/embed.log"
  fail "pipelines/embed does not build on its own"
fi
"$PH_MAKE_TEST_MODEL" "$dest/model.phm" 16000 17
gst-launch-1.0 -q audiotestsrc num-buffers=20 samplesperbuffer=1600 wave=pink-noise ! \
  audio/x-raw,rate=16000,channels=1 ! wavenc ! filesink location="$dest/noise.wav"
out="$(GST_PLUGIN_PATH="$root$plugin_dir" "$dest/embed-build/phonemes-embed" "$dest/noise.wav" \
  "$dest/model.phm")" || fail "phonemes-embed on the installed plugin failed: $out"
grep -q "^[1-9][0-9]* phoneme messages$" <<< "$out" || fail "phonemes-embed: no phonemes: $out"
echo "pipelines/embed (stand-alone build) on the installed plugin: $(grep -c '^phoneme ' <<< "$out") phones"
echo "ok"
