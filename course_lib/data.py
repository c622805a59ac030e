"""The course's datasets, and the small tools that feed them to a model.

Everything here reads files that ship with the course in ``data/``; nothing
is ever downloaded.

Loading
-------
- ``load_fashion_mnist()`` -> ``(X_train, y_train), (X_test, y_test)``, exactly
  what ``keras.datasets.fashion_mnist.load_data()`` returns: uint8 arrays of
  shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).
  ``FASHION_MNIST_CLASSES[label]`` is the name of a label.
- ``load_red_wine()``, ``load_cereals()``, ``load_california_housing()``
  -> ``(X, y, feature_names)``: X float64 of shape (n_examples, n_features),
  y float64 of shape (n_examples,), feature_names a list of n_features strings.

Preparing
---------
- ``min_max_scale(X)`` / ``standardize(X)`` -> ``(X_scaled, scaler)``; the
  scaler applies the *same* scaling to new data: ``scaler.transform(X_val)``.
- ``train_val_split(X, y, val_fraction=0.2, seed=0)``
  -> ``X_train, X_val, y_train, y_val``.
- ``DataLoader(X, y, batch_size)`` hands out mini-batches, one epoch per loop.

Integrity
---------
Every file is checked against its SHA-256 sum in ``data/SHA256SUMS``. A file
that is missing, truncated, corrupted or in the wrong format raises
``DataFileError`` naming the file, what is wrong and how to restore it; no
partial data is ever returned. Checking is cheap when repeated: a file whose
size and modification time have not changed since it was checked in this
Python process is not hashed again, and the decoded Fashion-MNIST arrays are
kept in ``data/.cache/`` (as ``.npy`` files with their own checksums), so a
second load, even after a kernel restart, takes a fraction of a second.

Where the data lives
--------------------
``data/`` next to the ``course_lib`` package (the repository's folder). Point
elsewhere with the environment variable ``DESCENT_DATA_DIR`` or the
``data_dir=`` argument every loader takes.
"""

import csv
import gzip
import hashlib
import json
import math
import os
import shutil
import zlib
from pathlib import Path

import numpy as np

from course_lib import checks
from course_lib.errors import DataFileError, HyperparameterError, ShapeError
from course_lib.files import write_atomically

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DATA_DIR_ENV",
    "get_data_dir",
    "verify_data_files",
    "clear_cache",
    "load_fashion_mnist",
    "load_red_wine",
    "load_cereals",
    "load_california_housing",
    "MinMaxScaler",
    "StandardScaler",
    "min_max_scale",
    "standardize",
    "train_val_split",
    "DataLoader",
]

# Label i of Fashion-MNIST is FASHION_MNIST_CLASSES[i] (Zalando's order, as in Keras).
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

DATA_DIR_ENV = "DESCENT_DATA_DIR"
MANIFEST_NAME = "SHA256SUMS"
CACHE_DIR_NAME = ".cache"

# The four Fashion-MNIST files: path inside data/, the IDX magic number, the shape.
# Magic 2051 = 0x00000803: unsigned bytes (0x08), 3 dimensions (images).
# Magic 2049 = 0x00000801: unsigned bytes (0x08), 1 dimension (labels).
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
FASHION_MNIST_FILES = {
    "train_images": ("fashion-mnist/train-images-idx3-ubyte.gz", IDX_IMAGES_MAGIC, (60000, 28, 28)),
    "train_labels": ("fashion-mnist/train-labels-idx1-ubyte.gz", IDX_LABELS_MAGIC, (60000,)),
    "test_images": ("fashion-mnist/t10k-images-idx3-ubyte.gz", IDX_IMAGES_MAGIC, (10000, 28, 28)),
    "test_labels": ("fashion-mnist/t10k-labels-idx1-ubyte.gz", IDX_LABELS_MAGIC, (10000,)),
}
RED_WINE_FILE = "wine-quality/winequality-red.csv"
CEREALS_FILE = "cereals/cereal.csv"
CALIFORNIA_FILE = "california-housing/housing.csv"


# ---------------------------------------------------------------------------
# Finding the data folder and checking files
# ---------------------------------------------------------------------------

def get_data_dir(data_dir=None):
    """Return the folder that holds the datasets, as a ``Path``.

    In order: the ``data_dir`` argument if given, else the environment variable
    ``DESCENT_DATA_DIR`` if set, else ``data/`` next to the ``course_lib``
    package (the repository's own folder).
    """
    if data_dir is not None:
        return Path(data_dir)
    from_environment = os.environ.get(DATA_DIR_ENV)
    if from_environment:
        return Path(from_environment)
    return Path(__file__).resolve().parent.parent / "data"


def _is_repository_data_dir(folder):
    return Path(folder).resolve() == (Path(__file__).resolve().parent.parent / "data")


def _restore_advice(folder, relative_path):
    """How to get a good copy of ``data/<relative_path>`` back."""
    if _is_repository_data_dir(folder):
        return (
            "To restore it, run in the course folder:\n"
            f"    git checkout -- data/{relative_path}\n"
            "(or download / clone the course repository again)."
        )
    advice = f"To restore it, copy data/{relative_path} of a fresh copy of the course repository to {Path(folder) / relative_path}"
    if os.environ.get(DATA_DIR_ENV):
        advice += f" (or unset {DATA_DIR_ENV} to use the course's own data/ folder)"
    return advice + "."


def _damaged(folder, relative_path, problem):
    """Build the DataFileError for one file: which file, what is wrong, how to fix it."""
    path = Path(folder) / relative_path
    message = f"Data file {path} {problem}\n{_restore_advice(folder, relative_path)}"
    return DataFileError(message)


def _read_manifest(folder):
    """Read ``SHA256SUMS``: a dict {relative path: sha256 hex digest}.

    The format is the one ``sha256sum`` writes and ``sha256sum -c`` checks:
    one line per file, ``<64 hex digits>  <path relative to data/>``.
    """
    if not Path(folder).is_dir():
        raise DataFileError(
            f"The data folder {folder} does not exist. course_lib looks for the data/ folder of the "
            f"course repository next to the course_lib package (install it from the course folder with "
            f"`pip install -e .` or `python3 course.py setup`), or in the folder named by the environment "
            f"variable {DATA_DIR_ENV} or the data_dir= argument."
        )
    manifest = Path(folder) / MANIFEST_NAME
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _damaged(folder, MANIFEST_NAME, "is missing: it lists the checksum of every data file.") from None
    except OSError as error:
        raise _damaged(folder, MANIFEST_NAME, f"cannot be read ({error}).") from None
    checksums = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        checksums[name.strip().lstrip("*")] = digest.lower()
    return checksums


# Files already hashed in this Python process: (path, inode, size, mtime_ns) -> sha256.
# A file whose size and modification time are unchanged is not hashed again.
_HASHED_FILES = {}


def _file_sha256(path):
    """SHA-256 of a file (hex), remembered for as long as its size and mtime don't change."""
    status = os.stat(path)
    key = (str(Path(path).resolve()), status.st_ino, status.st_size, status.st_mtime_ns)
    if key not in _HASHED_FILES:
        with open(path, "rb") as file:
            _HASHED_FILES[key] = hashlib.file_digest(file, "sha256").hexdigest()
    return _HASHED_FILES[key]


def _check_file(folder, relative_path, checksums, diagnose=None):
    """Make sure ``folder/relative_path`` exists and matches its SHA-256 sum.

    Returns the path and its checksum. On a mismatch, ``diagnose(path)`` (if
    given) is asked for a more specific reason, e.g. "the file is truncated".
    Raises DataFileError otherwise.
    """
    path = Path(folder) / relative_path
    if not path.is_file():
        raise _damaged(folder, relative_path, "is missing.")
    expected = checksums.get(relative_path)
    if expected is None:
        raise _damaged(folder, relative_path, f"has no checksum in {Path(folder) / MANIFEST_NAME}.")
    try:
        actual = _file_sha256(path)
    except OSError as error:
        raise _damaged(folder, relative_path, f"cannot be read ({error}).") from None
    if actual != expected:
        reason = "Its contents differ from the published file."
        if diagnose is not None:
            try:
                diagnose(path)
            except DataFileError as error:
                reason = "It " + str(error.args[0])
        raise _damaged(
            folder,
            relative_path,
            f"is damaged: its SHA-256 checksum does not match {MANIFEST_NAME} "
            f"(expected {expected[:12]}..., found {actual[:12]}...). {reason}",
        )
    return path, actual


def verify_data_files(data_dir=None):
    """Check every file listed in ``SHA256SUMS``; return a list of problems (empty = all good).

    Each problem is the message of the DataFileError that loading would raise.
    Used by the pre-flight check.
    """
    folder = get_data_dir(data_dir)
    try:
        checksums = _read_manifest(folder)
    except DataFileError as error:
        return [str(error)]
    problems = []
    for relative_path in sorted(checksums):
        diagnose = None
        for name, magic, shape in FASHION_MNIST_FILES.values():
            if name == relative_path:
                diagnose = _make_idx_diagnosis(magic, shape)
        try:
            _check_file(folder, relative_path, checksums, diagnose)
        except DataFileError as error:
            problems.append(str(error))
    return problems


# ---------------------------------------------------------------------------
# Fashion-MNIST: IDX files inside gzip
# ---------------------------------------------------------------------------

class _IdxProblem(DataFileError):
    """Raised by the IDX reader; the message says what is wrong (no file name)."""


_CHUNK_BYTES = 1 << 20


def _read_idx_gz(path, expected_magic, expected_shape):
    """Decode one gzip-compressed IDX file into a new uint8 array of ``expected_shape``.

    The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header
    - 4 bytes: the magic number (2051 for images, 2049 for labels),
    - 4 bytes per dimension: its size,
    then the values as unsigned bytes, row by row.

    The values are decompressed 1 MiB at a time straight into the array (so
    memory never holds a second full copy), and the gzip trailer's CRC-32 and
    length are checked at the end. Raises
    ``_IdxProblem`` describing the first thing found wrong.
    """
    ndim = len(expected_shape)
    try:
        with gzip.open(path, "rb") as file:
            magic = int.from_bytes(_read_exactly(file, 4), "big")
            if magic != expected_magic:
                kind = {IDX_IMAGES_MAGIC: "an image file", IDX_LABELS_MAGIC: "a label file"}
                raise _IdxProblem(
                    f"is in the wrong format: its IDX magic number is {magic}, expected "
                    f"{expected_magic} ({kind[expected_magic]})."
                )
            header = np.frombuffer(_read_exactly(file, 4 * ndim), dtype=">u4")
            shape = tuple(int(size) for size in header)
            if shape != tuple(expected_shape):
                raise _IdxProblem(
                    f"is in the wrong format: its header gives the shape {shape}, expected {tuple(expected_shape)}."
                )
            values = np.empty(shape, dtype=np.uint8)
            buffer = values.reshape(-1)  # a flat view: filling it fills ``values``
            filled = 0
            while filled < buffer.size:
                # Read 1 MiB at a time, so memory holds the array plus one small piece.
                piece = file.read(min(_CHUNK_BYTES, buffer.size - filled))
                if not piece:
                    raise _IdxProblem(
                        f"is truncated: it holds {filled:,} of the {buffer.size:,} bytes its header announces."
                    )
                buffer[filled:filled + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
                filled += len(piece)
            if file.read(1):  # also makes gzip check the CRC-32 and length in the trailer
                raise _IdxProblem("is in the wrong format: it holds more bytes than its header announces.")
    except _IdxProblem:
        raise
    except EOFError:
        raise _IdxProblem("is truncated: the compressed data ends before the end of the gzip stream.") from None
    except gzip.BadGzipFile as error:
        raise _IdxProblem(f"is corrupted: not a valid gzip file ({error}).") from None
    except zlib.error as error:
        raise _IdxProblem(f"is corrupted: the compressed data cannot be decoded ({error}).") from None
    except OSError as error:
        raise _IdxProblem(f"cannot be read ({error}).") from None
    return values


def _read_exactly(file, count):
    data = file.read(count)
    if len(data) != count:
        raise _IdxProblem(f"is truncated: it ends inside the {count}-byte IDX header.")
    return data


def _make_idx_diagnosis(magic, shape):
    """A function that tries to decode an IDX file, to explain a checksum mismatch."""
    def diagnose(path):
        _read_idx_gz(path, magic, shape)
    return diagnose


def _cache_folder(folder):
    return Path(folder) / CACHE_DIR_NAME / "fashion-mnist"


def _read_cached_array(cache_folder, stem, source_sha256, shape):
    """The decoded array from ``<stem>.npy`` if the cache is valid, else None.

    Valid means: ``<stem>.json`` says it was decoded from a file with exactly
    this SHA-256, the ``.npy`` file's own SHA-256 matches the one recorded
    there, and the array has the right shape and dtype. Any doubt -> None,
    and the caller decodes the original file again.
    """
    array_path = cache_folder / f"{stem}.npy"
    stamp_path = cache_folder / f"{stem}.json"
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        if not isinstance(stamp, dict):          # a damaged stamp: decode again, rewrite it
            return None
        if stamp.get("source_sha256") != source_sha256:
            return None
        if _file_sha256(array_path) != stamp.get("npy_sha256"):
            return None
        values = np.load(array_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if values.shape != tuple(shape) or values.dtype != np.uint8:
        return None
    return values


def _write_cached_array(cache_folder, stem, source_sha256, values):
    """Save ``values`` as ``<stem>.npy`` with a ``<stem>.json`` stamp. Failing to cache is not an error."""
    array_path = cache_folder / f"{stem}.npy"
    stamp_path = cache_folder / f"{stem}.json"
    try:
        cache_folder.mkdir(parents=True, exist_ok=True)
        write_atomically(array_path, lambda file: np.save(file, values, allow_pickle=False))
        stamp = {
            "source_sha256": source_sha256,
            "npy_sha256": _file_sha256(array_path),
            "shape": list(values.shape),
            "dtype": str(values.dtype),
        }
        text = json.dumps(stamp, indent=1).encode("utf-8")
        write_atomically(stamp_path, lambda file: file.write(text))
    except OSError:
        pass  # e.g. a read-only data folder: loading still works, just slower next time


def clear_cache(data_dir=None):
    """Forget every checksum computed in this process and delete ``data/.cache/``.

    The next ``load_fashion_mnist()`` then decodes the original files again.
    """
    _HASHED_FILES.clear()
    shutil.rmtree(Path(get_data_dir(data_dir)) / CACHE_DIR_NAME, ignore_errors=True)


def load_fashion_mnist(data_dir=None, cache=True):
    """Load Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` does.

    Returns
    -------
    (X_train, y_train), (X_test, y_test)
        X_train : uint8 array, shape (60000, 28, 28), pixel values 0..255 (0 = background)
        y_train : uint8 array, shape (60000,), labels 0..9
        X_test  : uint8 array, shape (10000, 28, 28)
        y_test  : uint8 array, shape (10000,)
        ``FASHION_MNIST_CLASSES[y]`` names a label; each class has 6,000
        training and 1,000 test images. The arrays are new on every call:
        changing them changes nothing on disk.

    Parameters
    ----------
    data_dir : str or Path, optional
        The folder holding ``fashion-mnist/`` and ``SHA256SUMS`` (see ``get_data_dir``).
    cache : bool
        Keep and reuse the decoded arrays in ``<data_dir>/.cache/`` (default True).

    Raises
    ------
    DataFileError
        A file is missing, truncated, corrupted or not an IDX file; the message
        names the file and how to restore it. Nothing is returned in that case.
    """
    folder = get_data_dir(data_dir)
    checksums = _read_manifest(folder)
    cache_folder = _cache_folder(folder)
    arrays = {}
    for key, (relative_path, magic, shape) in FASHION_MNIST_FILES.items():
        path, source_sha256 = _check_file(folder, relative_path, checksums, _make_idx_diagnosis(magic, shape))
        stem = Path(relative_path).name.removesuffix(".gz")
        values = _read_cached_array(cache_folder, stem, source_sha256, shape) if cache else None
        if values is None:
            try:
                values = _read_idx_gz(path, magic, shape)
            except _IdxProblem as problem:  # checksum fine but unreadable: a wrong SHA256SUMS entry
                raise _damaged(folder, relative_path, problem.args[0]) from None
            if cache:
                _write_cached_array(cache_folder, stem, source_sha256, values)
        arrays[key] = values
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


# ---------------------------------------------------------------------------
# Tabular data sets (CSV, read with the standard library's csv module)
# ---------------------------------------------------------------------------

_MISSING_OPTIONS = ("drop", "nan", "median")


def _read_csv(data_dir, relative_path, delimiter=","):
    """Check and read a CSV file: returns (header, rows), both lists of strings."""
    folder = get_data_dir(data_dir)
    checksums = _read_manifest(folder)
    path, _ = _check_file(folder, relative_path, checksums)
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file, delimiter=delimiter))
    return rows[0], rows[1:]


def _check_missing_option(missing):
    if missing not in _MISSING_OPTIONS:
        raise HyperparameterError(f"missing={missing!r} is not an option; use one of {_MISSING_OPTIONS}.")


def _handle_missing(X, y, missing):
    """Apply the ``missing`` option to the NaNs of X (y has none in our data sets).

    "drop": remove every row with a NaN; "nan": keep the NaNs; "median": replace
    each NaN by the median of the known values of its column.
    """
    if missing == "drop":
        keep = ~np.isnan(X).any(axis=1)
        return X[keep], y[keep]
    if missing == "median":
        X = X.copy()
        for column in range(X.shape[1]):
            unknown = np.isnan(X[:, column])
            if unknown.any():
                X[unknown, column] = np.median(X[~unknown, column])
    return X, y


def load_red_wine(data_dir=None):
    """Red Wine Quality (Cortez et al., 2009): 1,599 Portuguese red wines.

    Returns
    -------
    X : float64 array, shape (1599, 11)
        Physico-chemical measurements, columns named by ``feature_names``:
        fixed acidity, volatile acidity, citric acid, residual sugar, chlorides,
        free sulfur dioxide, total sulfur dioxide, density, pH, sulphates, alcohol.
    y : float64 array, shape (1599,)
        The quality score given by tasters, 3..8 (``y.astype(int)`` for class labels).
    feature_names : list of 11 str
    No values are missing.
    """
    header, rows = _read_csv(data_dir, RED_WINE_FILE, delimiter=";")
    table = np.array(rows, dtype=np.float64)  # shape (1599, 12)
    return table[:, :-1], table[:, -1], header[:-1]


# Cereal columns: name, mfr, type are text; the rest are numbers.
_CEREAL_TEXT_COLUMNS = ("name", "mfr", "type")


def load_cereals(data_dir=None, target="rating", missing="drop"):
    """80 Cereals: the nutrition facts of 77 breakfast cereals and their rating.

    Returns
    -------
    X : float64 array, shape (n_examples, 12)
        The numeric columns except ``target``: calories, protein, fat, sodium,
        fiber, carbo, sugars, potass, vitamins, shelf, weight, cups (and rating
        when another column is the target). The text columns name, mfr and
        type are left out.
    y : float64 array, shape (n_examples,)
        The ``target`` column (default "rating", a score 0..100).
    feature_names : list of 12 str

    Missing values: the file writes an unknown value as -1 (carbo and sugars of
    Quaker Oatmeal, potass of Almond Delight and of Cream of Wheat (Quick): 4
    cells in 3 rows). They become NaN, then ``missing`` decides:
    "drop" (default) removes those rows -> 74 examples; "nan" keeps all 77
    rows with NaN in those cells; "median" puts the column's median there.
    """
    _check_missing_option(missing)
    header, rows = _read_csv(data_dir, CEREALS_FILE)
    numeric_columns = [i for i, name in enumerate(header) if name not in _CEREAL_TEXT_COLUMNS]
    numeric_names = [header[i] for i in numeric_columns]
    if target not in numeric_names:
        raise HyperparameterError(f"target={target!r} is not a numeric column; use one of {numeric_names}.")
    table = np.array([[row[i] for i in numeric_columns] for row in rows], dtype=np.float64)
    table[table == -1] = np.nan  # -1 is the file's code for "unknown"
    target_column = numeric_names.index(target)
    feature_columns = [i for i in range(len(numeric_names)) if i != target_column]
    y = table[:, target_column]
    if np.isnan(y).any():
        keep = ~np.isnan(y)  # an example without a target teaches nothing
        table, y = table[keep], y[keep]
    X = table[:, feature_columns]
    X, y = _handle_missing(X, y, missing)
    return X, y, [numeric_names[i] for i in feature_columns]


# The categories of ocean_proximity, in alphabetical order (as pandas.get_dummies sorts them).
OCEAN_PROXIMITY_CATEGORIES = ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]


def load_california_housing(data_dir=None, missing="drop", ocean_proximity="onehot"):
    """California housing (1990 census, Pace & Barry 1997; Géron's copy): 20,640 districts.

    Returns
    -------
    X : float64 array, shape (n_examples, 13) or (n_examples, 8)
        longitude, latitude, housing_median_age, total_rooms, total_bedrooms,
        population, households, median_income, then (with the default
        ``ocean_proximity="onehot"``) five 0/1 columns
        ``ocean_proximity_<1H OCEAN``, ``..._INLAND``, ``..._ISLAND``,
        ``..._NEAR BAY``, ``..._NEAR OCEAN``; ``ocean_proximity="drop"`` leaves
        them out.
    y : float64 array, shape (n_examples,)
        median_house_value in US dollars (capped at 500,001 in the census data).
    feature_names : list of str

    Missing values: 207 districts have no total_bedrooms. ``missing`` decides:
    "drop" (default) removes them -> 20,433 examples; "nan" keeps all 20,640
    with NaN there; "median" puts the median of the known values there.
    """
    _check_missing_option(missing)
    if ocean_proximity not in ("onehot", "drop"):
        raise HyperparameterError(
            f"ocean_proximity={ocean_proximity!r} is not an option; use 'onehot' or 'drop'."
        )
    header, rows = _read_csv(data_dir, CALIFORNIA_FILE)
    target_column = header.index("median_house_value")
    category_column = header.index("ocean_proximity")
    number_columns = [i for i in range(len(header)) if i not in (target_column, category_column)]
    feature_names = [header[i] for i in number_columns]
    # float("") would fail: an empty cell is a missing value -> NaN.
    X = np.array([[float(row[i]) if row[i] else np.nan for i in number_columns] for row in rows])
    y = np.array([float(row[target_column]) for row in rows])
    if ocean_proximity == "onehot":
        categories = [row[category_column] for row in rows]
        onehot = np.array([[float(c == name) for name in OCEAN_PROXIMITY_CATEGORIES] for c in categories])
        X = np.concatenate([X, onehot], axis=1)
        feature_names += [f"ocean_proximity_{name}" for name in OCEAN_PROXIMITY_CATEGORIES]
    X, y = _handle_missing(X, y, missing)
    return X, y, feature_names


# ---------------------------------------------------------------------------
# Scaling and splitting
# ---------------------------------------------------------------------------

def _as_2d_float(X, who):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ShapeError(f"{who} expects X of shape (n_examples, n_features); got shape {X.shape}.")
    return X


class MinMaxScaler:
    """Scale each column linearly so that its smallest value maps to ``low`` and its largest to ``high``.

        X_scaled = low + (X - column_min) * (high - low) / (column_max - column_min)

    ``fit(X)`` learns ``data_min_`` and ``data_max_`` (shape (n_features,))
    from the training data; ``transform`` applies the same formula to any data
    (validation values may then fall outside [low, high]: that is expected).
    A constant column (max = min) is mapped to ``low``.
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        low, high = feature_range
        if not low < high:
            raise HyperparameterError(f"feature_range={feature_range!r} needs low < high.")
        self.feature_range = (float(low), float(high))

    def fit(self, X):
        X = _as_2d_float(X, "MinMaxScaler.fit")
        self.data_min_ = np.nanmin(X, axis=0)
        self.data_max_ = np.nanmax(X, axis=0)
        return self

    def transform(self, X):
        X = _as_2d_float(X, "MinMaxScaler.transform")
        low, high = self.feature_range
        column_range = self.data_max_ - self.data_min_
        column_range = np.where(column_range == 0, 1.0, column_range)  # constant column: avoid 0/0
        return low + (X - self.data_min_) * (high - low) / column_range

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, X_scaled):
        low, high = self.feature_range
        column_range = self.data_max_ - self.data_min_
        column_range = np.where(column_range == 0, 1.0, column_range)
        return self.data_min_ + (np.asarray(X_scaled, dtype=np.float64) - low) * column_range / (high - low)


class StandardScaler:
    """Shift and scale each column to mean 0 and standard deviation 1.

        X_scaled = (X - column_mean) / column_std

    ``fit(X)`` learns ``mean_`` and ``scale_`` (shape (n_features,); the
    population standard deviation, ddof=0) from the training data; a constant
    column (std 0) gets ``scale_`` 1, so it becomes all zeros.
    """

    def fit(self, X):
        X = _as_2d_float(X, "StandardScaler.fit")
        self.mean_ = np.nanmean(X, axis=0)
        std = np.nanstd(X, axis=0)
        self.scale_ = np.where(std == 0, 1.0, std)
        return self

    def transform(self, X):
        X = _as_2d_float(X, "StandardScaler.transform")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, X_scaled):
        return np.asarray(X_scaled, dtype=np.float64) * self.scale_ + self.mean_


def min_max_scale(X, feature_range=(0.0, 1.0)):
    """Min-max scale the columns of X (shape (n_examples, n_features)) into ``feature_range``.

    Returns ``(X_scaled, scaler)``: X_scaled float64 of X's shape, and the
    fitted ``MinMaxScaler``, so that validation or test data get the *same*
    scaling: ``scaler.transform(X_val)``.
    """
    scaler = MinMaxScaler(feature_range)
    return scaler.fit_transform(X), scaler


def standardize(X):
    """Standardize the columns of X (shape (n_examples, n_features)) to mean 0, std 1.

    Returns ``(X_scaled, scaler)``: X_scaled float64 of X's shape, and the
    fitted ``StandardScaler`` (``scaler.transform(X_val)`` for new data).
    """
    scaler = StandardScaler()
    return scaler.fit_transform(X), scaler


def train_val_split(X, y, val_fraction=0.2, seed=None):
    """Shuffle the examples and hold out ``val_fraction`` of them for validation.

    Returns ``X_train, X_val, y_train, y_val`` (the order of scikit-learn's
    ``train_test_split``). The validation set has ``round(N * val_fraction)``
    examples; the same ``seed`` gives the same split.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ShapeError(f"X and y must have the same number of examples; got X with {len(X)} and y with {len(y)}.")
    if not 0 < val_fraction < 1:
        raise HyperparameterError(f"val_fraction={val_fraction!r} must be between 0 and 1 (exclusive).")
    n_val = int(round(len(X) * val_fraction))
    if n_val == 0 or n_val == len(X):
        raise HyperparameterError(
            f"val_fraction={val_fraction!r} of {len(X)} examples leaves an empty training or validation set."
        )
    order = np.random.default_rng(seed).permutation(len(X))
    val_rows, train_rows = order[:n_val], order[n_val:]
    return X[train_rows], X[val_rows], y[train_rows], y[val_rows]


# ---------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------

class DataLoader:
    """Hand out mini-batches of (X, y), one epoch per ``for`` loop.

        loader = DataLoader(X_train, y_train, batch_size=32, seed=0)
        for epoch in range(5):
            for X_batch, y_batch in loader:   # len(loader) batches per epoch
                ...

    Parameters
    ----------
    X : array, shape (N, ...)          the inputs; the first axis indexes examples
    y : array, shape (N, ...) or None  the targets (None -> y_batch is None)
    batch_size : int >= 1
    shuffle : bool
        False: the examples in their stored order. True: a random order.
    replacement : bool
        False (default): each epoch is a random permutation, so every example
        is used exactly once per epoch (a "shuffled pass").
        True: every batch is drawn independently, uniformly *with*
        replacement, so an example may appear twice and another not at all
        (about 1/e = 37 % of the examples are missed in an epoch).
        Needs shuffle=True.
    drop_last : bool
        Drop the last, smaller batch when N is not a multiple of batch_size.
    seed : int, np.random.Generator or None
        The order of every epoch comes from this generator: the same seed gives
        the same sequence of epochs; successive epochs differ.

    ``len(loader)`` is the number of batches (iterations) per epoch:
    ceil(N / batch_size), or floor(N / batch_size) with drop_last. With
    1,000 examples and batch_size 8 that is 125. The batches have
    batch_size examples, except the last one, which has what is left.
    Batches are copies (``X[indices]``): changing one doesn't change X.
    """

    def __init__(self, X, y, batch_size, shuffle=True, replacement=False, drop_last=False, seed=None):
        X = np.asarray(X)
        if X.ndim == 0:
            raise ShapeError(f"X must have a first axis that indexes the examples; got a scalar of shape {X.shape}.")
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(X):
                y_count = "a scalar" if y.ndim == 0 else f"{len(y)} examples (shape {y.shape})"
                raise ShapeError(
                    f"X and y must have the same number of examples; got X with {len(X)} "
                    f"(shape {X.shape}) and y with {y_count}."
                )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise HyperparameterError(f"batch_size must be an integer >= 1; got {batch_size!r}.")
        shuffle = checks.flag("shuffle", shuffle)             # "no" is not silently True
        replacement = checks.flag("replacement", replacement)
        drop_last = checks.flag("drop_last", drop_last)
        if replacement and not shuffle:
            raise HyperparameterError("replacement=True draws random batches: it needs shuffle=True.")
        if len(X) == 0:
            raise ShapeError(f"X has no examples (shape {X.shape}).")
        self.X = X
        self.y = y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.replacement = replacement
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    @property
    def num_examples(self):
        return len(self.X)

    def __len__(self):
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def _batch_sizes(self):
        """The size of each batch of one epoch, e.g. N=10, batch 4 -> [4, 4, 2] ([4, 4] with drop_last)."""
        sizes = [self.batch_size] * (self.num_examples // self.batch_size)
        remainder = self.num_examples % self.batch_size
        if remainder and not self.drop_last:
            sizes.append(remainder)
        return sizes

    def __iter__(self):
        """One epoch: yields ``(X_batch, y_batch)`` ``len(self)`` times."""
        if not self.shuffle:
            order = np.arange(self.num_examples)  # 0, 1, 2, ..., N-1
        elif not self.replacement:
            order = self.rng.permutation(self.num_examples)  # each index exactly once
        else:
            # N independent uniform draws: each batch is a fresh sample, with repeats possible.
            order = self.rng.integers(0, self.num_examples, size=self.num_examples)
        start = 0
        for size in self._batch_sizes():
            indices = order[start:start + size]
            start += size
            X_batch = self.X[indices]
            y_batch = None if self.y is None else self.y[indices]
            yield X_batch, y_batch

    def __repr__(self):
        return (
            f"DataLoader({self.num_examples} examples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, replacement={self.replacement}, drop_last={self.drop_last}, "
            f"{len(self)} batches per epoch)"
        )


def as_loader(data, batch_size):
    """A DataLoader (in order, no shuffling) for an ``(X, y)`` pair; a loader is returned as it is."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
        return DataLoader(X, y, batch_size=batch_size, shuffle=False)
    if isinstance(data, (tuple, list)):
        raise TypeError(f"expected data as an (X, y) pair, got a {type(data).__name__} "
                        f"of {len(data)} items")
    return data
