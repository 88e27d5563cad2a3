import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override
from stdnum.cn import ric, uscc

from tongban.core.ids import (
    DISTRICTS,
    RETIRED_AREA_CODES,
    area_lookup,
    make_credit_code,
    make_resident_id,
    organisation_code_check_char,
    parse_credit_code,
    parse_resident_id,
    validate_credit_code,
    validate_resident_id,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English; people see them in the active language (zh-Hans first)."""
    with override("en"):
        yield


TODAY = datetime.date(2026, 11, 27)


def error_code(func, value, **kwargs):
    with pytest.raises(ValidationError) as caught:
        func(value, **kwargs)
    return caught.value.code


class ResidentIdParsingTests:
    def test_a_known_valid_number_is_parsed_into_its_parts(self):
        parsed = parse_resident_id("360426199101010071", today=TODAY)
        assert parsed.area_code == "360426"
        assert parsed.area_name == "江西省德安县"
        assert parsed.birth_date == datetime.date(1991, 1, 1)
        assert parsed.sequence == 7
        assert parsed.sex == "M"
        assert parsed.check == "1"
        assert not parsed.in_shanghai
        assert parsed.district_name == ""
        assert not parsed.retired

    def test_an_even_sequence_is_a_woman_and_an_odd_one_a_man(self):
        assert parse_resident_id(make_resident_id("310104", datetime.date(1980, 2, 29), 456)).sex == "F"
        assert parse_resident_id(make_resident_id("310104", datetime.date(1980, 2, 29), 457)).sex == "M"

    def test_input_is_normalised_full_width_spaces_and_lower_case_x(self):
        number = make_resident_id("310101", datetime.date(1975, 3, 9), 12)
        spaced = f" {number[:6]} {number[6:14]}-{number[14:]} "
        assert validate_resident_id(spaced) == number
        full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in number)
        assert validate_resident_id(full_width) == number

    def test_a_lower_case_x_check_character_is_accepted(self):
        # 11010519491231002X is the sample number printed in GB 11643.
        assert validate_resident_id("11010519491231002x") == "11010519491231002X"

    def test_a_current_shanghai_district_is_named_and_is_its_own_successor(self):
        parsed = parse_resident_id(make_resident_id("310115", datetime.date(1988, 8, 8), 31))
        assert parsed.in_shanghai
        assert parsed.district_name == "浦东新区"
        assert parsed.successor_code == "310115"
        assert not parsed.retired

    def test_a_district_code_created_after_the_birth_year_is_accepted(self):
        # Pudong got its code in 1992; a person born in 1950 can carry it (stdnum alone refuses this).
        number = make_resident_id("310115", datetime.date(1950, 1, 2), 11)
        assert not ric.is_valid(number)
        assert parse_resident_id(number).birth_date.year == 1950

    @pytest.mark.parametrize(
        ("code", "name", "successor"),
        [
            ("310108", "闸北区", "310106"),
            ("310230", "崇明县", "310151"),
            ("310103", "卢湾区", "310101"),
            ("310225", "南汇县", "310115"),
            ("310119", "南汇区", "310115"),
            ("310102", "南市区", "310101"),
            ("310228", "金山县", "310116"),
        ],
    )
    def test_a_retired_shanghai_code_is_accepted_with_its_successor(self, code, name, successor):
        parsed = parse_resident_id(make_resident_id(code, datetime.date(1962, 10, 1), 102))
        assert parsed.retired
        assert parsed.district_name == name
        assert parsed.successor_code == successor

    def test_a_retired_code_on_a_number_born_after_its_retirement_is_refused(self):
        number = make_resident_id("310108", datetime.date(2016, 1, 1), 1)
        assert error_code(parse_resident_id, number, today=TODAY) == "resident_id_area_retired"
        # ... while a birth in its last year is fine.
        assert parse_resident_id(make_resident_id("310108", datetime.date(2015, 12, 31), 1)).retired

    def test_the_age_counts_whole_years(self):
        parsed = parse_resident_id(make_resident_id("310101", datetime.date(2000, 11, 28), 1))
        assert parsed.age(on=TODAY) == 25
        assert parsed.age(on=datetime.date(2026, 11, 28)) == 26


class ResidentIdErrorTests:
    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("", "required"),
            ("31010119800101001", "resident_id_length"),
            ("3101011980010100123", "resident_id_length"),
            ("310101800101001", "resident_id_15"),
            ("31010119800101001Y", "resident_id_format"),
            ("31010A198001010011", "resident_id_format"),
            # Other scripts' digits pass str.isdigit(): U+19DA crashed int(), Arabic-Indic ones were stored as is.
            ("310101198001010\u19da1X", "resident_id_format"),
            (
                "\u0663\u0661\u0660\u0661\u0660\u0661\u0661\u0669\u0668\u0660\u0660\u0661\u0660\u0661\u0660\u0660\u0661\u0661",
                "resident_id_format",
            ),
            ("310101198002300011", "resident_id_birth_date"),
            ("310101198013010011", "resident_id_birth_date"),
            ("999999198001010011", "resident_id_area"),
            ("319999198001010011", "resident_id_area"),
        ],
    )
    def test_each_wrong_part_gets_its_own_error_code(self, value, code):
        assert error_code(parse_resident_id, value, today=TODAY) == code

    def test_a_birth_date_in_the_future_is_refused(self):
        number = make_resident_id("310101", datetime.date(2026, 11, 28), 1)
        assert error_code(parse_resident_id, number, today=TODAY) == "resident_id_birth_future"
        assert parse_resident_id(make_resident_id("310101", TODAY, 1), today=TODAY)

    def test_a_birth_date_before_1900_is_refused(self):
        number = make_resident_id("110101", datetime.date(1899, 12, 31), 1)
        assert error_code(parse_resident_id, number, today=TODAY) == "resident_id_birth_early"

    def test_a_wrong_check_character_says_which_one_the_digits_give(self):
        number = make_resident_id("310104", datetime.date(1990, 6, 15), 88)
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        with pytest.raises(ValidationError) as caught:
            parse_resident_id(wrong)
        assert caught.value.code == "resident_id_checksum"
        message = caught.value.messages[0]
        assert f"is {wrong[17]}" in message
        assert f"give {number[17]}" in message

    def test_a_single_mistyped_digit_is_caught(self):
        number = make_resident_id("310104", datetime.date(1990, 6, 15), 88)
        typo = number[:15] + str((int(number[15]) + 1) % 10) + number[16:]
        assert error_code(parse_resident_id, typo) == "resident_id_checksum"

    def test_the_area_error_names_the_code(self):
        with pytest.raises(ValidationError) as caught:
            parse_resident_id(make_resident_id("999999", datetime.date(1980, 1, 1), 1))
        assert "999999" in caught.value.messages[0]


class AreaTableTests:
    def test_all_16_districts_are_current_gbt2260_codes_in_shanghai(self):
        assert len(DISTRICTS) == 16
        for code, (zh, _en) in DISTRICTS.items():
            area = area_lookup(code)
            assert area is not None, code
            assert area.province == "上海市"
            assert area.periods[-1].name == zh
            assert area.last_year() is None, code

    def test_every_retired_code_is_retired_in_gbt2260_and_its_successor_is_a_district(self):
        for code, (zh, _en, successor) in RETIRED_AREA_CODES.items():
            area = area_lookup(code)
            assert area is not None, code
            assert area.periods[-1].name == zh
            assert area.last_year() is not None, code
            assert successor in DISTRICTS

    def test_an_unknown_code_has_no_area(self):
        assert area_lookup("319999") is None
        assert area_lookup("31010") is None


class MakeResidentIdTests:
    def test_made_numbers_pass_python_stdnum_when_the_code_already_existed(self):
        number = make_resident_id("310104", datetime.date(1985, 12, 31), 999)
        assert ric.validate(number) == number

    def test_bad_arguments_are_refused(self):
        with pytest.raises(ValueError):
            make_resident_id("31010", datetime.date(1985, 1, 1), 1)
        with pytest.raises(ValueError):
            make_resident_id("310101", datetime.date(1985, 1, 1), 1000)


class CreditCodeTests:
    def test_a_known_valid_code_is_parsed_into_its_parts(self):
        parsed = parse_credit_code("91110000600037341L")
        assert parsed.authority == "9"
        assert parsed.authority_name == "工商"
        assert parsed.institution_type == "1"
        assert parsed.institution_type_name == "企业"
        assert parsed.area_code == "110000"
        assert parsed.organisation_code == "600037341"
        assert not parsed.allow_listed

    def test_input_is_normalised(self):
        assert validate_credit_code(" 9 1 110000-600037341l ") == "91110000600037341L"

    def test_codes_of_the_agricultural_and_other_authorities_are_accepted(self):
        # python-stdnum refuses these: it wants eight leading digits.
        for authority, kind in (("N", "2"), ("Y", "1")):
            code = make_credit_code("310151", "MA1K0002", authority=authority, institution_type=kind)
            assert not uscc.is_valid(code)
            assert parse_credit_code(code).authority == authority

    def test_a_national_registration_area_is_accepted(self):
        code = make_credit_code("100000", "00001312", authority="1", institution_type="1")
        assert parse_credit_code(code).area_code == "100000"

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("", "required"),
            ("91110000600037341", "credit_code_length"),
            ("91110000600037341LL", "credit_code_length"),
            ("9111000060003734IL", "credit_code_character"),
            ("91110000600037341O", "credit_code_character"),
            ("91110000600O37341L", "credit_code_character"),
            ("B1110000600037341L", "credit_code_authority"),
            ("9A110000600037341L", "credit_code_type"),
            ("911100A0600037341L", "credit_code_area"),
            ("91990000600037341L", "credit_code_area"),
            ("91110000600037341A", "credit_code_checksum"),
        ],
    )
    def test_each_wrong_part_gets_its_own_error_code(self, value, code):
        assert error_code(parse_credit_code, value) == code

    def test_a_forbidden_letter_is_named_with_its_position(self):
        with pytest.raises(ValidationError) as caught:
            parse_credit_code("91110000600037341S")
        assert "18" in caught.value.messages[0]
        assert "S" in caught.value.messages[0]

    def test_a_wrong_check_character_says_which_one_the_code_gives(self):
        with pytest.raises(ValidationError) as caught:
            parse_credit_code("91110000600037341A")
        assert "give L" in caught.value.messages[0]

    def test_a_pilot_code_failing_the_check_is_accepted_only_when_allow_listed(self, settings):
        pilot = "91110000600037341A"
        settings.TONGBAN_CREDIT_CODE_ALLOWLIST = []
        assert error_code(parse_credit_code, pilot) == "credit_code_checksum"
        settings.TONGBAN_CREDIT_CODE_ALLOWLIST = ["91310000000000000X", pilot.lower()]
        parsed = parse_credit_code(pilot)
        assert parsed.allow_listed
        assert parse_credit_code("91110000600037341L").allow_listed is False

    def test_an_allow_listed_code_must_still_use_the_alphabet(self, settings):
        settings.TONGBAN_CREDIT_CODE_ALLOWLIST = ["91110000600037341S"]
        assert error_code(parse_credit_code, "91110000600037341S") == "credit_code_character"


class MakeCreditCodeTests:
    def test_the_gb11714_check_character_of_the_organisation_code_is_added(self):
        assert organisation_code_check_char("60003734") == "1"
        assert make_credit_code("110000", "60003734") == "91110000600037341L"

    def test_made_codes_pass_python_stdnum(self):
        for index, body in enumerate(["MA1K0001", "MA1FL9X3", "00000000", "YY9Y9Y9Y"]):
            code = make_credit_code("310101", body, institution_type=str(index % 3 + 1))
            assert uscc.validate(code) == code
            assert validate_credit_code(code) == code

    def test_bad_arguments_are_refused(self):
        with pytest.raises(ValueError):
            make_credit_code("3101", "MA1K0001")
        with pytest.raises(ValueError):
            make_credit_code("310101", "MA1K00")
        with pytest.raises(ValueError):
            make_credit_code("310101", "MA1S0001")
