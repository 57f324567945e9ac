"""Corpus statistics: what the gold data covers, written to annotations/STATS.md."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .gold import Record
from .schema import LABELS


def surface_sets(records: list[Record]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {label: set() for label in LABELS}
    for rec in records:
        for s, e, label in rec.spans:
            out[label].add(rec.text[s:e])
    return out


def corpus_stats(records: list[Record]) -> dict:
    words = np.array([len(r.text.split()) for r in records]) if records else np.zeros(1, int)
    spans = Counter(label for r in records for _, _, label in r.spans)
    distinct = surface_sets(records)
    multiword_persons = {p for p in distinct["PERSON"] if " " in p}
    return {
        "documents": len(records),
        "words": int(words.sum()),
        "spans": sum(spans.values()),
        "per_label": {lb: {"spans": spans[lb], "distinct": len(distinct[lb])} for lb in LABELS},
        "distinct_full_names": len(multiword_persons),
        "genres": dict(Counter(str(r.meta.get("genre", "?")) for r in records).most_common()),
        "provinces": dict(Counter(str(r.meta.get("province", "?")) for r in records).most_common()),
        "length": {
            "min": int(words.min()), "median": float(np.median(words)), "mean": float(words.mean()),
            "max": int(words.max()),
            "histogram": {f"{lo}-{lo + 99}": int(((words >= lo) & (words < lo + 100)).sum()) for lo in range(0, 800, 100)},
        },
    }


def overlap(ood: list[Record], seen: list[Record]) -> dict[str, list[str]]:
    """Surface strings (and provinces) of the OOD file that also occur in train/dev."""
    a, b = surface_sets(ood), surface_sets(seen)
    out = {lb: sorted(a[lb] & b[lb]) for lb in LABELS}
    out["province"] = sorted({r.meta.get("province") for r in ood} & {r.meta.get("province") for r in seen})
    return out


def to_markdown(stats: dict, ood_overlap: dict[str, list[str]] | None = None) -> str:
    lines = [
        "# Gold corpus statistics", "",
        "Written by `readout stats` (do not edit by hand).", "",
        f"- documents: {stats['documents']}", f"- words: {stats['words']:,}", f"- spans: {stats['spans']:,}",
        f"- distinct full person names (two or more words): {stats['distinct_full_names']}", "",
        "| label | spans | distinct strings |", "|---|---|---|",
        *[f"| {lb} | {v['spans']:,} | {v['distinct']:,} |" for lb, v in stats["per_label"].items()], "",
        "## Documents per genre", "", "| genre | documents |", "|---|---|",
        *[f"| {g} | {n} |" for g, n in stats["genres"].items()], "",
        f"## Documents per province ({len(stats['provinces'])} incl. Central)", "",
        "| province | documents |", "|---|---|",
        *[f"| {p} | {n} |" for p, n in stats["provinces"].items()], "",
        "## Length (words per document)", "",
        "min {min}, median {median:.0f}, mean {mean:.0f}, max {max}".format(**stats["length"]), "",
        "| words | documents |", "|---|---|",
        *[f"| {b} | {n} |" for b, n in stats["length"]["histogram"].items() if n], "",
    ]
    if ood_overlap is not None:
        lines += ["## Out-of-distribution file vs train and dev", "",
                  "Strings of the OOD file that also occur, with the same label, in train or dev:", "",
                  "| kind | shared | examples |", "|---|---|---|"]
        lines += [f"| {k} | {len(v)} | {', '.join(v[:8])} |" for k, v in ood_overlap.items()]
        lines.append("")
    return "\n".join(lines)
