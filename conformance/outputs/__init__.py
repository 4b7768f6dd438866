"""What a run leaves behind: the ``report`` (JSON, Markdown, terminal lines), the HTML ``atlas``
of many reports, the ``progress`` line, and standalone scripts that show a failure again
(``repro``).
"""
