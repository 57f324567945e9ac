"""A real `spacy train` on tiny data (conftest's trained_model), then loading and tagging."""

import json

import spacy

from helpers import ROOT, readout


def test_trained_pipeline_loads_and_tags(trained_model):
    nlp = spacy.load(trained_model)
    assert nlp.pipe_names == ["tok2vec", "ner", "entity_trimmer"]
    assert set(nlp.get_pipe("ner").labels) == {"PERSON", "TITLE", "SLOGAN", "DOCUMENT"}
    doc = nlp("On the 19th, Huang Qiang, Secretary of the Jilin Provincial Party Committee, stressed the “Two Safeguards”.")
    assert doc.has_annotation("ENT_IOB")
    assert "PERSON" in {e.label_ for e in doc.ents}  # 120 steps on the same sentences is enough to overfit


def test_config_registers_readout_functions_without_code():
    # The augmenter resolves through the entry point: no --code argument anywhere.
    config = spacy.util.load_config(ROOT / "configs" / "cpu.cfg")
    assert config["corpora"]["train"]["augmenter"]["@augmenters"] == "readout.orth_variants.v1"
    assert spacy.registry.augmenters.get("readout.orth_variants.v1")


def test_annotate_sample_files(trained_model, tmp_path):
    out = tmp_path / "out.jsonl"
    res = readout("annotate", trained_model, ROOT / "samples" / "readout.txt", "--output", out)
    assert res.returncode == 0, res.stdout + res.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["text"].startswith("PROVINCIAL PARTY COMMITTEE") and row["source"].endswith("readout.txt")
    assert row["label"], "the model tagged nothing in the sample"
    assert all(0 <= s < e <= len(row["text"]) and lb in {"PERSON", "TITLE", "SLOGAN", "DOCUMENT"} for s, e, lb in row["label"])
    assert "PERSON" in res.stdout  # the readable view names the labels


def test_annotate_text_to_stdout(trained_model):
    res = readout("annotate", trained_model, "--text", "Huang Qiang, Secretary of the Jilin Provincial Party Committee, spoke.")
    row = json.loads(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0 and row["text"].startswith("Huang Qiang")
    assert any(row["text"][s:e] == "Huang Qiang" for s, e, _ in row["label"])


def test_annotate_missing_model_is_a_clear_error(tmp_path):
    res = readout("annotate", tmp_path / "nope", "--text", "x")
    assert res.returncode == 1 and "[R016]" in res.stdout and "Traceback" not in res.stderr


def test_compare_model_with_itself(trained_model, tmp_path, gold_dir):
    out = tmp_path / "compare.json"
    res = readout("compare", trained_model, trained_model, gold_dir, "--n-boot", "100", "--json", out)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(out.read_text())
    assert doc["n_docs"] > 0 and set(doc["f1"]) == {"PERSON", "TITLE", "SLOGAN", "DOCUMENT", "micro"}
    assert all(r["diff"] == 0 and r["p_not_better"] == 1.0 for r in doc["f1"].values())
    assert "P(B ≤ A)" in res.stdout
