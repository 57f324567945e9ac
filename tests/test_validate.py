import json

import pytest

from pipeline.gold import read_all, read_jsonl
from pipeline.validate import validate_records

from helpers import readout, write_jsonl

TEXT = "Governor Wang Qingxian backed the “Two Safeguards” in Hefei."


def codes(tmp_path, rows):
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    return [e.code for e in validate_records(read_all([path]))]


@pytest.mark.parametrize(
    "span, code",
    [
        ([0, 8, "POST"], "R003"),  # unknown label
        ([9, 9, "PERSON"], "R004"),  # empty
        ([9, 200, "PERSON"], "R005"),  # out of range
        ([8, 22, "PERSON"], "R007"),  # leading space
        ([34, 50, "SLOGAN"], "R008"),  # opening quote inside
        ([35, 50, "SLOGAN"], "R008"),  # closing quote inside
        ([9, 12, "PERSON"], "R009"),  # "Wan" cuts a token
        ([54, 60, "PERSON"], "R008"),  # ends with the sentence's full stop token: "Hefei."
    ],
)
def test_span_errors(tmp_path, span, code):
    assert codes(tmp_path, [{"text": TEXT, "label": [span]}]) == [code]


def test_valid_spans_pass(tmp_path):
    spans = [[0, 8, "TITLE"], [9, 22, "PERSON"], [35, 49, "SLOGAN"]]
    assert codes(tmp_path, [{"text": TEXT, "label": spans}]) == []


def test_overlap(tmp_path):
    assert codes(tmp_path, [{"text": TEXT, "label": [[0, 22, "TITLE"], [9, 22, "PERSON"]]}]) == ["R006"]


def test_duplicate_documents(tmp_path):
    rows = [{"text": TEXT, "label": [], "doc_id": "a"}, {"text": TEXT + " ", "label": [], "doc_id": "b"},
            {"text": "Other text.", "label": [], "doc_id": "a"}]
    errs = validate_records(read_all([write_jsonl(tmp_path / "g.jsonl", rows)]))
    assert [e.code for e in errs] == ["R010", "R010"]
    assert "g.jsonl:2" in str(errs[0]) and "g.jsonl:1" in str(errs[0])  # same text, names both lines
    assert "doc_id 'a'" in str(errs[1])


def test_malformed_lines_name_file_and_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"text": TEXT, "label": []}) + "\n{not json\n", encoding="utf8")
    with pytest.raises(Exception) as info:
        list(read_jsonl(path))
    assert info.value.code == "R001" and f"{path}:2" in str(info.value)


@pytest.mark.parametrize(
    "row, code",
    [({"label": []}, "R002"), ({"text": "  ", "label": []}, "R002"), ({"text": TEXT, "label": [[0, 8]]}, "R011"),
     ({"text": TEXT, "label": "PERSON"}, "R014")],
)
def test_malformed_records(tmp_path, row, code):
    with pytest.raises(Exception) as info:
        list(read_jsonl(write_jsonl(tmp_path / "g.jsonl", [row])))
    assert info.value.code == code and "g.jsonl:1" in str(info.value)


def test_doccano_entities_form_is_read(tmp_path):
    row = {"text": TEXT, "entities": [{"id": 1, "label": "PERSON", "start_offset": 9, "end_offset": 22}], "id": 7}
    (rec,) = read_jsonl(write_jsonl(tmp_path / "g.jsonl", [row]))
    assert rec.spans == [(9, 22, "PERSON")] and rec.meta == {"id": 7}


def test_cli_reports_every_error_and_fails(tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", [{"text": TEXT, "label": [[0, 8, "POST"]]}, {"text": TEXT, "label": []}])
    res = readout("validate", path)
    assert res.returncode == 1
    assert f"{path}:1: [R003]" in res.stdout and f"{path}:2: [R010]" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_convert_writes_nothing_on_bad_gold(tmp_path):
    gold = tmp_path / "gold"
    gold.mkdir()
    write_jsonl(gold / "g.jsonl", [{"text": TEXT, "label": [[9, 12, "PERSON"]], "doc_id": "x"}])
    res = readout("convert", gold, "--output", tmp_path / "corpus", "--manifest", tmp_path / "splits.json")
    assert res.returncode == 1 and "[R009]" in res.stdout
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "splits.json").exists()
