#!/usr/bin/env python3
"""Makes host C++ of a CUDA source for the emulator: gen-emu-kernels.py IN.cu OUT.cc

The one `#include <cuda_runtime.h>` becomes `#include "cuda-emu-kernel.h"`, and every launch
`kernel<<<grid, block[, shmem[, stream]]>>>(args);` becomes
`lucy_emu::launch<kernel, BARRIERS>("kernel", grid, block, shmem, stream, args);`, where
BARRIERS says whether the kernel's code can reach __syncthreads (directly or through the
functions it calls, followed through the source), so that only such kernels pay for fibers.
Each block-shared array `__shared__ T name[N]...;` becomes
`auto &name = lucy_emu::shared<T[N]..., ID>();` (one copy per host thread that runs blocks).
Everything else is copied as it is, line for line (a #line directive points the compiler's
messages at the .cu file). Anything this does not understand is an error, never a guess.
"""
import re
import sys

KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "case",
            "static_cast", "reinterpret_cast", "const_cast", "decltype", "alignof"}


def fail(message):
    sys.exit(f"gen-emu-kernels.py: {message}")


def blank_comments_and_strings(src):
    """The source with comments and literals replaced by spaces (newlines kept), so that braces
    and names inside them are not taken for code; offsets stay those of the source."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                fail("unterminated comment")
            j += 2
        elif src[i] in "\"'":
            quote, j = src[i], i + 1
            while j < n and src[j] != quote:
                j += 2 if src[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def matching(code, i, open_ch, close_ch):
    """Index just past the bracket that closes the one at code[i]."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_ch:
            depth += 1
        elif code[j] == close_ch:
            depth -= 1
            if depth == 0:
                return j + 1
    fail(f"unbalanced {open_ch}{close_ch} at offset {i}")


def functions(code):
    """{name: (header, body)} for every function definition: a `{` whose preceding text
    (since the last `;`, `{` or `}`) ends in `name(...)` plus optional qualifiers."""
    found = {}
    for m in re.finditer(r"\{", code):
        start = max(code.rfind(";", 0, m.start()), code.rfind("{", 0, m.start()),
                    code.rfind("}", 0, m.start())) + 1
        header = code[start:m.start()]
        h = re.search(r"(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:const\s*)?(?:noexcept\s*)?$",
                      header)
        if not h or h.group(1) in KEYWORDS or re.search(r"\bnamespace\b|\bstruct\b|=", header):
            continue
        body = code[m.start():matching(code, m.start(), "{", "}")]
        name = h.group(1)
        if name in found:
            fail(f"two definitions of {name} (overloads are not followed)")
        found[name] = (header, body)
    return found


def barrier_functions(funcs):
    """Names of the functions whose code can reach __syncthreads."""
    calls = {name: set(re.findall(r"\b(\w+)\s*(?:<[^<>;]*>)?\s*\(", body)) & set(funcs)
             for name, (_, body) in funcs.items()}
    reach = {name for name, (_, body) in funcs.items() if "__syncthreads" in body}
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            if name not in reach and callees & reach:
                reach.add(name)
                changed = True
    return reach


def split_top_level(text):
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def main():
    if len(sys.argv) != 3:
        fail("usage: gen-emu-kernels.py IN.cu OUT.cc")
    path, out_path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        src = f.read()
    code = blank_comments_and_strings(src)

    includes = [m for m in re.finditer(r"^[ \t]*#[ \t]*include[ \t]*<cuda_runtime\.h>[ \t]*$",
                                       code, re.M)]
    if len(includes) != 1:
        fail(f"expected one #include <cuda_runtime.h> in {path}, found {len(includes)}")

    funcs = functions(code)
    kernels = {name for name, (header, _) in funcs.items() if re.search(r"\b__global__\b", header)}
    if not kernels:
        fail(f"no __global__ functions in {path}")
    barriers = barrier_functions(funcs)

    edits = [(includes[0].start(), includes[0].end(), '#include "cuda-emu-kernel.h"')]
    for m in re.finditer(r"<<<", code):
        name_m = re.search(r"(\w+)\s*$", code[:m.start()])
        if not name_m or name_m.group(1) not in kernels:
            fail(f"a launch of something that is not a __global__ function at offset {m.start()}")
        name = name_m.group(1)
        close = code.find(">>>", m.end())
        if close < 0:
            fail(f"unterminated <<< for {name}")
        config = split_top_level(src[m.end():close])
        if not 2 <= len(config) <= 4:
            fail(f"{name}<<<...>>> has {len(config)} configuration arguments")
        config += ["0", "0"][: 4 - len(config)]
        paren = close + 3
        while code[paren].isspace():
            paren += 1
        if code[paren] != "(":
            fail(f"no argument list after {name}<<<...>>>")
        end = matching(code, paren, "(", ")")
        args = src[paren + 1:end - 1]
        flag = "true" if name in barriers else "false"
        call = (f'lucy_emu::launch<{name}, {flag}>("{name}", {", ".join(c.strip() for c in config)}'
                f"{', ' if args.strip() else ''}{args})")
        # Keep the line count, so that #line keeps pointing at the right .cu lines.
        lost = src[name_m.start():end].count("\n") - call.count("\n")
        edits.append((name_m.start(), end, call + "\n" * lost))

    shared = re.compile(r"__shared__\s+([^;=]*?)\s*\b(\w+)\s*((?:\[[^\]]*\]\s*)+);")
    for i, m in enumerate(re.finditer(r"\b__shared__\b", code)):
        if re.search(r"\bextern\s*$", code[:m.start()]):
            fail("extern __shared__ (dynamic shared memory) is not emulated")
        d = shared.match(code, m.start())
        if not d:
            fail(f"a __shared__ declaration other than `__shared__ T name[N]...;` at offset "
                 f"{m.start()}")
        type_, name, dims = src[d.start(1):d.end(1)], d.group(2), src[d.start(3):d.end(3)]
        text = f"auto &{name} = lucy_emu::shared<{type_}{dims.strip()}, {i}>();"
        edits.append((m.start(), d.end(), text + "\n" * src[m.start():d.end()].count("\n")))

    out, pos = [], 0
    for start, end, text in sorted(edits):
        if start < pos:
            fail("overlapping rewrites")
        out.append(src[pos:start])
        out.append(text)
        pos = end
    out.append(src[pos:])
    launches = sum(1 for _, _, text in edits if text.startswith("lucy_emu::launch"))
    header = (f"// Generated by tests/gpu/emu/gen-emu-kernels.py from {path}: do not edit.\n"
              f"// {launches} launches; kernels reaching __syncthreads (run as fibers): "
              f"{', '.join(sorted(kernels & barriers)) or 'none'}.\n"
              f'#line 1 "{path}"\n')
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(header + "".join(out))


if __name__ == "__main__":
    main()
