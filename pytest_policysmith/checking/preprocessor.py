"""Find a preprocessor directive in a candidate body the way the compiler would see it.

The compiler must never run one: ``#include "/etc/passwd"`` makes gcc quote the file in its
errors, and those errors become feedback that goes to the LLM. A regex over comment-stripped
text is not enough (``"/*"`` hides a line from it; ``%:include`` is the same directive), so
this follows C's own order: join backslash-newlines, then skip comments and literals.
"""

from __future__ import annotations


def directive_line(body: str) -> int | None:
    """The 1-based line of the first ``#``, ``%:`` or ``??=`` outside comments and literals, else None."""
    text, lines = _splice(body)
    i, quote = 0, ""
    while i < len(text):
        c = text[i]
        if quote:  # inside a string or character literal
            if c == "\\":
                i += 2
                continue
            if c == quote or c == "\n":  # a newline ends an unterminated literal, as in gcc
                quote = ""
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        elif c in "\"'":
            quote = c
        elif c == "#" or text.startswith("%:", i) or text.startswith("??=", i):
            return lines[i]
        i += 1
    return None


def _splice(body: str) -> tuple[str, list[int]]:
    """Translation phase 2 (backslash-newline removed), with each kept character's original line."""
    chars: list[str] = []
    lines: list[int] = []
    line, i = 1, 0
    while i < len(body):
        if body[i] == "\\":
            rest = body[i + 1:i + 3]
            if rest.startswith("\n") or rest == "\r\n":
                i += 1 + (1 if rest.startswith("\n") else 2)
                line += 1
                continue
        chars.append(body[i])
        lines.append(line)
        if body[i] == "\n":
            line += 1
        i += 1
    return "".join(chars), lines
