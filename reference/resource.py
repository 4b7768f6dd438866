"""A drop-in, pure-Python ``resource`` module over ctypes (cffi on PyPy).

    import rckit.reference.resource as resource

It has exactly the public names CPython's ``resource`` has for the running Python version on this
platform, with the same values, results, exceptions and messages. The C facts (constant values,
struct layouts, entry points) come from :mod:`rckit.platforms`; the version-dependent behaviour
from :mod:`rckit.reference._behaviour`. Limit values follow CPython up to 3.14.0 (signed, so
RLIM_INFINITY is -1 on Linux).
"""

from typing import TYPE_CHECKING

from rckit.reference import _api
from rckit.reference._api import getpagesize as getpagesize
from rckit.reference._api import getrlimit as getrlimit
from rckit.reference._api import getrusage as getrusage
from rckit.reference._api import setrlimit as setrlimit
from rckit.reference._api import struct_rusage as struct_rusage

error = OSError

if _api.HAS_PRLIMIT:
    prlimit = _api.prlimit

globals().update(_api.constants())

if TYPE_CHECKING:  # the names every platform has; the rest are set from the platform data above
    RLIMIT_AS: int
    RLIMIT_CORE: int
    RLIMIT_CPU: int
    RLIMIT_DATA: int
    RLIMIT_FSIZE: int
    RLIMIT_MEMLOCK: int
    RLIMIT_NOFILE: int
    RLIMIT_NPROC: int
    RLIMIT_RSS: int
    RLIMIT_STACK: int
    RLIM_INFINITY: int
    RUSAGE_CHILDREN: int
    RUSAGE_SELF: int

del _api, TYPE_CHECKING
globals().pop("__annotations__", None)  # left by the typing block above; CPython's module has none
