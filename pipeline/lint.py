"""Consistency checks across the gold corpus that single-record validation cannot see.

Checks:
- `label-conflict`: the same surface string carries different labels in different places;
- `unlabelled`: a string labelled somewhere occurs elsewhere with no span on or around it;
- mechanical guideline breaks: `title-determiner`, `slogan-quote`, `person-possessive`,
  `person-honorific`, `document-year-range`.
Hits that are right on purpose go in an allowlist (JSONL: check, text, optional doc_id, reason).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .errors import E, ReadoutError
from .gold import Record
from .schema import QUOTES

YEAR_RANGE = re.compile(r"\s?\(\d{4}\s?[-–—]\s?\d{4}\)")
DETERMINERS = ("a ", "an ", "the ", "A ", "An ", "The ")
HONORIFICS = ("Comrade ", "comrade ", "Comrades ")
MIN_UNLABELLED_LEN = 4  # shorter strings (e.g. surname "Li") match too much to be worth a hit
NUMBER = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|first|second|third|fourth|fifth|\d+)\b", re.I
)


def slogan_by_form(text: str, start: int, end: int) -> bool:
    """SLOGAN is typographic: quoted, numbered or capitalised. Lowercase, unnumbered words
    outside quotes are ordinary vocabulary here, even if quoted as a slogan elsewhere."""
    s = text[start:end]
    quoted = start > 0 and text[start - 1] in QUOTES
    return quoted or any(c.isupper() for c in s) or bool(NUMBER.search(s))


@dataclass(frozen=True)
class Hit:
    check: str
    where: str
    doc_id: str
    text: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.check}] {self.text!r} {self.detail}"


def _mechanical(rec: Record) -> list[Hit]:
    hits = []
    for s, e, label in rec.spans:
        t = rec.text[s:e]
        hit = lambda check, detail: hits.append(Hit(check, rec.where, rec.doc_id or "", t, detail))  # noqa: E731
        if label == "TITLE" and t.startswith(DETERMINERS):
            hit("title-determiner", "starts with a determiner; it belongs outside the TITLE")
        if label == "SLOGAN" and any(q in t for q in QUOTES if q not in "'’"):
            hit("slogan-quote", "contains a quote mark; quotes stay outside the SLOGAN")
        if label == "PERSON" and re.search(r"['’]s\b", t):
            hit("person-possessive", "contains 's; the possessive stays outside the PERSON")
        if label in ("PERSON", "TITLE") and t.startswith(HONORIFICS):
            hit("person-honorific", "starts with Comrade; honorifics stay outside")
        if label == "DOCUMENT" and (years := YEAR_RANGE.match(rec.text, e)):
            hit("document-year-range", f"is followed by {years.group().strip()}, which belongs inside")
    return hits


def _conflicts(records: list[Record]) -> list[Hit]:
    labels: dict[str, dict[str, Record]] = defaultdict(dict)
    for rec in records:
        for s, e, label in rec.spans:
            labels[rec.text[s:e]].setdefault(label, rec)
    hits = []
    for text, by_label in sorted(labels.items()):
        if len(by_label) > 1:
            where = "; ".join(f"{lb} at {r.where}" for lb, r in sorted(by_label.items()))
            rec = next(iter(by_label.values()))
            hits.append(Hit("label-conflict", rec.where, rec.doc_id or "", text, f"is labelled {where}"))
    return hits


def _unlabelled(records: list[Record]) -> list[Hit]:
    labelled: dict[str, str] = {}
    for rec in records:
        for s, e, label in rec.spans:
            labelled.setdefault(rec.text[s:e], label)
    strings = sorted((t for t in labelled if len(t) >= MIN_UNLABELLED_LEN), key=len, reverse=True)
    if not strings:
        return []
    # One alternation, longest first, so "Vice Governor" is tried before "Governor".
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, strings)) + r")(?![\w-])")
    hits = []
    for rec in records:
        covered = sorted((s, e) for s, e, _ in rec.spans)
        for m in pattern.finditer(rec.text):
            if any(s < m.end() and m.start() < e for s, e in covered):
                continue
            if labelled[m.group()] != "SLOGAN" or slogan_by_form(rec.text, m.start(), m.end()):
                hits.append(
                    Hit("unlabelled", rec.where, rec.doc_id or "", m.group(),
                        f"at {m.start()} has no span, but is {labelled[m.group()]} elsewhere")
                )
    return hits


def read_allowlist(path: Path | None) -> list[dict]:
    if path is None or not Path(path).exists():
        return []
    out = []
    for i, line in enumerate(Path(path).read_text(encoding="utf8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as err:
            raise ReadoutError(E.R001, f"{path}:{i}", detail=err.msg) from None
        if not {"check", "text", "reason"} <= set(entry):
            raise ReadoutError(E.R001, f"{path}:{i}", detail="allowlist entries need check, text and reason")
        out.append(entry)
    return out


def allowed(hit: Hit, allowlist: list[dict]) -> bool:
    return any(
        a["check"] == hit.check and a["text"] == hit.text and a.get("doc_id", hit.doc_id) == hit.doc_id
        for a in allowlist
    )


def lint(records: list[Record], allowlist: list[dict] = ()) -> list[Hit]:
    hits = [h for rec in records for h in _mechanical(rec)] + _conflicts(records) + _unlabelled(records)
    return [h for h in hits if not allowed(h, allowlist)]
