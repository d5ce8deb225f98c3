"""Dates a machine can compare: a fact's time as written, resolved against the publication day.

dateparser reads the phrase ("April 9", "last month", "two days ago", "24 February"); the
words a news report dates an event by that dateparser leaves open are settled here: a bare
weekday is the latest such day on or before publication ("Saturday" in a Saturday report is
that day), "last night" and "overnight" the day before, "tonight" and "this morning" the
day itself. A total since a date or over a period ("since 24 February", "so far this year",
"in the past week") is a running total: a range ending on the publication day.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from schemas.incidents import FactDate

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY_WORDS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "earlier today": 0,
    "yesterday": 1,
    "last night": 1,
    "overnight": 1,
}
# A phrase that dates something: a weekday, a day word, a month and day (either order, with
# an optional year), or a relative span; "since" in front makes it the start of a total. A
# month alone ("April 2015") dates no one event.
DATE_PHRASE = re.compile(
    rf"\b(?:(?P<since>since|from)\s+)?(?:"
    rf"(?P<absolute>(?:(?:{'|'.join(WEEKDAYS)}),?\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\.?"
    rf"|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?)(?:,?\s+\d{{4}})?)"
    rf"|(?P<weekday>{'|'.join(WEEKDAYS)})"
    rf"|(?P<dayword>{'|'.join(_DAY_WORDS)})"
    rf"|(?P<relative>(?:last|this|past)\s+(?:week|month|year)|\d+\s+days?\s+ago))\b",
    re.IGNORECASE,
)
RUNNING = re.compile(
    r"\b(?:since|so far|to date|in total|a total of|cumulative|this year|this month"
    r"|(?:in|over|during)\s+the\s+(?:past|last)\s+(?:\w+\s+)?(?:hours?|days?|weeks?|months?|years?)"
    r"|since the (?:start|beginning))\b",
    re.IGNORECASE,
)
# A sentence stating a total since a date or over a range of days ("From 24 February to
# 3 March, the Office recorded ..."), whatever the fact's own words.
_RANGE = (
    rf"since\s+(?:the\s+)?(?:start|beginning|\d{{1,2}}\s+(?:{MONTHS})|(?:{MONTHS})\s+\d)"
    rf"|from\b[^;]{{0,40}}?\b\d{{1,2}}\s+(?:{MONTHS})\b[^;]{{0,80}}?\b(?:to|until|till|through)\b"
)
# ... or over a month or a year ("At least 80 people were killed in the city in November
# alone", "the 40th homicide this year").
_CALENDAR = rf"(?:this|last) (?:year|month)|(?:{MONTHS}|year|month) alone"
# ... or a round-up of several events ("13 people were shot, one fatally, in separate
# incidents", "in a weekend of violence", "after a series of overnight shootings", "in
# shootings across the city").
# (a plural misspelt with an apostrophe, "a series of overnight shooting's", is one too)
_EVENTS = r"(?:incident|shooting|attack|killing)(?:s|['\u2019]s|s['\u2019])"
_ROUND_UP = (
    rf"(?:in|during)\s+(?:\w+\s+)?separate\s+{_EVENTS}|weekend of"
    rf"|(?:series|spate|string|rash|wave)\s+of\s+(?:\w+\s+)?{_EVENTS}"
    rf"|{_EVENTS}\s+(?:across|around|throughout)\s+"
    rf"(?:the\s+(?:city|state|country|region)|(?-i:[A-Z])\w+)"
)
RUNNING_SENTENCE = re.compile(
    rf"\b(?:{_RANGE}|{_CALENDAR}|{_ROUND_UP}|so far|to date|cumulative)", re.IGNORECASE
)
# A lede stating a total over a range of days ("From 24 February to 24 March, the Office
# recorded ..."): the facts it opens that their own sentence does not date are its parts.
RANGE_LEDE = re.compile(rf"\b(?:{_RANGE})", re.IGNORECASE)
# "from" after a verb of cause names what caused it, not when a total starts ("180 deaths
# resulting from August 4 explosions").
_CAUSAL = re.compile(r"\b(?:result\w*|stem\w*|caused|aris\w*|died|dying|suffer\w*)\s+$", re.I)
# "from Saturday's earthquake": the day owns the event, it starts no total.
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_PERIOD = re.compile(
    r"\b(?:past|last)\s+(?P<n>\d+|two|three|four|five|six|seven|ten)?\s*"
    r"(?P<unit>hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


@lru_cache(maxsize=4096)
def _dateparser_day(phrase: str, base: dt.date) -> dt.date | None:
    import dateparser  # its import compiles its tables: only when a date is read

    settings = {
        "RELATIVE_BASE": dt.datetime.combine(base, dt.time(12)),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    found = dateparser.parse(phrase, languages=["en"], settings=settings)  # type: ignore[arg-type]
    return found.date() if found else None


def phrase_day(match: re.Match[str], base: dt.date | None) -> dt.date | None:
    """The day a DATE_PHRASE match names, resolved against `base` (None when it needs a
    base and has none, or is no day)."""
    if match["weekday"]:
        if base is None:
            return None
        back = (base.weekday() - WEEKDAYS.index(match["weekday"].lower())) % 7
        return base - dt.timedelta(days=back)
    if match["dayword"]:
        words = " ".join(match["dayword"].lower().split())
        return base - dt.timedelta(days=_DAY_WORDS[words]) if base else None
    phrase = match["absolute"] or match["relative"]
    this = (phrase or "").lower().split()
    if base is not None and this[:1] == ["this"]:
        return {
            "year": base.replace(month=1, day=1),
            "month": base.replace(day=1),
            "week": base - dt.timedelta(days=base.weekday()),
        }[this[-1]]
    if base is None:
        if not match["absolute"] or not re.search(r"\d{4}", phrase):
            return None
        base = dt.date.today()
    return _dateparser_day(phrase.lower(), base)


def _period_start(text: str, base: dt.date | None) -> dt.date | None:
    found = _PERIOD.search(text)
    if not found or base is None:
        return None
    n = found["n"] or "1"
    count = int(n) if n.isdigit() else _SMALL.get(n.lower(), 1)
    days = max(1, round(count * _UNIT_DAYS[found["unit"].lower().rstrip("s")]))
    return base - dt.timedelta(days=days - 1)


def resolve_date(
    published: dt.date | None,
    own: str | None = None,
    sentence: str | None = None,
    lede: str | None = None,
) -> FactDate | None:
    """The fact's date from the first of its own time words, its sentence and the article's
    lede that dates it; the publication day, marked guessed, when none does.

    A total since a date or over a period (said by its own words, or by its sentence; or by
    the lede, over a range of days, when neither dates the fact) is a running total ending on
    the publication day.
    """
    running = bool(own and RUNNING.search(own)) or bool(
        sentence and RUNNING_SENTENCE.search(sentence)
    )
    for text in (own, sentence, lede):
        if not text:
            continue
        total = running or (text is lede and bool(RANGE_LEDE.search(text)))
        for match in DATE_PHRASE.finditer(text):
            day = phrase_day(match, published)
            if day is None or (published and day > published):
                continue
            since = match["since"] and not _CAUSAL.search(text, 0, match.start())
            owned = (match["since"] or "").lower() == "from" and _POSSESSIVE.match(
                text, match.end()
            )
            if total or (since and not owned):
                return FactDate(
                    start=day, end=published or day, running_total=True, as_written=match.group(0)
                )
            return FactDate(start=day, end=day, as_written=match.group(0))
        if running and text is own:
            start = _period_start(text, published)
            return FactDate(start=start, end=published, running_total=True, as_written=text)
    if published is None:
        return FactDate(running_total=True, as_written=own or "") if running else None
    if running:
        return FactDate(end=published, running_total=True, as_written=own or "")
    return FactDate(start=published, end=published, guessed=True)
