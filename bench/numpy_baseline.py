"""The machine's own FP32 ceiling: numpy's sgemm (OpenBLAS or whatever BLAS
numpy links) on the CPU cores lavapipe runs on. Prints one JSON object.

Run by bench/run.ts; on its own: python3 bench/numpy_baseline.py
"""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"error": "numpy not available"}))
    sys.exit(0)


def sgemm_gflops(n: int, reps: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def blas_name() -> str:
    """The BLAS numpy loaded and, for OpenBLAS, the core kernel it picked at run time."""
    import ctypes
    import glob
    import os

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*.so*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            # Symbol names differ between OpenBLAS builds (numpy wheels rename them).
            for core_name, threads_name in (
                ("scipy_openblas_get_corename64_", "scipy_openblas_get_num_threads64_"),
                ("scipy_openblas_get_corename", "scipy_openblas_get_num_threads"),
                ("openblas_get_corename", "openblas_get_num_threads"),
            ):
                get_core = getattr(lib, core_name, None)
                get_threads = getattr(lib, threads_name, None)
                if get_core and get_threads:
                    get_core.restype = ctypes.c_char_p
                    return f"OpenBLAS core {get_core().decode()}, {get_threads()} threads"
        except OSError:
            continue
    return "unknown BLAS"


print(json.dumps({
    "numpy": np.__version__,
    "blas": blas_name(),
    "sgemm_1024_gflops": sgemm_gflops(1024, 5),
    "sgemm_2048_gflops": sgemm_gflops(2048, 3),
}))
