"""Names: people, organisations and places from spaCy's entities, mentions merged.

One entity per distinct name: a surname alone or "Mr. X" folds into the fullest form the
text uses, a name tagged two ways takes its most frequent label, and the words around a
person's mention give a role ("presidential adviser") and an affiliation ("Ukrainian").
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable

from spacy.tokens import Doc, Span, Token

from service.candidates.article import Article, Entity, EntityLabel, entity_span
from service.candidates.places import (
    CITY_WORDS,
    REGION_WORDS,
    SITE_WORDS,
    country_of,
    gazetteer,
)
from service.candidates.quantities import doc_text
from service.folding import lower_case_words, name_key

LABELS: dict[str, EntityLabel] = {
    "PERSON": "people",
    "ORG": "organizations",
    "GPE": "locations",
    "LOC": "locations",
    "FAC": "locations",
}
# Courtesy titles news style puts before a surname; spaCy often leaves them in the span.
COURTESY_TITLES = ("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "rev")
_HONORIFIC = re.compile(rf"^(?:{'|'.join(COURTESY_TITLES)})\.?\s+", re.IGNORECASE)
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:['\u2019]s?)$")
# the Arabic article and "son of" before a hyphen: "al-Qaida", "ad-Dawr", "bin-Laden"
_PARTICLE = re.compile(r"(?:al|el|ad|an|ar|as|ash|at|az|ath|ul|bin|ibn|ben|bou)-[A-Z]")
_EDGE_PUNCT = " \t\n\"'\u2018\u2019\u201c\u201d.,;:()[]-\u2013\u2014"
MAX_NAME_TOKENS = 10
LOCATIVE_PREPOSITIONS = frozenset(
    {"in", "near", "outside", "inside", "across", "around", "toward", "towards", "into",
     "throughout", "within"}
)  # fmt: skip
PLACE_WORDS = CITY_WORDS | REGION_WORDS | SITE_WORDS | {"country", "nation", "place"}
ROLE_DEPS = {"compound", "amod", "nmod", "npadvmod"}
# What an armed group's members are called: the name written before them is the group's
# ("M23 rebels", "Islamic State fighters", "Boko Haram militants").
GROUP_NOUNS = frozenset(
    {"militant", "fighter", "rebel", "militia", "insurgent", "guerrilla", "gunman",
     "jihadist", "paramilitary"}
)  # fmt: skip
# "al-Qaida-linked militants", "Hamas-backed gunmen": the group is named before the hyphen
ALLEGIANCE = frozenset({"linked", "backed", "allied", "aligned", "affiliated", "inspired", "led"})
_NOT_NAMES = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "QUANTITY", "PERCENT"})
_DEMONYM_END = re.compile(r"(?:an|ans|ese|ish|i|is)$")


def _clean(span: Span) -> tuple[int, int] | None:
    """Character offsets of the name in an entity span, trimmed of "the", "'s", titles."""
    text = span.text
    start, end = span.start_char, span.end_char
    for pattern in (_LEADING_THE, _HONORIFIC):
        m = pattern.match(text)
        if m:
            start += m.end()
            text = text[m.end() :]
    m = _POSSESSIVE.search(text)
    if m and m.start() > 0:
        end -= len(text) - m.start()
        text = text[: m.start()]
    stripped = text.strip(_EDGE_PUNCT)
    if not stripped:
        return None
    start += text.index(stripped)
    end = start + len(stripped)
    return start, end


def _plausible(name: str) -> bool:
    """A proper name: starts with a capital or digit (or a particle hyphenated to one,
    "al-Qaida"), no line break, not too long."""
    if "\n" in name or len(name) < 2 or not (name[0].isupper() or _PARTICLE.match(name)):
        return False
    words = name.split()
    return len(words) <= MAX_NAME_TOKENS and any(c.isalpha() for c in name)


def _role_tokens(span: Span) -> list[Token]:
    """The modifiers just left of a name that describe the person ("Russian negotiator")."""
    doc = span.doc
    picked: list[Token] = []
    inside = set(range(span.start, span.end))
    i = span.start - 1
    while i >= 0:
        token = doc[i]
        hyphen = token.text in ("-", "\u2010") and i > 0 and not token.whitespace_ and picked
        if hyphen and not doc[i - 1].whitespace_ and doc[i - 1].pos_ in ("NOUN", "PROPN"):
            picked[:0] = [doc[i - 1], token]  # "Director-General": one hyphenated title
            i -= 2
            continue
        if (
            token.ent_type_ == "PERSON"
            or token.is_punct
            or token.pos_ not in ("NOUN", "PROPN", "ADJ")
        ):
            break
        if token.dep_ not in ROLE_DEPS or token.head.i not in inside | {t.i for t in picked}:
            break
        picked.insert(0, token)
        i -= 1
    # "High Commissioner for Refugees Filippo Grandi", "Secretary of State Antony Blinken":
    # a capitalised title runs on through its "for" / "of"
    if picked and i >= 1 and doc[i].lower_ in ("for", "of") and doc[i - 1].is_title:
        j = i - 1
        while j >= 0 and doc[j].is_title and doc[j].pos_ in ("NOUN", "PROPN", "ADJ"):
            j -= 1
        if doc[j + 1].ent_type_ != "PERSON":
            picked[:0] = list(doc[j + 1 : i + 1])
    return picked


def _appositive(span: Span) -> list[Token]:
    """An appositive title after the name ("Dmytro Kuleba, Ukraine's foreign minister,"),
    or before it ("the city's mayor, Vladyslav Atroshenko,")."""
    root = span.root
    for child in root.children:
        if child.dep_ == "appos" and child.i >= span.end and child.i - span.end <= 2:
            words = [t for t in child.subtree if not t.is_punct]
            if 0 < len(words) <= 8:
                return words
    head = root.head
    place = head.lemma_.lower() in PLACE_WORDS  # "the capital, Kyiv,": no title
    if root.dep_ == "appos" and head.pos_ == "NOUN" and not place and 0 < span.start - head.i <= 8:
        # "The chief economic adviser to Ukraine's government, Oleg Ustenko,"
        words = [t for t in head.subtree if t.i < span.start and not t.is_punct]
        if 0 < len(words) <= 8:
            return words
    return []


def _affiliation(tokens: list[Token]) -> str | None:
    """A nationality or place among the role words, as the country it names ("Ukrainian":
    Ukraine; through country_converter); a group's name ("Houthi") as written; else an
    organisation the title names before its head word ("UNHCR spokesman")."""
    for token in tokens:
        if token.ent_type_ in ("NORP", "GPE") and token.dep_ not in ("pobj", "dobj", "nsubj"):
            ent = entity_span(token)
            word = _POSSESSIVE.sub("", ent.text if ent is not None else token.text)
            return country_of(word) or word
    orgs = [t for t in tokens if t.ent_type_ == "ORG"]
    if orgs and orgs[-1].i < tokens[-1].i:
        ent = entity_span(orgs[0])
        return _POSSESSIVE.sub("", ent.text) if ent is not None else None
    return None


def _whole_title(tokens: list[Token]) -> list[Token]:
    """The role words, widened to the whole of a name they begin inside ("… High
    Commissioner for Refugees Filippo Grandi" is not the role "Refugees")."""
    ent = entity_span(tokens[0])
    if ent is not None and ent.label_ != "PERSON" and ent.start < tokens[0].i:
        return [*ent[: tokens[0].i - ent.start], *tokens]
    return tokens


def _split_of(words: list[Token]) -> tuple[list[Token], str | None]:
    """An appositive title "director general of the IAEA": the role before the "of", and
    the organisation after it as the affiliation."""
    for k, token in enumerate(words):
        rest = [t for t in words[k + 1 :] if t.pos_ != "DET"]
        if token.lower_ in ("of", "at", "for") and k and rest and rest[0].ent_type_ == "ORG":
            ent = entity_span(rest[0])
            return words[:k], (ent.text if ent is not None else None)
    return words, None


def _title(words: list[Token], org: str | None) -> tuple[str | None, str | None]:
    """The role and the affiliation one mention's title words give."""
    affiliation = _affiliation(words) or org
    role = [t for t in words if t.ent_type_ not in ("NORP", "GPE") and t.dep_ != "poss"]
    role = [t for t in role if t.pos_ != "DET" and t.text not in ("'s", "\u2019s")]
    role = [t for t in role if not _HONORIFIC.match(t.text + " ")]  # "Mr.", "Dr." are no role
    # "UNHCR spokesman": the whole title is the role, the organisation also the affiliation
    return "".join(t.text + t.whitespace_ for t in role).strip() or None, affiliation


def _describe(entity: Entity, spans: list[Span]) -> None:
    """Role and affiliation of a person, each from the first mention that gives it; the
    evidence becomes the first mention with title words, with them."""
    described = False
    for span in spans:
        left = _role_tokens(span)
        after = _appositive(span)
        if not left and not after:
            continue
        words, org = (_whole_title(left), None) if left else _split_of(after)
        role, affiliation = _title(words, org)
        entity.role = entity.role or role
        entity.affiliation = entity.affiliation or affiliation
        if left and not described:
            entity.start, entity.end = words[0].idx, span.end_char
        described = True
        if entity.role and entity.affiliation:
            return


def _joined(ents: tuple[Span, ...]) -> list[Span]:
    """The entities, a person's name that spaCy cut in two ("Abdu Rabu" "Mansour Hadi", the
    halves with only a space between) joined into one."""
    joined: list[Span] = []
    for span in ents:
        last = joined[-1] if joined else None
        if (
            last is not None and span.label_ == last.label_ == "PERSON"
            and span.start == last.end and last[-1].whitespace_ == " "
        ):  # fmt: skip
            joined[-1] = Span(span.doc, last.start, span.end, label="PERSON")
        elif last is not None and _one_name_with_and(last, span):
            joined[-1] = Span(span.doc, last.start, span.end, label="ORG")
        else:
            joined.append(span)
    return joined


def _one_name_with_and(first: Span, second: Span) -> bool:
    """Whether two organisations with only "and" between are one name's halves: the first
    names what it is "of" ("International Federation of Red Cross" "Red Crescent
    Societies")."""
    doc = first.doc
    joined = (
        first.label_ == second.label_ == "ORG"
        and second.start == first.end + 1
        and doc[first.end].lower_ == "and"
        and any(t.lower_ == "of" for t in first[1:])
        and second[0].is_title
    )
    # "the Ministry of Health and Hamas": a body named alone elsewhere is a body of its own
    return joined and doc_text(doc).count(second.text) == 1


def _name_word(token: Token) -> bool:
    """A word of a group's name: capitalised or with a digit ("M23"), a proper noun or an
    acronym, or a hyphen or particle glued into one ("al-Qaida")."""
    doc = token.doc
    glued = not token.whitespace_ and token.i + 1 < len(doc)
    if token.text == "-":
        return glued and token.i > 0 and not doc[token.i - 1].whitespace_
    if token.is_lower and token.is_alpha and len(token) <= 3:
        return glued and _PARTICLE.match(f"{token.text}-A") is not None  # "al-", "el-"
    if not (token.text[0].isupper() or any(c.isdigit() for c in token.text)):
        return False
    return token.pos_ == "PROPN" or (token.text.isupper() and len(token) >= 2)


def _group_names(doc: Doc) -> list[Span]:
    """Armed groups named before what their members are called ("the M23 rebels",
    "Islamic State fighters", "al-Qaida-linked militants", "TNI proxy militias"); not
    a nationality or a place ("Syrian rebels", "Aceh rebels"), nor an unnamed group ("an
    ethnic Karen militia")."""
    found = []
    for token in doc:
        if token.pos_ != "NOUN" or token.lemma_.lower() not in GROUP_NOUNS:
            continue
        if any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in token.children):
            continue
        i = token.i - 1
        if i >= 2 and doc[i].lower_ in ALLEGIANCE and doc[i - 1].text == "-":
            i -= 2  # "al-Qaida-linked"
        elif i >= 1 and doc[i].is_lower and doc[i].head == token and doc[i].pos_ in ("NOUN", "ADJ"):
            i -= 1  # "TNI proxy militias"
        end = i + 1
        while i >= 0 and end - i <= MAX_NAME_TOKENS and _name_word(doc[i]):
            i -= 1
        start = i + 1
        while start < end and doc[start].text == "-":
            start += 1
        run = doc[start:end]
        if not len(run) or (len(run) == 1 and run[0].is_sent_start and not run.ents):
            continue  # "Opposition fighters" opening a sentence
        inner = [e for e in run.ents if e.end == run.end and e.label_ in ("ORG", "PERSON")]
        name = inner[0] if inner else run  # "Islamic Boko Haram militants": Boko Haram
        if any(t.ent_type_ in _NOT_NAMES for t in name):
            continue  # "On Monday rebels attacked": a day, not a group
        if all(t.ent_type_ == "NORP" for t in name) or _national(name):
            continue
        found.append(Span(doc, name.start, name.end, label="ORG"))
    return found


def _national(name: Span) -> bool:
    """Whether a name is a country or a nationality, or one spaCy takes for a place that
    the gazetteer holds ("Aceh")."""
    if country_of(name.text) is not None:
        return True
    placed = any(t.ent_type_ in ("GPE", "LOC") for t in name)
    return placed and bool(gazetteer().lookup(name.text))


def _demonym(name: str) -> bool:
    """Whether a name is a nationality word ("Sierra Leoneans", "Afghan"), not a country's
    name ("Oman", "Sudan") nor a body a nationality qualifies ("Afghan Taliban")."""
    country = country_of(name)
    if country is None or _DEMONYM_END.search(name) is None:
        return False
    last, country_last = name_key(name).split()[-1], name_key(country).split()[-1]
    return name_key(country) != name_key(name) and last[:4] == country_last[:4]


Mention = tuple[str, int, int, Span]  # spaCy label, start, end, span


def _mentions(article: Article) -> tuple[list[Mention], set[str]]:
    """Every name's mentions, and the names of armed groups (by `name_key`)."""
    text = article.text
    mentions: list[Mention] = []
    lines = title_case_lines(text)
    starts = [lo for lo, _ in lines]
    plain = lower_case_words(text)

    def opening(token: Token) -> bool:
        """A common word capitalised to open a sentence or in a headline."""
        k = bisect.bisect_right(starts, token.idx) - 1
        heading = token.is_sent_start or (k >= 0 and token.idx < lines[k][1])
        return heading and token.lower_ in plain

    for span in _joined(article.doc.ents):
        if span.label_ not in LABELS:
            continue
        offsets = _clean(span)
        if offsets is None:
            continue
        name = text[offsets[0] : offsets[1]]
        if len(span) == 1 and span.label_ in ("GPE", "LOC") and span[0].pos_ == "ADJ":
            continue  # a demonym tagged as a place ("Ukrainian")
        if span.label_ == "ORG" and (_nationality_words(span) or _common_word(span, opening)):
            continue
        if _plausible(name):
            mentions.append((span.label_, *offsets, span))
    taken = {(m[1], m[2]) for m in mentions}
    groups: set[str] = set()
    for span in _group_names(article.doc):
        offsets = (span.start_char, span.end_char)
        groups.add(name_key(span.text))
        if offsets not in taken and _plausible(span.text):
            mentions.append(("ORG", *offsets, span))
            taken.add(offsets)
    return _outside_headlines(text, mentions, lines), groups


def _nationality_words(span: Span) -> bool:
    """An organisation that is a nationality, alone or with the word after it ("Sierra
    Leoneans"; "Sierra" of "Sierra Leonean refugees")."""
    doc = span.doc
    if len(span) > 2:
        return False
    if _demonym(span.text):
        return True
    after = doc[span.end] if span.end < len(doc) and span[-1].whitespace_ else None
    return after is not None and after.is_title and _demonym(f"{span.text} {after.text}")


def _common_word(span: Span, opening: Callable[[Token], bool]) -> bool:
    """A one-word "organisation" that is a common word capitalised only to open a sentence
    or in a headline ("Refugee agency workers are ..." where the text says "refugee")."""
    return len(span) == 1 and span[0].is_title and opening(span[0])


def _place_word(token: Token) -> bool:
    """Whether the word names a kind of place ("village", "district")."""
    return token.pos_ == "NOUN" and token.lemma_.lower() in CITY_WORDS | REGION_WORDS


def find_names(article: Article) -> None:
    """Add one Entity per distinct person, organisation and place the article names."""
    mentions, groups = _mentions(article)

    # The label of a name is the one spaCy gives it most often (PERSON wins ties), but a
    # name written before "rebels" or "militants" is an armed group's.
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for label, start, end, _ in mentions:
        votes[name_key(article.text[start:end])][label] += 1
    persons = {k for k, v in votes.items() if v["PERSON"] and v["PERSON"] >= max(v.values())}
    persons -= groups
    majority = {k: LABELS[v.most_common(1)[0][0]] for k, v in votes.items()}
    majority.update({k: "organizations" for k in groups})
    # A name most often written as where something is ("in X", "near X") is a place,
    # whatever spaCy's small model tagged it.
    # One written as "the village of X" or "the district of X" is one: the text says so.
    placed: Counter[str] = Counter()
    said: set[str] = set()
    for _, start, end, span in mentions:
        head = span.root.head
        if span.root.dep_ == "pobj" and head.lower_ in LOCATIVE_PREPOSITIONS:
            placed[name_key(article.text[start:end])] += 1
        if span.root.dep_ == "pobj" and head.lower_ == "of" and _place_word(head.head):
            said.add(name_key(article.text[start:end]))
    for key in said | {k for k, n in placed.items() if 2 * n > sum(votes[k].values())}:
        majority[key] = "locations"
        persons.discard(key)

    by_key: dict[str, Entity] = {}
    spans_of: dict[str, list[Span]] = defaultdict(list)
    order: list[str] = []
    # Fullest forms first, so a surname finds the full name it belongs to.
    for label, start, end, span in sorted(mentions, key=lambda m: (-(m[2] - m[1]), m[1])):
        name = article.text[start:end]
        key = name_key(name)
        kind: EntityLabel = "people" if key in persons else majority[key]
        owner = by_key.get(key) or _fuller_person(key, kind, start, by_key, spans_of)
        if owner is None:
            owner = Entity(label=kind, name=name, start=start, end=end, spacy_label=label)
            if key in groups and kind == "organizations":
                owner.kind = "other"  # an armed group, unless its words say more ("army")
            by_key[key] = owner
            order.append(key)
        elif name_key(name) != name_key(owner.name) and name not in owner.aliases:
            owner.aliases.append(name)
        if key not in by_key:
            by_key[key] = owner
        owner.mentions.append((start, end))
        spans_of[name_key(owner.name)].append(span)
        if start < owner.start and name_key(name) == name_key(owner.name):
            owner.start, owner.end = start, end

    entities = sorted({id(by_key[k]): by_key[k] for k in order}.values(), key=lambda e: e.start)
    _surname_mentions(article, entities)
    article.entities.extend(entities)
    for entity in entities:
        entity.mentions.sort()
        if entity.label == "people":
            spans = sorted(spans_of[name_key(entity.name)], key=lambda s: s.start)
            _describe(entity, spans)


def title_case_lines(text: str) -> list[tuple[int, int]]:
    """The lines written in title case (headlines: "Pakistan Protests Cross-Border Attack"),
    where spaCy's small model takes capitalised words for names."""
    lines = []
    for line in re.finditer(r"[^\n]+", text):
        words = [w for w in re.findall(r"[A-Za-z][\w'-]*", line.group()) if len(w) > 3]
        if len(words) >= 2 and sum(w[0].isupper() for w in words) >= 0.8 * len(words):
            lines.append(line.span())
    return lines


def _outside_headlines(
    text: str, mentions: list[Mention], lines: list[tuple[int, int]]
) -> list[Mention]:
    """The mentions without organisations named only in title-case lines: a headline's
    "Killing 16 Villagers" is no body, and a real one is named again in the text."""

    def in_title(start: int) -> bool:
        return any(lo <= start < hi for lo, hi in lines)

    again = {name_key(text[s:e]) for _, s, e, _ in mentions if not in_title(s)}
    return [
        m for m in mentions
        if m[0] != "ORG" or not in_title(m[1]) or name_key(text[m[1] : m[2]]) in again
    ]  # fmt: skip


def _surname_mentions(article: Article, entities: list[Entity]) -> None:
    """A person's surname where spaCy tagged nothing ("Mr. Ruto said") is a mention too."""
    taken = {i for e in entities for s, end in e.mentions for i in range(s, end)}
    surnames: dict[str, Entity] = {}
    for entity in entities:
        words = entity.name.split()
        if entity.label == "people" and len(words) > 1:
            surnames.setdefault(words[-1], entity)
    for token in article.doc:
        owner = surnames.get(token.text)
        if owner is not None and token.idx not in taken and token.ent_type_ in ("", "PERSON"):
            owner.mentions.append((token.idx, token.idx + len(token.text)))
            owner.mentions.sort()


def _fuller_person(
    key: str,
    kind: EntityLabel,
    start: int,
    by_key: dict[str, Entity],
    spans_of: dict[str, list[Span]],
) -> Entity | None:
    """The person a partial name ("Kuleba", "Lavrov") belongs to: a longer person name that
    ends with it, the one mentioned last before it when several do."""
    words = key.split()
    if not words:
        return None
    best: tuple[int, Entity] | None = None
    for other_key, entity in by_key.items():
        other = other_key.split()
        if entity.label != "people" or len(other) <= len(words) or other[-len(words) :] != words:
            continue
        if kind != "people" and len(words) > 1:
            continue
        before = max((s for s, _ in entity.mentions if s < start), default=-1)
        if best is None or before > best[0]:
            best = (before, entity)
    return best[1] if best else None
