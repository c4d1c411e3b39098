"""The language of a valid body, from the TEMPLATE, as a GBNF grammar for constrained decoding.

A body is one ``return EXPR;``: the expression reads only the template's declared inputs (array
inputs with a constant index 0..9), calls only its allowed functions with their arities, and
uses whole-number constants for integer-only templates (BPF), and divides only through
``ps_div`` where the template offers it. A server that decodes under this grammar (llama.cpp's ``grammar``, vLLM's
``guided_grammar``) can only write bodies that parse, pass the static rules and compile; a
small local model then spends its tokens on the heuristic, not on the syntax.
"""

from __future__ import annotations

from ...errors import UsageError
from ...templates import Template

# Arities of the calls templates allow; a template may declare others in template.toml
# ([call_arity] name = n).
ARITY = {"log": 1, "log1p": 1, "log2": 1, "sqrt": 1, "exp": 1, "fabs": 1, "floor": 1, "ceil": 1,
         "pow": 2, "fmin": 2, "fmax": 2, "ps_div": 2, "ps_min": 2, "ps_max": 2}
MODES = ("auto", "on", "off")
# At most this many more terms in a sum or a product: without a bound a small model strings
# constants together until the token cap cuts it off (measured: most tcp replies of Gemma 3 270M).
TERMS = 4


def body_grammar(template: Template, lead: str | None = None) -> str:
    """GBNF for one ``return EXPR;`` over the template's inputs and calls; with ``lead``, one whose
    expression starts with that input (see ``slot_grammars``)."""
    integer = bool(template.extra.get("integer"))
    arity = {**ARITY, **template.extra.get("call_arity", {})}
    unknown = [c for c in template.allowed_calls if c not in arity]
    if unknown:
        raise UsageError(f"{template.root / 'template.toml'}: --synth-grammar needs the arity of "
                         f"{', '.join(unknown)}; add [call_arity] {unknown[0]} = N")
    inputs = " | ".join(_input(name) for name in template.input_names)
    calls = " | ".join(_call(name, arity[name]) for name in template.allowed_calls)
    number = '[0-9]{1,6}' if integer else '[0-9]{1,6} ("." [0-9]{1,4})?'
    # Division through ps_div where the template has it (x / 0 is inf in C, 0 in BPF).
    mul = '"*"' if integer or "ps_div" in template.allowed_calls else '("*" | "/")'
    if lead is None:
        root = 'root ::= "return " expr ";"'
    else:
        ops = " | ".join(f'"{o}"' for o in ("+", "-", "*", "<", ">", "<=", ">=")) + ("" if "/" not in mul else ' | "/"')
        root = f'root ::= "return " {_input(lead)} (" " ({ops}) " " expr)? ";"'
    return "\n".join([
        root,
        'expr ::= or (" ? " expr " : " expr)?',
        'or ::= and (" || " and){0,2}',
        'and ::= cmp (" && " cmp){0,2}',
        'cmp ::= sum (" " ("<" | ">" | "<=" | ">=" | "==" | "!=") " " sum)?',
        f'sum ::= prod (" " ("+" | "-") " " prod){{0,{TERMS}}}',
        f'prod ::= unary (" " {mul} " " unary){{0,{TERMS}}}',
        'unary ::= "-"? atom',
        f'atom ::= number | input{" | call" if calls else ""} | "(" expr ")"',
        f"number ::= {number}",
        f"input ::= {inputs}",
        *([f"call ::= {calls}"] if calls else []),
    ]) + "\n"


def slot_grammars(template: Template) -> list[str]:
    """One grammar per input the template names in ``[llm] leads``: request ``k`` of a round gets the
    ``k % n``-th, so its body starts with that input. Under one grammar and one prompt a small model
    answered ``return now;`` (or another seed) for most requests of a round; the leads spread a round
    over the inputs. Empty where the template names none."""
    leads = (template.extra.get("llm") or {}).get("leads") or []
    unknown = [lead for lead in leads if lead not in template.input_names]
    if unknown:
        raise UsageError(f"{template.root / 'template.toml'}: [llm] leads names {', '.join(unknown)}, "
                         "which the template does not declare as inputs")
    return [body_grammar(template, lead) for lead in leads]


def _input(name: str) -> str:
    if name.endswith("[i]"):
        return f'"{name[:-3]}[" [0-9] "]"'
    return f'"{name}"'


def _call(name: str, n: int) -> str:
    return f'"{name}(" expr' + ' ", " expr' * (n - 1) + ' ")"'


def wanted(mode: str, base_url: str) -> bool:
    """Whether to send the grammar: ``on``/``off``, or ``auto``: every server but OpenAI's own, which
    refuses parameters it does not know (llama.cpp and vLLM read theirs and others ignore it)."""
    if mode not in MODES:
        raise UsageError(f"--synth-grammar {mode!r}: choose one of {', '.join(MODES)}")
    if mode != "auto":
        return mode == "on"
    return "api.openai.com" not in base_url

