"""Beam probabilities, rule confidences, UTF-16 offsets, ranking with diversity, the simulation."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest
import spacy
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.confidence import (
    RulesPrelabeler,
    beam_entity_probs,
    expected_errors,
    span_probability,
    uncertainty,
)
from pipeline.doccano_sync import from_utf16, require_project, stable_doc_id, to_utf16
from pipeline.errors import ReadoutError
from pipeline.gold import Record, read_jsonl, write_jsonl
from pipeline.select import SimulationConfig, diverse_top, rank, simulate, write_report
from pipeline.validate import make_doc


def test_utf16_offsets_round_trip_outside_the_bmp():
    text = "😀 Li Qiang, 𠮷 and e\u0301 Wang Yi 👨‍👩‍👧 Xu"
    spans = [(2, 10, "PERSON"), (23, 30, "PERSON"), (text.index("Xu"), len(text), "PERSON")]
    doccano = to_utf16(text, spans)
    units = text.encode("utf-16-le")
    for (s, e, _), (s16, e16, _) in zip(spans, doccano):
        assert units[2 * s16 : 2 * e16].decode("utf-16-le") == text[s:e]
    assert doccano[0][:2] == (3, 11)  # the emoji is two UTF-16 units
    assert from_utf16(text, doccano, "x") == spans
    with pytest.raises(ReadoutError, match="character boundaries"):
        from_utf16(text, [(1, 4, "PERSON")], "x")  # starts inside the emoji's surrogate pair


def test_stable_doc_id():
    assert stable_doc_id(Record("Li Qiang spoke.", [], {"doc_id": "abc"})) == "abc"
    wrapped = stable_doc_id(Record("Li Qiang\n  spoke.", [], {}))
    assert wrapped == stable_doc_id(Record("Li Qiang spoke. ", [], {})) and wrapped.startswith("sha1-")
    assert wrapped != stable_doc_id(Record("Li Qiang spoke!", [], {}))


def test_expected_errors_and_uncertainty():
    probs = {(0, 1, "TITLE"): 0.9, (1, 3, "PERSON"): 0.5, (4, 5, "PERSON"): 0.2}
    assert expected_errors(probs) == pytest.approx(0.1 + 0.5 + 0.2)
    doc = make_doc("one two three four five six seven eight nine ten")
    assert uncertainty(doc, probs) == pytest.approx(100 * 0.8 / 10)
    assert uncertainty(doc, {(0, 1, "TITLE"): 1.0}) == 0.0


def test_span_probability_of_reshaped_spans():
    probs = {(2, 5, "SLOGAN"): 0.6, (1, 5, "SLOGAN"): 0.3, (2, 5, "TITLE"): 0.1}
    assert span_probability(probs, 2, 5, "SLOGAN") == 0.6  # in the beam as it is
    # Trimmed to tokens 2..4: both SLOGAN analyses that contain it count, the TITLE one does not.
    assert span_probability(probs, 2, 4, "SLOGAN") == pytest.approx(0.9)
    assert span_probability(probs, 0, 2, "PERSON") == 0.0


def test_rule_confidence_is_gold_precision_of_the_string():
    gold = [
        Record("Li Qiang met Wang Yi.", [(0, 8, "PERSON"), (13, 20, "PERSON")], {}),
        Record("Li Qiang spoke; Premier Wang Yi left.", [(16, 23, "TITLE"), (24, 31, "PERSON")], {}),
        Record("The Premier spoke.", [(4, 11, "PERSON")], {}),  # a slip: the same string, another label
    ]
    rules = RulesPrelabeler.from_records(gold)
    # "Li Qiang": labelled once, occurs twice. "Premier": TITLE once and PERSON once -> TITLE wins
    # (first most common), labelled TITLE at 1 of 2 occurrences.
    assert rules.confidence[("PERSON", "Li Qiang")] == pytest.approx(0.5)
    assert rules.confidence[("PERSON", "Wang Yi")] == pytest.approx(1.0)
    assert rules.confidence[("TITLE", "Premier")] == pytest.approx(0.5)
    (spans,) = rules(["Premier Li Qiang greeted Wang Yi."])
    assert spans == [(0, 7, "TITLE", 0.5), (8, 16, "PERSON", 0.5), (25, 32, "PERSON", 1.0)]


def test_beam_probabilities_are_marginals(tiny_model):
    nlp = spacy.load(tiny_model)
    ((doc, probs),) = beam_entity_probs(nlp, ["Premier Li Qiang met Wang Yi in Beijing."])
    assert probs and all(0.0 <= p <= 1.0 for p in probs.values())
    # At most one entity starts at a token in any one analysis, so those marginals sum to <= 1.
    by_start = defaultdict(float)
    for (start, _, _), p in probs.items():
        by_start[start] += p
    assert max(by_start.values()) <= 1.0 + 1e-6
    # The model was trained on this sentence: its entities are near certain.
    assert probs.get((1, 3, "PERSON"), 0) > 0.5


def test_beam_masks_shortcut_matches_asking_every_move(tiny_model, monkeypatch):
    import pipeline.confidence as confidence

    nlp = spacy.load(tiny_model)
    texts = ["Premier Li Qiang met Wang Yi in Beijing.", "Governor  Xu Kunlin \n\n studied the Constitution .", "X"]
    fast = beam_entity_probs(nlp, texts)
    ask_all = confidence._Validity.mask
    monkeypatch.setattr(confidence._Validity, "mask", lambda self, state, preset: ask_all(self, state, True))
    exact = beam_entity_probs(nlp, texts)
    for (_, p1), (_, p2) in zip(fast, exact):
        assert p1.keys() == p2.keys() and all(p1[k] == pytest.approx(p2[k]) for k in p1)


def test_beam_of_one_is_the_greedy_decoder(tiny_model):
    nlp = spacy.load(tiny_model)
    for doc, (_, probs) in zip(nlp.pipe(SENTENCES), beam_entity_probs(nlp, SENTENCES, beam_width=1)):
        assert probs == {(e.start, e.end, e.label_): 1.0 for e in doc.ents}


def test_diverse_top_penalises_near_copies():
    texts = [
        "Li Qiang chaired the State Council executive meeting on grain.",
        "Li Qiang chaired the State Council executive meeting on grain!",
        "The provincial people's congress adopted the regulations on black soil.",
    ]
    scores = [1.0, 0.99, 0.5]
    assert [i for i, _ in diverse_top(texts, scores, 2, diversity=0.0)] == [0, 1]
    picked = diverse_top(texts, scores, 2, diversity=1.0)
    assert [i for i, _ in picked] == [0, 2]
    assert picked[0][1] == 0.0 and picked[1][1] < 0.2


def test_rank_skips_annotated_and_returns_n(tiny_model):
    nlp = spacy.load(tiny_model)
    records = [Record(t, [], {"doc_id": f"r-{i}"}) for i, t in enumerate(SENTENCES[:6])]
    picks = rank(nlp, records, 3, exclude={"r-0", "r-1"})
    assert len(picks) == 3 and len({c.doc_id for c in picks}) == 3
    assert not {"r-0", "r-1"} & {c.doc_id for c in picks}
    assert all(c.uncertainty >= 0 for c in picks)


SENTENCES = [
    "Premier Li Qiang met Wang Yi in Beijing.",
    "Governor Xu Kunlin studied the 14th Five-Year Plan.",
    "Wang Yi praised the Two Safeguards.",
    "Secretary Huang Qiang cited the Constitution.",
    "The committee discussed grain prices and rural roads.",
    "Vice Governor Sun Wei inspected flood defences in Jilin.",
    "Delegates reviewed the Supervision Law and the Chinese Dream.",
]


def synthetic_gold(n: int, seed: int = 0) -> list[Record]:
    """Short documents with every label, built from parts so offsets are exact."""
    rng = random.Random(seed)
    names = ["Li Qiang", "Wang Yi", "Xu Kunlin", "Huang Qiang", "Sun Wei", "Ma Xingrui", "Hu Heping", "Liang Yan"]
    titles = ["Governor", "Premier", "Party Secretary", "Vice Governor", "Secretary-General"]
    slogans = ["Two Safeguards", "Chinese Dream", "Four Confidences", "Beautiful China"]
    documents = ["14th Five-Year Plan", "Constitution", "Supervision Law", "eight-point regulation"]
    records = []
    for i in range(n):
        parts = [(rng.choice(titles), "TITLE"), (" ", None), (rng.choice(names), "PERSON"),
                 (rng.choice([" stressed the ", " studied the ", " spoke on the "]), None),
                 (rng.choice(slogans), "SLOGAN"), (" and the ", None), (rng.choice(documents), "DOCUMENT"),
                 (f" at meeting {i}.", None)]
        text, spans = "", []
        for piece, label in parts:
            if label:
                spans.append((len(text), len(text) + len(piece), label))
            text += piece
        records.append(Record(text, spans, {"doc_id": f"s-{i}"}))
    return records


def test_simulation_writes_results_and_curve(tmp_path):
    config = SimulationConfig(rounds=2, step=3, test_size=6, seeds=(0, 1), updates=12, pool_sample=8, beam_width=4)
    result = simulate(synthetic_gold(20), config, log=lambda line: None)
    summary = result.summary()
    assert set(summary) == {"uncertainty", "random"}
    assert [r["n_annotated"] for r in summary["random"]] == [3, 6, 9]
    # Both strategies start from the same seed set and model.
    assert summary["random"][0]["f1_mean"] == summary["uncertainty"][0]["f1_mean"]
    assert all(0.0 <= r["f1_min"] <= r["f1_mean"] <= r["f1_max"] <= 1.0 for rows in summary.values() for r in rows)
    results, curve, report = write_report(result, tmp_path / "al")
    data = json.loads(results.read_text())
    assert data["n_test"] == 6 and data["config"]["seeds"] == [0, 1] and set(data["curves"]["random"]) == {"0", "1"}
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = [line for line in report.read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3 and table[1].startswith("| 3 | ") and table[2].endswith(" of 2 |")
    assert "![F1 against documents annotated](curve.png)" in report.read_text()
    o = data["overall"]
    assert len(o["gap_per_seed"]) == 2 and o["seeds_won"] == sum(g > 0 for g in o["gap_per_seed"])
    assert o["sign_test_p"] == {0: 1.0, 1: 0.75, 2: 0.25}[o["seeds_won"]]
    assert f"ahead in {o['seeds_won']} of 2 seeds" in report.read_text()


def test_simulation_needs_enough_gold():
    with pytest.raises(ReadoutError, match="needs 66 gold documents") as err:
        simulate(synthetic_gold(10), SimulationConfig(rounds=2, step=2, test_size=60))
    assert err.value.code == "R016"


def test_cli_select_ranks_by_default(tiny_model, tmp_path):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [Record(t, [], {"doc_id": f"c-{i}"}) for i, t in enumerate(SENTENCES)])
    out = tmp_path / "picked.jsonl"
    result = CliRunner().invoke(
        app, ["select", str(docs), "--model", str(tiny_model), "--n", "2", "-o", str(out),
              "--annotated", str(tmp_path / "none")],
    )
    assert result.exit_code == 0, result.output
    picked = list(read_jsonl(out))
    assert len(picked) == 2 and all("uncertainty" in r.meta for r in picked)
    result = CliRunner().invoke(app, ["select", str(docs), "--model", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "[R016]" in result.output


def test_cli_simulate(tmp_path):
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, synthetic_gold(16))
    result = CliRunner().invoke(
        app, ["select", "simulate", "--gold", str(gold), "--rounds", "1", "--step", "3", "--test-size", "6",
              "--updates", "6", "--pool-sample", "5", "--beam-width", "4", "--out", str(tmp_path / "al")],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "al" / "results.json").exists() and (tmp_path / "al" / "curve.png").exists()


@pytest.mark.doccano
def test_cli_select_push(tiny_model, tmp_path, doccano, admin_env, client, project_name, monkeypatch):
    monkeypatch.setenv("DOCCANO_URL", doccano.url)
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [Record(t, [], {"doc_id": f"c-{i}"}) for i, t in enumerate(SENTENCES)])
    args = ["select", str(docs), "--model", str(tiny_model), "--n", "3", "--push", "--project", project_name,
            "--annotated", str(tmp_path / "none")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    project, _ = require_project(client, project_name)
    examples = list(client.list_examples(project.id))
    assert len(examples) == 3 and all("uncertainty" in ex.meta for ex in examples)


def test_simulation_with_a_target_domain():
    config = SimulationConfig(rounds=2, step=3, test_size=4, seeds=(0,), updates=12, pool_sample=20, beam_width=4)
    home, target = synthetic_gold(12), synthetic_gold(7)
    result = simulate(home, config, log=lambda line: None, target=target)
    assert (result.n_test, result.n_target_pool, result.n_pool) == (4, 3, 15)
    for points in (result.curves[s][0] for s in ("uncertainty", "random")):
        assert points[0].n_target == 0  # the seed set comes from the home documents only
        assert all(0 <= p.n_target <= min(3, p.n_annotated) for p in points)
    with pytest.raises(ReadoutError, match="more than 4 target documents"):
        simulate(home, config, target=target[:4])
