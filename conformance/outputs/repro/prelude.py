"""The fixed part of every reproducer script: small helpers that run in the candidate's interpreter.

Kept apart from rckit.conformance.outputs.repro.script (which writes the part that differs) so that it reads
as the Python it is. It must run on Python 2.7 and 3.x with the standard library only.
"""

from __future__ import annotations

import inspect

from rckit.conformance.agent import codec

__all__ = ["CLASSES", "HELPERS"]

#: The helpers a script may need, by name, in the order they are written; "core", "compare" and
#: "finish" always, the others when a step uses them.
HELPERS = {
    "core": '''
try:
    INTEGERS, TEXTS = (int, long), (str, unicode)  # Python 2
except NameError:
    INTEGERS, TEXTS = (int,), (str,)

MISMATCHES = []  # the steps that did not do what they did in the failing run


def shape(value):
    """A value as it is compared with the failing run: floats and objects by their type only."""
    kind = type(value)
    if value is None or kind is bool or kind in INTEGERS or kind in TEXTS or kind is bytes:
        return value
    if kind is float:
        return "<float>"
    if kind in (tuple, list):
        return kind(shape(item) for item in value)
    return "<%s.%s>" % (kind.__module__, getattr(kind, "__qualname__", kind.__name__))
''',
    "compare": '''
def compare(number, text, got):
    """Print a step and note it if it did not do what it did in the failing run."""
    print("%d. %s" % (number, text))
    saw = SAW.get(number)
    if got != saw and saw != "not compared":  # (the failing run's answer was too large to keep)
        print("   which differs from the failing run, which saw %r" % (saw,))
        MISMATCHES.append(number)
''',
    "finish": '''
def finish():
    """Say whether the deviation showed again: exit 1 if so, else 0."""
    print()
    if MISMATCHES:
        print("NOT REPRODUCED: step(s) %s did not do what they did in the failing run (where a"
              " step only read limits, this machine's may just differ)." % ", ".join(map(str, MISMATCHES)))
        sys.exit(0)
    if not SHOWN_BY_LAST_STEP:
        print("NOT SHOWN: the replayed steps did as in the failing run, but the step that showed the"
              " deviation is not replayed by this script.")
        sys.exit(0)
    print("REPRODUCED: %s deviates from %s: %s" % (MODULE, RULE, STATEMENT))
    if REASON:
        print("Known deviation: %s" % REASON)
    sys.exit(1)
''',
    "step": '''
AUDIT = []  # resource.* audit events raised during the current call (Python 3.8+)


def hook(event, args):
    if event.startswith("resource."):
        AUDIT.append((event, shape(tuple(args))))


if hasattr(sys, "addaudithook"):
    sys.addaudithook(hook)


def step(number, call):
    """Make the call written on this step's line, print it and what it did, and compare that
    (outcome, warnings, audit events) with the failing run."""
    text = source_of(call)
    name = text.split("(")[0].split(".")[-1]
    del AUDIT[:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = call()
        except AttributeError as exc:
            missing = not hasattr(resource, name)
            outcome = ("missing",) if missing else ("raise", "AttributeError")
            said = "does not exist" if missing else "raised AttributeError: %s" % exc
        except Exception as exc:
            outcome, said = ("raise", type(exc).__name__), "raised %s: %s" % (type(exc).__name__, exc)
        else:
            outcome, said = ("return", shape(value)), "returned %r" % (value,)
    warned = [w.category.__name__ for w in caught]
    audit = list(AUDIT)
    said += "".join("; warned %s" % category for category in warned)
    said += "".join("; audit event %s%r" % event for event in audit)
    compare(number, "%s %s" % (text, said), (outcome, warned, audit))


def source_of(call):
    """The call as written after 'lambda: ' on its line of this file."""
    code = call.__code__
    line = linecache.getline(code.co_filename, code.co_firstlineno).strip()
    start = line.find("lambda: ")
    return line[start + 8 : -1] if start >= 0 and line.endswith(")") else "resource.?(...)"


linecache.getlines(source_of.__code__.co_filename)  # read this file now: a step may run as another user
''',
    "attribute": '''
def attribute(number, name):
    """Read resource.<name>."""
    present = hasattr(resource, name)
    value = getattr(resource, name, None)
    shown = repr(value) if present else "missing"
    compare(number, "resource.%s is %s" % (name, shown), (present, shape(value) if present else None))
''',
    "error_class": '''
def error_class(number):
    """What the module's error attribute is."""
    error = getattr(resource, "error", None)
    is_class = isinstance(error, type)
    found = {
        "present": error is not None,
        "is_class": is_class,
        "is_exception": is_class and issubclass(error, BaseException),
        "is_oserror": error is OSError,
        "mro": [kind.__name__ for kind in error.__mro__] if is_class else None,
    }
    compare(number, "resource.error is %r" % (error,), found)
''',
    "allocate": '''
def allocate(number, size, touch=False):
    """Allocate (and touch) size bytes: was MemoryError raised?"""
    try:
        block = bytearray(size)
        if touch:
            for offset in range(0, len(block), 4096):
                block[offset] = 1
        del block
        failed = False
    except MemoryError:
        failed = True
    text = "allocating %d bytes %s" % (size, "raised MemoryError" if failed else "worked")
    compare(number, text, {"memory_error": failed})
''',
    "constants": '''
def constants(number):
    """The module's RLIMIT_*, RUSAGE_* and RLIM_* integers, as the failing run judged them."""
    found = {}
    for name in dir(resource):
        value = getattr(resource, name)
        if name.startswith(("RLIMIT_", "RUSAGE_", "RLIM_")) and type(value) in INTEGERS:
            found[name] = value
    compare(number, "the module's constants are:", found)
    for name in sorted(found):
        print("   %s = %r" % (name, found[name]))
''',
    "majfaults": '''
def majfaults(number, size):
    """Map a file of size bytes that has left the page cache, touch each page once with
    read-ahead off (MADV_RANDOM), and see how far getrusage's ru_majflt grew: by about one a page
    where each page needs I/O."""
    import mmap
    import tempfile

    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, b"m" * size)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # out of the cache: touching needs I/O
        area = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        area.madvise(mmap.MADV_RANDOM)  # no read-ahead: a fault per page
        before = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
        for offset in range(0, size, mmap.PAGESIZE):
            area[offset]
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_majflt - before
        area.close()
    finally:
        os.close(fd)
        os.unlink(path)
    pages = size // mmap.PAGESIZE
    text = "touching %d uncached pages of a mapped file grew ru_majflt by %d" % (pages, grew)
    compare(number, text, {"majflt_below_half_the_pages": grew < pages // 2})
''',
    "drop_privileges": '''
def drop_privileges(uid=65534, gid=65534):
    """Become an unprivileged user, as root: supplementary groups, gid, then uid."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    print("   (now uid %d)" % os.getuid())
''',
    "fork": '''
#: Where the interpreter cannot fork, a child is this script run afresh with the number of its
#: session here: it replays the steps that lead to that session without printing them.
TARGET = int(os.environ.get("RCKIT_REPRO_SESSION") or 0)
if TARGET:
    sys.stdout = open(os.devnull, "w")


def on_the_way(session):
    """``session`` is TARGET or one of its ancestors."""
    here = TARGET
    while here:
        if here == session:
            return True
        here = PARENTS.get(here, 0)
    return False


def fork(session):
    """Start a child to run the next steps in; True in the child. Limits change only there."""
    sys.stdout.flush()
    if TARGET:  # this is a child started afresh: go down the way to its own session
        if session == TARGET:
            sys.stdout = sys.__stdout__
            del MISMATCHES[:]
        return on_the_way(session)
    if hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:
            del MISMATCHES[:]
            return True
        _, status = os.waitpid(pid, 0)
        killed = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        code = 0 if killed else os.WEXITSTATUS(status)
    else:  # no fork here (GraalPy): the child is a fresh process of this interpreter
        import subprocess

        env = dict(os.environ, RCKIT_REPRO_SESSION=str(session))
        returned = subprocess.call([sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env=env)
        killed, code = (-returned, 0) if returned < 0 else (0, returned)
    end = None  # it exited by itself after its steps
    if killed:
        end = signal_name(killed)
    elif code == 3:  # some of its steps differed (it said which)
        MISMATCHES.append("child %d" % session)
    elif code != 0:
        end = "exit %d" % code
    if end is not None:
        print("   (child %d ended: %s)" % (session, end))
    if end != ENDS.get(session):
        print("   which differs from the failing run, where it ended: %s" % (ENDS.get(session) or "normally"))
        MISMATCHES.append("child %d" % session)
    return False


def signal_name(number):
    """This platform's name for a signal number."""
    for name in sorted(dir(signal)):
        if name.startswith("SIG") and not name.startswith("SIG_") and name not in ("SIGIOT", "SIGCLD", "SIGPOLL"):
            if getattr(signal, name) == number:
                return name
    return "signal %d" % number


def leave():
    """End a child: its exit status says whether all its steps did as in the failing run."""
    sys.stdout.flush()
    os._exit(3 if MISMATCHES else 0)
''',
}

#: The argument classes of rckit.conformance.agent.codec, defined only when a step uses them: their own
#: source, so that a script builds the very objects the failing run passed.
ARGUMENT_CLASSES = ("IndexOnly", "IntOnly", "IntSubclass", "Exploding", "Uncomparable")
CLASSES = {name: inspect.getsource(getattr(codec, name)) for name in ARGUMENT_CLASSES}
