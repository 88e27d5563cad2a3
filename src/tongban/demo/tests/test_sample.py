"""The demo's sample answers read like a real application (no placeholder "示例")."""

from tongban.demo.catalog import FIELDS
from tongban.demo.sample import sample_form_data


def test_sample_answers_to_every_demo_field_have_no_placeholder():
    schema = {"type": "object", "properties": FIELDS}
    data = sample_form_data(schema)
    placeholders = {name: value for name, value in data.items() if value == "示例"}
    assert placeholders == {}
    assert data["birth_hospital"] == "上海市第一妇婴保健院"
    assert "上海市" in data["household_address"]
