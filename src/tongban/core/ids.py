"""Identifiers: resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

Both are checked with python-stdnum's arithmetic (``stdnum.cn.ric``, ``stdnum.cn.uscc``) plus our own
structural checks, so that a wrong number gets a message naming the part that is wrong.

Decisions (``docs/identifiers.md`` has the list of error codes):

* The area code of a resident ID must be a GB/T 2260 code, current or retired, as listed in
  python-stdnum's table of divisions (``stdnum/cn/loc.dat``). The area code records where the number
  was first issued, not where the person was born, so a code created after the birth year is accepted
  (someone born in 1950 may well carry 310115 浦东新区, created in 1992); stdnum's ``validate`` would
  refuse that, which is why we do not call it. A code retired *before* the birth year is refused: no
  number for that birth date can have been issued under it.
* Shanghai's retired district and county codes (310108 闸北区, 310230 崇明县, ...) are accepted and
  reported with their successor district.
* Unified social credit codes: python-stdnum requires the first eight characters to be digits, which
  would refuse lawful codes of the agricultural (N) and "other" (Y) registration authorities, so we
  check the structure ourselves and use stdnum for the MOD 31 check character. Early pilot codes that
  are lawful but fail the check are accepted only when listed in ``TONGBAN_CREDIT_CODE_ALLOWLIST``.
"""

from __future__ import annotations

import datetime
import functools
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric, uscc

# The 16 districts of Shanghai (GB/T 2260): code → (Chinese name, English name).
DISTRICTS: dict[str, tuple[str, str]] = {
    "310101": ("黄浦区", "Huangpu District"),
    "310104": ("徐汇区", "Xuhui District"),
    "310105": ("长宁区", "Changning District"),
    "310106": ("静安区", "Jing'an District"),
    "310107": ("普陀区", "Putuo District"),
    "310109": ("虹口区", "Hongkou District"),
    "310110": ("杨浦区", "Yangpu District"),
    "310112": ("闵行区", "Minhang District"),
    "310113": ("宝山区", "Baoshan District"),
    "310114": ("嘉定区", "Jiading District"),
    "310115": ("浦东新区", "Pudong New Area"),
    "310116": ("金山区", "Jinshan District"),
    "310117": ("松江区", "Songjiang District"),
    "310118": ("青浦区", "Qingpu District"),
    "310120": ("奉贤区", "Fengxian District"),
    "310151": ("崇明区", "Chongming District"),
}
SHANGHAI_CODE = "310000"
SHANGHAI_NAME = ("上海市", "Shanghai")

# Retired Shanghai area codes still found in older ID numbers: code → (Chinese name, English name,
# the current district that took its area over). ``area_lookup(code).last_year()`` gives the last
# year each was in use.
RETIRED_AREA_CODES: dict[str, tuple[str, str, str]] = {
    "310102": ("南市区", "Nanshi District", "310101"),  # merged into Huangpu, 2000
    "310103": ("卢湾区", "Luwan District", "310101"),  # merged into Huangpu, 2011
    "310108": ("闸北区", "Zhabei District", "310106"),  # merged into Jing'an, 2015
    "310111": ("吴淞区", "Wusong District", "310113"),  # merged into Baoshan, 1988
    "310119": ("南汇区", "Nanhui District", "310115"),  # merged into Pudong, 2009
    "310221": ("上海县", "Shanghai County", "310112"),  # merged into Minhang, 1992
    "310222": ("嘉定县", "Jiading County", "310114"),  # became Jiading District, 1992
    "310223": ("宝山县", "Baoshan County", "310113"),  # became Baoshan District, 1988
    "310224": ("川沙县", "Chuansha County", "310115"),  # became part of Pudong, 1992
    "310225": ("南汇县", "Nanhui County", "310115"),  # Nanhui District 2001, then Pudong 2009
    "310226": ("奉贤县", "Fengxian County", "310120"),  # became Fengxian District, 2001
    "310227": ("松江县", "Songjiang County", "310117"),  # became Songjiang District, 1998
    "310228": ("金山县", "Jinshan County", "310116"),  # became Jinshan District, 1997
    "310229": ("青浦县", "Qingpu County", "310118"),  # became Qingpu District, 1999
    "310230": ("崇明县", "Chongming County", "310151"),  # became Chongming District, 2016
}

EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class AreaPeriod:
    name: str
    start: int | None
    end: int | None


@dataclass(frozen=True)
class Area:
    """A GB/T 2260 code with its province and the names it had over the years."""

    code: str
    province: str
    periods: tuple[AreaPeriod, ...]

    @property
    def name(self):
        """The code's latest name, prefixed with its province ("上海市闸北区")."""
        latest = self.periods[-1].name if self.periods else ""
        if latest == self.province:
            return latest
        return f"{self.province}{latest}"

    @property
    def retired(self):
        return bool(self.periods) and all(period.end is not None for period in self.periods)

    def last_year(self):
        """The last year in which the code was in use, or None when it still is."""
        if any(period.end is None for period in self.periods):
            return None
        return max(period.end for period in self.periods)


def _parse_period(text):
    if text.startswith("["):
        years, name = text[1:].split("]", 1)
        start, end = years.split("-")
        return AreaPeriod(name=name, start=int(start) if start else None, end=int(end) if end else None)
    return AreaPeriod(name=text, start=None, end=None)


@functools.lru_cache(maxsize=4096)
def area_lookup(code: str) -> Area | None:
    """The GB/T 2260 division for a six-digit code, or None when the code is not known."""
    if len(code) != 6 or not code.isdigit():
        return None
    info = {}
    for _part, props in numdb.get("cn/loc").info(code):
        info.update(props)
    if "province" not in info or "county" not in info:
        return None
    periods = tuple(_parse_period(item) for item in info["county"].split(","))
    return Area(code=code, province=info["province"], periods=periods)


@functools.lru_cache(maxsize=256)
def province_name(code: str) -> str | None:
    """The province, municipality or region named by the first two digits of a GB/T 2260 code."""
    for _part, props in numdb.get("cn/loc").info(code[:2]):
        if "province" in props:
            return props["province"]
    return None


def _clean(value) -> str:
    """Normalise user input: full-width characters to ASCII, no spaces or hyphens, upper case."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(ch for ch in text if ch not in " -\t\n\r").upper()


# --- Resident ID numbers (GB 11643) -------------------------------------------------------------


@dataclass(frozen=True)
class ResidentId:
    """The parts of a valid 18-character resident ID number."""

    number: str
    area_code: str
    area_name: str
    birth_date: datetime.date
    sequence: int
    sex: str  # "M" (odd sequence) or "F" (even sequence)
    check: str
    district_name: str  # the Shanghai district or former district/county the code names, else ""
    retired: bool  # the area code is no longer in use (it may still appear on valid cards)
    successor_code: str  # for a Shanghai code: the current district that covers it, else ""

    @property
    def in_shanghai(self):
        return self.area_code.startswith("31")

    def age(self, on: datetime.date | None = None) -> int:
        on = on or timezone.localdate()
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


_MOD11_CHARS = "0123456789X"


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits.

    The same arithmetic as ``stdnum.cn.ric.calc_check_digit`` (the 17 digits read in base 13 give the
    weighted sum modulo 11), without its string handling: the demo seed calls this a million times.
    """
    return _MOD11_CHARS[(1 - 2 * int(first17, 13)) % 11]


def parse_resident_id(value, *, today: datetime.date | None = None) -> ResidentId:
    """Check an 18-character resident ID number and return its parts.

    Raises ``ValidationError`` whose message names the wrong part: length, characters, area code,
    birth date or check character.
    """
    number = _clean(value)
    if not number:
        raise ValidationError(_("Enter the 18-character resident ID number."), code="required")
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _(
                "This is an old 15-digit number from a first-generation card; "
                "enter the 18-character number of the current card."
            ),
            code="resident_id_15",
        )
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(length)d."),
            code="resident_id_length",
            params={"length": len(number)},
        )
    # isascii(): str.isdigit() also accepts other scripts' digits (some of which int() even refuses).
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("The first 17 characters must be digits and the last one a digit or X."),
            code="resident_id_format",
        )
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("Characters 7 to 14 (%(digits)s) are not a real birth date (year, month, day)."),
            code="resident_id_birth_date",
            params={"digits": number[6:14]},
        ) from None
    today = today or timezone.localdate()
    if birth_date > today:
        raise ValidationError(
            _("The birth date %(date)s (characters 7 to 14) lies in the future."),
            code="resident_id_birth_future",
            params={"date": birth_date.isoformat()},
        )
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("The birth date %(date)s (characters 7 to 14) is before %(year)d."),
            code="resident_id_birth_early",
            params={"date": birth_date.isoformat(), "year": EARLIEST_BIRTH_YEAR},
        )
    area_code = number[:6]
    area = area_lookup(area_code)
    if area is None:
        raise ValidationError(
            _(
                "The area code %(code)s (the first six digits) is not an administrative division "
                "code (GB/T 2260)."
            ),
            code="resident_id_area",
            params={"code": area_code},
        )
    last_year = area.last_year()
    if last_year is not None and birth_date.year > last_year:
        raise ValidationError(
            _(
                "The area code %(code)s (%(name)s) went out of use in %(last_year)d, before the "
                "birth year %(birth_year)d, so no number with this birth date carries it."
            ),
            code="resident_id_area_retired",
            params={
                "code": area_code,
                "name": area.name,
                "last_year": last_year,
                "birth_year": birth_date.year,
            },
        )
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise ValidationError(
            _(
                "The numbers do not add up: the check character (the last one) is %(actual)s, but "
                "the first 17 digits give %(expected)s. Compare every digit with the card."
            ),
            code="resident_id_checksum",
            params={"actual": number[17], "expected": expected},
        )
    sequence = int(number[14:17])
    district_name, successor = "", ""
    if area_code in DISTRICTS:
        district_name, successor = DISTRICTS[area_code][0], area_code
    elif area_code in RETIRED_AREA_CODES:
        district_name, _en, successor = RETIRED_AREA_CODES[area_code]
    return ResidentId(
        number=number,
        area_code=area_code,
        area_name=area.name,
        birth_date=birth_date,
        sequence=sequence,
        sex="M" if sequence % 2 else "F",
        check=number[17],
        district_name=district_name,
        retired=area.retired or area_code in RETIRED_AREA_CODES,
        successor_code=successor,
    )


def validate_resident_id(value) -> str:
    """Django validator for a resident ID number; returns the normalised number."""
    return parse_resident_id(value).number


def normalize_resident_id(value) -> str:
    """The number as stored: ASCII, upper-case X, no separators (not validated)."""
    return _clean(value)


def make_resident_id(area_code: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a resident ID number; an odd ``sequence`` (1–999) is a man, an even one a woman."""
    if len(area_code) != 6 or not area_code.isdigit():
        raise ValueError(f"area code must be six digits, not {area_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, not {sequence}")
    first17 = f"{area_code}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


# --- Unified social credit codes (GB 32100) -----------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z

# Registration authorities (登记管理部门) and their institution types (机构类别), GB 32100-2015
# with its later additions (A: military, N: agricultural collectives).
CREDIT_CODE_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}
NATIONAL_AREA_CODE = "100000"  # registrations made by a national authority

_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class CreditCode:
    """The parts of a valid unified social credit code."""

    code: str
    authority: str
    authority_name: str
    institution_type: str
    institution_type_name: str
    area_code: str
    organisation_code: str  # the nine-character subject identifier (GB 11714 organisation code)
    allow_listed: bool = False  # accepted through TONGBAN_CREDIT_CODE_ALLOWLIST despite its check


def organisation_code_check_char(body: str) -> str:
    """The GB 11714 check character for the first eight characters of an organisation code."""
    total = sum(int(ch, 36) * weight for ch, weight in zip(body, _GB11714_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_allowlist() -> frozenset[str]:
    return frozenset(_clean(code) for code in getattr(settings, "TONGBAN_CREDIT_CODE_ALLOWLIST", ()) or ())


def parse_credit_code(value) -> CreditCode:
    """Check an 18-character unified social credit code and return its parts.

    Raises ``ValidationError`` whose message names the wrong part: length, characters, registration
    authority, institution type, area code or check character.
    """
    code = _clean(value)
    if not code:
        raise ValidationError(_("Enter the 18-character unified social credit code."), code="required")
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(length)d."),
            code="credit_code_length",
            params={"length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_ALPHABET:
            raise ValidationError(
                _(
                    "Character %(position)d (%(char)s) is not allowed: a credit code uses digits and "
                    "capital letters other than I, O, S, V and Z."
                ),
                code="credit_code_character",
                params={"position": position, "char": char},
            )
    allow_listed = code in credit_code_allowlist()
    authority = CREDIT_CODE_AUTHORITIES.get(code[0])
    if authority is None and not allow_listed:
        raise ValidationError(
            _("The first character (%(char)s) is not a registration authority code of GB 32100."),
            code="credit_code_authority",
            params={"char": code[0]},
        )
    authority_name, types = authority or ("", {})
    if code[1] not in "123456789" and not allow_listed:
        raise ValidationError(
            _("The second character (%(char)s) is not an institution type code (a digit 1 to 9)."),
            code="credit_code_type",
            params={"char": code[1]},
        )
    area_code = code[2:8]
    if not area_code.isdigit() and not allow_listed:
        raise ValidationError(
            _("Characters 3 to 8 (%(code)s) must be the six digits of the registering area's code."),
            code="credit_code_area",
            params={"code": area_code},
        )
    if area_code != NATIONAL_AREA_CODE and province_name(area_code) is None and not allow_listed:
        raise ValidationError(
            _(
                "Characters 3 to 8 (%(code)s) are not an administrative division code (GB/T 2260) "
                "of the registering area."
            ),
            code="credit_code_area",
            params={"code": area_code},
        )
    expected = uscc.calc_check_digit(code[:17])
    if code[17] != expected and not allow_listed:
        raise ValidationError(
            _(
                "The code does not add up: its check character (the last one) is %(actual)s, but the "
                "first 17 characters give %(expected)s. Compare every character with the licence."
            ),
            code="credit_code_checksum",
            params={"actual": code[17], "expected": expected},
        )
    return CreditCode(
        code=code,
        authority=code[0],
        authority_name=authority_name,
        institution_type=code[1],
        institution_type_name=types.get(code[1], ""),
        area_code=area_code,
        organisation_code=code[8:17],
        allow_listed=allow_listed,
    )


def validate_credit_code(value) -> str:
    """Django validator for a unified social credit code; returns the normalised code."""
    return parse_credit_code(value).code


def normalize_credit_code(value) -> str:
    return _clean(value)


def make_credit_code(
    area_code: str, organisation_code: str, *, authority: str = "9", institution_type: str = "1"
) -> str:
    """Build a credit code. ``organisation_code`` is the 8-character body (its GB 11714 check
    character is added) or the full 9 characters."""
    if len(area_code) != 6 or not area_code.isdigit():
        raise ValueError(f"area code must be six digits, not {area_code!r}")
    if len(organisation_code) == 8:
        organisation_code += organisation_code_check_char(organisation_code)
    if len(organisation_code) != 9:
        raise ValueError(f"organisation code must have 8 or 9 characters, not {organisation_code!r}")
    first17 = f"{authority}{institution_type}{area_code}{organisation_code}"
    if any(ch not in CREDIT_CODE_ALPHABET for ch in first17):
        raise ValueError(f"{first17!r} has characters outside the credit code alphabet")
    return first17 + uscc.calc_check_digit(first17)
