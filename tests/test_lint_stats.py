import json

from pipeline.gold import Record
from pipeline.lint import lint, read_allowlist
from pipeline.stats import corpus_stats, overlap, to_markdown


def rec(text, spans, doc_id, **meta):
    return Record(text=text, spans=spans, meta={"doc_id": doc_id, **meta}, where=f"g.jsonl:{doc_id}")


def checks(records, allow=()):
    return sorted((h.check, h.text) for h in lint(records, list(allow)))


def test_mechanical_breaks():
    t = "the Vice Governor met Comrade Li Ming's staff on the Plan for X (2021-2025) and “Two Safeguards”."
    spans = [(0, 17, "TITLE"), (22, 39, "PERSON"), (53, 63, "DOCUMENT"), (80, 96, "SLOGAN")]
    assert checks([rec(t, spans, "a")]) == [
        ("document-year-range", "Plan for X"), ("person-honorific", "Comrade Li Ming's"),
        ("person-possessive", "Comrade Li Ming's"), ("slogan-quote", "“Two Safeguards”"),
        ("title-determiner", "the Vice Governor")]


def test_conflicts_and_unlabelled_repeats():
    a = rec("Zhang Wei praised the Two Safeguards.", [(0, 9, "PERSON"), (22, 36, "SLOGAN")], "a")
    b = rec("Two Safeguards, said Zhang Wei.", [(0, 14, "DOCUMENT")], "b")
    assert checks([a, b]) == [("label-conflict", "Two Safeguards"), ("unlabelled", "Zhang Wei")]


def test_lowercase_unquoted_slogan_words_are_not_flagged():
    a = rec('He urged "common prosperity".', [(10, 27, "SLOGAN")], "a")
    b = rec("It serves common prosperity and the four winds campaign.", [], "b")
    c = rec("Fight the four winds.", [(10, 20, "SLOGAN")], "c")
    assert checks([a, b, c]) == [("unlabelled", "four winds")]


def test_allowlist(tmp_path):
    a = rec("Zhang Wei spoke.", [(0, 9, "PERSON")], "a")
    b = rec("The Zhang Wei Bridge opened.", [], "b")
    path = tmp_path / "allow.jsonl"
    path.write_text(json.dumps({"check": "unlabelled", "text": "Zhang Wei", "doc_id": "b", "reason": "a bridge"}) + "\n")
    assert checks([a, b], read_allowlist(path)) == []


def test_stats_and_ood_overlap():
    train = [rec("Li Ming met Wang Fang in Hefei, then Li spoke.", [(0, 7, "PERSON"), (12, 21, "PERSON"), (37, 39, "PERSON")], "a", genre="g1", province="Anhui")]
    ood = [rec("Ge Lan met Wang Fang.", [(0, 6, "PERSON"), (11, 20, "PERSON")], "o", genre="g2", province="Hainan")]
    s = corpus_stats(train + ood)
    assert s["documents"] == 2 and s["words"] == 15 and s["spans"] == 5
    assert s["per_label"]["PERSON"] == {"spans": 5, "distinct": 4} and s["distinct_full_names"] == 3
    assert s["genres"] == {"g1": 1, "g2": 1}
    shared = overlap(ood, train)
    assert shared["PERSON"] == ["Wang Fang"] and shared["province"] == []
    md = to_markdown(s, shared)
    assert "| PERSON | 5 | 4 |" in md and "| PERSON | 1 | Wang Fang |" in md
