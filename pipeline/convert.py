"""Gold records ↔ spaCy Docs, and the split files written as DocBins."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from spacy.tokens import Doc, DocBin

from .errors import E, ReadoutError
from .gold import Record
from .validate import make_doc


def record_to_doc(rec: Record) -> Doc:
    """A Doc with `rec`'s spans as entities; misaligned spans raise, they are never dropped."""
    doc = make_doc(rec.text)
    ents = []
    for start, end, label in rec.spans:
        span = doc.char_span(start, end, label=label)
        if span is None:
            raise ReadoutError(E.R009, rec.where, start=start, end=end, label=label, text=rec.text[start:end], tokens="?")
        ents.append(span)
    doc.ents = ents
    doc.user_data["meta"] = dict(rec.meta)
    return doc


def doc_to_record(doc: Doc) -> Record:
    spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
    return Record(text=doc.text, spans=spans, meta=dict(doc.user_data.get("meta", {})))


def records_to_docbin(records: Iterable[Record], path: Path) -> int:
    """Write `records` as a DocBin at `path`; returns the number of docs. Callers validate first
    (validate_records over everything they write), so no file is written from bad gold."""
    records = list(records)
    db = DocBin(store_user_data=True)
    for rec in records:
        db.add(record_to_doc(rec))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    db.to_disk(tmp)
    tmp.replace(path)
    return len(records)


def read_docbin(path: Path, vocab) -> list[Doc]:
    return list(DocBin().from_disk(path).get_docs(vocab))
