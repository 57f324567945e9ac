"""Inline-tagged authoring format for writing gold documents by hand.

Typing character offsets is error-prone; writing `<PERSON>Li Qiang</PERSON>` is not.
A file holds documents, each opened by a header line of `key=value` metadata:

    ### doc_id=ah-psc-001 genre=party_standing_committee province=Anhui
    <PERSON>Han Jun</PERSON> presided over the meeting ...

`readout markup` turns such files into gold JSONL, offsets computed here.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import E, ReadoutError
from .gold import Record
from .schema import LABELS

TAG = re.compile(r"<(/?)(" + "|".join(LABELS) + r")>")
HEADER = "###"


def _parse_header(line: str, where: str) -> dict:
    meta = {}
    for item in line[len(HEADER):].split():
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise ReadoutError(E.R012, where, detail=f"header item {item!r} is not key=value")
        meta[key] = value.replace("_", " ") if key == "province" else value
    if "doc_id" not in meta:
        raise ReadoutError(E.R012, where, detail="header has no doc_id")
    return meta


def _parse_body(lines: list[tuple[int, str]], path: Path) -> tuple[str, list]:
    # Drop blank lines around the body; keep the inner line structure of the document.
    while lines and not lines[0][1].strip():
        lines.pop(0)
    while lines and not lines[-1][1].strip():
        lines.pop()
    out: list[str] = []
    spans = []
    pos = 0
    open_tag: tuple[str, int, int] | None = None  # label, start offset, line number
    for n, (lineno, line) in enumerate(lines):
        if n:
            out.append("\n")
            pos += 1
        last = 0
        for m in TAG.finditer(line):
            chunk = line[last : m.start()]
            out.append(chunk)
            pos += len(chunk)
            last = m.end()
            closing, label = m.group(1) == "/", m.group(2)
            where = f"{path}:{lineno}"
            if not closing:
                if open_tag:
                    raise ReadoutError(
                        E.R012, where, detail=f"<{label}> opened inside <{open_tag[0]}> (line {open_tag[2]})"
                    )
                open_tag = (label, pos, lineno)
            else:
                if not open_tag or open_tag[0] != label:
                    raise ReadoutError(E.R012, where, detail=f"</{label}> closes nothing")
                spans.append((open_tag[1], pos, label))
                open_tag = None
        out.append(line[last:])
        pos += len(line) - last
    if open_tag:
        raise ReadoutError(E.R012, f"{path}:{open_tag[2]}", detail=f"<{open_tag[0]}> is never closed")
    return "".join(out), spans


def read_markup(path: Path) -> list[Record]:
    path = Path(path)
    if not path.exists():
        raise ReadoutError(E.R013, path=path)
    records: list[Record] = []
    header: tuple[int, dict] | None = None
    body: list[tuple[int, str]] = []

    def flush():
        if header is None:
            if any(line.strip() for _, line in body):
                raise ReadoutError(E.R012, f"{path}:{body[0][0]}", detail="text before the first ### header")
            return
        text, spans = _parse_body(body, path)
        where = f"{path}:{header[0]}"
        if not text.strip():
            raise ReadoutError(E.R002, where)
        records.append(Record(text=text, spans=spans, meta=header[1], where=where))

    for lineno, line in enumerate(path.read_text(encoding="utf8").splitlines(), start=1):
        if line.startswith(HEADER):
            flush()
            header, body = (lineno, _parse_header(line, f"{path}:{lineno}")), []
        else:
            body.append((lineno, line))
    flush()
    return records
