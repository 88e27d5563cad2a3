"""The messages an applicant receives as their case moves (办件进度通知), in Chinese and English.

They are ordinary message templates (``MessageTemplate`` rows, editable in the back office): the event handlers
of ``messaging.events`` create a missing one from the texts below the first time they need it, and
``tongban messages templates`` (or the demo) writes them all. An administrator who deactivates one stops that
message; one who edits it changes its wording. ``docs/messaging.md`` lists when each is sent.
"""

from tongban.core.audit import SYSTEM, Actor
from tongban.core.db import fast

from .models import MessageTemplate
from .services import message_template_ensure

TOPIC = "case"

# code: (subject_zh, body_zh, subject_en, body_en); every one is on the "case" topic, whose inbox is always on.
CASE_TEMPLATES = {
    "case-received": (
        "办件已提交，等待受理：{service}",
        "{name}您好：您的办件{case_number}（{service}）已提交，正在等待受理。受理后办理时限开始计算，"
        "我们会再通知您。查看进度：{link}",
        "Application received: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) was received and is waiting to be accepted. "
        "The time limit starts when it is accepted; we will tell you. Track it: {link}",
    ),
    "case-accepted": (
        "办件已受理：{service}",
        "{name}您好：您的办件{case_number}（{service}）已受理，承诺于{date}前办结。查看进度：{link}",
        "Application accepted: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) is accepted; we promise a result by {date}. "
        "Track it: {link}",
    ),
    "case-deemed-accepted": (
        "办件已视为受理：{service}",
        "{name}您好：非常抱歉，您的办件{case_number}（{service}）未能在受理期限（{deadline}）内完成受理审查。"
        "依照《中华人民共和国行政许可法》第三十二条，自收到申请材料之日（{received}）起即为受理，"
        "办理时限自该日起计算，承诺于{date}前办结。查看进度：{link}",
        "Application deemed accepted: {service_en}",
        "Dear {name}, we are sorry: your application {case_number} ({service_en}) was not reviewed for "
        "acceptance within the acceptance period (by {deadline}). Under Article 32 of the Administrative "
        "Licensing Law it counts as accepted from the day we received it ({received}), and the time limit runs "
        "from that day: we promise a result by {date}. Track it: {link}",
    ),
    "case-supplement-deadline": (
        "请补正材料：{service}",
        "{name}您好：您的办件{case_number}（{service}）需要您一次性补正以下内容：\n{items}\n"
        "请于{deadline}前补正；补正期间办理时限暂停，补正后继续计算。请在此补正：{link}",
        "Please supplement your application: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) needs the following, all at once:\n{items}\n"
        "Please answer by {deadline}; the time limit is paused until you do. Answer here: {link}",
    ),
    "case-resubmitted": (
        "补正材料已收到：{service}",
        "{name}您好：您为办件{case_number}（{service}）补正的材料已收到，办理时限恢复计算，"
        "预计于{date}前办结。查看进度：{link}",
        "Supplement received: {service_en}",
        "Dear {name}, we received what you sent for your application {case_number} ({service_en}). The time limit "
        "runs again; we expect a result by {date}. Track it: {link}",
    ),
    "case-refused-acceptance": (
        "办件不予受理：{service}",
        "{name}您好：很抱歉，您的办件{case_number}（{service}）不予受理。\n理由：{reason}\n依据：{basis}\n"
        "如有疑问，可拨打12345咨询；如不服，可依法申请行政复议或者提起行政诉讼。详情：{link}",
        "Application not accepted: {service_en}",
        "Dear {name}, we are sorry: your application {case_number} ({service_en}) is not accepted.\n"
        "Reason: {reason}\nLegal basis: {basis}\nCall 12345 with any question; you may apply for an "
        "administrative review or bring an administrative lawsuit. Details: {link}",
    ),
    "case-refused": (
        "办件未予批准：{service}",
        "{name}您好：很抱歉，您的办件{case_number}（{service}）经审查未予批准。\n理由：{reason}\n依据：{basis}\n"
        "如有疑问，可拨打12345咨询；如不服，可依法申请行政复议或者提起行政诉讼。详情：{link}",
        "Application refused: {service_en}",
        "Dear {name}, we are sorry: your application {case_number} ({service_en}) was examined and refused.\n"
        "Reason: {reason}\nLegal basis: {basis}\nCall 12345 with any question; you may apply for an "
        "administrative review or bring an administrative lawsuit. Details: {link}",
    ),
    "case-licence-issued": (
        "电子证照已签发：{licence}",
        "{name}您好：您的{licence}（编号{licence_number}）已签发，已存入“我的证照”，可查看、下载和核验：{link}",
        "E-licence issued: {licence_en}",
        "Dear {name}, your {licence_en} (number {licence_number}) is issued and in your licence wallet, ready to "
        "view, download and verify: {link}",
    ),
    "case-licence-issued-for": (
        "办理结果已签发：{licence}",
        "{name}您好：您的办件{case_number}（{service}）的办理结果{licence}（编号{licence_number}）已签发给{holder}，"
        "可在办件详情中查看：{link}",
        "Result issued: {licence_en}",
        "Dear {name}, a result of your application {case_number} ({service_en}), the {licence_en} (number "
        "{licence_number}), is issued to {holder}; see it on the case page: {link}",
    ),
    "case-completed": (
        "办件已办结：{service}",
        "{name}您好：您的办件{case_number}（{service}）已办结。办理结果：\n{results}\n查看和下载结果：{link}",
        "Application completed: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) is completed. The results:\n{results}\n"
        "View and download them: {link}",
    ),
    "case-rating": (
        "请评价本次服务：{service}",
        "{name}您好：您的办件{case_number}（{service}）已办结，欢迎对本次服务作出评价（好差评），"
        "您的评价将帮助我们改进：{link}",
        "Please rate our service: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) is completed. Please rate the service; "
        "your rating helps us improve: {link}",
    ),
    "case-overdue": (
        "致歉：办件超出承诺时限：{service}",
        "{name}您好：非常抱歉，您的办件{case_number}（{service}）未能在承诺的{date}前办结。我们已督促承办部门"
        "加快办理，预计将于{new_date}前办结。查看进度：{link}",
        "Our apologies: your application is late: {service_en}",
        "Dear {name}, we are sorry: your application {case_number} ({service_en}) was not completed by the "
        "promised date, {date}. The departments have been told to hurry; we now expect a result by {new_date}. "
        "Track it: {link}",
    ),
    "case-acceptance-late": (
        "致歉：办件超出受理期限：{service}",
        "{name}您好：非常抱歉，您的办件{case_number}（{service}）未能在{date}前完成受理审查。我们已督促受理部门"
        "尽快处理，受理或需补正的内容将及时通知您。查看进度：{link}",
        "Our apologies: your application is waiting too long: {service_en}",
        "Dear {name}, we are sorry: your application {case_number} ({service_en}) was not reviewed for "
        "acceptance by {date}. The accepting office has been told to hurry; we will tell you as soon as it is "
        "accepted or if anything is missing. Track it: {link}",
    ),
    "case-withdrawn": (
        "办件已撤回：{service}",
        "{name}您好：您的办件{case_number}（{service}）已撤回，办理已终止。撤回原因：{reason}\n"
        "如仍需办理，可重新申请。详情：{link}",
        "Application withdrawn: {service_en}",
        "Dear {name}, your application {case_number} ({service_en}) is withdrawn and its handling has stopped. "
        "Reason: {reason}\nYou can apply again at any time. Details: {link}",
    ),
}


def case_template_ready(code: str) -> bool:
    """Whether the template ``code`` may be sent: created from ``CASE_TEMPLATES`` when it does not exist yet;
    False when an administrator deactivated it (that message is then not sent)."""
    row = fast.fetchone(
        f"SELECT active FROM {MessageTemplate._meta.db_table} WHERE code = %s",  # noqa: S608
        [code],
    )  # hand-written (``core.db.fast``): asked before every message about a case
    active = None if row is None else bool(row[0])
    if active is None:
        case_templates_ensure(codes=[code])
        return True
    return active


def case_templates_ensure(*, actor: Actor = SYSTEM, codes=None) -> int:
    """Create or update the case templates (all, or those in ``codes``); return how many."""
    chosen = [code for code in CASE_TEMPLATES if codes is None or code in codes]
    for code in chosen:
        subject_zh, body_zh, subject_en, body_en = CASE_TEMPLATES[code]
        message_template_ensure(
            actor=actor,
            code=code,
            topic=TOPIC,
            subject_zh=subject_zh,
            body_zh=body_zh,
            subject_en=subject_en,
            body_en=body_en,
        )
    return len(chosen)
