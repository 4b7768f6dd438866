"""Check a platform entry against the real C headers: compile ``c/rprobe.c``, run it, compare.

The probe is built once per distinct set of ABI flags the entry names (the rlimit entry points and
each getrusage variant), with any C compiler (native ``cc``, a Debian cross compiler) and run
natively or behind a prefix such as ``qemu-s390x-static``.

    python -m rckit.platforms.cprobe                       # this machine, its own entry
    python -m rckit.platforms.cprobe --target linux-s390x-glibc \\
        --cc s390x-linux-gnu-gcc --static --run qemu-s390x-static
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rckit.platforms import Struct, Target, current, targets

__all__ = ["PROBE_SOURCE", "build_and_run", "compare", "main", "run_probe"]

PROBE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "rprobe.c")

Output = Dict[str, Any]


def run_probe(
    cc: Sequence[str],
    cflags: Sequence[str],
    static: bool = False,
    run_prefix: Sequence[str] = (),
    workdir: Optional[str] = None,
) -> Output:
    """Compile the probe with ``cc`` and ``cflags``, run it, and return its JSON output."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        binary = os.path.join(tmp, "rprobe")
        command = [*cc, "-D_GNU_SOURCE", *cflags, *(["-static"] if static else []), "-o", binary, PROBE_SOURCE]
        built = subprocess.run(command, capture_output=True, text=True, check=False)
        if built.returncode != 0:
            raise RuntimeError("probe did not compile: %s\n%s" % (shlex.join(command), built.stderr))
        ran = subprocess.run([*run_prefix, binary], capture_output=True, text=True, check=False)
        if ran.returncode != 0:
            raise RuntimeError("probe failed to run (%d): %s" % (ran.returncode, ran.stderr))
        result: Output = json.loads(ran.stdout)
        return result


def build_and_run(
    target: Target, cc: Sequence[str], static: bool = False, run_prefix: Sequence[str] = ()
) -> Dict[Tuple[str, ...], Output]:
    """Run the probe once per distinct flag set the target uses; results keyed by the flags."""
    flag_sets = {target.rlimit.cflags, *(variant.cflags for variant in target.rusage)}
    return {flags: run_probe(cc, flags, static, run_prefix) for flags in sorted(flag_sets)}


def _compare_struct(label: str, expected: Struct, seen: Output, problems: List[str]) -> None:
    if seen["size"] != expected.size:
        problems.append("%s: size %s in the headers, %s in the data" % (label, seen["size"], expected.size))
    for name, field in seen["fields"].items():
        want = expected.fields.get(name)
        if want is None or (want.offset, want.size) != (field["offset"], field["size"]):
            problems.append("%s.%s: headers say %s, data says %s" % (label, name, field, want))


def compare(target: Target, outputs: Dict[Tuple[str, ...], Output]) -> List[str]:
    """Every difference between the target's data and the probe outputs (empty when they agree)."""
    problems: List[str] = []
    any_output = outputs[target.rlimit.cflags]
    header: Tuple[Tuple[str, object], ...] = (("pointer_bits", target.pointer_bits), ("byteorder", target.byteorder))
    for key, want in header:
        if any_output[key] != want:
            problems.append("%s: headers say %s, data says %s" % (key, any_output[key], want))
    seen_constants: Dict[str, int] = any_output["constants"]
    for name in sorted(set(seen_constants) | set(target.constants)):
        if seen_constants.get(name) != target.constants.get(name):
            problems.append("%s: headers say %s, data says %s" % (name, seen_constants.get(name), target.constants.get(name)))
    rlim = outputs[target.rlimit.cflags]["rlim"]
    wanted: Tuple[Tuple[str, Optional[int]], ...] = (
        ("size", target.rlimit.rlim_size),
        ("signed", int(target.rlimit.rlim_signed)),
        ("RLIM_INFINITY", target.rlimit.infinity),
        ("RLIM_SAVED_MAX", target.rlimit.saved_max),
        ("RLIM_SAVED_CUR", target.rlimit.saved_cur),
    )
    for key, want in wanted:
        if rlim.get(key) != want:
            problems.append("rlim_t %s: headers say %s, data says %s" % (key, rlim.get(key), want))
    _compare_struct("struct rlimit", target.rlimit.layout, outputs[target.rlimit.cflags]["rlimit"], problems)
    for variant in target.rusage:
        seen = outputs[variant.cflags]
        _compare_struct("struct rusage (%s)" % variant.symbol, variant.layout, seen["rusage"], problems)
        if variant.layout.timeval is not None:
            _compare_struct("struct timeval (%s)" % variant.symbol, variant.layout.timeval, seen["timeval"], problems)
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: compare one platform entry with the probe; exit 1 on any difference."""
    parser = argparse.ArgumentParser(prog="python -m rckit.platforms.cprobe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", help="platform entry id (default: this machine's)")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler command (default: $CC or cc)")
    parser.add_argument("--static", action="store_true", help="link statically (for emulated targets)")
    parser.add_argument("--run", default="", help="command prefix to run the probe, e.g. qemu-s390x-static")
    args = parser.parse_args(argv)
    target = targets()[args.target] if args.target else current()
    outputs = build_and_run(target, shlex.split(args.cc), args.static, shlex.split(args.run))
    problems = compare(target, outputs)
    for problem in problems:
        print("%s: %s" % (target.id, problem))
    print("%s: %s" % (target.id, "agrees with the C headers" if not problems else "%d difference(s)" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
