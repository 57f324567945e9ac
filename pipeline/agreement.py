"""Inter-annotator agreement and adjudication over annotators' gold JSONL of the same documents.

Documents are matched by their stable id (`doc_id`, else a hash of the text). Span agreement
is strict (same start, end and label), scored with spaCy's own NER scorer so the numbers read
like `spacy evaluate`; F1 is symmetric, so it does not matter which annotator is the reference.
Token agreement is Cohen's kappa over BIO tags, which corrects for the agreement two
annotators would reach by chance on a text that is mostly outside any span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Sequence

from sklearn.metrics import cohen_kappa_score
from spacy.scorer import get_ner_prf
from spacy.training import Example

from .convert import record_to_doc
from .doccano_sync import stable_doc_id
from .errors import E, ReadoutError, ReadoutErrors
from .gold import Record, read_jsonl
from .schema import LABELS
from .validate import require_valid, validate_records


@dataclass
class Annotations:
    """One annotator's documents, by stable id."""

    name: str
    docs: dict[str, Record]


def load_annotations(paths: Sequence[Path]) -> list[Annotations]:
    """Each file is one annotator, named by its file name without `.jsonl`."""
    if len(paths) < 2:
        raise ReadoutError(E.R020, detail="need the files of at least two annotators")
    result, errors = [], []
    for path in map(Path, paths):
        records = list(read_jsonl(path))
        errors.extend(validate_records(records))
        result.append(Annotations(path.stem, {stable_doc_id(r): r for r in records}))
    if errors:
        raise ReadoutErrors(errors)
    names = [a.name for a in result]
    if len(set(names)) != len(names):
        raise ReadoutError(E.R020, detail=f"two files have the same annotator name: {names}")
    return result


def _check_same_text(docs: Sequence[Record], doc_id: str) -> None:
    if len({r.text for r in docs}) > 1:
        where = ", ".join(r.where for r in docs)
        raise ReadoutError(E.R020, where, detail=f"{doc_id!r} has different texts in different files")


@dataclass
class Disagreement:
    doc_id: str
    start: int
    end: int
    text: str
    labels: dict[str, str | None]  # annotator → label on exactly this span (None: not marked)


@dataclass
class PairAgreement:
    a: str
    b: str
    n_docs: int
    f1: float
    per_label: dict[str, float]
    kappa: float
    disagreements: list[Disagreement] = field(default_factory=list)


def bio_tags(rec: Record) -> list[str]:
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O" for t in record_to_doc(rec)]


def pair_agreement(a: Annotations, b: Annotations) -> PairAgreement:
    common = sorted(set(a.docs) & set(b.docs))
    if not common:
        raise ReadoutError(E.R020, detail=f"{a.name} and {b.name} have no document in common")
    examples, tags_a, tags_b, disagreements = [], [], [], []
    for doc_id in common:
        ra, rb = a.docs[doc_id], b.docs[doc_id]
        _check_same_text([ra, rb], doc_id)
        examples.append(Example(record_to_doc(rb), record_to_doc(ra)))
        tags_a += bio_tags(ra)
        tags_b += bio_tags(rb)
        sa, sb = set(ra.spans), set(rb.spans)
        for s, e in sorted({(s, e) for s, e, _ in sa ^ sb}):
            labels = {
                a.name: next((l for s2, e2, l in sa if (s2, e2) == (s, e)), None),
                b.name: next((l for s2, e2, l in sb if (s2, e2) == (s, e)), None),
            }
            disagreements.append(Disagreement(doc_id, s, e, ra.text[s:e], labels))
    scores = get_ner_prf(examples)
    per_type = scores.get("ents_per_type", {})
    present = {l for r in (*[a.docs[d] for d in common], *[b.docs[d] for d in common]) for _, _, l in r.spans}
    per_label = {label: per_type.get(label, {}).get("f", 0.0) for label in LABELS if label in present}
    # Both annotators leaving every document empty is perfect agreement, not undefined.
    f1 = scores["ents_f"] if scores["ents_f"] is not None else 1.0
    kappa = 1.0 if tags_a == tags_b else float(cohen_kappa_score(tags_a, tags_b))
    return PairAgreement(a.name, b.name, len(common), f1, per_label, kappa, disagreements)


def agreement(annotators: Sequence[Annotations]) -> list[PairAgreement]:
    """Every pair of annotators, over the documents both annotated."""
    return [pair_agreement(a, b) for a, b in combinations(annotators, 2)]


@dataclass
class Adjudication:
    records: list[Record]
    method: str
    unanimous: int = 0  # spans every annotator of the document marked
    resolved: int = 0  # contested spans kept by the reviewer or the majority
    rejected: int = 0  # contested spans left out


def adjudicate(
    annotators: Sequence[Annotations], reviewer: str | None = None, majority: bool = False
) -> Adjudication:
    """Merge annotators' versions: spans all of them marked are kept; a contested span is kept
    if the reviewer marked it (`reviewer`), or if more than half of the annotators of that
    document marked it (`majority`; two annotators who disagree keep neither version).

    Majority spans cannot overlap: two overlapping spans each marked by more than half of the
    annotators would need one annotator to have marked both, which validation forbids.
    """
    if (reviewer is None) == (not majority):
        raise ReadoutError(E.R020, detail="choose exactly one of --reviewer NAME or --majority")
    by_name = {a.name: a for a in annotators}
    if reviewer is not None and reviewer not in by_name:
        raise ReadoutError(E.R020, detail=f"reviewer {reviewer!r} is not one of the annotators {sorted(by_name)}")
    method = f"reviewer:{reviewer}" if reviewer else "majority"
    result = Adjudication(records=[], method=method)
    all_ids = sorted({d for a in annotators for d in a.docs})
    missing = [d for d in all_ids if reviewer and d not in by_name[reviewer].docs]
    if missing:
        detail = f"reviewer {reviewer!r} did not annotate {len(missing)} document(s): {', '.join(missing[:5])}"
        raise ReadoutError(E.R020, detail=detail)
    for doc_id in all_ids:
        versions = {a.name: a.docs[doc_id] for a in annotators if doc_id in a.docs}
        _check_same_text(list(versions.values()), doc_id)
        votes: dict[tuple, int] = {}
        for rec in versions.values():
            for span in set(rec.spans):
                votes[span] = votes.get(span, 0) + 1
        kept = []
        for span, n in sorted(votes.items()):
            if n == len(versions):
                result.unanimous += 1
                kept.append(span)
            elif (reviewer and span in set(versions[reviewer].spans)) or (majority and 2 * n > len(versions)):
                result.resolved += 1
                kept.append(span)
            else:
                result.rejected += 1
        base = versions[reviewer] if reviewer else next(iter(versions.values()))
        meta = {k: v for k, v in base.meta.items() if k not in ("annotator", "annotators")}
        meta["adjudicated"] = {"method": method, "annotators": sorted(versions)}
        result.records.append(Record(text=base.text, spans=kept, meta=meta, where=f"adjudicated:{doc_id}"))
    require_valid(result.records)
    return result
