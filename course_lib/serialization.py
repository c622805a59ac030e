"""Saving and loading model and optimizer state as ``.npz`` files (no pickle).

A *state* is a dict whose values are arrays, numbers, booleans, strings,
tuples of numbers or other such dicts, e.g. ``model.state_dict()``,
``optimizer.state_dict()``, or both at once::

    save("fashion_mlp.npz", {"model": model.state_dict(), "optimizer": optimizer.state_dict()})
    state = load("fashion_mlp.npz")
    model.load_state_dict(state["model"])

or, shorter, with the helpers::

    save_checkpoint("fashion_mlp.npz", model, optimizer)
    load_checkpoint("fashion_mlp.npz", model, optimizer)   # checks names and shapes first

How it is stored
----------------
``.npz`` is NumPy's format: a zip file holding one ``.npy`` array per name.
A nested dict is flattened, its keys joined with ``/``::

    {"model": {"0.weight": W}, "optimizer": {"step": 3}}
    ->  "model/0.weight": W,  "optimizer/step": array(3)

plus one entry, ``__types__``, that remembers (as JSON text) which entries
were Python numbers, booleans, strings, tuples or empty dicts, so that
``load`` gives back exactly what ``save`` was given. Both directions use
``allow_pickle=False``: a file can never run code when it is loaded.

The file is written *atomically*: first to a temporary file in the same
folder, then renamed over the target (``os.replace``). If writing fails
half-way (disk full, interrupted), the old file is untouched and no partial
file is left behind.
"""

import json
import os
import zipfile

import numpy as np

from .errors import DataFileError, StateDictError
from .files import write_atomically

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "check_model_state",
           "SEPARATOR"]

SEPARATOR = "/"
TYPES_KEY = "__types__"


class MissingFileError(DataFileError, FileNotFoundError):
    """The file to load does not exist."""


# ===========================================================================
# Flattening a nested dict into names -> arrays, and back
# ===========================================================================

def _flatten(state, prefix, arrays, types):
    if not isinstance(state, dict):
        raise TypeError(f"a state must be a dict, got {type(state).__name__}")
    if not state and prefix:
        types[prefix.rstrip(SEPARATOR)] = "dict"            # remember an empty dict
    for key, value in state.items():
        if not isinstance(key, str):
            key = str(key)
        if SEPARATOR in key or key == TYPES_KEY or not key:
            raise ValueError(f"cannot save the key {prefix + key!r}: keys must be non-empty "
                             f"and must not contain {SEPARATOR!r}")
        name = prefix + key
        if isinstance(value, dict):
            _flatten(value, name + SEPARATOR, arrays, types)
        elif isinstance(value, (bool, np.bool_)):
            arrays[name], types[name] = np.array(bool(value)), "bool"
        elif isinstance(value, (int, np.integer)):
            if -2**63 <= int(value) < 2**63:
                arrays[name], types[name] = np.array(int(value), dtype=np.int64), "int"
            else:                                            # e.g. a random generator's state
                arrays[name], types[name] = np.array(str(int(value))), "bigint"
        elif isinstance(value, (float, np.floating)) and not isinstance(value, np.ndarray):
            arrays[name], types[name] = np.array(float(value)), "float"
        elif isinstance(value, str):
            arrays[name], types[name] = np.array(value), "str"
        elif isinstance(value, (tuple, list)):
            arrays[name] = _plain_array(name, value)
            types[name] = type(value).__name__
        elif isinstance(value, np.ndarray):
            arrays[name] = _plain_array(name, value)
        elif value is None:
            raise ValueError(f"cannot save {name!r}: its value is None (store a number, an "
                             "array or leave the key out)")
        else:
            raise ValueError(f"cannot save {name!r}: values must be arrays, numbers, booleans, "
                             f"strings, tuples or dicts, not {type(value).__name__}")
    return arrays, types


def _plain_array(name, value):
    array = np.asarray(value)
    if array.dtype == object:
        raise ValueError(f"cannot save {name!r}: it would need pickle (an array of Python "
                         "objects); store numbers of one type")
    return array


def _unflatten(arrays, types):
    state = {}
    for name in sorted(set(arrays) | set(types)):
        kind = types.get(name)
        *parents, key = name.split(SEPARATOR)
        node = state
        for parent in parents:
            node = node.setdefault(parent, {})
        if kind == "dict":
            node.setdefault(key, {})
            continue
        array = arrays[name]
        if kind in ("bool", "int", "float", "str"):
            node[key] = array.item()
        elif kind == "bigint":
            node[key] = int(array.item())
        elif kind == "tuple":
            node[key] = tuple(array.tolist())
        elif kind == "list":
            node[key] = array.tolist()
        else:
            node[key] = array
    return state


# ===========================================================================
# save / load
# ===========================================================================

def save(path, state):
    """Write ``state`` (a possibly nested dict) to ``path`` as ``.npz``, atomically.

    ``.npz`` is added to ``path`` if it has no such ending (as ``np.savez``
    does). Returns the path written.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays, types = _flatten(state, "", {}, {})
    arrays[TYPES_KEY] = np.array(json.dumps(types))
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path}: the folder {folder} does not exist; "
                                f"create it first (os.makedirs({folder!r}))")
    write_atomically(path, lambda file: np.savez(file, allow_pickle=False, **arrays))
    return path


def _file_kind(path):
    """What a file looks like from its first bytes: "npz" (a zip), or a description."""
    with open(path, "rb") as file:
        start = file.read(8)
    if start.startswith(b"PK"):
        return "npz"
    if not start:
        return "an empty file"
    if start.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy, from np.save; read it with np.load)"
    if start[:1] == b"\x80":
        return "a Python pickle (e.g. from pickle.dump or torch.save)"
    if start.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file"
    if start.startswith(b"\x89HDF"):
        return "an HDF5 file (e.g. a Keras .h5 model)"
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError:
        return f"a binary file of another kind (it starts with {start!r})"
    return f"a text file (it starts with {text!r})"


def load(path):
    """Read a state written by ``save``; returns the same nested dict."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    if not os.path.exists(path):
        raise MissingFileError(f"no such file: {path}. Check the name and the folder "
                               f"(the current folder is {os.getcwd()}), or save it first with "
                               "save(path, state) / save_checkpoint(path, model, optimizer).")
    kind = _file_kind(path)
    if kind != "npz":
        raise DataFileError(f"{path} is {kind}, not a .npz file written by course_lib.save. "
                            "load() reads only what save(path, state) wrote (a zip of arrays, "
                            "never a pickle, so that loading a file cannot run code): check the "
                            "file name, or save it again with save(path, state).")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise DataFileError(
            f"{path} is not a readable .npz file saved by course_lib.save ({error}). It may be "
            "truncated or from another program: save it again with save(path, state).") from None
    if TYPES_KEY not in arrays:
        raise DataFileError(
            f"{path} is a NumPy .npz archive (arrays {sorted(arrays)[:5]}) but was not written by "
            "course_lib.save: it lacks the record of the state's structure. Read it with "
            "np.load(path), or save the state again with course_lib.save(path, state).")
    types = json.loads(str(arrays.pop(TYPES_KEY))) if TYPES_KEY in arrays else {}
    return _unflatten(arrays, types)


# ===========================================================================
# Model + optimizer together
# ===========================================================================

def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra):
    """Save a model's parameters, and optionally its optimizer and scheduler, in one file.

    ``extra`` values (e.g. ``epoch=5``) are stored too and come back from
    ``load_checkpoint``. Returns the path written.
    """
    state = {"model": model.state_dict()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    state.update(extra)
    return save(path, state)


def check_model_state(model, model_state, source="the state"):
    """Raise a clear error unless ``model_state`` has exactly the model's names and shapes
    (``Module.check_state_dict``, with ``source`` naming the file in the message)."""
    model.check_state_dict(model_state, source=source)


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Load a file from ``save_checkpoint`` (or ``save(path, model.state_dict())``) into
    ``model`` and optionally ``optimizer`` and ``scheduler``.

    Names and shapes are checked before anything changes. Values are copied
    *in place* into the parameters, so an optimizer built on the model keeps
    working. Returns the whole loaded state (e.g. ``state["epoch"]``).
    """
    state = load(path)
    model_state = state["model"] if isinstance(state.get("model"), dict) else state
    check_model_state(model, model_state, source=os.fspath(path))
    if optimizer is not None and "optimizer" not in state:
        raise StateDictError(f"{os.fspath(path)} holds no optimizer state; save it with "
                             "save_checkpoint(path, model, optimizer), or load only the model")
    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    return state
