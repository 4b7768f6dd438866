"""A stateful model of soft and hard limits (hypothesis RuleBasedStateMachine).

One disposable, unprivileged child per run; the model predicts, for every setrlimit the machine
tries, whether it succeeds or raises ValueError, and what getrlimit reports afterwards. Lowering a
hard limit is irreversible here, so sequences find what single calls cannot. Values are drawn from
the range the candidate's version accepts (rckit.conformance.support.limit_range): a value outside it
would test the conversion rules, which have tests of their own, not the model.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import Session
from rckit.conformance.support import strategies as S
from rckit.conformance.support.limit_range import limit_range

MODELLED = ("RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE")


def limits_machine(candidate: Candidate) -> type[RuleBasedStateMachine]:
    """The machine class for one candidate."""
    info = candidate.info
    infinity = info.infinity
    max_finite = limit_range(info).max_finite
    names = [n for n in MODELLED if n in info.constants]

    def rank(value: int) -> float:
        return S.rank(value, infinity)

    class LimitsMachine(RuleBasedStateMachine):
        child: Session | None = None

        @initialize()
        def start(self) -> None:
            exchanges.begin()  # a failure's stored example is the run hypothesis shrank to, alone
            self.context = candidate.isolated(unprivileged=True)
            self.child = self.context.__enter__()
            self.model = {name: self.child.getrlimit(info.resource(name)) for name in names}

        def teardown(self) -> None:
            if self.child is not None:
                self.context.__exit__(None, None, None)

        def _value(self, data: st.DataObject, name: str, label: str) -> int:
            soft, hard = self.model[name]
            floor = S.SAFE_FLOORS.get(name, 0)
            near = (soft, hard, floor, floor + 1, soft + 1, hard + 1, hard - 1, max_finite)
            candidates = [v for v in near if v != infinity and floor <= v <= max_finite] + [infinity]
            return data.draw(st.sampled_from(candidates) | st.integers(floor, max(floor, 2**40)), label=label)

        @precondition(lambda self: self.child is not None)
        @rule(data=st.data(), name=st.sampled_from(names))
        def set_limits(self, data: st.DataObject, name: str) -> None:
            assert self.child is not None
            soft = self._value(data, name, "soft")
            hard = self._value(data, name, "hard")
            _, old_hard = self.model[name]
            outcome = self.child.call("setrlimit", info.resource(name), (soft, hard))
            if rank(soft) > rank(hard):
                assert outcome.raised("ValueError"), f"{name}: soft {soft} > hard {hard} was accepted: {outcome}"
            elif rank(hard) > rank(old_hard):
                assert outcome.raised("ValueError"), f"{name}: raising hard {old_hard} -> {hard} unprivileged: {outcome}"
            else:
                assert outcome.returned, f"{name}: ({soft}, {hard}) under hard {old_hard} refused: {outcome}"
                self.model[name] = (soft, hard)

        @precondition(lambda self: self.child is not None)
        @rule(name=st.sampled_from(names))
        def lower_hard_to_soft(self, name: str) -> None:
            assert self.child is not None
            soft, _ = self.model[name]
            outcome = self.child.call("setrlimit", info.resource(name), (soft, soft))
            assert outcome.returned, f"{name}: lowering hard to soft {soft} refused: {outcome}"
            self.model[name] = (soft, soft)

        @invariant()
        def limits_match_model(self) -> None:
            if self.child is None:
                return
            for name, expected in self.model.items():
                seen = self.child.getrlimit(info.resource(name))
                assert seen == expected, f"{name}: model {expected}, getrlimit {seen}"
                assert rank(seen[0]) <= rank(seen[1])

    return LimitsMachine


@pytest.mark.rule("LIMITS.HARD_RAISE_DENIED", "LIMITS.SOFT_ABOVE_HARD", "LIMITS.SET_ROUND_TRIP", "LIMITS.SOFT_LE_HARD")
def test_limits_stateful_model(candidate: Candidate) -> None:
    """Sequences of setrlimit calls in one unprivileged process behave as the model predicts."""
    run_state_machine_as_test(limits_machine(candidate))
