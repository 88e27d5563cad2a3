"""The demo's message templates, used by the proactive services (``proactive``) and case notifications."""

from tongban.core.audit import SYSTEM, Actor

from .services import message_template_ensure

# code: (topic, subject_zh, body_zh, subject_en, body_en)
DEMO_TEMPLATES = {
    "newborn-offer": (
        "newborn",
        "新生儿出生一件事已为您预填",
        "{name}您好：恭喜{baby_name}出生！新生儿出生一件事（出生医学证明、户口登记、医保参保、社保卡）已为您预填，"
        "确认即可提交：{link}",
        "Your newborn bundle is filled in",
        "Dear {name}, congratulations on the birth of {baby_name}! The newborn bundle (birth certificate, "
        "household registration, medical insurance, social-security card) is filled in for you; confirm it to "
        "submit: {link}",
    ),
    "vaccination-reminder": (
        "vaccination",
        "疫苗接种提醒",
        "{name}您好：{baby_name}该接种{vaccine}了，请于{date}前到社区卫生服务中心接种。详情：{link}",
        "Vaccination reminder",
        "Dear {name}, {baby_name} is due for the {vaccine} vaccination; please visit your community health "
        "centre by {date}. Details: {link}",
    ),
    "kindergarten-offer": (
        "education",
        "幼儿园入园报名已为您预填",
        "{name}您好：{baby_name}已满{age}岁，可以报名幼儿园了。入园报名信息已为您预填，确认即可提交：{link}",
        "Kindergarten enrolment is filled in",
        "Dear {name}, {baby_name} is now {age} and can start kindergarten. The enrolment form is filled in for "
        "you; confirm it to submit: {link}",
    ),
    "primary-school-offer": (
        "education",
        "小学入学报名已为您预填",
        "{name}您好：{baby_name}已满{age}岁，可以报名小学了。入学报名信息已为您预填，确认即可提交：{link}",
        "Primary-school enrolment is filled in",
        "Dear {name}, {baby_name} is now {age} and can start primary school. The enrolment form is filled in "
        "for you; confirm it to submit: {link}",
    ),
    "enterprise-tax-registration": (
        "enterprise",
        "新办企业涉税事项已为您预填",
        "{name}您好：{organisation}已完成设立登记。{service}已为您预填，确认即可提交：{link}",
        "Tax registration for your new enterprise is filled in",
        "Dear {name}, {organisation} is registered. {service} is filled in for you; confirm it to submit: "
        "{link}",
    ),
    "enterprise-social-insurance": (
        "enterprise",
        "单位社保开户已为您预填",
        "{name}您好：{organisation}可以开设单位社会保险账户了。表单已按营业执照信息预填，确认即可提交：{link}",
        "Your enterprise's social-insurance account, filled in",
        "Dear {name}, {organisation} can now open its employer social-insurance account. The form is filled in "
        "from the business register; confirm it to submit: {link}",
    ),
    "hiring-subsidy": (
        "enterprise",
        "吸纳就业补贴政策提醒",
        "{name}您好：{organisation}招用符合条件的人员，可申请{service}。了解条件并申请：{link}",
        "Hiring subsidy you may claim",
        "Dear {name}, {organisation} may claim the {service} for eligible new hires. Conditions and "
        "application: {link}",
    ),
    "elderly-allowance-granted": (
        "elderly",
        "老年综合津贴已为您办理（免申即享）",
        "{name}您好：您已年满{age}周岁，{service}已为您直接办理，每月{amount}元，无需申请。"
        "如不需要，可在此放弃：{link}",
        "Your elderly allowance is granted",
        "Dear {name}, you are now {age}: the {service} is granted to you without an application, "
        "{amount} yuan a month. If you do not want it, you can decline here: {link}",
    ),
    "licence-expiry": (
        "licence-expiry",
        "证照即将到期提醒",
        "{name}您好：您的{licence}（编号{licence_number}）将于{expires}到期，请及时办理换证：{link}",
        "Your licence expires soon",
        "Dear {name}, your {licence} (number {licence_number}) expires on {expires}. Please renew it in time: "
        "{link}",
    ),
    "case-status": (
        "case",
        "办件进度通知：{service}",
        "{name}您好：您的办件{case_number}（{service}）状态已更新为：{status}。查看详情：{link}",
        "Case update: {service}",
        "Dear {name}, your case {case_number} ({service}) is now: {status}. Details: {link}",
    ),
}


def message_templates_demo_ensure(*, actor: Actor = SYSTEM) -> int:
    """Create or update the demo's message templates; return how many there are."""
    for code, (topic, subject_zh, body_zh, subject_en, body_en) in DEMO_TEMPLATES.items():
        message_template_ensure(
            actor=actor,
            code=code,
            topic=topic,
            subject_zh=subject_zh,
            body_zh=body_zh,
            subject_en=subject_en,
            body_en=body_en,
        )
    from .case_messages import case_templates_ensure

    return len(DEMO_TEMPLATES) + case_templates_ensure(actor=actor)
