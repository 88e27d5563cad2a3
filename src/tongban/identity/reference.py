"""Reference data of identity: the city, its districts, the municipal departments and their branches, the roles.

One module feeds both the data migration (``0002_roles_and_departments``) and the demo seed (through
``services.departments_ensure``), so the codes that later issues and data refer to are written down once.

The loader functions take model classes as arguments, so that a migration can pass its historical models
and a service the real ones. They are idempotent: running them again updates names and creates what is
missing, and never deletes.
"""

from dataclasses import dataclass

from tongban.core.ids import DISTRICTS, SHANGHAI_CODE, SHANGHAI_NAME

CITY_CODE = SHANGHAI_CODE
CITY_NAME_ZH, CITY_NAME_EN = SHANGHAI_NAME


@dataclass(frozen=True)
class MunicipalDepartment:
    code: str
    name_zh: str
    name_en: str


# 市级部门: the codes are stable identifiers; later issues, the catalogue and the demo data refer to them.
MUNICIPAL_DEPARTMENTS = (
    MunicipalDepartment("public-security", "公安局", "Public Security Bureau"),
    MunicipalDepartment("health", "卫生健康委员会", "Health Commission"),
    MunicipalDepartment("hrss", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    MunicipalDepartment("medical-insurance", "医疗保障局", "Healthcare Security Administration"),
    MunicipalDepartment("education", "教育委员会", "Education Commission"),
    MunicipalDepartment("civil-affairs", "民政局", "Civil Affairs Bureau"),
    MunicipalDepartment(
        "housing", "住房城乡建设管理委员会", "Housing and Urban-Rural Development Commission"
    ),
    MunicipalDepartment("planning-resources", "规划和自然资源局", "Planning and Natural Resources Bureau"),
    MunicipalDepartment("market-regulation", "市场监督管理局", "Administration for Market Regulation"),
    MunicipalDepartment("tax", "税务局", "Tax Service"),
    MunicipalDepartment("ecology-environment", "生态环境局", "Ecology and Environment Bureau"),
    MunicipalDepartment(
        "urban-management", "城市管理行政执法局", "Urban Management and Law Enforcement Bureau"
    ),
    MunicipalDepartment(
        "greening-appearance", "绿化和市容管理局", "Landscaping and City Appearance Administration"
    ),
    MunicipalDepartment("transport", "交通委员会", "Transport Commission"),
    MunicipalDepartment("water", "水务局", "Water Authority"),
    MunicipalDepartment("fire-rescue", "消防救援总队", "Fire and Rescue Corps"),
    MunicipalDepartment("culture-tourism", "文化和旅游局", "Culture and Tourism Bureau"),
    # Runs the platform (一网通办) and the data hub (数据共享交换).
    MunicipalDepartment("big-data-center", "大数据中心", "Big Data Center"),
)
MUNICIPAL_DEPARTMENT_CODES = tuple(d.code for d in MUNICIPAL_DEPARTMENTS)
PLATFORM_DEPARTMENT_CODE = "big-data-center"


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name_zh: str
    name_en: str
    # "self": acts only for oneself (or one's organisations); "department": for one's own department;
    # "city": across all departments (the hotline centre, supervision, the platform).
    scope: str
    staff: bool


ROLE_DEFINITIONS = (
    RoleDefinition("citizen", "市民", "Citizen", "self", staff=False),
    RoleDefinition("enterprise_agent", "企业经办人", "Enterprise agent", "self", staff=False),
    RoleDefinition("window_clerk", "窗口受理人员", "Window clerk", "department", staff=True),
    RoleDefinition("dept_handler", "部门承办人", "Department handler", "department", staff=True),
    RoleDefinition("dept_approver", "部门审批人", "Department approver", "department", staff=True),
    RoleDefinition("dept_head", "部门负责人", "Department head", "department", staff=True),
    RoleDefinition("hotline_operator", "话务员", "Hotline operator", "city", staff=True),
    RoleDefinition("dispatcher", "派单员", "Dispatcher", "city", staff=True),
    RoleDefinition("supervisor", "监察人员", "Supervisor", "city", staff=True),
    RoleDefinition("service_designer", "事项设计人员", "Service designer", "department", staff=True),
    RoleDefinition("data_steward", "数据管理员", "Data steward", "department", staff=True),
    RoleDefinition("platform_admin", "平台管理员", "Platform administrator", "city", staff=True),
)
ROLE_CODES = tuple(r.code for r in ROLE_DEFINITIONS)
STAFF_ROLE_CODES = tuple(r.code for r in ROLE_DEFINITIONS if r.staff)


def district_label_zh(name_zh):
    """``黄浦`` → ``黄浦区``; ``浦东新区`` stays as it is."""
    return name_zh if name_zh.endswith(("区", "县")) else f"{name_zh}区"


def district_label_en(name_en):
    """``Huangpu`` → ``Huangpu District``; ``Pudong New Area`` stays as it is."""
    return name_en if name_en.endswith(("District", "Area", "County")) else f"{name_en} District"


def branch_code(department_code, district_code):
    """The code of a municipal department's branch in a district: ``public-security-310101``."""
    return f"{department_code}-{district_code}"


def load_roles(role_model):
    """Create or rename the roles; returns how many were created."""
    created = 0
    for definition in ROLE_DEFINITIONS:
        _, was_created = role_model.objects.update_or_create(
            code=definition.code, defaults={"name_zh": definition.name_zh, "name_en": definition.name_en}
        )
        created += was_created
    return created


def _sync(model, wanted):
    """Create the rows of ``wanted`` ({code: field values}) that are missing and update those that differ.

    Returns ({code: row}, number created). A handful of queries however many rows: the demo seed and every
    test database run this.
    """
    rows = {row.code: row for row in model.objects.filter(code__in=list(wanted))}

    def differs(row, field, value):
        attname = model._meta.get_field(field).attname  # compare foreign keys by id, without fetching them
        return getattr(row, attname) != (value.pk if hasattr(value, "pk") else value)

    missing = []
    for code, values in wanted.items():
        row = rows.get(code)
        if row is None:
            rows[code] = row = model(code=code, **values)
            missing.append(row)
        elif any(differs(row, field, value) for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            row.save()
    model.objects.bulk_create(missing)
    return rows, len(missing)


def load_departments(admin_unit_model, department_model):
    """Create the city, its 16 districts, the municipal departments and a branch of each in every district.

    Returns ``{"admin_units": n, "departments": n}``: how many rows were created (0 on a second run).
    """
    cities, created_city = _sync(
        admin_unit_model,
        {CITY_CODE: {"name": CITY_NAME_ZH, "name_en": CITY_NAME_EN, "level": "city", "parent": None}},
    )
    city = cities[CITY_CODE]
    districts, created_districts = _sync(
        admin_unit_model,
        {
            code: {
                "name": district_label_zh(zh),
                "name_en": district_label_en(en),
                "level": "district",
                "parent": city,
            }
            for code, (zh, en) in sorted(DISTRICTS.items())
        },
    )
    municipal, created_municipal = _sync(
        department_model,
        {
            item.code: {
                "name_zh": f"市{item.name_zh}",
                "name_en": f"Municipal {item.name_en}",
                "level": "city",
                "admin_unit": city,
                "parent": None,
            }
            for item in MUNICIPAL_DEPARTMENTS
        },
    )
    _, created_branches = _sync(
        department_model,
        {
            branch_code(item.code, district.code): {
                "name_zh": f"{district.name}{item.name_zh}",
                "name_en": f"{district.name_en} {item.name_en}",
                "level": "district",
                "admin_unit": district,
                "parent": municipal[item.code],
            }
            for item in MUNICIPAL_DEPARTMENTS
            for district in districts.values()
        },
    )
    return {
        "admin_units": created_city + created_districts,
        "departments": created_municipal + created_branches,
    }
