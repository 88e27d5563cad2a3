"""The labelled routing corpus (派单语料): synthetic 12345 tickets, each with the department that handles it.

``corpus_generate()`` builds it deterministically (seeded) from templates: a colloquial opening, a place in
Shanghai (districts, streets and roads of ``identity.geography``), the problem itself in one of several
phrasings, sometimes a time, a closing and a filler word. ``python -m tongban.hotline.corpus`` rewrites
``data/corpus.jsonl``, which is committed; ``corpus_load()`` reads it.

Each row is ``{"id", "text", "department", "topic", "split"}``. ``split`` is ``"test"`` for about 20 % of
the rows, chosen by a hash of the id (stable across regenerations), else ``"train"``. ``topic`` names the
template family; the confusable pairs of the issue are listed in ``CONFUSABLE_PAIRS`` by topic.
"""

import hashlib
import json
import random
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from tongban.core.ids import DISTRICTS
from tongban.identity.geography import ROADS, STREETS

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "corpus.jsonl"
DEFAULT_SIZE = 6000
DEFAULT_SEED = 12345

DEPARTMENT_CODES = (
    "public-security",
    "health",
    "hrss",
    "medical-insurance",
    "education",
    "civil-affairs",
    "housing",
    "planning-resources",
    "market-regulation",
    "tax",
    "ecology-environment",
    "urban-management",
    "greening-appearance",
    "transport",
    "water",
    "fire-rescue",
    "culture-tourism",
)

# The confusable groups the issue names: group name → topics (each topic belongs to one department).
CONFUSABLE_PAIRS: dict[str, tuple[str, ...]] = {
    "noise": ("noise-construction", "noise-factory", "noise-neighbour"),
    "sewer-vs-leak": ("sewer-blocked", "leak-property"),
    "prepaid-card-vs-refund": ("prepaid-gym", "training-refund"),
    "bill-vs-conduct": ("medical-bill", "doctor-conduct"),
    "certificate-vs-qualification": ("property-certificate", "purchase-qualification"),
}

# Every topic of the corpus, with its label (hotspots, spikes and blind spots count tickets by topic).
TOPIC_LABELS: dict[str, str] = {
    "civil": _("Civil affairs (marriage, elderly care, assistance)"),
    "culture-tourism": _("Culture and tourism"),
    "noise-factory": _("Factory noise"),
    "pollution": _("Pollution"),
    "school": _("Schools and enrolment"),
    "training-refund": _("Training school refunds"),
    "fire": _("Fire hazards"),
    "greening": _("Trees and greenery"),
    "doctor-conduct": _("Doctors' conduct"),
    "health-service": _("Health services"),
    "leak-property": _("Leaks the property manager must fix"),
    "property-management": _("Property management"),
    "purchase-qualification": _("Home purchase qualification"),
    "social-security": _("Social insurance"),
    "wages-labour": _("Wages and labour disputes"),
    "consumer": _("Consumer complaints"),
    "prepaid-gym": _("Prepaid cards (gyms, shops)"),
    "insurance-service": _("Medical insurance services"),
    "medical-bill": _("Medical bills"),
    "land-planning": _("Land and planning"),
    "property-certificate": _("Property certificates"),
    "household": _("Household registration and ID cards"),
    "noise-neighbour": _("Neighbours' noise"),
    "theft-fraud": _("Theft and fraud"),
    "tax": _("Taxes and invoices"),
    "transport": _("Transport"),
    "noise-construction": _("Night construction noise"),
    "street-order": _("Street order (stalls, parking, signs)"),
    "sewer-blocked": _("Blocked sewers"),
    "water-supply": _("Water supply"),
}


def topic_label(code: str) -> str:
    """The label of a topic code ("" stays "", an unknown code is shown as it is)."""
    return str(TOPIC_LABELS.get(code, code)) if code else ""


OPENINGS = (
    "",
    "",
    "你好，",
    "你好，我要反映",
    "您好，我想反映一下，",
    "喂，12345吗？",
    "我要投诉，",
    "我想咨询一下，",
    "市民来电反映：",
    "来电人称，",
    "网友留言：",
    "麻烦帮忙处理一下，",
    "我是附近居民，",
    "有个事情想问问，",
    "请问，",
)
CLOSINGS = (
    "",
    "",
    "",
    "希望尽快处理。",
    "请相关部门管一管。",
    "谢谢！",
    "麻烦给个答复。",
    "已经反映过好几次了，一直没人管。",
    "希望有关部门重视。",
    "请尽快联系我。",
    "太气人了！",
    "要求回电。",
)
FILLERS = ("", "", "", "", "那个，", "就是说，", "怎么说呢，", "真的是，", "唉，", "嗯，")
TIMES = (
    "",
    "",
    "最近",
    "这几天",
    "昨天晚上",
    "今天上午",
    "上周",
    "这个月以来",
    "每天",
    "从上个月开始",
    "前天下午",
    "周末",
)
NIGHT = ("晚上十一点以后", "凌晨一两点", "半夜", "夜里十点多", "每天夜里", "凌晨三点")
COMMUNITIES = ("新村", "小区", "花园", "公寓", "苑", "家园", "一村", "二村", "大楼", "佳苑")
COMMUNITY_NAMES = [
    "阳光",
    "金桥",
    "长风",
    "华林",
    "东方",
    "锦绣",
    "春申",
    "丽都",
    "明珠",
    "古北",
    "临汾",
    "曲阳",
    "康桥",
    "绿洲",
    "梅园",
    "枫林",
]

# topic → (department, phrasings). Slots: {t} a time, {n} a night time, {x} a topic word from WORDS.
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    # --- public security 公安
    "noise-neighbour": (
        "public-security",
        (
            "楼上邻居{n}还在放音乐，声音特别大，{x}，根本睡不着",
            "隔壁邻居家{n}唱卡拉OK，{x}，敲门也不理",
            "邻居{n}打麻将吵闹，{x}，影响休息",
            "楼下住户{n}开音响蹦迪，噪音扰民，{x}",
            "对门邻居养的狗{n}一直叫，{x}，沟通无果",
            "隔壁租客{n}聚会喝酒大声喧哗，{x}",
        ),
    ),
    "household": (
        "public-security",
        (
            "想问一下{x}需要带什么材料",
            "{x}去派出所办，窗口说材料不全，{t}跑了两趟",
            "{x}要多久能办好",
            "孩子{x}，请问在哪里办理",
        ),
    ),
    "theft-fraud": (
        "public-security",
        (
            "{t}我{x}，已经报警了但没有进展",
            "小区里{x}，希望警察加强巡逻",
            "我父亲{x}，损失了好几万",
            "{t}发现{x}，想问问怎么处理",
        ),
    ),
    # --- health 卫健
    "doctor-conduct": (
        "health",
        (
            "医院的医生{x}，我要投诉这个医生",
            "{t}带孩子去医院看病，接诊医生{x}",
            "社区卫生服务中心的医生{x}，服务态度极差",
            "急诊科医生{x}，耽误了病情",
            "医生{x}，护士也不管，要求医院处理",
        ),
    ),
    "health-service": (
        "health",
        (
            "{x}，想咨询一下",
            "医院{x}，希望卫健委管一管",
            "{t}去医院{x}",
        ),
    ),
    # --- hrss 人社
    "wages-labour": (
        "hrss",
        (
            "公司{x}，我们十几个工人都没拿到钱",
            "{t}被公司{x}，想申请劳动仲裁",
            "单位{x}，请问怎么维权",
            "我在工地打工，老板{x}",
        ),
    ),
    "social-security": (
        "hrss",
        (
            "{x}，请问怎么办理",
            "想咨询{x}的条件",
            "我{x}，社保中心说不归他们管",
        ),
    ),
    # --- medical insurance 医保
    "medical-bill": (
        "medical-insurance",
        (
            "医院的收费清单里{x}，医保为什么不能报",
            "住院结算{x}，费用明细对不上",
            "{t}去医院看病，{x}，医保报销比例不对",
            "药费{x}，医保统筹没有结算",
            "医院{x}，要求核查这笔医疗费用",
        ),
    ),
    "insurance-service": (
        "medical-insurance",
        (
            "想咨询{x}",
            "{x}，医保中心怎么办理",
            "{t}{x}，一直办不下来",
        ),
    ),
    # --- education 教育
    "training-refund": (
        "education",
        (
            "孩子报的{x}，现在机构不给退费",
            "{x}，剩下的课时费要不回来",
            "培训机构{x}，老板联系不上，学费退不了",
            "{t}给孩子交了辅导班的学费，{x}，要求退款",
            "校外培训机构{x}，家长们要退学费",
        ),
    ),
    "school": (
        "education",
        (
            "{x}，请问怎么办",
            "孩子{x}，学校说要等通知",
            "想咨询{x}的政策",
        ),
    ),
    # --- civil affairs 民政
    "civil": (
        "civil-affairs",
        (
            "{x}，请问需要什么材料",
            "想咨询{x}",
            "{t}{x}，街道说要找民政",
            "老人{x}，希望民政部门帮助",
        ),
    ),
    # --- housing 住建 / 房管
    "leak-property": (
        "housing",
        (
            "家里{x}，找物业好几次都不来修",
            "楼上卫生间{x}，物业推来推去不处理",
            "{t}下雨{x}，物业公司一直拖着",
            "房屋{x}，物业说要用维修基金，迟迟不修",
            "小区{x}，物业不管，墙都发霉了",
        ),
    ),
    "purchase-qualification": (
        "housing",
        (
            "想咨询一下{x}",
            "我{x}，购房资格审核没通过",
            "{x}，想买房不知道有没有资格",
            "外地户口{x}，请问能不能在上海买房",
            "离异后{x}，购房资格怎么算",
        ),
    ),
    "property-management": (
        "housing",
        (
            "小区物业{x}，业委会也不管",
            "{x}，请问房管局能不能处理",
            "{t}小区{x}",
        ),
    ),
    # --- planning & natural resources 规划资源
    "property-certificate": (
        "planning-resources",
        (
            "买的房子{x}，请问不动产登记中心怎么说",
            "{x}，想咨询办理流程",
            "房子交付好几年了{x}，开发商说在办",
            "父母过世后{x}，继承的房产怎么登记",
            "{t}去办{x}，被告知材料不全",
        ),
    ),
    "land-planning": (
        "planning-resources",
        (
            "{x}，请问规划上是怎么批的",
            "附近{x}，要求查处",
            "想咨询{x}",
        ),
    ),
    # --- market regulation 市场监管
    "prepaid-gym": (
        "market-regulation",
        (
            "我在健身房办了{x}，现在健身房关门了",
            "{x}，游泳馆跑路了钱退不回来",
            "健身房{x}，预付卡里还有几千块",
            "{t}美容院{x}，商家拒绝退卡",
            "办的健身年卡{x}，私教课也没上完",
        ),
    ),
    "consumer": (
        "market-regulation",
        (
            "{t}在超市{x}，商家不肯赔",
            "饭店{x}，要求市场监管部门查处",
            "网上买的东西{x}，商家拒绝退换",
            "{x}，请问怎么投诉",
        ),
    ),
    # --- tax 税务
    "tax": (
        "tax",
        (
            "{x}，请问怎么操作",
            "想咨询{x}",
            "{t}{x}，税务局的电话打不通",
            "商家{x}，我要举报",
        ),
    ),
    # --- ecology & environment 生态环境
    "noise-factory": (
        "ecology-environment",
        (
            "附近工厂{x}，{n}也不停",
            "小区旁边的厂房{x}，严重扰民",
            "{t}对面工厂的车间机器{x}",
            "工业园区一家企业{x}，轰隆隆响个不停",
            "厂里的冷却塔风机{x}，吵得人头疼",
        ),
    ),
    "pollution": (
        "ecology-environment",
        (
            "附近的厂{x}，要求环保部门查处",
            "{t}发现企业{x}",
            "工业区{x}，气味很难闻",
        ),
    ),
    # --- urban management 城管
    "noise-construction": (
        "urban-management",
        (
            "附近工地{n}还在施工，{x}",
            "{n}工地{x}，吵得没法睡觉",
            "建筑工地夜间施工，{x}，有没有夜间施工许可",
            "地块工地{n}{x}，噪音扰民",
            "马路对面的工地{n}还在干活，{x}",
        ),
    ),
    "street-order": (
        "urban-management",
        (
            "{x}，城管来了又走了",
            "路口{x}，影响通行",
            "{t}小区门口{x}",
            "有人{x}，请城管执法",
        ),
    ),
    # --- greening & city appearance 绿化市容
    "greening": (
        "greening-appearance",
        (
            "小区门口{x}，希望绿化部门处理",
            "马路边{x}",
            "{t}{x}，没人来管",
            "公园里{x}",
        ),
    ),
    # --- transport 交通
    "transport": (
        "transport",
        (
            "{x}，希望交通部门管一管",
            "{t}{x}",
            "想咨询{x}",
            "坐车的时候{x}",
        ),
    ),
    # --- water 水务
    "sewer-blocked": (
        "water",
        (
            "马路上的{x}，污水都漫到路面上了",
            "路边{x}，臭气熏天",
            "{t}下大雨，道路{x}",
            "街上{x}，行人没法走",
            "小区外面市政道路的{x}，一下雨就积水",
        ),
    ),
    "water-supply": (
        "water",
        (
            "{t}{x}，也没有提前通知",
            "我家{x}，请问什么原因",
            "整栋楼{x}",
            "附近河道{x}",
        ),
    ),
    # --- fire & rescue 消防
    "fire": (
        "fire-rescue",
        (
            "小区{x}，存在火灾隐患",
            "{t}发现{x}，万一着火怎么办",
            "楼里{x}，物业不管",
            "商场{x}，请消防部门检查",
        ),
    ),
    # --- culture & tourism 文旅
    "culture-tourism": (
        "culture-tourism",
        (
            "{x}，我要投诉",
            "{t}{x}",
            "想咨询{x}",
            "跟团出去玩{x}",
        ),
    ),
}

WORDS: dict[str, tuple[str, ...]] = {
    "noise-neighbour": ("音乐声震天响", "吵得孩子哭", "老人心脏受不了", "已经好几个晚上了", "物业劝了也没用"),
    "household": (
        "办身份证",
        "户口迁移",
        "居住证办理",
        "新生儿落户",
        "补办身份证",
        "户籍证明",
        "临时身份证",
        "积分落户",
    ),
    "theft-fraud": (
        "电动车被偷了",
        "接到诈骗电话被骗了钱",
        "被人冒充客服骗了",
        "家里被盗",
        "有人在小区里打架",
        "手机被偷",
        "遇到网络刷单诈骗",
        "有人寻衅滋事",
    ),
    "doctor-conduct": (
        "态度恶劣",
        "不耐烦还骂人",
        "收红包",
        "看病敷衍了事",
        "误诊",
        "推诿病人不给看",
        "开大处方乱开药",
        "看诊时一直玩手机",
    ),
    "health-service": (
        "疫苗预约不上",
        "出生医学证明怎么补办",
        "医院挂号排队太久",
        "餐厅里有人抽烟没人管控烟",
        "社区医院家庭医生签约",
        "医院停车难、号源少",
        "预约体检",
        "献血证遗失",
    ),
    "wages-labour": (
        "拖欠工资三个月",
        "无故辞退不给补偿",
        "不签劳动合同",
        "加班不给加班费",
        "拖欠农民工工资",
        "不缴社保",
        "克扣工资",
    ),
    "social-security": (
        "退休金怎么领取",
        "失业金申领",
        "社保卡补办",
        "养老保险转移",
        "灵活就业人员缴社保",
        "职业技能培训补贴",
        "工伤认定",
        "人才引进",
    ),
    "medical-bill": (
        "多收了费用",
        "有重复收费",
        "自费药没告知",
        "检查费收了两次",
        "报销金额少了",
        "医保结算有问题",
        "收费明细看不懂",
        "多扣了个人账户的钱",
    ),
    "insurance-service": (
        "异地就医备案",
        "医保卡丢了补办",
        "医保个人账户余额查询",
        "门诊大病登记",
        "长护险申请",
        "医保转移接续",
        "城乡居民医保缴费",
        "医保定点医院变更",
    ),
    "training-refund": (
        "英语培训班突然停课",
        "课外辅导班关门了",
        "艺术培训学校",
        "编程培训课程",
        "学科类培训",
        "早教中心的课",
        "钢琴培训机构",
    ),
    "school": (
        "小学入学报名",
        "转学手续",
        "初中学区划分",
        "学校食堂饭菜质量差",
        "学校乱收费",
        "幼儿园入园",
        "中考加分",
        "课后服务",
        "老师体罚学生",
    ),
    "civil": (
        "结婚登记预约",
        "离婚登记",
        "申请低保",
        "养老院床位",
        "困难家庭救助",
        "骨灰安葬",
        "高龄津贴",
        "社区养老服务",
        "收养登记",
        "社会组织登记",
    ),
    "leak-property": (
        "天花板漏水",
        "墙面渗水",
        "渗水到我家",
        "屋顶漏雨",
        "水管破裂漏水",
        "外墙渗漏",
        "卫生间楼板漏水",
    ),
    "purchase-qualification": (
        "购房资格",
        "社保满五年才能买房",
        "限购政策",
        "家庭名下已有两套房",
        "购房资格审核",
        "单身能买几套房",
        "人才购房政策",
    ),
    "property-management": (
        "物业费乱涨",
        "电梯加装",
        "维修基金使用",
        "群租",
        "业委会选举",
        "物业服务很差",
        "房屋租赁备案",
        "公积金贷款",
    ),
    "property-certificate": (
        "一直拿不到产证",
        "不动产权证",
        "房产证办理",
        "房产证上加名字",
        "房产过户",
        "产权证遗失补办",
        "不动产登记",
    ),
    "land-planning": (
        "有人违法占用耕地",
        "规划许可公示",
        "小区旁边要建高楼挡光",
        "土地征收补偿",
        "宅基地审批",
        "控制性详细规划",
    ),
    "prepaid-gym": (
        "预付卡",
        "会员卡",
        "储值卡",
        "年卡",
        "充值卡",
        "次卡",
    ),
    "consumer": (
        "买到过期食品",
        "吃出了异物",
        "价格欺诈",
        "买到假货",
        "缺斤短两",
        "无证经营",
        "卫生条件很差",
        "虚假宣传",
    ),
    "tax": (
        "个税年度汇算",
        "开发票",
        "退税",
        "不给开发票",
        "电子税务局登录不上",
        "专项附加扣除",
        "税务登记",
        "小规模纳税人减免",
    ),
    "noise-factory": (
        "机器轰鸣",
        "设备噪音很大",
        "生产噪声",
        "风机声音刺耳",
        "冲压机震得窗户响",
    ),
    "pollution": (
        "偷排废气",
        "往河里排污水",
        "烟囱冒黑烟",
        "有刺鼻异味",
        "偷倒危险废物",
        "排放粉尘",
    ),
    "noise-construction": (
        "打桩机咚咚响",
        "挖掘机作业",
        "渣土车进进出出",
        "混凝土搅拌",
        "电锯切割钢筋",
        "敲敲打打",
    ),
    "street-order": (
        "流动摊贩占道经营",
        "违法搭建",
        "乱贴小广告",
        "店铺跨门经营",
        "违章建筑",
        "夜排档占用人行道",
        "私自拆墙开店",
    ),
    "greening": (
        "行道树歪倒了",
        "树枝挡住窗户需要修剪",
        "垃圾箱满了没人清运",
        "绿地被破坏",
        "公共厕所很脏",
        "垃圾分类不规范",
        "道路没人清扫",
        "户外广告牌破损",
    ),
    "transport": (
        "公交车班次太少",
        "出租车拒载",
        "地铁站出口封闭",
        "网约车乱收费",
        "公交站台没有遮雨棚",
        "出租车绕路",
        "公交司机不等人就开走",
        "道路坑洼不平",
    ),
    "sewer-blocked": (
        "下水道堵塞",
        "窨井冒水",
        "雨水口堵了",
        "污水管道堵塞",
        "窨井盖缺失",
        "排水管堵",
    ),
    "water-supply": (
        "突然停水",
        "自来水发黄",
        "水压太低",
        "自来水有异味",
        "河道水发黑发臭",
        "水表坏了",
    ),
    "fire": (
        "消防通道被堵",
        "楼道里堆满杂物",
        "电动车在楼道里充电",
        "灭火器过期",
        "消火栓没有水",
        "安全出口锁死",
        "飞线充电",
    ),
    "culture-tourism": (
        "旅行社强制购物",
        "景区门票乱收费",
        "网吧接纳未成年人",
        "演出票退不了",
        "导游态度恶劣",
        "文物建筑被破坏",
        "酒吧演出没有许可",
        "一日游低价团",
    ),
}


# How many tickets of each topic: every department gets about the same share, split over its topics,
# and the topics of the confusable pairs get more of their department's share.
def _weights():
    confusable = {topic for group in CONFUSABLE_PAIRS.values() for topic in group}
    raw = {topic: 2.0 if topic in confusable else 1.0 for topic in TOPICS}
    totals = {}
    for topic, (department, _phrasings) in TOPICS.items():
        totals[department] = totals.get(department, 0.0) + raw[topic]
    return {topic: raw[topic] / totals[TOPICS[topic][0]] for topic in TOPICS}


WEIGHTS = _weights()


def _split(row_id):
    return (
        "test"
        if int(hashlib.sha1(row_id.encode(), usedforsecurity=False).hexdigest(), 16) % 5 == 0
        else "train"
    )


def _place(rng):
    district = rng.choice(sorted(DISTRICTS))
    name = DISTRICTS[district][0]
    form = rng.random()
    if form < 0.35:
        road = rng.choice(ROADS[district])
        return f"{name}{road}{rng.randint(1, 1500)}号"
    if form < 0.6:
        street = rng.choice(STREETS[district])[1]
        return f"{name}{street}{rng.choice(COMMUNITY_NAMES)}{rng.choice(COMMUNITIES)}"
    if form < 0.75:
        return f"{rng.choice(ROADS[district])}{rng.choice(ROADS[district])}路口"
    if form < 0.85:
        return name
    return ""


def _ticket(rng, topic):
    _department, phrasings = TOPICS[topic]
    body = rng.choice(phrasings).format(t=rng.choice(TIMES), n=rng.choice(NIGHT), x=rng.choice(WORDS[topic]))
    place = _place(rng)
    if place:
        body = rng.choice(("我住在{p}，", "{p}，", "在{p}，", "地址是{p}，")).format(p=place) + body
    text = rng.choice(OPENINGS) + rng.choice(FILLERS) + body
    if not text.endswith(("。", "！", "？")):
        text += rng.choice(("。", "。", "！", "", "？" if "咨询" in text or "请问" in text else "。"))
    return text + rng.choice(CLOSINGS)


def corpus_generate(size=DEFAULT_SIZE, *, seed=DEFAULT_SEED):
    """Return ``size`` labelled rows, the same for the same ``size`` and ``seed``."""
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    weights = [WEIGHTS[t] for t in topics]
    rows = []
    for index in range(size):
        topic = rng.choices(topics, weights)[0]
        row_id = f"c{index:05d}"
        rows.append(
            {
                "id": row_id,
                "text": _ticket(rng, topic),
                "department": TOPICS[topic][0],
                "topic": topic,
                "split": _split(row_id),
            }
        )
    return rows


def corpus_write(path=CORPUS_PATH, rows=None):
    rows = corpus_generate() if rows is None else rows
    Path(path).write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    return len(rows)


def corpus_load(path=CORPUS_PATH, *, split=None):
    """The committed corpus rows, all or those of one ``split`` ("train" or "test")."""
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]


if __name__ == "__main__":
    print(f"{corpus_write()} rows → {CORPUS_PATH}")
