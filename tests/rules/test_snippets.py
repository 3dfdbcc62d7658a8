"""The words a search found, marked in what the console shows."""

from chatserver.rules.snippets import matches, snippet, words


def test_the_words_of_a_query_are_letters_and_digits_only():
    assert words("Roof & gutters:* | 503-555") == ["roof", "gutters", "503", "555"]
    assert words("a b c d e f g h i j") == list("abcdefgh")  # eight at most


def test_whole_words_a_term_begins_are_marked_else_the_term_inside_a_word():
    text = "Roofing, reroof and ROOF"
    assert matches(text, ["roof"]) == [(0, 7), (20, 24)]
    # Nothing begins with the term: the LIKE fallback found it inside a word.
    assert matches("the reroof", ["eroo"]) == [(5, 9)]
    # Overlapping matches merge.
    assert matches("gutters", ["gut", "gutter"]) == [(0, 7)]


def test_a_long_text_is_cut_around_its_first_match_at_word_boundaries():
    text = " ".join(f"word{n}" for n in range(60)) + " the gutters leak " + "tail " * 40
    parts = snippet(text, ["gutter"], length=80)
    shown = "".join(piece for piece, _ in parts)
    assert parts[0] == ["\u2026", False] and parts[-1] == ["\u2026", False]
    assert ["gutters", True] in parts
    assert len(shown) <= 84
    assert not shown.startswith("\u2026ord")  # cut between words, not inside one


def test_emoji_and_other_characters_stay_whole():
    assert snippet("Gutters 🌧️ overflowing", ["overflow"]) == [
        ["Gutters 🌧️ ", False],
        ["overflowing", True],
    ]
