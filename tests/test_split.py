from pipeline.gold import Record
from pipeline.schema import LABELS
from pipeline.split import assign_splits, missing_labels, read_manifest, write_manifest


def make_docs(n: int, start: int = 0) -> list[Record]:
    spans = [(0, 1, label) for label in LABELS]  # offsets are irrelevant to splitting
    return [
        Record(text=f"doc {i}", spans=spans, meta={"doc_id": f"d{i:03d}", "genre": "g"}) for i in range(start, start + n)
    ]


def test_split_is_deterministic_and_covers_every_label():
    docs = make_docs(40)
    a, b = assign_splits(docs, {}), assign_splits(docs, {})
    assert a == b
    assert set(a.values()) == {"train", "dev", "test"}
    assert missing_labels(a, docs) == {}
    assert 4 <= list(a.values()).count("test") <= 8


def test_adding_documents_never_moves_existing_ones(tmp_path):
    docs = make_docs(40)
    first = assign_splits(docs, {})
    write_manifest(tmp_path / "splits.json", first)
    more = docs + make_docs(25, start=40)
    second = assign_splits(more, read_manifest(tmp_path / "splits.json"))
    assert {k: second[k] for k in first} == first
    assert len(second) == 65 and "test" in {second[f"d{i:03d}"] for i in range(40, 65)}


def test_missing_label_is_reported():
    docs = make_docs(10)
    docs[0].spans = [(0, 1, "SLOGAN")]
    for d in docs[1:]:
        d.spans = [(0, 1, "PERSON")]
    assignment = {d.doc_id: "train" for d in docs}
    assert missing_labels(assignment, docs)["train"] == ["TITLE", "DOCUMENT"]
