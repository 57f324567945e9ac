"""Gold data on disk: doccano sequence-labelling JSONL in, the same format out.

A record is `{"text": ..., "label": [[start, end, "LABEL"], ...], ...}`; every other key is
metadata and is kept. doccano's other export form, `"entities": [{"start_offset": ...}]`, is
read too. Writes are atomic: a temporary file in the same folder, then a rename.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import E, ReadoutError

Span = tuple[int, int, str]


@dataclass
class Record:
    text: str
    spans: list[Span]
    meta: dict = field(default_factory=dict)
    where: str = ""  # "file:line" it was read from, for error messages

    @property
    def doc_id(self) -> str | None:
        return self.meta.get("doc_id")

    def to_json(self) -> dict:
        return {"text": self.text, "label": [list(s) for s in sorted(self.spans)], **self.meta}


def text_digest(text: str) -> str:
    """sha1 of the text with whitespace normalised: re-wrapped copies of one text share it."""
    return hashlib.sha1(" ".join(text.split()).encode()).hexdigest()


def _parse_spans(obj: dict, where: str) -> list[Span]:
    if "entities" in obj and "label" not in obj:
        raw = [
            [e.get("start_offset"), e.get("end_offset"), e.get("label")]
            for e in obj["entities"]
            if isinstance(e, dict)
        ]
    else:
        raw = obj.get("label", [])
    if not isinstance(raw, list):
        raise ReadoutError(E.R014, where)
    spans = []
    for item in raw:
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 3
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2])
            or not isinstance(item[2], str)
        ):
            raise ReadoutError(E.R011, where, span=item)
        spans.append((item[0], item[1], item[2]))
    return spans


def parse_line(line: str, where: str) -> Record:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise ReadoutError(E.R001, where, detail=err.msg) from None
    if not isinstance(obj, dict):
        raise ReadoutError(E.R001, where, detail="a line must be a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ReadoutError(E.R002, where)
    spans = _parse_spans(obj, where)
    meta = {k: v for k, v in obj.items() if k not in ("text", "label", "entities")}
    return Record(text=text, spans=spans, meta=meta, where=where)


def read_jsonl(path: Path) -> Iterator[Record]:
    """Yield records; the first malformed line raises a ReadoutError naming file:line."""
    path = Path(path)
    if not path.exists():
        raise ReadoutError(E.R013, path=path)
    with path.open(encoding="utf8") as f:
        for i, line in enumerate(f, start=1):
            if line.strip():
                yield parse_line(line, f"{path}:{i}")


def gold_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the .jsonl files in them, sorted, so the order is reproducible."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.rglob("*.jsonl")))
        elif p.exists():
            files.append(p)
        else:
            raise ReadoutError(E.R013, path=p)
    return files


def read_all(paths: Iterable[Path]) -> list[Record]:
    return [r for f in gold_files(paths) for r in read_jsonl(f)]


def atomic_write_text(path: Path, text: str) -> None:
    """Write the whole file or nothing: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, records: Iterable[Record]) -> None:
    lines = (json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
    atomic_write_text(path, "".join(lines))
