"""Tests of course_lib.data: the shipped datasets, their integrity checks, scaling and splitting.

Damaged files are simulated on copies in tmp_path (``data_dir=``); the
repository's own data/ is only read.
"""

import gzip
import shutil
from pathlib import Path

import json

import numpy as np
import pytest

from course_lib import data
from course_lib.errors import DataFileError, HyperparameterError, ShapeError

REPO_DATA = Path(data.__file__).resolve().parent.parent / "data"
TRAIN_IMAGES = "fashion-mnist/train-images-idx3-ubyte.gz"
TEST_IMAGES = "fashion-mnist/t10k-images-idx3-ubyte.gz"
TEST_LABELS = "fashion-mnist/t10k-labels-idx1-ubyte.gz"

# Computed once from the official files (sum of every pixel value, as int64).
TRAIN_PIXEL_SUM = 3_431_114_169
TEST_PIXEL_SUM = 573_469_082


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist()


@pytest.fixture
def data_copy(tmp_path):
    """A private copy of data/ (files and SHA256SUMS, no cache) that a test may damage."""
    copy = tmp_path / "data"
    shutil.copytree(REPO_DATA, copy, ignore=shutil.ignore_patterns(".cache"))
    return copy


def rewrite_manifest(folder, relative_path):
    """Make SHA256SUMS agree with a (damaged) file, so that the format checks themselves are tested."""
    import hashlib

    digest = hashlib.sha256((folder / relative_path).read_bytes()).hexdigest()
    manifest = folder / "SHA256SUMS"
    lines = [
        f"{digest}  {relative_path}" if line.endswith("  " + relative_path) else line
        for line in manifest.read_text().splitlines()
    ]
    manifest.write_text("\n".join(lines) + "\n")


def recompress_with_new_header(folder, relative_path, first_bytes):
    """Replace the first bytes of the decompressed IDX data and gzip it again."""
    path = folder / relative_path
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(first_bytes + raw[len(first_bytes):], compresslevel=1))


def load_error(folder):
    with pytest.raises(DataFileError) as caught:
        data.load_fashion_mnist(data_dir=folder)
    return str(caught.value)


# --- Fashion-MNIST: the data itself -------------------------------------------------

def test_fashion_mnist_shapes_and_dtypes_match_keras(fashion):
    (X_train, y_train), (X_test, y_test) = fashion
    assert X_train.shape == (60000, 28, 28) and X_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert X_test.shape == (10000, 28, 28) and X_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    for array in (X_train, y_train, X_test, y_test):
        assert array.flags.writeable and array.flags.c_contiguous


def test_fashion_mnist_has_6000_train_and_1000_test_images_per_class(fashion):
    (_, y_train), (_, y_test) = fashion
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10


def test_fashion_mnist_pixel_sums_are_the_known_ones(fashion):
    (X_train, _), (X_test, _) = fashion
    assert int(X_train.sum(dtype=np.int64)) == TRAIN_PIXEL_SUM
    assert int(X_test.sum(dtype=np.int64)) == TEST_PIXEL_SUM
    assert X_train.min() == 0 and X_train.max() == 255


def test_fashion_mnist_first_labels_are_the_known_ones(fashion):
    (_, y_train), (_, y_test) = fashion
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]


def test_class_names_in_keras_order():
    assert data.FASHION_MNIST_CLASSES == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]


def test_every_call_returns_new_arrays(fashion):
    (X_train, _), _ = data.load_fashion_mnist()
    X_train[0, 0, 0] = 77
    (again, _), _ = data.load_fashion_mnist()
    assert again[0, 0, 0] == fashion[0][0][0, 0, 0] == 0


def test_shipped_files_all_match_the_manifest():
    assert data.verify_data_files() == []


# --- Locating the data and the cache ----------------------------------------------

def test_environment_variable_points_at_another_data_folder(data_copy, monkeypatch):
    (data_copy / TEST_LABELS).unlink()
    monkeypatch.setenv("DESCENT_DATA_DIR", str(data_copy))
    assert data.get_data_dir() == data_copy
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz is missing"):
        data.load_fashion_mnist()


def test_cache_is_written_and_gives_the_same_arrays(data_copy):
    first = data.load_fashion_mnist(data_dir=data_copy)
    cached = sorted(p.name for p in (data_copy / ".cache" / "fashion-mnist").iterdir())
    assert "train-images-idx3-ubyte.npy" in cached and "train-images-idx3-ubyte.json" in cached
    assert not any(name.endswith(".tmp") for name in cached)
    data._HASHED_FILES.clear()  # as in a fresh process
    second = data.load_fashion_mnist(data_dir=data_copy)
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        assert np.array_equal(a, b)


def test_a_corrupted_cache_is_ignored_and_rebuilt(data_copy):
    data.load_fashion_mnist(data_dir=data_copy)
    cached = data_copy / ".cache" / "fashion-mnist" / "train-images-idx3-ubyte.npy"
    raw = bytearray(cached.read_bytes())
    raw[-1000] ^= 0xFF
    cached.write_bytes(bytes(raw))
    (X_train, _), _ = data.load_fashion_mnist(data_dir=data_copy)
    assert int(X_train.sum(dtype=np.int64)) == TRAIN_PIXEL_SUM


@pytest.mark.parametrize("damaged_stamp", ["[]", "null", "\"text\"", "{not json", "\xff\xfe", ""])
def test_a_damaged_cache_stamp_is_rebuilt(data_copy, damaged_stamp):
    """Old bug: a stamp that was valid JSON but not an object crashed the loader."""
    data.load_fashion_mnist(data_dir=data_copy)
    stamp = data_copy / ".cache" / "fashion-mnist" / "train-images-idx3-ubyte.json"
    stamp.write_bytes(damaged_stamp.encode("utf-8", "surrogateescape")
                      if damaged_stamp != "\xff\xfe" else b"\xff\xfe")
    (X_train, _), _ = data.load_fashion_mnist(data_dir=data_copy)
    assert int(X_train.sum(dtype=np.int64)) == TRAIN_PIXEL_SUM
    assert json.loads(stamp.read_text())["shape"] == [60000, 28, 28]     # written anew


def test_a_valid_cache_does_not_hide_a_damaged_source_file(data_copy):
    data.load_fashion_mnist(data_dir=data_copy)  # fills the cache
    path = data_copy / TRAIN_IMAGES
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    message = load_error(data_copy)
    assert "train-images-idx3-ubyte.gz" in message and "checksum" in message


def test_clear_cache_removes_the_cache_folder(data_copy):
    data.load_fashion_mnist(data_dir=data_copy)
    data.clear_cache(data_dir=data_copy)
    assert not (data_copy / ".cache").exists()


# --- Damaged files: each gives its clear error ------------------------------------

def test_missing_file(data_copy):
    (data_copy / TRAIN_IMAGES).unlink()
    message = load_error(data_copy)
    assert str(data_copy / TRAIN_IMAGES) in message
    assert "is missing" in message
    assert "restore" in message


def test_missing_file_in_the_repository_suggests_git_checkout():
    error = data._damaged(REPO_DATA, TRAIN_IMAGES, "is missing.")
    assert "git checkout -- data/fashion-mnist/train-images-idx3-ubyte.gz" in str(error)
    assert isinstance(error, OSError)


def test_truncated_gzip(data_copy):
    path = data_copy / TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = load_error(data_copy)
    assert "train-images-idx3-ubyte.gz" in message
    assert "checksum" in message and "truncated" in message
    assert "restore" in message


def test_truncated_gzip_with_matching_manifest_is_still_caught(data_copy):
    path = data_copy / TEST_IMAGES
    path.write_bytes(path.read_bytes()[:-100])
    rewrite_manifest(data_copy, TEST_IMAGES)
    message = load_error(data_copy)
    assert "t10k-images-idx3-ubyte.gz is truncated" in message


def test_flipped_byte_gives_checksum_mismatch(data_copy):
    path = data_copy / TEST_IMAGES
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    message = load_error(data_copy)
    assert "t10k-images-idx3-ubyte.gz is damaged" in message
    assert "SHA-256 checksum does not match" in message
    assert "corrupted" in message  # the diagnosis: gzip CRC or deflate error


def test_flipped_byte_with_matching_manifest_gives_gzip_error(data_copy):
    path = data_copy / TEST_IMAGES
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    rewrite_manifest(data_copy, TEST_IMAGES)
    message = load_error(data_copy)
    assert "t10k-images-idx3-ubyte.gz is corrupted" in message


def test_wrong_magic_number(data_copy):
    recompress_with_new_header(data_copy, TEST_LABELS, (1234).to_bytes(4, "big"))
    message = load_error(data_copy)
    assert "t10k-labels-idx1-ubyte.gz is damaged" in message
    assert "magic number is 1234, expected 2049" in message
    assert "restore" in message


def test_wrong_magic_number_with_matching_manifest(data_copy):
    recompress_with_new_header(data_copy, TEST_LABELS, (1234).to_bytes(4, "big"))
    rewrite_manifest(data_copy, TEST_LABELS)
    message = load_error(data_copy)
    assert "t10k-labels-idx1-ubyte.gz is in the wrong format" in message
    assert "magic number is 1234, expected 2049" in message


def test_label_file_in_place_of_an_image_file(data_copy):
    shutil.copy(data_copy / TEST_LABELS, data_copy / TEST_IMAGES)
    rewrite_manifest(data_copy, TEST_IMAGES)
    message = load_error(data_copy)
    assert "magic number is 2049, expected 2051" in message


def test_wrong_dimensions_in_the_header(data_copy):
    header = (2049).to_bytes(4, "big") + (9999).to_bytes(4, "big")
    recompress_with_new_header(data_copy, TEST_LABELS, header)
    rewrite_manifest(data_copy, TEST_LABELS)
    assert "header gives the shape (9999,), expected (10000,)" in load_error(data_copy)


def test_extra_bytes_after_the_data(data_copy):
    path = data_copy / TEST_LABELS
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()) + b"\x00"))
    rewrite_manifest(data_copy, TEST_LABELS)
    assert "more bytes than its header announces" in load_error(data_copy)


def test_not_a_gzip_file(data_copy):
    path = data_copy / TEST_LABELS
    path.write_bytes(gzip.decompress(path.read_bytes()))
    message = load_error(data_copy)
    assert "t10k-labels-idx1-ubyte.gz is damaged" in message and "not a valid gzip file" in message


def test_missing_data_folder(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        data.load_red_wine(data_dir=tmp_path / "nowhere")


def test_missing_manifest(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    message = load_error(data_copy)
    assert "SHA256SUMS is missing" in message


def test_damaged_file_leaves_no_partial_result_and_no_cache(data_copy):
    """Only the last file is damaged: still nothing is returned and nothing of it is cached."""
    path = data_copy / TEST_LABELS
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    path.write_bytes(bytes(raw))
    result = "not assigned"
    with pytest.raises(DataFileError):
        result = data.load_fashion_mnist(data_dir=data_copy)
    assert result == "not assigned"
    assert not (data_copy / ".cache" / "fashion-mnist" / "t10k-labels-idx1-ubyte.npy").exists()


def test_verify_data_files_lists_each_problem(data_copy):
    (data_copy / "cereals" / "cereal.csv").unlink()
    (data_copy / TEST_LABELS).write_bytes(b"rubbish")
    problems = data.verify_data_files(data_copy)
    assert len(problems) == 2
    assert any("cereal.csv is missing" in p for p in problems)
    assert any("t10k-labels-idx1-ubyte.gz is damaged" in p for p in problems)


# --- Tabular data sets ---------------------------------------------------------------

def test_red_wine():
    X, y, names = data.load_red_wine()
    assert X.shape == (1599, 11) and y.shape == (1599,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert names[0] == "fixed acidity" and names[-1] == "alcohol" and len(names) == 11
    assert not np.isnan(X).any()
    values, counts = np.unique(y, return_counts=True)
    assert dict(zip(values.astype(int).tolist(), counts.tolist())) == {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}
    assert X[0].tolist() == [7.4, 0.7, 0.0, 1.9, 0.076, 11.0, 34.0, 0.9978, 3.51, 0.56, 9.4]


def test_cereals_default_drops_the_three_rows_with_missing_codes():
    X, y, names = data.load_cereals()
    assert names == ["calories", "protein", "fat", "sodium", "fiber", "carbo", "sugars",
                     "potass", "vitamins", "shelf", "weight", "cups"]
    assert X.shape == (74, 12) and y.shape == (74,) and X.dtype == np.float64
    assert not np.isnan(X).any() and not (X == -1).any()
    assert y.min() > 18 and y.max() < 94  # ratings


def test_cereals_missing_nan_keeps_all_77_rows():
    X, y, names = data.load_cereals(missing="nan")
    assert X.shape == (77, 12)
    assert int(np.isnan(X).sum()) == 4
    assert np.isnan(X[:, names.index("potass")]).sum() == 2
    assert not (X == -1).any()


def test_cereals_missing_median_and_other_target():
    X, y, names = data.load_cereals(missing="median", target="sugars")
    assert X.shape == (76, 12)  # the row without sugars is dropped: it has no target
    assert "sugars" not in names and "rating" in names
    assert not np.isnan(X).any()


def test_california_housing_default():
    X, y, names = data.load_california_housing()
    assert X.shape == (20433, 13) and y.shape == (20433,) and X.dtype == np.float64
    assert names[:8] == ["longitude", "latitude", "housing_median_age", "total_rooms",
                         "total_bedrooms", "population", "households", "median_income"]
    assert names[8:] == [f"ocean_proximity_{c}" for c in ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]]
    assert not np.isnan(X).any()
    assert np.all(X[:, 8:].sum(axis=1) == 1)  # exactly one category per district
    assert y.max() == 500001.0


def test_california_housing_missing_options():
    X, y, names = data.load_california_housing(missing="nan")
    assert X.shape == (20640, 13)
    assert np.isnan(X).sum() == 207 == np.isnan(X[:, names.index("total_bedrooms")]).sum()
    counts = X[:, 8:].sum(axis=0).astype(int).tolist()
    assert counts == [9136, 6551, 5, 2290, 2658]
    X_median, _, _ = data.load_california_housing(missing="median", ocean_proximity="drop")
    assert X_median.shape == (20640, 8) and not np.isnan(X_median).any()


def test_bad_tabular_options_are_rejected():
    with pytest.raises(HyperparameterError, match="missing='zero'"):
        data.load_cereals(missing="zero")
    with pytest.raises(HyperparameterError, match="target='name'"):
        data.load_cereals(target="name")
    with pytest.raises(HyperparameterError, match="ocean_proximity"):
        data.load_california_housing(ocean_proximity="ordinal")


def test_damaged_csv_is_reported(data_copy):
    path = data_copy / "wine-quality" / "winequality-red.csv"
    path.write_text(path.read_text()[:1000])
    with pytest.raises(DataFileError, match="winequality-red.csv is damaged"):
        data.load_red_wine(data_dir=data_copy)


# --- Scaling and splitting -----------------------------------------------------------

def test_min_max_scale_maps_each_column_onto_the_range():
    X = np.array([[1.0, 10.0, 5.0], [3.0, 20.0, 5.0], [2.0, 40.0, 5.0]])
    X_scaled, scaler = data.min_max_scale(X)
    assert np.allclose(X_scaled.min(axis=0), [0, 0, 0])
    assert np.allclose(X_scaled.max(axis=0), [1, 1, 0])  # the constant column maps to 0
    assert np.allclose(scaler.transform([[5.0, 10.0, 5.0]]), [[2.0, 0.0, 0.0]])  # same scaling for new data
    assert np.allclose(scaler.inverse_transform(X_scaled), X)
    X_range, _ = data.min_max_scale(X, feature_range=(-1, 1))
    assert np.allclose(X_range[:, 0], [-1, 1, 0])
    with pytest.raises(HyperparameterError):
        data.min_max_scale(X, feature_range=(1, 0))
    with pytest.raises(ShapeError):
        data.min_max_scale(np.ones(3))


def test_standardize_gives_mean_0_std_1_and_handles_constant_columns():
    X, _, _ = data.load_red_wine()
    X = np.concatenate([X, np.full((len(X), 1), 3.0)], axis=1)
    X_scaled, scaler = data.standardize(X)
    assert np.allclose(X_scaled.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(X_scaled.std(axis=0)[:-1], 1)
    assert np.all(X_scaled[:, -1] == 0)
    assert np.allclose(scaler.inverse_transform(X_scaled), X)


def test_train_val_split_is_a_seeded_partition():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=1)
    assert X_train.shape == (40, 2) and X_val.shape == (10, 2)
    assert np.array_equal(X_train[:, 0] // 2, y_train) and np.array_equal(X_val[:, 0] // 2, y_val)
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(50))
    again = data.train_val_split(X, y, val_fraction=0.2, seed=1)
    assert np.array_equal(again[3], y_val)
    other = data.train_val_split(X, y, val_fraction=0.2, seed=2)
    assert not np.array_equal(other[3], y_val)


def test_train_val_split_rejects_bad_arguments():
    with pytest.raises(ShapeError, match="X with 5 and y with 4"):
        data.train_val_split(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(HyperparameterError, match="val_fraction"):
        data.train_val_split(np.zeros((5, 2)), np.zeros(5), val_fraction=1.5)
