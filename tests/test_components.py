import spacy


def test_trimmer_drops_quotes_and_punctuation_at_edges(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("readout_entity_trimmer")
    doc = nlp.make_doc("He cited 《Qinghai Lake Regulations》, the “Two Safeguards,” and the Plan (2021-2025).")
    spans = [("《Qinghai Lake Regulations》", "DOCUMENT"), ("“Two Safeguards,”", "SLOGAN"), ("Plan (2021-2025)", "DOCUMENT")]
    doc.ents = [doc.char_span(doc.text.index(t), doc.text.index(t) + len(t), label=lb) for t, lb in spans]
    nlp.to_disk(tmp_path / "p")
    out = spacy.load(tmp_path / "p").get_pipe("readout_entity_trimmer")(doc)
    assert [(e.text, e.label_) for e in out.ents] == [
        ("Qinghai Lake Regulations", "DOCUMENT"), ("Two Safeguards", "SLOGAN"), ("Plan (2021-2025)", "DOCUMENT")]


def test_trimmer_removes_a_span_of_only_punctuation():
    nlp = spacy.blank("en")
    trimmer = nlp.add_pipe("readout_entity_trimmer", config={"strip": "“”"})
    doc = nlp.make_doc("“ ” Li")
    doc.ents = [doc.char_span(0, 3, label="SLOGAN"), doc.char_span(4, 6, label="PERSON")]
    assert [(e.text, e.label_) for e in trimmer(doc).ents] == [("Li", "PERSON")]
