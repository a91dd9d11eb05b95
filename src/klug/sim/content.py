"""Demo pages, news and events of the demo city, in German and (mostly) English.

Published through the content service, so that they are audited and searchable like
an editor's. News and events are invented and say so; two news items have no English
text, to show how English pages fall back to German. Seeding again adds nothing that
is there already (by kind and address).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from klug.citizen.content import items as content_items
from klug.citizen.content.schemas import ItemCreate
from klug.core.audit import SYSTEM
from klug.core.db import utcnow

_DEMO_DE = "\n\n*Demo-Inhalt: Diese Meldung ist erfunden.*"
_DEMO_EN = "\n\n*Demo content: this item is made up.*"
_DEMO_EVENT_DE = "\n\n*Demo-Inhalt: Diese Veranstaltung ist erfunden.*"
_DEMO_EVENT_EN = "\n\n*Demo content: this event is made up.*"

PAGES: list[dict[str, str]] = [
    {
        "slug": "buergerbuero",
        "title_de": "Bürgerbüro",
        "title_en": "Citizens' office",
        "summary_de": "Personalausweis, Reisepass, Meldebescheinigung und Führungszeugnis: "
        "das Bürgerbüro im Rathaus hilft mit Termin und ohne.",
        "summary_en": "Identity card, passport, registration certificate and certificate of "
        "good conduct: the citizens' office in the town hall helps with or without appointment.",
        "body_de": "## Öffnungszeiten\n\nMontag bis Freitag 8 bis 12 Uhr, Donnerstag auch 14 bis "
        "18 Uhr.\n\n## Termine\n\nBuchen Sie einen Termin online, dann warten Sie nicht. Bringen "
        "Sie Ihren Personalausweis oder Reisepass mit.\n\n## Anmeldung einer Wohnung\n\nWer "
        "umzieht, meldet sich innerhalb von zwei Wochen an. Dafür brauchen Sie die "
        "Wohnungsgeberbestätigung Ihres Vermieters.",
        "body_en": "## Opening hours\n\nMonday to Friday 8 am to 12 noon, Thursday also 2 to "
        "6 pm.\n\n## Appointments\n\nBook an appointment online and you will not have to wait. "
        "Bring your identity card or passport.\n\n## Registering your address\n\nAnyone who "
        "moves registers within two weeks. You need the landlord's confirmation of residence.",
    },
    {
        "slug": "abfall",
        "title_de": "Abfall und Wertstoffe",
        "title_en": "Waste and recycling",
        "summary_de": "Abfuhrtermine, Sperrmüll, Wertstoffhof und Biotonne in Kaiserslautern.",
        "summary_en": "Collection days, bulky waste, recycling centre and organic waste bin.",
        "body_de": "## Müllabfuhr\n\nRestmüll wird alle zwei Wochen abgeholt, Biomüll jede Woche. "
        "Die Termine für Ihre Straße stehen im Abfallkalender.\n\n## Sperrmüll\n\nZweimal im Jahr "
        "holt die Stadt Sperrmüll kostenlos ab. Melden Sie die Abholung online an.\n\n"
        "## Wertstoffhof\n\nElektrogeräte, Grünschnitt, Bauschutt in kleinen Mengen und "
        "Altkleider nimmt der Wertstoffhof an.",
        "body_en": "## Collection\n\nResidual waste is collected every two weeks, organic waste "
        "every week. The dates for your street are in the waste calendar.\n\n## Bulky waste\n\n"
        "Twice a year the city collects bulky waste free of charge. Book the collection "
        "online.\n\n## Recycling centre\n\nThe recycling centre takes electrical appliances, "
        "green waste, small amounts of rubble and old clothes.",
    },
    {
        "slug": "parken",
        "title_de": "Parken in der Innenstadt",
        "title_en": "Parking in the city centre",
        "summary_de": "Parkhäuser, Parkscheinautomaten und der Parkausweis für Bewohnerinnen "
        "und Bewohner.",
        "summary_en": "Car parks, parking meters and the resident parking permit.",
        "body_de": "## Parkhäuser\n\nSieben Parkhäuser in der Innenstadt zeigen ihre freien "
        "Plätze live auf der Mobilitätsseite.\n\n## Parkausweis für Bewohner\n\nWer in einer "
        "Bewohnerparkzone wohnt, beantragt einen Parkausweis. Er gilt ein Jahr und kostet "
        "30 Euro. Sie brauchen die Zulassungsbescheinigung Teil I Ihres Fahrzeugs.\n\n"
        "## Parkscheine\n\nAn allen Automaten können Sie mit Karte oder App bezahlen.",
        "body_en": "## Car parks\n\nSeven car parks in the city centre show their free spaces "
        "live on the mobility page.\n\n## Resident parking permit\n\nIf you live in a resident "
        "parking zone, apply for a parking permit. It is valid for one year and costs 30 euros. "
        "You need the vehicle registration certificate part I.\n\n## Parking tickets\n\n"
        "Every parking meter takes cards and app payments.",
    },
    {
        "slug": "energie",
        "title_de": "Energie und Klimaschutz",
        "title_en": "Energy and climate protection",
        "summary_de": "Wie Kaiserslautern erneuerbaren Strom ausbaut und wie Sie mitmachen.",
        "summary_en": "How Kaiserslautern expands renewable power and how you can take part.",
        "body_de": "Kaiserslautern will bis 2035 seinen Strom bilanziell erneuerbar erzeugen. "
        "Photovoltaik auf städtischen Dächern, Windkraft und Biomasse tragen dazu bei.\n\n"
        "## Solaranlage auf dem eigenen Dach\n\nDie Energieberatung der Stadt prüft kostenlos, "
        "ob sich eine Solaranlage für Ihr Dach lohnt. Das Förderprogramm bezuschusst "
        "Batteriespeicher.",
        "body_en": "Kaiserslautern aims to generate as much renewable power as it uses by 2035. "
        "Solar panels on municipal roofs, wind power and biomass contribute.\n\n## Solar on "
        "your own roof\n\nThe city's energy advice checks free of charge whether solar panels "
        "pay off on your roof. The funding programme subsidises battery storage.",
    },
    {
        "slug": "bus-und-bahn",
        "title_de": "Bus und Bahn",
        "title_en": "Buses and trains",
        "summary_de": "Linien, Fahrpläne und Tickets im Verkehrsverbund Rhein-Neckar.",
        "summary_en": "Lines, timetables and tickets in the Rhine-Neckar transport association.",
        "body_de": "Die Stadtbusse fahren im Takt von 15 Minuten. Das Deutschlandticket gilt in "
        "allen Bussen. Abfahrten in Echtzeit zeigt die Mobilitätsseite.",
        "body_en": "City buses run every 15 minutes. The Deutschlandticket is valid on all "
        "buses. The mobility page shows departures in real time.",
    },
    {
        "slug": "stadtbibliothek",
        "title_de": "Stadtbibliothek",
        "title_en": "City library",
        "summary_de": "Bücher, Filme, Spiele und die Onleihe – mit einem Ausweis für 12 Euro "
        "im Jahr.",
        "summary_en": "Books, films, games and e-books – with a library card for 12 euros a year.",
        "body_de": "Die Stadtbibliothek hat dienstags bis samstags geöffnet. Kinder und "
        "Jugendliche bis 18 Jahre leihen kostenlos aus.",
        "body_en": "The city library is open Tuesday to Saturday. Children and young people up "
        "to 18 borrow free of charge.",
    },
    {
        "slug": "baustellen",
        "title_de": "Baustellen und Sperrungen",
        "title_en": "Roadworks and closures",
        "summary_de": "Wo in Kaiserslautern gebaut wird und welche Umleitungen gelten.",
        "summary_en": "Where roadworks are under way and which diversions apply.",
        "body_de": "Aktuelle Baustellen und Sperrungen stehen auf der Mobilitätsseite, mit Karte "
        "und als Liste. Größere Maßnahmen kündigt die Stadt unter Aktuelles an.",
        "body_en": "Current roadworks and closures are on the mobility page, as a map and as a "
        "list. Larger works are announced in the news.",
    },
    {
        "slug": "hundesteuer",
        "title_de": "Hundesteuer",
        "title_en": "Dog tax",
        "summary_de": "Wer einen Hund hält, meldet ihn innerhalb von zwei Wochen an.",
        "summary_en": "Anyone keeping a dog registers it within two weeks.",
        "body_de": "Die Hundesteuer beträgt 120 Euro im Jahr für den ersten Hund. Assistenzhunde "
        "sind befreit. Die Steuermarke erhalten Sie nach der Anmeldung per Post.",
        "body_en": "The dog tax is 120 euros a year for the first dog. Assistance dogs are "
        "exempt. You receive the tax tag by post after registering.",
    },
    {
        "slug": "wichtige-rufnummern",
        "title_de": "Wichtige Rufnummern",
        "title_en": "Important phone numbers",
        "summary_de": "Notruf, Störungsdienste und die Behördennummer 115.",
        "summary_en": "Emergency numbers, fault services and the public service number 115.",
        "body_de": "- Feuerwehr und Rettungsdienst: 112\n- Polizei: 110\n- Behördennummer: 115\n"
        "- Ärztlicher Bereitschaftsdienst: 116 117",
        "body_en": "- Fire brigade and ambulance: 112\n- Police: 110\n- Public service number: "
        "115\n- Out-of-hours medical service: 116 117",
    },
    {
        "slug": "offene-daten",
        "title_de": "Offene Daten",
        "title_en": "Open data",
        "summary_de": "Messwerte und Daten der Stadt zur freien Nutzung.",
        "summary_en": "The city's measurements and data, free to use.",
        "body_de": "Luftqualität, Parkplätze, Energie und Verkehr: Die Stadt veröffentlicht ihre "
        "Daten unter offenen Lizenzen über die SensorThings-Schnittstelle und den Datenkatalog.",
        "body_en": "Air quality, parking, energy and traffic: the city publishes its data under "
        "open licences through the SensorThings interface and the data catalogue.",
    },
]

NEWS: list[dict[str, Any]] = [
    {
        "slug": "buergerbuero-laengere-oeffnungszeiten",
        "days_ago": 2,
        "title_de": "Bürgerbüro donnerstags bis 18 Uhr geöffnet",
        "title_en": "Citizens' office open until 6 pm on Thursdays",
        "body_de": "Ab dem nächsten Monat hat das Bürgerbüro donnerstags bis 18 Uhr geöffnet. "
        "Termine können online gebucht werden.",
        "body_en": "From next month the citizens' office is open until 6 pm on Thursdays. "
        "Appointments can be booked online.",
    },
    {
        "slug": "sperrmuell-online-anmelden",
        "days_ago": 6,
        "title_de": "Sperrmüll jetzt online anmelden",
        "title_en": "Book bulky waste collection online",
        "body_de": "Die Abholung von Sperrmüll lässt sich jetzt online anmelden. Sie wählen "
        "einen Termin und erhalten eine Bestätigung per E-Mail.",
        "body_en": "Bulky waste collection can now be booked online. Choose a date and you "
        "receive a confirmation by e-mail.",
    },
    {
        "slug": "solaranlagen-auf-schulen",
        "days_ago": 11,
        "title_de": "Neue Solaranlagen auf vier Schulen",
        "title_en": "New solar panels on four schools",
        "body_de": "Auf den Dächern von vier Schulen erzeugen neue Photovoltaikanlagen zusammen "
        "1,2 Megawatt Spitzenleistung. Die Erträge zeigt die Energieseite live.",
        "body_en": "New solar panels on the roofs of four schools add 1.2 megawatts of peak "
        "power. The energy page shows their output live.",
    },
    {
        "slug": "parkhaus-rathaus-saniert",
        "days_ago": 15,
        "title_de": "Parkhaus am Rathaus wird saniert",
        "title_en": "Town hall car park to be renovated",
        "body_de": "Das Parkhaus am Rathaus wird ab Montag in zwei Abschnitten saniert. Die Hälfte "
        "der Stellplätze bleibt nutzbar. Bewohner mit Parkausweis parken in der Zwischenzeit "
        "im Parkhaus Pfalztheater.",
        "body_en": "The town hall car park will be renovated in two stages from Monday. Half of "
        "the spaces remain open. Residents with a parking permit park in the Pfalztheater car "
        "park meanwhile.",
    },
    {
        "slug": "winterdienst-bereit",
        "days_ago": 20,
        "title_de": "Winterdienst ist bereit",
        "title_en": "Winter road service is ready",
        "body_de": "Streufahrzeuge und 2.000 Tonnen Salz stehen bereit. Anlieger räumen Gehwege "
        "werktags bis 7 Uhr.",
        "body_en": "Gritters and 2,000 tonnes of salt are ready. Residents clear pavements by "
        "7 am on working days.",
    },
    {
        "slug": "led-strassenbeleuchtung",
        "days_ago": 27,
        "title_de": "Straßenbeleuchtung spart 60 Prozent Strom",
        "title_en": "Street lighting saves 60 per cent of electricity",
        "body_de": "Nach dem Umbau auf LED braucht die Straßenbeleuchtung 60 Prozent weniger "
        "Strom. Defekte Laternen melden Sie im Mängelmelder.",
        "body_en": "Since the switch to LED, street lighting uses 60 per cent less electricity. "
        "Report broken street lights in the issue reporter.",
    },
    {
        "slug": "stadtbibliothek-onleihe",
        "days_ago": 33,
        "title_de": "Stadtbibliothek erweitert die Onleihe",
        "title_en": "",
        "body_de": "Die Stadtbibliothek bietet 5.000 weitere E-Books und Hörbücher in der Onleihe "
        "an.",
        "body_en": "",
    },
    {
        "slug": "bewohnerparkausweis-digital",
        "days_ago": 40,
        "title_de": "Bewohnerparkausweise künftig digital",
        "title_en": "Resident parking permits to go digital",
        "body_de": "Parkausweise für Bewohnerinnen und Bewohner können bald vollständig online "
        "beantragt werden – mit Upload der Zulassungsbescheinigung.",
        "body_en": "Resident parking permits will soon be available fully online – with an "
        "upload of the vehicle registration certificate.",
    },
    {
        "slug": "beteiligung-radwege",
        "days_ago": 48,
        "title_de": "Beteiligung: Wo fehlen Radwege?",
        "title_en": "Have your say: where are cycle paths missing?",
        "body_de": "Bis Ende des Monats können alle Kaiserslauterinnen und Kaiserslauterer Lücken "
        "im Radwegenetz melden.",
        "body_en": "Until the end of the month everyone in Kaiserslautern can report gaps in the "
        "cycle network.",
    },
    {
        "slug": "wochenmarkt-neuer-standort",
        "days_ago": 55,
        "title_de": "Wochenmarkt zieht vorübergehend um",
        "title_en": "",
        "body_de": "Während der Bauarbeiten am Stiftsplatz findet der Wochenmarkt auf dem "
        "Schillerplatz statt.",
        "body_en": "",
    },
]

EVENTS: list[dict[str, Any]] = [
    {
        "slug": "stadtratssitzung",
        "in_days": 5,
        "hours": 4,
        "title_de": "Öffentliche Sitzung des Stadtrats",
        "title_en": "Public meeting of the city council",
        "place_de": "Rathaus, Großer Ratssaal",
        "place_en": "Town hall, council chamber",
        "body_de": "Die Sitzung ist öffentlich. Die Tagesordnung steht im Ratsinformationssystem.",
        "body_en": "The meeting is open to the public. The agenda is in the council information "
        "system.",
    },
    {
        "slug": "repair-cafe",
        "in_days": 9,
        "hours": 3,
        "title_de": "Repair-Café im Stadtteilzentrum",
        "title_en": "Repair café at the community centre",
        "place_de": "Stadtteilzentrum Innenstadt-West",
        "place_en": "Community centre Innenstadt-West",
        "body_de": "Ehrenamtliche helfen, Elektrogeräte, Fahrräder und Kleidung zu reparieren.",
        "body_en": "Volunteers help repair electrical appliances, bicycles and clothes.",
    },
    {
        "slug": "energieberatung-sprechstunde",
        "in_days": 14,
        "hours": 2,
        "title_de": "Sprechstunde Energieberatung: Solar auf dem Dach",
        "title_en": "Energy advice: solar on your roof",
        "place_de": "Rathaus, Raum 204",
        "place_en": "Town hall, room 204",
        "body_de": "Bringen Sie Fotos Ihres Dachs und Ihre Stromrechnung mit.",
        "body_en": "Bring photos of your roof and your electricity bill.",
    },
    {
        "slug": "buergerversammlung-radverkehr",
        "in_days": 25,
        "hours": 2,
        "title_de": "Bürgerversammlung Radverkehr",
        "title_en": "Residents' meeting on cycling",
        "place_de": "Fruchthalle",
        "place_en": "Fruchthalle",
        "body_de": "Die Stadt stellt die Ergebnisse der Beteiligung zu Radwegen vor.",
        "body_en": "The city presents the results of the consultation on cycle paths.",
    },
    {
        "slug": "fuehrung-klaeranlage",
        "in_days": -12,
        "hours": 2,
        "title_de": "Führung durch die Kläranlage",
        "title_en": "Guided tour of the sewage works",
        "place_de": "Zentralkläranlage",
        "place_en": "Central sewage works",
        "body_de": "Wie aus Abwasser wieder sauberes Wasser wird.",
        "body_en": "How waste water becomes clean water again.",
    },
    {
        "slug": "weihnachtsmarkt-eroeffnung",
        "in_days": -30,
        "hours": 3,
        "title_de": "Eröffnung des Weihnachtsmarkts",
        "title_en": "Opening of the Christmas market",
        "place_de": "Schillerplatz",
        "place_en": "Schillerplatz",
        "body_de": "Der Oberbürgermeister eröffnet den Weihnachtsmarkt.",
        "body_en": "The mayor opens the Christmas market.",
    },
]


def _publish(session: Session, item_in: ItemCreate) -> bool:
    if content_items.get_by_slug(session=session, kind=item_in.kind, slug=item_in.slug):
        return False
    item = content_items.create(session=session, item_in=item_in, actor=SYSTEM, is_demo=True)
    content_items.publish(session=session, item=item, actor=SYSTEM)
    return True


def seed_content(session: Session) -> int:
    """Publish the demo pages, news and events that are missing; returns how many."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    added = 0
    for page in PAGES:
        added += _publish(session, ItemCreate(kind="page", **page))
    for news in NEWS:
        fields = {k: v for k, v in news.items() if k != "days_ago"}
        fields["body_de"] += _DEMO_DE
        fields["body_en"] += _DEMO_EN if fields["body_en"] else ""
        published_at = now - dt.timedelta(days=news["days_ago"], hours=3)
        added += _publish(session, ItemCreate(kind="news", published_at=published_at, **fields))
    for event in EVENTS:
        fields = {k: v for k, v in event.items() if k not in {"in_days", "hours"}}
        fields["body_de"] += _DEMO_EVENT_DE
        fields["body_en"] += _DEMO_EVENT_EN
        starts_at = (now + dt.timedelta(days=event["in_days"])).replace(hour=17)
        added += _publish(
            session,
            ItemCreate(
                kind="event",
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(hours=event["hours"]),
                published_at=now - dt.timedelta(days=40),
                **fields,
            ),
        )
    return added
