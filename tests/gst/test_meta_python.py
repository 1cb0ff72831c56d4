#!/usr/bin/python3
"""Reads the GstPhonemeMeta from Python (PyGObject) with nothing but GStreamer's own
introspection data: no library of this project is loaded besides the plugin itself.
Then the same through pipelines/phonemes_meta.py, the helper that gives the frames as
tuples and the posteriors and features as float32 memoryviews: they must agree.
Exits 77 (skipped) when PyGObject or the GStreamer typelib is not importable."""
import os
import struct
import subprocess
import sys
import tempfile
import warnings

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
except (ImportError, ValueError) as error:
    print("SKIP: PyGObject with Gst 1.0 not importable: %s" % error)
    sys.exit(77)

NUM_PHONES = 61

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "pipelines"))
import phonemes_meta  # noqa: E402


def array_field(structure, name):
    """A GstValueArray field as a list. Plain PyGObject cannot convert GstValueArray
    (only gst-python's overrides can), but gst_structure_get_array() hands it over as
    a GValueArray, which it can."""
    ok, array = structure.get_array(name)
    assert ok, "field %s is not an array" % name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # GValueArray is deprecated
        return [array.get_nth(i) for i in range(array.n_values)]


def check_helper(structure, timestamps, phones, indices, confidence, posteriors, features,
                 n, dim):
    """pipelines/phonemes_meta.py gives the same frames, posteriors and features."""
    frames = phonemes_meta.frames(structure)
    assert frames == [(timestamps[i], 10 * Gst.MSECOND, phones[i], indices[i], confidence[i])
                      for i in range(n)], frames
    post = phonemes_meta.posteriors(structure)
    feat = phonemes_meta.features(structure)
    assert post.format == "f" and post.shape == (n, NUM_PHONES), (post.format, post.shape)
    assert feat.format == "f" and feat.shape == (n, dim), (feat.format, feat.shape)
    assert post.tolist() == [list(struct.unpack_from("<%df" % NUM_PHONES, posteriors,
                                                     i * NUM_PHONES * 4)) for i in range(n)]
    assert feat.tobytes() == bytes(features) or sys.byteorder != "little"
    try:
        import numpy
    except ImportError:
        return
    array = numpy.asarray(post)
    assert array.shape == (n, NUM_PHONES) and array.dtype == numpy.float32
    assert list(array.argmax(axis=1)) == indices


def check_meta(structure, seen):
    assert structure.get_name() == "phoneme-meta", structure.get_name()
    n = structure.get_value("n-frames")
    dim = structure.get_value("dim")
    timestamps = array_field(structure, "timestamps")
    phones = array_field(structure, "phones")
    indices = array_field(structure, "phone-index")
    confidence = array_field(structure, "confidence")
    assert n >= 1 and dim >= 1
    assert len(timestamps) == len(phones) == len(indices) == len(confidence) == n
    assert structure.get_value("frame-duration") == 10 * Gst.MSECOND
    posteriors = structure.get_value("posteriors").get_data()
    features = structure.get_value("features").get_data()
    assert len(posteriors) == n * NUM_PHONES * 4
    assert phonemes_meta.get(None) is None
    assert len(features) == n * dim * 4
    check_helper(structure, timestamps, phones, indices, confidence, posteriors, features,
                 n, dim)
    for i in range(n):
        row = struct.unpack_from("<%df" % NUM_PHONES, posteriors, i * NUM_PHONES * 4)
        assert abs(sum(row) - 1.0) < 1e-3, sum(row)
        best = max(range(NUM_PHONES), key=lambda k: row[k])
        assert best == indices[i] and abs(row[best] - confidence[i]) < 1e-6
        if seen["frames"]:
            assert timestamps[i] == seen["next"], (timestamps[i], seen["next"])
        seen["next"] = timestamps[i] + 10 * Gst.MSECOND
        seen["frames"] += 1
        seen["phones"].add(phones[i])


def main():
    Gst.init(None)
    if Gst.ElementFactory.find("lstmphonemes") is None:
        print("FAIL: lstmphonemes not found (GST_PLUGIN_PATH?)")
        return 1
    with tempfile.TemporaryDirectory(prefix="lstmphonemes-py-") as tmp:
        model = os.path.join(tmp, "model.phm")
        subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], model, "16000", "7"], check=True)
        pipeline = Gst.parse_launch(
            "audiotestsrc num-buffers=50 samplesperbuffer=441 wave=pink-noise ! "
            "audio/x-raw,format=S16LE,rate=16000,channels=1 ! "
            "lstmphonemes model=\"%s\" ! identity ! queue ! fakesink name=sink" % model)
        seen = {"frames": 0, "next": 0, "phones": set(), "errors": []}

        def probe(pad, info):
            try:
                buffer = info.get_buffer()
                meta = buffer.get_custom_meta("GstPhonemeMeta")
                if meta is not None:
                    assert phonemes_meta.get(buffer).to_string() == \
                        meta.get_structure().to_string()
                    check_meta(meta.get_structure(), seen)
            except Exception as error:  # reported after the run, not lost in a thread
                seen["errors"].append(repr(error))
            return Gst.PadProbeReturn.OK

        sink = pipeline.get_by_name("sink").get_static_pad("sink")
        sink.add_probe(Gst.PadProbeType.BUFFER, probe)
        pipeline.set_state(Gst.State.PLAYING)
        msg = pipeline.get_bus().timed_pop_filtered(
            Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        pipeline.set_state(Gst.State.NULL)
        if msg.type == Gst.MessageType.ERROR:
            print("FAIL: %s" % (msg.parse_error(),))
            return 1
    if seen["errors"]:
        print("FAIL: " + seen["errors"][0])
        return 1
    if seen["frames"] < 100:
        print("FAIL: only %d frames in metas" % seen["frames"])
        return 1
    print("read %d frames from Python, phones seen: %s" % (seen["frames"], sorted(seen["phones"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
