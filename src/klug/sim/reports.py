"""Demo reports for the Mängelmelder: 30 plausible problems around Kaiserslautern's centre
over the last 60 days, some handled and closed – labelled as demo data everywhere.

Made with a fixed random seed, so every demo city looks the same; stored through the
reports service like real ones (timeline, audit log), only with past times. The demo
citizen has one report of their own and supports another ("My reports" in the account).
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from klug.citizen.reports import mine as my_reports
from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import Answer, catalogue
from klug.citizen.reports.schemas import ReportCreate, StatusChange
from klug.core.audit import SYSTEM

COUNT = 30
CENTRE = (49.4443, 7.7690)  # Stiftsplatz

# (street, what people write) per category; addresses are real streets of the centre.
_PROBLEMS: dict[str, list[tuple[str, str, dict[str, Answer]]]] = {
    "pothole": [
        (
            "Pirmasenser Straße 12",
            "Tiefes Schlagloch auf der rechten Spur, Radfahrer müssen ausweichen.",
            {"size": "large", "surface": "road"},
        ),
        (
            "Trippstadter Straße 40",
            "Mehrere Löcher im Radweg nach dem Winter.",
            {"size": "small", "surface": "cycle_path"},
        ),
        (
            "Mannheimer Straße 7",
            "Loch im Gehweg vor der Bushaltestelle, Stolpergefahr.",
            {"size": "medium", "surface": "footpath"},
        ),
        (
            "Kaiserbergring 3",
            "Aufgebrochener Belag an der Einmündung.",
            {"size": "medium", "surface": "road", "depth_cm": 8.0},
        ),
    ],
    "street_light": [
        (
            "Logenstraße 9",
            "Die Laterne vor dem Haus leuchtet seit Tagen nicht.",
            {"fault": "off", "pole_number": "L-2214"},
        ),
        ("Burgstraße 20", "Laterne flackert die ganze Nacht.", {"fault": "flickering"}),
        ("Schillerplatz", "Zwei Laternen brennen auch tagsüber.", {"fault": "daytime"}),
        ("Barbarossastraße 31", "Mast wurde angefahren und steht schief.", {"fault": "damaged"}),
    ],
    "illegal_dumping": [
        (
            "Parkplatz am Volkspark",
            "Sperrmüll und ein alter Kühlschrank neben den Containern.",
            {"waste_types": ["bulky", "electrical"], "amount": "van"},
        ),
        (
            "Waldweg am Humberg",
            "Säcke mit Hausmüll im Wald abgeladen.",
            {"waste_types": ["household"], "amount": "bag"},
        ),
        (
            "Eisenbahnstraße 55",
            "Altreifen im Hinterhof an der Straße.",
            {"waste_types": ["tyres"], "amount": "car_boot"},
        ),
        (
            "Pariser Straße 100",
            "Bauschutt am Straßenrand.",
            {"waste_types": ["construction"], "amount": "car_boot"},
        ),
    ],
    "graffiti": [
        (
            "Unterführung am Hauptbahnhof",
            "Großflächige Schmierereien an der Wand.",
            {"offensive": "no", "area_m2": 12.0},
        ),
        (
            "Fackelstraße 18",
            "Beleidigende Parole an der Hauswand der Stadtbibliothek.",
            {"offensive": "yes"},
        ),
        ("Stiftsplatz", "Tags auf dem Stromkasten.", {"offensive": "no", "area_m2": 1.5}),
    ],
    "damaged_sign": [
        (
            "Rudolf-Breitscheid-Straße / Ecke Königstraße",
            "Stoppschild ist umgefahren.",
            {"damage": "bent", "sign_kind": "Stopp"},
        ),
        (
            "Richard-Wagner-Straße 4",
            "Schild „Vorfahrt gewähren“ ist von Ästen verdeckt.",
            {"damage": "covered", "sign_kind": "Vorfahrt gewähren"},
        ),
        (
            "Am Altenhof",
            "Tempo-30-Schild verdreht, zeigt in die falsche Richtung.",
            {"damage": "turned", "sign_kind": "Tempo 30"},
        ),
    ],
    "playground": [
        (
            "Spielplatz im Stadtpark",
            "Schaukel hängt nur noch an einer Kette.",
            {"issue": "broken_equipment", "playground_name": "Stadtpark"},
        ),
        (
            "Spielplatz Volkspark",
            "Glasscherben im Sandkasten.",
            {"issue": "sharp_objects", "playground_name": "Volkspark"},
        ),
        ("Spielplatz Gartenschau", "Rutsche ist stark verschmutzt.", {"issue": "dirty"}),
    ],
    "other": [
        ("Marktstraße 15", "Parkbank ist beschädigt, eine Latte fehlt.", {}),
        ("Japanischer Garten, Eingang", "Wasserhahn am Brunnen tropft ständig.", {}),
    ],
}

_NOTES = {
    "in_progress": [
        "Die Meldung wurde an den Bauhof weitergegeben.",
        "Ein Team ist für diese Woche eingeplant.",
        "Wir haben die Stelle gesichert; die Reparatur folgt.",
    ],
    "closed": [
        "Erledigt – vielen Dank für den Hinweis!",
        "Der Schaden wurde behoben.",
        "Beseitigt.",
    ],
}


def seed_reports(session: Session) -> int:
    """Store the demo reports unless they are there already; returns how many were added."""
    if report_service.has_demo_reports(session=session):
        return 0
    rng = random.Random(311)  # noqa: S311 - repeatable demo data, not security
    known = catalogue()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    problems = [(code, *p) for code, items in _PROBLEMS.items() for p in items]
    while len(problems) < COUNT:
        problems.append(problems[rng.randrange(len(problems))])
    added = 0
    for code, address, description, answers in problems[:COUNT]:
        category = known.get(code)
        assert category is not None, code
        reported = now - dt.timedelta(days=rng.uniform(0.5, 60))
        report = report_service.create(
            session=session,
            report_in=ReportCreate(
                category_code=code,
                description=description,
                lat=CENTRE[0] + rng.uniform(-0.012, 0.012),
                lon=CENTRE[1] + rng.uniform(-0.018, 0.018),
                address=f"{address}, Kaiserslautern",
                answers=answers,
            ),
            category=category,
            source="demo",
            now=reported,
            is_demo=True,
        )
        added += 1
        fate = rng.random()
        if fate < 0.25:
            continue
        steps = [
            ("in_progress", reported + dt.timedelta(hours=rng.uniform(2, 48))),
            ("closed", reported + dt.timedelta(days=rng.uniform(0.3, 1.4) * category.target_days)),
        ]
        for status, at in steps[: 2 if fate > 0.55 else 1]:
            if at >= now:
                break
            report_service.change_status(
                session=session,
                report=report,
                change=StatusChange(status=status, public_note=rng.choice(_NOTES[status])),
                actor=SYSTEM,
                now=at,
            )
    return added


def seed_citizen_reports(session: Session, account_id: int) -> int:
    """The demo citizen's own report (in progress, with a public and an internal note)
    and one open demo report they support ("me too"), unless they have them already;
    returns how many of the two were added. Run after ``seed_reports``."""
    added = 0
    _own, own_count = my_reports.own_reports(session=session, account_id=account_id, limit=1)
    if own_count == 0:
        category = catalogue().get("street_light")
        assert category is not None
        reported = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=9)
        report = report_service.create(
            session=session,
            report_in=ReportCreate(
                category_code=category.code,
                description="Die Laterne vor meinem Haus ist seit einer Woche dunkel.",
                lat=49.4452,
                lon=7.7712,
                address="Logenstraße 14, Kaiserslautern",
                answers={"fault": "off", "pole_number": "L-2231"},
            ),
            category=category,
            reporter_account_id=account_id,
            source="demo",
            now=reported,
            is_demo=True,
        )
        report_service.change_status(
            session=session,
            report=report,
            change=StatusChange(
                status="in_progress",
                public_note="Der Auftrag ist an die Stadtwerke gegangen.",
                internal_note="Demo: Leuchtmittel und Vorschaltgerät prüfen.",
            ),
            actor=SYSTEM,
            now=reported + dt.timedelta(days=1),
        )
        added += 1
    _supported, supported_count = my_reports.supported_reports(
        session=session, account_id=account_id, limit=1
    )
    if supported_count == 0:
        open_reports, _total = report_service.list_reports(
            session=session, statuses=("received", "in_progress"), limit=COUNT
        )
        others = [r for r in open_reports if r.is_demo and r.reporter_account_id is None]
        if others and report_service.support(
            session=session, report=others[-1], account_id=account_id, email=None
        ):
            added += 1
    return added
