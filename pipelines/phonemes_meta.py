"""phonemes_meta: the phoneme meta that lstmphonemes attaches to audio buffers, read
from Python (PyGObject) as plain values, with nothing but GStreamer's own introspection
data (no library of this project).

    import phonemes_meta                      # sys.path: this folder (pipelines/)
    for timestamp, duration, phone, index, confidence in phonemes_meta.frames(buffer):
        ...
    p = phonemes_meta.posteriors(buffer)      # memoryview, float32, shape (n, 61)
    numpy.asarray(p).argmax(axis=1)           # numpy takes it without a copy
    f = phonemes_meta.features(buffer)        # memoryview, float32, shape (n, dim)

Every function takes a Gst.Buffer or the meta's Gst.Structure, and returns None (or an
empty list) when there is no meta. The frames of a buffer's meta lie up to the
element's latency before the buffer: use each frame's timestamp (ns), not the buffer's.
The C equivalent is the installed header phonemes-meta.h.
"""
import sys
import warnings

from gi.repository import Gst

META_NAME = "GstPhonemeMeta"
NUM_PHONES = 61


def get(buffer):
    """The meta's Gst.Structure ("phoneme-meta") of `buffer`, or None."""
    if buffer is None:
        return None
    meta = buffer.get_custom_meta(META_NAME)
    return meta.get_structure() if meta is not None else None


def _structure(source):
    return source if isinstance(source, Gst.Structure) else get(source)


def _array(structure, name):
    # Plain PyGObject cannot convert a GstValueArray field with get_value() (only
    # gst-python's overrides can); get_array() hands it over as a GValueArray.
    ok, array = structure.get_array(name)
    if not ok:
        raise ValueError("phoneme meta: field %s is not an array" % name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # GValueArray is deprecated
        return [array.get_nth(i) for i in range(array.n_values)]


def frames(source):
    """The frames as (timestamp_ns, duration_ns, phone, phone_index, confidence) tuples,
    in time order: TIMIT symbol and index (0..60) of the most likely phone, and its
    posterior."""
    s = _structure(source)
    if s is None:
        return []
    duration = s.get_value("frame-duration")
    return list(zip(_array(s, "timestamps"), [duration] * s.get_value("n-frames"),
                    _array(s, "phones"), _array(s, "phone-index"), _array(s, "confidence")))


def _floats(s, field, columns):
    data = s.get_value(field).get_data()
    rows = len(data) // (4 * columns) if columns else 0
    if rows * 4 * columns != len(data):
        raise ValueError("phoneme meta: %s holds %d bytes, not rows of %d floats"
                         % (field, len(data), columns))
    view = memoryview(data)
    if sys.byteorder != "little":          # the meta stores little-endian float32
        import array
        values = array.array("f", data)
        values.byteswap()
        view = memoryview(values).cast("B")
    return view.cast("f", (rows, columns))


def posteriors(source):
    """The 61 phone posteriors of each frame: a read-only float32 memoryview of shape
    (n_frames, 61), in the phone set's order; None without a meta."""
    s = _structure(source)
    return _floats(s, "posteriors", NUM_PHONES) if s is not None else None


def features(source):
    """The raw feature frames (what lstmadapt trains on): a read-only float32 memoryview
    of shape (n_frames, dim); None without a meta."""
    s = _structure(source)
    return _floats(s, "features", s.get_value("dim")) if s is not None else None
