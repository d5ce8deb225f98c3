"""Numbers: every stated quantity with its value, range, approximation and what it counts.

Values come from `service.numbers` ("1,252", "3.2 million", "six,000", "Twenty-two"), so
a fact built on a candidate never carries a number the model typed. Dates, years, clock
times, ages, ordinals and numbers inside names are not candidates.
"""

from __future__ import annotations

import itertools
import re

from spacy.tokens import Doc, Span, Token

from service.candidates.article import Article, NumberCandidate
from service.candidates.people_nouns import names_people
from service.numbers import numbers_in, range_low

SCALE_WORDS = frozenset({"hundred", "thousand", "million", "billion", "trillion"})
_MANGLED = re.compile(r"^[A-Za-z]+,\d{3}$")  # a paraphraser's "six,000"
_NUMERAL = re.compile(r"^\d[\d,.]*$")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
NOT_QUANTITY_ENTS = frozenset(
    {"DATE", "TIME", "ORDINAL", "PERSON", "ORG", "GPE", "FAC", "LAW", "PRODUCT", "EVENT",
     "WORK_OF_ART", "LANGUAGE", "NORP"}
)  # fmt: skip
MEASURE_ENTS = frozenset({"QUANTITY", "PERCENT", "MONEY"})
APPROXIMATE_BEFORE = (
    "about", "around", "some", "nearly", "almost", "approximately", "roughly", "over",
    "estimated", "an estimated", "more than", "at least", "up to", "as many as",
    "upwards of", "close to", "fewer than", "less than", "just over", "just under",
)  # fmt: skip
CURRENCIES = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "dollars": "USD",
              "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP"}  # fmt: skip
PERCENT = frozenset({"%", "percent", "per cent"})
MONTHS = frozenset(
    {"january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
     "sep", "sept", "oct", "nov", "dec"}
)  # fmt: skip
DEFINITE = frozenset({"the", "these", "those", "both"})  # "the two sides": named before
RANGE_WORDS = frozenset({"to", "-", "\u2013", "\u2014", "and", "or"})
# What happened to the people a number counts, when the words beside it say so plainly:
# general English lemmas of casualty and displacement reporting, per label.
CUES: dict[str, frozenset[str]] = {
    "killed": frozenset(["kill", "die", "dead", "death", "fatality", "toll", "slay", "murder"]),
    "injured": frozenset(["injure", "wound", "hurt", "injury", "hospitalize"]),
    "killed_or_injured": frozenset(["casualty", "victim"]),
    "missing": frozenset({"missing"}),
    "rescued": frozenset(["rescue", "alive"]),  # "pulled alive from the rubble"
    "fled_abroad": frozenset(["refugee"]),
    "evacuated": frozenset(["evacuate", "evacuation", "evacuee", "relocate"]),
    "displaced": frozenset(["displace"]),
    "trapped": frozenset(["trap", "besiege", "siege"]),
}


CASUALTY_CUES = frozenset({"killed", "injured", "killed_or_injured", "missing", "rescued"})
HARM_LEMMAS = frozenset().union(*(CUES[label] for label in CASUALTY_CUES))
# Harm nouns that count what a body suffered, not people ("one gunshot wound to the head").
WOUND_NOUNS = frozenset({"wound"})
# Words of movement no one label owns ("fled": abroad or not), for the clause test.
SHOT = frozenset({"shoot", "shot", "gunfire", "gunshot", "bullet", "strike"})
MOVED = frozenset({"flee", "uproot", "shelter", "escape", "homeless", "exodus"})
# Violent verbs whose "to death" says the victim died ("shot to death", "beaten to death").
TO_DEATH = frozenset(
    {"shoot", "stab", "beat", "burn", "crush", "hack", "starve", "freeze", "bludgeon",
     "trample", "stone", "club", "choke", "strangle", "kick", "batter", "torture", "stomp"}
)  # fmt: skip


def to_death(verb: Token) -> list[Token]:
    """A violent verb's "to death" ("shot to death", not "sentenced to death"): its words."""
    if verb.lemma_.lower() not in TO_DEATH:
        return []
    return [t for c in verb.children if c.dep_ == "prep" and c.lower_ == "to"
            for g in c.children if g.lemma_.lower() == "death" for t in (c, g)]  # fmt: skip


# People the law holds ("five arrested", "two suspects were charged"): not victims, whatever
# harm their clause names.
HELD_VERBS = frozenset(
    {"arrest", "charge", "detain", "indict", "book", "jail", "convict", "sentence", "apprehend",
     "seek"}
)  # fmt: skip
HELD_NOUNS = frozenset({"suspect", "arrest", "arrestee"})
# The law's own agents: the subject of what they did ("seven officers returned fire") is
# no victim, unless what they did is suffer ("two officers died", "remain in hospital").
LAW_NOUNS = frozenset({"officer", "deputy", "trooper", "agent", "policeman", "cop", "police"})
SUFFERING_VERBS = frozenset(
    {"die", "succumb", "perish", "suffer", "sustain", "remain", "survive", "lose", "be",
     "have", "need", "undergo", "recover", "end", "wind"}
)  # fmt: skip


def lemma(token: Token) -> str:
    """A word's lemma, lower case; "wound up" (ended up) is "wind", no wound; "missing"
    (spaCy's "miss" in "are missing") is the adjective."""
    if token.lower_ == "wound" and any(c.dep_ == "prt" for c in token.children):
        return "wind"
    if token.lower_ == "missing":
        return "missing"
    if token.pos_ == "PROPN" and not token.ent_type_ and token.lemma_ == token.text:
        # a title-case word spaCy took for a name keeps its form ("Fatalities"): the
        # singular of its lower case
        word = token.lower_
        return word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")
    return token.lemma_.lower()


def shared_verbs(verb: Token) -> list[Token]:
    """The harm verbs just before a verb that share its object ("killed" in "killed and
    injured 18"): conjuncts of it with no object of their own."""
    return [
        c for c in verb.conjuncts
        if 0 < verb.i - c.i <= 3 and c.pos_ == "VERB" and c.lemma_.lower() in HARM_LEMMAS
        and not any(ch.dep_ in ("dobj", "oprd") for ch in c.children)
    ]  # fmt: skip


def clause_says(lemmas: frozenset[str]) -> frozenset[str]:
    """What the words (lemmas) of a number's clause say happened to those it counts: the
    labels whose words are there, and "moved" for a movement word no label owns."""
    if lemmas & {"attempt", "attempted"}:  # "attempted murder": no one was murdered
        lemmas = lemmas - {"murder"}
    said = {label for label, words in CUES.items() if lemmas & words}
    if lemmas & {"fatally", "fatal"}:  # "fatally wounded", "shot, one fatally", "fatal injuries"
        said = (said - {"injured", "killed_or_injured"}) | {"killed"}
    elif lemmas & SHOT and not said & {"killed", "injured"}:
        said.add("killed_or_injured")  # "four people were shot": killed or wounded
    return frozenset(said | ({"moved"} if lemmas & MOVED else set()))


def _is_ordinal(token: Token) -> bool:
    """'first', 'fourth', '21st': spaCy counts ordinal words as like_num."""
    word = token.lower_
    return word in ("first", "second", "third") or bool(
        re.match(r"^(\d+(st|nd|rd|th)|[a-z]+th)$", word)
    )


def _verb_in_name(token: Token) -> bool:
    """A count the entity tagger read into a name that opens with a verb: a headline's
    "Killing 16 Villagers" tagged ORG."""
    if token.tag_ != "CD" or token.head.tag_ != "NNS":
        return False  # (asked of every token in a name: the walk back only for a count)
    first = token
    while first.ent_iob_ == "I" and first.i > 0:
        first = first.nbor(-1)
    return first.i < token.i and first.tag_ in ("VBG", "VBD", "VBN", "VBZ")


def _is_number(token: Token) -> bool:
    if _is_ordinal(token):
        return False
    if token.ent_type_ in NOT_QUANTITY_ENTS and not _verb_in_name(token):
        return False
    if token.pos_ == "PROPN" and (token.ent_type_ != "CARDINAL" or token.head.pos_ != "NOUN"):
        return False  # a name's number ("Apollo 11", "the Chicago Seven"); "Seven people" counts
    return bool(token.like_num or _MANGLED.match(token.text))


def _run_end(doc: Span, i: int) -> int:
    """The end (exclusive) of the number run starting at token i: "3.2 million",
    "Twenty-two", "five hundred"."""
    j = i + 1
    while j < len(doc):
        token = doc[j]
        if _is_number(token) or token.lower_ in SCALE_WORDS:
            j += 1
        elif token.text == "-" and j + 1 < len(doc) and _is_number(doc[j + 1]):
            if _NUMERAL.match(doc[j + 1].text) and _NUMERAL.match(doc[j - 1].text):
                break  # "5-6", "3-4,000" are ranges, handled by the caller
            j += 1
        else:
            break
    return j


_TEXT = "newsfacts_text"


def doc_text(doc: Doc) -> str:
    """The doc's text, joined once (spaCy's `Doc.text` joins every token on each read: read
    per number, that was quadratic in a long text)."""
    text = doc.user_data.get(_TEXT)
    if text is None:
        text = doc.user_data[_TEXT] = doc.text
    return text


def _excluded(doc: Span, start: int, end: int) -> bool:
    """Years, ages, clock times and ordinal-like uses are not quantities."""
    text = doc[start:end].text
    if end - start == 1 and _YEAR.match(text):
        return True
    after = doc[end : end + 3].text.lower()
    if re.match(r"^(-\s*)?years?\s*-?\s*old|^(a\.m\.|p\.m\.|am\b|pm\b|:|o'clock)", after):
        return True
    plural = end < len(doc) and doc[end].lower_ in ("'s", "\u2019s", "s")
    if plural and not doc[end - 1].whitespace_:
        return True  # "1000's", "1990s": vague amounts and decades, not counts
    before = doc[start - 1].lower_ if start else ""
    if before == "," and start > 1 and _named_age(doc, start, end):
        return True  # "Trevor Williams, 33", "Tywanza Sanders, 26;": an age
    if before in MONTHS or (end < len(doc) and doc[end].lower_ in MONTHS):
        return True  # "08 November 2010", "March 3"
    if re.search(
        r"\d{4}-\d{1,2}(-\d{1,2})?$",
        doc_text(doc.doc)[max(0, doc[start].idx - 8) : doc[end - 1].idx + len(doc[end - 1].text)],
    ):
        return True  # "2002-09-26"
    if before in ("aged", "age", "ages", "no.", "number", "#", "round", "article", "resolution"):
        return True
    if _fraction(doc, start, end):
        return True
    return (
        _listed_age(doc, start, end)
        or _age_at_death(doc, start, end)
        or _caption_or_channel(doc, start, end)
    )


def _named_age(doc: Span, start: int, end: int) -> bool:
    """A number set off after a person's name: "Trevor Williams, 33", a list's "Tywanza
    Sanders, 26;" (a name the tagger missed, closed by a comma, semicolon or stop)."""
    name = doc[start - 2]
    if name.ent_type_ == "PERSON":
        return True
    closed = end < len(doc) and doc[end].text in (",", ";", ".", ")")
    proper = name.tag_ == "NNP" and start > 2 and doc[start - 3].tag_ == "NNP"
    return closed and proper and end - start == 1 and doc[start].text.isdigit()


# Verbs a person's age at the time follows: "he was shot to death at 24", "she died at 90".
_AGE_AT_VERBS = frozenset({"die", "kill", "shoot", "murder", "slay", "stab"})


def _age_at_death(doc: Span, start: int, end: int) -> bool:
    """A lone number after "at" on a death verb said of one person ("he died at 24"), not a
    toll that "stood at 24"."""
    if end - start != 1 or start == 0 or doc[start - 1].lower_ != "at":
        return False
    verb = doc[start - 1].head
    one = any(c.dep_ in ("nsubj", "nsubjpass") and c.tag_ in ("PRP", "NNP") for c in verb.children)
    return doc[start].dep_ == "pobj" and verb.lemma_.lower() in _AGE_AT_VERBS and one


_GALLERY = re.compile(r"\b(?:image|photo|slide|picture)\s+\d+\s+of\s*/?\s*$", re.IGNORECASE)
GALLERY_WORDS = frozenset({"image", "photo", "slide", "picture"})
BROADCASTERS = frozenset({"cbs", "nbc", "abc", "fox", "cw", "pbs", "channel", "news"})


_AGE_LINKS = frozenset({",", "and", "from", "to", "between", "of", "the", "-", "\u2013"})


def _fraction(doc: Span, start: int, end: int) -> bool:
    """A gallery's counter or a ratio, never a count of people: "1 / 8", "24/7", "9/11"."""
    if any("/" in token.text for token in doc[start:end]):
        return True
    after = doc[end : end + 2]
    if len(after) == 2 and after[0].text == "/" and _is_number(after[1]):
        return True
    before = doc[max(start - 2, 0) : start]
    if len(before) == 2 and before[1].text == "/" and _is_number(before[0]):
        return True
    return _proportion(doc, start, end)


def _proportion(doc: Span, start: int, end: int) -> bool:
    """Either side of "nine out of ten", "one out of every five": a share, not a count (but
    "12 out of the 40 on board" counts 12)."""
    words = [t.lower_ for t in doc[end : end + 4]]
    if words[:2] == ["out", "of"] and len(words) > 2:
        rest = doc[end + 3 : end + 4] if words[2] == "every" else doc[end + 2 : end + 3]
        return len(rest) == 1 and _is_number(rest[0])
    i = start - 1
    if i >= 0 and doc[i].lower_ == "every":
        i -= 1
    return (
        i >= 2 and doc[i].lower_ == "of" and doc[i - 1].lower_ == "out" and _is_number(doc[i - 2])
    )


def _listed_age(doc: Span, start: int, end: int) -> bool:
    """Ages in a list, a range or after names: "ages 26, 27, 34", "range in age from 21 to
    36", "between the ages of 18 and 25", "X and Y, both 16, were"."""
    i = start - 1
    while i >= 0 and (doc[i].lower_ in _AGE_LINKS or _is_number(doc[i])) and start - i < 10:
        i -= 1
    if i >= 0 and i < start - 1 and doc[i].lower_ in ("age", "ages", "aged"):
        return True
    after = doc[end].text if end < len(doc) else ""
    return start > 1 and doc[start - 1].lower_ == "both" and doc[start - 2].text == "," and (
        after in (",", ".", ")", ";")
    )  # fmt: skip


CREDITS = frozenset({"Video", "News", "Photo", "Photos"})


def _caption_or_channel(doc: Span, start: int, end: int) -> bool:
    """A photo gallery's "Image 3 of 8", a broadcaster's name ("CBS 58"), or a credit or
    station named with a number ("Photo: Pro 21 Video", "KSAT 12 News")."""
    before = doc[start - 1].lower_ if start else ""
    if before in GALLERY_WORDS or before in BROADCASTERS:
        return True
    if end < len(doc) and doc[end].text in CREDITS:
        return True
    window = doc_text(doc.doc)[max(0, doc[start].idx - 24) : doc[start].idx]
    return bool(_GALLERY.search(window))


def _approximate(doc: Span, start: int) -> bool:
    window = " ".join(t.lower_ for t in doc[max(0, start - 3) : start])
    return any(window.endswith(cue) for cue in APPROXIMATE_BEFORE)


def _counted(doc: Span, start: int, end: int) -> Token | None:
    """The noun the number counts: its head when the number modifies it, else the next
    noun within two words ("70 bodies", "30 meters", "43 attacks")."""
    last = doc[end - 1]
    modifies = last.dep_ in ("nummod", "quantmod") and last.head.pos_ in ("NOUN", "PROPN")
    # a fact sheet's lines: "69,392 injured\n2.8 million homeless\nGovernment of Pakistan"
    # counts no government, whatever the parse hangs it on
    # (a figure alone on its line, "5,582" over "Estimated Fatalities", is its label's)
    # ... but over a tally ("11,175" over "Estimated Number of People Injured") it counts
    # what the tally is of, not the tally
    after = last.doc[last.i + 1 : last.head.i]
    worded = bool(after) and "\n" not in after[0].text and any("\n" in t.text for t in after)
    broken = sheet_line(last) and (worded or last.head.lemma_.lower() in TALLY_NOUNS)
    if modifies and last.head.i >= end and not broken:
        # "three schools housing refugees": the parse hangs the number on the participle's
        # object; it counts the plural before
        return plural_before_participle(doc[end : last.head.i - doc.start + 1]) or last.head
    for token in doc[end : end + 3]:
        if token.pos_ == "NOUN":
            return token
        if token.pos_ not in ("ADJ", "DET", "PRON", "PROPN"):
            break
    return None


# Nouns ending in -ing that are no participle ("two schools building", "morning")
_ING_NOUNS = frozenset(
    {"building", "morning", "evening", "ceiling", "wedding", "meeting", "training",
     "funding", "clothing", "bombing", "shelling", "fighting", "killing", "shooting",
     "uprising", "offering", "setting", "opening", "warning"}
)  # fmt: skip


def plural_before_participle(words: Span) -> Token | None:
    """In a noun phrase "three schools housing refugees", the plural a participle follows
    (what is counted or hit), when the parse made the participle's object the head."""
    for token, after in itertools.pairwise(words):
        participle = after.lower_.endswith("ing") and after.pos_ in ("VERB", "NOUN")
        if token.tag_ == "NNS" and participle and after.lower_ not in _ING_NOUNS:
            return token
    return None


def _remains_of(noun: Token) -> str | None:
    """ "bodies" for "the bodies of 27 children": what was counted is the remains."""
    of = noun.head
    if noun.dep_ == "pobj" and of.lower_ == "of" and of.head.lemma_.lower() in ("body", "remains"):
        return of.head.text.lower()
    return None


def find_quantities(article: Article) -> None:
    """Add a NumberCandidate per stated quantity that is not a date, time, age or name."""
    doc = article.doc[:]
    i = 0
    while i < len(doc):
        if not _is_number(doc[i]):
            i += 1
            continue
        start, end = i, _run_end(doc, i)
        i = end
        if _excluded(doc, start, end):
            continue
        values = numbers_in(doc[start:end].text)
        if not values:
            continue
        value_max = None
        if end + 1 < len(doc) and doc[end].lower_ in RANGE_WORDS and _is_number(doc[end + 1]):
            second = _run_end(doc, end + 1)
            upper = numbers_in(doc[end + 1 : second].text)
            if upper and upper[0] > values[0]:
                value_max, end, i = upper[0], second, second
                values = [range_low(values[0], upper[0])]
        first, last = doc[start], doc[end - 1]
        char_start = first.idx
        before = doc[start - 1].lower_ if start else ""
        unit: str | None = None
        if before in CURRENCIES:
            unit, char_start = CURRENCIES[before], doc[start - 1].idx
        after = doc[end].lower_ if end < len(doc) else ""
        noun = _counted(doc, start, end)
        shot = noun is not None and noun.lower_ == "shot" and values[0] != 1
        if shot:
            noun = None  # "2 shot dead": "shot" counted by more than one is the verb
        source_like = noun is not None and (noun.ent_type_ == "ORG" or not noun.text.istitle())
        if source_like and noun.text[:1].isupper() and row_label(doc[start:end]) is not None:
            noun = None  # a row's source after its figure ("112,405 GoH"): counts nothing
        if after in PERCENT:
            unit = "percent"
        elif unit is None and after in CURRENCIES:
            unit = CURRENCIES[after]
        elif unit is None and "magnitude" in (before, after):
            unit = "magnitude"  # "at magnitude 6.3", "a 4.6 magnitude quake"
        elif unit is None and noun is not None:
            unit = _remains_of(noun) or noun.text.lower()
        approximate = _approximate(doc, start)
        evidence = _evidence(doc, start, end, noun, char_start, approximate)
        shot_cue = _shot_cue(doc, end) if shot else None
        if shot:  # "2 shot dead": the verb the parse read as a noun, and its "dead"
            said = doc[end + 1] if shot_cue == "killed" else doc[end]
            evidence = (evidence[0], max(evidence[1], said.idx + len(said.text)))
        article.numbers.append(
            NumberCandidate(
                start=char_start,
                end=last.idx + len(last.text),
                value=values[0],
                value_max=value_max,
                approximate=approximate,
                unit=unit,
                noun=noun.text if noun is not None else None,
                noun_lemma=noun.lemma_.lower() if noun is not None else None,
                evidence=evidence,
                cue=shot_cue or _cue(article, evidence, doc[start:end]),
                measure=first.ent_type_ in MEASURE_ENTS,
                people=names_people(noun) if noun is not None else None,
                whole=_in_partitive(doc[start:end]),
                definite=before in DEFINITE,
            )
        )


# A tally's words and the verbs that give its level: "the death toll rose to 24",
# "estimates of deaths range between 18,000 and 30,000", "the number of injured is 5,000".
TALLY_NOUNS = frozenset({"toll", "number", "estimate", "figure", "count", "tally", "total"})
LEVEL_VERBS = frozenset(
    {"be", "stand", "rise", "climb", "reach", "range", "vary", "jump", "increase", "grow",
     "top", "exceed", "pass", "surpass", "near", "hit", "soar", "mount"}
)  # fmt: skip


FINITE_TAGS = frozenset({"VBP", "VBZ", "VBD", "MD"})  # a verb that makes a line a sentence


def sheet_line(token: Token) -> bool:
    """Whether the token stands on a short line with no finite verb: a fact sheet's line
    ("69,392 injured"), not a line of hard-wrapped prose ("Officials said 28 displaced")."""
    doc = token.doc
    start, end = token.i, token.i
    # a sheet's line is a few tokens: the walk stops there (a text on one line is read once
    # per number otherwise, quadratic in a 100k-character article)
    while start > 0 and "\n" not in doc[start - 1].text and token.i - start < 16:
        start -= 1
    while end + 1 < len(doc) and "\n" not in doc[end + 1].text and end - token.i < 16:
        end += 1
    line = doc[start : end + 1]
    return len(line.text) <= 40 and not any(t.tag_ in FINITE_TAGS for t in line)


_LABEL_LINKS = frozenset({"in", "of", "the", "and", "to", "from", "for", "by", "-"})


def row_label(number: Span) -> frozenset[str] | None:
    """The lemmas of a fact sheet's row label the number follows on its line ("Estimated
    Deaths 112,405 GoH - January 31"): capitalised words and nothing else before it, no
    verb or sentence end after it; None for any other line."""
    doc = number.doc
    words: list[Token] = []
    i = number.start - 1
    while i >= 0 and "\n" not in doc[i].text and len(words) <= 12:
        words.append(doc[i])
        i -= 1
    if i < 0 or not 0 < len(words) <= 12 or "\n" not in doc[i].text:
        return None  # a first line is a headline, not a row
    rest = itertools.takewhile(lambda t: "\n" not in t.text, doc[number.end : number.end + 12])
    if any(t.pos_ in ("VERB", "AUX") or t.text in (".", "!", "?") for t in rest):
        return None  # a sentence ("Nearly 1,200 Palestinians have been killed."), no row
    if any(w.tag_ in FINITE_TAGS for w in words):
        return None  # a headline's verb ("Gunmen Kill 12 Villagers"), no row label
    hyphened = {w.i + d for w in words if w.text == "-" for d in (-1, 1)}  # "Port-au-Prince"
    if not all(w.text[:1].isupper() or w.lower_ in _LABEL_LINKS or w.i in hyphened for w in words):
        return None
    return frozenset(lemma(w) for w in words)


def _measured(number: Span) -> frozenset[str] | None:
    """The lemmas of the tally a number is the level of ("the death toll rose to 24": death,
    toll), or None when the number is no tally's level."""
    first = number[0]
    verb = first.head
    if verb.pos_ == "ADP" and verb.lower_ in ("at", "to", "between", "from", "of"):
        verb = verb.head
    elif first.dep_ not in ("attr", "dobj"):
        return None
    if verb.pos_ not in ("VERB", "AUX") or verb.lemma_.lower() not in LEVEL_VERBS:
        return None
    subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
    if subject is None and verb.tag_ == "VBG":  # "with estimates of deaths ranging between"
        before = verb.doc[max(verb.sent.start, verb.i - 6) : verb.i]
        subject = next((t for t in reversed(before) if t.lemma_.lower() in TALLY_NOUNS), None)
    if subject is None or subject.lemma_.lower() not in TALLY_NOUNS:
        return None
    return frozenset(lemma(t) for t in subject.subtree)


def _shot_cue(doc: Span, end: int) -> str:
    """What "N shot" says: killed when "dead" or "fatally" follows ("2 shot dead"), else
    killed or injured ("5 shot in Chicago")."""
    fatal = end + 1 < len(doc) and doc[end + 1].lower_ in ("dead", "fatally")
    return "killed" if fatal else "killed_or_injured"


def _in_partitive(number: Span) -> bool:
    """Whether the number stands inside "N of the ... <number>": the whole a part is of."""
    first = number[0]
    for token in first.doc[max(first.sent.start, first.i - 5) : first.i]:
        nxt = token.nbor(1) if token.i + 1 < len(token.doc) else None
        if token.like_num and nxt is not None and nxt.lower_ == "of":
            return True
    return False


def _cue(article: Article, evidence: tuple[int, int], number: Span) -> str | None:
    """The label the evidence's own words give: the harm word right after the number ("1
    dead"), else the one label whose words are there."""
    span = article.doc.char_span(*evidence, alignment_mode="expand")
    if span is None:
        return None
    if _in_partitive(number):
        return None  # "150 of the village's 1,800 residents were killed": 1,800 is the whole
    doc = number.doc
    after = doc[number.end] if number.end < len(doc) else None
    # "leaves 1 dead, injures five": the word beside it decides (not one that describes a
    # noun after it: "28 displaced civilians")
    # (a fact sheet's "69,392 injured" ending its line is said of the number, whatever the
    # parse hangs it on)
    following = doc[number.end + 1] if number.end + 1 < len(doc) else None
    ends_line = sheet_line(number[0]) and (following is None or "\n" in following.text)
    own_word = after is not None and after.head.i <= after.i
    if after is not None and (ends_line or (own_word and after.dep_ not in ("amod", "compound"))):
        own = clause_says(frozenset({lemma(after)})) - {"moved"}
        if len(own) == 1:
            return next(iter(own))
    before = doc[number.start - 1] if number.start > number.sent.start else None
    if before is not None and (
        after is None or after.is_punct or after.lower_ == "and" or after.pos_ == "ADP"
    ):
        # a headline's "Kills 3, Wounds 2", "Kills 18 at School": a number with no noun,
        # its verb's own
        words = {lemma(before), before.lower_.removesuffix("s")}  # title case: "Kills"
        own = clause_says(frozenset(words)) - {"moved"}
        if len(own) == 1:
            return next(iter(own))
    measured = _measured(number) or row_label(number)
    if measured is not None and len(own := clause_says(measured) - {"moved"}) == 1:
        return next(iter(own))
    lemmas = frozenset(lemma(t) for t in span if t.i < number.start or t.i >= number.end)
    found = clause_says(lemmas) - {"moved"}
    if {"killed", "injured"} <= found:
        return "killed_or_injured"
    if len(found) == 2 and "killed_or_injured" in found:
        found -= {"killed_or_injured"}  # "one victim was pronounced dead": the victim died
    return next(iter(found)) if len(found) == 1 else None


def _evidence(
    doc: Span, start: int, end: int, noun: Token | None, char_start: int, approximate: bool
) -> tuple[int, int]:
    """The shortest span that states the fact: the number (with "about" or "more than"),
    what it counts and the verb that says what happened to them ("22 civilians were killed")."""
    last = doc[end - 1]
    sentence = last.sent
    tokens = [last]
    if noun is not None:
        tokens.append(noun)
    anchor = noun if noun is not None else last
    verb = anchor.head
    # "killed 12 people" reads the verb before; "1 killed, 3 wounded": the 3 has its own
    own_harm = any(t.lemma_.lower() in HARM_LEMMAS for t in doc[end : end + 2])
    near = 0 < verb.i - anchor.i <= 6 or (0 < start - verb.i <= 3 and not own_harm)
    if verb.pos_ in ("VERB", "ADJ", "AUX") and verb.sent == sentence and near:
        tokens.append(verb)
        tokens.extend(c for c in verb.conjuncts if 0 < c.i - verb.i <= 3)  # "killed or injured"
        tokens.extend(shared_verbs(verb))  # "killed and injured 18": both said of the 18
        tokens.extend(to_death(verb))  # "shot three people to death": killed
        # "have been victims", "were missing": the complement says what they are
        tokens.extend(
            c
            for c in verb.children
            if c.dep_ in ("attr", "acomp", "xcomp", "oprd") and 0 < c.i - verb.i <= 3
        )
    for child in anchor.children:  # "1,252 injured", "killed 12 people" read either way
        if child.pos_ in ("VERB", "ADJ") and child.i > anchor.i and child.i - end <= 3:
            tokens.append(child)
    if end < len(doc) and doc[end].lower_ in ("fatally", "critically", "seriously"):
        tokens.append(doc[end])  # "four were shot, one fatally"
    if last.head.pos_ == "VERB" and 0 < start - last.head.i <= 2 and not own_harm:
        tokens.append(last.head)
    if noun is None and last.head.pos_ == "VERB" and last.head.sent == sentence:
        # "22 were killed"; "150 of the village's residents were killed" (partitive)
        partitive = end < len(doc) and doc[end].lower_ == "of"
        if 0 < last.head.i - last.i <= (10 if partitive else 3):
            tokens.append(last.head)
    lo = min(char_start, *(t.idx for t in tokens))
    if approximate:
        lo = min(lo, doc[max(sentence.start, start - 2)].idx)
    hi = max(t.idx + len(t.text) for t in tokens)
    return max(lo, sentence.start_char), min(hi, sentence.end_char)


def words_decide(number: NumberCandidate) -> str | None:
    """The label a number's own words give whatever a model would say (a NumberKind name),
    or None when it needs reading: a count a reader made without a numeral, a casualty or
    movement word beside a count of people ("22 civilians were killed"), a currency."""
    if number.unnumbered:
        return number.cue
    if number.noun_lemma in WOUND_NOUNS:
        return "other_figure"  # "died of one gunshot wound": a count of wounds, not people
    of_things = (number.people is False and not number.harmed) or number.measure
    if number.cue is not None and not of_things:
        return number.cue
    return "money" if number.unit in CURRENCIES.values() else None
