"""Benchmark: how fast, and in how much memory, Fashion-MNIST loads.

    python benchmarks/bench_data.py            (or: python3 course.py bench)

Each measurement runs in a fresh Python process, as a learner's kernel would:

- first load:    the decoded-array cache (data/.cache/) is deleted first, so the
                 four gzip files are checked, decompressed and parsed, and the
                 cache is written;
- repeated load: in a fresh process with the cache in place (a kernel restart),
                 and a second call in the same process.

Memory: the peak of Python/NumPy allocations during the load (tracemalloc),
compared with the total size of the four arrays returned; the growth of the
process's peak resident memory (ru_maxrss) is shown too.

Targets (issue 3): repeated load < 0.5 s; peak memory < 2 x the arrays returned.
Note: this deletes and rebuilds data/.cache/ (the cache only; the data is untouched).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

REPEATED_LOAD_TARGET_SECONDS = 0.5
PEAK_MEMORY_TARGET_RATIO = 2.0


def worker(data_dir, clear, trace):
    """Runs in the child process: load twice, print the measurements as JSON."""
    import resource
    import tracemalloc

    from course_lib import data

    if clear:
        data.clear_cache(data_dir)
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    (X_train, y_train), (X_test, y_test) = data.load_fashion_mnist(data_dir=data_dir)
    first_seconds = time.perf_counter() - start
    peak_bytes = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    rss_growth_bytes = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kb) * 1024
    array_bytes = sum(a.nbytes for a in (X_train, y_train, X_test, y_test))
    del X_train, y_train, X_test, y_test
    start = time.perf_counter()
    data.load_fashion_mnist(data_dir=data_dir)
    second_seconds = time.perf_counter() - start
    print(json.dumps({
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
        "peak_bytes": peak_bytes,
        "rss_growth_bytes": rss_growth_bytes,
        "array_bytes": array_bytes,
    }))


def measure(data_dir, clear, trace):
    command = [sys.executable, __file__, "--worker"]
    if data_dir:
        command += ["--data-dir", data_dir]
    if clear:
        command.append("--clear")
    if trace:
        command.append("--trace")
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def verdict(passed):
    return "PASS" if passed else "MISS"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement (median shown)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clear", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        worker(arguments.data_dir, arguments.clear, arguments.trace)
        return 0

    repeats = max(1, arguments.repeats)
    cold = [measure(arguments.data_dir, clear=True, trace=False) for _ in range(repeats)]
    cold_traced = measure(arguments.data_dir, clear=True, trace=True)
    warm = [measure(arguments.data_dir, clear=False, trace=False) for _ in range(repeats)]
    warm_traced = measure(arguments.data_dir, clear=False, trace=True)

    array_mb = cold_traced["array_bytes"] / 1e6
    first = statistics.median(m["first_seconds"] for m in cold)
    restart = statistics.median(m["first_seconds"] for m in warm)
    same_process = statistics.median(m["second_seconds"] for m in warm)
    cold_ratio = cold_traced["peak_bytes"] / cold_traced["array_bytes"]
    warm_ratio = warm_traced["peak_bytes"] / warm_traced["array_bytes"]
    cold_rss = statistics.median(m["rss_growth_bytes"] for m in cold) / 1e6
    warm_rss = statistics.median(m["rss_growth_bytes"] for m in warm) / 1e6

    print(f"Fashion-MNIST load (arrays returned: {array_mb:.1f} MB; median of {repeats} fresh processes)")
    print(f"  first load (cache cleared)             {first:6.3f} s")
    repeated_ok = restart < REPEATED_LOAD_TARGET_SECONDS
    print(f"  repeated load, fresh process           {restart:6.3f} s   target < {REPEATED_LOAD_TARGET_SECONDS} s: "
          f"{verdict(repeated_ok)}")
    same_ok = same_process < REPEATED_LOAD_TARGET_SECONDS
    print(f"  repeated load, same process            {same_process:6.3f} s   target < {REPEATED_LOAD_TARGET_SECONDS} s: "
          f"{verdict(same_ok)}")
    cold_mem_ok = cold_ratio < PEAK_MEMORY_TARGET_RATIO
    print(f"  peak memory, first load (tracemalloc)  {cold_traced['peak_bytes'] / 1e6:6.1f} MB = {cold_ratio:.2f} x arrays"
          f"   target < {PEAK_MEMORY_TARGET_RATIO:g} x: {verdict(cold_mem_ok)}")
    warm_mem_ok = warm_ratio < PEAK_MEMORY_TARGET_RATIO
    print(f"  peak memory, repeated (tracemalloc)    {warm_traced['peak_bytes'] / 1e6:6.1f} MB = {warm_ratio:.2f} x arrays"
          f"   target < {PEAK_MEMORY_TARGET_RATIO:g} x: {verdict(warm_mem_ok)}")
    print(f"  peak resident memory growth (ru_maxrss): first {cold_rss:.1f} MB = {cold_rss / array_mb:.2f} x, "
          f"repeated {warm_rss:.1f} MB = {warm_rss / array_mb:.2f} x arrays")
    return 0


if __name__ == "__main__":
    sys.exit(main())
