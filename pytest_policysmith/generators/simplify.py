"""Readable winners: one-step simplifications of a winner, and the smallest one that scores as well.

A search leaves terms, branches and long constants that no longer pay for themselves. After
the search rounds the loop runs simplification rounds (the first of them a *polish* round where
the template declares a tie-break, see ``polish_rounds``): each proposes every one-step
simplification of the *incumbent* (a branch of ``?:`` kept alone, a term of a sum or a factor
of a product dropped, a call replaced by its argument, a constant cut to fewer digits). The
incumbent is the smallest candidate whose score is within ``TOLERANCE`` (relative) of the
best scored so far (a simplification that scores better moves the bar). When none of its
simplifications is within tolerance it is the winner, and dropping any one of its terms or
branches makes it worse.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..templates import Template
from .base import Parent, Proposal
from .expr import Bin, Call, Cond, Neg, Node, Num, ParseError, children, fmt_num, nodes, normalized_hash, parse_body, \
    parse_expr, render, render_body, replace_at, size

TOLERANCE = 0.0005  # a simplification may cost at most 0.05% of the best score (relative)
POOL = 1000  # scored candidates looked at for the incumbent (simplification rounds and the winner)


@dataclass(frozen=True)
class Size:
    """How big a body is: expression nodes (None where it is not one ``return EXPR;``) and characters."""

    nodes: int | None
    chars: int

    def key(self) -> tuple[int, int]:
        return (self.nodes if self.nodes is not None else 10**6, self.chars)

    def as_dict(self) -> dict:
        return {"nodes": self.nodes, "chars": self.chars}


def body_size(source: str) -> Size:
    try:
        tree = parse_body(source)
    except ParseError:
        return Size(None, len("".join(source.split())))
    return Size(size(tree), len("".join(render(tree).split())))


def within(score: float, best: float, tolerance: float = TOLERANCE, caps: tuple[float, ...] = ()) -> bool:
    """Within ``tolerance`` of ``best``, and no worse than any of ``caps`` (the baselines' scores) that
    the best matches or beats: simplifying must not give a win away."""
    limit = best + abs(best) * tolerance
    beaten = [c for c in caps if c >= best]
    if beaten:
        limit = min(limit, min(beaten))
    return score <= limit


def incumbent(scored: list[Parent], tolerance: float = TOLERANCE, caps: tuple[float, ...] = ()) -> Parent | None:
    """The smallest candidate scoring within tolerance of the best scored so far (see ``within``). A
    simplification that scores better than the search's best is the new best: measured on the suite,
    dropping a term sometimes gains 0.6-1.3% (w106, arc/P6, orm-night), which a bar fixed at the
    search's best gave back for a smaller form."""
    if not scored:
        return None
    best = min(p.score for p in scored)
    ok = [p for p in scored if within(p.score, best, tolerance, caps)]
    return min(ok, key=lambda p: (body_size(p.source).key(), p.score, p.round, p.id))


def simplifications(tree: Node) -> list[Node]:
    """Every tree one step simpler than ``tree``, smallest first, without repeats."""
    out: dict[str, Node] = {}
    for node, path in nodes(tree):
        for simpler in _one_step(node):
            new = replace_at(tree, path, simpler)
            text = render(new)
            if text != render(tree) and text not in out:
                out[text] = new
    return sorted(out.values(), key=lambda t: (size(t), len(render(t))))


def _one_step(node: Node) -> list[Node]:
    if isinstance(node, Cond):
        return [node.then, node.other]
    if isinstance(node, Bin) and node.op in ("+", "-"):
        return [node.left, node.right if node.op == "+" else Neg(node.right)]
    if isinstance(node, Bin) and node.op in ("*", "/"):
        return [node.left, node.right] if node.op == "*" else [node.left]
    if isinstance(node, Call) and len(node.args) == 1:
        return [node.args[0]]
    if isinstance(node, Call) and node.fn in ("fmin", "fmax", "ps_min", "ps_max"):
        return list(node.args)
    if isinstance(node, Num):
        return [Num(float(f"{node.value:.{d}g}")) for d in (1, 2)
                if fmt_num(float(f"{node.value:.{d}g}")) != fmt_num(node.value)]
    return []


def tiebreak_of(template: Template) -> Node | None:
    """The template's tie-break term (``[polish] tiebreak`` in template.toml), if it declares one."""
    text = (template.extra.get("polish") or {}).get("tiebreak")
    if not text:
        return None
    try:
        return parse_expr(text)
    except ParseError as exc:
        raise UsageError(f"{template.root / 'template.toml'}: [polish] tiebreak {text!r} is not an "
                         f"expression: {exc}") from None


def polish_rounds(template: Template, simplify_rounds: int) -> int:
    """1 where the template declares a tie-break and the run simplifies (the polish round is the
    first simplification round), else 0."""
    return 1 if simplify_rounds > 0 and tiebreak_of(template) is not None else 0


def tie_broken(tree: Node, tiebreak: Node) -> list[Node]:
    """``tree`` with equal priorities ordered by the tie-break (added: the lower value first;
    subtracted: the higher), on the whole expression or on one branch of a ``?:``. Count-valued
    priorities tie often, and the harness's own tie-break is insertion order; mutations rarely hit on
    the right one (address/gzip: LFU matches WTinyLFU only with the most recent first among equals)."""
    out = []
    for node, path in nodes(tree):
        if path == () or isinstance(_parent(tree, path), Cond) and path[-1] > 0:
            out += [replace_at(tree, path, Bin(op, node, tiebreak)) for op in ("-", "+")]
    return out


def _parent(tree: Node, path: tuple[int, ...]) -> Node:
    node = tree
    for k in path[:-1]:
        node = children(node)[k]
    return node


@dataclass
class Simplifier:
    """Proposes the rounds that follow the search rounds: polish (``polish`` rounds, at most one),
    then simplification."""

    search_rounds: int
    integer: bool = False  # the template is integer-only
    caps: tuple[float, ...] = ()  # the baselines' scores (see ``within``)
    tolerance: float = TOLERANCE
    tiebreak: Node | None = None
    polish: int = 0

    @property
    def best_rounds(self) -> int:
        """The last round whose candidates count towards the search's best (polish included)."""
        return self.search_rounds + self.polish

    def propose(self, pool: list[Parent], n: int, seen: set[str], round_no: int | None = None) -> list[Proposal]:
        if round_no is not None and round_no <= self.best_rounds:
            return self._polish(pool, n, seen)
        inc = incumbent(pool, self.tolerance, self.caps)
        if inc is None:
            return []
        try:
            tree = parse_body(inc.source)
        except ParseError:
            return []  # e.g. an LLM's statements: shown as written
        out: list[Proposal] = []
        taken = set(seen)
        for simpler in simplifications(tree):
            body = render_body(simpler, self.integer)
            h = normalized_hash(body)
            if h in taken:
                continue
            taken.add(h)
            out.append(Proposal(body, (inc.id,), "simplify"))
            if len(out) == n:
                break
        return out

    def _polish(self, pool: list[Parent], n: int, seen: set[str]) -> list[Proposal]:
        """Tie-broken forms of the search's best candidates, best first (nothing without a tie-break)."""
        out: list[Proposal] = []
        if self.tiebreak is None:
            return out
        taken = set(seen)
        for parent in [p for p in pool if p.round <= self.search_rounds][:3]:
            try:
                tree = parse_body(parent.source)
            except ParseError:
                continue
            for new in tie_broken(tree, self.tiebreak):
                body = render_body(new, self.integer)
                h = normalized_hash(body)
                if h not in taken and len(out) < n:
                    taken.add(h)
                    out.append(Proposal(body, (parent.id,), "polish:tiebreak"))
        return out
