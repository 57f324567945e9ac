"""Shared test helpers (imported by tests; fixtures live in conftest.py)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Small hand-written documents covering every label; offsets are computed, not typed.
TAGGED = """\
### doc_id=t-001 genre=party_standing_committee province=Jilin
On the 19th, <PERSON>Huang Qiang</PERSON>, <TITLE>Secretary of the Jilin Provincial Party Committee</TITLE>, stressed the “<SLOGAN>Two Safeguards</SLOGAN>” and the <DOCUMENT>14th Five-Year Plan</DOCUMENT>.
### doc_id=t-002 genre=government_executive province=Anhui
<TITLE>Governor</TITLE> <PERSON>Wang Qingxian</PERSON> said the <DOCUMENT>Implementation Plan for Digital Government (2023-2025)</DOCUMENT> serves "<SLOGAN>Four Consciousnesses</SLOGAN>".
### doc_id=t-003 genre=commentary province=Central
<PERSON>Li Qiang</PERSON>'s report cited the <DOCUMENT>eight-point regulation</DOCUMENT> and the <SLOGAN>Chinese Dream</SLOGAN>; <TITLE>Vice Premier</TITLE> <PERSON>Ding Xuexiang</PERSON> agreed.
### doc_id=t-004 genre=appointments province=Hubei
<PERSON>Wang Zhonglin</PERSON> was appointed <TITLE>Governor of Hubei Province</TITLE> under the <DOCUMENT>Constitution</DOCUMENT> and the “<SLOGAN>Four Confidences</SLOGAN>”.
### doc_id=t-005 genre=study_session province=Jiangsu
<PERSON>Xin Changxing</PERSON>, <TITLE>Party Secretary</TITLE>, studied <SLOGAN>Xi Jinping Thought on the Rule of Law</SLOGAN> and the <DOCUMENT>Supervision Law</DOCUMENT> with <PERSON>Xu Kunlin</PERSON>, <TITLE>Governor</TITLE>.
### doc_id=t-006 genre=cppcc_session province=Fujian
<PERSON>Teng Jiacai</PERSON>, <TITLE>Chairman of the Fujian Provincial CPPCC Committee</TITLE>, praised the “<SLOGAN>Belt and Road Initiative</SLOGAN>” and the <DOCUMENT>Regulations on Political Consultation</DOCUMENT>.
"""


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf8")
    return path


def readout(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Runs the installed `readout` command as a user would."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "readout"), *map(str, args)], cwd=cwd, capture_output=True, text=True
    )
