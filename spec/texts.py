"""The words of a cited document, comparable with a quote: each format (plain text, HTML,
LaTeX, man-page roff, Python or C source) reduced to plain text with normalised whitespace and
typography, so that a quote is found in it or not.

>>> normalize("The soft  limit\\n can never exceed")
'The soft limit can never exceed'
>>> from_latex(r"Raises \\exception{ValueError} if \\var{resource} is bad")
'Raises ValueError if resource is bad'
"""

from __future__ import annotations

import gzip
import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "FORMATS",
    "contains",
    "from_html",
    "from_latex",
    "from_lines",
    "from_roff",
    "from_rst",
    "normalize",
    "read",
    "units",
    "words",
]

_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u00b6": " "})


def normalize(text: str) -> str:
    """Whitespace collapsed to single spaces, curly quotes straightened, pilcrows dropped."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


def contains(text: str, quote: str) -> bool:
    """``quote`` occurs in ``text``, both normalised."""
    return normalize(quote) in normalize(text)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in ("p", "dt", "dd", "li", "div", "tr", "pre", "h1", "h2", "h3", "br", "section"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def from_html(text: str) -> str:
    """The visible text of an HTML page."""
    parser = _Text()
    parser.feed(text)
    return "".join(parser.parts)


_LATEX_MACRO = re.compile(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?\{([^{}]*)\}")


_LATEX_STRUCTURE = [
    (re.compile(r"\\(?:declaremodule|moduleauthor|sectionauthor)\{[^{}]*\}\{[^{}]*\}"), ""),
    (re.compile(r"\\begin\{tableiii\}\{[^{}]*\}\{[^{}]*\}\{([^{}]*)\}\{([^{}]*)\}\{([^{}]*)\}"), r"\1 \2 \3"),
    (re.compile(r"\\begin\{funcdesc\}\{([^{}]*)\}\{([^{}]*)\}"), r"\1(\2)"),
    (re.compile(r"\\begin\{(?:datadesc|excdesc)\}\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\(?:begin|end)\{[a-z]+\}"), ""),
    (re.compile(r"\\manpage\{([^{}]*)\}\{([^{}]*)\}"), r"\1(\2)"),
    (re.compile(r"\\versionchanged\[([^\]]*)\]\{([^{}]*)\}"), r"Changed in version \2: \1."),
    (re.compile(r"\\C\{\}"), "C"),
    (re.compile(r"\\UNIX\{\}"), "Unix"),
    (re.compile(r"\\lineiii\{([^{}]*)\}\{\\member\{([^{}]*)\}\}\{([^{}]*)\}"), r"\1 \2 \3"),
]


def from_latex(text: str) -> str:
    """LaTeX with its markup macros (\\exception{X}, \\var{x}, \\code{...}) replaced by their text,
    and the Python documentation's environments (funcdesc, datadesc, ...) by their headings."""
    for pattern, replacement in _LATEX_STRUCTURE:
        text = pattern.sub(replacement, text)
    previous = None
    while previous != text:  # nested macros unwrap from the inside out
        previous, text = text, _LATEX_MACRO.sub(lambda m: m.group(2), text)
    text = text.replace("---", "\u2014").replace("\\%", "%").replace("~", " ")
    return re.sub(r"\\[a-zA-Z]+", "", text).replace("{", "").replace("}", "")


_ROFF_ESCAPES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),
    (re.compile(r"\\\(em|\\\[em\]"), "\u2014"),
    (re.compile(r"\\\(en|\\\[en\]"), "-"),
    (re.compile(r"\\\(aq|\\\[aq\]"), "'"),
    (re.compile(r"\\\(lq|\\\(rq|\\\[lq\]|\\\[rq\]"), '"'),
    (re.compile(r"\\\(bu|\\\[bu\]"), "*"),
    (re.compile(r"\\[-&e:~ ]"), lambda m: {"\\-": "-", "\\e": "\\", "\\ ": " ", "\\~": " "}.get(m.group(0), "")),
    (re.compile(r"\\\*\[[^\]]*\]|\\\*\(..|\\\*."), ""),
]


def from_roff(text: str) -> str:
    """A man page's roff source as its words: requests dropped, font macros' arguments kept."""
    lines = []
    for raw in text.splitlines():
        if raw.startswith(('.\\"', "'\\\"")):
            continue
        line = raw
        if raw.startswith("."):
            request, _, rest = raw[1:].partition(" ")
            if request in ("B", "I", "SH", "SS", "IP", "TP", "TQ"):
                line = rest.replace('"', "")
            elif request in ("BR", "RB", "IR", "RI", "BI", "IB"):  # alternating fonts: arguments run together
                line = "".join(part for part in re.split(r'"([^"]*)"|\s+', rest) if part)
            else:
                continue
        for pattern, replacement in _ROFF_ESCAPES:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return "\n".join(lines)


_RST = [
    (re.compile(r"^\.\. (?:\{\{\{|\}\}\}|cog\.).*$", re.M), ""),  # cog markers around generated output
    (re.compile(r"^\.\. [a-z]+::\s*", re.M), ""),  # directives keep their argument text
    (re.compile(r"^\s+:[a-z-]+:.*$", re.M), ""),  # directive options
    (re.compile(r"^([=\-~^\"'`#*+]{3,})\s*$", re.M), ""),  # section adornments
    (re.compile(r"^:([A-Za-z ]+):", re.M), r"\1:"),  # field lists
    (re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]*)`"), r"\1"),  # roles
    (re.compile(r"``([^`]*)``"), r"\1"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"\1"),  # emphasis
    (re.compile(r"`([^`<]*?)\s*(?:<[^>]*>)?`_{1,2}"), r"\1"),  # hyperlinks
    (re.compile(r"^::\s*$", re.M), ""),  # a literal block's marker
    (re.compile(r"(?<=\S)::(?=\s*$)", re.M), ":"),
]


def from_rst(text: str) -> str:
    """reStructuredText with its roles, literals, links and adornments reduced to their words."""
    for pattern, replacement in _RST:
        text = pattern.sub(replacement, text)
    return text


_TABLE_ROW = re.compile(r"^\d+ \S")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]\)))\s+(?=[A-Z0-9\"(\[])")


def units(words: str) -> list[str]:
    """The checkable units of a document's words (as a FORMATS converter returns them): its
    paragraphs (split at blank lines) split into sentences, each normalised. Joined with single
    spaces they give back ``normalize(words)``.

    >>> units("Sets limits.  Raises ValueError.\n\nA table\nrow")
    ['Sets limits.', 'Raises ValueError.', 'A table row']
    """
    found = []
    for paragraph in re.split(r"\n\s*\n", words):
        lines = [normalize(line) for line in paragraph.splitlines() if line.strip()]
        if len(lines) > 2 and all(_TABLE_ROW.match(line) for line in lines[1:]):
            found += lines  # a table: its heading, then one unit per row
            continue
        text = normalize(paragraph)
        found += [part for part in _SENTENCE_END.split(text) if part]
    return found


_MARKDOWN_TABLE = [
    (re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+\s*$", re.M), ""),  # the rule under a table's heading
    (re.compile(r"\s*\|\s*"), " "),  # cell separators
]


def from_lines(text: str) -> str:
    """Plain text with a paragraph per line (and Markdown tables, a row per line)."""
    for pattern, replacement in _MARKDOWN_TABLE:
        text = pattern.sub(replacement, text)
    return text.replace("\n", "\n\n")


FORMATS = {"text": lambda t: t, "lines": from_lines, "html": from_html, "latex": from_latex, "roff": from_roff, "rst": from_rst}


def words(path: Path, fmt: str) -> str:
    """The words of the document at ``path`` (gzip-compressed if it ends in .gz), paragraphs kept."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = FORMATS[fmt](raw.decode("utf-8", "replace"))
    return html.unescape(text) if fmt == "html" else text


def read(path: Path, fmt: str) -> str:
    """The words of the document at ``path``, normalised to one line."""
    return normalize(words(path, fmt))
