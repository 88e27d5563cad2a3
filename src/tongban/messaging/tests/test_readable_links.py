"""Message text as read in the inbox."""


def test_a_message_shows_its_links_readable_not_percent_encoded():
    from tongban.messaging.templatetags.messaging import readable_links

    text = "办理指引：/services/?q=%E6%96%B0%E5%8A%9E%E4%BC%81%E4%B8%9A，请查看。"
    assert readable_links(text) == "办理指引：/services/?q=新办企业，请查看。"
    assert readable_links("no link here") == "no link here"


def test_the_inbox_excerpt_drops_the_link_and_its_call_to_open_it():
    from tongban.messaging.templatetags.messaging import excerpt

    link = "/cases/TB202612075849097362/"
    accepted = f"李明您好：您的办件TB202612075849097362（出生一件事）已受理，承诺于2026-12-14前办结。查看进度：{link}"
    assert (
        excerpt(accepted, link)
        == "李明您好：您的办件TB202612075849097362（出生一件事）已受理，承诺于2026-12-14前办结。"
    )
    supplement = f"李明您好：需要您一次性补正以下内容：\n· 新生儿姓名：与出生医学证明不一致\n补正期间办理时限暂停。请在此补正：{link}"
    assert excerpt(supplement, link).endswith("补正期间办理时限暂停。")
    english = (
        f"Dear Li Ming, your application is accepted; we promise a result by 2026-12-14. Track it: {link}"
    )
    assert (
        excerpt(english, link)
        == "Dear Li Ming, your application is accepted; we promise a result by 2026-12-14."
    )
    # No short call before the link: only the link and the colon go, the content stays.
    licence = f"李明您好：您的出生医学证明（编号BMC-2026-HSTY5N2R）已签发，已存入“我的证照”，可查看、下载和核验：{link}"
    assert (
        excerpt(licence, link)
        == "李明您好：您的出生医学证明（编号BMC-2026-HSTY5N2R）已签发，已存入“我的证照”，可查看、下载和核验"
    )
    # A link inside the text is cut out; a message without a link is left whole.
    assert excerpt(f"请打开{link}查看。", link) == "请打开查看。"
    assert excerpt("没有链接的消息。", "") == "没有链接的消息。"
    assert excerpt(f"请查看：{link}", link) == "请查看"  # no sentence before the call: the text stays
