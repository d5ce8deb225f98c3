"""Facts from candidates and labels: the rules that outrank or complete the model's labels,
on news text from many events (the model's labels given, as the fake would answer)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.facts import Attack, Casualties
from schemas.labels import NumberKind, TalksItem
from service.candidates.article import NumberCandidate
from service.candidates.nlp import parse
from service.candidates.quantities import words_decide
from service.extraction.labelled import build_facts, distinct, merge_attacks, read_number
from service.extraction.strategies import HYBRID_STEPS
from service.extraction.tasks import Labels


def _facts(nlp: Any, text: str, number_labels: list[str], **labels: Any) -> Any:
    article = parse(text, nlp, HYBRID_STEPS)
    assert len(article.numbers) == len(number_labels), article.numbers
    given = Labels(numbers={i: NumberKind(k) for i, k in enumerate(number_labels)}, **labels)
    return build_facts(article, given)


@pytest.mark.parametrize(
    ("text", "label", "list_name", "value"),
    [
        # the words beside the number outrank the model
        (
            "At least 40 people were killed or injured in the blast.",
            "killed",
            "casualties",
            "killed_or_injured",
        ),
        ("Floods displaced 12,000 families in the delta.", "other", "displacement", "displaced"),
        # a number of things is a figure, whatever the model says
        ("Officials counted 31 active conflict zones.", "killed", "figures", "zones"),
        ("The blast destroyed 200 shops.", "injured", "figures", "shops"),
        # the whole a part is of ("N of the M") counts no casualties
        ("Some 60 of the camp's 900 residents were hurt.", "injured", "figures", "residents"),
    ],
)
def test_the_numbers_own_words_decide(
    nlp: Any, text: str, label: str, list_name: str, value: str
) -> None:
    labels = [label] * len(parse(text, nlp, HYBRID_STEPS).numbers)
    facts = _facts(nlp, text, labels)
    found = getattr(facts, list_name)
    assert found, facts
    fact = found[-1]
    field = {"casualties": "outcome", "displacement": "movement", "figures": "unit"}[list_name]
    assert getattr(fact, field) == value


def test_one_is_not_a_figure(nlp: Any) -> None:
    facts = _facts(nlp, "The rebels now hold only one city in the region.", ["other"])
    assert facts.figures == []


def test_a_headline_and_its_body_report_one_casualty_fact(nlp: Any) -> None:
    text = "Eight killed in market strike\n\nThe strike on the market killed eight people."
    facts = _facts(nlp, text, ["killed", "killed"])
    assert [(c.count, c.outcome) for c in facts.casualties] == [(8, "killed")]
    [attack] = facts.attacks
    assert (attack.target, attack.target_type) == ("the market", "other")


def test_attacks_from_the_parse_with_type_and_place(nlp: Any) -> None:
    text = (
        "Shelling hit a hospital in Khartoum on Monday.\n\nThe army denies shelling the hospital."
    )
    facts = _facts(nlp, text, [])
    [attack] = facts.attacks  # the second sentence is the same target: merged
    assert (attack.target_type, attack.location) == ("hospital", "Khartoum")
    assert attack.evidence == "Shelling hit a hospital in Khartoum on Monday."


def test_talks_take_round_format_and_venue_from_the_words(nlp: Any) -> None:
    text = "Sudanese and RSF envoys met in Jeddah for a second round of talks by video link."
    facts = _facts(
        nlp, text, [], talks={0: TalksItem(parties=["Sudan", "RSF"], outcome="no_agreement")}
    )
    [talks] = facts.negotiations
    assert (talks.round, talks.format, talks.venue) == (2, "video", "Jeddah")
    assert talks.parties == ["Sudan", "RSF"]


@pytest.mark.parametrize(
    ("text", "talks"),
    [
        # two sides signing an agreement held talks, whatever the model answered (null)
        ("The Indonesian government and rebels from the Free Aceh Movement signed a "
         "historic peace deal in the Finnish capital Helsinki on Monday.",
         [(["Indonesia", "Free Aceh Movement"], "Helsinki", "agreement")]),
        # one signer, or a signing only planned, is not read as talks from the parse
        ("President Saakashvili signed a ceasefire agreement on Friday.", []),
        ("Sudan and South Sudan will sign the deal on Thursday in Addis Ababa.", []),
    ],
)  # fmt: skip
def test_a_signing_by_two_sides_is_talks_ended_in_agreement(
    nlp: Any, text: str, talks: list[Any]
) -> None:
    facts = _facts(nlp, text, [])
    assert [(t.parties, t.venue, t.outcome) for t in facts.negotiations] == talks


def test_distinct_keeps_the_first_of_repeats() -> None:
    a = Casualties(evidence="a", count=8, outcome="killed")
    b = Casualties(evidence="b", count=8, outcome="killed")
    c = Casualties(evidence="c", count=8, outcome="injured")
    d = Casualties(evidence="d", count=8, outcome="killed", population="children")
    assert distinct([a, b, c, d], "count", "outcome", "population") == [a, c]


def test_a_toll_of_people_repeats_one_that_names_them() -> None:
    """A headline's "Killing 16 Villagers" (people) and the body's "16 villagers, including
    children": one toll, the first kept (its place too); one woman and one driver: two."""
    head = Casualties(evidence="a", count=16, outcome="killed", population="people",
                      location="Bihar")  # fmt: skip
    body = Casualties(evidence="b", count=16, outcome="killed", population="children",
                      location="India")  # fmt: skip
    [kept] = distinct([head, body], "count", "outcome", "population")
    assert (kept.evidence, kept.population, kept.location) == ("a", "people", "Bihar")
    driver = Casualties(evidence="c", count=1, outcome="killed", population="people")
    woman = Casualties(evidence="d", count=1, outcome="killed", population="civilians")
    assert distinct([driver, woman], "count", "outcome", "population") == [driver, woman]


@pytest.mark.parametrize(
    ("targets", "kept"),
    [
        (["a theater", "the theater"], ["a theater"]),
        (["the maternity hospital", "the hospital"], ["the maternity hospital"]),
        (["the hospital", "a school"], ["the hospital", "a school"]),
        # the lede's "a school", then its name: one attack, by the fuller name
        (["a school", "the Al-Nour school"], ["the Al-Nour school"]),
        # ... but not when the two are placed apart
        (["a school@Homs", "the Al-Nour school@Hama"], ["a school", "the Al-Nour school"]),
    ],
)
def test_merge_attacks_by_target(targets: list[str], kept: list[str]) -> None:
    from service.extraction.labelled import target_type

    attacks = []
    for written in targets:
        t, _, place = written.partition("@")
        attacks.append(
            Attack(evidence=t, target=t, target_type=target_type(t) or "other",
                   location=place or None)
        )  # fmt: skip
    assert [a.target for a in merge_attacks(attacks)] == kept


def test_a_place_is_matched_as_a_word_not_inside_another(nlp: Any) -> None:
    text = "Russia denied it.\n\nRussian missiles struck homes overnight."
    [attack] = _facts(nlp, text, []).attacks
    assert attack.location is None  # "Russia" is not the place of "Russian missiles"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Officials at Unilever said the plant would close.", "Unilever"),
        ("The midfielder left Arsenal last year, the club said.", "Arsenal"),
        ("The group posted the video on Telegram on Sunday.", "Telegram"),
    ],
)
def test_a_lone_word_read_as_an_organisation_is_no_person(nlp: Any, text: str, name: str) -> None:
    from schemas.labels import NameKind

    article = parse(text, nlp, HYBRID_STEPS)
    index = next(i for i, e in enumerate(article.entities) if e.name == name)
    assert article.entities[index].label == "organizations"
    facts = build_facts(article, Labels(names={index: NameKind.person}))
    assert [o.name for o in facts.organizations] == [name] and facts.people == []


@pytest.mark.parametrize(
    ("answer", "speaker"),
    [
        ("Chinese President Xi Jinping", "Xi Jinping"),  # the article's own name for them
        ("Xi Jinping", "Xi Jinping"),
        ("Red Cross", "Red Cross"),  # no person named: the answer as given
    ],
)
def test_a_speaker_answer_is_the_person_it_names(nlp: Any, answer: str, speaker: str) -> None:
    text = (
        "The Red Cross is sending tents.\n\n"
        'Chinese President Xi Jinping has ordered an "all-out" effort to save lives.'
    )
    article = parse(text, nlp, HYBRID_STEPS)
    [quote] = article.quotes
    assert quote.speaker is None  # "ordered" is no verb of saying: the model is asked
    facts = build_facts(article, Labels(speakers={0: answer}))
    assert [q.speaker for q in facts.quotes] == [speaker]


@pytest.mark.parametrize(
    ("text", "label", "list_name", "kind"),
    [
        # counted without harm: people held, swapped, employed, surveyed are figures
        ("Rebels and the army swapped 90 prisoners on Sunday.", "casualties", "figures", None),
        ("The agency employs 300 staff in the region.", "killed", "figures", None),
        # fled, uprooted: displacement, whatever the model said
        ("More than 8,000 residents fled the fighting.", "casualties", "displacement",
         "displaced"),
        ("About 4,000 people have fled across the border into Chad.", "killed",
         "displacement", "fled_abroad"),
        # "casualties" only for words that say killed-or-injured
        ("Doctors said 14 people were wounded in the blast.", "casualties", "casualties",
         "injured"),
        ("The ministry counted 25 casualties after the raid.", "casualties", "casualties",
         "killed_or_injured"),
        # a noun no list calls people is a casualty when it is what was killed...
        ("At least 54 recruits were killed in the blast.", "killed", "casualties", "killed"),
        # ...and a figure when the harm word is about something else
        ("Officials said 43 attacks on clinics killed doctors.", "killed", "figures", None),
    ],
    ids=["swapped", "employed", "fled", "fled-abroad", "wounded", "casualties", "recruits",
         "attacks"],
)  # fmt: skip
def test_numbers_read_as_news_writes_them(
    nlp: Any, text: str, label: str, list_name: str, kind: str | None
) -> None:
    facts = _facts(nlp, text, [label])
    found = getattr(facts, list_name)
    assert len(found) == 1, facts
    if list_name == "casualties":
        assert found[0].outcome == kind
    elif list_name == "displacement":
        assert found[0].movement == kind


def _labelled(nlp: Any, text: str, labels: list[str]) -> Any:
    """Facts with the model's labels for the numbers that need reading only (the others
    are never asked: their words decide)."""
    article = parse(text, nlp, HYBRID_STEPS)
    asked = [i for i, n in enumerate(article.numbers) if words_decide(n) is None]
    assert len(asked) == len(labels), article.numbers
    given = Labels(numbers={i: NumberKind(k) for i, k in zip(asked, labels, strict=True)})
    return build_facts(article, given)


@pytest.mark.parametrize(
    ("text", "labels", "casualties", "figures"),
    [
        # things the text has named ("the two sides") are no figure
        ("Officials from the two countries met on Friday.", ["other"], [], []),
        ("The two sides agreed to exchange 300 prisoners.", ["other", "other"], [], [300]),
        # a part of a toll is a casualty of the whole's kind, whatever the model said
        ("The strike killed 28 civilians, including 19 children.", ["other"],
         [(28, "killed", "civilians"), (19, "killed", "children")], []),
        # a count no numeral states, labelled by its words
        ("A man was killed and four people were injured in the shooting.", [],
         [(4, "injured", "people"), (1, "killed", "people")], []),
        ("Four people were shot, one fatally.", [],
         [(4, "killed_or_injured", "people"), (1, "killed", "people")], []),
        # the words beside a count of things or a measure say nothing of people
        ("Eleven more villages have been evacuated.", ["evacuated"], [], [11]),
        ("The refugees will move about 350 kilometers inland.", ["refugees"], [], [350]),
        # each number of a headline's toll has its own harm word
        ("Police: 1 killed, 3 wounded in afternoon shooting", [],
         [(1, "killed", "people"), (3, "injured", "people")], []),
        # kin are people; "hospitalized" is hurt
        ("A gunman shot four relatives, killing two.", [],
         [(4, "killed_or_injured", "people"), (2, "killed", "people")], []),
        ("Four people were hospitalized after the blast.", [], [(4, "injured", "people")], []),
        ("Only 57 people have been found alive.", [], [(57, "rescued", "people")], []),
        # "dead or missing" is a toll of the dead, whatever the model called it
        ("The quake left 87,000 people dead or missing.", ["casualties"],
         [(87000, "killed", "people")], []),
        # rescuers are not the rescued
        ("Some 50,000 troops joined the rescue efforts.", ["rescued"], [], [50000]),
        # ... nor dead, when the clause speaks of rescue and nothing of death
        ("50,000 troops have been deployed to assist in rescue efforts.", ["killed"], [],
         [50000]),
        ("Officials said 3,000 people went missing at sea.", [],
         [(3000, "missing", "people")], []),
        ("Crews rescued 57 people from the rubble.", [],
         [(57, "rescued", "people")], []),
        # one of a group harmed is someone named, not a count; the group is the count
        ("Durham was one of five people shot during a fight.", ["casualties", "other"],
         [(5, "killed_or_injured", "people")], []),
        ("Teen who was 1 of 7 injured in NC Moose Lodge Christmas party shooting speaks out",
         ["other"], [(7, "injured", "people")], []),
        # a small number written with a decimal point is a measurement, kept as a figure
        ("Italian seismologists measured it at 5.8.", ["other"], [], [5.8]),
        ("Officials said only 5 remained.", ["other"], [], []),
        # the men police seek are suspects, not victims
        ("Sheriff: 2 men sought after 7 shot at NC Christmas party", ["casualties"],
         [(7, "killed_or_injured", "people")], [2]),
        # a count of wounds is no count of people; a name's age is no count
        ("Police found at least one gunshot wound to the head.", [], [], []),
        ("The victims were Cynthia Hurd, 54; Tywanza Sanders, 26; and Ethel Lance, 70.",
         [], [], []),
    ],
)  # fmt: skip
def test_counts_named_parted_and_unnumbered(
    nlp: Any, text: str, labels: list[str], casualties: list[Any], figures: list[float]
) -> None:
    facts = _labelled(nlp, text, labels)
    assert [(c.count, c.outcome, c.population) for c in facts.casualties] == casualties
    assert [f.value for f in facts.figures] == figures


@pytest.mark.parametrize(
    ("text", "label", "movement"),
    [
        ("About 14,000 Nigerians fled to Chad last week.", "displaced", "fled_abroad"),
        ("About 14,000 residents fled to Kano last week.", "displaced", "displaced"),
        ("Some 242,000 people are living in besieged areas.", "trapped", "trapped"),
    ],
)
def test_where_they_went_says_how_they_moved(
    nlp: Any, text: str, label: str, movement: str
) -> None:
    [fact] = _labelled(nlp, text, [label]).displacement
    assert fact.movement == movement


@pytest.mark.parametrize(
    ("model", "clause", "kind"),
    [
        # "four people were shot" says harmed, not killed: the model's "killed" is not taken
        ("killed", {"killed_or_injured"}, "casualties"),
        ("injured", {"killed_or_injured"}, "casualties"),
        ("killed", {"killed", "killed_or_injured"}, "killed"),
        ("killed", {"killed"}, "killed"),
        # "two men were also taken to hospital with wounds": no death word, no death
        ("killed", {"injured"}, "injured"),
        ("injured", {"injured"}, "injured"),
        # "four people were shot and wounded": shot and a word of injury, none of death
        ("killed", {"killed_or_injured", "injured"}, "injured"),
        ("casualties", {"killed_or_injured", "injured"}, "casualties"),
    ],
)
def test_shot_is_not_killed_unless_the_words_say_so(
    model: str, clause: set[str], kind: str
) -> None:
    number = NumberCandidate(start=0, end=4, value=4, noun="people", people=True,
                             clause=frozenset(clause))  # fmt: skip
    assert read_number(number, NumberKind(model)) == NumberKind(kind)


@pytest.mark.parametrize(
    ("text", "labels", "casualties"),
    [
        # suspects, or people an arrest word was done to, are no victims of the shooting
        ("Five men arrested in Sunday's fatal shooting.", ["killed"], []),
        ("Police arrested two men after the shooting that killed a boy.", ["killed"],
         [(1, "killed")]),
        ("2 persons of interest arrested in connection to deadly shooting", ["killed"], []),
        ("Four suspects were charged in the fatal shooting.", ["killed"], []),
        ("Four men face charges in the fatal shooting.", ["killed"], []),
        ("One of the suspects pulled a gun before the fatal shooting.", ["killed"], []),
        # the law's own agents doing something are no victims; suffering, they are
        ("As many as seven officers returned fire in the fatal shooting.", ["killed"], []),
        ("Two officers were killed in the shootout.", [], [(2, "killed")]),
        ("Two officers died after the shootout.", [], [(2, "killed")]),
        # people taken to hospital or treated were alive then: hurt, not dead
        ("Two men were taken to a hospital after the fatal shooting.", ["killed"],
         [(2, "injured")]),
        ("Five people sent to area hospitals in fatal Sunday morning shooting", ["killed"],
         [(5, "injured")]),
        # a suspect killed is a casualty (its words decide: never asked)
        ("Two suspects were killed in the shootout.", [], [(2, "killed")]),
        # what a shooting or wounding "of" the counted people did to them decides
        ("Police are investigating the fatal shooting of one man and the wounding of three "
         "others.", ["injured", "injured"], [(1, "killed"), (3, "injured")]),
        ("Police are investigating the shooting of two men.", ["killed"],
         [(2, "killed_or_injured")]),
        # a relative clause on other people says nothing of the counted ones
        ("A group of around 100 people gathered to celebrate the life of a man who was "
         "killed in a shooting.", ["killed"], []),
        # the killings "of" a number of people killed them, whatever the model says
        ("Maoists are blamed for the execution-style killings of at least 16 villagers, "
         "including children.", ["other"], [(16, "killed")]),
    ],
)  # fmt: skip
def test_whom_the_harm_was_done_to_decides_the_casualty(
    nlp: Any, text: str, labels: list[str], casualties: list[Any]
) -> None:
    facts = _labelled(nlp, text, labels)
    assert [(c.count, c.outcome) for c in facts.casualties] == casualties


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("the maternity hospital", "hospital"),
        ("their positions", "military"),
        ("an army checkpoint", "military"),
        ("populated areas of Georgia", "residential"),
        ("the market", None),
    ],
)
def test_a_target_is_of_the_type_its_words_name(target: str, kind: str | None) -> None:
    from service.extraction.labelled import target_type

    assert target_type(target) == kind


@pytest.mark.parametrize(
    ("text", "labels", "figures"),
    [
        # a headline's "31 bodies" is the body's toll of 31 killed, said again
        ("Red Crescent: 31 bodies pulled from rubble\n\nAn air strike on a market in the "
         "town killed 31 people on Friday, rescuers said.", ["other", "killed"], []),
        # a count of things that equals the toll is no toll
        ("Shelling destroyed 31 houses in the town and killed 31 people on Friday.",
         ["other", "killed"], [31.0]),
        # nor a count of people in another paragraph
        ("Floods hit the north\n\nThe army sent 31 soldiers to the valley on Monday.\n\n"
         "The floods killed 31 people on Friday, officials said.", ["other", "killed"],
         [31.0]),
    ],
)  # fmt: skip
def test_a_figure_of_people_that_is_the_toll_again_is_dropped(
    nlp: Any, text: str, labels: list[str], figures: list[float]
) -> None:
    facts = _facts(nlp, text, labels)
    assert [f.value for f in facts.figures] == figures
    assert [c.count for c in facts.casualties] == [31]


@pytest.mark.parametrize(
    ("parties", "kept"),
    [
        (["Sudan", "RSF"], [["Sudan", "RSF"]]),
        (["the government", "rebels"], [["the government", "rebels"]]),  # people may talk
        (["the authorities", "delegations"], [["the authorities", "delegations"]]),
        # a thing is no side, and one side alone held no talks
        (["Sudan", "the press conference"], []),
        (["Sudan"], []),
    ],
)
def test_talks_are_between_two_sides_that_can_talk(
    nlp: Any, parties: list[str], kept: list[list[str]]
) -> None:
    text = "Sudanese and RSF envoys met in Jeddah for a second round of talks by video link."
    facts = _facts(nlp, text, [], talks={0: TalksItem(parties=parties)})
    assert [t.parties for t in facts.negotiations] == kept
