"""Message text as read in the inbox."""


def test_a_message_shows_its_links_readable_not_percent_encoded():
    from tongban.messaging.templatetags.messaging import readable_links

    text = "办理指引：/services/?q=%E6%96%B0%E5%8A%9E%E4%BC%81%E4%B8%9A，请查看。"
    assert readable_links(text) == "办理指引：/services/?q=新办企业，请查看。"
    assert readable_links("no link here") == "no link here"
