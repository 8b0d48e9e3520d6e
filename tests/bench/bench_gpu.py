#!/usr/bin/python3
"""Lucy's CUDA device against the tutorial's CuPy pipeline, in one run on a GPU machine.

    python3 tests/bench/bench_gpu.py [--build build] [--no-build] [--reps 7] [--quick]
                                     [--skip-conv] [--skip-rl] [--skip-tiled]

with a python3 that has numpy and cupy (on the GPU machine /opt/torch/.venv/bin/python3; the
system one may have neither: tests/gpu/device-run.sh picks it).

1. Convolution, 128x512x512 (*) 64x128x128 `same`, warm: Lucy (bench-gpu conv: upload, r2c,
   multiply by the cached OTF, c2r, extract, download) against CuPy's ifftshift -> rfftn x2 ->
   multiply -> irfftn -> crop at the same padded size, both with the arrays starting and ending
   on the host and with CuPy's arrays already on the GPU; peak GPU memory of each (Lucy: its
   allocation counter and the cudaMemGetInfo drop; CuPy: the most its memory pool had in use at
   once, from a memory hook, its cached cuFFT plans' work areas included).
   Targets: at least 2x faster, at most a third of CuPy's peak memory.
2. RL iteration at 256x1024x1024 with a 64x128x128 PSF against the floor (two r2c + c2r pairs
   at the padded size, CUDA events, same process). Target: within 1.5x.
3. A problem 2x larger than the budget: the in-memory need is twice the GPU's free memory
   (or, when host RAM cannot hold such an image, twice an emulated budget passed as a limit;
   the output says which); auto picks tiles; its time against the CPU path.
Benchmarks are not tests: nothing fails; ratios are printed. Needs numpy and cupy, and Lucy
configured with the CUDA device (ninja -C BUILD tests/bench/bench-gpu is run here).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_f32(path, arr):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    with open(path, "wb") as f:
        f.write(("LUCYF32 %d %d %d\n" % arr.shape).encode("ascii"))
        f.write(arr.tobytes())


def read_f32(path):
    with open(path, "rb") as f:
        head = f.readline().split()
        shape = tuple(int(v) for v in head[1:4])
        return np.frombuffer(f.read(), dtype="<f4").reshape(shape)


def good_size(n):
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def make_data(shape, psf_shape, seed=1):
    rng = np.random.default_rng(seed)
    img = rng.random(shape, dtype=np.float32)
    zz, yy, xx = np.meshgrid(*[np.arange(m) - m // 2 for m in psf_shape], indexing="ij")
    s = [m / 8.0 for m in psf_shape]
    psf = np.exp(-(zz**2 / (2 * s[0] ** 2) + yy**2 / (2 * s[1] ** 2) + xx**2 / (2 * s[2] ** 2)))
    return img, psf.astype(np.float32)


def run_driver(exe, args, env=None):
    p = subprocess.run([exe] + args, capture_output=True, text=True, env=env)
    if p.returncode == 77:
        print("  skipped:", p.stdout.strip())
        return None
    if p.returncode != 0:
        print("  bench-gpu failed:", p.stderr.strip())
        return None
    out = {}
    for line in p.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def peak_hook(cp, pool):
    """A CuPy memory hook recording the most bytes the pool had in use at once (pool.total_bytes
    is no high water: it also counts cached free blocks, which fragmentation can make larger
    than any moment's need). None when this CuPy has no memory hooks."""
    base = getattr(cp.cuda, "MemoryHook", None)
    if base is None:
        return None

    class PeakHook(base):
        name = "LucyBenchPeakHook"

        def __init__(self):
            self.used = pool.used_bytes()  # live now: the cached cuFFT plans' work areas
            self.peak = self.used

        def malloc_postprocess(self, **kw):
            self.used += kw["mem_size"]
            self.peak = max(self.peak, self.used)

        def free_postprocess(self, **kw):
            self.used -= kw["mem_size"]

    return PeakHook()


def cupy_pipeline(cp, img_h, psf_h, reps):
    """The tutorial: pad both to the `same` FFT size (the PSF centred there), ifftshift the PSF,
    rfftn both, multiply, irfftn, crop. Returns (warm seconds host->host, warm seconds
    device-resident, peak bytes, how the peak was measured, result, padded shape)."""
    N, M = img_h.shape, psf_h.shape
    L = tuple(good_size(n + m // 2) for n, m in zip(N, M))
    pool = cp.get_default_memory_pool()
    # the PSF's origin (M//2) at L//2, where ifftshift takes it to index 0
    at = tuple(slice(l // 2 - m // 2, l // 2 - m // 2 + m) for l, m in zip(L, M))

    def once(img_d, psf_d):
        pi = cp.zeros(L, dtype=cp.float32)
        pi[: N[0], : N[1], : N[2]] = img_d
        pp = cp.zeros(L, dtype=cp.float32)
        pp[at] = psf_d / psf_d.sum()
        pp = cp.fft.ifftshift(pp)
        out = cp.fft.irfftn(cp.fft.rfftn(pi) * cp.fft.rfftn(pp), s=L)
        return out[: N[0], : N[1], : N[2]]

    img_d, psf_d = cp.asarray(img_h), cp.asarray(psf_h)
    once(img_d, psf_d)  # warm: plans cached
    cp.cuda.Device().synchronize()
    del img_d, psf_d
    pool.free_all_blocks()
    used0 = pool.total_bytes()
    hook = peak_hook(cp, pool)
    t_host = []
    for _ in range(reps):
        t0 = time.perf_counter()
        if hook is not None:
            with hook:
                res = cp.asnumpy(once(cp.asarray(img_h), cp.asarray(psf_h)))
        else:
            res = cp.asnumpy(once(cp.asarray(img_h), cp.asarray(psf_h)))
        t_host.append(time.perf_counter() - t0)
    if hook is not None:
        peak, how = hook.peak, "pool in-use high water"
    else:  # an upper bound: the free blocks the pool kept count too
        peak, how = pool.total_bytes() - used0, "pool size, an upper bound"
    img_d, psf_d = cp.asarray(img_h), cp.asarray(psf_h)
    t_dev = []
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    for _ in range(reps):
        start.record()
        out = once(img_d, psf_d)
        stop.record()
        stop.synchronize()
        t_dev.append(cp.cuda.get_elapsed_time(start, stop) / 1000.0)
        del out
    return statistics.median(t_host), statistics.median(t_dev), peak, how, res, L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smaller shapes (a smoke run)")
    ap.add_argument("--skip-conv", action="store_true")
    ap.add_argument("--skip-rl", action="store_true")
    ap.add_argument("--skip-tiled", action="store_true")
    ap.add_argument("--no-build", action="store_true",
                    help="use BUILD's bench-gpu as it is (a pack from tests/gpu/device-pack.sh)")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["ninja", "-C", a.build, "tests/bench/bench-gpu"], check=True)
    exe = os.path.join(a.build, "tests", "bench", "bench-gpu")
    # liblucy looks for the module at the build's absolute path: a moved build needs this
    module = os.path.join(os.path.abspath(a.build), "core", "lucy-cuda.so")
    if not os.environ.get("LUCY_CUDA_MODULE") and os.path.exists(module):
        os.environ["LUCY_CUDA_MODULE"] = module
    try:
        import cupy as cp
    except ImportError:
        cp = None
        print("cupy is not installed: the CuPy comparison is skipped")

    conv_case = ((32, 128, 128), (16, 32, 32)) if a.quick else ((128, 512, 512), (64, 128, 128))
    rl_case = ((32, 256, 256), (16, 32, 32)) if a.quick else ((256, 1024, 1024), (64, 128, 128))
    with tempfile.TemporaryDirectory() as tmp:
        img, psf = make_data(*conv_case)
        ip, pp = os.path.join(tmp, "img.f32"), os.path.join(tmp, "psf.f32")
        write_f32(ip, img)
        write_f32(pp, psf)
        print("== convolution %s * %s same, warm" % (conv_case[0], conv_case[1]))
        env = dict(os.environ, BENCH_GPU_OUT=os.path.join(tmp, "lucy.f32"))
        r = None if a.skip_conv else run_driver(exe, ["conv", ip, pp, "--reps", str(a.reps)],
                                                env)
        if r:
            P = int(r["P_bytes"])
            print("  Lucy: fft %s, warm %.4f s, cold %.3f s, peak %d B = %.2f P (counter), "
                  "cudaMemGetInfo drop %d B, predicted %d B"
                  % (r["fft_shape"], float(r["warm_s"]), float(r["cold_s"]),
                     int(r["peak_counter_bytes"]), int(r["peak_counter_bytes"]) / P,
                     int(r["meminfo_drop_bytes"]), int(r["predicted_bytes"])))
            print("  transfers: upload %.1f GB/s from pageable memory, %.1f from page-locked; "
                  "download %.1f and %.1f; pageable transfers are %.0f%% of Lucy's warm time"
                  % (float(r["h2d_pageable_GBps"]), float(r["h2d_pinned_GBps"]),
                     float(r["d2h_pageable_GBps"]), float(r["d2h_pinned_GBps"]),
                     100 * float(r["transfer_share"])))
            if cp is not None:
                th, td, peak, how, res, L = cupy_pipeline(cp, img, psf, a.reps)
                lucy = read_f32(os.path.join(tmp, "lucy.f32"))
                diff = float(np.abs(lucy - res).max() / np.abs(res).max())
                print("  CuPy: padded %s, warm %.4f s host->host, %.4f s on device, peak %d B "
                      "= %.2f P (%s)" % (L, th, td, peak, peak / P, how))
                print("  speed-up vs CuPy host->host %.2fx, vs CuPy device-resident %.2fx "
                      "(target >= 2x); memory %.2f of CuPy's (target <= 0.33); max rel diff %.2g"
                      % (th / float(r["warm_s"]), td / float(r["warm_s"]),
                         int(r["peak_counter_bytes"]) / max(peak, 1), diff))
        if not a.skip_rl:
            img, psf = make_data(*rl_case)
            write_f32(ip, img)
            write_f32(pp, psf)
            print("== RL iteration %s * %s noncirculant" % rl_case)
            r = run_driver(exe, ["rl", ip, pp, "--iterations", "10", "--reps", "3"])
            if r:
                print("  fft %s: %.4f s per iteration, floor (2 r2c+c2r pairs) %.4f s: %.2fx "
                      "(target <= 1.5x); peak %s B"
                      % (r["fft_shape"], float(r["rl_iteration_s"]), float(r["floor_s"]),
                         float(r["ratio"]), r["peak_counter_bytes"]))
        if not a.skip_tiled:
            # Twice the budget. The budget is the GPU's free memory when host RAM can hold the
            # image and two results (the CPU comparison), else an emulated budget.
            free_gpu = 0
            if cp is not None:
                cp.get_default_memory_pool().free_all_blocks()
                free_gpu = cp.cuda.runtime.memGetInfo()[0]
            host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
            psf_shape = (32, 64, 64)
            cli = os.path.join(a.build, "app", "lucy-cli")

            def need(yx, nz=128):
                out = subprocess.run(
                    [cli, "memory", "--op", "convolve", "--shape", "%d,%d,%d" % (nz, yx, yx),
                     "--psf-shape", "%d,%d,%d" % psf_shape, "--device", "cuda",
                     "--strategy", "in-memory", "--json"], capture_output=True, text=True,
                    check=True).stdout
                import json
                return json.loads(out)["peak_device_bytes"]

            def side_for(b):  # y = x side whose in-memory need is 2 b (bisection)
                lo, hi = 64, 1 << 17
                while hi - lo > 8:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if need(mid) < 2 * b else (lo, mid)
                return hi

            budget = free_gpu
            emulated = False
            if not budget or 3 * 4 * 128 * side_for(budget) ** 2 > 0.6 * host:
                budget = int(0.6 * host / 12)  # leaves host room for image + 2 results
                emulated = True
            side = side_for(budget)
            shape = (128, side, side)
            img, psf = make_data(shape, psf_shape)
            write_f32(ip, img)
            write_f32(pp, psf)
            print("== tiled: %s * %s under a %s budget of %d B"
                  % (shape, psf_shape, "EMULATED" if emulated else "real (free GPU)", budget))
            r = run_driver(exe, ["tiled", ip, pp, "--limit", str(budget)])
            if r:
                print("  in-memory would need %s B (%.2fx the budget): strategy %s, %s tiles of %s,"
                      " predicted %s B, counter peak %s B"
                      % (r["in_memory_bytes"], int(r["in_memory_bytes"]) / budget, r["strategy"],
                         r["tiles"], r["tile"], r["predicted_bytes"], r["peak_counter_bytes"]))
                print("  GPU tiled %s s, CPU in-memory %s s: CPU/GPU %s; max rel diff %s"
                      % (r["gpu_s"], r["cpu_s"], r["cpu_over_gpu"], r["max_rel_diff"]))


if __name__ == "__main__":
    sys.exit(main())
