#!/usr/bin/python3
"""Times Lucy's `same` convolution against scipy.signal.fftconvolve on the same data, in one run.

    /usr/bin/python3 tests/bench/bench_convolve.py [--build build] [--cases small,large]
                                                   [--lucy-reps 7] [--scipy-reps 3]
                                                   [--threads 2] [--no-thorough] [--no-rss]

For each case it writes a float32 image (random blobs on a noisy background) and a Gaussian PSF,
runs tests/bench/bench-convolve (built here if needed) with FAST planning in an empty wisdom cache,
then THOROUGH planning twice in another empty cache (the first run pays FFTW_MEASURE once and
saves wisdom, the second is a normal cold start with wisdom), times scipy in this process with
one worker and with scipy.fft.set_workers(2), checks that Lucy (scipy origin, no normalisation)
agrees with scipy, and prints medians and ratios. It then measures the peak RSS of
`lucy-cli convolve IMG PSF -o OUT --mode same` under /usr/bin/time -v against the budget
input + output + 3 P (P = one padded float32 array). Benchmarks are not tests: nothing fails.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy
import scipy.fft
from scipy.signal import fftconvolve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CASES = {
    "small": ((64, 256, 256), (31, 63, 63)),
    "large": ((128, 512, 512), (64, 128, 128)),
}

TARGET_SCIPY1 = 4.0   # Lucy warm at least 4x faster than scipy with one worker
TARGET_SCIPY2 = 2.0   # and 2x faster than scipy with two workers
TARGET_FLOOR = 1.3    # warm convolution at most 1.3x one r2c + c2r pair


def write_f32(path, arr):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    with open(path, "wb") as f:
        f.write(("LUCYF32 %d %d %d\n" % arr.shape).encode("ascii"))
        f.write(arr.tobytes())


def read_f32(path):
    with open(path, "rb") as f:
        header = f.readline().split()
        shape = tuple(int(v) for v in header[1:4])
        return np.frombuffer(f.read(), dtype="<f4").reshape(shape)


def make_data(ishape, pshape, seed=1):
    rng = np.random.default_rng(seed)
    img = rng.normal(10.0, 1.0, ishape).astype(np.float32)
    # bright blobs
    for _ in range(200):
        c = [rng.integers(0, n) for n in ishape]
        sl = tuple(slice(max(0, ci - 2), ci + 3) for ci in c)
        img[sl] += 100.0
    axes = [np.arange(m) - (m - 1) / 2.0 for m in pshape]
    z, y, x = np.meshgrid(*axes, indexing="ij")
    sig = [max(m / 6.0, 0.5) for m in pshape]
    psf = np.exp(-0.5 * ((z / sig[0]) ** 2 + (y / sig[1]) ** 2 + (x / sig[2]) ** 2))
    return img, psf.astype(np.float32)


def padded_bytes(fshape):
    return fshape[0] * fshape[1] * 2 * (fshape[2] // 2 + 1) * 4


def find_or_build_bench(build):
    exe = os.path.join(build, "tests", "bench", "bench-convolve")
    r = subprocess.run(["ninja", "-C", build, "tests/bench/bench-convolve"],
                       capture_output=True, text=True)
    if r.returncode == 0 and os.path.exists(exe):
        return exe
    # tests/bench is not a meson subdir (yet): compile against the internal static library.
    r = subprocess.run(["ninja", "-C", build, "core/liblucy-internal.a"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit("cannot build core/liblucy-internal.a in %s:\n%s" % (build, r.stdout + r.stderr))
    exe = os.path.join(build, "bench-convolve")
    cmd = ["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-fopenmp",
           "-I", os.path.join(ROOT, "core", "include"), "-I", os.path.join(ROOT, "core", "src"),
           os.path.join(ROOT, "tests", "bench", "bench-convolve.c"),
           os.path.join(build, "core", "liblucy-internal.a"),
           "-lfftw3f_threads", "-lfftw3f", "-ltiff", "-lcairo", "-lm", "-lpthread", "-o", exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("cannot compile bench-convolve:\n" + r.stderr)
    return exe


def run_lucy(exe, img_path, psf_path, planning, cache, threads, reps, out_path=None):
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    cmd = [exe, img_path, psf_path, "--mode", "same", "--origin", "scipy",
           "--threads", str(threads), "--planning", planning, "--reps", str(reps)]
    if out_path:
        cmd += ["--out", out_path]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("bench-convolve failed:\n" + r.stderr)
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


def time_scipy(img, psf, workers, reps):
    """Median and minimum seconds of fftconvolve(mode="same") with the given workers."""
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        with scipy.fft.set_workers(workers):
            out = fftconvolve(img, psf, mode="same")
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), out


def peak_rss(build, img, psf, fshape, tmp):
    cli = os.path.join(build, "app", "lucy-cli")
    if not os.path.exists(cli):
        r = subprocess.run(["ninja", "-C", build, "app/lucy-cli"], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(cli):
            return "lucy-cli is not built (ninja -C %s app/lucy-cli failed)" % build
    try:
        import tifffile
    except ImportError:
        return "tifffile is not installed"
    ip, pp, op = (os.path.join(tmp, n) for n in ("img.tif", "psf.tif", "out.tif"))
    tifffile.imwrite(ip, img)
    tifffile.imwrite(pp, psf)
    if os.path.exists(op):
        os.unlink(op)
    cmd = ["/usr/bin/time", "-v", cli, "convolve", ip, pp, "-o", op, "--mode", "same"]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        return "lucy-cli convolve failed (exit %d): %s" % (r.returncode, r.stderr.strip()[-500:])
    rss_kb = None
    for line in r.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss_kb = int(line.split(":")[1])
    P = padded_bytes(fshape)
    budget = img.nbytes + img.nbytes + 3 * P
    return ("lucy-cli convolve: peak RSS %.1f MiB, budget input+output+3P = %.1f MiB "
            "(P = %.1f MiB), ratio %.2f, wall %.2f s"
            % (rss_kb / 1024.0, budget / 2**20, P / 2**20, rss_kb * 1024.0 / budget, wall))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cases", default="small,large")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lucy-reps", type=int, default=7)
    ap.add_argument("--scipy-reps", type=int, default=3)
    ap.add_argument("--no-thorough", action="store_true")
    ap.add_argument("--no-rss", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    exe = find_or_build_bench(build)
    print("scipy %s, numpy %s, %d CPUs, Lucy threads %d" %
          (scipy.__version__, np.__version__, os.cpu_count(), args.threads))
    tmp = tempfile.mkdtemp(prefix="lucy-bench-")
    try:
        for name in args.cases.split(","):
            ishape, pshape = CASES[name]
            img, psf = make_data(ishape, pshape)
            ip, pp, op = (os.path.join(tmp, n) for n in ("img.f32", "psf.f32", "out.f32"))
            write_f32(ip, img)
            write_f32(pp, psf)
            print("\n== same: %s (*) %s ==" % ("x".join(map(str, ishape)),
                                                 "x".join(map(str, pshape))))
            runs = {}
            cache_fast = tempfile.mkdtemp(dir=tmp)
            runs["FAST"] = run_lucy(exe, ip, pp, "fast", cache_fast, args.threads,
                                    args.lucy_reps, op)
            lucy_out = read_f32(op)
            # One thread: Lucy's per-core efficiency, which machine load distorts least.
            runs["FAST 1T"] = run_lucy(exe, ip, pp, "fast", cache_fast, 1, args.lucy_reps)
            if not args.no_thorough:
                cache_th = tempfile.mkdtemp(dir=tmp)
                first = run_lucy(exe, ip, pp, "thorough", cache_th, args.threads, 1)
                runs["THOROUGH"] = run_lucy(exe, ip, pp, "thorough", cache_th, args.threads,
                                            args.lucy_reps)
                runs["THOROUGH"]["measure_s"] = first["plan_s"]
            s1, s1min, ref = time_scipy(img, psf, 1, args.scipy_reps)
            s2, s2min, _ = time_scipy(img, psf, 2, args.scipy_reps)
            err = float(np.max(np.abs(lucy_out.astype(np.float64) - ref)) / np.max(np.abs(ref)))
            fshape = tuple(int(v) for v in runs["FAST"]["fft_shape"].split("x"))
            sfshape = tuple(scipy.fft.next_fast_len(a + b - 1, real=True)
                            for a, b in zip(ishape, pshape))
            print("FFT shape: Lucy %s, scipy %s; P = %.1f MiB; Lucy vs scipy max rel diff %.2e"
                  % ("x".join(map(str, fshape)), "x".join(map(str, sfshape)),
                     padded_bytes(fshape) / 2**20, err))
            print("scipy fftconvolve: 1 worker %.3f s (min %.3f), 2 workers %.3f s (min %.3f) "
                  "(median of %d)" % (s1, s1min, s2, s2min, args.scipy_reps))
            for label, r in runs.items():
                warm, floor = r["warm_median_s"], r["fft_pair_median_s"]
                extra = (", one-off FFTW_MEASURE planning %.1f s" % r["measure_s"]
                         if "measure_s" in r else "")
                print("Lucy %-8s warm %.3f s (median of %d, min %.3f), cold %.3f s (plan %.3f s)%s"
                      % (label, warm, int(r["reps"]), r["warm_min_s"], r["cold_s"], r["plan_s"],
                         extra))
                print("   stages: embed %.3f, r2c %.3f, cmul %.3f, r2c+c2r %.3f (min %.3f), "
                      "extract %.3f s" % (r["embed_median_s"], r["r2c_median_s"],
                                          r["cmul_median_s"], floor, r["fft_pair_min_s"],
                                          r["extract_median_s"]))
                print("   warm ratios: scipy-1/Lucy %.2f (target >= %.1f), scipy-2/Lucy %.2f "
                      "(target >= %.1f), Lucy/floor %.2f (target <= %.1f)"
                      % (s1 / warm, TARGET_SCIPY1, s2 / warm, TARGET_SCIPY2, warm / floor,
                         TARGET_FLOOR))
                print("   cold ratios: scipy-1/Lucy %.2f, scipy-2/Lucy %.2f; best-of ratios: "
                      "scipy-1/Lucy %.2f, scipy-2/Lucy %.2f, Lucy/floor %.2f"
                      % (s1 / r["cold_s"], s2 / r["cold_s"], s1min / r["warm_min_s"],
                         s2min / r["warm_min_s"], r["warm_min_s"] / r["fft_pair_min_s"]))
            if not args.no_rss:
                print(peak_rss(build, img, psf, fshape, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
