"""Templates: the TEMPLATE of the loop. A folder with a manifest, a harness and seeds.

A template states the function to write (``declaration.md.j2``), the inputs it may
read and the calls it may make (``template.toml``), and the harness the candidate body
is rendered into (Jinja). Templates are data: users copy and edit them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import jinja2

from .checking.preprocessor import directive_line
from .errors import CompileError, UsageError, close_match, rename_hint
from .paths import package_templates_dirs

REQUIRED_KEYS = ("name", "domain", "language", "function", "harness", "inputs")
# Which harness features a candidate needs, by what it reads (see harness.c.j2).
FEATURE_PATTERNS = {
    "pct": re.compile(r"\bcache\s*\.\s*(count|age|size)_p\d+"),
    "ghost": re.compile(r"\bghost\s*\."),
    "sketch": re.compile(r"\bobj\s*\.\s*freq\b"),
    "irr": re.compile(r"\bobj\s*\.\s*irr\b"),
}


@functools.lru_cache(maxsize=16)
def _environment(root: str) -> jinja2.Environment:
    """One Jinja environment per template folder, so each file is parsed once per process (it
    reloads a file whose mtime changed); parsing the harness was a sixth of a worker's time."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Input:
    name: str
    doc: str


@dataclass(frozen=True)
class Template:
    """A loaded template; ``sha256`` covers every file in its folder."""

    root: Path
    name: str
    domain: str
    language: str
    function: str
    harness: str
    inputs: tuple[Input, ...]
    allowed_calls: tuple[str, ...] = ()
    declaration_file: str = "declaration.md.j2"
    sha256: str = ""
    policy: str | None = None  # a second file holding only the candidate (compiled apart from the harness)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def _env(self) -> jinja2.Environment:
        return _environment(str(self.root))

    def needs(self, body: str) -> dict[str, bool]:
        """The harness features a body reads (compiled in only then)."""
        return {k: bool(p.search(body)) for k, p in FEATURE_PATTERNS.items()}

    def render_harness(self, needs: dict[str, bool]) -> str:
        """The harness alone, for templates whose candidate is compiled apart (``policy``)."""
        return self._render(self.harness, body="", candidate_name="", needs=needs)

    def render(self, body: str, candidate_name: str = "candidate", **extra) -> str:
        """The candidate's source: ``body`` inside the ``policy`` file (or the harness, for one-file
        templates); ``#line`` directives map errors to the body's lines.

        A body with a preprocessor directive is refused here, so no compiler ever reads a file
        it names (and quotes it back into feedback)."""
        line = directive_line(body)
        if line is not None:
            raise CompileError(f"not compiled: line {line} of the candidate holds a preprocessor directive "
                               f"(#include, #define, %:include, ...), which candidates may not use",
                               body.splitlines()[line - 1].strip()[:200] if line <= len(body.splitlines()) else "")
        return self._render(self.policy or self.harness, body=body, candidate_name=candidate_name,
                            needs=self.needs(body), **extra)

    def _render(self, file: str, **values) -> str:
        try:
            text = self._env().get_template(file).render(harness_line=0, function=self.function, **values)
        except jinja2.TemplateError as exc:
            raise UsageError(f"{self.root / file}: template does not render: {exc}") from exc
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("#line 0 "):
                lines[i] = line.replace("#line 0 ", f"#line {i + 2} ", 1)
        return "\n".join(lines)

    def declaration(self) -> str:
        """The function's declaration and rules, as shown to generators (prompts, docs)."""
        return self._env().get_template(self.declaration_file).render(
            inputs=self.inputs, allowed_calls=self.allowed_calls, function=self.function
        )

    def seeds(self) -> dict[str, str]:
        """Seed heuristics by name (file stem), in name order."""
        folder = self.root / "seeds"
        return {p.stem: p.read_text() for p in sorted(folder.glob("*.c"))} if folder.is_dir() else {}


def template_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    return [*extra, *package_templates_dirs()]


def find_template(name: str, search: Iterable[Path] = ()) -> Path:
    """A template folder by path, or by name under the search roots."""
    direct = Path(name).expanduser()
    if (direct / "template.toml").is_file():
        return direct
    roots = template_dirs(search)
    for root in roots:
        if (root / name / "template.toml").is_file():
            return root / name
    near = close_match(name, [t.parent.name for r in roots if r.is_dir() for t in r.glob("*/template.toml")])
    raise UsageError(
        f"template {name!r} not found{f' (did you mean {near!r}?)' if near else ''}; looked in: "
        f"{', '.join(str(r) for r in roots)}. Give a folder that holds template.toml, or copy one from templates/."
    )


def load_template(name: str, search: Iterable[Path] = ()) -> Template:
    root = find_template(name, search).resolve()
    manifest = root / "template.toml"
    try:
        data = tomllib.loads(manifest.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{manifest}: not valid TOML: {exc}") from exc
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        hint = "".join(rename_hint(k, set(data) - set(REQUIRED_KEYS)) for k in missing)
        raise UsageError(f"{manifest}: missing field(s) {', '.join(missing)}{hint}")
    if not (root / data["harness"]).is_file():
        raise UsageError(f"{manifest}: field 'harness' names {data['harness']!r}, which is not in {root}")
    inputs = []
    for k, item in enumerate(data["inputs"]):
        if "name" not in item:
            raise UsageError(f"{manifest}: inputs[{k}] has no 'name'")
        inputs.append(Input(item["name"], item.get("doc", "")))
    if "policy" in data and not (root / data["policy"]).is_file():
        raise UsageError(f"{manifest}: field 'policy' names {data['policy']!r}, which is not in {root}")
    known = set(REQUIRED_KEYS) | {"allowed_calls", "declaration", "returns", "policy"}
    return Template(
        root=root,
        name=data["name"],
        domain=data["domain"],
        language=data["language"],
        function=data["function"],
        harness=data["harness"],
        inputs=tuple(inputs),
        allowed_calls=tuple(data.get("allowed_calls", ())),
        declaration_file=data.get("declaration", "declaration.md.j2"),
        sha256=hash_folder(root),
        policy=data.get("policy"),
        extra={k: v for k, v in data.items() if k not in known},
    )


def hash_folder(root: Path) -> str:
    """sha256 over relative paths and contents, so any edit to a template changes it."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()
