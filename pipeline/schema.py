"""Label schema v1 (annotations/GUIDELINES.md): the one place labels are named."""

LABELS = ("PERSON", "TITLE", "SLOGAN", "DOCUMENT")

# doccano label colours and shortcut keys, also used by displaCy in reports.
COLORS = {
    "PERSON": "#7aecec",
    "TITLE": "#feca74",
    "SLOGAN": "#ff9561",
    "DOCUMENT": "#c887fb",
}
SHORTCUTS = {"PERSON": "p", "TITLE": "t", "SLOGAN": "s", "DOCUMENT": "d"}

# Characters a span may not start or end with: whitespace is checked separately.
QUOTES = "\"'“”‘’《》「」『』«»`´"
EDGE_PUNCT = QUOTES + ".,;:!?()[]{}"
