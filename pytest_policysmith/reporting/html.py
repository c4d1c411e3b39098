"""Self-contained HTML reports: one index.html with its PNG figures beside it (no server needed)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from ..storage.files import write_atomic

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.ours{background:#eef8ee;font-weight:600}
pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap;font-size:13px}.kw{color:#a0a}.num{color:#075}
.com{color:#888;font-style:italic}img{max-width:100%;border:1px solid #eee}h2{margin-top:1.6em}"""
C_KEYWORDS = r"\b(return|if|else|for|int|double|float|const|unsigned|long|break|continue|__s64|__u64|__u32)\b"


# Marks <body data-images="loaded/total"> and flags a figure that failed to load (e.g. a copied
# index.html without its PNGs).
IMAGE_CHECK = """<script>addEventListener("load",()=>{const i=[...document.images];
const ok=i.filter(x=>x.complete&&x.naturalWidth>0);document.body.dataset.images=ok.length+"/"+i.length;
i.filter(x=>!ok.includes(x)).forEach(x=>x.insertAdjacentHTML("afterend","<p><b>missing figure: "+x.alt+"</b></p>"))});
</script>"""

# Tables with class "sortable": a click on a heading sorts the rows by that column (numbers as numbers).
SORT_SCRIPT = """<script>document.querySelectorAll("table.sortable th").forEach((th,k)=>{th.style.cursor="pointer";
th.onclick=()=>{const b=th.closest("table").tBodies[0],r=[...b.rows],up=th.dataset.up!=="1";th.dataset.up=up?"1":"0";
const v=x=>{const t=x.cells[k].innerText,n=parseFloat(t);return isNaN(n)?t:n};
r.sort((x,y)=>{const a=v(x),c=v(y);return (a>c?1:a<c?-1:0)*(up?1:-1)});r.forEach(x=>b.appendChild(x))}});
</script>"""


def highlight_c(source: str) -> str:
    """A small C highlighter: comments, keywords, numbers (no dependency)."""
    out = []
    for part in re.split(r"(//[^\n]*|/\*.*?\*/)", source, flags=re.S):
        if part.startswith(("//", "/*")):
            out.append(f'<span class="com">{html.escape(part)}</span>')
            continue
        text = html.escape(part)
        text = re.sub(r"(?<![\w.#])(\d+\.?\d*(?:[eE][-+]?\d+)?)", r'<span class="num">\1</span>', text)
        text = re.sub(C_KEYWORDS, r'<span class="kw">\1</span>', text)
        out.append(text)
    return "<pre><code>" + "".join(out) + "</code></pre>"


def table(headers: list[str], rows: list[list], highlight: frozenset[int] | set[int] = frozenset(),
          table_id: str = "", bold: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
          sortable: bool = False) -> str:
    """``highlight``: rows shaded as ours; ``bold``: (row, column) cells in bold (a row's best value);
    ``sortable``: a click on a heading sorts by that column."""
    def cell(v, strong: bool) -> str:
        text = f"{v:.6f}" if isinstance(v, float) else str(v) if isinstance(v, int) else html.escape(str(v))
        text = f"<b>{text}</b>" if strong else text
        numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
        return f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(f'<tr{" class=ours" if i in highlight else ""}>'
                   + "".join(cell(v, (i, j) in bold) for j, v in enumerate(r)) + "</tr>" for i, r in enumerate(rows))
    ident = f' id="{table_id}"' if table_id else ""
    cls = ' class="sortable"' if sortable else ""
    return f"<table{ident}{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def escape(text: str) -> str:
    return html.escape(text)


def image(path: Path, alt: str) -> str:
    return f'<img src="{html.escape(path.name)}" alt="{html.escape(alt)}">'


def page(title: str, sections: list[tuple[str, str]], data: dict | None = None) -> str:
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{content}\n" for h, content in sections)
    blob = ""
    if data is not None:  # the numbers behind the page, for tools and tests
        blob = ('<script type="application/json" id="policysmith-data">'
                + json.dumps(data, default=str).replace("</", "<\\/") + "</script>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}{blob}{IMAGE_CHECK}{SORT_SCRIPT}"
            "</body></html>\n")


def write(folder: Path, text: str) -> Path:
    return write_atomic(folder / "index.html", text)
