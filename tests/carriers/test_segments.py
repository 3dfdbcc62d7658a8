"""SMS segments in Python and in the browser: one table of cases, same answers.

tests/segment_cases.json holds hand-computed expectations. Every case runs
against carriers/segments.py and, through one Node process, against
static/console/js/segments.js; the JS result must also equal Python's in full.
Seeded random texts then check that the two agree beyond the table.
"""

import dataclasses
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from carriers import segments

HERE = Path(__file__).resolve().parent
CASES = json.loads((HERE.parent / "segment_cases.json").read_text(encoding="utf-8"))
RUNNER = HERE / "segments_runner.mjs"

# Pieces random texts are built from: GSM and extension characters, look-alikes,
# other scripts, emoji parts (so ZWJ, modifiers and regional indicators combine
# in odd ways), long-established combining marks, CR and LF.
GSM_TOKENS = list(segments.GSM_BASIC) + list(segments.GSM_EXTENSION)
OTHER_TOKENS = [
    *"’“”…—\u00a0\u200b\u02c6çд漢`\t",
    *"\U0001f600\U0001f44d\U0001f468\U0001f469\U0001f467\u2764\U0001f3f4",
    *"\U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7",  # regional indicators
    *"\U0001f3fb\U0001f3fd\u200d\ufe0f\u20e3\U000e0067\U000e007f",
    *(chr(code) for code in range(0x0300, 0x0370, 7)),  # combining diacritics
    "\r",
    "\n",
    "\r\n",
]
TOKENS = GSM_TOKENS + OTHER_TOKENS * 3


def random_texts(count: int, seed: int = 20240611) -> list[str]:
    """Deterministic texts of 0 to ~400 code points, a third of them pure GSM."""
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        pool = GSM_TOKENS if i % 3 == 0 else TOKENS
        length = rng.choice([0, 1, 2, 5, 70, 140, 160, 161, 200, 320, 400])
        texts.append("".join(rng.choice(pool) for _ in range(length)))
    return texts


RANDOM_TEXTS = random_texts(300)


def run_python(case: dict):
    """The Python result for a case, as plain data comparable with Node's JSON."""
    function = case.get("function", "segment")
    if function == "segment":
        return segments.segment(case["text"]).to_dict()
    if function == "check_limit":
        return segments.check_limit(case["text"], case["limit"])
    return getattr(segments, function)(case["text"])


def run_node(cases: list[dict], tmp_dir: Path) -> dict:
    """Run all cases through segments.js in one Node process."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the JS implementation is not tested")
    cases_file = tmp_dir / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="utf-8")
    done = subprocess.run(
        [node, str(RUNNER), str(cases_file)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert len(output["results"]) == len(cases)
    return output


@pytest.fixture(scope="module")
def node_table(tmp_path_factory):
    return run_node(CASES, tmp_path_factory.mktemp("segments_table"))


def by_name(name: str) -> tuple[int, dict]:
    return next((i, c) for i, c in enumerate(CASES) if c["name"] == name)


def expected_subset(case: dict, result):
    """The part of ``result`` the case has an expectation for."""
    if case.get("function", "segment") != "segment":
        return result
    assert set(case["expect"]) <= set(result), "unknown field in expect"
    return {key: result[key] for key in case["expect"]}


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def septets(text: str) -> int:
    return sum(2 if ch in segments.GSM_EXTENSION else 1 for ch in text)


def assert_invariants(text: str, result: dict) -> None:
    """Properties every segment() result has, whatever the text."""
    gsm = all(ch in segments.GSM_BASIC + segments.GSM_EXTENSION for ch in text)
    assert result["encoding"] == ("GSM-7" if gsm else "UCS-2")
    cost = septets if gsm else utf16_units
    single, multi = (160, 153) if gsm else (70, 67)
    parts = result["parts"]
    assert "".join(parts) == text
    assert result["segments"] == len(parts) == (0 if not text else len(parts))
    assert all(parts)
    assert result["units"] == cost(text)
    assert result["per_segment"] == (multi if len(parts) > 1 else single)
    assert all(cost(part) <= result["per_segment"] for part in parts)
    used = cost(parts[-1]) if parts else 0
    assert result["units_used_in_segment"] == used
    assert result["units_left_in_segment"] == result["per_segment"] - used
    clusters = segments.graphemes(text)
    assert "".join(clusters) == text
    assert result["characters"] == len(clusters)
    assert bool(result["ucs2_characters"]) == (not gsm)
    if len(parts) > 1 and all(cost(c) <= multi for c in clusters):
        # Parts end on cluster boundaries, and greedily: the first cluster of
        # each part did not fit the room left in the part before.
        bounds, offset = set(), 0
        for cluster in clusters:
            offset += len(cluster)
            bounds.add(offset)
        offset = 0
        for part, following in zip(parts, parts[1:], strict=False):
            offset += len(part)
            assert offset in bounds
            first = segments.graphemes(following)[0]
            assert cost(part) + cost(first) > multi


# --- The table ----------------------------------------------------------------


def test_case_names_are_unique():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_matches_table(case):
    result = run_python(case)
    assert expected_subset(case, result) == case["expect"], case["why"]
    if case.get("function", "segment") == "segment":
        assert_invariants(case["text"], result)


@pytest.mark.parametrize("name", [c["name"] for c in CASES])
def test_js_matches_table_and_python(name, node_table):
    index, case = by_name(name)
    result = node_table["results"][index]
    assert expected_subset(case, result) == case["expect"], case["why"]
    assert result == run_python(case)


def test_js_tables_equal_python_tables(node_table):
    python = json.loads(
        json.dumps(
            {
                "GSM_BASIC": segments.GSM_BASIC,
                "GSM_EXTENSION": segments.GSM_EXTENSION,
                "CAPACITY": segments.CAPACITY,
                "SMART_REPLACEMENTS": segments.SMART_REPLACEMENTS,
                "LIMITS": segments.LIMITS,
            }
        )
    )
    assert node_table["constants"] == python


# --- The tables themselves -------------------------------------------------------


def test_gsm_tables():
    assert len(segments.GSM_BASIC) == len(set(segments.GSM_BASIC)) == 127
    assert "\x1b" not in segments.GSM_BASIC
    assert not set(segments.GSM_BASIC) & set(segments.GSM_EXTENSION)
    assert "ç" not in segments.GSM_BASIC and "`" not in segments.GSM_BASIC


def test_smart_replacements_turn_non_gsm_into_gsm():
    for char, replacement in segments.SMART_REPLACEMENTS.items():
        assert not segments.is_gsm7(char), char
        assert segments.is_gsm7(replacement), char


def test_segment_info_is_frozen():
    info = segments.segment("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.segments = 2  # type: ignore[misc]


def test_unknown_limit_is_an_error():
    with pytest.raises(ValueError):
        segments.check_limit("hi", "premium")


def test_smart_replace_removes_the_ucs2_characters_it_knows():
    text = "It’s “fine” — really…\u00a0ok\u200b"
    assert segments.segment(segments.smart_replace(text)).encoding == "GSM-7"


# --- Beyond the table -------------------------------------------------------------


def random_cases() -> list[dict]:
    cases = []
    for text in RANDOM_TEXTS:
        cases += [
            {"function": "segment", "text": text},
            {"function": "graphemes", "text": text},
            {"function": "smart_replace", "text": text},
            {"function": "check_limit", "text": text, "limit": "standard"},
            {"function": "check_limit", "text": text, "limit": "advanced"},
        ]
    return cases


def test_random_texts_invariants_python():
    for text in RANDOM_TEXTS:
        assert_invariants(text, segments.segment(text).to_dict())


def test_random_texts_js_equals_python(tmp_path):
    cases = random_cases()
    results = run_node(cases, tmp_path)["results"]
    for case, result in zip(cases, results, strict=True):
        assert result == run_python(case), case
        if case["function"] == "segment":
            assert_invariants(case["text"], result)


def test_invariants_property():
    hypothesis = pytest.importorskip("hypothesis")
    strategies = hypothesis.strategies

    @hypothesis.settings(max_examples=150, deadline=None, database=None)
    @hypothesis.given(strategies.lists(strategies.sampled_from(TOKENS), max_size=400))
    def check(tokens):
        text = "".join(tokens)
        assert_invariants(text, segments.segment(text).to_dict())

    check()
