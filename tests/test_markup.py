import pytest

from pipeline.errors import ReadoutError
from pipeline.markup import read_markup


def test_offsets_and_metadata(records):
    rec = records[0]
    assert rec.meta == {"doc_id": "t-001", "genre": "party_standing_committee", "province": "Jilin"}
    assert [rec.text[s:e] for s, e, _ in rec.spans] == [
        "Huang Qiang", "Secretary of the Jilin Provincial Party Committee", "Two Safeguards", "14th Five-Year Plan"]
    assert "<" not in rec.text


@pytest.mark.parametrize(
    "body, needle",
    [("<PERSON>Li <TITLE>x</TITLE></PERSON>", "opened inside"), ("Li</PERSON>", "closes nothing"),
     ("<PERSON>Li", "never closed")],
)
def test_markup_errors_name_the_line(tmp_path, body, needle):
    path = tmp_path / "x.tagged"
    path.write_text(f"### doc_id=a\nfirst line\n{body}\n", encoding="utf8")
    with pytest.raises(ReadoutError) as info:
        read_markup(path)
    assert info.value.code == "R012" and f"{path}:3" in str(info.value) and needle in str(info.value)


def test_header_needs_doc_id(tmp_path):
    path = tmp_path / "x.tagged"
    path.write_text("### genre=x\ntext\n", encoding="utf8")
    with pytest.raises(ReadoutError, match="no doc_id"):
        read_markup(path)
