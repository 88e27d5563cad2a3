"""The demo city's 12345 knowledge base: questions callers ask every day, with the answers operators give at
first contact (pointing to the service item where there is one). Kept as data; ``tongban hotline faq-export`` gives
the same list as an Excel file."""

from tongban.core.audit import SYSTEM, Actor

FAQ = (
    (
        "新生儿出生医学证明在哪里办？",
        "在孩子出生的医院申领《出生医学证明》，父母带身份证即可；也可以在“一网通办”申请出生一件事，一次办好出生证、户口、医保和社保卡。",
        "出生证 出生证明 新生儿 宝宝",
        "health",
        "",
    ),
    (
        "孩子出生后怎么报户口？",
        "可在“一网通办”申请出生一件事，户口登记与出生医学证明、医保一起办理，不用再跑派出所；也可带出生医学证明到户籍地派出所办理。",
        "报户口 新生儿 落户 出生登记",
        "public-security",
        "",
    ),
    (
        "身份证快到期了怎么换？",
        "到期前三个月内可到任一派出所或通过“一网通办”预约换领，带旧证，现场采集照片和指纹，10个工作日左右可领新证，可选择邮寄。",
        "身份证 换证 到期 过期",
        "public-security",
        "resident-id-card-renewal",
    ),
    (
        "居住证怎么办理？",
        "在上海连续居住满半年并有合法稳定就业或住所的，可通过“一网通办”或居住地社区事务受理服务中心申请居住证。",
        "居住证 外地 积分",
        "public-security",
        "residence-permit",
    ),
    (
        "结婚登记需要带什么材料？",
        "双方本人带身份证和户口簿到婚姻登记处办理，可在“一网通办”预约，当场领证。",
        "结婚 婚姻登记 结婚证 领证",
        "civil-affairs",
        "marriage-registration",
    ),
    (
        "失业了怎么领失业金？",
        "在“一网通办”或户籍地、居住地社区事务受理服务中心办理失业登记，符合条件的可同时申领失业保险金。",
        "失业 失业金 失业登记 失业保险",
        "hrss",
        "unemployment-registration",
    ),
    (
        "灵活就业人员怎么交社保？",
        "灵活就业人员可在“一网通办”办理灵活就业参保登记，按月缴纳城镇职工养老和医疗保险。",
        "灵活就业 社保 自由职业 缴费",
        "hrss",
        "flexible-employment-insurance",
    ),
    (
        "生育津贴怎么申领？",
        "生育后可在“一网通办”申领生育生活津贴，医院信息与医保共享，一般不需要再交纸质材料。",
        "生育津贴 生育保险 产假",
        "medical-insurance",
        "maternity-allowance",
    ),
    (
        "医保关系怎么转到上海？",
        "在“一网通办”申请基本医疗保险关系转移接续，转出地与上海的缴费信息线上核对，不用两地跑。",
        "医保转移 医保关系 转入 转出",
        "medical-insurance",
        "medical-insurance-transfer",
    ),
    (
        "个税年度汇算怎么办理？",
        "每年3月1日至6月30日，在个人所得税APP或“一网通办”办理年度汇算，多退少补。",
        "个税 汇算 退税 个人所得税",
        "tax",
        "iit-annual-reconciliation",
    ),
    (
        "小孩上小学怎么报名？",
        "每年春季在“一网通办”义务教育入学报名系统填报信息，按户籍和居住情况对口入学，具体时间以区教育局通知为准。",
        "小学 入学 报名 幼升小 对口",
        "education",
        "primary-school-enrolment",
    ),
    (
        "开一家小饭店要办哪些证？",
        "先办营业执照，再办食品经营许可证，可在“一网通办”开办企业一窗通一次申请。",
        "饭店 开店 食品经营许可 营业执照",
        "market-regulation",
        "food-business-licence",
    ),
    (
        "个体工商户怎么注册？",
        "在“一网通办”申请个体工商户登记，带身份证和经营场所证明，材料齐全当场办结。",
        "个体户 注册 营业执照 开店",
        "market-regulation",
        "individual-business-registration",
    ),
    (
        "老人高龄津贴怎么领？",
        "65周岁以上本市户籍老人可享受老年综合津贴，符合条件的由系统主动发放，不用申请；有疑问可到社区事务受理服务中心咨询。",
        "老年 津贴 高龄 老人 补贴",
        "civil-affairs",
        "senior-allowance",
    ),
    (
        "驾驶证到期了怎么换？",
        "有效期满前90日内可在交管12123或车管所办理换证，需要体检证明。",
        "驾驶证 驾照 换证 到期",
        "public-security",
        "driving-licence-renewal",
    ),
    (
        "办护照需要多久？",
        "在出入境窗口或“一网通办”预约，带身份证，7个工作日左右出证，可邮寄。",
        "护照 出国 出入境",
        "public-security",
        "passport-issuance",
    ),
)


def demo_faq_ensure(*, actor: Actor = SYSTEM) -> int:
    """The demo FAQ entries (once: a question already in the knowledge base is left as it is)."""
    from tongban.catalog.selectors import item_get
    from tongban.hotline.models import FaqEntry
    from tongban.hotline.services import faq_save

    made = 0
    for question, answer, keywords, department, service_code in FAQ:
        if FaqEntry.objects.filter(question=question).exists():
            continue
        faq_save(
            actor=actor,
            question=question,
            answer=answer,
            keywords=keywords,
            department=department,
            service_code=service_code if service_code and item_get(service_code) else "",
        )
        made += 1
    return made
