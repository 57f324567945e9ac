"""Writes an evaluation as reports/<name>/: metrics.json, report.md, report.html, f1.png.

report.html is self-contained (chart inlined, displaCy markup inlined) so it can be mailed.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
from spacy import displacy  # noqa: E402

from .evaluate import DocResult  # noqa: E402
from .gold import atomic_write_text  # noqa: E402
from .schema import COLORS, LABELS  # noqa: E402

CONTEXT_CHARS = 120  # shown either side of an error


def f1_chart(metrics: dict, path: Path) -> None:
    rows = [*LABELS, "micro", "macro"]
    vals = [metrics["per_label"][lb] if lb in LABELS else metrics[lb] for lb in rows]
    f = [v["f"] for v in vals]
    err = [[v["f"] - v["f_ci"][0] for v in vals], [v["f_ci"][1] - v["f"] for v in vals]]
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    ax.bar(rows, f, yerr=err, capsize=4, color=[COLORS.get(r, "#bbbbbb") for r in rows], edgecolor="#333")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (strict span match)")
    ax.set_title("F1 per label with 95% bootstrap intervals")
    for i, v in enumerate(f):
        ax.text(i, v / 2, f"{v:.2f}", ha="center", fontsize=9)  # inside the bar, clear of the error bars
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(v: dict, k: str) -> str:
    lo, hi = v[f"{k}_ci"]
    return f"{v[k]:.3f} [{lo:.3f}–{hi:.3f}]"


def score_rows(metrics: dict) -> list[list[str]]:
    rows = []
    for lb in LABELS:
        v = metrics["per_label"][lb]
        rows.append([lb, _fmt(v, "p"), _fmt(v, "r"), _fmt(v, "f"), str(v["support"])])
    total = sum(metrics["per_label"][lb]["support"] for lb in LABELS)
    for agg in ("micro", "macro"):
        rows.append([agg, _fmt(metrics[agg], "p"), _fmt(metrics[agg], "r"), _fmt(metrics[agg], "f"), str(total)])
    return rows


SCORE_HEAD = ["label", "precision [95% CI]", "recall [95% CI]", "F1 [95% CI]", "support"]
KINDS = ["missed", "spurious", "label", "boundary", "label+boundary"]
CONFUSION_NOTE = (
    "Spans are paired one-to-one by exact match, then by overlap, so a boundary error sits on the "
    "diagonal here; the error-kind table below separates it."
)


def md_table(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{trs}</table>"


def confusion_rows(metrics: dict) -> tuple[list[str], list[list]]:
    conf = metrics["confusion"]
    head = ["gold \\ predicted", *conf["labels"]]
    return head, [[lb, *row] for lb, row in zip(conf["labels"], conf["matrix"])]


def error_rows(metrics: dict) -> list[list]:
    return [[lb, *(metrics["errors"][lb].get(k, 0) for k in KINDS)] for lb in LABELS]


def worst_errors(results: list[DocResult], limit: int) -> list[tuple[DocResult, dict]]:
    """Errors from the documents with the most errors first: where the model fails hardest."""
    ranked = sorted(results, key=lambda r: (-len(r.errors), r.doc_id))
    return [(res, e) for res in ranked for e in res.errors][:limit]


def _render(text: str, spans, lo: int, hi: int) -> str:
    ents = [
        {"start": s - lo, "end": e - lo, "label": label}
        for s, e, label in spans
        if s >= lo and e <= hi
    ]
    return displacy.render(
        {"text": text[lo:hi], "ents": ents, "title": None},
        style="ent", manual=True, page=False, jupyter=False, options={"colors": COLORS},
    )


def error_context(res: DocResult, err: dict) -> tuple[int, int]:
    spans = [s for s in (err["gold"], err["pred"]) if s]
    lo = max(0, min(s[0] for s in spans) - CONTEXT_CHARS)
    hi = min(len(res.text), max(s[1] for s in spans) + CONTEXT_CHARS)
    # Widen to whole words, and to any span cut by the window, so displaCy shows whole spans.
    for s, e, _ in res.gold + res.pred:
        if s < lo < e:
            lo = s
        if s < hi < e:
            hi = e
    while lo > 0 and not res.text[lo - 1].isspace():
        lo -= 1
    while hi < len(res.text) and not res.text[hi].isspace():
        hi += 1
    return lo, hi


def _describe(err: dict, text: str) -> str:
    g, p = err["gold"], err["pred"]
    show = lambda s: f"{s[2]} “{text[s[0]:s[1]]}”" if s else "—"  # noqa: E731
    return f"{err['kind']}: gold {show(g)} / predicted {show(p)}"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.pair>div{border:1px solid #ddd;padding:6px;font-size:14px;line-height:2.2}.err{margin:1.2em 0}
.err h4{margin:.2em 0;font-weight:600}
"""


def write_report(metrics: dict, results: list[DocResult], out_dir: Path, title: str, n_examples: int = 25) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = out_dir / "f1.png"
    f1_chart(metrics, chart)
    speed = metrics["speed"]["words_per_second"]
    summary = (
        f"Model `{metrics['model']}` on {', '.join(metrics['data'])}: {metrics['n_docs']} documents, "
        f"{metrics['n_words']} words; speed {speed:,.0f} words/s. Intervals: percentile bootstrap over "
        f"documents, {metrics['n_boot']} resamples. Strict span match (boundaries and label)."
    )
    conf_head, conf = confusion_rows(metrics)
    examples = [(res, err, *error_context(res, err)) for res, err in worst_errors(results, n_examples)]

    md = [
        f"# {title}", "", summary, "", "## Scores", "", md_table(SCORE_HEAD, score_rows(metrics)), "",
        "![F1 per label](f1.png)", "", "## Confusion (gold rows × predicted columns; NONE = missed/spurious)", "", CONFUSION_NOTE, "",
        md_table(conf_head, conf), "", "## Error kinds per label", "",
        "Boundary errors (overlapping spans, same label) are counted apart from label errors.", "",
        md_table(["label", *KINDS], error_rows(metrics)), "", "## Worst errors", "",
    ]
    for res, err, lo, hi in examples:
        md.append(f"- `{res.doc_id}` {_describe(err, res.text)} — …{' '.join(res.text[lo:hi].split())}…")

    png = base64.b64encode(chart.read_bytes()).decode()
    blocks = []
    for res, err, lo, hi in examples:
        blocks.append(
            f"<div class='err'><h4>{html.escape(res.doc_id)} — {html.escape(_describe(err, res.text))}</h4>"
            f"<div class='pair'><div><b>gold</b><br>{_render(res.text, res.gold, lo, hi)}</div>"
            f"<div><b>predicted</b><br>{_render(res.text, res.pred, lo, hi)}</div></div></div>"
        )
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>
<h2>Scores</h2>{_html_table(SCORE_HEAD, score_rows(metrics))}
<img alt="F1 per label" src="data:image/png;base64,{png}">
<h2>Confusion (gold rows × predicted columns; NONE = missed/spurious)</h2><p>{CONFUSION_NOTE}</p>{_html_table(conf_head, conf)}
<h2>Error kinds per label</h2><p>Boundary errors (overlapping spans, same label) are counted apart from
label errors.</p>{_html_table(["label", *KINDS], error_rows(metrics))}
<h2>Worst errors, gold beside predicted</h2>{''.join(blocks)}</body></html>"""

    atomic_write_text(out_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    atomic_write_text(out_dir / "report.md", "\n".join(md) + "\n")
    atomic_write_text(out_dir / "report.html", page)
    return out_dir
