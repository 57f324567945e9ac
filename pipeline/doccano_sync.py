"""Push documents with pre-annotations to doccano; pull annotations back into gold.

Offsets: doccano's browser client measures spans in UTF-16 code units (JavaScript string
indices) unless a project counts graphemes, while our gold counts Python code points. The
two differ after any character outside the Basic Multilingual Plane (emoji, 𠮷), so every
offset is converted at this boundary, and projects in grapheme mode are refused.

Identity: each document is keyed by a stable id kept in the example's meta (`doc_id` from
the input, else a hash of its whitespace-normalised text), which makes pushing idempotent
and lets a pull match what comes back against the gold already on disk.
"""

from __future__ import annotations

import contextlib
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Iterable, Iterator, Sequence

import requests
from doccano_client import DoccanoClient
from doccano_client.exceptions import DoccanoAPIError
from doccano_client.models.project import Project
from doccano_client.repositories.data_download import DataDownloadRepository
from doccano_client.repositories.task_status import TaskStatusRepository
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

from .annotate import read_inputs
from .confidence import Prelabeler
from .errors import E, ReadoutError, ReadoutErrors
from .gold import Record, gold_files, read_jsonl, text_digest, write_jsonl
from .schema import COLORS, LABELS, SHORTCUTS
from .validate import require_valid, validate_records

PROJECT_TYPE = "SequenceLabeling"
DEFAULT_TIMEOUT = 30.0
# Meta keys doccano adds to an export line besides the example's own meta.
EXPORT_ONLY_KEYS = ("id", "Comments")


# ---------------------------------------------------------------- offsets and ids


def _utf16_positions(text: str) -> list[int]:
    """UTF-16 offset of each code point boundary: index i holds the offset of text[:i]."""
    positions = [0]
    for ch in text:
        positions.append(positions[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return positions


def to_utf16(text: str, spans: Iterable[tuple]) -> list[tuple]:
    """Code-point spans → doccano (UTF-16) spans; everything after the offsets passes through."""
    pos = _utf16_positions(text)
    return [(pos[s], pos[e], *rest) for s, e, *rest in spans]


def from_utf16(text: str, spans: Iterable[tuple], where: str) -> list[tuple]:
    """doccano (UTF-16) spans → code-point spans. An offset inside a surrogate pair or past
    the end cannot come from a real selection, so it raises instead of being rounded."""
    index = {p: i for i, p in enumerate(_utf16_positions(text))}
    out = []
    for s, e, *rest in spans:
        if s not in index or e not in index:
            raise ReadoutError(
                E.R017, where, detail=f"span [{s}, {e}] does not fall on character boundaries of the text"
            )
        out.append((index[s], index[e], *rest))
    return out


def stable_doc_id(rec: Record) -> str:
    """`doc_id` from the record's meta, else a hash of its text with whitespace normalised, so
    re-wrapped copies of one text get one id."""
    if rec.doc_id:
        return str(rec.doc_id)
    return "sha1-" + text_digest(rec.text)[:16]


def read_documents(paths: Iterable[Path]) -> list[Record]:
    """Documents to annotate, as `readout annotate` reads them (`.txt` files, JSONL records
    with their spans dropped), folders searched for both; each gets a `doc_id` in its meta."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".txt", ".jsonl")))
        else:
            files.append(p)
    records = list(read_inputs(files))
    for rec in records:
        rec.meta["doc_id"] = stable_doc_id(rec)
    return records


# ---------------------------------------------------------------- connection


class _TimeoutAdapter(HTTPAdapter):
    """Give every request a timeout: without one a stalled server hangs the command forever."""

    def __init__(self, timeout: float, **kwargs):
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def _base(client: DoccanoClient):
    # doccano-client 1.2.8 has no public handle on its HTTP session or repositories, and we
    # need both: to set timeouts and retries, and to wait on an export with our own deadline.
    return client._base_repository


@contextlib.contextmanager
def api_errors(url: str) -> Iterator[None]:
    """Turn transport and HTTP failures into one-line R017 errors."""
    try:
        yield
    except DoccanoAPIError as err:
        resp = err.response
        if resp is None:
            raise ReadoutError(E.R017, url, detail=str(err)) from None
        body = " ".join(resp.text.split())[:200]
        raise ReadoutError(E.R017, url, detail=f"HTTP {resp.status_code} from {resp.url}: {body}") from None
    except requests.Timeout:
        raise ReadoutError(E.R017, url, detail="the server did not answer in time") from None
    except requests.ConnectionError:
        raise ReadoutError(
            E.R017, url, detail="cannot reach the server; start it with `readout doccano start`"
        ) from None


def connect(url: str, user: str, password: str, timeout: float = DEFAULT_TIMEOUT) -> DoccanoClient:
    """A logged-in client whose requests time out, and whose reads are retried with backoff.

    Only GETs are retried after a request was sent (they change nothing); a refused
    connection is retried for every method, since then nothing reached the server.
    """
    client = DoccanoClient(url)
    retry = Retry(
        total=3, connect=3, read=2, status=2, backoff_factor=0.3,
        status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )
    adapter = _TimeoutAdapter(timeout, max_retries=retry)
    _base(client)._session.mount("http://", adapter)
    _base(client)._session.mount("https://", adapter)
    with api_errors(url):
        try:
            client.login(user, password)
        except DoccanoAPIError as err:
            if err.response is not None and err.response.status_code in (400, 401, 403):
                detail = f"login as {user!r} refused: wrong user name or password"
                raise ReadoutError(E.R017, url, detail=detail) from None
            raise
    return client


# ---------------------------------------------------------------- projects and labels


def find_project(client: DoccanoClient, name: str) -> Project | None:
    matches = [p for p in client.list_projects() if p.name == name]
    if len(matches) > 1:
        raise ReadoutError(E.R017, name, detail=f"{len(matches)} projects have this name; rename all but one")
    return matches[0] if matches else None


def check_project(client: DoccanoClient, project: Project) -> dict[str, int]:
    """Refuse projects we cannot round-trip; return the schema's label ids (missing ones are
    not created here)."""
    if project.project_type != PROJECT_TYPE:
        raise ReadoutError(E.R017, project.name, detail=f"project type is {project.project_type}, not {PROJECT_TYPE}")
    if project.grapheme_mode:
        raise ReadoutError(
            E.R017, project.name, detail="project counts grapheme clusters; offsets convert only in UTF-16 mode"
        )
    types = client.list_label_types(project.id, "span")
    foreign = sorted(t.text for t in types if t.text not in LABELS)
    if foreign:
        detail = f"labels outside the schema: {', '.join(foreign)} (schema: {', '.join(LABELS)})"
        raise ReadoutError(E.R017, project.name, detail=detail)
    return {t.text: t.id for t in types}


def ensure_project(
    client: DoccanoClient, name: str, collaborative: bool = True, guideline: str = ""
) -> tuple[Project, dict[str, int], bool]:
    """The project called `name` with the schema's labels, created if missing.

    Returns the project, label ids, and whether it was created now.
    """
    project = find_project(client, name)
    created = project is None
    if created:
        project = client.create_project(
            name=name,
            project_type=PROJECT_TYPE,
            description=f"readout NER, labels {', '.join(LABELS)}",
            guideline=guideline,
            collaborative_annotation=collaborative,
        )
    label_ids = check_project(client, project)
    for label in LABELS:
        if label not in label_ids:
            made = client.create_label_type(
                project.id, "span", label, suffix_key=SHORTCUTS[label], color=COLORS[label]
            )
            label_ids[label] = made.id
    return project, label_ids, created


def require_project(client: DoccanoClient, name: str) -> tuple[Project, dict[str, int]]:
    project = find_project(client, name)
    if project is None:
        raise ReadoutError(E.R017, name, detail="no such project (or you are not a member)")
    return project, check_project(client, project)


# ---------------------------------------------------------------- push


@dataclass
class PushReport:
    project: str
    project_id: int
    created_project: bool
    collaborative: bool
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the project
    spans: int = 0
    prelabel: str = ""


def existing_doc_ids(client: DoccanoClient, project_id: int) -> set[str]:
    return {str(ex.meta["doc_id"]) for ex in client.list_examples(project_id) if "doc_id" in ex.meta}


def push(
    client: DoccanoClient,
    project_name: str,
    records: Sequence[Record],
    prelabeler: Prelabeler | None = None,
    collaborative: bool = True,
    guideline: str = "",
    batch_size: int = 32,
    progress: bool = True,
) -> PushReport:
    """Upload the records not yet in the project, with the prelabeler's spans (stored as
    machine spans, `prob` = confidence).

    In a non-collaborative project each annotator sees only their own spans, so spans pushed
    by this account would reach nobody but its owner: there, texts go up without any spans.
    """
    url = _base(client)._base_url
    with api_errors(url):
        project, label_ids, created = ensure_project(client, project_name, collaborative, guideline)
        prelabeler = prelabeler if project.collaborative_annotation else None
        report = PushReport(
            project=project.name,
            project_id=project.id,
            created_project=created,
            collaborative=project.collaborative_annotation,
            prelabel=prelabeler.name if prelabeler else "none",
        )
        seen = existing_doc_ids(client, project.id)
        todo = []
        for rec in records:
            doc_id = stable_doc_id(rec)
            if doc_id in seen:
                report.skipped.append(doc_id)
            else:
                todo.append(rec)
                seen.add(doc_id)
        bar = tqdm(total=len(todo), desc=f"push {project.name}", unit="doc", disable=not progress)
        for i in range(0, len(todo), batch_size):
            batch = todo[i : i + batch_size]
            # doccano strips the text it stores (a DRF CharField), which would shift every
            # offset after leading whitespace: strip first, then pre-annotate what is stored.
            texts = [r.text.strip() for r in batch]
            predicted = iter(prelabeler(texts) if prelabeler else [])
            for rec, text in zip(batch, texts):
                spans = next(predicted, [])
                _upload_one(client, project.id, label_ids, text, rec, spans)
                report.uploaded.append(stable_doc_id(rec))
                report.spans += len(spans)
                bar.update(1)
        bar.close()
    return report


def _upload_one(
    client: DoccanoClient, project_id: int, label_ids: dict[str, int], text: str, rec: Record, spans
) -> None:
    meta = {**rec.meta, "doc_id": stable_doc_id(rec)}
    example = client.create_example(project_id, text, meta=meta)
    try:
        for s, e, label, conf in to_utf16(text, spans):
            client.create_span(
                project_id, example.id, s, e, label_ids[label], human_annotated=False, confidence=float(conf)
            )
    except BaseException:
        # Without this, the next push would skip the document as present, half pre-annotated.
        with contextlib.suppress(Exception):
            client.delete_example(project_id, example.id)
        raise


# ---------------------------------------------------------------- pull


def export_project(
    client: DoccanoClient, project: Project, confirmed_only: bool = True, timeout: float = 300.0
) -> dict[str, list[dict]]:
    """doccano's JSONL export, one list of lines per file: `all` for a collaborative project,
    else one per member, holding that member's own spans (and, confirmed-only, the examples
    that member confirmed)."""
    base = _base(client)
    downloads, tasks = DataDownloadRepository(base), TaskStatusRepository(base)
    option = downloads.find_option_by_name(project.id, "JSONL")
    task_id = downloads.schedule_download(project.id, option, only_approved=confirmed_only)
    deadline = time.monotonic() + timeout
    while not (status := tasks.get(task_id)).ready:
        if time.monotonic() > deadline:
            raise ReadoutError(
                E.R017, project.name,
                detail=f"export not finished after {timeout:.0f} s; is the celery worker (`doccano task`) running?",
            )
        time.sleep(0.5)
    if status.error:
        raise ReadoutError(E.R017, project.name, detail=f"export failed on the server: {status.error}")
    with TemporaryDirectory() as tmp:
        archive = downloads.download(project.id, task_id, tmp)
        with zipfile.ZipFile(archive) as zf:
            texts = {Path(name).stem: zf.read(name).decode("utf8") for name in zf.namelist()}
    return {name: [json.loads(line) for line in text.splitlines() if line.strip()] for name, text in texts.items()}


def export_line_to_record(line: dict, where: str) -> Record:
    text = line.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ReadoutError(E.R002, where)
    raw = [tuple(s) for s in line.get("label", [])]
    spans = [(s, e, label) for s, e, label in from_utf16(text, raw, where)]
    meta = {k: v for k, v in line.items() if k not in ("text", "label", *EXPORT_ONLY_KEYS)}
    return Record(text=text, spans=spans, meta=meta, where=where)


@dataclass
class Pulled:
    project: str
    collaborative: bool
    by_annotator: dict[str, list[Record]]  # `all` for a collaborative project


def pull(
    client: DoccanoClient, project_name: str, confirmed_only: bool = True, timeout: float = 300.0
) -> Pulled:
    """Export `project_name` and convert it to validated gold records, per annotator.

    With `confirmed_only=False` in a non-collaborative project, every member's copy of every
    example comes back, touched or not; a copy without spans is not an annotation and is
    left out, so it cannot outvote or conflict with real work.
    """
    url = _base(client)._base_url
    with api_errors(url):
        project, _ = require_project(client, project_name)
        files = export_project(client, project, confirmed_only, timeout)
    by_annotator: dict[str, list[Record]] = {}
    errors: list[ReadoutError] = []
    for annotator, lines in sorted(files.items()):
        records = []
        for line in lines:
            where = f"doccano:{project.name}/{annotator}#{line.get('id')}"
            rec = export_line_to_record(line, where)
            rec.meta["doc_id"] = stable_doc_id(rec)
            if project.collaborative_annotation:
                records.append(rec)
            elif confirmed_only or rec.spans:
                rec.meta["annotator"] = annotator
                records.append(rec)
        errors.extend(validate_records(records))
        if records:
            by_annotator[annotator] = records
    if errors:
        raise ReadoutErrors(errors)
    return Pulled(project=project.name, collaborative=project.collaborative_annotation, by_annotator=by_annotator)


def write_pulled(pulled: Pulled, out_dir: Path) -> list[Path]:
    """A snapshot of the export, one gold JSONL per annotator: the input for `readout agreement`."""
    paths = []
    for annotator, records in pulled.by_annotator.items():
        path = Path(out_dir) / pulled.project / f"{annotator}.jsonl"
        write_jsonl(path, records)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- merge into gold


@dataclass
class Conflict:
    doc_id: str
    where: str  # the gold file:line, or the annotators who disagree
    only_gold: list[tuple]  # spans only in the gold version (disagreements: the first annotator's)
    only_pulled: list[tuple]  # spans only in the doccano version (disagreements: another's)
    same_text: bool = True


@dataclass
class MergeReport:
    into: Path
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)  # differs from gold, not merged
    written: list[Path] = field(default_factory=list)


def _span_diff(a: Record, b: Record) -> tuple[list[tuple], list[tuple]]:
    sa, sb = set(map(tuple, a.spans)), set(map(tuple, b.spans))
    return sorted(sa - sb), sorted(sb - sa)


def reconcile(pulled: Pulled) -> tuple[list[Record], list[Conflict]]:
    """One record per document. In a non-collaborative project a document confirmed by several
    annotators is taken only when their spans agree; otherwise it is a disagreement, left
    for `readout adjudicate`."""
    versions: dict[str, list[Record]] = {}
    for records in pulled.by_annotator.values():
        for rec in records:
            versions.setdefault(stable_doc_id(rec), []).append(rec)
    merged, disagreements = [], []
    for doc_id, recs in versions.items():
        first = recs[0]
        differing = [r for r in recs[1:] if r.text != first.text or set(r.spans) != set(first.spans)]
        if differing:
            names = ", ".join(sorted(str(r.meta.get("annotator", "?")) for r in recs))
            other = differing[0]
            disagreements.append(
                Conflict(doc_id, f"annotators {names}", *_span_diff(first, other), same_text=first.text == other.text)
            )
            continue
        meta = {k: v for k, v in first.meta.items() if k != "annotator"}
        if not pulled.collaborative:
            meta["annotators"] = sorted(str(r.meta["annotator"]) for r in recs)
        meta["doccano_project"] = pulled.project
        merged.append(Record(text=first.text, spans=sorted(first.spans), meta=meta, where=first.where))
    return merged, disagreements


def merge_into_gold(
    records: Sequence[Record], gold_dir: Path, into: Path, accept: bool = False
) -> MergeReport:
    """Add new documents to `into`; leave identical ones; report documents whose gold version
    differs, or replace them in place (in their own file) when `accept` is set.

    Everything is decided and the merged gold validated before any file is written; each
    file is then replaced atomically.
    """
    into = Path(into)
    report = MergeReport(into=into)
    files = gold_files([gold_dir]) if Path(gold_dir).exists() else []
    if into.exists() and into not in files:
        files.append(into)
    contents: dict[Path, list[Record]] = {f: list(read_jsonl(f)) for f in files}
    location: dict[str, tuple[Path, int]] = {}
    for f, recs in contents.items():
        for i, rec in enumerate(recs):
            location.setdefault(stable_doc_id(rec), (f, i))
    changed: set[Path] = set()
    for rec in records:
        doc_id = stable_doc_id(rec)
        if doc_id not in location:
            contents.setdefault(into, []).append(rec)
            location[doc_id] = (into, len(contents[into]) - 1)
            report.added.append(doc_id)
            changed.add(into)
            continue
        f, i = location[doc_id]
        old = contents[f][i]
        if old.text == rec.text and set(old.spans) == set(rec.spans):
            report.unchanged.append(doc_id)
        elif accept:
            contents[f][i] = Record(text=rec.text, spans=rec.spans, meta={**old.meta, **rec.meta}, where=old.where)
            report.accepted.append(doc_id)
            changed.add(f)
        else:
            report.conflicts.append(Conflict(doc_id, old.where, *_span_diff(old, rec), same_text=old.text == rec.text))
    require_valid([r for recs in contents.values() for r in recs])
    for f in sorted(changed):
        write_jsonl(f, contents[f])
        report.written.append(f)
    return report
