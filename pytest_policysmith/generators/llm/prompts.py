"""Prompts, one per purpose, rendered from the template's ``prompts/`` folder (users edit them).

- ``system.md.j2``: the function, its inputs and rules (the template's declaration);
- ``first.md.j2``: simple examples and a request for one idea in one code block;
- ``improve.md.j2``: the parents' code, comments stripped, with their scores;
- ``repair.md.j2``: the CHECKER's feedback on the previous answer.
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
            declaration=template.declaration(), function=template.function, examples=examples(template), **values
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


def extract_code(reply: str, function: str) -> tuple[str | None, str | None]:
    """(body, None) from a reply holding exactly one code block, else (None, what to fix)."""
    blocks = [m.group(2) for m in FENCE.finditer(reply)]
    if not blocks:
        return None, ("Your reply contained no code block. Answer with exactly one ```c code block that "
                      f"holds only the body of {function}().")
    if len(blocks) > 1:
        return None, (f"Your reply contained {len(blocks)} code blocks. Answer with exactly one ```c code block "
                      f"that holds only the body of {function}().")
    code = blocks[0].strip()
    m = re.fullmatch(rf"[\w\s\*]*\b{re.escape(function)}\s*\([^)]*\)\s*\{{(.*)\}}", code, re.S)
    if m:  # a whole function was given: keep its body
        code = m.group(1).strip()
    if not code:
        return None, f"Your code block was empty. Put the body of {function}() in it."
    return code + "\n", None
