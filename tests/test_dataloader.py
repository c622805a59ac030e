"""Tests of course_lib.data.DataLoader: batches, epochs, sampling with and without replacement, seeds."""

import math

import numpy as np
import pytest

from course_lib.data import DataLoader
from course_lib.errors import HyperparameterError, ShapeError


def examples(n, features=3):
    """X whose first column is the example's index, y equal to the index."""
    X = np.zeros((n, features), dtype=np.float32)
    X[:, 0] = np.arange(n)
    return X, np.arange(n)


def epoch_indices(loader):
    """The example indices of one epoch, batch by batch."""
    return [y_batch.tolist() for _, y_batch in loader]


@pytest.mark.parametrize("n, batch_size", [(1000, 8), (1000, 7), (10, 10), (10, 3), (5, 64), (1, 1)])
@pytest.mark.parametrize("replacement", [False, True])
def test_len_is_ceil_of_n_over_batch_size(n, batch_size, replacement):
    X, y = examples(n)
    loader = DataLoader(X, y, batch_size, replacement=replacement, seed=0)
    assert len(loader) == math.ceil(n / batch_size)
    batches = list(loader)
    assert len(batches) == len(loader)
    assert sum(len(X_batch) for X_batch, _ in batches) == n
    assert all(len(X_batch) == batch_size for X_batch, _ in batches[:-1])


@pytest.mark.parametrize("n, batch_size", [(1000, 8), (1000, 7), (10, 3), (5, 64)])
def test_len_with_drop_last_is_floor(n, batch_size):
    X, y = examples(n)
    loader = DataLoader(X, y, batch_size, drop_last=True, seed=0)
    assert len(loader) == n // batch_size
    batches = list(loader)
    assert len(batches) == len(loader)
    assert all(len(X_batch) == batch_size for X_batch, _ in batches)


def test_1000_examples_at_batch_8_give_125_iterations_and_625_in_5_epochs():
    X, y = examples(1000)
    loader = DataLoader(X, y, batch_size=8, seed=0)
    assert len(loader) == 125
    assert sum(1 for _ in range(5) for _ in loader) == 625


def test_without_replacement_every_example_exactly_once_per_epoch():
    X, y = examples(1003)
    loader = DataLoader(X, y, batch_size=10, seed=3)
    for _ in range(3):
        seen = np.concatenate([y_batch for _, y_batch in loader])
        assert np.array_equal(np.sort(seen), np.arange(1003))
        assert not np.array_equal(seen, np.arange(1003))  # shuffled


def test_batches_keep_x_and_y_together():
    X, y = examples(100)
    for X_batch, y_batch in DataLoader(X, y, batch_size=16, seed=0):
        assert X_batch.shape[1:] == (3,) and X_batch.dtype == np.float32
        assert np.array_equal(X_batch[:, 0].astype(int), y_batch)


def test_shuffle_false_gives_the_stored_order():
    X, y = examples(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=False)
    assert epoch_indices(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert epoch_indices(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    loader = DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True)
    assert epoch_indices(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_same_seed_same_order_and_epochs_differ():
    X, y = examples(200)
    first = DataLoader(X, y, batch_size=32, seed=42)
    second = DataLoader(X, y, batch_size=32, seed=42)
    first_epochs = [epoch_indices(first) for _ in range(3)]
    second_epochs = [epoch_indices(second) for _ in range(3)]
    assert first_epochs == second_epochs
    assert first_epochs[0] != first_epochs[1] != first_epochs[2]
    assert epoch_indices(DataLoader(X, y, batch_size=32, seed=43)) != first_epochs[0]


def test_same_seed_same_order_with_replacement():
    X, y = examples(200)
    a = DataLoader(X, y, batch_size=32, replacement=True, seed=7)
    b = DataLoader(X, y, batch_size=32, replacement=True, seed=7)
    assert [epoch_indices(a) for _ in range(2)] == [epoch_indices(b) for _ in range(2)]


def test_a_generator_can_be_the_seed():
    X, y = examples(50)
    a = DataLoader(X, y, batch_size=8, seed=np.random.default_rng(5))
    b = DataLoader(X, y, batch_size=8, seed=np.random.default_rng(5))
    assert epoch_indices(a) == epoch_indices(b)


def test_with_replacement_batches_are_independent_draws():
    n = 20_000
    X, y = examples(n, features=1)
    loader = DataLoader(X, y, batch_size=100, replacement=True, seed=0)
    seen = np.concatenate([y_batch for _, y_batch in loader])
    assert len(seen) == n
    # Duplicates occur within one epoch ...
    assert len(np.unique(seen)) < n
    # ... and about 1/e of the examples are never drawn: (1 - 1/n)^n -> 1/e = 0.368.
    unseen_fraction = 1 - len(np.unique(seen)) / n
    assert abs(unseen_fraction - math.exp(-1)) < 0.01
    # Duplicates even inside single batches (a permutation never has any):
    batches_with_a_repeat = sum(len(np.unique(y_batch)) < len(y_batch) for _, y_batch in loader)
    assert batches_with_a_repeat > 0
    # Each index is drawn uniformly: counts per index follow Poisson(1), mean 1, variance 1.
    counts = np.bincount(np.concatenate([y_batch for _ in range(5) for _, y_batch in loader]), minlength=n) / 5
    assert abs(counts.mean() - 1) < 1e-9 and abs(counts.var() * 5 - 1) < 0.05


def test_y_may_be_none():
    X, _ = examples(10)
    batches = list(DataLoader(X, None, batch_size=4, shuffle=False))
    assert [y_batch for _, y_batch in batches] == [None, None, None]
    assert np.array_equal(np.concatenate([X_batch for X_batch, _ in batches]), X)


def test_batches_are_copies():
    X, y = examples(10)
    for X_batch, _ in DataLoader(X, y, batch_size=5, shuffle=False):
        X_batch[:] = -1
    assert X.min() == 0


def test_fast_on_fashion_mnist_sized_data():
    import time

    X = np.zeros((60000, 784), dtype=np.float32)
    y = np.zeros(60000, dtype=np.uint8)
    loader = DataLoader(X, y, batch_size=64, seed=0)
    start = time.perf_counter()
    for X_batch, y_batch in loader:
        pass
    assert time.perf_counter() - start < 2.0  # typically about 0.1 s


def test_different_lengths_name_both():
    with pytest.raises(ShapeError, match=r"X with 10 .* y with 9"):
        DataLoader(np.zeros((10, 2)), np.zeros(9), batch_size=2)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8", True, None])
def test_bad_batch_size(batch_size):
    with pytest.raises(HyperparameterError, match="batch_size must be an integer >= 1"):
        DataLoader(np.zeros((10, 2)), np.zeros(10), batch_size=batch_size)


def test_other_bad_arguments():
    with pytest.raises(HyperparameterError, match="needs shuffle=True"):
        DataLoader(np.zeros((10, 2)), None, batch_size=2, shuffle=False, replacement=True)
    with pytest.raises(ShapeError, match="no examples"):
        DataLoader(np.zeros((0, 2)), None, batch_size=2)
    with pytest.raises(ShapeError):
        DataLoader(np.float32(3.0), None, batch_size=2)
    # the errors are ValueErrors too
    with pytest.raises(ValueError):
        DataLoader(np.zeros((10, 2)), np.zeros(9), batch_size=2)


def test_numpy_integer_batch_size_and_repr():
    loader = DataLoader(np.zeros((10, 2)), None, batch_size=np.int64(4))
    assert len(loader) == 3
    assert "batch_size=4" in repr(loader) and "3 batches per epoch" in repr(loader)
