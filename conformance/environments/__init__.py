"""Environments: where candidates run and what builds for them. ``chroots`` builds, lists, probes
and enters the Debian chroots, ``discovery`` finds interpreters (pyenv, Debian, built chroots),
``toolchain`` provides C toolchains for a platform (the probe, the fault-injection library), and
``warden`` and ``containment`` keep a command (an agent, or a shell in a chroot) and all it
starts in hand. Used by the harness, the suite, the CLI, noxfile.py and benchmarks/; imports
nothing of the other parts of rckit.conformance.
"""
