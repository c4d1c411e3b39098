"""Static figures for the reports (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def progress(rounds: list[dict], refs: dict[str, float], metric: str, path: Path) -> Path:
    """Best score per round against reference lines (best baseline, Belady)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    xs = [r["round"] for r in rounds if r["best_score"] is not None]
    ax.plot(xs, [r["best_score"] for r in rounds if r["best_score"] is not None], marker="o", label="best so far")
    for (name, val), style in zip(refs.items(), ("--", ":", "-.")):
        ax.axhline(val, linestyle=style, color="grey", label=f"{name} {val:.4f}")
    ax.set_xlabel("round")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def distribution(scores_by_round: dict[int, list[float]], metric: str, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    rounds = sorted(r for r, v in scores_by_round.items() if v)
    if rounds:
        ax.boxplot([scores_by_round[r] for r in rounds], positions=rounds, widths=0.6, showfliers=True)
    else:
        ax.text(0.5, 0.5, "no candidate was scored", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("round")
    ax.set_ylabel(f"{metric} (checked candidates)")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def pass_rate(rounds: list[dict], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar([r["round"] for r in rounds], [100 * r["pass_rate"] for r in rounds], color="#4a7")
    ax.set_xlabel("round")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("checker pass rate (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def heatmap(rows: list[str], cols: list[str], values: list[list[float]], label: str, path: Path) -> Path:
    """Policies x traces, e.g. the miss ratio relative to LRU (lower is better). The colours centre
    on 1.0 (a tie) and saturate at +25%, so that one trace where a policy is 40x worse does not wash
    out the differences of a few percent that matter elsewhere."""
    from matplotlib.colors import TwoSlopeNorm

    plt = _plt()
    finite = [v for row in values for v in row if v == v]
    low = min([0.95, *finite])
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(cols) + 3), max(3, 0.35 * len(rows) + 1.5)))
    im = ax.imshow(values, aspect="auto", cmap="RdYlGn_r", norm=TwoSlopeNorm(vcenter=1.0, vmin=low, vmax=1.25))
    ax.set_xticks(range(len(cols)), cols, rotation=70, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    fig.colorbar(im, ax=ax, label=label, extend="max")
    return _save(fig, path)


def curves(xs: list[float], series: dict[str, list[float]], xlabel: str, ylabel: str, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, ys in series.items():
        ax.plot(xs, ys, marker="o", label=name, linewidth=2.2 if name.startswith("*") else 1.0)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)
