"""Generated information pages of a city administration, for the search benchmark.

Real pages are each about one or two subjects and share the administration's general
vocabulary. So every page draws a main and a second subject from ~2,000 subject words
(the city's named subjects first, then compounds such as ``Anwohnerparkplatz``) with a
Zipf distribution – a few subjects have hundreds of pages, most have a handful – and its
sentences mix the subject words with general ones (``Antrag``, ``Termin``, ``Gebühren``)
that occur on most pages. Words appear in their inflected forms, so that stemming
matters. Deterministic for a seed.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass


def _words(text: str) -> list[str]:
    return text.split()


# Subjects the benchmark's queries name, with inflected forms.
SUBJECTS = [
    ("Parkausweis", "Parkausweise", "Parkausweises"),
    ("Sperrmüll", "Sperrmülls"),
    ("Energieberatung", "Energieberatungen"),
    ("Solaranlage", "Solaranlagen"),
    ("Förderprogramm", "Förderprogramme"),
    ("Baustelle", "Baustellen"),
    ("Umleitung", "Umleitungen"),
    ("Personalausweis", "Personalausweise"),
    ("Kita-Platz", "Kita-Plätze"),
    ("Hundesteuer",),
    ("Spielplatz", "Spielplätze"),
    ("Abfallkalender", "Abfallkalenders"),
    ("Wertstoffhof", "Wertstoffhöfe"),
    ("Straßenbeleuchtung",),
    ("Bebauungsplan", "Bebauungspläne"),
    ("Radweg", "Radwege"),
    ("Bushaltestelle", "Bushaltestellen"),
    ("Parkhaus", "Parkhäuser"),
    ("Grundsteuer",),
    ("Wohngeld",),
    ("Meldebescheinigung", "Meldebescheinigungen"),
    ("Reisepass", "Reisepässe"),
    ("Führungszeugnis", "Führungszeugnisse"),
    ("Gewerbeanmeldung", "Gewerbeanmeldungen"),
    ("Baugenehmigung", "Baugenehmigungen"),
    ("Geburtsurkunde", "Geburtsurkunden"),
    ("Stadtbibliothek",),
    ("Schwimmbad", "Schwimmbäder"),
    ("Zulassungsbescheinigung",),
]
_PREFIXES = _words(
    "Anwohner Bürger Kinder Jugend Senioren Rad Fußgänger Straßen Schul Sport Kultur "
    "Wasser Abwasser Wald Markt Bau Verkehrs Umwelt Klima Wärme Wohn Friedhofs "
    "Feuerwehr Familien Sozial Musik Theater Museums Tier Garten Freizeit Touristen "
    "Hochschul Ausbildungs Ehrenamts Beratungs Stadtteil Nachbarschafts Integrations"
)
_BASES = _words(
    "platz amt büro zentrum antrag plan konzept beratung förderung stelle verein haus "
    "netz anlage schutz karte ticket satzung termin gutschein zuschuss projekt fest "
    "sprechstunde kurs angebot dienst beirat fonds"
)
# The administration's general words: on most pages, whatever their subject.
GENERAL = [
    ("Antrag", "Anträge", "Antrags"),
    ("Termin", "Termine", "Terminen"),
    ("Gebühr", "Gebühren"),
    ("Unterlage", "Unterlagen"),
    ("Bürgerbüro", "Bürgerbüros"),
    ("Öffnungszeit", "Öffnungszeiten"),
    ("Frist", "Fristen"),
    ("Nachweis", "Nachweise"),
    ("Bescheid", "Bescheide"),
    ("Verwaltung",),
    ("Formular", "Formulare"),
    ("Auskunft", "Auskünfte"),
]
VERBS = _words(
    "beantragen einreichen abholen prüfen bezahlen verlängern anmelden abmelden melden "
    "vereinbaren buchen herunterladen nachreichen ändern"
)
ADJECTIVES = _words(
    "neue städtische kostenlose digitale barrierefreie öffentliche zuständige gültige "
    "vollständige aktuelle"
)
DISTRICTS = _words(
    "Innenstadt Betzenberg Erfenbach Morlautern Siegelbach Hohenecken Dansenberg "
    "Einsiedlerhof Erzhütten Mölschbach Grübentälchen Lämmchesberg"
)
TEMPLATES = [
    "{a} {S} können Sie online {v}.",
    "Für {S} ist die Verwaltung im Stadtteil {d} zuständig.",
    "Bitte bringen Sie {G} und {g} mit, wenn Sie wegen {S} kommen.",
    "Die Stadt informiert über {S} und {T} in {d}.",
    "Wer {S} {v} möchte, braucht {G}.",
    "Ab dem nächsten Monat gelten {a} Regeln für {S}.",
    "Fragen zu {G} beantwortet das Team unter der Behördennummer 115.",
    "In {d} werden {T} und {G} bis zum Jahresende {v}.",
    "{G} und {g} finden Sie im Bürgerportal.",
]


@dataclass(frozen=True)
class GeneratedPage:
    slug: str
    title: str
    summary: str
    body: str


class Corpus:
    """A vocabulary with Zipf-distributed subjects; ``page(n)`` makes page n."""

    def __init__(self, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        compounds: list[tuple[str, ...]] = [
            (p + b,) for p, b in itertools.product(_PREFIXES, _BASES)
        ]
        self.rng.shuffle(compounds)
        self.subjects = SUBJECTS + compounds
        weights = [1 / (rank**0.8) for rank in range(1, len(self.subjects) + 1)]
        self._cumulative = list(itertools.accumulate(weights))

    def _subject(self) -> tuple[str, ...]:
        point = self.rng.random() * self._cumulative[-1]
        return self.subjects[bisect.bisect(self._cumulative, point)]

    def _sentence(self, main: tuple[str, ...], second: tuple[str, ...]) -> str:
        rng = self.rng
        sentence = rng.choice(TEMPLATES).format(
            a=rng.choice(ADJECTIVES),
            S=rng.choice(main if rng.random() < 0.7 else second),
            T=rng.choice(second if rng.random() < 0.5 else self._subject()),
            G=rng.choice(rng.choice(GENERAL)),
            g=rng.choice(rng.choice(GENERAL)),
            v=rng.choice(VERBS),
            d=rng.choice(DISTRICTS),
        )
        return sentence[0].upper() + sentence[1:]

    def page(self, n: int) -> GeneratedPage:
        """One page of 150–300 words in three to five sections."""
        rng = self.rng
        main, second = self._subject(), self._subject()
        sections = []
        for _ in range(rng.randint(3, 5)):
            heading = f"## {rng.choice(main + second)} {rng.choice(VERBS)}"
            text = " ".join(self._sentence(main, second) for _ in range(rng.randint(3, 5)))
            sections.append(f"{heading}\n\n{text}")
        return GeneratedPage(
            slug=f"seite-{n}",
            title=f"{main[0]} in {rng.choice(DISTRICTS)}: {second[0]} {rng.choice(VERBS)}",
            summary=self._sentence(main, second),
            body="\n\n".join(sections),
        )
