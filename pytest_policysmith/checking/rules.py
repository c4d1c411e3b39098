"""Static rules for candidate C bodies: only declared inputs, allowed calls, no escape hatches.

These run before anything is compiled, so a candidate that tries ``#include``, ``asm``,
pointers, loops, globals or I/O is rejected with a reason a generator can act on.
"""

from __future__ import annotations

import re

from ..generators.expr import strip_comments
from ..templates import Template
from .preprocessor import directive_line

PREPROCESSOR = "preprocessor directives (#include, #define, ...) are not allowed"

FORBIDDEN = [
    (re.compile(r"\b(asm|__asm__|__asm)\b"), "inline assembly is not allowed"),
    (re.compile(r"\b__attribute__\b"), "__attribute__ is not allowed"),
    (re.compile(r"\b(static|extern|register|volatile|_Thread_local)\b"),
     "storage classes (static/global state) are not allowed"),
    (re.compile(r"\b(while|do|goto|switch)\b"), "while/do loops, goto and switch are not allowed"),
    (re.compile(r"->|(?<![&])&(?![&])"), "pointers and address-of are not allowed"),
    (re.compile(r"\b(double|float|int|long|char|void|unsigned)\s*\*"), "pointer declarations are not allowed"),
    (re.compile(r"\(\s*(double|float|int|long|char|void|unsigned)[^)]*\*\s*\)"), "pointer casts are not allowed"),
    (re.compile(r"[\"']"), "string and character literals are not allowed (no I/O)"),
]
KEYWORDS = {"return", "if", "else", "double", "float", "int", "long", "unsigned", "const", "for", "break",
            "continue", "__s64", "__u64", "__s32", "__u32"}
TYPES = r"(?:const\s+)?(?:double|float|int|long|unsigned|__s64|__u64|__s32|__u32)"
LOOPS = re.compile(r"\bfor\b")
INDEXING = re.compile(r"[\[\]]")
FLOATING = re.compile(r"\b(float|double)\b|\d\.\d*|\.\d")
# Numbers first, so digits inside names (log1p, age_p50) stay part of the name.
TOKEN = re.compile(r"\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)?")


def static_violations(source: str, template: Template) -> list[str]:
    """Every rule the body breaks, as sentences naming the offending text; [] when clean."""
    text = strip_comments(source)
    problems = [msg for rx, msg in FORBIDDEN if rx.search(text)]
    if directive_line(source) is not None:
        problems.append(PREPROCESSOR)
    arrays = {n[:-3] for n in template.input_names if n.endswith("[i]")}
    if LOOPS.search(text) and not arrays:
        problems.append("loops are not allowed")
    if INDEXING.search(text) and not arrays:
        problems.append("arrays and indexing are not allowed")
    if template.extra.get("integer") and FLOATING.search(text):
        problems.append("integer arithmetic only: no float, double or fractional constants")
    if template.extra.get("integer") and re.search(r"/|%", text):
        problems.append("use ps_div(a, b) for division: plain / and % are not allowed (x/0 is silently 0 in BPF)")
    locals_ = set(re.findall(rf"\b{TYPES}\s+([A-Za-z_]\w*)", text))
    inputs = {n[:-3] if n.endswith("[i]") else n for n in template.input_names}
    calls = set(template.allowed_calls)
    for m in TOKEN.finditer(text):
        if not (m.group(0)[0].isalpha() or m.group(0)[0] == "_"):
            continue
        name = re.sub(r"\s+", "", m.group(0))
        after = text[m.end():].lstrip()[:1]
        if after == "(":
            if name not in calls and name not in KEYWORDS:
                problems.append(f"call to {name}() is not allowed; allowed calls: {', '.join(sorted(calls))}")
        elif name not in inputs and name not in KEYWORDS and name not in locals_:
            problems.append(f"{name} is not a declared input or local variable")
    if not re.search(r"\breturn\b", text):
        problems.append("the body never returns a value")
    return sorted(set(problems))
