"""Turn a failure's stored example (rckit.conformance.harness.exchanges) into a standalone Python script.

The script imports the candidate's module and makes the calls of the example as plain calls, in a
forked child wherever the example ran in one (so it never changes the limits of the shell that
runs it), prints what each did and compares it with what the failing run saw. It runs on Python
2.7 and 3.x with the standard library only; it exits 1 when every step did what it did in the
failing run (the deviation shows again) and 0 otherwise, saying which.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

from rckit.conformance.harness.values import Foreign, decode
from rckit.conformance.outputs.repro.prelude import CLASSES, HELPERS

__all__ = ["Failure", "render", "shape"]

#: Constant names that are another name of the same resource; the canonical one is written.
ALIASES = frozenset({"RLIMIT_OFILE"})
#: Which argument of which function is a resource number, a RUSAGE_* or a pair of limits.
ROLES: dict[str, tuple[str, ...]] = {
    "getrlimit": ("resource",),
    "setrlimit": ("resource", "limits"),
    "prlimit": ("pid", "resource", "limits"),
    "getrusage": ("who",),
}
#: Where each action the script does not replay lives in the kit.
AGENT = "rckit/conformance/agent/actions.py"


@dataclass(frozen=True)
class Failure:
    """One failing result of a report, with what the script's header says about it."""

    rule: str
    statement: str
    candidate: str
    test: str
    status: str
    reason: str
    example: dict[str, Any]
    interpreter: str = ""
    platform: str = ""


def shape(tagged: dict[str, Any]) -> Any:
    """A tagged value of the protocol as the script's ``shape()`` sees the same value: decoded, with
    floats and objects standing for their type only."""
    return _shaped(decode(tagged))


def _shaped(value: Any) -> Any:
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, tuple | list):
        return type(value)(_shaped(item) for item in value)
    if isinstance(value, Foreign):
        return f"<{value.type}>"
    return value


def literal(value: Any) -> str:
    """Python source for a value, readable by Python 2.7 and 3."""
    if isinstance(value, str):
        return repr(value) if value.isascii() else "u" + ascii(value)
    if isinstance(value, float):
        return f"float({str(value)!r})" if math.isinf(value) or math.isnan(value) else repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


@dataclass
class _Script:
    """The script being written: main()'s lines, what it needs defined, what each step saw."""

    module: str
    constants: dict[str, int]
    lines: list[str] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    helpers: set[str] = field(default_factory=lambda: {"core", "compare", "finish"})
    saw: dict[int, Any] = field(default_factory=dict)
    ends: dict[int, str] = field(default_factory=dict)
    number: int = 0
    last_replayed: bool = True

    def name_of(self, value: int, prefix: str) -> str | None:
        names = sorted(n for n, v in self.constants.items() if v == value and n.startswith(prefix) and n not in ALIASES)
        return f"resource.{names[0]}" if names else None

    def source(self, tagged: dict[str, Any], role: str = "") -> str:
        """Python source that builds the argument a tagged value describes."""
        tag = tagged["t"]
        value: Any = tagged.get("v")
        if tag == "int" and role in ("resource", "who"):
            return self.name_of(value, "RLIMIT_" if role == "resource" else "RUSAGE_") or repr(value)
        if tag == "int" and role == "limit" and value == self.constants.get("RLIM_INFINITY"):
            return "resource.RLIM_INFINITY"
        if tag in ("tuple", "list"):
            inner = [self.source(item, "limit" if role == "limits" else "") for item in value]
            if tag == "list":
                return "[" + ", ".join(inner) + "]"
            return f"({inner[0]},)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
        simple = {"int": value, "bool": value, "str": value, "none": None}
        if tag in simple:
            return literal(simple[tag])
        if tag == "float":
            return literal(float.fromhex(value))
        if tag == "bytes":
            return repr(bytes.fromhex(value))
        if tag == "dict":
            return "{" + ", ".join(f"{self.source(k)}: {self.source(v)}" for k, v in value) + "}"
        if tag == "iter":
            return "iter([" + ", ".join(self.source(item) for item in value) + "])"
        if tag == "attr":
            return f"resource.{tagged['name']}"
        if tag == "pid":
            return "os.getpid()" if tagged.get("which") == "self" else "os.getppid()"
        if tag == "object":
            return "object()"
        classes = {"index": "IndexOnly", "intlike": "IntOnly", "intsub": "IntSubclass", "exploding": "Exploding",
                   "uncomparable": "Uncomparable"}  # fmt: skip
        self.classes.add(classes[tag])
        return f"{classes[tag]}()" if tag in ("exploding", "uncomparable") else f"{classes[tag]}({value!r})"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * (depth + 1) + line)

    def step(self, depth: int, step: dict[str, Any]) -> None:
        """The lines of one step that is not a fork or an exit."""
        op, reply = step["op"], step["reply"]
        if "ended" in reply:
            ended = reply["ended"]
            if ended.get("signal") is not None:
                self.ends[step["session"]] = ended.get("signal_name") or f"signal {ended['signal']}"
            else:
                self.ends[step["session"]] = f"exit {ended['exit_code']}"
        self.number += 1
        number = self.number
        if op == "call":
            roles = ROLES.get(step["fn"], ())
            args = [self.source(arg, roles[i] if i < len(roles) else "") for i, arg in enumerate(step.get("args", []))]
            args += [f"{name}={self.source(arg)}" for name, arg in step.get("kwargs", {}).items()]
            self.emit(depth, f"step({number}, lambda: resource.{step['fn']}({', '.join(args)}))")
            self.helpers.add("step")
            too_large = isinstance(reply.get("ok"), dict) and reply["ok"].get("too_large")
            self.saw[number] = "not compared" if too_large else _call_saw(reply)
            self.last_replayed = True
        elif op == "attr":
            self.emit(depth, f"attribute({number}, {literal(step['name'])})")
            self.helpers.add("attribute")
            ok = reply.get("ok", {})
            self.saw[number] = (bool(ok.get("present")), shape(ok["value"]) if ok.get("present") else None)
            self.last_replayed = True
        elif op == "error_class" and "ok" in reply:
            self.emit(depth, f"error_class({number})")
            self.helpers.add("error_class")
            self.saw[number] = reply["ok"]
            self.last_replayed = True
        elif op == "act" and step.get("action") == "allocate":
            params = step.get("params", {})
            touch = ", touch=True" if params.get("touch") else ""
            self.emit(depth, f"allocate({number}, {params.get('bytes')}{touch})")
            self.helpers.add("allocate")
            self.saw[number] = reply.get("ok")
            self.last_replayed = True
        elif op == "act" and step.get("action") == "usage_workload" and _majfaults(step) is not None:
            self.emit(depth, f"majfaults({number}, {step['params'].get('bytes', 4 << 20)})")
            self.helpers.add("majfaults")
            self.saw[number] = {"majflt_below_half_the_pages": _majfaults(step)}
            self.last_replayed = True
        elif op == "act" and step.get("action") == "drop_privileges":
            self.emit(depth, "drop_privileges()  # the example ran unprivileged")
            self.helpers.add("drop_privileges")
            self.number -= 1
        else:
            action = step.get("action")
            what = f'the kit\'s "{action}" action ({AGENT}, act_{action})' if op == "act" else f"a {op} request"
            params = json.dumps(step.get("params", {}), sort_keys=True)
            answer = json.dumps(reply.get("ok", reply), sort_keys=True)
            self.emit(depth, f"# not replayed: {what} with {_short(params)}")
            self.emit(depth, f"# it answered {_short(answer, 120)}")
            self.emit(depth, f'print("{number}. (not replayed here: {what.replace(chr(34), chr(39))})")')
            self.last_replayed = False


def _majfaults(step: dict[str, Any]) -> bool | None:
    """Whether the failing run's major-fault workload (RUSAGE_SELF) grew ru_majflt by fewer than half
    the pages it touched; None for another workload, or one the script cannot replay."""
    params, ok = step.get("params", {}), step["reply"].get("ok")
    if params.get("workload") != "majfaults" or params.get("who") not in (None, 0) or not isinstance(ok, dict):
        return None
    try:
        grew = ok["after"]["fields"]["ru_majflt"]["v"] - ok["before"]["fields"]["ru_majflt"]["v"]
    except (KeyError, TypeError):
        return None
    pages = params.get("bytes", 4 << 20) // 4096
    return bool(grew < pages // 2)


def _short(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[:width] + " ..."


def _call_saw(reply: dict[str, Any]) -> Any:
    """What a call did, as the script's step() compares it."""
    if "ok" not in reply:
        return (("error", json.dumps(reply)[:200]), [], [])
    raw = reply["ok"]
    kind = raw.get("outcome")
    if kind == "return":
        outcome: tuple[Any, ...] = ("return", shape(raw["value"]))
    elif kind == "raise":
        outcome = ("raise", raw["exception"]["type"])
    else:
        outcome = ("missing",)
    warned = [w[0] for w in raw.get("warnings", [])]
    audit = [(event, shape(args)) for event, args in raw.get("audit", [])]
    return (outcome, warned, audit)


def _body(script: _Script, steps: list[dict[str, Any]]) -> None:
    stack: list[int] = []  # the child sessions open now, innermost last
    children: set[int] = set()

    def close_until(session: int | None) -> None:
        while stack and stack[-1] != session:
            script.emit(len(stack), "leave()")
            stack.pop()

    for step in steps:
        session, op = step["session"], step["op"]
        if op == "fork":
            close_until(step["parent"] if step["parent"] in children else None)
            script.emit(len(stack), f"if fork({session}):  # a child process: limits change only there")
            script.helpers.add("fork")
            stack.append(session)
            children.add(session)
            continue
        close_until(session if session in children else None)
        if op == "exit":
            if stack and stack[-1] == session:
                script.emit(len(stack), "leave()")
                stack.pop()
            continue
        script.step(len(stack), step)
    close_until(None)


def _parents(steps: list[dict[str, Any]]) -> dict[int, int]:
    """Each child session of the example and the session it was started from."""
    return {step["session"]: step.get("parent") or 0 for step in steps if step["op"] == "fork"}


def _header(failure: Failure, module: str, python: list[str]) -> list[str]:
    wrap = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False)
    example = failure.example
    lines = [
        "#!/usr/bin/env python",
        "# -*- coding: utf-8 -*-",
        f'"""{failure.candidate} deviates from {failure.rule}.',
        "",
        f"Rule {failure.rule}:",
        *wrap.wrap(failure.statement),
    ]
    if failure.status == "xfail" and failure.reason:
        lines += ["", "Known deviation:", *wrap.wrap(failure.reason)]
    seen = f"Seen by the resource conformance kit (rckit) in {failure.test}"
    seen += f" on {failure.interpreter} ({failure.platform})" if failure.interpreter else ""
    lines += ["", *textwrap.wrap(seen + ", which failed with:", 100, break_on_hyphens=False)]
    lines += ["    " + line for line in _message(example.get("assertion", ""))]
    lines += [
        "",
        "Run it with the interpreter under test, as in:",
        "    " + " ".join(python) + " repro.py",
        "It changes limits only in child processes (forked, or where the interpreter cannot fork, this",
        "script run again for that child). It exits with 1 if the deviation shows again, else 0.",
    ]
    if example.get("omitted"):
        lines += [f"({example['omitted']} steps of the example were too many to keep; they are left out.)"]
    return [*lines, '"""', ""]


def _message(assertion: str) -> list[str]:
    """The lines of an assertion message a person wrote, without pytest's explanation of it."""
    lines = []
    for line in assertion.splitlines():
        if line.startswith(("assert ", "AssertionError")) or line.startswith(" +"):
            break
        lines.append(line)
    return lines[:4] or assertion.splitlines()[:1]


def render(failure: Failure) -> str:
    """The reproducer script for one failure."""
    example = failure.example
    module = example.get("module", "resource")
    script = _Script(module, dict(example.get("constants", {})))
    _body(script, example["steps"])
    if not example["steps"] and not example.get("omitted"):  # the test judged the module's own description
        script.number += 1
        script.emit(0, f"constants({script.number})")
        script.helpers.add("constants")
        script.saw[script.number] = dict(sorted(script.constants.items()))
        script.last_replayed = True
    env = next((step["env"] for step in example["steps"] if step.get("env")), None)
    out = _header(failure, module, list(example.get("python", ["python"])))
    out += [
        "from __future__ import print_function",
        "",
        "import linecache",
        "import os",
        "import signal",
        "import sys",
        "import warnings",
        "",
    ]
    out += [f"import {module} as resource" if module != "resource" else "import resource", ""]
    out += [f"MODULE = {literal(module)}", f"RULE = {literal(failure.rule)}", f"STATEMENT = {literal(failure.statement)}"]
    out += [f"REASON = {literal(failure.reason if failure.status == 'xfail' else '')}"]
    out += ["", "", "def main():", *(["    with_environment()"] if env else []), *(script.lines or ["    pass"])]
    out += ["", "", "# What each step did in the failing run: (outcome, warnings, audit events); floats and"]
    out += ["# objects are compared by type only."]
    out += ["SAW = {", *(f"    {n}: {literal(saw)}," for n, saw in script.saw.items()), "}"]
    out += [f"SHOWN_BY_LAST_STEP = {script.last_replayed!r}  # False: the deciding step is not replayed here"]
    if "fork" in script.helpers:
        out += ["# How a child ended in the failing run, where it did not just finish its steps."]
        out += [f"ENDS = {literal(script.ends)}"]
        out += ["# The session each child session was started from (0: the script itself)."]
        out += [f"PARENTS = {literal(_parents(example['steps']))}"]
    out += ["", "", *"\n\n\n".join(HELPERS[name].strip("\n") for name in HELPERS if name in script.helpers).split("\n")]
    for name in sorted(script.classes):
        out += ["", "", *CLASSES[name].strip("\n").split("\n")]
    if env:
        out += _environment(env)
    out += _verdict()
    return "\n".join(out) + "\n"


def _environment(env: dict[str, str]) -> list[str]:
    library = env.get("LD_PRELOAD")
    lines = ["", "", "# The example ran with this environment: the kit's fault-injection library"]
    lines += ["# (rckit/conformance/environments/c/inject.c, built for this platform) makes one system call fail."]
    lines += [f"ENVIRONMENT = {literal(dict(sorted(env.items())))}"]
    if library:
        lines += ['ENVIRONMENT["LD_PRELOAD"] = os.environ.get("RCKIT_INJECT_LIBRARY", ENVIRONMENT["LD_PRELOAD"])']
    lines += [
        "",
        "",
        "def with_environment():",
        '    """Run again with ENVIRONMENT unless it is set already."""',
        "    if all(os.environ.get(k) == v for k, v in ENVIRONMENT.items()):",
        "        return",
        '    if not os.path.exists(ENVIRONMENT.get("LD_PRELOAD", os.sep)):',
        '        print("NOT SHOWN: this example needs the library %s (set RCKIT_INJECT_LIBRARY)" % ENVIRONMENT["LD_PRELOAD"])',
        "        sys.exit(0)",
        "    os.environ.update(ENVIRONMENT)",
        "    sys.stdout.flush()",
        "    os.execv(sys.executable, [sys.executable] + sys.argv)",
    ]
    return lines


def _verdict() -> list[str]:
    return ["", "", 'if __name__ == "__main__":', "    main()", "    finish()"]
