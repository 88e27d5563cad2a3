"""The licence types of the demo city (证照目录): every licence type the demo catalogue's items issue.

Field names follow the application forms of the items that issue them, so a case's form data can be handed
to ``licence_issue`` through ``licence_data_from`` without renaming. Sensitivity says where a field is shown:
``public`` also on the public verification page, ``internal`` on the licence and to staff, ``personal`` to
the holder, ``sensitive`` masked even on the licence's PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC, INTERNAL, PERSONAL, SENSITIVE = "public", "internal", "personal", "sensitive"


def f(name, label_zh, label_en, sensitivity, *, required=False):
    return {
        "name": name,
        "label_zh": label_zh,
        "label_en": label_en,
        "sensitivity": sensitivity,
        "required": required,
    }


@dataclass(frozen=True)
class TypeDefinition:
    code: str
    name_zh: str
    name_en: str
    prefix: str
    department: str
    fields: list = field(default_factory=list)
    validity_years: int | None = None


# Fields shared by several types.
_APPLICANT = [
    f("applicant_name", "姓名", "Name", PERSONAL, required=True),
    f("applicant_resident_id", "公民身份号码", "Resident ID number", SENSITIVE, required=True),
]
_ORG = [
    f("company_name", "名称", "Name", PUBLIC),
    f("credit_code", "统一社会信用代码", "Unified social credit code", PUBLIC),
    f("legal_representative", "法定代表人", "Legal representative", PUBLIC),
]
_PROJECT = [
    f("project_name", "项目名称", "Project", PUBLIC),
    f("project_address", "项目地址", "Project address", PUBLIC),
]
_PERIOD = [
    f("start_date", "起始日期", "From", PUBLIC),
    f("end_date", "截止日期", "Until", PUBLIC),
]

LICENCE_TYPES = (
    TypeDefinition(
        "birth-medical-certificate",
        "出生医学证明",
        "Birth medical certificate",
        "BMC",
        "health",
        [
            f("baby_name", "新生儿姓名", "Name of the newborn", PERSONAL, required=True),
            f("baby_sex", "性别", "Sex", INTERNAL, required=True),
            f("birth_date", "出生日期", "Date of birth", PERSONAL, required=True),
            f("birth_time", "出生时间", "Time of birth", PERSONAL),
            f("birth_weight_g", "出生体重（克）", "Birth weight (g)", INTERNAL),
            f("birth_hospital", "助产机构", "Place of delivery", PUBLIC, required=True),
            f("mother_name", "母亲姓名", "Mother's name", PERSONAL, required=True),
            f("mother_resident_id", "母亲公民身份号码", "Mother's resident ID", SENSITIVE, required=True),
            f("father_name", "父亲姓名", "Father's name", PERSONAL),
            f("father_resident_id", "父亲公民身份号码", "Father's resident ID", SENSITIVE),
        ],
    ),
    TypeDefinition(
        "social-security-card",
        "社会保障卡",
        "Social security card",
        "SSC",
        "hrss",
        [
            f("baby_name", "姓名", "Name", PERSONAL),
            f("baby_sex", "性别", "Sex", INTERNAL),
            f("birth_date", "出生日期", "Date of birth", PERSONAL),
            f("card_number", "社会保障卡卡号", "Card number", SENSITIVE),
            f("mailing_address", "邮寄地址", "Mailing address", PERSONAL),
        ],
    ),
    TypeDefinition(
        "housing-contract-filing",
        "存量房买卖合同网签备案证明",
        "Filing of a second-hand housing sale contract",
        "HCF",
        "housing",
        [
            f("contract_number", "合同编号", "Contract number", PUBLIC, required=True),
            f("property_unit", "不动产单元号", "Property unit number", PUBLIC, required=True),
            f("property_address", "房屋坐落", "Address", INTERNAL),
            f("floor_area", "建筑面积（平方米）", "Floor area (m²)", INTERNAL),
            f("seller_name", "出卖人", "Seller", PERSONAL),
            f("buyer_name", "买受人", "Buyer", PERSONAL),
            f("price", "成交价格（元）", "Price (yuan)", PERSONAL),
        ],
    ),
    TypeDefinition(
        "deed-tax-payment-certificate",
        "契税完税证明",
        "Deed tax payment certificate",
        "DTP",
        "tax",
        [
            f("property_unit", "不动产单元号", "Property unit number", PUBLIC, required=True),
            f("contract_number", "合同编号", "Contract number", INTERNAL),
            f("buyer_name", "纳税人", "Taxpayer", PERSONAL, required=True),
            f("buyer_resident_id", "纳税人公民身份号码", "Taxpayer's resident ID", SENSITIVE),
            f("price", "计税价格（元）", "Taxable price (yuan)", PERSONAL),
            f("tax_amount", "实缴税额（元）", "Tax paid (yuan)", PERSONAL),
        ],
    ),
    TypeDefinition(
        "real-estate-certificate",
        "不动产权证书",
        "Real estate title certificate",
        "REC",
        "planning-resources",
        [
            f("property_unit", "不动产单元号", "Property unit number", PUBLIC, required=True),
            f("property_address", "坐落", "Address", INTERNAL, required=True),
            f("right_type", "权利类型", "Type of right", PUBLIC),
            f("usage", "用途", "Use", INTERNAL),
            f("floor_area", "面积（平方米）", "Area (m²)", INTERNAL),
            f("co_ownership", "共有情况", "Co-ownership", PERSONAL),
            f("contract_number", "合同编号", "Contract number", INTERNAL),
        ],
    ),
    TypeDefinition(
        "business-licence",
        "营业执照",
        "Business licence",
        "BL",
        "market-regulation",
        [
            *_ORG,
            f("applicant_name", "经营者", "Operator", PERSONAL),
            f("business_address", "住所（经营场所）", "Registered address", PUBLIC, required=True),
            f("business_scope", "经营范围", "Business scope", PUBLIC, required=True),
            f("registered_capital", "注册资本（万元）", "Registered capital (10,000 yuan)", PUBLIC),
        ],
    ),
    TypeDefinition(
        "residence-permit",
        "上海市居住证",
        "Shanghai residence permit",
        "RP",
        "public-security",
        [
            *_APPLICANT,
            f("residence_address", "居住地址", "Address of residence", PERSONAL, required=True),
            f("employer_name", "就业单位", "Employer", INTERNAL),
        ],
    ),
    TypeDefinition(
        "marriage-certificate",
        "结婚证",
        "Marriage certificate",
        "MC",
        "civil-affairs",
        [
            *_APPLICANT,
            f("spouse_name", "配偶姓名", "Spouse's name", PERSONAL, required=True),
            f("spouse_resident_id", "配偶公民身份号码", "Spouse's resident ID", SENSITIVE, required=True),
            f("registration_date", "登记日期", "Date of registration", PERSONAL),
        ],
    ),
    TypeDefinition(
        "resident-id-card",
        "中华人民共和国居民身份证",
        "Resident identity card",
        "RIC",
        "public-security",
        [*_APPLICANT, f("address", "住址", "Address", PERSONAL)],
        validity_years=10,
    ),
    TypeDefinition(
        "passport",
        "中华人民共和国普通护照",
        "Passport",
        "PP",
        "public-security",
        [*_APPLICANT, f("passport_number", "护照号码", "Passport number", SENSITIVE)],
        validity_years=10,
    ),
    TypeDefinition(
        "driving-licence",
        "机动车驾驶证",
        "Driving licence",
        "DL",
        "public-security",
        [*_APPLICANT, f("vehicle_class", "准驾车型", "Vehicle class", INTERNAL)],
        validity_years=10,
    ),
    TypeDefinition(
        "physician-practice-certificate",
        "医师执业证书",
        "Physician practice certificate",
        "PPC",
        "health",
        [*_APPLICANT, f("employer_name", "执业机构", "Place of practice", PUBLIC, required=True)],
    ),
    TypeDefinition(
        "food-business-licence",
        "食品经营许可证",
        "Food business licence",
        "FBL",
        "market-regulation",
        [
            *_ORG,
            f("business_address", "经营场所", "Premises", PUBLIC, required=True),
            f("business_scope", "经营项目", "Business items", PUBLIC, required=True),
        ],
        validity_years=5,
    ),
    TypeDefinition(
        "pollutant-discharge-permit",
        "排污许可证",
        "Pollutant discharge permit",
        "PDP",
        "ecology-environment",
        [*_ORG, *_PROJECT],
        validity_years=5,
    ),
    TypeDefinition(
        "construction-planning-permit",
        "建设工程规划许可证",
        "Construction planning permit",
        "CPP",
        "planning-resources",
        [*_ORG, *_PROJECT],
    ),
    TypeDefinition(
        "road-occupation-permit",
        "占用道路施工许可决定书",
        "Road occupation permit",
        "ROP",
        "transport",
        [f("applicant_name", "申请人", "Applicant", PUBLIC), *_PROJECT, *_PERIOD],
    ),
    TypeDefinition(
        "outdoor-advertising-permit",
        "户外广告设施设置许可决定书",
        "Outdoor advertising permit",
        "OAP",
        "greening-appearance",
        [*_ORG, f("project_address", "设置地点", "Location", PUBLIC), *_PERIOD],
    ),
    TypeDefinition(
        "drainage-permit",
        "城镇污水排入排水管网许可证",
        "Drainage permit",
        "DP",
        "water",
        [*_ORG, f("project_address", "排水户地址", "Address", PUBLIC)],
        validity_years=5,
    ),
    TypeDefinition(
        "fire-safety-inspection-certificate",
        "公众聚集场所投入使用、营业前消防安全检查合格证",
        "Fire safety inspection certificate",
        "FSC",
        "fire-rescue",
        [
            *_ORG,
            f("venue_name", "场所名称", "Venue", PUBLIC, required=True),
            f("business_address", "场所地址", "Address", PUBLIC),
        ],
    ),
    TypeDefinition(
        "road-excavation-permit",
        "城市道路挖掘许可决定书",
        "Road excavation permit",
        "REP",
        "urban-management",
        [*_ORG, *_PROJECT, *_PERIOD],
    ),
    TypeDefinition(
        "pre-sale-permit",
        "商品房预售许可证",
        "Commercial housing pre-sale permit",
        "PSP",
        "housing",
        [*_ORG, *_PROJECT, f("floor_area", "预售面积（平方米）", "Pre-sale area (m²)", PUBLIC)],
    ),
    TypeDefinition(
        "travel-agency-licence",
        "旅行社业务经营许可证",
        "Travel agency licence",
        "TAL",
        "culture-tourism",
        [*_ORG, f("business_address", "经营场所", "Premises", PUBLIC)],
    ),
)

# Codes used elsewhere for a type of this list.
ALIASES = {"property-certificate": "real-estate-certificate"}
