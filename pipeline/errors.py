"""Catalogue of user-facing errors with stable codes, so tests and users can grep them."""

from enum import Enum


class E(str, Enum):
    """Error codes. The message is a format string filled by `ReadoutError`."""

    R001 = "invalid JSON: {detail}"
    R002 = "missing or empty 'text'"
    R003 = "unknown label {label!r} (expected one of {labels})"
    R004 = "empty span [{start}, {end}]"
    R005 = "span [{start}, {end}] out of range for text of length {length}"
    R006 = "span [{start}, {end}, {label}] overlaps span [{ostart}, {oend}, {olabel}]"
    R007 = "span [{start}, {end}, {label}] {text!r} has leading or trailing whitespace"
    R008 = "span [{start}, {end}, {label}] {text!r} starts or ends with a quote mark or punctuation"
    R009 = "span [{start}, {end}, {label}] {text!r} does not fall on token boundaries (tokens: {tokens})"
    R010 = "duplicate document: same {what} as {other}"
    R011 = "malformed span {span!r}: expected [start, end, LABEL]"
    R012 = "markup: {detail}"
    R013 = "file not found: {path}"
    R014 = "'label' must be a list of [start, end, LABEL]"
    R015 = "split: {detail}"
    R016 = "model: {detail}"
    R017 = "doccano: {detail}"
    R018 = "merge conflict: {detail}"
    R019 = "{path} exists; pass --force to replace it"
    R020 = "annotators: {detail}"


class ReadoutError(Exception):
    """An error in user input, reported as `where: [code] message`."""

    def __init__(self, code: E, where: str = "", **fields):
        self.code = code.name
        self.where = where
        self.message = code.value.format(**fields)
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}[{self.code}] {self.message}"


class ReadoutErrors(Exception):
    """Several input errors found in one pass; the CLI prints each, then fails once."""

    def __init__(self, errors: list[ReadoutError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
