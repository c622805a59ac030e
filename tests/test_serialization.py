"""Tests of course_lib.serialization: .npz without pickle, atomic writes, checkpoints."""

import os

import numpy as np
import pytest

from course_lib import nn, optim, schedules, serialization, training
from course_lib.data import DataLoader
from course_lib.errors import DataFileError, ShapeError, StateDictError
from course_lib.serialization import load, load_checkpoint, save, save_checkpoint


def mlp(seed=0):
    return nn.Sequential(nn.Linear(6, 16, seed=seed), nn.ReLU(), nn.Linear(16, 16, seed=seed + 1),
                         nn.ReLU(), nn.Linear(16, 3, seed=seed + 2))


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5).astype(np.int64)
    return X, y


# ===========================================================================
# save / load
# ===========================================================================

def test_round_trip_of_a_nested_state(tmp_path):
    state = {
        "model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "0.bias": np.zeros(3, dtype=np.float64)},
        "optimizer": {"optimizer": "Adam", "step": 7,
                      "hyperparameters": {"lr": 0.001, "betas": (0.9, 0.999), "amsgrad": False},
                      "state": {}},
        "labels": np.array([1, 2, 3], dtype=np.int64),
        "mask": np.array([True, False]),
        "history": [0.5, 0.25],
        "rng_state": 2 ** 100 + 3,
    }
    path = save(tmp_path / "state.npz", state)
    loaded = load(path)
    assert set(loaded) == set(state)
    np.testing.assert_array_equal(loaded["model"]["0.weight"], state["model"]["0.weight"])
    assert loaded["model"]["0.weight"].dtype == np.float32
    assert loaded["model"]["0.bias"].dtype == np.float64
    assert loaded["optimizer"] == {"optimizer": "Adam", "step": 7, "state": {},
                                   "hyperparameters": {"lr": 0.001, "betas": (0.9, 0.999),
                                                       "amsgrad": False}}
    assert type(loaded["optimizer"]["step"]) is int
    assert type(loaded["optimizer"]["hyperparameters"]["amsgrad"]) is bool
    assert loaded["labels"].dtype == np.int64 and loaded["mask"].dtype == bool
    assert loaded["history"] == [0.5, 0.25]
    assert loaded["rng_state"] == 2 ** 100 + 3


def test_the_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = save(tmp_path / "model", mlp().state_dict())
    assert path.endswith("model.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert "0.weight" in npz.files and npz["0.weight"].shape == (6, 16)
    assert set(load(tmp_path / "model")) == set(mlp().state_dict())   # ".npz" may be left out


@pytest.mark.parametrize("state, message", [
    ({"a": None}, "cannot save 'a': its value is None"),
    ({"a": {"b": np.array([object(), 1])}}, "cannot save 'a/b': it would need pickle"),
    ({"a/b": 1}, "keys must be non-empty and must not contain '/'"),
    ({"f": print}, "values must be arrays, numbers, booleans, strings, tuples or dicts"),
])
def test_what_cannot_be_saved_is_refused_clearly(tmp_path, state, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        save(tmp_path / "bad.npz", state)
    assert os.listdir(tmp_path) == []


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load(tmp_path / "nowhere.npz")
    message = str(caught.value)
    assert "nowhere.npz" in message and "save it first" in message
    assert isinstance(caught.value, DataFileError)


@pytest.mark.parametrize("content", [b"this is not a zip file", b""])
def test_corrupt_file_names_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as caught:
        load(path)
    assert "broken.npz" in str(caught.value) and "save it again" in str(caught.value)


def test_truncated_file_is_reported(tmp_path):
    path = save(tmp_path / "full.npz", mlp().state_dict())
    with open(path, "rb") as file:
        head = file.read(os.path.getsize(path) // 2)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(head)
    with pytest.raises(DataFileError, match="truncated.npz"):
        load(truncated)


def test_the_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save(path, {"w": np.ones(3)})
    before = path.read_bytes()

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half of a zip file")      # something was written ...
        raise OSError("No space left on device")          # ... then the disk filled up
    monkeypatch.setattr(serialization.np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        save(path, {"w": np.zeros(3)})
    assert path.read_bytes() == before                    # the old file is untouched
    assert os.listdir(tmp_path) == ["model.npz"]          # and no temporary file is left
    with pytest.raises(OSError):
        save(tmp_path / "new.npz", {"w": np.zeros(3)})
    assert os.listdir(tmp_path) == ["model.npz"]          # no partial new file either


def test_saving_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        save(tmp_path / "no" / "such" / "folder.npz", {"a": 1})


# ===========================================================================
# Checkpoints: model + optimizer
# ===========================================================================

def test_load_checkpoint_checks_names_before_changing_anything(tmp_path):
    path = save_checkpoint(tmp_path / "small.npz", nn.Sequential(nn.Linear(6, 3, seed=0)))
    model = mlp()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(StateDictError) as caught:
        load_checkpoint(path, model)
    message = str(caught.value)
    assert "small.npz does not fit this Sequential" in message
    assert "'2.weight'" in message and "Build the model exactly as when it was saved" in message
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, p.data)


def test_load_checkpoint_checks_shapes(tmp_path):
    wide = nn.Sequential(nn.Linear(6, 32, seed=0), nn.ReLU(), nn.Linear(32, 3, seed=1))
    narrow = nn.Sequential(nn.Linear(6, 16, seed=0), nn.ReLU(), nn.Linear(16, 3, seed=1))
    path = save_checkpoint(tmp_path / "wide.npz", wide)
    with pytest.raises(ShapeError) as caught:
        load_checkpoint(path, narrow)
    message = str(caught.value)
    assert "'0.weight': saved (6, 32), model (6, 16)" in message
    assert "'2.weight': saved (32, 3), model (16, 3)" in message


def test_load_checkpoint_without_optimizer_state(tmp_path):
    model = mlp()
    path = save(tmp_path / "weights.npz", model.state_dict())        # a plain state_dict file
    other = mlp(seed=9)
    load_checkpoint(path, other)
    for a, b in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(StateDictError, match="holds no optimizer state"):
        load_checkpoint(path, other, optim.Adam(other))


@pytest.mark.parametrize("make_optimizer", [
    lambda model: optim.Adam(model, lr=1e-2, amsgrad=True),
    lambda model: optim.AdamW(model, lr=1e-2),
    lambda model: optim.SGD(model, lr=0.05, momentum=0.9, nesterov=True),
    lambda model: optim.RMSprop(model, lr=1e-3, centered=True, momentum=0.5),
    lambda model: optim.Adagrad(model, lr=0.05, lr_decay=0.01),
])
def test_save_load_and_continue_is_bit_identical_to_never_stopping(tmp_path, make_optimizer):
    X, y = data()

    # Never stopping: 4 epochs in one go.
    model = mlp()
    optimizer = make_optimizer(model)
    loader = DataLoader(X, y, batch_size=16, seed=5)
    for _ in range(4):
        training.train_epoch(model, loader, "cross_entropy", optimizer)

    # Stopping after 2 epochs, saving, and continuing in a brand-new model and optimizer.
    first_model = mlp()
    first_optimizer = make_optimizer(first_model)
    loader = DataLoader(X, y, batch_size=16, seed=5)
    for _ in range(2):
        training.train_epoch(first_model, loader, "cross_entropy", first_optimizer)
    path = save_checkpoint(tmp_path / "checkpoint.npz", first_model, first_optimizer, epoch=2)
    del first_model, first_optimizer

    resumed_model = mlp(seed=123)                          # other initial values ...
    resumed_optimizer = make_optimizer(resumed_model)
    state = load_checkpoint(path, resumed_model, resumed_optimizer)   # ... replaced by the file's
    assert state["epoch"] == 2
    for _ in range(2):                                     # the same loader goes on
        training.train_epoch(resumed_model, loader, "cross_entropy", resumed_optimizer)

    for a, b in zip(model.parameters(), resumed_model.parameters()):
        assert a.data.dtype == b.data.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)     # bit-identical


def test_checkpoint_with_a_scheduler(tmp_path):
    model = mlp()
    optimizer = optim.SGD(model, lr=0.1)
    scheduler = schedules.Scheduler(optimizer, "step", step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()                                       # t = 3, lr = 0.025
    path = save_checkpoint(tmp_path / "c.npz", model, optimizer, scheduler)
    other = mlp()
    other_optimizer = optim.SGD(other, lr=0.1)
    other_scheduler = schedules.Scheduler(other_optimizer, "step", step_size=1, gamma=0.5)
    load_checkpoint(path, other, other_optimizer, other_scheduler)
    assert other_scheduler.t == 3 and other_optimizer.lr == pytest.approx(0.025)


def test_fit_after_load_checkpoint_keeps_training(tmp_path):
    X, y = data()
    model = mlp()
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.fit(X, y, batch_size=16, epochs=2, seed=0, verbose=0)
    path = save_checkpoint(tmp_path / "fitted", model, model.optimizer)
    again = mlp(seed=50)
    again.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    load_checkpoint(path, again, again.optimizer)
    assert again.optimizer.step_count == model.optimizer.step_count == 2 * 8
    assert again.evaluate(X, y, verbose=0) == model.evaluate(X, y, verbose=0)
    again.fit(X, y, batch_size=16, epochs=1, seed=1, verbose=0)


def test_save_and_load_are_reachable_from_the_package(tmp_path):
    import course_lib

    path = tmp_path / "state.npz"
    course_lib.save(path, {"w": np.arange(3.0)})
    np.testing.assert_array_equal(course_lib.load(path)["w"], np.arange(3.0))


# ---------------------------------------------------------------------------
# A file that is not ours says what it is (each case was a bare error before)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("write, words", [
    (lambda path: np.save(path, np.zeros(3)), "single NumPy array"),
    (lambda path: path.write_bytes(b"\x80\x04\x95 pickled"), "Python pickle"),
    (lambda path: path.write_text("weights,1,2,3\n"), "text file"),
    (lambda path: path.write_bytes(b"\x1f\x8b\x08\x00 gzip"), "gzip"),
    (lambda path: np.savez(path, weights=np.ones(2)), "not written by course_lib.save"),
])
def test_load_of_a_file_that_is_not_ours_says_what_it_is(tmp_path, write, words):
    from course_lib import load
    from course_lib.errors import DataFileError
    path = tmp_path / "model.npz"
    with open(path, "wb") as file:
        write(file) if words in ("single NumPy array", "not written by course_lib.save") else None
    if words not in ("single NumPy array", "not written by course_lib.save"):
        write(path)
    with pytest.raises(DataFileError, match=words) as caught:
        load(path)
    assert "save(path, state)" in str(caught.value)
