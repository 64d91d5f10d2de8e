"""Every district and county of Heilongjiang's 13 cities, understood in English and Chinese."""

from __future__ import annotations

import pytest

from flows.answers import Accepted, validate_place
from nlu.gazetteer import default_gazetteer
from nlu.parse import Entity
from reference import PlaceInfo, load_reference

REFERENCE = load_reference()
CITIES = [p for p in REFERENCE.places if p.kind == "city"]


def one_place_of(city: PlaceInfo) -> PlaceInfo:
    """The last district or county listed under a city (the first is often the best known)."""
    return [p for p in REFERENCE.places if p.city == city.name][-1]


def test_the_province_its_13_cities_and_their_divisions() -> None:
    kinds = [p.kind for p in REFERENCE.places]
    assert kinds.count("province") == 1 and len(CITIES) == 13
    assert len(REFERENCE.places) == 139  # 1 + 13 + 121 county-level + Daxing'anling's 4 zones
    assert len({p.name for p in REFERENCE.places}) == len(REFERENCE.places)
    for place in REFERENCE.places:
        assert place.zh, place.name
        assert place.kind in ("province", "city") or REFERENCE.place(place.city or "") in CITIES
    assert all(any(p.city == city.name for p in REFERENCE.places) for city in CITIES)


@pytest.mark.parametrize("city", CITIES, ids=lambda c: c.name)
def test_a_place_of_each_city_is_understood_in_both_languages(city: PlaceInfo) -> None:
    place = one_place_of(city)
    found = Entity("location", place.name)
    gazetteer = default_gazetteer()
    assert found in gazetteer.find(f"any jobs in {place.name.lower()} now"), place.name
    assert found in gazetteer.find(f"我在{place.zh}住，有活吗"), place.zh
    for typed in (place.name.lower(), place.zh or "", place.name.upper()):
        assert validate_place(typed, REFERENCE) == Accepted(place.name), typed


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("i move to songbei now", "Songbei"),
        ("Daowai district", "Daowai"),
        ("平房区有活吗", "Pingfang"),
        ("xiang fang", "Xiangfang"),
        ("shiangfang", "Xiangfang"),
        ("住在漠河", "Mohe"),
        ("wudalianchi city", "Wudalianchi"),
        ("佳木斯向阳区", "Jiamusi Xiangyang"),
        ("hegang xiangyang", "Hegang Xiangyang"),
        ("我住郊区", None),  # 'the suburbs', not Jiamusi's Jiaoqu
        ("我们很友好", None),  # 'friendly', not Yichun's Youhao district
    ],
)
def test_spellings_seekers_use(typed: str, place: str | None) -> None:
    found = [e.value for e in default_gazetteer().find(typed) if e.entity == "location"]
    assert found == ([place] if place else [])


def test_wider_goes_district_city_province() -> None:
    assert REFERENCE.wider("Songbei") == "Harbin"
    assert REFERENCE.wider("Harbin") == "Heilongjiang"
    assert REFERENCE.wider("Heilongjiang") is None
    assert REFERENCE.wider("Atlantis") is None
    assert set(REFERENCE.within("Heilongjiang")) == {p.name for p in REFERENCE.places}
    assert REFERENCE.within("Songbei") == ("Songbei",)
    assert "Shuangcheng" in REFERENCE.within("Harbin")
