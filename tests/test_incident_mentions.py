"""One article read for incidents: the sentence a fact stands in, and its mentions."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.facts import Attack, Casualties, Location, NewsFacts
from service.incidents.grouping import _days
from service.incidents.mentions import ArticleIntake, main_place, read_article, sentence_at

TEXT = (
    "From 4 a.m. on 24 February until 24 March, the Office recorded 2,788 casualties. "
    "Mr. Smith said so. \u201cIt is grim,\u201d he said.\nA new line starts here."
)


@pytest.mark.parametrize(
    ("word", "sentence"),
    [
        ("2,788", "From 4 a.m. on 24 February until 24 March, the Office recorded 2,788 "
                  "casualties."),  # an abbreviation before a lower-case word ends nothing
        ("grim", "\u201cIt is grim,\u201d he said."),
        ("new line", "A new line starts here."),
    ],
)  # fmt: skip
def test_a_fact_s_sentence_runs_from_stop_to_stop(word: str, sentence: str) -> None:
    assert sentence_at(TEXT, TEXT.index(word)) == sentence


TOTALS = (
    "Ukraine: Civilian casualties (24 March 2022) [EN]\n\nFrom 4 a.m. on 24 February 2022, "
    "when the armed attack against Ukraine started, to 24 March 2022, the Office recorded "
    "1,081 civilians killed."
)
STRIKE = "An air strike hit residential areas of Kharkiv on Monday, officials said."


@pytest.mark.parametrize(
    ("text", "casualties", "attack_mentions"),
    [
        # a running total's attacks say how the total came about: no event of their own
        (TOTALS, [(1081, "1,081 civilians killed")], 0),
        # an attack told without a figure in a report of one day is an event
        (STRIKE, [], 1),
    ],
)
def test_a_running_totals_attacks_are_no_incident(
    text: str, casualties: list[tuple[int, str]], attack_mentions: int
) -> None:
    facts = NewsFacts(
        casualties=[Casualties(evidence=e, count=n, outcome="killed") for n, e in casualties],
        attacks=[Attack(evidence=text[text.index("[") if "[" in text else 0 :],
                        target="Ukraine", target_type="other")],
    )  # fmt: skip
    spans = {f"casualties[{i}]": (text.index(e), text.index(e) + len(e))
             for i, (_, e) in enumerate(casualties)}  # fmt: skip
    spans["attacks[0]"] = (text.index(facts.attacks[0].evidence), len(text))
    article = ArticleIntake(id="a", text=text, published=dt.date(2022, 3, 24))
    reading = read_article(article, facts, spans)
    assert [m.kind for m in reading.mentions].count("attack") == attack_mentions
    assert len(reading.series) == len(casualties)


def test_an_articles_place_is_at_home_before_a_namesake_abroad() -> None:
    # "Nippes" is a Haitian department the gazetteer lacks, and a district of Cologne
    text = "Haiti earthquake\n\nIn the Republic of Haiti, 724 people were killed in Nippes."
    evidence = "724 people were killed"
    facts = NewsFacts(
        locations=[
            Location(evidence="Haiti", name="Haiti"),
            Location(evidence="Republic of Haiti", name="Republic of Haiti"),
            Location(evidence="Nippes", name="Nippes"),
        ],
        casualties=[Casualties(evidence=evidence, count=724, outcome="killed", location="Nippes")],
    )
    spans = {
        "locations[0]": (0, 5),
        "locations[1]": (text.index("Republic"), text.index("Republic") + 17),
        "locations[2]": (text.index("Nippes"), text.index("Nippes") + 6),
        "casualties[0]": (text.index(evidence), text.index(evidence) + len(evidence)),
    }
    reading = read_article(
        ArticleIntake(id="a", text=text, published=dt.date(2021, 8, 15)), facts, spans
    )
    assert [m.place.country if m.place else None for m in reading.mentions] == ["HT"]


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("BATON ROUGE, La. (AP) - Police say two men were killed.", "Baton Rouge"),
        # after the headline and the page's "Posted:" line
        (
            "Drive-by shooters kill 2 - KSLA News 12 Shreveport\n\nPosted: Sunday, July 19\n\n"
            "BATON ROUGE, La. (AP) - Police say two men were killed.",
            "Baton Rouge",
        ),
        ("Infant among victims\n\nHOUSTON \u2013 Police are searching for clues.", "Houston"),
        ("Five shot\n\nPolice in Houston said five were shot.", None),
    ],
)
def test_a_dateline_opens_one_of_the_first_paragraphs(text: str, town: str | None) -> None:
    facts = NewsFacts(locations=[Location(evidence="U.S.", name="United States")])
    spans = {"locations[0]": (0, 1)}
    place, _, _ = main_place(ArticleIntake(id="a", text=text), facts, spans)
    assert (place.name if place else None) == (town or "United States")


@pytest.mark.parametrize(
    ("name", "kind", "named"),
    [
        ("Ganj Abad", "city", True),  # a village no gazetteer holds: as telling as a victim
        ("Farah", "city", False),  # a town the gazetteer holds: every report there names it
        ("Fatal Shooting", None, False),  # a headline's words read as a place
    ],
)
def test_a_village_no_gazetteer_holds_is_a_name_reports_share(
    name: str, kind: str | None, named: bool
) -> None:
    text = f"Airstrike\n\nAn air strike on {name} killed 30 people."
    evidence = "killed 30 people"
    facts = NewsFacts(
        locations=[Location(evidence=name, name=name, kind=kind)],
        casualties=[Casualties(evidence=evidence, count=30, outcome="killed")],
    )
    spans = {
        "locations[0]": (text.index(name), text.index(name) + len(name)),
        "casualties[0]": (text.index(evidence), text.index(evidence) + len(evidence)),
    }
    reading = read_article(ArticleIntake(id="a", text=text), facts, spans)
    assert (name in reading.mentions[0].names) is named


HOUSTON = (
    "HOUSTON - Five people were shot in a drive-by shooting in south Houston late Sunday. "
    "Two men were hit in the 5100 block of Idaho. Police said a third man was wounded on "
    "Idaho. Two police officers were hurt."
)


@pytest.mark.parametrize(
    ("facts", "injured", "town"),
    [
        # the shot, then a part of them hurt: the injured are the shot less the killed
        ([("killed_or_injured", 5, "Five people were shot", "Houston"),
          ("injured", 2, "Two police officers were hurt", "Houston")], 5, "Houston"),
        # the injured told first: the article's own count
        ([("injured", 5, "Five people were shot", "Houston"),
          ("killed_or_injured", 2, "Two men were hit", "Houston")], 5, "Houston"),
        # a street named after a state names the mention's place less than the city does,
        # however often it is named
        ([("injured", 5, "Five people were shot", "Houston"),
          ("killed_or_injured", 2, "Two men were hit", "Idaho"),
          ("injured", 1, "a third man was wounded", "Idaho")], 5, "Houston"),
    ],
)  # fmt: skip
def test_a_mention_reads_the_injured_and_the_place_as_a_reader_would(
    facts: list[tuple[str, int, str, str]], injured: int, town: str
) -> None:
    news = NewsFacts(
        casualties=[Casualties(evidence=e, count=n, outcome=o, location=where)  # type: ignore[arg-type]
                    for o, n, e, where in facts]
    )  # fmt: skip
    spans = {f"casualties[{i}]": (HOUSTON.index(e), HOUSTON.index(e) + len(e))
             for i, (_, _, e, _) in enumerate(facts)}  # fmt: skip
    article = ArticleIntake(id="a", text=HOUSTON, published=dt.date(2016, 2, 22))
    (mention,) = read_article(article, news, spans).mentions
    assert {r.measure: r.value for r in mention.reports}["injured"] == injured
    assert mention.place is not None and mention.place.name == town


def test_an_event_the_article_recalls_is_a_mention_of_its_own_day_only() -> None:
    text = (
        "Five people were shot at a block party in Detroit on Sunday. "
        "On June 20, 11 were shot at another block party."
    )
    facts = NewsFacts(casualties=[
        Casualties(evidence="Five people were shot", count=5, outcome="killed_or_injured"),
        Casualties(evidence="11 were shot", count=11, outcome="killed_or_injured"),
    ])  # fmt: skip
    spans = {f"casualties[{i}]": (text.index(c.evidence), text.index(c.evidence) + len(c.evidence))
             for i, c in enumerate(facts.casualties)}  # fmt: skip
    article = ArticleIntake(id="a", text=text, published=dt.date(2015, 6, 29))
    own, recalled = read_article(article, facts, spans).mentions
    assert (own.recalled, recalled.recalled) == (False, True)
    assert recalled.date is not None and recalled.date.start == dt.date(2015, 6, 20)
    assert _days(recalled) == {dt.date(2015, 6, 20)}  # not its report's publication days
    assert dt.date(2015, 6, 29) in _days(own)
