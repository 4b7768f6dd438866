"""Real agent traffic, from every interpreter available, validates against the protocol schemas;
the agent survives what candidates do wrong."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest
from rckit.conformance.environments.discovery import find
from rckit.conformance.harness.candidates import AgentCandidate, make_candidate
from rckit.conformance.harness.errors import AgentError
from rckit.conformance.harness.specs import CandidateSpec
from rckit.conformance.harness.values import Attr, Exploding, IndexOnly, IntOnly, Iter, Pid
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent.parent / "conformance" / "schemas"
INTERPRETERS = ["host", "cpython2.7", "cpython3.6", "cpython3.13", "pypy3.9"]


def validators() -> tuple[jsonschema.Draft202012Validator, jsonschema.Draft202012Validator]:
    request = json.loads((SCHEMAS / "protocol-request.schema.json").read_text())
    reply = json.loads((SCHEMAS / "protocol-reply.schema.json").read_text())
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in (request, reply))
    return jsonschema.Draft202012Validator(request, registry=registry), jsonschema.Draft202012Validator(reply, registry=registry)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_traffic_matches_the_schemas(interpreter: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = sys.executable if interpreter == "host" else getattr(find(interpreter), "command", None)
    if python is None:
        pytest.skip(f"{interpreter} is not installed on this machine")
    log = tmp_path / "traffic.jsonl"
    monkeypatch.setenv("RCKIT_PROTOCOL_LOG", str(log))
    candidate = AgentCandidate(CandidateSpec.parse("resource", python))
    candidate.call("getrlimit", 4)
    candidate.call("getrlimit", "junk")
    candidate.call("getrusage", 0)
    candidate.call("no_such_function")
    candidate.attr("RLIM_INFINITY")
    candidate.error_class()
    with candidate.isolated() as child:
        child.call("setrlimit", 4, Iter((0, Attr("RLIM_INFINITY"))))
        child.call("setrlimit", 4, (IndexOnly(0), IntOnly(1)))
        child.call("setrlimit", 4, Exploding())
        child.call("getrlimit", Pid("self"))
        child.act("open_fds", below=64)
        with child.fork() as grandchild:
            grandchild.call("getpagesize")
        child.act_until_end("crash", cwd="/tmp")
    with candidate.isolated() as child:
        result, ended = child.act_then_end("exec_report", resources=[4, 7])
    assert ended.exit_code == 0 and sorted(result["limits"]) == ["4", "7"], (result, ended)
    candidate.close()
    request_schema, reply_schema = validators()
    messages = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(m["direction"] == "reply" and "ended" in m["message"] for m in messages)
    for message in messages:
        schema = request_schema if message["direction"] == "request" else reply_schema
        schema.validate(message["message"])


def test_a_module_that_does_not_import_is_reported() -> None:
    candidate = make_candidate(CandidateSpec.parse("no_such_module_here", sys.executable))
    assert candidate.info.import_error is not None
    with pytest.raises(AgentError, match="did not import"):
        candidate.call("getrlimit", 4)
    candidate.close()


def test_an_agent_that_hangs_is_killed_at_the_deadline() -> None:
    candidate = make_candidate(CandidateSpec.parse("resource", sys.executable))
    agent = candidate.agent
    with pytest.raises(AgentError, match="no reply within 0 s to act; agent killed"), candidate.isolated() as child:
        child.act("spin", seconds=30, wall_timeout=30, timeout=0.5)
    assert agent.proc.poll() is not None, "the hung agent is still running"
    candidate.close()


def test_a_request_for_a_dead_session_is_refused() -> None:
    candidate = make_candidate(CandidateSpec.parse("resource", sys.executable))
    reply = candidate.agent.request("call", to=os.getpid() + 10**6, fn="getpagesize", args=[], kwargs={})
    assert reply["error"]["kind"] == "no-such-session"
    candidate.close()


def test_open_fds_lists_exactly_the_open_descriptors_below_the_bound() -> None:
    """The act EFFECTS.NOFILE reads before it sets a limit: every open descriptor below `below`,
    none above it, none closed (checked against fstat of every number, in this process)."""
    from rckit.conformance.agent import experiments

    opened = [os.open(os.devnull, os.O_RDONLY) for _ in range(5)]
    os.close(opened[2])
    high = os.dup2(opened[0], 1000)
    try:
        below = 600
        truth = []
        for fd in range(below):
            try:
                os.fstat(fd)
            except OSError:
                continue
            truth.append(fd)
        assert experiments.act_open_fds({"below": below}, None) == {"fds": truth}
        assert opened[2] not in truth and high not in truth and opened[0] in truth
    finally:
        for fd in (*opened[:2], *opened[3:], high):
            os.close(fd)


def test_every_experiment_of_the_agent_is_in_its_table() -> None:
    """ACTIONS names each act_* function once, by the name the protocol uses."""
    from rckit.conformance.agent import actions, experiments, workloads

    functions = {
        name[4:]: value
        for module in (experiments, workloads)
        for name, value in vars(module).items()
        if name.startswith("act_") and callable(value)
    }
    assert functions == actions.ACTIONS
