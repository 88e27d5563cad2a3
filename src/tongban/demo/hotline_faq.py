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


# The English of each question and answer (an English page shows it), written by hand.
FAQ_EN = {
    "新生儿出生医学证明在哪里办？": (
        "Where do I get a newborn's birth medical certificate?",
        "Apply at the hospital where the child was born; the parents bring their ID cards. You can also apply "
        "for the newborn bundle on the one-network portal and get the birth certificate, household "
        "registration, medical insurance and social security card in one go.",
    ),
    "孩子出生后怎么报户口？": (
        "How do I register my baby's household registration?",
        "Apply for the newborn bundle on the one-network portal: the household registration is done together "
        "with the birth medical certificate and the medical insurance, with no trip to the police station; or "
        "bring the birth medical certificate to the police station of your household registration.",
    ),
    "身份证快到期了怎么换？": (
        "My ID card is about to expire: how do I renew it?",
        "Within three months before it expires, go to any police station or book a renewal on the one-network "
        "portal; bring the old card, your photo and fingerprints are taken there, and the new card is ready in "
        "about 10 working days, or posted to you.",
    ),
    "居住证怎么办理？": (
        "How do I get a residence permit?",
        "If you have lived in Shanghai for six months in a row with lawful stable employment or a lawful stable "
        "residence, apply on the one-network portal or at the community affairs service centre where you live.",
    ),
    "结婚登记需要带什么材料？": (
        "What do we bring to register our marriage?",
        "Both of you come to the marriage registry with your ID cards and household registers; book on the "
        "one-network portal, and you receive the certificate on the spot.",
    ),
    "失业了怎么领失业金？": (
        "I lost my job: how do I claim unemployment benefit?",
        "Register as unemployed on the one-network portal or at the community affairs service centre of your "
        "household registration or residence; if you qualify, you can claim the unemployment benefit at the "
        "same time.",
    ),
    "灵活就业人员怎么交社保？": (
        "How do flexibly employed people pay social insurance?",
        "Register for flexible-employment insurance on the one-network portal and pay the employees' pension "
        "and medical insurance every month.",
    ),
    "生育津贴怎么申领？": (
        "How do I claim the maternity allowance?",
        "After the birth, claim it on the one-network portal; the hospital shares its records with the medical "
        "insurance, so usually no paper is needed.",
    ),
    "医保关系怎么转到上海？": (
        "How do I move my medical insurance to Shanghai?",
        "Apply to transfer your basic medical insurance on the one-network portal: the contributions of the old "
        "place and of Shanghai are checked online, with no trips between the two.",
    ),
    "个税年度汇算怎么办理？": (
        "How do I file the annual individual income tax reconciliation?",
        "Every year from 1 March to 30 June, file it in the Individual Income Tax app or on the one-network "
        "portal; you get back what you overpaid or pay what is missing.",
    ),
    "小孩上小学怎么报名？": (
        "How do I enrol my child in primary school?",
        "Every spring, fill in the compulsory-education enrolment system on the one-network portal; places "
        "follow household registration and residence, on the dates the district education bureau announces.",
    ),
    "开一家小饭店要办哪些证？": (
        "Which licences does a small restaurant need?",
        "First the business licence, then the food business licence: apply for both at once on the "
        "one-network business start-up platform.",
    ),
    "个体工商户怎么注册？": (
        "How do I register as an individual business?",
        "Apply on the one-network portal with your ID card and proof of your premises; with complete materials "
        "it is done on the spot.",
    ),
    "老人高龄津贴怎么领？": (
        "How do older people get their allowance?",
        "Residents with a Shanghai household registration aged 65 or over receive the comprehensive allowance "
        "for older people; the platform pays it to those who qualify without an application. Ask at the "
        "community affairs service centre if in doubt.",
    ),
    "驾驶证到期了怎么换？": (
        "My driving licence is expiring: how do I renew it?",
        "Within 90 days before it expires, renew it in the Traffic Management 12123 app or at a vehicle "
        "administration office; you need a medical certificate.",
    ),
    "办护照需要多久？": (
        "How long does a passport take?",
        "Book at an exit-entry window or on the one-network portal and bring your ID card; the passport is "
        "ready in about 7 working days and can be posted to you.",
    ),
}


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
            question_en=FAQ_EN[question][0],
            answer_en=FAQ_EN[question][1],
            keywords=keywords,
            department=department,
            service_code=service_code if service_code and item_get(service_code) else "",
        )
        made += 1
    return made
