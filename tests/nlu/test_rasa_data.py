"""The Rasa synonyms and lookup tables come from reference/reference.yaml, the one list."""

from __future__ import annotations

import yaml

from nlu.gazetteer import default_gazetteer
from nlu.rasa_data import GENERATED_FILE, render


def test_committed_reference_file_is_what_the_generator_writes() -> None:
    assert GENERATED_FILE.read_text(encoding="utf-8") == render(default_gazetteer()), (
        "nlu/rasa/data/reference.yml is stale: run python -m nlu.rasa_data"
    )


def test_every_alias_maps_to_its_canonical_value() -> None:
    data = yaml.safe_load(GENERATED_FILE.read_text(encoding="utf-8"))
    synonyms = {
        example.strip()[2:]: block["synonym"]
        for block in data["nlu"]
        if "synonym" in block
        for example in block["examples"].splitlines()
        if example.strip()
    }
    gazetteer = default_gazetteer()
    for term in gazetteer.terms():
        for alias in term.aliases:
            if alias != term.value:
                assert synonyms[alias] == term.value
    assert synonyms["daoli"] == "Daoli"
    assert synonyms["securty"] == "security"


def test_lookup_tables_hold_every_place_and_category() -> None:
    data = yaml.safe_load(GENERATED_FILE.read_text(encoding="utf-8"))
    lookups = {
        block["lookup"]: {line.strip()[2:] for line in block["examples"].splitlines()}
        for block in data["nlu"]
        if "lookup" in block
    }
    gazetteer = default_gazetteer()
    assert {term.value for term in gazetteer.places} <= lookups["location"]
    assert {term.value for term in gazetteer.categories} <= lookups["job_category"]
