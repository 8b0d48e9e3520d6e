#!/usr/bin/python3
"""Times Lucy's Richardson-Lucy against skimage.restoration.richardson_lucy on the same data,
in one run.

    /usr/bin/python3 tests/bench/bench_deconvolve.py [--build build] [--iterations 20]
        [--threads 2] [--lucy-reps 5] [--skimage-reps 1] [--no-skimage] [--small]
        [--planning fast|thorough|both]

Data: a 64x256x256 float32 image (blobs on a noisy background, blurred) and a 31x63x63
Gaussian PSF (normalised). For each boundary (noncirculant, the default, and circular) it runs
tests/bench/bench-deconvolve (built here) with FAST planning (FFTW_ESTIMATE, Lucy's default
without wisdom) and THOROUGH planning (FFTW_MEASURE: --thorough; its first plan of a size
measures, for seconds, and is remembered as wisdom, so later runs get the same plans at once):
the cold first call (device + plan
+ one execute of N iterations), warm per-iteration time (median of executes / N), and the
floor, two r2c + c2r pairs at Lucy's padded size timed in the same process; then once with
the per-iteration monitor (I-divergence computed), and once with --rss-only for the peak
resident set against 5 P (P = one padded float32 array); executes run in place (out == image,
as lucy-cli does). skimage runs in this process on
float32 input (skimage 0.19 then computes in float32; scipy.signal.convolve picks FFT
convolution, zero-padded to N + M - 1, two per iteration). Benchmarks are not tests: nothing
fails.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_convolve import make_data, padded_bytes, write_f32  # noqa: E402

TARGET_SKIMAGE = 10.0  # Lucy at least 10x faster per iteration than skimage
TARGET_FLOOR = 1.25    # per iteration at most 1.25x two r2c + c2r pairs
TARGET_RSS_P = 5.0     # peak RSS at most 5 P


def build(build_dir):
    exe = os.path.join(build_dir, "tests", "bench", "bench-deconvolve")
    r = subprocess.run(["ninja", "-C", build_dir, "tests/bench/bench-deconvolve"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("cannot build bench-deconvolve:\n" + r.stdout + r.stderr)
    return exe


def run(exe, args, cache):
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    r = subprocess.run([exe] + args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("bench-deconvolve failed:\n" + r.stderr)
    res = {}
    for line in r.stdout.splitlines():
        for item in line.split():
            if "=" in item:
                k, v = item.split("=", 1)
                try:
                    res[k] = float(v)
                except ValueError:
                    res[k] = v
    return res


def time_skimage(img, psf, iters, reps):
    from skimage.restoration import richardson_lucy
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = richardson_lucy(img, psf, num_iter=iters, clip=False)
        times.append((time.perf_counter() - t) / iters)
    assert out.dtype == np.float32, out.dtype
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lucy-reps", type=int, default=5)
    ap.add_argument("--skimage-reps", type=int, default=1)
    ap.add_argument("--no-skimage", action="store_true")
    ap.add_argument("--small", action="store_true", help="32x128x128 with 15x31x31 (quick)")
    ap.add_argument("--planning", choices=["fast", "thorough", "both"], default="both")
    args = ap.parse_args()
    exe = build(os.path.abspath(args.build))
    ishape, pshape = ((32, 128, 128), (15, 31, 31)) if args.small else \
        ((64, 256, 256), (31, 63, 63))
    img, psf = make_data(ishape, pshape)
    psf = (psf / psf.sum()).astype(np.float32)
    from scipy.signal import fftconvolve
    img = np.maximum(fftconvolve(img, psf, mode="same"), 0).astype(np.float32)
    import scipy
    import skimage
    print("skimage %s, scipy %s, numpy %s, %d CPUs, Lucy threads %d, %d iterations"
          % (skimage.__version__, scipy.__version__, np.__version__, os.cpu_count(),
             args.threads, args.iterations))
    print("image %s, PSF %s" % ("x".join(map(str, ishape)), "x".join(map(str, pshape))))
    with tempfile.TemporaryDirectory(prefix="lucy-bench-") as tmp:
        ip, pp = os.path.join(tmp, "img.f32"), os.path.join(tmp, "psf.f32")
        write_f32(ip, img)
        write_f32(pp, psf)
        sk = None
        if not args.no_skimage:
            sk, skmin = time_skimage(img, psf, args.iterations, args.skimage_reps)
            print("skimage richardson_lucy (float32): %.3f s per iteration (median of %d runs "
                  "of %d, min %.3f)" % (sk, args.skimage_reps, args.iterations, skmin))
        plannings = ["fast", "thorough"] if args.planning == "both" else [args.planning]
        for boundary in ("noncirculant", "circular"):
            for planning in plannings:
                # One wisdom cache per boundary and planning: THOROUGH's first plan measures.
                cache = tempfile.mkdtemp(dir=tmp)
                report(exe, [ip, pp, "--boundary", boundary, "--iterations",
                             str(args.iterations), "--threads", str(args.threads),
                             "--planning", planning], cache, args, sk, img, boundary,
                       planning)


def report(exe, base, cache, args, sk, img, boundary, planning):
    """One boundary and planning: warm, with the monitor, and the peak RSS (same cache)."""
    r = run(exe, base + ["--reps", str(args.lucy_reps)], cache)
    rm = run(exe, base + ["--reps", str(args.lucy_reps), "--monitor"], cache)
    rss = run(exe, base + ["--rss-only"], cache)
    fshape = tuple(int(v) for v in r["fft_shape"].split("x"))
    P = padded_bytes(fshape)
    it, floor = r["iter_median_s"], r["floor_median_s"]
    print("\n== %s, %s planning: FFT %s, P = %.1f MiB, plan holds %.1f MiB (%.2f P) =="
          % (boundary, planning, r["fft_shape"], P / 2**20, r["plan_bytes"] / 2**20,
             r["plan_bytes"] / P))
    print("Lucy: %.4f s per iteration (median of %d executes, min %.4f); with the "
          "I-divergence monitor %.4f s" % (it, int(r["reps"]), r["iter_min_s"],
                                           rm["iter_median_s"]))
    print("   floor (2 x r2c+c2r at %s): %.4f s (min %.4f); Lucy/floor %.2f (target "
          "<= %.2f), with monitor %.2f; best-of %.2f"
          % (r["fft_shape"], floor, r["floor_min_s"], it / floor, TARGET_FLOOR,
             rm["iter_median_s"] / rm["floor_median_s"],
             r["iter_min_s"] / r["floor_min_s"]))
    print("   first call%s: plan %.3f s, plan + %d iterations %.3f s (%.3f s more than "
          "warm)" % (" (measuring: the first plan of this size)" if planning == "thorough"
                     else "", r["plan_s"], args.iterations, r["cold_s"],
                     r["cold_s"] - it * args.iterations))
    if planning == "thorough":
        print("   later first calls (wisdom): plan %.3f s" % rm["plan_s"])
    if sk:
        print("   skimage/Lucy per iteration: %.1fx (target >= %.0f)"
              % (sk / it, TARGET_SKIMAGE))
    peak = rss["peak_rss_kb"] * 1024.0
    data = rss["rss_data_kb"] * 1024.0
    print("   peak RSS %.1f MiB = %.2f P (target <= %.1f P), in place (out == image); "
          "plan %.1f MiB = %.2f P; before planning (process, image %.1f MiB, PSF) "
          "%.1f MiB = %.2f P"
          % (peak / 2**20, rss["peak_rss_P"], TARGET_RSS_P, rss["plan_bytes"] / 2**20,
             rss["plan_P"], img.nbytes / 2**20, data / 2**20, data / P))


if __name__ == "__main__":
    main()
