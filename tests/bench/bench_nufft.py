#!/usr/bin/python3
"""Times Lucy's NUFFT against FINUFFT (pip `finufft`) on the same points, same eps, same threads.

    python3 tests/bench/bench_nufft.py --python /tmp/nufft-venv/bin/python [--build build]
            [--threads 2] [--reps 5] [--count 1000000] [--cases 2d1,2d2,3d1] [--precisions double,float]

FINUFFT and numpy live in a virtual environment (Debian's python is externally managed):
    python3 -m venv /tmp/nufft-venv && /tmp/nufft-venv/bin/pip install finufft numpy
--python names that interpreter; the script re-runs itself under it. For each case it draws M
uniformly random points in [-pi, pi)^d and random complex data (seeded), writes them to raw
files, runs tests/bench/bench-nufft (Lucy, built here with ninja if needed) and times
finufft.Plan in this process: plan (excluded from throughput, reported separately), setpts and
execute, median of --reps. Throughput is points per second of execute alone and of
setpts + execute. It checks that both computed the same transform (relative l2 difference) and
prints Lucy/FINUFFT throughput ratios (> 1: Lucy faster). Benchmarks are not tests.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CASES = {
    "2d1": (2, 1, (512, 512)),
    "2d2": (2, 2, (512, 512)),
    "3d1": (3, 1, (128, 128, 128)),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", help="interpreter with finufft and numpy (re-runs this script)")
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--cases", default="2d1,2d2,3d1")
    ap.add_argument("--precisions", default="double,float")
    args = ap.parse_args()
    if args.python and os.path.abspath(args.python) != os.path.abspath(sys.executable) \
            and os.environ.get("LUCY_BENCH_REEXEC") != "1":
        env = dict(os.environ, LUCY_BENCH_REEXEC="1")
        argv = [a for a in sys.argv[1:]]
        sys.exit(subprocess.call([args.python, os.path.abspath(__file__)] + argv, env=env))

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import numpy as np
    import finufft

    build = args.build if os.path.isabs(args.build) else os.path.join(ROOT, args.build)
    driver = os.path.join(build, "tests", "bench", "bench-nufft")
    subprocess.check_call(["ninja", "-C", build, "tests/bench/bench-nufft"], stdout=subprocess.DEVNULL)
    print(f"finufft {finufft.__version__}, numpy {np.__version__}, {args.threads} threads, "
          f"M = {args.count}, eps = {args.eps:g}, median of {args.reps}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    rng = np.random.default_rng(6)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            dim, typ, modes = CASES[name]
            M = args.count
            pts = rng.uniform(-np.pi, np.pi, size=(dim, M))
            ntot = int(np.prod(modes))
            nin = M if typ == 1 else ntot
            data = (rng.standard_normal(nin) + 1j * rng.standard_normal(nin))
            pts_path = os.path.join(tmp, "pts.f64")
            data_path = os.path.join(tmp, "data.f64")
            out_path = os.path.join(tmp, "out.f64")
            pts.astype(np.float64).tofile(pts_path)
            data.astype(np.complex128).tofile(data_path)
            isign = 1 if typ == 1 else -1
            for prec in args.precisions.split(","):
                cmd = [driver, "--dim", str(dim), "--type", str(typ),
                       "--modes", ",".join(str(m) for m in modes), "--eps", str(args.eps),
                       "--precision", prec, "--threads", str(args.threads), "--reps", str(args.reps),
                       "--points", pts_path, "--data", data_path, "--count", str(M),
                       "--isign", str(isign), "--out", out_path]
                lucy = json.loads(subprocess.check_output(cmd, text=True))
                lucy_out = np.fromfile(out_path, dtype=np.complex128)

                # FINUFFT: modes array in C order with x (k1) as the first axis
                cdt = np.complex128 if prec == "double" else np.complex64
                rdt = np.float64 if prec == "double" else np.float32
                xyz = [np.ascontiguousarray(p.astype(rdt)) for p in pts]
                if typ == 1:
                    fin_in = data.astype(cdt)
                else:
                    # Lucy stores k1 fastest: reshape to (..., N2, N1) and transpose to (N1, N2, ...)
                    fin_in = np.ascontiguousarray(data.reshape(modes[::-1]).transpose().astype(cdt))
                times = {"plan": [], "setpts": [], "execute": []}
                out = None
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    plan = finufft.Plan(typ, modes, eps=args.eps, isign=isign, nthreads=args.threads,
                                        dtype=cdt)
                    t1 = time.perf_counter()
                    plan.setpts(*xyz)
                    t2 = time.perf_counter()
                    out = plan.execute(fin_in)
                    t3 = time.perf_counter()
                    times["plan"].append(t1 - t0)
                    times["setpts"].append(t2 - t1)
                    times["execute"].append(t3 - t2)
                    del plan
                best = {k: statistics.median(v) for k, v in times.items()}  # medians, like Lucy's
                if typ == 1:
                    fin_out = np.asarray(out).transpose().reshape(-1)
                else:
                    fin_out = np.asarray(out).reshape(-1)
                diff = np.linalg.norm(lucy_out - fin_out) / np.linalg.norm(fin_out)
                r_exec = (M / lucy["execute_s"]) / (M / best["execute"])
                r_all = (best["setpts"] + best["execute"]) / (lucy["setpts_s"] + lucy["execute_s"])
                rows.append((name, prec, lucy, best, diff, r_exec, r_all))
                print(f"{name} {'x'.join(map(str, modes))} {prec:6s}: "
                      f"Lucy plan {lucy['plan_s']:.3f}s setpts {lucy['setpts_s']:.3f}s execute {lucy['execute_s']:.3f}s "
                      f"(w={lucy['width']}, fine {lucy['fine'][:dim]}) | "
                      f"FINUFFT plan {best['plan']:.3f}s setpts {best['setpts']:.3f}s execute {best['execute']:.3f}s | "
                      f"Lucy vs FINUFFT rel diff {diff:.2e}", flush=True)
                print(f"    throughput (Mpts/s) execute: Lucy {M / lucy['execute_s'] / 1e6:.2f}, "
                      f"FINUFFT {M / best['execute'] / 1e6:.2f}, ratio {r_exec:.2f}; "
                      f"setpts+execute: Lucy {M / (lucy['setpts_s'] + lucy['execute_s']) / 1e6:.2f}, "
                      f"FINUFFT {M / (best['setpts'] + best['execute']) / 1e6:.2f}, ratio {r_all:.2f}",
                      flush=True)
    print("\nratios Lucy/FINUFFT throughput (>= 1 meets the target): " +
          ", ".join(f"{n} {p}: {re:.2f} (exec) {ra:.2f} (setpts+exec)" for n, p, _, _, _, re, ra in rows))


if __name__ == "__main__":
    main()
