"""Traditional characters are read as simplified; everything else is left as it was."""

from __future__ import annotations

from nlu.hanzi import simplified


def test_traditional_messages_read_as_simplified() -> None:
    assert simplified("幫我登記一下") == "帮我登记一下"
    assert simplified("我想貸款開個小店") == "我想贷款开个小店"
    assert simplified("申請3號 道裡有活嗎") == "申请3号 道里有活吗"
    assert simplified("有甚麼工作") == "有什么工作"
    assert simplified("優惠證在哪辦") == "优惠证在哪办"


def test_simplified_english_and_pinyin_are_unchanged() -> None:
    for text in ("我想找工作 南岗", "jobs in daoli 3", "you mei you huo", "", "👍 ok"):
        assert simplified(text) == text
