"""Signs that a message is about work: the words a job intent needs unless Rasa is very sure."""

from __future__ import annotations

import re

from nlu.keywords import normalize

# Whole English words (and the misspellings and pinyin seekers type) that only come up when
# someone is looking for work, money to start one, a fair, a course, the card, or signing up.
_ENGLISH = (
    r"jobs?", r"jobz", r"jops?", r"jbs?", r"wo?rk\w*", r"employ\w*", r"unemploy\w*",
    r"re-?employ\w*", r"hir(e|ing)", r"vacanc(y|ies)", r"openings?", r"positions?", r"posts?",
    r"shifts?", r"careers?", r"wages?", r"laid off", r"lay ?off", r"let go", r"retired",
    r"interview\w*", r"appl(y|ied|ication)", r"aply", r"loans?", r"lone", r"microloan",
    r"borr?ow", r"lend", r"subsid(y|ies)", r"guarantor", r"start ?up", r"business", r"biz",
    r"stall", r"shop", r"farm\w*", r"fairs?", r"jobfair", r"expo", r"recruit\w*", r"train\w*",
    r"courses?", r"class(es)?", r"learn\w*", r"skills?", r"trade", r"concession", r"concesion",
    r"certificate", r"regist\w*", r"regstr", r"regest\w*", r"enroll?", r"sign (me|my \w+) up",
    r"sign up", r"join", r"profile", r"moved?", r"movd", r"district", r"address",
    r"gongzuo", r"zhao ?gong", r"dai ?kuan", r"zhao ?pin ?hui", r"pei ?xun", r"deng ?ji",
    r"zhu ?ce", r"shen ?qing", r"you ?hui ?zheng", r"huo",
    # From the training examples of each job intent that had none of the words above.
    r"earn", r"part[ -]?time", r"full[ -]?time", r"(something|anything) (for|going|in|near)",
    r"(this|that|the|first|second|third|1st|2nd|3rd) one", r"number \d+", r"no ?\d+",
    r"take it", r"put me (forward|down|in)", r"aplly", r"my (name|names) (down|in|on|forward)",
    r"my (job )?(application|aplication|request|status|form)", r"stattus",
    r"hear(d)? (back|from them|anything)", r"call(ed)? (me )?back", r"replied", r"accepted",
    r"hired", r"(pick|picked|choose|chose) me", r"(any|the) (news|reply|result|answer)",
    r"(make|create|open) (an |me an |my )?account", r"(on|to|in) (the|your|ur) (list|system)",
    r"new here", r"first time", r"reg", r"rejister",
    r"(name|age|details|info|information|birth ?year) (is |are )?(wrong|not correct|spel\w+)",
    r"(change|update|fix|correct|updte|chng) (my )?(name|age|number|phone|details|info\w*|"
    r"distric\w*|area|location|interests|birth)", r"new (phone|number|numbr|sim)",
    r"(live|living) (in |somewhere )?(another|else|a different)", r"lon", r"own boss",
    r"money (to|for) (buy|start|open)", r"lessons?", r"school", r"study", r"cours", r"clases",
    r"lern", r"apprentice\w*", r"(discount|preferential|4050) (card|crd)", r"crd",
    r"4050", r"con+[sc]es+ion",
)  # fmt: skip
# Chinese (simplified and traditional) words that carry the same meaning, matched anywhere.
_CHINESE = (
    "工作", "活", "岗位", "崗位", "招", "上班", "打工", "职位", "職位", "就业", "就業", "下岗",
    "下崗", "失业", "失業", "贷", "貸", "借钱", "借錢", "创业", "創業", "扶持", "补贴", "補貼",
    "招聘", "人才市场", "培训", "培訓", "学", "學", "技术", "技術", "手艺", "手藝", "优惠证",
    "優惠證", "证", "證", "登记", "登記", "注册", "註冊", "报名", "報名", "申请", "申請", "应聘",
    "應聘", "面试", "面試", "资料", "資料", "搬", "住", "工种", "工種",
    # From the Chinese training examples that had none of the words above.
    "报", "報", "单位", "單位", "消息", "回复", "录取", "通知", "动静", "回我", "新用户", "加入",
    "信息", "手机号", "电话", "地址", "名字", "出生", "生意", "小店", "干这个", "要我", "登",
    "注冊", "区",
)  # fmt: skip
_NUMBERED = re.compile(r"第\s*[0-9一二三四五六七八九十]+\s*个|[0-9]+\s*号")
_WORDS = re.compile(r"\b(" + "|".join(_ENGLISH) + r")\b")


def about_work(text: str) -> bool:
    """True when the text has a word that only a request about work, loans or training has."""
    words = normalize(text)
    return (
        bool(_WORDS.search(words))
        or any(word in words for word in _CHINESE)
        or bool(_NUMBERED.search(words))
    )
