"""Train/dev/test assignment by document, recorded in a manifest so it never moves.

Documents already in the manifest keep their split. New documents are split among themselves
with scikit-learn (stratified by genre where every genre has enough documents), so adding data
later never moves an existing test document into train.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sklearn.model_selection import train_test_split

from .errors import E, ReadoutError
from .gold import Record, atomic_write_text
from .schema import LABELS

SPLITS = ("train", "dev", "test")


def _split_new(ids: list[str], strata: list[str], dev: float, test: float, seed: int) -> dict[str, str]:
    if len(ids) < 3:
        return {i: "train" for i in ids}

    def split(xs, ys, size):
        counts = Counter(ys)
        n_small = round(size * len(xs)) if size < 1 else size
        stratify = ys if min(counts.values()) >= 2 and n_small >= len(counts) else None
        return train_test_split(xs, ys, test_size=size, random_state=seed, stratify=stratify)

    rest, test_ids, rest_y, _ = split(ids, strata, test)
    train_ids, dev_ids, _, _ = split(rest, rest_y, dev / (1 - test))
    out = {i: "train" for i in train_ids}
    out.update({i: "dev" for i in dev_ids})
    out.update({i: "test" for i in test_ids})
    return out


def missing_labels(assignment: dict[str, str], records: list[Record]) -> dict[str, list[str]]:
    """Labels with no span in each split; empty when every split has every label."""
    seen: dict[str, set] = {s: set() for s in SPLITS}
    for rec in records:
        seen[assignment[rec.doc_id]].update(label for _, _, label in rec.spans)
    return {s: [lb for lb in LABELS if lb not in seen[s]] for s in SPLITS if set(LABELS) - seen[s]}


def assign_splits(
    records: list[Record], manifest: dict[str, str], dev: float = 0.15, test: float = 0.15, seed: int = 0
) -> dict[str, str]:
    """Extend `manifest` (doc_id → split) to cover `records`; existing entries are kept."""
    for rec in records:
        if not rec.doc_id:
            raise ReadoutError(E.R015, rec.where, detail="document has no doc_id, so its split cannot be recorded")
    new = sorted({r.doc_id for r in records} - set(manifest))
    genre = {r.doc_id: str(r.meta.get("genre", "")) for r in records}
    # Reseeding is deterministic: the first seed (from `seed` on) that puts every label in every split.
    for attempt in range(50):
        assignment = {**manifest, **_split_new(new, [genre[i] for i in new], dev, test, seed + attempt)}
        missing = missing_labels(assignment, records)
        if not missing or not new:
            break
    if missing:
        detail = "; ".join(f"{s} lacks {', '.join(lbs)}" for s, lbs in missing.items())
        raise ReadoutError(E.R015, detail=f"no split puts every label in every split ({detail}); add documents")
    return {i: assignment[i] for i in sorted(assignment)}


def read_manifest(path: Path) -> dict[str, str]:
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError as err:
        raise ReadoutError(E.R001, f"{path}:{err.lineno}", detail=err.msg) from None
    bad = {k: v for k, v in data.items() if v not in SPLITS}
    if bad:
        raise ReadoutError(E.R015, str(path), detail=f"unknown split names {sorted(set(bad.values()))}")
    return data


def write_manifest(path: Path, assignment: dict[str, str]) -> None:
    atomic_write_text(path, json.dumps(assignment, indent=1, sort_keys=True) + "\n")
