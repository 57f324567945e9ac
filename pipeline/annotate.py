"""Runs a trained pipeline over plain text, .txt files or JSONL and returns gold-format records."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from wasabi import color

from .errors import E, ReadoutError
from .gold import Record, read_jsonl

# Terminal colours (wasabi/ANSI names) per label for the readable view.
TERM_COLORS = {"PERSON": "cyan", "TITLE": "yellow", "SLOGAN": "red", "DOCUMENT": "pink"}


def read_inputs(paths: Iterable[Path]) -> Iterator[Record]:
    """JSONL lines keep their metadata (spans are ignored); a .txt file is one document."""
    for path in map(Path, paths):
        if path.suffix == ".jsonl":
            for rec in read_jsonl(path):
                yield Record(text=rec.text, spans=[], meta=rec.meta, where=rec.where)
        elif not path.exists():
            raise ReadoutError(E.R013, path=path)
        else:
            yield Record(text=path.read_text(encoding="utf8"), spans=[], meta={"source": str(path)}, where=str(path))


def annotate(nlp, records: Iterable[Record], batch_size: int = 32) -> Iterator[Record]:
    records = list(records)
    for rec, doc in zip(records, nlp.pipe((r.text for r in records), batch_size=batch_size)):
        spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        yield Record(text=rec.text, spans=spans, meta=rec.meta, where=rec.where)


def render_terminal(rec: Record, colour: bool = False) -> str:
    """The text with each span wrapped as [text]LABEL, in colour for a terminal."""
    paint = color if colour else (lambda text, **_: text)
    out, pos = [], 0
    for start, end, label in sorted(rec.spans):
        fg = TERM_COLORS.get(label)
        out.append(rec.text[pos:start])
        out.append(paint(f"[{rec.text[start:end]}]", fg=fg, bold=True) + paint(label, fg=fg))
        pos = end
    out.append(rec.text[pos:])
    return "".join(out)
