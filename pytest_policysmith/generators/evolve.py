"""``evolve``: the offline GENERATOR. Genetic programming over the template's inputs.

It mutates and crosses over expression trees parsed from the parents' ``return EXPR;``
bodies: constant perturbation, operator changes, subtree replacement, added terms,
guarded branches, pruning and subtree crossover. New terms are built from scale-free
pieces (the capacity, the distance to the eviction frontier, age percentiles) times
object features, because constants in absolute time units transfer badly.
Every choice comes from ``random.Random(f"{seed}:{round}")``, so runs are reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ..errors import UsageError
from ..outcomes import Stop
from ..templates import Template
from .base import Parent, Proposal
from .expr import (
    ARITH, COMPARE, Bin, Call, Cond, Node, Num, ParseError, Var, children, depth, nodes,
    normalized_hash, parse_body, parse_expr, reads, render_body, replace_at, size,
)

MAX_DEPTH = 9
POOL = 200  # scored candidates the generator sees, best first
TUNE_STEPS = (0.03, 0.1, 0.3)  # log-scale step sizes of a constant step
STALL_ROUNDS = 4  # rounds without a new best before structural changes restart elsewhere
ISLANDS = 3  # lineages bred apart (a candidate's island is its slot index modulo this)
MIGRATE = 5  # every this many rounds the best of all joins every island
UNARY_FNS = ("log1p", "sqrt")
BINARY_FNS = ("fmin", "fmax")
LONG_SEARCH = 60  # a search longer than this explores after this many rounds (Profile)


@dataclass(frozen=True)
class Profile:
    """How a round spends its candidates. Exploiting: many constant steps around the best, small
    trees, guards that split the whole tree in two. Exploring: fewer constant steps (most leave the
    score unchanged), room for larger trees, and guards that add a conditional term,
    ``tree + (test ? term : 0)``, keeping what already works."""
    tune_share: float  # share of each round spent on constant steps around the best three
    max_size: int  # nodes a candidate's tree may have
    guard_adds: bool  # a guard adds a conditional term rather than branching the whole tree


EXPLOIT = Profile(tune_share=0.4, max_size=45, guard_adds=False)
EXPLORE = Profile(tune_share=0.25, max_size=60, guard_adds=True)


def profile_at(round_no: int, rounds: int) -> Profile:
    """Round ``round_no``'s profile in a search of ``rounds`` rounds (0: not known). The first
    ``LONG_SEARCH`` rounds exploit, so a search of that length or less is what it always was and a
    longer one keeps what they found; the rounds after them explore. Exploring from the first round
    was measured and lost more than it won (README)."""
    return EXPLORE if rounds > LONG_SEARCH and round_no > LONG_SEARCH else EXPLOIT


@dataclass
class EvolveGenerator:
    template: Template
    seed: int = 0
    name: str = "evolve"
    repairs: int = 0
    stop: Stop | None = None
    pool: int = POOL
    rounds: int = 0  # the search's budget: a long one explores after LONG_SEARCH rounds (profile_at)

    def __post_init__(self) -> None:
        names = set(self.template.input_names)
        allowed = set(self.template.allowed_calls)
        self.integer = bool(self.template.extra.get("integer"))
        self.unary = [f for f in UNARY_FNS if f in allowed]
        self.binary = [f for f in BINARY_FNS + ("ps_min", "ps_max") if f in allowed]
        vocab = self.template.extra.get("evolve") or {}
        # Constants a guard compares a feature with: a template whose inputs live on another scale
        # (item sizes up to 100, say) names its own.
        self.thresholds: list[float] = [float(v) for v in vocab.get("thresholds", [])]
        # The template names its building blocks (expressions over its inputs); without them, every input.
        where = f"{self.template.root / 'template.toml'}: [evolve]"
        self.scales = _vocabulary(vocab.get("scales"), names, allowed, f"{where} scales")
        self.features = _vocabulary(vocab.get("features"), names, allowed, f"{where} features")
        self.anchors = _vocabulary(vocab.get("anchors"), names, allowed, f"{where} anchors")
        # Blocks only the last island builds with (its lineage may also keep what migrates to it): a
        # feature that helps on some traces and costs on others gets a lineage, not the whole search.
        extra = _vocabulary(vocab.get("island_features", []), names, allowed, f"{where} island_features")
        self.island_features = [self.features] * (ISLANDS - 1) + [self.features + extra]
        # A stalled island restarts with them drawn as often as all the others together: a plateau
        # (address/gzip sat 58 rounds on one) needs an input its lineages have not weighed yet.
        self.stalled_features = self.features + extra * max(1, len(self.features) // max(1, len(extra)))

    def _num(self, v: float) -> Num:
        """A constant; whole numbers for integer-only templates (BPF has no floating point)."""
        return Num(float(max(1, round(v)) if v > 0 else round(v)) if self.integer else v)

    def repair(self, round_no: int, attempt: int, failures) -> list[Proposal]:
        return []  # evolve does not read feedback; its next round simply breeds from the best

    def propose(self, round_no: int, parents: list[Parent], n: int, seen: set[str]) -> list[Proposal]:
        """A round over ``ISLANDS`` islands: slot ``i`` of the round belongs to island ``i % ISLANDS``
        and breeds only from that island's candidates (and the seeds), so several lineages grow
        apart; every ``MIGRATE`` rounds the best candidate of all joins every island.

        ``parents`` is the pool, best first."""
        rng = random.Random(f"{self.seed}:{round_no}")
        trees = []
        for p in parents:
            try:
                trees.append((p, parse_body(p.source)))
            except ParseError:
                continue  # e.g. LLM-written statements: usable as context, not as a tree
        if not trees:
            return []
        islands = [self._island(trees, k, round_no) for k in range(ISLANDS)]
        profile = profile_at(round_no, self.rounds)
        out: list[Proposal] = []
        taken = set(seen)
        attempts = 0
        while len(out) < n and attempts < 60 * n:
            attempts += 1
            k = len(out) % ISLANDS
            members, champions, stalled = islands[k]
            prop = self._one(rng, profile, members, champions, stalled,
                             self.stalled_features if stalled else self.island_features[k])
            if prop is None:
                continue
            h = normalized_hash(prop.source)
            if h in taken:
                continue
            taken.add(h)
            out.append(prop)
        return out

    def _island(self, trees, k: int, round_no: int):
        """(members best first, niche champions, stalled) of island ``k``."""
        members = [t for t in trees if t[0].round == 0 or t[0].idx % ISLANDS == k]
        if not members:
            # None of its own in the pool, and the seeds fell out of it too (cloudPhysicsIO, round 26,
            # with obj.irr on the last island): the island starts again from the best of all, as a
            # migration would bring it.
            members = [trees[0]]
        elif round_no % MIGRATE == 0 and trees[0] not in members:
            members = sorted([trees[0], *members], key=lambda t: t[0].score)
        stalled = round_no - 1 - members[0][0].round >= STALL_ROUNDS
        return members, list(_champions(members).values()), stalled

    def _one(self, rng: random.Random, profile: Profile, trees, champions, stalled: bool,
             features: list[Node]) -> Proposal | None:
        """One candidate: a constant step on one of the best three (the profile's tune share of the
        time), else a structural change to the best or a niche champion (after a stall: anything but the best)."""
        if rng.random() < profile.tune_share:
            parent, tree = trees[min(int(rng.expovariate(1.0)), len(trees) - 1, 2)]
            op = "tune"
        else:
            parent, tree = self._select(rng, trees, champions, stalled)
            op = rng.choice(["const", "operator", "add_term", "add_term", "replace", "guard", "prune",
                             "crossover", "crossover"])
        if op == "crossover" and len(champions) < 2 and len(trees) < 2:
            op = "const"
        child, used = self._apply(op, rng, tree, parent, champions if len(champions) > 1 else trees, features,
                                  profile.guard_adds)
        if child is None or size(child) > profile.max_size or depth(child) > MAX_DEPTH or not _reads_input(child):
            return None
        return Proposal(render_body(child, self.integer), tuple(p.id for p in used),
                        f"mutate:{op}" if op != "crossover" else "crossover")

    def _select(self, rng: random.Random, trees, champions, stalled: bool):
        """The best (half the time), else a niche champion by rank; after a stall, anything but the best."""
        if stalled:
            others = champions[1:] + [t for t in trees if t[0].round == 0]
            return rng.choice(others or trees)
        if rng.random() < 0.5:
            return trees[0]
        weights = [1.0 / (k + 1) for k in range(len(champions))]
        return rng.choices(champions, weights)[0]

    # -- operators -----------------------------------------------------------------
    def _apply(self, op: str, rng: random.Random, tree: Node, parent: Parent, trees,
               features: list[Node], guard_adds: bool) -> tuple[Node | None, list]:
        sub = nodes(tree)
        if op == "tune":
            return self._tune(rng, tree, sub), [parent]
        if op == "const":
            nums = [(n, p) for n, p in sub if isinstance(n, Num)]
            if not nums:
                return self._add_term(rng, tree, features), [parent]
            num, path = rng.choice(nums)
            assert isinstance(num, Num)
            new = _perturb(rng, num.value)
            if self.integer:
                new = num.value + rng.choice([-2, -1, 1, 2]) if abs(num.value) < 8 else new
            return replace_at(tree, path, self._num(new)), [parent]
        if op == "operator":
            cands = [(n, p) for n, p in sub if isinstance(n, (Bin, Call))]
            if not cands:
                return None, []
            op_node, path = rng.choice(cands)
            return replace_at(tree, path, self._swap_op(rng, op_node)), [parent]
        if op == "add_term":
            return self._add_term(rng, tree, features), [parent]
        if op == "replace":
            _, path = rng.choice(sub)
            return replace_at(tree, path, self._grow(rng, 2, features)), [parent]
        if op == "guard":
            return self._guard(rng, tree, features, guard_adds), [parent]
        if op == "prune":
            inner = [(n, p) for n, p in sub if children(n)]
            if not inner:
                return None, []
            node, path = rng.choice(inner)
            return replace_at(tree, path, rng.choice(children(node))), [parent]
        other_parent, other = rng.choice([t for t in trees if t[0].id != parent.id] or trees)
        donor, _ = rng.choice(nodes(other))
        _, path = rng.choice(sub)
        return replace_at(tree, path, donor), [parent, other_parent]

    def _tune(self, rng: random.Random, tree: Node, sub) -> Node | None:
        """A coordinate step: one constant (sometimes two) scaled by a small random factor."""
        nums = [(n, p) for n, p in sub if isinstance(n, Num)]
        if not nums:
            return None
        for _ in range(2 if rng.random() < 0.3 and len(nums) > 1 else 1):
            node, path = rng.choice(nums)
            sigma = rng.choice(TUNE_STEPS)
            if self.integer:
                new = node.value + rng.choice([-1, 1]) * max(1.0, round(abs(node.value) * sigma))
            elif node.value == 0.0:
                new = round(rng.gauss(0, 0.1), 4)
            else:
                new = float(f"{node.value * math.exp(rng.gauss(0, sigma)):.4g}")
            tree = replace_at(tree, path, self._num(new))
            nums = [(n, p) for n, p in nodes(tree) if isinstance(n, Num)]
        return tree

    def _guard(self, rng: random.Random, tree: Node, features: list[Node], adds: bool) -> Node:
        """A test on a feature: it picks between the tree and the tree with a term added, or (when
        the profile's guards add) adds a term only where it holds."""
        added = self._term(rng, features) if adds else self._add_term(rng, tree, features)
        compare, feature = rng.choice(COMPARE[2:]), rng.choice(features)  # in this order: seeded runs
        test = Bin(compare, feature, self._num(rng.choice(self.thresholds or [0.0, 1.0, 2.0, 3.0])))
        if adds:
            return Bin(rng.choice(["+", "-"]), tree, Cond(test, added, self._num(0.0)))
        return Cond(test, tree, added) if rng.random() < 0.5 else Cond(test, added, tree)

    def _swap_op(self, rng: random.Random, node: Node) -> Node:
        if isinstance(node, Call):
            pool = self.unary if len(node.args) == 1 else self.binary
            fn = rng.choice([f for f in pool if f != node.fn] or [node.fn])
            return Call(fn, node.args)
        assert isinstance(node, Bin)
        for group in (ARITH, COMPARE, ("&&", "||")):
            if node.op in group:
                return Bin(rng.choice([o for o in group if o != node.op]), node.left, node.right)
        return node

    def _term(self, rng: random.Random, features: list[Node]) -> Node:
        """c * SCALE * FEATURE: a credit in the units of the scale, not of the trace."""
        if self.integer:  # scale / k * feature, or scale * feature / k: whole-number arithmetic
            k = self._num(rng.choice([1, 2, 4, 8, 16]))
            return Bin("/", Bin("*", rng.choice(self.scales), rng.choice(features)), k)
        c = Num(round(rng.choice([0.05, 0.1, 0.25, 0.5, 1.0, 2.0]) * math.exp(rng.gauss(0, 0.3)), 3))
        return Bin("*", Bin("*", c, rng.choice(self.scales)), rng.choice(features))

    def _add_term(self, rng: random.Random, tree: Node, features: list[Node]) -> Node:
        target_nodes = [(n, p) for n, p in nodes(tree) if not isinstance(n, Num)]
        node, path = rng.choice(target_nodes[:6])  # near the root: whole branches
        return replace_at(tree, path, Bin(rng.choice(["+", "+", "-"]), node, self._term(rng, features)))

    def _grow(self, rng: random.Random, d: int, features: list[Node]) -> Node:
        if d <= 0 or rng.random() < 0.3:
            r = rng.random()
            if r < 0.4:
                return self._term(rng, features)
            if r < 0.7:
                return rng.choice(self.anchors + features)
            return self._num(round(rng.uniform(-2, 4), 2))
        r = rng.random()
        if r < 0.55:
            return Bin(rng.choice(["+", "-", "*"]), self._grow(rng, d - 1, features), self._grow(rng, d - 1, features))
        if r < 0.75 and self.unary:
            return Call(rng.choice(self.unary), (self._grow(rng, d - 1, features),))
        if r < 0.85 and self.binary:
            return Call(rng.choice(self.binary), (self._grow(rng, d - 1, features), self._grow(rng, d - 1, features)))
        test = Bin(rng.choice(COMPARE), rng.choice(features), self._num(rng.choice(self.thresholds or [0.0, 1.0, 2.0])))
        return Cond(test, self._grow(rng, d - 1, features), self._grow(rng, d - 1, features))


def _vocabulary(entries: list[str] | None, names: set[str], allowed: set[str], where: str) -> list[Node]:
    """One list of building blocks from a template's ``[evolve]`` table: each an expression over its
    inputs (``"obj.count"``, ``"ps_div(obj.count, obj.freq)"``). An entry that reads an input the
    template lacks, or calls what it does not allow, is left out; a list the table lacks: every input."""
    if entries is None:
        return [Var(n) for n in sorted(names)]
    out: list[Node] = []
    for text in entries:
        try:
            tree = parse_expr(str(text))
        except ParseError as exc:
            raise UsageError(f"{where}: {text!r} is not an expression over the inputs ({exc}); "
                             "write it as C, e.g. \"ps_div(obj.count, obj.freq)\"") from None
        calls = {n.fn for n, _ in nodes(tree) if isinstance(n, Call)}  # ps_div parses as "/", not a call
        if reads(tree) <= names and calls <= allowed:
            out.append(tree)
    return out


def _champions(trees) -> dict[frozenset, tuple]:
    """The best tree per niche (the set of inputs it reads), best niche first."""
    out: dict[frozenset, tuple] = {}
    for parent, tree in trees:
        key = reads(tree)
        out.setdefault(key, (parent, tree))
    return out


def _perturb(rng: random.Random, v: float) -> float:
    if v == 0.0:
        return round(rng.gauss(0, 0.5), 3)
    if rng.random() < 0.15:
        return -v
    return float(f"{v * math.exp(rng.gauss(0, 0.35)):.4g}")


def _reads_input(node: Node) -> bool:
    return bool(reads(node))


def make(template: Template, seed: int, model: str | None = None, **options) -> EvolveGenerator:
    """The ``evolve`` entry point (``registry.py``): offline, so it takes no options but the
    search's length (``rounds``), which picks how it explores."""
    return EvolveGenerator(template, seed, rounds=int(options.get("rounds") or 0))


def options_from(opt) -> dict:
    return {}
