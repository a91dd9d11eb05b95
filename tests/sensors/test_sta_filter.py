"""``$filter`` (SensorThings v1.1 §9.3.3.5): every operator and function family, checked
by the exact set of entities it returns from the known data set of ``conftest.py``."""

from __future__ import annotations

import pytest

from tests.sensors.conftest import ALL_OBSERVATIONS, FIXED_OBSERVATIONS, City

TEMPERATURE_READINGS = {"frost", "thaw", "spring", "kaiserberg", "summer", "heat", "eve"}
NUMERIC = TEMPERATURE_READINGS | {"humid", "dry"}
NOISE_READINGS = {"quiet", "loud", "recent", "lastweek"}
FIXED = set(FIXED_OBSERVATIONS)
INNENSTADT_WKT = "POLYGON((7.75 49.44, 7.78 49.44, 7.78 49.45, 7.75 49.45, 7.75 49.44))"
AROUND_PFAFFPLATZ = (
    "POLYGON((7.755 49.443, 7.775 49.443, 7.775 49.447, 7.755 49.447, 7.755 49.443))"
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result eq 2", {"thaw"}),
        ("2 eq result", {"thaw"}),
        ("result gt 20", {"summer", "heat", "humid", "dry"}),
        ("result ge 31", {"heat", "humid", "dry"}),
        ("result lt 0", {"frost"}),
        ("result le 0", {"frost", "eve"}),
        ("result eq 'laut'", {"loud", "recent"}),
        # Only text results can differ from a text: numbers and objects are not compared.
        ("result ne 'laut'", {"quiet", "lastweek"}),
        ("result eq 4.25", {"spring"}),
        ("result eq -3.5", {"frost"}),
    ],
)
def test_comparison_operators(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result gt 20 and result lt 40", {"summer", "heat", "dry"}),
        ("result lt 0 or result gt 80", {"frost", "humid"}),
        ("not (result gt 0)", {"frost", "eve"}),
        ("not result gt 0", {"frost", "eve"}),
        # and binds tighter than or.
        ("result eq 2 or result eq 4.25 and result gt 4", {"thaw", "spring"}),
        ("(result eq 2 or result eq 4.25) and result gt 4", {"spring"}),
        ("result eq 'laut' or result eq 2", {"loud", "recent", "thaw"}),
    ],
)
def test_logical_operators(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result add 2 eq 33", {"heat"}),
        ("result sub 1 eq 1", {"thaw"}),
        ("result mul 2 eq 57", {"summer"}),
        ("result div 2 eq 2.125", {"spring"}),
        # Division of whole numbers is not integer division.
        ("result div 4 eq 0.5", {"thaw"}),
        ("result mod 2 eq 0.5", {"summer"}),
        ("result mod 2 eq 1", {"heat", "humid", "dry"}),
        # The remainder has the sign of the dividend: -3.5 mod 2 is -1.5.
        ("result mod 2 eq -1.5", {"frost"}),
        ("-result gt 3", {"frost"}),
        # mul binds tighter than add.
        ("result add 1 mul 2 eq 4", {"thaw"}),
        ("(result add 1) mul 2 eq 4", set()),
        ("(result add 1) mul 2 eq 6", {"thaw"}),
        ("result sub result eq 0", NUMERIC),
        # Division by zero has no value (no error, no match).
        ("result div 0 eq 1", set()),
        ("result mod 0 eq 1", set()),
    ],
)
def test_arithmetic_operators(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("round(result) eq 29", {"summer"}),  # half away from zero: 28.5 → 29
        ("round(result) eq -4", {"frost"}),  # -3.5 → -4
        ("round(result) eq 4", {"spring"}),
        ("floor(result) eq -4", {"frost"}),
        ("floor(result) eq 28", {"summer"}),
        ("ceiling(result) eq -3", {"frost"}),
        ("ceiling(result) eq 5", {"spring"}),
    ],
)
def test_math_functions(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


THINGS = {"Wetterstation Pfaffplatz", "Wetterstation Uni", "Zählstelle Lauterstraße"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("startswith(name, 'Wetter')", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        ("endswith(name, 'Uni')", {"Wetterstation Uni"}),
        ("substringof('Lauter', name)", {"Zählstelle Lauterstraße"}),
        ("substringof('ä', name)", {"Zählstelle Lauterstraße"}),
        ("contains(name, 'station')", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        ("length(name) eq 17", {"Wetterstation Uni"}),
        ("indexof(name, 'Uni') eq 14", {"Wetterstation Uni"}),
        ("substring(name, 14) eq 'Uni'", {"Wetterstation Uni"}),
        ("substring(name, 0, 5) eq 'Zähls'", {"Zählstelle Lauterstraße"}),
        ("tolower(name) eq 'wetterstation uni'", {"Wetterstation Uni"}),
        ("toupper(name) eq 'WETTERSTATION UNI'", {"Wetterstation Uni"}),
        ("trim(concat('  ', name)) eq 'Wetterstation Uni'", {"Wetterstation Uni"}),
        (
            "concat(concat(name, ' / '), properties/district) eq 'Wetterstation Uni / Universität'",
            {"Wetterstation Uni"},
        ),
        ("length(properties/district) gt 10", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        ("name eq 'Zählstelle Lauterstraße'", {"Zählstelle Lauterstraße"}),
        ("name ne 'Zählstelle Lauterstraße'", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        ("name gt 'Wetterstation Q'", {"Wetterstation Uni", "Zählstelle Lauterstraße"}),
        ("name eq 'it''s'", set()),
    ],
)
def test_string_functions(city: City, expression: str, expected: set[str]) -> None:
    assert city.matching("Things", expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("properties/district eq 'Innenstadt'", {"Zählstelle Lauterstraße"}),
        ("properties/floors ge 2", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        ("properties/floors gt 2", {"Wetterstation Uni"}),
        ("properties/floors add 1 eq 3", {"Wetterstation Pfaffplatz"}),
        ("properties/operator/name eq 'Stadtwerke'", {"Wetterstation Pfaffplatz"}),
        # A missing key is null.
        ("properties/floors eq null", {"Zählstelle Lauterstraße"}),
        ("properties/floors ne null", {"Wetterstation Pfaffplatz", "Wetterstation Uni"}),
        # The text '5' is not the number 5.
        ("properties/floors eq '5'", set()),
    ],
)
def test_json_paths_in_thing_properties(city: City, expression: str, expected: set[str]) -> None:
    assert city.matching("Things", expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result/cars gt 100", {"rush"}),
        ("result/label eq 'Rushhour'", {"rush"}),
        ("result/bikes eq 0", {"night"}),
        ("result/cars add result/bikes eq 150", {"rush"}),
        # MultiDatastream results are arrays: one value per ObservedProperty.
        ("result/0 eq 18.5", {"mild"}),
        ("result/1 lt 58", {"warm"}),
        ("parameters/calibrated eq true", {"summer"}),
        ("parameters/calibrated", {"summer"}),
        ("parameters/operator eq 'Müller'", {"summer"}),
        ("parameters ne null", {"summer"}),
        ("parameters eq null", ALL_OBSERVATIONS - {"summer"}),
        ("result/cars eq null", ALL_OBSERVATIONS - {"rush", "night"}),
    ],
)
def test_json_paths_in_results_and_parameters(
    city: City, expression: str, expected: set[str]
) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("resultTime eq null", ALL_OBSERVATIONS - {"frost", "spring"}),
        ("resultTime ne null", {"frost", "spring"}),
        ("null ne resultTime", {"frost", "spring"}),
        ("validTime ne null", {"eve"}),
        ("result eq null", set()),
        ("FeatureOfInterest/properties eq null", ALL_OBSERVATIONS - {"kaiserberg"}),
    ],
)
def test_null(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Datastream/name eq 'Lärm Campus'", NOISE_READINGS),
        ("Datastream/Thing/name eq 'Wetterstation Uni'", NOISE_READINGS),
        ("Datastream/Thing/properties/floors gt 3", NOISE_READINGS),
        ("Datastream/unitOfMeasurement/symbol eq '°C'", TEMPERATURE_READINGS),
        ("Datastream/ObservedProperty/name eq 'Luftfeuchte'", {"humid", "dry"}),
        ("MultiDatastream/Thing/name eq 'Wetterstation Uni'", {"mild", "warm"}),
        ("MultiDatastream/ObservedProperties/name eq 'Luftfeuchte'", {"mild", "warm"}),
        ("FeatureOfInterest/name eq 'Kaiserberg'", {"kaiserberg"}),
        ("Datastream/id eq null", {"mild", "warm"}),
        ("MultiDatastream/@iot.id ne null", {"mild", "warm"}),
    ],
)
def test_paths_from_observations(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("entity_set", "expression", "expected"),
    [
        ("Things", "Datastreams/name eq 'Lärm Campus'", {"Wetterstation Uni"}),
        ("Things", "Locations/name eq 'Campus'", {"Wetterstation Uni"}),
        ("Things", "Datastreams/Observations/result eq 'laut'", {"Wetterstation Uni"}),
        ("Things", "Datastreams/Observations/result/cars gt 100", {"Zählstelle Lauterstraße"}),
        (
            "Things",
            "MultiDatastreams/ObservedProperties/name eq 'Luftfeuchte'",
            {"Wetterstation Uni"},
        ),
        (
            "Things",
            "HistoricalLocations/Locations/name eq 'Pfaffplatz'",
            {"Wetterstation Pfaffplatz"},
        ),
        (
            "Things",
            "not (Datastreams/properties/public eq false)",
            {"Wetterstation Uni", "Zählstelle Lauterstraße"},
        ),
        ("Things", "length(Datastreams/name) eq 11", {"Wetterstation Uni"}),
        ("Locations", "Things/properties/district eq 'Universität'", {"Campus"}),
        ("Locations", "Things/id ne null", {"Pfaffplatz", "Campus", "Lauterstraße"}),
        ("Sensors", "Datastreams/Thing/name eq 'Wetterstation Pfaffplatz'", {"PT100"}),
        ("Sensors", "MultiDatastreams/name eq 'Wetter Campus'", {"Kombisensor"}),
        (
            "ObservedProperties",
            "Datastreams/Observations/result gt 30",
            {"Lufttemperatur", "Luftfeuchte"},
        ),
        ("ObservedProperties", "MultiDatastreams/id ne null", {"Lufttemperatur", "Luftfeuchte"}),
        ("FeaturesOfInterest", "Observations/result lt 0", {"Pfaffplatz"}),
        ("HistoricalLocations", "Thing/name eq 'Wetterstation Uni'", {"Campus"}),
        ("Datastreams", "Thing/Locations/name eq 'Lauterstraße'", {"Verkehr Lauterstraße"}),
    ],
)
def test_paths_through_collections(
    city: City, entity_set: str, expression: str, expected: set[str]
) -> None:
    """A condition on a collection holds when it holds for any member."""
    if entity_set == "HistoricalLocations":
        # HistoricalLocations have no name: name them by their Location.
        body = city.api.read(
            "/HistoricalLocations", {"$filter": expression, "$expand": "Locations"}
        )
        assert {loc["name"] for h in body["value"] for loc in h["Locations"]} == expected
        return
    assert city.matching(entity_set, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year(phenomenonTime) eq 2025", FIXED),
        ("month(phenomenonTime) eq 6", {"summer", "humid"}),
        ("day(phenomenonTime) eq 15", {"frost", "thaw"}),
        # An interval's date parts are those of its start.
        ("day(phenomenonTime) eq 1", {"spring", "heat", "dry", "rush", "night", "mild"}),
        ("hour(phenomenonTime) eq 14", {"summer", "humid", "loud"}),
        # 23:59:59+02:00 was stored as 21:59:59 UTC.
        ("hour(phenomenonTime) eq 21", {"heat"}),
        ("minute(phenomenonTime) eq 30", {"summer", "humid"}),
        ("second(phenomenonTime) eq 15", {"summer"}),
        ("second(phenomenonTime) eq 5", {"kaiserberg"}),
        ("fractionalseconds(phenomenonTime) eq 0.25", {"summer"}),
        ("date(phenomenonTime) eq 2025-07-01", {"heat", "dry"}),
        ("time(phenomenonTime) eq 12:00:00", {"thaw", "dry", "mild", "warm"}),
        ("time(phenomenonTime) eq 14:30:15.25", {"summer"}),
        ("totaloffsetminutes(phenomenonTime) eq 0", FIXED),
        ("year(resultTime) eq 2025", {"frost", "spring"}),
        ("month(validTime) eq 12", {"eve"}),
        ("mindatetime(phenomenonTime) eq 2025-03-01T00:00:00Z", {"spring"}),
        ("maxdatetime(phenomenonTime) eq 2025-03-01T06:00:00Z", {"spring"}),
    ],
)
def test_date_functions(city: City, expression: str, expected: set[str]) -> None:
    # The two readings relative to now() are left out: their hour and day vary.
    fixed_only = f"({expression}) and phenomenonTime lt 2026-01-01T00:00:00Z"
    assert city.observations(fixed_only) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("phenomenonTime eq 2025-01-15T06:00:00Z", {"frost"}),
        ("phenomenonTime eq 2025-01-15T07:00:00+01:00", {"frost"}),
        ("phenomenonTime eq 2025-03-01T00:00:00Z/2025-03-01T06:00:00Z", {"spring"}),
        # An interval never equals an instant, not even its start.
        ("phenomenonTime eq 2025-03-01T00:00:00Z", set()),
        # lt: over before the instant; an interval [start, end) ending at it is.
        (
            "phenomenonTime lt 2025-03-01T06:00:00Z",
            {"frost", "thaw", "quiet", "loud", "spring"},
        ),
        ("phenomenonTime lt 2025-03-01T05:00:00Z", {"frost", "thaw", "quiet", "loud"}),
        ("phenomenonTime le 2025-01-15T12:00:00Z", {"frost", "thaw"}),
        # gt: begins after it.
        ("phenomenonTime gt 2025-07-01T12:00:00Z", {"heat", "eve", "recent", "lastweek"}),
        ("phenomenonTime ge 2025-07-01T12:00:00Z", {"dry", "heat", "eve", "recent", "lastweek"}),
        # ge: begins at or after it – an interval starting at the instant counts, and the
        # mirror image with the instant on the left.
        (
            "phenomenonTime ge 2025-03-01T00:00:00Z",
            ALL_OBSERVATIONS - {"frost", "thaw", "quiet", "loud"},
        ),
        (
            "2025-03-01T00:00:00Z le phenomenonTime",
            ALL_OBSERVATIONS - {"frost", "thaw", "quiet", "loud"},
        ),
        ("phenomenonTime gt 2025-03-01T00:00:00Z and month(phenomenonTime) eq 3", set()),
        ("phenomenonTime le 2025-03-01T06:00:00Z and month(phenomenonTime) eq 3", {"spring"}),
        # Against an interval: gt means at or after its end, lt before its start.
        (
            "phenomenonTime gt 2025-02-28T00:00:00Z/2025-03-01T03:00:00Z",
            ALL_OBSERVATIONS - {"frost", "thaw", "quiet", "loud", "spring"},
        ),
        (
            "phenomenonTime lt 2025-02-02T14:00:00Z/2025-02-03T00:00:00Z",
            {"frost", "thaw", "quiet"},
        ),
        # Two properties: resultTime after the (end of the) phenomenon.
        ("resultTime gt phenomenonTime", {"frost", "spring"}),
        ("validTime eq 2025-12-31T00:00:00Z/2026-01-01T00:00:00Z", {"eve"}),
    ],
)
def test_time_comparisons_of_instants_and_intervals(
    city: City, expression: str, expected: set[str]
) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("phenomenonTime gt now() sub duration'P1D'", {"recent"}),
        ("phenomenonTime gt now() sub duration'P7D'", {"recent", "lastweek"}),
        ("phenomenonTime ge now() sub duration'PT3H' and phenomenonTime lt now()", {"recent"}),
        # Months and years shift constants calendar-correctly.
        ("phenomenonTime lt now() sub duration'P1M'", FIXED),
        ("phenomenonTime lt 2025-01-01T00:00:00Z add duration'P1M'", {"frost", "thaw"}),
        # 31 January + 1 month is 28 February; + 1 day is 1 March.
        (
            "phenomenonTime lt 2025-01-31T00:00:00Z add duration'P1M' add duration'P1D'",
            {"frost", "thaw", "quiet", "loud"},
        ),
        ("phenomenonTime add duration'PT1H' eq 2025-01-15T07:00:00Z", {"frost"}),
        ("phenomenonTime sub duration'P1D' eq 2025-01-14T12:00:00Z", {"thaw"}),
        ("phenomenonTime add duration'PT90M' eq 2025-01-15T07:30:00Z", {"frost"}),
        # Shifting an interval shifts both ends.
        (
            "phenomenonTime add duration'PT1H' eq 2025-03-01T01:00:00Z/2025-03-01T07:00:00Z",
            {"spring"},
        ),
        # The difference of two times is a duration.
        ("phenomenonTime sub 2025-01-15T06:00:00Z eq duration'PT6H'", {"thaw"}),
        ("resultTime sub phenomenonTime lt duration'PT10S'", {"frost"}),
        ("resultTime sub phenomenonTime gt duration'PT6H'", {"spring"}),
    ],
)
def test_durations_and_now(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("overlaps(phenomenonTime, 2025-03-01T05:00:00Z/2025-03-01T07:00:00Z)", {"spring"}),
        ("overlaps(phenomenonTime, 2025-03-01T03:00:00Z)", {"spring"}),
        ("during(phenomenonTime, 2025-01-01T00:00:00Z/2025-02-01T00:00:00Z)", {"frost", "thaw"}),
        # before/after of instants are strict, like lt/gt.
        ("before(phenomenonTime, 2025-01-15T12:00:00Z)", {"frost"}),
        ("after(phenomenonTime, 2025-07-01T12:00:00Z)", {"heat", "eve", "recent", "lastweek"}),
        ("before(phenomenonTime, 2025-03-01T06:00:00Z) and month(phenomenonTime) eq 3", {"spring"}),
        ("meets(phenomenonTime, 2025-03-01T06:00:00Z)", {"spring"}),
        ("starts(phenomenonTime, 2025-03-01T00:00:00Z/2025-03-01T01:00:00Z)", {"spring"}),
        ("finishes(phenomenonTime, 2025-02-28T00:00:00Z/2025-03-01T06:00:00Z)", {"spring"}),
    ],
)
def test_interval_functions(city: City, expression: str, expected: set[str]) -> None:
    assert city.observations(expression) == expected


def test_datastream_time_summaries_can_be_filtered(city: City) -> None:
    """A Datastream's phenomenonTime spans its Observations (kept current on insert)."""
    june = "overlaps(phenomenonTime, 2025-06-01T00:00:00Z/2025-07-01T00:00:00Z)"
    assert city.matching("Datastreams", june) == {
        "Lufttemperatur Pfaffplatz",
        "Luftfeuchte Pfaffplatz",
        "Lärm Campus",
    }
    stream = city.api.read(f"/Datastreams({city.id('Datastreams', 'Verkehr Lauterstraße')})")
    assert stream["phenomenonTime"] == "2025-04-01T03:00:00Z/2025-04-01T08:00:00Z"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (f"st_within(location, geography'{AROUND_PFAFFPLATZ}')", {"Pfaffplatz", "Lauterstraße"}),
        ("st_contains(location, geography'POINT(7.765 49.442)')", {"Innenstadt"}),
        (
            "st_intersects(location, geography'LINESTRING(7.765 49.43, 7.765 49.446)')",
            {"Lauterstraße", "Innenstadt"},
        ),
        (
            "geo.intersects(location, geography'LINESTRING(7.765 49.43, 7.765 49.446)')",
            {"Lauterstraße", "Innenstadt"},
        ),
        (
            "st_crosses(location, geography'LINESTRING(7.765 49.43, 7.765 49.446)')",
            {"Lauterstraße", "Innenstadt"},
        ),
        (f"st_disjoint(location, geography'{INNENSTADT_WKT}')", {"Campus"}),
        ("st_equals(location, geometry'POINT(7.752 49.424)')", {"Campus"}),
        (
            "st_touches(location, "
            "geography'POLYGON((7.78 49.44, 7.79 49.44, 7.79 49.45, 7.78 49.45, 7.78 49.44))')",
            {"Innenstadt"},
        ),
        (
            "st_overlaps(location, geography'POLYGON((7.77 49.445, 7.79 49.445, 7.79 49.46, "
            "7.77 49.46, 7.77 49.445))')",
            {"Innenstadt"},
        ),
        (
            f"st_relate(location, geography'{AROUND_PFAFFPLATZ}', 'T*F**F***')",
            {"Pfaffplatz", "Lauterstraße"},
        ),
        ("geo.distance(location, geography'POINT(7.752 49.424)') lt 0.001", {"Campus"}),
        (
            "geo.distance(location, geography'POINT(7.7595 49.4447)') eq 0",
            {"Pfaffplatz", "Innenstadt"},
        ),
        (
            "geo.length(location) gt 0.005 and geo.length(location) lt 0.05",
            {"Lauterstraße"},
        ),
        ("geo.length(location) eq 0", {"Pfaffplatz", "Campus"}),
    ],
)
def test_geospatial_functions_on_locations(city: City, expression: str, expected: set[str]) -> None:
    assert city.matching("Locations", expression) == expected


@pytest.mark.parametrize(
    ("entity_set", "expression", "expected"),
    [
        (
            "Observations",
            f"st_within(FeatureOfInterest/feature, geography'{INNENSTADT_WKT}')",
            TEMPERATURE_READINGS - {"kaiserberg"} | {"humid", "dry", "rush", "night"},
        ),
        # Kaiserberg is a GeoJSON Feature with a polygon.
        (
            "Observations",
            "geo.intersects(FeatureOfInterest/feature, geography'POINT(7.81 49.455)')",
            {"kaiserberg"},
        ),
        (
            "Observations",
            "geo.distance(FeatureOfInterest/feature, geography'POINT(7.752 49.424)') lt 0.001",
            NOISE_READINGS | {"mild", "warm"},
        ),
        (
            "FeaturesOfInterest",
            "st_contains(feature, geography'POINT(7.81 49.455)')",
            {"Kaiserberg"},
        ),
        (
            "Things",
            f"st_within(Locations/location, geography'{AROUND_PFAFFPLATZ}')",
            {"Wetterstation Pfaffplatz", "Zählstelle Lauterstraße"},
        ),
    ],
)
def test_geospatial_functions_through_paths(
    city: City, entity_set: str, expression: str, expected: set[str]
) -> None:
    if entity_set == "Observations":
        assert city.observations(expression) == expected
    else:
        assert city.matching(entity_set, expression) == expected


def test_observations_with_a_generated_feature_share_it(city: City) -> None:
    """All readings at the Pfaffplatz station refer to one FeatureOfInterest, made from
    the station's Location; the reading with its own feature keeps it."""
    pfaffplatz = city.id("FeaturesOfInterest", "Pfaffplatz")
    body = city.api.read(f"/FeaturesOfInterest({pfaffplatz})/Observations", {"$top": "100"})
    assert set(city.names("Observations", body)) == TEMPERATURE_READINGS - {"kaiserberg"} | {
        "humid",
        "dry",
    }
    feature = city.api.read(f"/FeaturesOfInterest({pfaffplatz})")
    location = city.api.read(f"/Locations({city.id('Locations', 'Pfaffplatz')})")
    assert feature["feature"] == location["location"]
    assert feature["encodingType"] == "application/geo+json"
