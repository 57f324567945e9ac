"""push → annotate as a second user through the API → pull → validate → merge, on the real server."""

from __future__ import annotations

import json

import pytest
import spacy
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.confidence import ModelPrelabeler, RulesPrelabeler
from pipeline.doccano_sync import (
    merge_into_gold,
    pull,
    push,
    read_documents,
    reconcile,
    require_project,
    write_pulled,
)
from pipeline.errors import ReadoutError
from pipeline.gold import Record, read_all, read_jsonl, write_jsonl
from pipeline.validate import validate_records

pytestmark = pytest.mark.doccano

# Characters outside the BMP before every entity: UTF-16 and code-point offsets differ.
TEXT_A = "Wang Yi 😀 met Vice Premier Li Qiang in 𠮷 Beijing."
TEXT_B = "Li Qiang spoke."
TEXT_C = "Wang Yi and 𠮷𠮷 Li Qiang left."
GOLD = [
    Record(
        "Premier Li Qiang met Wang Yi.",
        [(0, 7, "TITLE"), (8, 16, "PERSON"), (21, 28, "PERSON")],
        {"doc_id": "g-1"},
    )
]


def u16(text: str, i: int) -> int:
    """The offset a browser (JavaScript string index) gives code point i."""
    return len(text[:i].encode("utf-16-le")) // 2


def span_at(text: str, needle: str, label: str) -> tuple[int, int, str]:
    start = text.index(needle)
    return start, start + len(needle), label


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT_A + "\n", encoding="utf8")
    # Leading whitespace, which doccano strips on upload: offsets must not shift.
    rows = [{"text": "  \n" + TEXT_B, "doc_id": "n-2"}, {"text": TEXT_C, "doc_id": "n-3"}]
    (folder / "more.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    return folder


@pytest.fixture
def gold_dir(tmp_path):
    folder = tmp_path / "gold"
    write_jsonl(folder / "g.jsonl", GOLD)
    return folder


def spans_by_text(client, project_id: int, example) -> dict[str, object]:
    """The example's spans keyed by the text they cover, read with UTF-16 offsets."""
    units = example.text.encode("utf-16-le")
    return {
        units[2 * s.start_offset : 2 * s.end_offset].decode("utf-16-le"): s
        for s in client.list_spans(project_id, example.id)
    }


def test_push_annotate_pull_merge(client, make_annotator, project_name, docs, gold_dir, tmp_path):
    records = read_documents([docs])
    rules = RulesPrelabeler.from_records(GOLD)
    report = push(client, project_name, records, rules, progress=False)
    assert len(report.uploaded) == 3 and report.created_project and report.collaborative
    assert report.spans == 6  # a: Wang Yi, Premier, Li Qiang; b: Li Qiang; c: Wang Yi, Li Qiang

    # Idempotent: the same documents again add nothing.
    again = push(client, project_name, read_documents([docs]), rules, progress=False)
    assert again.uploaded == [] and sorted(again.skipped) == sorted(report.uploaded)
    project, label_ids = require_project(client, project_name)
    assert client.count_examples(project.id) == 3
    assert set(label_ids) == {"PERSON", "TITLE", "SLOGAN", "DOCUMENT"}
    shortcuts = {t.text: (t.suffix_key, t.background_color) for t in client.list_label_types(project.id, "span")}
    assert shortcuts["PERSON"] == ("p", "#7aecec")

    examples = {ex.meta["doc_id"]: ex for ex in client.list_examples(project.id)}
    a_id = next(k for k in examples if k.startswith("sha1-"))
    ex_a = examples[a_id]
    assert ex_a.text == TEXT_A and ex_a.meta["source"].endswith("a.txt")  # stripped, as doccano stores it
    # Stored offsets are UTF-16: slicing UTF-16 units gives the entity text back.
    stored = spans_by_text(client, project.id, ex_a)
    assert set(stored) == {"Wang Yi", "Premier", "Li Qiang"}
    li = stored["Li Qiang"]
    assert li.start_offset == u16(TEXT_A, TEXT_A.index("Li Qiang")) != TEXT_A.index("Li Qiang")
    # Machine spans carry the rule's confidence: "Li Qiang" is labelled at 1 of its 1 gold occurrences.
    assert li.prob == pytest.approx(1.0) and not li.manual

    # A second user annotates: widens a span, re-creates one as the browser would, confirms.
    name, ann = make_annotator(project.id)
    premier = stored["Premier"]
    ann.update_span(project.id, ex_a.id, premier.id, start_offset=u16(TEXT_A, TEXT_A.index("Vice Premier")))
    ann.delete_span(project.id, ex_a.id, li.id)
    start = TEXT_A.index("Li Qiang")
    ann.create_span(project.id, ex_a.id, u16(TEXT_A, start), u16(TEXT_A, start + 8), label_ids["PERSON"])
    ann.update_example_state(project.id, ex_a.id)
    ann.update_example_state(project.id, examples["n-2"].id)
    # n-3 stays unconfirmed.

    pulled = pull(client, project_name)
    assert list(pulled.by_annotator) == ["all"]
    got = {r.doc_id: r for r in pulled.by_annotator["all"]}
    assert set(got) == {a_id, "n-2"}
    expected = [("Wang Yi", "PERSON"), ("Vice Premier", "TITLE"), ("Li Qiang", "PERSON")]
    assert sorted(got[a_id].spans) == sorted(span_at(TEXT_A, needle, label) for needle, label in expected)
    assert [got[a_id].text[s:e] for s, e, _ in sorted(got[a_id].spans)] == ["Wang Yi", "Vice Premier", "Li Qiang"]
    assert got[a_id].text == TEXT_A and got[a_id].meta["source"].endswith("a.txt")
    assert validate_records(pulled.by_annotator["all"]) == []

    snapshot = write_pulled(pulled, tmp_path / "pulled")
    assert [p.name for p in snapshot] == ["all.jsonl"] and len(list(read_jsonl(snapshot[0]))) == 2

    records, disagreements = reconcile(pulled)
    assert disagreements == []
    into = gold_dir / "doccano.jsonl"
    merged = merge_into_gold(records, gold_dir, into)
    assert sorted(merged.added) == sorted([a_id, "n-2"]) and merged.conflicts == [] and merged.written == [into]
    all_gold = read_all([gold_dir])
    assert len(all_gold) == 3 and validate_records(all_gold) == []
    assert list(read_jsonl(gold_dir / "g.jsonl"))[0].spans == GOLD[0].spans  # untouched

    # Pulling again changes nothing.
    again = merge_into_gold(reconcile(pull(client, project_name))[0], gold_dir, into)
    assert sorted(again.unchanged) == sorted([a_id, "n-2"]) and again.added == [] and again.written == []

    # The annotator edits a merged document: a conflict, not an overwrite, unless accepted.
    b_spans = client.list_spans(project.id, examples["n-2"].id)
    ann.delete_span(project.id, examples["n-2"].id, b_spans[0].id)
    before = into.read_text(encoding="utf8")
    conflict = merge_into_gold(reconcile(pull(client, project_name))[0], gold_dir, into)
    assert [c.doc_id for c in conflict.conflicts] == ["n-2"]
    assert conflict.conflicts[0].only_gold == [(0, 8, "PERSON")] and conflict.conflicts[0].only_pulled == []
    assert into.read_text(encoding="utf8") == before and conflict.written == []
    accepted = merge_into_gold(reconcile(pull(client, project_name))[0], gold_dir, into, accept=True)
    assert accepted.accepted == ["n-2"]
    assert {r.doc_id: r.spans for r in read_jsonl(into)}["n-2"] == []

    # --all brings the unconfirmed document too.
    everything = pull(client, project_name, confirmed_only=False)
    assert {r.doc_id for r in everything.by_annotator["all"]} == {a_id, "n-2", "n-3"}


def test_model_preannotations_carry_beam_confidence(client, project_name, tiny_model):
    nlp = spacy.load(tiny_model)
    prelabeler = ModelPrelabeler(nlp)
    records = [Record("Premier Li Qiang met Wang Yi in Beijing.", [], {"doc_id": "m-1"})]
    expected = prelabeler([records[0].text])[0]
    assert expected, "the tiny model should predict something on its own training text"
    report = push(client, project_name, records, prelabeler, progress=False)
    assert report.spans == len(expected)
    project, label_ids = require_project(client, project_name)
    example = next(iter(client.list_examples(project.id)))
    ids_to_label = {v: k for k, v in label_ids.items()}
    stored = sorted(
        (s.start_offset, s.end_offset, ids_to_label[s.label], s.prob) for s in client.list_spans(project.id, example.id)
    )
    assert [s[:3] for s in stored] == [s[:3] for s in sorted(expected)]
    assert [s[3] for s in stored] == pytest.approx([s[3] for s in sorted(expected)])
    assert all(0.0 < s[3] <= 1.0 for s in stored)


def test_independent_annotators_pull_per_annotator(client, make_annotator, project_name, tmp_path):
    records = [Record(TEXT_B, [], {"doc_id": "i-1"}), Record("Wang Yi spoke.", [], {"doc_id": "i-2"})]
    rules = RulesPrelabeler.from_records(GOLD)
    report = push(client, project_name, records, rules, collaborative=False, progress=False)
    assert not report.collaborative and report.spans == 0  # nobody else would see them
    project, label_ids = require_project(client, project_name)
    examples = {ex.meta["doc_id"]: ex for ex in client.list_examples(project.id)}
    (n1, a1), (n2, a2) = make_annotator(project.id), make_annotator(project.id)
    # Both mark i-1 the same; on i-2 they disagree about the label.
    for ann, label in ((a1, "PERSON"), (a2, "TITLE")):
        ann.create_span(project.id, examples["i-1"].id, 0, 8, label_ids["PERSON"])
        ann.create_span(project.id, examples["i-2"].id, 0, 7, label_ids[label])
        for ex in examples.values():
            ann.update_example_state(project.id, ex.id)
    assert a1.list_spans(project.id, examples["i-2"].id)[0].label == label_ids["PERSON"]  # own spans only

    pulled = pull(client, project_name)
    assert not pulled.collaborative and set(pulled.by_annotator) == {n1, n2}
    merged, disagreements = reconcile(pulled)
    assert [r.doc_id for r in merged] == ["i-1"] and merged[0].meta["annotators"] == sorted([n1, n2])
    assert [d.doc_id for d in disagreements] == ["i-2"]

    from pipeline.agreement import agreement, load_annotations

    paths = write_pulled(pulled, tmp_path / "pulled")
    (pair,) = agreement(load_annotations(paths))
    # Spans: i-1 agrees (1 tp), i-2 differs in label (1 fp, 1 fn): F1 = 2/4.
    assert pair.n_docs == 2 and pair.f1 == pytest.approx(0.5)
    assert [(d.doc_id, d.text) for d in pair.disagreements] == [("i-2", "Wang Yi")]


def test_pull_rejects_offsets_inside_a_character_and_writes_nothing(client, make_annotator, project_name, tmp_path):
    push(client, project_name, [Record(TEXT_C, [], {"doc_id": "s-1"})], None, progress=False)
    project, label_ids = require_project(client, project_name)
    example = next(iter(client.list_examples(project.id)))
    _, ann = make_annotator(project.id)
    mid = u16(TEXT_C, TEXT_C.index("𠮷")) + 1  # between the two halves of a surrogate pair
    ann.create_span(project.id, example.id, mid, mid + 3, label_ids["PERSON"])
    ann.update_example_state(project.id, example.id)
    with pytest.raises(ReadoutError) as err:
        pull(client, project_name)
    assert err.value.code == "R017" and "character boundaries" in err.value.message


def test_cli_push_and_pull(
    doccano, admin_env, project_name, docs, gold_dir, tmp_path, monkeypatch, make_annotator, client
):
    monkeypatch.setenv("DOCCANO_URL", doccano.url)
    runner = CliRunner()
    result = runner.invoke(app, ["doccano", "push", str(docs), "--project", project_name, "--gold", str(gold_dir)])
    assert result.exit_code == 0, result.output
    assert "3 documents added with 6 spans (rules from" in " ".join(result.output.split())
    result = runner.invoke(app, ["doccano", "push", str(docs), "--project", project_name, "--gold", str(gold_dir)])
    assert result.exit_code == 0 and "0 documents added" in result.output and "3 already there" in result.output

    project, _ = require_project(client, project_name)
    _, ann = make_annotator(project.id)
    for ex in client.list_examples(project.id):
        ann.update_example_state(project.id, ex.id)
    into = tmp_path / "gold" / "doccano.jsonl"
    args = ["doccano", "pull", "--project", project_name, "--gold", str(gold_dir), "--into", str(into),
            "--out", str(tmp_path / "pulled")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(list(read_jsonl(into))) == 3
    assert (tmp_path / "pulled" / project_name / "all.jsonl").exists()

    # A gold document edited locally now differs from doccano: exit 1, nothing overwritten.
    recs = list(read_jsonl(into))
    recs[0].spans = []
    write_jsonl(into, recs)
    before = into.read_text(encoding="utf8")
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "[R018]" in result.output and "conflicts" in result.output
    assert into.read_text(encoding="utf8") == before
    result = runner.invoke(app, [*args, "--accept"])
    assert result.exit_code == 0 and into.read_text(encoding="utf8") != before
