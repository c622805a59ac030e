"""How fast does course_lib train a real network? (a command, not a test)

    python benchmarks/bench_mlp.py              # both batch sizes, best of 2 epochs each
    python benchmarks/bench_mlp.py --repeats 1 --batch-sizes 256

What it measures: one epoch of the 784-512-512-10 ReLU MLP, trained with
Adam (lr=1e-3) and softmax cross-entropy from logits
(``losses.cross_entropy``) on the 60,000 Fashion-MNIST training images
(float32, pixels scaled to [0, 1]), at batch sizes 64 and 256.

What it prints, per batch size:

- seconds per epoch (the best of ``--repeats`` epochs: other programs on the
  machine only ever make an epoch slower);
- achieved GFLOP/s, counting only the matrix multiplies (the count is
  printed): forward ``x @ W`` of the three layers, the three weight
  gradients ``x.T @ G``, and the input gradients ``G @ W.T`` of layers 2
  and 3 (layer 1's input gradient is not needed: its input is the data);
- that rate as a fraction of this machine's float32 matmul peak, measured
  in the same run (the best of several 2048 x 2048 products);
- course_lib twice: with the optimizers' compiled fast path
  (``course_lib.fast_optim``, numba) and with the NumPy reference rules of
  ``course_lib.optim`` alone (``fast=False``), and the ratio of the two;
- where PyTorch is installed (``pip install torch==2.13.0``, the CPU wheel),
  PyTorch's time for the same network, batch size, optimizer, loss and
  number of threads, and the ratio.

Targets: course_lib (fast path) at least 1.25x faster than PyTorch on CPU at
both batch sizes; the reference path at most 1.6x the fast path's epoch at
batch 256; at least 65 % of the matmul peak at batch size 256.
"""

import argparse
import ctypes
import glob
import os
import platform
import time

import numpy as np

from course_lib import data, fast_optim, losses, nn, optim

LAYER_SIZES = (784, 512, 512, 10)
SPEEDUP_TARGET = 1.25
REFERENCE_RATIO_TARGET = 1.6
REFERENCE_RATIO_BATCH = 256
PEAK_FRACTION_TARGET = 0.65
PEAK_FRACTION_BATCH = 256


# ---------------------------------------------------------------------------
# Machine facts
# ---------------------------------------------------------------------------

def numpy_blas_threads():
    """How many threads NumPy's BLAS (OpenBLAS) uses for a matrix multiply."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    for path in libs:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                       "openblas_get_num_threads"):
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_int
                return int(function())
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return os.cpu_count() or 1


def matmul_peak_gflops(size=2048, repeats=8):
    """The best float32 GFLOP/s of ``repeats`` products of two size x size matrices."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = np.empty((size, size), dtype=np.float32)
    np.matmul(a, b, out=out)                                   # warm up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - started)
    return 2 * size ** 3 / best / 1e9


def matmul_flops_per_epoch(num_examples, sizes=LAYER_SIZES):
    """Multiply-add FLOPs (2 per multiply-add) of one epoch's matrix products.

    Per example and per layer with W of shape (n_in, n_out): forward 2·n_in·n_out,
    weight gradient 2·n_in·n_out, input gradient 2·n_in·n_out except for layer 1.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * n_in * n_out for n_in, n_out in pairs)
    weight_grads = forward
    input_grads = sum(2 * n_in * n_out for n_in, n_out in pairs[1:])
    return num_examples * (forward + weight_grads + input_grads)


# ---------------------------------------------------------------------------
# The two contestants
# ---------------------------------------------------------------------------

def course_lib_trainer(X, y, batch_size, seed=0, fast=None):
    """A function that trains the MLP for one epoch with course_lib and returns
    ``(seconds, last batch loss)``; the loop is the one ``training.train_epoch`` runs.
    ``fast`` is the optimizer's argument: None or True for the compiled fast path,
    False for the NumPy reference rules."""
    model = nn.Sequential(nn.Linear(784, 512, seed=seed), nn.ReLU(),
                          nn.Linear(512, 512, seed=seed + 1), nn.ReLU(),
                          nn.Linear(512, 10, seed=seed + 2))
    optimizer = optim.Adam(model, lr=1e-3, fast=fast)
    loss = losses.cross_entropy
    loader = data.DataLoader(X, y, batch_size=batch_size, seed=seed)
    # Compile (or load from numba's disk cache) the float32 Adam kernel before
    # timing, on a throwaway parameter: PyTorch's kernels are compiled ahead of time.
    optim.Adam([nn.Parameter(np.zeros(1, dtype=np.float32))], fast=fast).step()

    def one_epoch():
        model.train()
        started = time.perf_counter()
        for X_batch, y_batch in loader:
            optimizer.zero_grad()
            logits = model(X_batch)
            value, grad = loss.value_and_gradient(y_batch, logits)
            model.backward(grad, need_input_grad=False)    # as train_epoch: X is data
            optimizer.step()
        return time.perf_counter() - started, float(value)
    one_epoch.path = "reference" if optimizer.fast is None else "fast"
    return one_epoch


def torch_trainer(X, y, batch_size, threads, seed=0):
    """The same epoch in PyTorch on the CPU (or None when torch is not installed)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()
    X_all, y_all = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)

    def one_epoch():
        model.train()
        started = time.perf_counter()
        order = torch.randperm(len(X_all), generator=generator)
        for start in range(0, len(X_all), batch_size):
            indices = order[start:start + batch_size]
            X_batch, y_batch = X_all[indices], y_all[indices]
            optimizer.zero_grad()
            value = loss_function(model(X_batch), y_batch)
            value.backward()
            optimizer.step()
        return time.perf_counter() - started, value.item()
    one_epoch.version = torch.__version__
    return one_epoch


def best_epochs(trainers, repeats):
    """Run the trainers' epochs in turn (so that both see the same background load),
    ``repeats`` times; the best (shortest) epoch of each, with its last batch loss."""
    best = [(float("inf"), None) for _ in trainers]
    for _ in range(repeats):
        for index, trainer in enumerate(trainers):
            seconds, last_loss = trainer()
            if seconds < best[index][0]:
                best[index] = (seconds, last_loss)
    return best


# ---------------------------------------------------------------------------

def load_training_images():
    (X_train, y_train), _ = data.load_fashion_mnist()
    X = X_train.reshape(len(X_train), -1).astype(np.float32) / np.float32(255)
    return X, y_train.astype(np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=2, help="epochs per measurement (best kept)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--examples", type=int, default=60_000,
                        help="use only the first N images (a quick smoke run; the figures "
                             "quoted are for all 60,000)")
    args = parser.parse_args(argv)

    threads = numpy_blas_threads()
    X, y = load_training_images()
    X, y = X[:args.examples], y[:args.examples]
    flops = matmul_flops_per_epoch(len(X))
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"NumPy {np.__version__} (BLAS threads: {threads}); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"Network 784-512-512-10 ReLU, Adam(lr=1e-3), cross-entropy from logits, "
          f"{len(X):,} float32 images")
    print(f"Matmul FLOPs per epoch: {flops / 1e9:.1f} GFLOP = {len(X):,} x 2 x "
          f"(3 forward + 3 weight-gradient + 2 input-gradient products)")
    peak = matmul_peak_gflops()
    print(f"float32 matmul peak (best of 8 x 2048x2048): {peak:.0f} GFLOP/s\n")

    if not fast_optim.available():
        print(f"The compiled fast path is not available ({fast_optim.NUMBA_PROBLEM}): "
              "both course_lib rows use the reference path.")
    rows = []
    for batch_size in args.batch_sizes:
        trainers = [course_lib_trainer(X, y, batch_size, fast=None),
                    course_lib_trainer(X, y, batch_size, fast=False)]
        torch_epoch = None if args.no_torch else torch_trainer(X, y, batch_size, threads)
        if torch_epoch is not None:
            trainers.append(torch_epoch)
        results = best_epochs(trainers, args.repeats)
        (ours, ours_loss), (reference, reference_loss) = results[0], results[1]
        theirs, theirs_loss = (results + [(None, None)])[2]
        peak = max(peak, matmul_peak_gflops(repeats=4))   # re-measured: the machine is shared
        version = getattr(torch_epoch, "version", None)
        rows.append((batch_size, ours, ours_loss, theirs, theirs_loss, version, reference))
        print(f"batch {batch_size}: course_lib {trainers[0].path} path {ours:.2f} s/epoch (last "
              f"batch loss {ours_loss:.3f}), reference path {reference:.2f} s/epoch (last batch "
              f"loss {reference_loss:.3f})"
              + ("" if theirs is None else
                 f", PyTorch {theirs:.2f} s/epoch (last batch loss {theirs_loss:.3f})"))

    print("\n" + "=" * 130)
    header = (f"{'batch':>5} | {'fast s/epoch':>12} | {'reference':>9} | {'ref/fast':>8} | "
              f"{'GFLOP/s':>7} | {'% peak':>6} | {'torch s/epoch':>13} | {'speed-up':>8} | targets")
    print(header)
    print("-" * 130)
    for batch_size, ours, _, theirs, _, _, reference in rows:
        achieved = flops / ours / 1e9
        fraction = achieved / peak
        verdicts = []
        if batch_size == REFERENCE_RATIO_BATCH:
            verdicts.append(f"reference <= {REFERENCE_RATIO_TARGET}x fast: "
                            + ("PASS" if reference / ours <= REFERENCE_RATIO_TARGET else "MISS"))
        if theirs is not None:
            speedup = theirs / ours
            verdicts.append(f"speed-up >= {SPEEDUP_TARGET}x: "
                            + ("PASS" if speedup >= SPEEDUP_TARGET else "MISS"))
            torch_text, speedup_text = f"{theirs:13.2f}", f"{speedup:7.2f}x"
        else:
            torch_text, speedup_text = f"{'(no torch)':>13}", f"{'-':>8}"
        if batch_size == PEAK_FRACTION_BATCH:
            verdicts.append(f">= {PEAK_FRACTION_TARGET:.0%} of peak: "
                            + ("PASS" if fraction >= PEAK_FRACTION_TARGET else "MISS"))
        print(f"{batch_size:>5} | {ours:12.2f} | {reference:9.2f} | {reference / ours:7.2f}x | "
              f"{achieved:7.0f} | {fraction:6.0%} | {torch_text} | {speedup_text} | "
              + "; ".join(verdicts))
    print("=" * 130)
    print(f"peak used: {peak:.0f} GFLOP/s (best seen in this run); BLAS/torch threads: {threads}"
          + ("" if rows[0][3] is None else f"; torch {rows[0][5]}")
          + f"; load average now {os.getloadavg()[0]:.1f} (above ~0.5, other programs share "
            "the CPU and every figure is noisy)")


if __name__ == "__main__":
    main()
