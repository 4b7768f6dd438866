"""Environments: where candidates run and what builds for them. ``chroots`` builds, lists, probes
and enters the Debian chroots, ``discovery`` finds interpreters (pyenv, Debian, built chroots), and
``toolchain`` provides C toolchains for a platform (the probe, the fault-injection library). Used
by the suite, the CLI, noxfile.py and benchmarks/; of the harness they use only ``containment``
(to enter a chroot under a warden).
"""
