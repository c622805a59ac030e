"""How the grader and a student's kernel exchange data: values as JSON, and the recorder cell.

The grader never trusts the kernel. It sends the hidden inputs of one question inside a code
cell it writes itself (the *recorder cell*), together with a fresh random nonce. That cell calls
the student's functions on the inputs, encodes whatever comes back as plain JSON (numbers,
strings, lists, and arrays as base64 of their raw bytes; never pickle), and publishes it as a
``display_data`` message of the MIME type ``RECORD_MIME``, tagged with the nonce.

The grader accepts a record only if it arrived on the reply channel of *that* execute request
(matched by its msg_id), carries the nonce of *that* request, and is the only such record. A
record printed by the student's own cells, or written to a file, is never read. Code in the kernel
can still change what the recorder publishes; but all it can put there is *some output for
the hidden inputs*, which the grader then judges against its references in its own process,
exactly as it judges the output of the student's function. Patching numpy, the checker, or
``assert`` inside the kernel therefore changes nothing.
"""

import base64
import json
import math

import numpy as np

RECORD_MIME = "application/vnd.descent.record+json"
MAX_RECORD_BYTES = 64 * 2 ** 20
ALLOWED_KINDS = "biuf"  # booleans, integers, unsigned integers, floats (no objects, no strings)


class BadRecord(ValueError):
    """The kernel sent something that is not a well-formed record."""


# ---------------------------------------------------------------------------
# Values <-> JSON (the same code runs on both sides: see KERNEL_HELPERS)
# ---------------------------------------------------------------------------


def encode(value, depth=0):
    """A JSON-able form of ``value``: arrays, numbers, strings, None, lists/tuples, str-keyed dicts."""
    if depth > 20:
        return {"__unsupported__": "nested too deeply"}
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in ALLOWED_KINDS:
            return {"__unsupported__": f"array of dtype {array.dtype}"}
        return {"__ndarray__": base64.b64encode(array.tobytes(order="C")).decode("ascii"),
                "dtype": array.dtype.str, "shape": list(array.shape)}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 62 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, (list, tuple)):
        return {"__tuple__": [encode(v, depth + 1) for v in value]} if isinstance(value, tuple) \
            else [encode(v, depth + 1) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, depth + 1) for k, v in value.items()}}
    return {"__unsupported__": type(value).__name__}


class Unsupported:
    """Something the kernel could not encode (a function, an object, ...); never equal to anything."""

    def __init__(self, what):
        self.what = str(what)[:200]

    def __repr__(self):
        return f"<{self.what}>"


class Raised:
    """The student's code raised; ``message`` is what it said."""

    def __init__(self, message):
        self.message = str(message)[:500]

    def __repr__(self):
        return f"raised {self.message}"


def decode(data, depth=0):
    """The value ``encode`` gave, rebuilt strictly (anything unexpected raises BadRecord)."""
    if depth > 25:
        raise BadRecord("nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, (int, float)):
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if isinstance(data, dict):
        if set(data) == {"__ndarray__", "dtype", "shape"}:
            dtype = np.dtype(str(data["dtype"]))
            if dtype.kind not in ALLOWED_KINDS:
                raise BadRecord(f"dtype {dtype} is not allowed")
            shape = tuple(int(n) for n in data["shape"])
            raw = base64.b64decode(data["__ndarray__"], validate=True)
            if len(raw) != dtype.itemsize * math.prod(shape):
                raise BadRecord("array size does not match its shape")
            return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if set(data) == {"__tuple__"}:
            return tuple(decode(v, depth + 1) for v in data["__tuple__"])
        if set(data) == {"__dict__"}:
            return {str(k): decode(v, depth + 1) for k, v in data["__dict__"].items()}
        if set(data) == {"__float__"}:
            return float(data["__float__"]) if data["__float__"] in ("nan", "inf", "-inf") else math.nan
        if set(data) == {"__unsupported__"}:
            return Unsupported(data["__unsupported__"])
        if set(data) == {"__raised__"}:
            return Raised(data["__raised__"])
    raise BadRecord(f"unexpected value in a record: {str(data)[:80]}")


# ---------------------------------------------------------------------------
# The recorder cell
# ---------------------------------------------------------------------------

# Runs in the kernel. Everything it needs is defined inside one function, so it leaves no
# names behind in the student's namespace; its source holds no reference and no expected value.
RECORDER_TEMPLATE = r'''
def __descent_recorder():
    import base64, copy as _copy, json as _json, math
    import numpy as np
    ALLOWED_KINDS = {kinds!r}
    from IPython import get_ipython as _get_ipython
{helpers}
    def call(function, *args, **kwargs):
        """[output or raised, whether an argument was changed in place]"""
        if not callable(function):
            return [{{"__raised__": "not a function: " + type(function).__name__}}, False]
        before = _copy.deepcopy((args, kwargs))
        try:
            out = function(*args, **kwargs)
        except BaseException as error:  # noqa: the student's code may raise anything
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            return [{{"__raised__": type(error).__name__ + ": " + str(error)}}, False]
        return [encode(out), not _same(before, (args, kwargs))]

    def _same(a, b):
        try:
            if isinstance(a, np.ndarray):
                return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
            if isinstance(a, (list, tuple)):
                return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
            if isinstance(a, dict):
                return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
            return True
        except Exception:
            return False

    def value(name):
        if name not in _namespace:
            return {{"__raised__": "NameError: " + name + " is not defined"}}
        return encode(_namespace[name])

    _namespace = _get_ipython().user_ns
    inputs = decode(_json.loads({inputs!r}))
    env = dict(_namespace)
    env.update(np=np, inputs=inputs, call=call, value=value, encode=encode)
    exec({snippet!r}, env)
    payload = _json.dumps({{"nonce": {nonce!r}, "outputs": env["outputs"]}})
    _get_ipython().display_pub.publish(data={{{mime!r}: payload}}, metadata={{}})

__descent_recorder()
del __descent_recorder
'''


def _helpers_source():
    """``encode`` and ``decode`` as source, indented to sit inside the recorder function."""
    import inspect
    import textwrap

    text = "\n".join(inspect.getsource(f) for f in (encode, decode))
    text = text.replace("raise BadRecord(", "raise ValueError(").replace("Unsupported(", "dict(__unsupported__=")
    text = text.replace("Raised(", "dict(__raised__=")
    return textwrap.indent(text, "    ")


def recorder_cell(snippet, inputs, nonce):
    """The code of the recorder cell for one question (``snippet`` sets ``outputs``)."""
    return RECORDER_TEMPLATE.format(helpers=_helpers_source(), inputs=json.dumps(encode(inputs)),
                                    snippet=snippet, nonce=nonce, mime=RECORD_MIME,
                                    kinds=ALLOWED_KINDS)


def read_record(messages, nonce):
    """The decoded outputs from a recorder cell's iopub ``messages``; BadRecord if there is none.

    Exactly one ``display_data`` of ``RECORD_MIME`` with this ``nonce`` must be among them.
    """
    found = []
    for message in messages:
        if message.get("msg_type") != "display_data":
            continue
        payload = message.get("content", {}).get("data", {}).get(RECORD_MIME)
        if payload is None:
            continue
        if not isinstance(payload, str) or len(payload) > MAX_RECORD_BYTES:
            raise BadRecord("record too large or not text")
        try:
            record = json.loads(payload)
        except ValueError as error:
            raise BadRecord(f"record is not JSON: {error}") from None
        if isinstance(record, dict) and record.get("nonce") == nonce:
            found.append(record)
    if len(found) != 1:
        raise BadRecord("no record" if not found else f"{len(found)} records for one request")
    return decode(found[0].get("outputs"))
