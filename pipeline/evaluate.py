"""Scores a pipeline on gold documents: strict span P/R/F1 with bootstrap intervals over
documents, a gold-vs-predicted confusion table, classified errors and speed.

The point estimates equal spaCy's `get_ner_prf` (what `spacy train` and `spacy evaluate`
report); this module adds what spaCy lacks around them.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import spacy
from sklearn.metrics import confusion_matrix

from .convert import doc_to_record, read_docbin
from .gold import Record, Span, read_all
from .schema import LABELS

NONE = "NONE"  # confusion row/column for a missed or spurious span


@dataclass
class DocResult:
    doc_id: str
    text: str
    gold: list[Span]
    pred: list[Span]
    errors: list[dict] = field(default_factory=list)


def load_gold(paths: list[Path], vocab) -> list[Record]:
    """Gold from JSONL files/folders or `.spacy` DocBins (as written by `readout convert`)."""
    records = []
    for p in map(Path, paths):
        if p.suffix == ".spacy":
            records.extend(doc_to_record(d) for d in read_docbin(p, vocab))
        else:
            records.extend(read_all([p]))
    return records


def predict(nlp, records: list[Record], batch_size: int = 64) -> tuple[list[DocResult], int, float]:
    """Run the pipeline; returns results, the number of words (tokens) and seconds taken."""
    start = time.perf_counter()
    docs = list(nlp.pipe((r.text for r in records), batch_size=batch_size))
    seconds = time.perf_counter() - start
    results = [
        DocResult(
            doc_id=str(r.doc_id or i),
            text=r.text,
            gold=sorted(r.spans),
            pred=sorted((e.start_char, e.end_char, e.label_) for e in d.ents),
        )
        for i, (r, d) in enumerate(zip(records, docs))
    ]
    for res in results:
        res.errors = classify_errors(res.gold, res.pred)
    return results, sum(len(d) for d in docs), seconds


def counts(results: list[DocResult]) -> np.ndarray:
    """Array [doc, label, (tp, fp, fn)] of strict span matches."""
    out = np.zeros((len(results), len(LABELS), 3), dtype=np.int64)
    index = {label: i for i, label in enumerate(LABELS)}
    for d, res in enumerate(results):
        gold, pred = set(res.gold), set(res.pred)
        for s in gold & pred:
            out[d, index[s[2]], 0] += 1
        for s in pred - gold:
            out[d, index[s[2]], 1] += 1
        for s in gold - pred:
            out[d, index[s[2]], 2] += 1
    return out


def prf(tp, fp, fn):
    """Precision, recall, F1; elementwise on arrays, 0 where undefined."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return p, r, f


def _summaries(c: np.ndarray) -> dict[str, np.ndarray]:
    """From counts summed over documents ([..., label, 3]) to P/R/F per label, micro and macro."""
    p, r, f = prf(c[..., 0], c[..., 1], c[..., 2])
    micro = c.sum(axis=-2)
    mp, mr, mf = prf(micro[..., 0], micro[..., 1], micro[..., 2])
    return {"p": p, "r": r, "f": f, "micro": np.stack([mp, mr, mf], -1), "macro": np.stack([p.mean(-1), r.mean(-1), f.mean(-1)], -1)}


def score(c: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict:
    """Point scores plus 95% percentile-bootstrap intervals, resampling documents."""
    total = _summaries(c.sum(axis=0))
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(c), size=(n_boot, len(c)))
    boot = _summaries(c[samples].sum(axis=1))  # [n_boot, label, 3]

    def ci(a):
        lo, hi = np.percentile(a, [2.5, 97.5], axis=0)
        return lo, hi

    per_label = {}
    for i, label in enumerate(LABELS):
        tp, fp, fn = (int(x) for x in c[:, i].sum(axis=0))
        per_label[label] = {"tp": tp, "fp": fp, "fn": fn, "support": tp + fn}
        for k in "prf":
            lo, hi = ci(boot[k][:, i])
            per_label[label][k] = float(total[k][i])
            per_label[label][f"{k}_ci"] = [float(lo), float(hi)]
    out = {"per_label": per_label}
    for agg in ("micro", "macro"):
        lo, hi = ci(boot[agg])
        out[agg] = {k: float(total[agg][j]) for j, k in enumerate("prf")}
        out[agg].update({f"{k}_ci": [float(lo[j]), float(hi[j])] for j, k in enumerate("prf")})
    return out


def compare(a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict:
    """Is B better than A on the same documents? Paired bootstrap over documents (both models
    scored on each resample), so the interval of the difference is narrower than the two
    separate intervals suggest. Per label and micro: F1 of each, B − A with its 95% interval,
    and `p_not_better`, the share of resamples where B does not beat A (a one-sided p-value)."""
    if a.shape != b.shape:
        raise ValueError(f"counts of different documents: {a.shape} vs {b.shape}")
    samples = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    total_a, total_b = _summaries(a.sum(axis=0)), _summaries(b.sum(axis=0))
    boot_a, boot_b = _summaries(a[samples].sum(axis=1)), _summaries(b[samples].sum(axis=1))
    f1 = {label: (total_a["f"][i], total_b["f"][i], boot_b["f"][:, i] - boot_a["f"][:, i]) for i, label in enumerate(LABELS)}
    f1["micro"] = (total_a["micro"][2], total_b["micro"][2], boot_b["micro"][:, 2] - boot_a["micro"][:, 2])
    out = {}
    for name, (fa, fb, diff) in f1.items():
        lo, hi = np.percentile(diff, [2.5, 97.5])
        out[name] = {"f_a": float(fa), "f_b": float(fb), "diff": float(fb - fa), "diff_ci": [float(lo), float(hi)],
                     "p_not_better": float((diff <= 0).mean())}
    return out


def classify_errors(gold: list[Span], pred: list[Span]) -> list[dict]:
    """Pair gold and predicted spans one-to-one and name each mismatch.

    kinds: `label` (same boundaries, other label), `boundary` (overlap, same label),
    `label+boundary`, `missed` (no overlapping prediction), `spurious` (no overlapping gold).
    """
    errors = []
    pred_left = set(pred)
    overlapping = []
    for g in gold:
        if g in pred_left:
            pred_left.discard(g)
            continue
        same = [p for p in pred_left if p[0] == g[0] and p[1] == g[1]]
        if same:
            pred_left.discard(same[0])
            errors.append({"kind": "label", "gold": g, "pred": same[0]})
        else:
            overlapping.append(g)
    for g in overlapping:
        cands = sorted(
            (p for p in pred_left if p[0] < g[1] and g[0] < p[1]),
            key=lambda p: (-(min(p[1], g[1]) - max(p[0], g[0])), p[2] != g[2], p),
        )
        if cands:
            p = cands[0]
            pred_left.discard(p)
            errors.append({"kind": "boundary" if p[2] == g[2] else "label+boundary", "gold": g, "pred": p})
        else:
            errors.append({"kind": "missed", "gold": g, "pred": None})
    errors.extend({"kind": "spurious", "gold": None, "pred": p} for p in sorted(pred_left))
    return sorted(errors, key=lambda e: (e["gold"] or e["pred"])[0])


def confusion(results: list[DocResult]) -> dict:
    """Gold label (rows) × predicted label (columns), NONE for missed/spurious spans."""
    y_true, y_pred = [], []
    for res in results:
        matched = set(res.gold) & set(res.pred)
        for s in matched:
            y_true.append(s[2])
            y_pred.append(s[2])
        for e in res.errors:
            y_true.append(e["gold"][2] if e["gold"] else NONE)
            y_pred.append(e["pred"][2] if e["pred"] else NONE)
    labels = [*LABELS, NONE]
    matrix = confusion_matrix(y_true, y_pred, labels=labels) if y_true else np.zeros((5, 5), int)
    return {"labels": labels, "matrix": matrix.tolist()}


def error_kinds(results: list[DocResult]) -> dict[str, dict[str, int]]:
    """Error counts per gold (or, for spurious, predicted) label and kind."""
    table: dict[str, Counter] = {label: Counter() for label in LABELS}
    for res in results:
        for e in res.errors:
            table[(e["gold"] or e["pred"])[2]][e["kind"]] += 1
    return {label: dict(c) for label, c in table.items()}


def evaluate(
    model: Path, data: list[Path], n_boot: int = 1000, seed: int = 0, disable: list[str] = ()
) -> tuple[dict, list[DocResult]]:
    """Score `model` on gold `data` (with the `disable`d components off); returns the metrics
    dict and per-document results."""
    nlp = spacy.load(model, disable=list(disable))
    records = load_gold(data, nlp.vocab)
    results, n_words, seconds = predict(nlp, records)
    c = counts(results)
    metrics = score(c, n_boot=n_boot, seed=seed)
    metrics.update(
        model=str(model),
        disabled=list(disable),
        data=[str(p) for p in data],
        n_docs=len(results),
        n_words=n_words,
        speed={"seconds": seconds, "words_per_second": n_words / seconds if seconds else None},
        confusion=confusion(results),
        errors=error_kinds(results),
        n_boot=n_boot,
    )
    return metrics, results
