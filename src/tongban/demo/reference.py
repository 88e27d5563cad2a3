"""Reference data of the demo city: streets and towns, roads, names, organisation names, demo accounts.

Streets and towns are real subdivisions of each district with their codes from the National Bureau of
Statistics' 统计用区划代码 (2023): the district's GB/T 2260 code followed by three digits. A few of each
district are used, not all. Roads are real roads of the district, combined freely with house numbers:
the addresses themselves are invented. Persons, households and organisations are synthetic.
"""

DEFAULT_SEED = 20261127
DEFAULT_PEOPLE = 20_000
DEFAULT_ORGANISATIONS = 2_000

# Demo only: every demo account shares this password, printed by ``tongban seed``. Never use the demo
# accounts on a server others can reach.
DEMO_PASSWORD = "tongban-demo-2026"  # noqa: S105 - the published demo password

# 街道 / 镇: district code → ((street code, Chinese name, English name), ...)
STREETS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "310101": (
        ("310101002", "南京东路街道", "Nanjing East Road Subdistrict"),
        ("310101013", "外滩街道", "The Bund Subdistrict"),
        ("310101018", "豫园街道", "Yuyuan Subdistrict"),
        ("310101021", "打浦桥街道", "Dapuqiao Subdistrict"),
        ("310101023", "瑞金二路街道", "Ruijin Second Road Subdistrict"),
    ),
    "310104": (
        ("310104003", "天平路街道", "Tianping Road Subdistrict"),
        ("310104011", "田林街道", "Tianlin Subdistrict"),
        ("310104014", "徐家汇街道", "Xujiahui Subdistrict"),
        ("310104016", "龙华街道", "Longhua Subdistrict"),
        ("310104103", "华泾镇", "Huajing Town"),
    ),
    "310105": (
        ("310105001", "华阳路街道", "Huayang Road Subdistrict"),
        ("310105002", "江苏路街道", "Jiangsu Road Subdistrict"),
        ("310105004", "新华路街道", "Xinhua Road Subdistrict"),
        ("310105009", "虹桥街道", "Hongqiao Subdistrict"),
        ("310105102", "新泾镇", "Xinjing Town"),
    ),
    "310106": (
        ("310106012", "南京西路街道", "Nanjing West Road Subdistrict"),
        ("310106013", "静安寺街道", "Jing'an Temple Subdistrict"),
        ("310106014", "曹家渡街道", "Caojiadu Subdistrict"),
        ("310106016", "北站街道", "Beizhan Subdistrict"),
        ("310106020", "彭浦新村街道", "Pengpu Xincun Subdistrict"),
    ),
    "310107": (
        ("310107005", "曹杨新村街道", "Caoyang Xincun Subdistrict"),
        ("310107014", "长风新村街道", "Changfeng Xincun Subdistrict"),
        ("310107015", "长寿路街道", "Changshou Road Subdistrict"),
        ("310107022", "真如镇街道", "Zhenru Town Subdistrict"),
        ("310107103", "桃浦镇", "Taopu Town"),
    ),
    "310109": (
        ("310109009", "欧阳路街道", "Ouyang Road Subdistrict"),
        ("310109010", "曲阳路街道", "Quyang Road Subdistrict"),
        ("310109017", "四川北路街道", "North Sichuan Road Subdistrict"),
        ("310109018", "北外滩街道", "North Bund Subdistrict"),
        ("310109019", "江湾镇街道", "Jiangwan Town Subdistrict"),
    ),
    "310110": (
        ("310110001", "定海路街道", "Dinghai Road Subdistrict"),
        ("310110006", "平凉路街道", "Pingliang Road Subdistrict"),
        ("310110016", "殷行街道", "Yinhang Subdistrict"),
        ("310110019", "五角场街道", "Wujiaochang Subdistrict"),
        ("310110020", "新江湾城街道", "Xinjiangwancheng Subdistrict"),
    ),
    "310112": (
        ("310112001", "江川路街道", "Jiangchuan Road Subdistrict"),
        ("310112006", "古美街道", "Gumei Subdistrict"),
        ("310112101", "莘庄镇", "Xinzhuang Town"),
        ("310112102", "七宝镇", "Qibao Town"),
        ("310112114", "浦江镇", "Pujiang Town"),
    ),
    "310113": (
        ("310113003", "友谊路街道", "Youyi Road Subdistrict"),
        ("310113007", "吴淞街道", "Wusong Subdistrict"),
        ("310113101", "罗店镇", "Luodian Town"),
        ("310113102", "大场镇", "Dachang Town"),
        ("310113109", "顾村镇", "Gucun Town"),
    ),
    "310114": (
        ("310114001", "新成路街道", "Xincheng Road Subdistrict"),
        ("310114004", "嘉定镇街道", "Jiading Town Subdistrict"),
        ("310114102", "南翔镇", "Nanxiang Town"),
        ("310114103", "安亭镇", "Anting Town"),
        ("310114118", "江桥镇", "Jiangqiao Town"),
    ),
    "310115": (
        ("310115005", "陆家嘴街道", "Lujiazui Subdistrict"),
        ("310115008", "塘桥街道", "Tangqiao Subdistrict"),
        ("310115016", "花木街道", "Huamu Subdistrict"),
        ("310115103", "川沙新镇", "Chuansha New Town"),
        ("310115125", "张江镇", "Zhangjiang Town"),
        ("310115131", "惠南镇", "Huinan Town"),
    ),
    "310116": (
        ("310116001", "石化街道", "Shihua Subdistrict"),
        ("310116101", "朱泾镇", "Zhujing Town"),
        ("310116102", "枫泾镇", "Fengjing Town"),
        ("310116104", "亭林镇", "Tinglin Town"),
        ("310116109", "金山卫镇", "Jinshanwei Town"),
    ),
    "310117": (
        ("310117001", "岳阳街道", "Yueyang Subdistrict"),
        ("310117003", "方松街道", "Fangsong Subdistrict"),
        ("310117102", "泗泾镇", "Sijing Town"),
        ("310117103", "佘山镇", "Sheshan Town"),
        ("310117107", "九亭镇", "Jiuting Town"),
    ),
    "310118": (
        ("310118001", "夏阳街道", "Xiayang Subdistrict"),
        ("310118002", "盈浦街道", "Yingpu Subdistrict"),
        ("310118102", "朱家角镇", "Zhujiajiao Town"),
        ("310118105", "赵巷镇", "Zhaoxiang Town"),
        ("310118106", "徐泾镇", "Xujing Town"),
    ),
    "310120": (
        ("310120001", "西渡街道", "Xidu Subdistrict"),
        ("310120002", "奉浦街道", "Fengpu Subdistrict"),
        ("310120101", "南桥镇", "Nanqiao Town"),
        ("310120102", "奉城镇", "Fengcheng Town"),
        ("310120118", "柘林镇", "Zhelin Town"),
    ),
    "310151": (
        ("310151101", "城桥镇", "Chengqiao Town"),
        ("310151102", "堡镇", "Baozhen Town"),
        ("310151110", "陈家镇", "Chenjia Town"),
        ("310151116", "长兴镇", "Changxing Town"),
        ("310151202", "横沙乡", "Hengsha Township"),
    ),
}

# Roads of each district used in the invented addresses.
ROADS: dict[str, tuple[str, ...]] = {
    "310101": ("南京东路", "九江路", "河南中路", "复兴中路", "淮海中路", "西藏南路"),
    "310104": ("衡山路", "漕溪北路", "天钥桥路", "宜山路", "龙华中路", "田林路"),
    "310105": ("延安西路", "愚园路", "新华路", "天山路", "仙霞路", "虹桥路"),
    "310106": ("南京西路", "江宁路", "共和新路", "天目西路", "临汾路", "万航渡路"),
    "310107": ("曹杨路", "长寿路", "武宁路", "真北路", "金沙江路", "桃浦路"),
    "310109": ("四川北路", "东大名路", "欧阳路", "曲阳路", "大连西路", "广中路"),
    "310110": ("平凉路", "控江路", "四平路", "国权路", "淞沪路", "殷行路"),
    "310112": ("沪闵路", "七莘路", "漕宝路", "江川路", "浦锦路", "古美路"),
    "310113": ("友谊路", "牡丹江路", "同济路", "沪太路", "泰和路"),
    "310114": ("博乐路", "城中路", "沪宜公路", "墨玉路", "曹安公路"),
    "310115": ("世纪大道", "张杨路", "浦东南路", "花木路", "川沙路", "祖冲之路"),
    "310116": ("卫零路", "蒙山路", "亭卫公路", "朱枫公路"),
    "310117": ("人民北路", "荣乐东路", "中山东路", "泗陈公路", "沪松公路"),
    "310118": ("公园路", "盈港东路", "崧泽大道", "沪青平公路", "外青松公路"),
    "310120": ("环城东路", "金海公路", "南奉公路", "望园路"),
    "310151": ("八一路", "陈海公路", "北沿公路", "崇明大道"),
}

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
