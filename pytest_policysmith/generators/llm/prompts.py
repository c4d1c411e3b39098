"""Prompts, one per purpose, rendered from the template's ``prompts/`` folder (users edit them).

- ``system.md.j2``: the function, its inputs and rules (the template's declaration);
- ``first.md.j2``: simple examples and a request for one idea in one code block;
- ``improve.md.j2``: the parents' code, comments stripped, with their scores;
- ``repair.md.j2``: the CHECKER's feedback on the previous answer.

``first`` and ``improve`` are rendered per request with its ``slot`` (its place in the round), so a
template can give each request its own angle.
"""

from __future__ import annotations

import re

import jinja2

from ...errors import UsageError
from ...templates import Template
from ..expr import strip_comments

PURPOSES = ("system", "first", "improve", "repair")
EXAMPLES = ("lru", "lfu", "fifo", "mru")
FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)


def check_prompts(template: Template) -> None:
    missing = [p for p in PURPOSES if not (template.root / "prompts" / f"{p}.md.j2").is_file()]
    if missing:
        raise UsageError(f"template {template.root}: the LLM generator needs prompts/{{{','.join(missing)}}}.md.j2; "
                         "copy them from templates/cache_priority/prompts/")


def render(template: Template, purpose: str, **values) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template.root / "prompts")),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(f"{purpose}.md.j2").render(
            declaration=template.declaration(), function=template.function, examples=examples(template),
            quote=quote, **values
        ).strip()
    except jinja2.TemplateError as exc:
        raise UsageError(f"{template.root / 'prompts' / (purpose + '.md.j2')}: does not render: {exc}") from exc


def examples(template: Template) -> dict[str, str]:
    """Seed heuristics as one-liners (comments stripped), for the first round's prompt."""
    seeds = template.seeds()
    names = [n for n in EXAMPLES if n in seeds] or list(seeds)
    return {name: " ".join(strip_comments(seeds[name]).split()) for name in names}


def clean(source: str) -> str:
    """Code as parents are shown: comments stripped, blank lines dropped."""
    return "\n".join(line.rstrip() for line in strip_comments(source).splitlines() if line.strip())


BARE_RETURN = re.compile(r"\s*(return\b[^;`]*;)\s*", re.S)
# Our own messages never hold three backticks, so a model that repeats them cannot open a fence.
ASK = "Answer with the body of {function}() in one fenced C code block (three backticks, then c)."


def extract_code(reply: str, function: str, cut: bool = False) -> tuple[str | None, str | None]:
    """(body, None) from the first fenced block that holds a usable body (it returns something), or
    from a bare ``return ...;`` reply; else (None, what to fix). ``cut``: the reply hit the token cap."""
    for m in FENCE.finditer(reply):
        code = _body(m.group(2).strip(), function)
        if code and re.search(r"\breturn\b[^;]*;", code):
            return code + "\n", None
    bare = BARE_RETURN.fullmatch(reply)
    if bare:
        return bare.group(1) + "\n", None
    ask = ASK.format(function=function)
    if cut:
        return None, f"Your reply was cut off at the length limit before its code was complete. Be brief. {ask}"
    if FENCE.search(reply):
        return None, f"No code block in your reply held a body that returns a value. {ask}"
    return None, f"Your reply contained no code block. {ask}"


def _body(code: str, function: str) -> str:
    """A block's code; the body alone where a whole function was given."""
    m = re.fullmatch(rf"[\w\s\*]*\b{re.escape(function)}\s*\([^)]*\)\s*\{{(.*)\}}", code, re.S)
    return m.group(1).strip() if m else code


CHARS_PER_TOKEN = 3  # a cautious estimate for code and English (no tokenizer needed)


def fit(messages: list[dict], window: int | None, reply_tokens: int | None) -> list[dict]:
    """The conversation cut to fit a ``window``-token context with room for the reply: older repair turns
    go first (the system prompt, the request and the latest answer and feedback stay), then the middle of
    the latest feedback. Without a window, unchanged."""
    if not window:
        return messages
    budget = max(256, window - (reply_tokens or 0)) * CHARS_PER_TOKEN
    msgs = list(messages)
    while _chars(msgs) > budget and len(msgs) > 4:
        del msgs[2:4]  # the oldest answer and its feedback, after the system prompt and the request
    over = _chars(msgs) - budget
    if over > 0:
        text, mark = msgs[-1]["content"], "\n[... cut to fit the context window ...]\n"
        keep = max(200, len(text) - over - len(mark))
        msgs[-1] = {**msgs[-1], "content": text[:keep // 2] + mark + text[len(text) - (keep - keep // 2):]}
    return msgs


def _chars(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages)


def quote(feedback: str) -> str:
    """Feedback as a block quote: it cannot be read back as a code fence (its backticks are dropped)."""
    return "\n".join(f"> {line}" if line else ">" for line in feedback.replace("```", "").splitlines())
