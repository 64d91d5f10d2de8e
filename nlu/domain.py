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
    # Northeastern words for the labour market and a laid-off worker's buyout (劳务市场, 买断工龄).
    "劳务", "勞務", "买断", "買斷",
)  # fmt: skip
_NUMBERED = re.compile(r"第\s*[0-9一二三四五六七八九十]+\s*个|[0-9]+\s*号")
_WORDS = re.compile(r"\b(" + "|".join(_ENGLISH) + r")\b")


# Someone asking for work for a relative or neighbour: "work for my mother", "我妈想找个活".
_FOR_SOMEONE = re.compile(
    r"\b(my|for my|on behalf of my|our)( \w+)? (mother|mom|mum|mam|father|dad|husband|wife|son|"
    r"daughter|brother|sister|uncle|aunt|auntie|neighbou?r|grandma|grandmother|grandpa|"
    r"grandfather|parents?|mother in law|father in law|friend|cousin|hubby)\b"
    r"|(我|俺|咱)(妈|爸|老伴|爱人|老公|媳妇|老婆|丈夫|儿子|闺女|女儿|姐|哥|弟|妹|舅|姨|叔|婶|"
    r"邻居|父亲|母亲|家老爷子|家老太太|对象)"
)
_WORD = re.compile(r"[a-z0-9']+|[\u3400-\u9fff]")


def long_enough(text: str, words: int) -> bool:
    """True when the text has at least this many words (two Chinese characters count as one)."""
    found = _WORD.findall(normalize(text))
    chinese = sum(1 for token in found if len(token) == 1 and token >= "\u3400")
    return len(found) - chinese + chinese // 2 >= words


# Words that name the request itself, none of them also a place or a kind of work ("shop",
# "train" and "traffic" are both, so they cannot be the job word and the kind of work at once).
_REQUEST = re.compile(
    r"\b(jobs?|work|working|employ\w*|unemploy\w*|re-?employ\w*|hiring|vacanc(y|ies)|openings?|"
    r"laid off|lay ?off|let go|careers?|wages?|loans?|microloan|job ?fairs?|expo|recruit\w*|"
    r"training|courses?|appl(y|ied|ication)|regist\w*|concession|gongzuo|zhao ?gong)\b"
    r"|工作|找活|干活|有活|的活|个活|上班|打工|招工|招人|招聘|岗位|就业|下岗|失业|贷款|培训|"
    r"优惠证|招工大会|人才市场|申请|登记|报名"
)


# The Chinese request words that are work on their own, in a text of any length: "找活 男 55",
# "有没有超市卖货的活". Not 工作人员 (staff), 工作时间 (opening hours), 工作日 (a weekday),
# 工作服 (work clothes), 工作室 (a studio), 活动 (an event), nor words an everyday request also
# has (申请, 登记, 报名, 上班: "孩子报名上学", "结婚登记").
_CHINESE_REQUEST = re.compile(
    r"工作(?!人员|时间|日|服|室)|找活|干活|(有|的|个)活(?!动)|打工|招工|招人|招聘|岗位|贷款|培训|优惠证|人才市场"
)


def chinese_request(text: str) -> bool:
    """True when a Chinese text names the request itself: 找活, 招工, 贷款, 培训..."""
    return bool(_CHINESE_REQUEST.search(normalize(text)))


# Asking for a person: "找个真人", "给我找个工作人员", "a real person please".
_PERSON = re.compile(r"\b(real person|human|caseworker)\b|真人|人工|客服|工作人员|活人")


def asks_for_person(text: str) -> bool:
    """True when the text asks for a person and names no other request (not "真人 帮我找工作")."""
    words = normalize(text)
    return bool(_PERSON.search(words)) and not _REQUEST.search(_PERSON.sub(" ", words))


def strong_work_evidence(text: str, named: bool) -> bool:
    """A request word with a place or kind of work named (named), or asked for someone else."""
    words = normalize(text)
    return bool(_REQUEST.search(words)) and (named or bool(_FOR_SOMEONE.search(words)))


def about_work(text: str) -> bool:
    """True when the text has a word that only a request about work, loans or training has."""
    words = normalize(text)
    return (
        bool(_WORDS.search(words))
        or any(word in words for word in _CHINESE)
        or bool(_NUMBERED.search(words))
    )
