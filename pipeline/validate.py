"""Checks that gold records follow the span rules of annotations/GUIDELINES.md.

Every problem is reported with the file:line it came from; nothing is dropped or shifted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import spacy
from spacy.tokens import Doc

from .errors import E, ReadoutError, ReadoutErrors
from .gold import Record, text_digest
from .schema import LABELS, QUOTES

# Single-token punctuation that never belongs at a span's edge; abbreviation periods
# ("Gen.", "Jr.") are part of their token and so pass.
EDGE_TOKENS = {".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "-", "--", "—", "–"}


@lru_cache(maxsize=1)
def tokenizer_nlp():
    """The tokenizer the configs train with (blank English); boundaries are checked against it."""
    return spacy.blank("en")


def make_doc(text: str) -> Doc:
    return tokenizer_nlp().make_doc(text)


def _span_errors(rec: Record, doc: Doc) -> list[ReadoutError]:
    errors = []
    text, where = rec.text, rec.where
    ok: list[tuple[int, int, str]] = []
    for start, end, label in rec.spans:
        f = {"start": start, "end": end, "label": label}
        if label not in LABELS:
            errors.append(ReadoutError(E.R003, where, label=label, labels=", ".join(LABELS)))
        elif start >= end:
            errors.append(ReadoutError(E.R004, where, start=start, end=end))
        elif start < 0 or end > len(text):
            errors.append(ReadoutError(E.R005, where, start=start, end=end, length=len(text)))
        else:
            span_text = text[start:end]
            if span_text != span_text.strip():
                errors.append(ReadoutError(E.R007, where, text=span_text, **f))
            elif span_text[0] in QUOTES or span_text[-1] in QUOTES:
                errors.append(ReadoutError(E.R008, where, text=span_text, **f))
            else:
                span = doc.char_span(start, end)
                if span is None:
                    covering = doc.char_span(start, end, alignment_mode="expand")
                    tokens = [t.text for t in covering] if covering is not None else []
                    errors.append(ReadoutError(E.R009, where, text=span_text, tokens=tokens, **f))
                elif span[0].text in EDGE_TOKENS or (
                    span[-1].text in EDGE_TOKENS and not (span[-1].text == ")" and "(" in span_text)
                ):
                    errors.append(ReadoutError(E.R008, where, text=span_text, **f))
            ok.append((start, end, label))
    ok.sort()
    for (s1, e1, l1), (s2, e2, l2) in zip(ok, ok[1:]):
        if s2 < e1:
            errors.append(
                ReadoutError(
                    E.R006, where, start=s2, end=e2, label=l2, ostart=s1, oend=e1, olabel=l1
                )
            )
    return errors


def validate_records(records: Iterable[Record]) -> list[ReadoutError]:
    """All errors in `records`, in input order; an empty list means valid gold."""
    errors: list[ReadoutError] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    for rec in records:
        errors.extend(_span_errors(rec, make_doc(rec.text)))
        if rec.doc_id is not None:
            if rec.doc_id in seen_ids:
                errors.append(
                    ReadoutError(E.R010, rec.where, what=f"doc_id {rec.doc_id!r}", other=seen_ids[rec.doc_id])
                )
            seen_ids.setdefault(rec.doc_id, rec.where)
        digest = text_digest(rec.text)
        if digest in seen_texts:
            errors.append(ReadoutError(E.R010, rec.where, what="text", other=seen_texts[digest]))
        seen_texts.setdefault(digest, rec.where)
    return errors


def require_valid(records: list[Record]) -> None:
    """Raise every validation error at once, before anything is written."""
    errors = validate_records(records)
    if errors:
        raise ReadoutErrors(errors)
