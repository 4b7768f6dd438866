"""What goes wrong with an agent, as the harness tells it: it misbehaved, it cannot be judged at all,
or its candidate has used up its hang budget."""


class AgentError(RuntimeError):
    """The agent misbehaved: it died, timed out, or answered outside the protocol."""


class NotJudged(AgentError):
    """The candidate has used up its hang budget: nothing more is asked of it."""


class CannotJudge(AgentError):
    """The candidate cannot be judged at all: its interpreter does not start the agent, or its
    module does not finish importing. ``str()`` is one line saying which."""
