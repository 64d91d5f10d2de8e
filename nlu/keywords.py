"""The deterministic fast path: numbers, menu words, STOP/START/HELP and yes/no, no Rasa."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from nlu.parse import Entity, Parse

# Twilio's own opt-out and opt-in keywords, plus the words seekers use.
STOP_WORDS = {
    "stop",
    "unsubscribe",
    "end",
    "quit",
    "stopall",
    "revoke",
    "optout",
    "opt out",
    "cancel",
    "stop all",
    "退订",
    "停止",
    "tuiding",
    "tui ding",
    "tingzhi",
    "ting zhi",
}
START_WORDS = {"start", "unstop", "subscribe", "restart", "开始", "kaishi", "kai shi"}
HELP_WORDS = {"help", "info", "?", "帮助", "bangzhu", "bang zhu"}
MENU_WORDS = {"menu", "main menu", "home", "m", "菜单", "caidan", "cai dan"}
BACK_WORDS = {"0", "back", "go back", "返回", "fanhui", "fan hui"}
PERSON_WORDS = {
    "9",
    "person",
    "human",
    "agent",
    "caseworker",
    "operator",
    "人工",
    "rengong",
    "ren gong",
}
AFFIRM_WORDS = {
    "yes",
    "y",
    "ok",
    "okay",
    "yeah",
    "yep",
    "yup",
    "sure",
    "right",
    "correct",
    "yes please",
    "ya",
    "yea",
    "true",
    "是",
    "好",
    "对",
    "是的",
    "好的",
    "shi de",
    "shide",
    "hao de",
    "haode",
}
DENY_WORDS = {"no", "n", "nope", "nah", "not", "wrong", "no thanks", "否", "不", "不是", "不要"}
DENY_WORDS |= {"bu shi", "bushi", "bu yao", "buyao", "bu yong", "buyong"}

# Single words that are commands on their own; near-miss spellings are accepted.
COMMANDS = {
    "more": "more",
    "next": "more",
    "status": "application_status",
    "join": "join",
    "register": "register",
    "apply": "apply_job",
    "jobs": "find_jobs",
    "job": "find_jobs",
    "loan": "loan_eligibility",
    "loans": "loan_eligibility",
    "fair": "job_fair",
    "fairs": "job_fair",
    "card": "concession_card",
    "training": "training",
    "hi": "greet",
    "hello": "greet",
    "thanks": "thank_you",
    "thank you": "thank_you",
    "bye": "goodbye",
    "886": "goodbye",
    "ttyl": "goodbye",
    "english": "change_language",
    "中文": "change_language",
    "chinese": "change_language",
    "英文": "change_language",
    "英语": "change_language",
    "汉语": "change_language",
    "普通话": "change_language",
    "language": "change_language",
    "语言": "change_language",
    "更多": "more",
    "报名": "join",
    "参加": "join",
    "进度": "application_status",
    "状态": "application_status",
    "登记": "register",
    "注册": "register",
    "找工作": "find_jobs",
    "贷款": "loan_eligibility",
    "招聘会": "job_fair",
    "培训": "training",
    "优惠证": "concession_card",
    "你好": "greet",
    "您好": "greet",
    "谢谢": "thank_you",
    "再见": "goodbye",
}
# Words checked for near misses; short words are not, so "n" or "ok" never becomes a command.
_FUZZY = {
    **{word: "stop" for word in ("stop", "unsubscribe", "cancel")},
    **{word: "start" for word in ("start", "unstop")},
    **{word: "help" for word in ("help",)},
    **{word: "menu" for word in ("menu",)},
    **{word: "back" for word in ("back",)},
    **{word: "affirm" for word in ("yes", "okay")},
    **{word: intent for word, intent in COMMANDS.items() if len(word) >= 4},
}

# The Chinese command words typed in pinyin, with and without spaces, by seekers who have no
# Chinese keyboard. Added after _FUZZY, so they are never near-miss targets: "baoqing" (a county)
# is one letter from "baoming", "hindu" from "jindu".
COMMANDS |= {
    spelling: intent
    for syllables, intent in (
        ("xie xie", "thank_you"),
        ("zai jian", "goodbye"),
        ("ni hao", "greet"),
        ("nin hao", "greet"),
        ("zhao gong zuo", "find_jobs"),
        ("dai kuan", "loan_eligibility"),
        ("zhao pin hui", "job_fair"),
        ("pei xun", "training"),
        ("you hui zheng", "concession_card"),
        ("deng ji", "register"),
        ("zhu ce", "register"),
        ("bao ming", "join"),
        ("jin du", "application_status"),
        ("zhong wen", "change_language"),
        ("ying wen", "change_language"),
    )
    for spelling in (syllables, syllables.replace(" ", ""))
}
# Free-text answers this short are taken as they are, without asking Rasa.
MAX_PLAIN_WORDS = 2
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalize(text: str) -> str:
    """Lower-case, NFKC (full-width digits to ASCII), no control characters, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.lower().split()).strip(" .,!;:~")


def fast_path(text: str, expecting: str | None = None) -> Parse | None:
    """Answer digits and keywords at once; None means the text needs Rasa (or the flow)."""
    word = normalize(text)
    if not word:
        return Parse(text, "empty")
    if word in STOP_WORDS:
        return Parse(text, "stop")
    if word in START_WORDS:
        return Parse(text, "start")
    if word in HELP_WORDS:
        return Parse(text, "help")
    if word in MENU_WORDS:
        return Parse(text, "menu")
    if word in BACK_WORDS:
        return Parse(text, "back")
    if word in PERSON_WORDS:
        return Parse(text, "human_agent")
    if word.isdigit() and len(word) <= 2:
        return Parse(text, "number", entities=(Entity("number", str(int(word))),))
    if expecting == "year" and word.isdigit() and len(word) == 4:
        # A birth year answers the year question; the flow checks it is a sensible one.
        return Parse(text, "text")
    if word in COMMANDS:
        return Parse(text, COMMANDS[word])
    if expecting == "text":
        # A short answer (a name) needs no Rasa; a longer one may be a change of topic.
        return Parse(text, "text") if len(word.split()) <= MAX_PLAIN_WORDS else None
    if word in AFFIRM_WORDS:
        return Parse(text, "affirm")
    if word in DENY_WORDS:
        return Parse(text, "deny")
    if " " not in word and len(word) >= 4:
        near = near_miss(word, list(_FUZZY))
        if near is not None:
            return Parse(text, _FUZZY[near], confidence=0.9)
    return None


def near_miss(word: str, candidates: list[str], cutoff: int = 80) -> str | None:
    """The candidate this word is a misspelling of: close enough, or two letters swapped."""
    found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=cutoff)
    if found is not None:
        return str(found[0])
    for candidate in candidates:
        if sorted(candidate) == sorted(word) and OSA.distance(candidate, word) == 1:
            return candidate
    return None


def match_option(text: str, options: dict[str, list[str]]) -> str | None:
    """Match an answer to one option by its number or one of its words, near misses too."""
    word = normalize(text)
    if not word:
        return None
    lookup = {normalize(alias): key for key, aliases in options.items() for alias in aliases}
    if word in lookup:
        return lookup[word]
    if len(word) >= 3:
        near = near_miss(word, list(lookup), cutoff=75)
        if near is not None:
            return lookup[near]
    return None
