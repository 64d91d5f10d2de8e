"""With Rasa down: the common requests recognised by their words, so work-seekers get work."""

from __future__ import annotations

import re

from nlu.keywords import normalize

# First match wins: the specific requests (loan, fair, training...) come before the broad
# "job"/"work" words, so "loan for a laid-off worker" is a loan, not a job search.
# English words match whole (with common misspellings); Chinese ones anywhere in the text.
RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "stop",
        (
            r"stop (sending|texting|the texts|sms|msg)",
            r"unsubscribe",
            r"no more (sms|messages?|texts?)",
            r"(dont|don't|do not) (send|message|txt|text)",
            r"leave me alone",
            r"(dont|don't) want these texts",
        ),
        ("退订", "别再发", "不要再发"),
    ),
    (
        "start",
        (
            r"(send|want) (me )?(the )?(job )?(messages|texts|msgs) again",
            r"subscribe me",
            r"resume (sending|messages)",
            r"start (messages|msgs)",
            r"(texts|messages) back",
        ),
        ("重新订阅",),
    ),
    ("change_language", (r"chinese", r"english", r"mandarin", r"language"), ("中文", "英文")),
    (
        "human_agent",
        (
            r"human",
            r"real person",
            r"caseworker",
            r"(talk|speak) (to|with|2)",
            r"call me",
            r"staff",
            r"officer",
            r"connect me",
        ),
        ("人工", "客服", "真人", "工作人员", "跟人说", "找个人", "找人说", "打电话"),
    ),
    (
        "loan_eligibility",
        (
            r"loans?",
            r"lone",
            r"lon",
            r"microloan",
            r"borr?ow",
            r"lend",
            r"subsidy",
            r"funds?",
            r"funding",
            r"capital",
            r"guarantor",
            r"start ?up money",
            r"money (2|4|to|for) (start|open|buy|business|biz)",
            r"(need|no) money",
            r"start(up)? ?(a )?(small )?(business|biz)",
            r"own boss",
        ),
        ("贷款", "借钱", "借点钱", "创业", "扶持资金", "没钱", "做生意"),
    ),
    (
        "job_fair",
        (
            r"fairs?",
            r"jobfair",
            r"expo",
            r"(recruitment|hiring|job|job seeking|employer|re-?employment) "
            r"(event|meeting|day|conference)",
            r"companies come",
        ),
        ("招聘会", "双选会", "人才市场", "招聘活动"),
    ),
    (
        "training",
        (r"training", r"trainin", r"courses?", r"cours", r"class(es)?", r"learn", r"skills?"),
        ("培训", "学习", "技能", "学技术", "学手艺"),
    ),
    (
        "concession_card",
        (r"(concession|concesion|re-? ?employment|unemployment|discount) card",),
        ("优惠证", "再就业证", "失业证"),
    ),
    (
        "application_status",
        (
            r"(my|the) (job )?(application|aplication)",
            r"applied",
            r"hear (back|about)",
            r"status",
            r"(any )?(news|result|reply)",
            r"call(ed)? back",
        ),
        ("进度", "结果", "录用"),
    ),
    (
        "register",
        (
            r"regist\w*",
            r"regstr",
            r"regest\w*",
            r"regster",
            r"reg me",
            r"enroll?",
            r"sign (me|my \w+) up",
            r"sign up",
            r"put (me|my name) (on|down|in)",
            r"put down my name",
            r"(my )?name (on|in|for) (the|your|ur|job)",
            r"add (me|my name)",
            r"(on|join|to) (the|your|ur) (job )?list",
            r"(make|create|open) (an |my )?(account|profile)",
            r"(how|want) (do i |to |can i |2 )?join",
            r"join (your|ur)",
            r"i am new",
            r"new here",
            r"first time",
            r"in the system",
        ),
        ("登记", "注册", "报名"),
    ),
    (
        "apply_job",
        (r"apply", r"aply", r"application", r"i take it", r"interview"),
        ("申请", "应聘", "要这个", "报名这个"),
    ),
    (
        "update_profile",
        (r"change my", r"chng", r"i (have )?(moved|movd)", r"update", r"new phone", r"wrong name"),
        ("修改", "更改", "搬家"),
    ),
    (
        "find_jobs",
        (
            r"jobs?",
            r"jobz",
            r"jops?",
            r"jbs?",
            r"w[o]?rk",
            r"employment",
            r"vacanc(y|ies)",
            r"hiring",
            r"openings",
            r"positions?",
            r"posts?",
            r"let go",
            r"closed",
            r"anything (in|near|for|going)",
            r"something (for|in|near|easy|where)",
            r"what(s| is)? (you got|available)",
            r"cleaner",
            r"cleaning",
            r"cleening",
            r"guard",
            r"security",
            r"driver",
            r"delivery",
            r"unemployed",
            r"laid off",
            r"earn money",
        ),
        (
            "工作",
            "找活",
            "有活",
            "的活",
            "个活",
            "岗位",
            "招工",
            "招人",
            "招保",
            "上班",
            "打工",
            "干活",
            "职位",
            "保安",
            "保洁",
            "司机",
            "厨师",
        ),
    ),
    (
        "help",
        (r"help", r"how does", r"(dont|don't|dnt|do not) (know|understand)", r"confused"),
        ("帮助", "帮帮我", "怎么用", "怎么回", "回什么", "不懂"),
    ),
    ("thank_you", (r"thanks?", r"thx", r"thankyou", r"thnk", r"tks", r"xie xie"), ("谢谢",)),
    ("goodbye", (r"bye", r"goodnite", r"see (you|u)", r"c u"), ("再见", "拜拜")),
    ("greet", (r"hello+", r"hi", r"hey", r"morning", r"ni hao"), ("你好", "您好")),
)
# A bank card is not the job card.
NOT_THE_CARD = re.compile(r"\bbank\b")

_COMPILED = tuple(
    (intent, re.compile(r"\b(" + "|".join(english) + r")\b"), chinese)
    for intent, english, chinese in RULES
)


def guess_intent(text: str) -> str | None:
    """The request these words most likely are, or None when no rule knows them."""
    words = normalize(text)
    for intent, english, chinese in _COMPILED:
        if intent == "concession_card" and NOT_THE_CARD.search(words):
            continue
        if english.search(words) or any(word in words for word in chinese):
            return intent
    return None
