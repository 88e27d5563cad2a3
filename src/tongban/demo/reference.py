"""Reference data of the demo city: names, organisation names, demo accounts; its streets and roads.

Streets, towns and roads are the real ones of ``identity.geography`` (re-exported here), combined freely with
house numbers: the addresses themselves are invented. Persons, households and organisations are synthetic.
"""

# The city's real streets and roads are identity's reference data (the hotline corpus, a lower app, uses them
# too); the demo city lives on them.
from tongban.identity.geography import ROADS, STREETS  # noqa: F401

DEFAULT_SEED = 20261127
DEFAULT_PEOPLE = 20_000
DEFAULT_ORGANISATIONS = 2_000

# Demo only: every demo account shares this password, printed by ``tongban seed``. Never use the demo
# accounts on a server others can reach.
DEMO_PASSWORD = "tongban-demo-2026"  # noqa: S105 - the published demo password

# Resident population by district, 2020 census, in ten thousands: how the demo spreads its households.
DISTRICT_POPULATION: dict[str, float] = {
    "310101": 66.20,
    "310104": 111.31,
    "310105": 69.31,
    "310106": 97.57,
    "310107": 123.98,
    "310109": 75.74,
    "310110": 124.25,
    "310112": 265.35,
    "310113": 223.52,
    "310114": 183.43,
    "310115": 568.15,
    "310116": 82.28,
    "310117": 190.97,
    "310118": 127.14,
    "310120": 114.09,
    "310151": 63.79,
}

# Retired Shanghai codes by the current district that took them over (see core.ids.RETIRED_AREA_CODES).
PREDECESSORS: dict[str, tuple[str, ...]] = {
    "310101": ("310102", "310103"),
    "310106": ("310108",),
    "310112": ("310221",),
    "310113": ("310111", "310223"),
    "310114": ("310222",),
    "310115": ("310224", "310225", "310119"),
    "310116": ("310228",),
    "310117": ("310227",),
    "310118": ("310229",),
    "310120": ("310226",),
    "310151": ("310230",),
}

# Area codes of residents whose number was issued elsewhere before they moved their household here.
OTHER_AREAS = (
    "320583",  # 江苏省昆山市
    "330106",  # 浙江省杭州市西湖区
    "340102",  # 安徽省合肥市瑶海区
    "370102",  # 山东省济南市历下区
    "410105",  # 河南省郑州市金水区
    "420106",  # 湖北省武汉市武昌区
    "360102",  # 江西省南昌市东湖区
    "510107",  # 四川省成都市武侯区
    "440106",  # 广东省广州市天河区
    "350102",  # 福建省福州市鼓楼区
)

# Surnames with a rough weight for Shanghai (common local surnames rank higher than nationally).
SURNAMES = (
    ("张", 60), ("王", 60), ("陈", 55), ("李", 50), ("徐", 35), ("朱", 30), ("周", 30), ("沈", 28),
    ("陆", 26), ("顾", 24), ("刘", 24), ("杨", 22), ("吴", 22), ("黄", 20), ("金", 18), ("孙", 16),
    ("胡", 15), ("钱", 14), ("蒋", 13), ("姚", 13), ("赵", 13), ("唐", 12), ("范", 11), ("俞", 11),
    ("施", 10), ("潘", 10), ("曹", 10), ("许", 10), ("郁", 9), ("马", 9), ("汪", 9), ("郑", 9),
    ("何", 8), ("龚", 8), ("倪", 8), ("严", 8), ("林", 8), ("卢", 7), ("邵", 7), ("戴", 7), ("程", 7),
    ("夏", 7), ("谢", 7), ("宋", 7), ("丁", 7), ("高", 7), ("叶", 7), ("蔡", 7), ("袁", 6), ("方", 6),
    ("罗", 6), ("杜", 5), ("邱", 5), ("姜", 5), ("魏", 5), ("孔", 5), ("梁", 5), ("韩", 5), ("冯", 5),
    ("毛", 5), ("葛", 5), ("秦", 4), ("费", 4), ("殷", 4), ("翁", 4), ("吕", 4), ("贾", 3), ("褚", 3),
    ("瞿", 3), ("奚", 3), ("单", 2), ("欧阳", 1),
)  # fmt: skip

GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国峰亮成文志海东晨毅翔博睿哲轩昊天泽宏嘉铭子然晓立德永春"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳晶洁倩佳萍红梅莉秀英兰凤云琴蓉薇婧怡悦欣妍涵雨萱诗雯思梦瑶琪晓嘉子月美爱珍芸"

# Parts of invented organisation names.
TRADE_NAME_CHARS = "华申沪浦东海新联信达恒泰鼎盛隆宏瑞祥和润锦程远博创卓越安康源汇通嘉明启辰星辉悦天"
INDUSTRIES = (
    "信息科技", "网络科技", "贸易", "餐饮管理", "物业管理", "建筑工程", "文化传播", "教育科技", "医疗器械",
    "生物科技", "物流", "企业管理咨询", "电子商务", "家政服务", "装饰工程", "汽车服务", "食品", "服饰",
    "环保科技", "人力资源",
)  # fmt: skip
SHOPS = ("便利店", "小吃店", "理发店", "水果店", "五金店", "面馆", "洗衣店", "花店", "烟杂店", "修车铺")
COOP_KINDS = ("蔬果", "水稻", "农机", "西瓜", "葡萄", "食用菌", "水产养殖")
STREET_INSTITUTIONS = ("社区卫生服务中心", "社区文化活动中心", "社区事务受理服务中心")
ASSOCIATION_TOPICS = ("书法", "摄影", "老年体育", "个体劳动者", "志愿者", "餐饮行业", "集邮", "围棋")
NON_ENTERPRISE_KINDS = ("养老院", "幼儿园", "社工服务社", "职业技能培训中心")

# Demo staff: username, name, department code (``branch_code`` form for a district branch), roles.
# Window clerks and the city-wide roles sit in the Big Data Center, which runs the platform and the windows.
DEMO_STAFF = (
    ("clerk.huangpu", "周敏", "big-data-center-310101", ("window_clerk",)),
    ("clerk.pudong", "陆佳怡", "big-data-center-310115", ("window_clerk",)),
    ("handler.ps", "沈建国", "public-security", ("dept_handler",)),
    ("approver.ps", "顾晓东", "public-security", ("dept_approver",)),
    ("head.ps", "钱志刚", "public-security", ("dept_head",)),
    ("handler.ps.huangpu", "唐婷", "public-security-310101", ("dept_handler",)),
    ("handler.hrss", "朱丽", "hrss", ("dept_handler",)),
    ("approver.hrss", "姚斌", "hrss", ("dept_approver",)),
    ("handler.health", "蒋雯", "health", ("dept_handler",)),
    ("head.health", "林芳", "health", ("dept_head",)),
    ("handler.mi", "何静", "medical-insurance", ("dept_handler",)),
    ("handler.pr", "吴磊", "planning-resources", ("dept_handler",)),
    ("approver.pr", "钟华", "planning-resources", ("dept_approver",)),
    ("handler.tax", "许晴", "tax", ("dept_handler",)),
    ("handler.housing", "邵军", "housing", ("dept_handler",)),
    ("handler.um.huangpu", "陶勇", "urban-management-310101", ("dept_handler",)),
    ("handler.mr", "施浩", "market-regulation", ("dept_handler",)),
    ("approver.mr", "潘慧", "market-regulation", ("dept_approver",)),
    ("head.mr", "孙宏", "market-regulation", ("dept_head",)),
    ("operator.12345", "俞倩", "big-data-center", ("hotline_operator",)),
    ("dispatcher.12345", "郁峰", "big-data-center", ("dispatcher",)),
    ("supervisor", "严明", "big-data-center", ("supervisor",)),
    ("designer", "龚嘉", "big-data-center", ("service_designer",)),
    ("steward", "倪文", "big-data-center", ("data_steward",)),
    ("admin", "管理员", "big-data-center", ("platform_admin",)),
)
PLATFORM_ADMIN_USERNAME = "admin"

# Demo citizens: persons with fixed details, so the demo story is the same on every machine. Each is a
# (username, name, sex, birth date (ISO), area code, district, street); the first two share a household.
DEMO_CITIZENS = (
    ("li.ming", "李明", "M", "1990-05-12", "310101", "310101", "310101002"),
    ("chen.jing", "陈静", "F", "1992-09-03", "310101", "310101", "310101002"),
    ("wang.xiuying", "王秀英", "F", "1955-03-08", "310108", "310106", "310106016"),
    ("zhang.wei", "张伟", "M", "1983-11-20", "310115", "310115", "310115125"),
)
DEMO_ENTERPRISE = {
    "name": "上海通办示范科技有限公司",
    "district": "310115",
    "agent": "zhang.wei",
}
