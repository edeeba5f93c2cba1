"""When two articles tell the same story: fingerprints and similarity, pure.

A story's text is its title and body with what outlets add around it removed (datelines,
bylines, broadcast markers, captions, copyright and newsletter lines: ``story_text``).
It is case-folded, NFKC-normalized and cut into overlapping character n-grams — Hangul,
kana and CJK ideographs in 3-grams of syllables, other scripts in 5-grams of letters and
digits — so that no tokenizer is needed and spacing or punctuation never matter. The
n-grams are sketched with one-permutation MinHash: one stable hash per n-gram
(``zlib.crc32``, mixed), the smallest per bin, empty bins filled from their neighbours.
Two sketches agree in about the share of bins that their n-gram sets share (Jaccard).
Bands of the sketch index it for look-up (LSH): stories sharing a band are candidates,
and only candidates are compared.

Retellings of one story rarely share more than a third of their n-grams (reworded
titles, dropped and added paragraphs, other endings), and stories cut from one template
(market closes, weather by region, earnings, sports results) share as many. What tells
the latter apart are their figures: every number a text states is kept with the words
right around it, and two texts that state the same quantity with different values
(``figures_agree``) are never one story, however similar.

The figures measured on the labelled set in ``benchmarks/dedup`` chose the sizes and
the threshold; see that directory's README.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from aggregator.words import HANGUL, Words, words_of

#: n-gram length in letters and digits for alphabetic scripts (Latin, Cyrillic …).
SHINGLE_SIZE = 5
#: n-gram length for scripts written without spaces between short words or with one
#: syllable per character: Hangul, kana, CJK ideographs.
DENSE_SHINGLE_SIZE = 3
#: Sketch length; BANDS × ROWS must equal it.
SKETCH_SIZE = 128
BANDS = 64
ROWS = 2
#: Two texts that state this many quantities with different values are different stories.
FIGURE_CONFLICTS = 2
_EMPTY = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

_AGENCIES = "AP|AFP|UPI|Reuters|Yonhap|Bloomberg|CNN|dpa|Kyodo|Xinhua|EFE|ANSA"
_BROADCASTERS = "KBS|MBC|SBS|YTN|MBN|JTBC|TV조선|채널A|연합뉴스TV|OBS"
_CREDIT_ROLES = "촬영기자|영상취재|영상편집|촬영|편집|그래픽|디자인|화면제공|자료제공|VJ|CG"
_CAPTION_WORDS = "사진|자료|연합|뉴시스|뉴스1|DB|제공|캡처|그래픽|기자|특파원|통신원"
_NAME = r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2}"
_OUTLET = r"[A-Z][\w&.'’-]*(?:\s+[A-Z&][\w&.'’-]*){0,3}"
_BYLINE_NAME = r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?"
_PLACE = (
    r"(?:(?:[A-Z][\w.'’-]*\s+){0,2}[A-Z][\w.'’-]*"  # SEOUL, CAPE CANAVERAL, Tokyo
    r"(?:,\s*[A-Z][a-z.]*(?:\s+[A-Z][a-z.]*)?)?"  # , Fla. / , South Korea / , March
    r"(?:\s+\d{1,2})?\s*)?"  # 20
)


def _compile(*patterns: tuple[str, int]) -> list[re.Pattern[str]]:
    return [re.compile(pattern, flags) for pattern, flags in patterns]


#: What outlets add around a story's body, in the order removed. Body text arrives with
#: its whitespace folded (no line structure), so every pattern works on running text.
_BOILERPLATE = _compile(
    # addresses first: they sit inside bylines and notices
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", 0),
    (r"https?://\S+|www\.\S+", 0),
    # contact lines of broadcasters: "[전화] 02-398-8585 [메일] …"
    (r"※?\s*'?당신의 제보가 뉴스가 됩니다'?", 0),
    (r"\[(?:카카오톡|전화|메일|이메일|제보)\][^\[\]]{0,30}?(?=\[|$)", 0),
    (r"\b\d{2,4}-\d{3,4}-\d{4}\b", 0),
    # English copyright and syndication notices
    (r"This material may not be published[^.]{0,80}\.", 0),
    (r"Any reproduction, republication[^.]{0,200}\.", 0),
    (r"Our Standards: The Thomson Reuters Trust Principles\.?", 0),
    (
        r"(?:Copyright|©)\s*(?:\(c\)\s*)?\d{4}[^.©]{0,60}?(?:Inc\.|L\.P\.|Ltd\.|\.|$)"
        r"(?:\s*\([A-Z]{2,5}\)\.?)?",
        0,
    ),
    (r"all rights reserved\.?", re.IGNORECASE),
    # Korean copyright and reuse notices: "ⓒ 한겨레신문사 무단전재 및 재배포 금지"
    (
        r"[<\[(]?\s*※?\s*(?:저작권자\s*)?(?:ⓒ|©|\(c\)|copyright\b)[^<>\[\]]{0,120}?금지\.?\s*[>\])]?",
        re.IGNORECASE,
    ),
    (r"[<\[(]?\s*무단\s*(?:전재|복제)[^.<>\[\]]{0,60}?금지\.?\s*[>\])]?", 0),
    (r"(?:ⓒ|©)\s*\S+", 0),
    # Korean datelines: "(서울=연합뉴스) 홍길동 기자 =", "[부산=뉴시스]", "[이데일리 홍길동 기자]"
    (
        r"[(\[]\s*[가-힣A-Za-z]{1,10}\s*=\s*[^()\[\]]{1,20}[)\]]"
        r"\s*(?:[가-힣]{2,4}\s*(?:기자|특파원)\s*)?=?",
        0,
    ),
    (rf"[(\[][^()\[\]]{{0,20}}(?:{_CAPTION_WORDS})[^()\[\]]{{0,20}}[)\]]", 0),
    (r"사진은 기사 (?:내용|본문)과 (?:무관|관련 없)[가-힣]{0,3}\.?", 0),
    # broadcast markers, sign-offs and credits
    (r"[\[<【]\s*(?:앵커(?:\s?멘트)?|리포트|기자|인터뷰|녹취|현장음)\s*[\]>】]", 0),
    (
        rf"(?:{_BROADCASTERS})\s*(?:뉴스)?\s*[가-힣]{{2,4}}입니다\.?"
        r"|[가-힣A-Za-z]{1,8}(?:방송|뉴스|TV)\s*[가-힣]{2,4}입니다\.?\s*$",  # any outlet's, last
        0,
    ),
    (rf"\(?\s*(?:{_CREDIT_ROLES})\s*[:：]\s*[^,/)\s]{{1,12}}(?:\s*기자)?\s*[,/)]?", 0),
    # Korean bylines: "홍길동 기자", "홍길동 한경닷컴 기자", a broadcast's "홍길동 기자입니다."
    # (not "기자간담회")
    (r"(?:[가-힣]{2,4}\s)?[가-힣]{2,4}\s?(?:기자|특파원|통신원)(?:입니다\.?)?(?![가-힣])\s*=?", 0),
    # English datelines, whoever they credit: "SEOUL, Nov. 20 (Yonhap) --", "WASHINGTON
    # (AP) —", "(CNN) —", "LIMA, Peru (Meridian Wire) —"
    (rf"{_PLACE}\((?:{_AGENCIES}|{_OUTLET})\)\s*[-—–]+\s*", 0),
    # English credits and bylines
    (
        rf"(?:additional\s+)?(?:reporting|writing|editing|compiled)\s+by\s+{_NAME}",
        re.IGNORECASE,
    ),
    (r"(?:^|(?<=[.!?]))[^.!?]{0,80}\bcontributed(?: reporting)? to this (?:report|story)\.", 0),
    (rf"-*\s*With assistance from {_NAME}\.?", 0),
    (r"To contact the (?:reporters?|editors?)[^:]{0,60}:[^©.]{0,80}", 0),
    (rf"Edited by:?\s+{_NAME}", 0),
    (rf"^\s*By\s+{_BYLINE_NAME}", 0),
    (rf"{_NAME},?\s+(?:\w+\s+)?(?:reporter|correspondent|editor),\s+BBC News", 0),
    (r"\bStaff (?:writer|reporter)\b", 0),
    (r"Source:\s*[A-Z][\w ]{0,40}(?:news agencies|agencies)", 0),
    (r"\(END\)", 0),
    # newsletters, follow-us and related-story lines
    (r"Sign up (?:to|for)[^.]{0,80}(?:newsletter|alerts?|emails?)\b\.?", re.IGNORECASE),
    (r"Follow [A-Z][\w ]{0,30} on (?:WhatsApp|X|Twitter|Facebook|Instagram|Telegram|YouTube)", 0),
    (r"(?:Read more|RELATED|Related|관련기사)\s*:[^.]{0,80}", 0),
    (
        r"Contact\s+[A-Z][\w'’ -]{1,40}\s+at\s+\(?\d{3}\)?[\s.-]?\d{3,4}(?:[\s.-]?\d{4})?"
        r"(?:\s+or\b)?",
        0,
    ),
    # agency sign-off initials at the very end ("kd/lw", "bur-ab/cd"), empty brackets
    (r"\s[a-z]{2,4}(?:-[a-z]{2,4})*/[a-z]{2,4}\s*$", 0),
    (r"[\[(<]\s*[\])>]", 0),
)
#: What must be in the text for each ``_BOILERPLATE`` pattern to match at all: a literal
#: the pattern cannot match without (any of several), or a pattern with the same case rule.
#: Checked on the text as each removal leaves it, so skipping a pattern never changes the
#: result; most bodies hold none of them, and a substring test costs far less than a
#: search with backtracking.
_GUARDS: tuple[tuple[str, ...] | re.Pattern[str], ...] = (
    ("@",),
    ("http", "www."),
    ("제보가 뉴스가",),
    ("[",),
    ("-",),
    ("This material may not be published",),
    ("Any reproduction, republication",),
    ("Our Standards",),
    ("Copyright", "©"),
    re.compile("all rights reserved", re.IGNORECASE),
    ("금지",),
    ("무단",),
    ("ⓒ", "©"),
    ("=",),
    tuple(_CAPTION_WORDS.split("|")),
    ("사진은 기사",),
    ("앵커", "리포트", "기자", "인터뷰", "녹취", "현장음"),
    ("입니다",),
    (":", "："),
    ("기자", "특파원", "통신원"),
    (") -", ")-", ") —", ")—", ") –", ")–"),
    re.compile(r"\sby\s", re.IGNORECASE),
    ("contributed",),
    ("With assistance from",),
    ("To contact the",),
    ("Edited by",),
    ("By",),
    ("BBC News",),
    ("Staff ",),
    ("Source:",),
    ("(END)",),
    re.compile("sign up", re.IGNORECASE),
    ("Follow ",),
    ("Read more", "RELATED", "Related", "관련기사"),
    ("Contact",),
    ("/",),
    ("[", "(", "<"),
)
assert len(_GUARDS) == len(_BOILERPLATE)


def _may_match(guard: tuple[str, ...] | re.Pattern[str], text: str) -> bool:
    if isinstance(guard, tuple):
        return any(literal in text for literal in guard)
    return guard.search(text) is not None


#: Labels outlets put on headlines: "[속보]", "(종합2보)", "UPDATE 2-", "Tennis-".
_TITLE_LABELS = _compile(
    (r"^\s*(?:[\[(【<][^\])】>]{1,12}[\])】>]\s*)+", 0),
    (r"\s*[\[(【<](?:종합|속보|단독|\d보|종합\d보|영상|포토|사진)[^\])】>]{0,6}[\])】>]\s*$", 0),
    (
        r"^(?:(?:UPDATE|WRAPUP)\s*\d*\s*-|EXCLUSIVE-|BREAKING-|(?:Tennis|Soccer|Football|Golf"
        r"|Cricket|Rugby|Athletics|Basketball|Baseball|Olympics|Motor racing|Cycling)-)",
        0,
    ),
)


def story_text(title: str, body_text: str) -> str:
    """The text that identifies a story: title and body with what the outlet adds —
    labels, datelines, bylines, credits, copyright and newsletter lines — removed."""
    for pattern in _TITLE_LABELS:
        title = pattern.sub(" ", title)
    body = body_text.strip()
    for pattern, guard in zip(_BOILERPLATE, _GUARDS, strict=True):
        if _may_match(guard, body):
            body = pattern.sub(" ", body)
    return f"{title.strip()}\n{body.strip()}"


def letters(text: str) -> str:
    """Only letters and digits, case-folded and NFKC-normalized: spacing and punctuation
    never make two tellings differ."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normalized if ch.isalnum())


def content_hash(text: str) -> str:
    """Exact-content key: the same letters and digits in the same order."""
    return hashlib.sha256(letters(text).encode()).hexdigest()


# -- figures -------------------------------------------------------------------------------

#: A number, with Korean unit characters ("2천817만6천", "19.3만", "1조 2천억", "2백6십")
#: and English scale words ("1.8 billion", "$1.96bn", "C$150mn", "$1.4-million") taken as
#: part of it. A unit character is part of it only right after the digits: "2025 천하장사"
#: is the year and a title.
_FIGURE = re.compile(
    r"(\d+(?:[.,]\d+)*(?:[조억만천백십](?:\s?\d+(?:[.,]\d+)*)?)*)"
    r"([\s-]?(?:trillion|billion|million|thousand|tn|bn|mn)\b)?",
    re.IGNORECASE,
)
_FIGURE_PART = re.compile(r"(\d+(?:[.,]\d+)*)?\s?([조억만천백십])?")
_SMALL_UNITS = {"천": 1000, "백": 100, "십": 10}
#: A scale letter after a currency sign, as English news writes money ("€1.94m", "£38m",
#: "$3.5B", "$250K"), and 천 or 백 opening a number, as broadcast scripts write counts
#: ("천2백4십 마리" is 1,240): written out (``_written_out``) before figures are read.
#: Without the sign, "2.33m" is a height; 천 inside a word ("인천2공장") opens no number.
_CURRENCY_SCALE = re.compile(r"([£$€¥])(\d+(?:[.,]\d+)*)([mbk])\b", re.IGNORECASE)
_SCALE_LETTERS = {"m": "million", "b": "billion", "k": "thousand"}
_LEADING_UNIT = re.compile(r"[천백](?=\d)")
_LARGE_UNITS = {"조": 10**12, "억": 10**8, "만": 10**4}
_SCALES = {"trillion": 10**12, "tn": 10**12, "billion": 10**9, "bn": 10**9,
           "million": 10**6, "mn": 10**6, "thousand": 1000}  # fmt: skip
_WORD_NUMBERS = re.compile(
    r"\b(?:(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:-(one|two|three|four|five|six|seven|eight|nine))?"
    r"|(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen))\b",
    re.IGNORECASE,
)
_ONES_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
_ONES_WORDS += "fourteen fifteen sixteen seventeen eighteen nineteen"
_TENS_WORDS = "- - twenty thirty forty fifty sixty seventy eighty ninety"
_ONES = {word: n for n, word in enumerate(_ONES_WORDS.split())}
_TENS = {word: 10 * n for n, word in enumerate(_TENS_WORDS.split()) if word != "-"}
#: Korean native numbers before a counter, as broadcast scripts write counts ("서른아홉
#: 명", "열두 곳"): spaced from the counter, so that "세대" (households) is no 3.
_KOREAN_NUMBERS = re.compile(
    r"(?<![가-힣])(열|스무|스물|서른|마흔|쉰|예순|일흔|여든|아흔)?"
    r"(한|하나|두|둘|세|셋|네|넷|다섯|여섯|일곱|여덟|아홉)?"
    r" (?:명|개|곳|마리|대|채|살|척|건|가구|군데)(?![가-힣]*째)"
)
_KOREAN_TENS = {"열": 10, "스무": 20, "스물": 20, "서른": 30, "마흔": 40, "쉰": 50,
                "예순": 60, "일흔": 70, "여든": 80, "아흔": 90}  # fmt: skip
_KOREAN_ONES = {"한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4,
                "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9}  # fmt: skip
_NOT_BEFORE = re.compile(r"[\W\d_]")
_NOT_AFTER = re.compile(r"[\s\d_|]")
#: The unit right after a figure: symbols ("%", "%p"), else the next word's first letters.
_AFTER = re.compile(r"\s?([^\s\w]*\w{0,2})")
_PERCENT = re.compile(r"\s?(?:per ?cent|퍼센트)\b", re.IGNORECASE)
#: Letters kept on each side of a figure to say what it counts.
_BEFORE_LETTERS = 4
_AFTER_LETTERS = 2


def _value(number: str, scale: str | None) -> str | None:
    """``"2천817만6천"`` → ``"28176000"``, ``"3.00"`` → ``"3"``, ``("1.8", " bn")`` →
    ``"1800000000"``; None when it is not a number after all (``"1.2.3"``)."""
    total = section = Decimal(0)
    try:
        for digits, unit in _FIGURE_PART.findall(number):
            n = Decimal(digits.replace(",", "")) if digits else None
            if unit in _SMALL_UNITS:
                section += (n if n is not None else 1) * _SMALL_UNITS[unit]
            elif unit:
                section += n if n is not None else 0
                total += (section or 1) * _LARGE_UNITS[unit]
                section = Decimal(0)
            elif n is not None:
                section += n
    except InvalidOperation:
        return None
    value = total + section
    if scale:
        value *= _SCALES[scale.strip(" -").casefold()]
    return format(value.normalize(), "f")


def _written_out(text: str) -> str:
    """Numbers in the short forms news writes them, written out for ``_FIGURE``: "€1.94m"
    as "€1.94 million", "천2백" as "1천2백" (``_CURRENCY_SCALE``, ``_LEADING_UNIT``)."""
    text = _CURRENCY_SCALE.sub(_scale_word, text)
    return _LEADING_UNIT.sub(_opening_unit, text)


def _scale_word(match: re.Match[str]) -> str:
    sign, number, letter = match.groups()
    return f"{sign}{number} {_SCALE_LETTERS[letter.casefold()]}"


def _opening_unit(match: re.Match[str]) -> str:
    """ "천2백" → "1천2백"; a 천 or 백 inside a word or a number stays as it is."""
    before = match.string[match.start() - 1 : match.start()]
    inside = bool(before) and (before.isdigit() or before in ".," or HANGUL.match(before))
    return match.group() if inside else f"1{match.group()}"


#: A tally: a vote's or a game's two sides joined by a dash ("voted 4-3", "87-79로
#: 이겼다", "beat Canada 2-1"), neither part of a longer run of figures (a date, a
#: telephone number, "2021-25", "787-9"), nor followed by a unit: a range ("10-15 cm",
#: "3-4 days", "18-24세"; Korean writes most ranges with "~").
_TALLY = re.compile(
    r"(?<![\w.,:/\-–—])(\d{1,3})\s?[-–—]\s?(\d{1,3})(?![\d.,:/\-–—]?\d|\s?[-–—])"
    r"(?!\s?(?:%|°|(?:cm|mm|km|kg|lbs?|mph|per|percent|years?|days?|weeks?|months?|hours?"
    r"|minutes?|seconds?|degrees?|inch|inches|feet|ft|miles?|metres?|meters?|m|g)\b"
    r"|세|살|일|시|분|초|년|개월|월|주|도|명|개|건|원|달러|배|층|호|번|회|차|위|곳|대|㎝|㎏|㎞))"
)
#: A measure written as whole and hundredths with its unit between, as Korean results
#: write them: "2m33" (2.33 m), "13초31" (13.31 s), and a time in minutes and seconds,
#: "1분55초12" (115.12 s).
_COMPOUND = re.compile(
    r"(?<![\d.])(?<!시 )(?<!시)(?:(\d{1,2})분\s?)?(\d{1,2})(m|초)(\d{2})(?![\d.])"
    r"|(?<![\d.])(?<!시 )(?<!시)(\d{1,2})분\s?(\d{1,2})초(?![\d.])"
)
#: The separator of a tally's two sides in its value ("4-3").
_TALLY_SEPARATOR = "-"
#: A vote's tally measures the vote however the sentence words it ("voted 38-24", "the
#: motion, passed 49-13", "by a vote of 7-2"): all are keyed as one quantity, so that two
#: votes of one meeting disagree, as two scores of one game would.
_VOTED = re.compile(
    r"\b(?:vot(?:e|ed|es|ing)|passed|approved|rejected|backed|carried|defeated|adopted)\b"
)
#: Looked for in the sentence before the tally (``_SENTENCE_END``), at most this many
#: characters back.
_VOTE_REACH = 40
_VOTE = "vote"


def _figures_in(text: str) -> Iterator[tuple[str, str, str]]:
    """(letters before, unit after, value) for every figure the text states. The letters
    before are those since the previous figure, at most ``_BEFORE_LETTERS`` ("#" where
    there are fewer); number words carry no context. A tally is one figure of two sides
    ("4-3": ``_TALLY``), and a measure with its unit between one figure ("2m33" is
    2.33 m: ``_COMPOUND``). A vote's tally is keyed as ``_VOTE``, however worded."""
    normalized = _PERCENT.sub("%", unicodedata.normalize("NFKC", text).casefold())
    normalized = _written_out(normalized)
    tallies = {match.start(): match for match in _TALLY.finditer(normalized)}
    compounds = {match.start(): match for match in _COMPOUND.finditer(normalized)}
    previous_end = 0
    for match in _FIGURE.finditer(normalized):
        if match.start() < previous_end:
            continue  # the rest of a tally or of a measure read whole
        compound = compounds.get(match.start())
        tally = tallies.get(match.start())
        after: str | None = None
        if compound is not None:
            match = compound
            value: str | None
            value, after = _compound_value(compound)
        elif tally is not None:
            match = tally
            # Either side first: a game's score is told from either team ("3-2", "2-3").
            sides = sorted((int(tally.group(1)), int(tally.group(2))), reverse=True)
            value = _TALLY_SEPARATOR.join(map(str, sides))
            after = _TALLY_SEPARATOR  # what a tally counts is said before it: "voted", "beat"
        else:
            value = _value(match.group(1), match.group(2))
        if value is None:
            continue
        preceding = normalized[previous_end : match.start()]
        if after == _TALLY_SEPARATOR and _is_vote(preceding):
            before = _VOTE
        else:
            before = _NOT_BEFORE.sub("", preceding)
            before = before[-_BEFORE_LETTERS:].rjust(_BEFORE_LETTERS, "#")
        if after is None:
            after_match = _AFTER.match(normalized, match.end())
            after = _NOT_AFTER.sub("", after_match.group(1))[:_AFTER_LETTERS] if after_match else ""
        yield before, after, value
        previous_end = match.end()
    for match in _WORD_NUMBERS.finditer(normalized):
        tens, ones, single = match.groups()
        number = _TENS[tens] + (_ONES[ones] if ones else 0) if tens else _ONES[single]
        yield "#" * _BEFORE_LETTERS, "", str(number)
    for match in _KOREAN_NUMBERS.finditer(normalized):
        tens, ones = match.groups()
        if tens or ones:
            number = _KOREAN_TENS.get(tens or "", 0) + _KOREAN_ONES.get(ones or "", 0)
            yield "#" * _BEFORE_LETTERS, "", str(number)


def _is_vote(preceding: str) -> bool:
    """Whether the sentence a tally ends on words a vote (``_VOTED``)."""
    return _VOTED.search(_SENTENCE_END.split(preceding[-_VOTE_REACH:])[-1]) is not None


def _compound_value(match: re.Match[str]) -> tuple[str, str]:
    """A ``_COMPOUND`` measure's value and unit: "2m33" → ("2.33", "m"), "1분55초12" →
    ("115.12", "초")."""
    minutes, whole, unit, hundredths, short_minutes, short_seconds = match.groups()
    if whole is not None:
        amount = Decimal(f"{whole}.{hundredths}") + 60 * int(minutes or 0)
        unit = "초" if minutes else unit
    else:
        amount = Decimal(60 * int(short_minutes) + int(short_seconds))
        unit = "초"
    return format(amount.normalize(), "f"), unit


def numbers(text: str) -> frozenset[str]:
    """The figures a text states, normalized: thousands separators and trailing zeros
    dropped, Korean units and English scale words applied ("2천817만6천" and "2817만6000"
    are both "28176000"), number words under a hundred as digits."""
    return frozenset(value for _, _, value in _figures_in(text))


def figures(text: str) -> frozenset[str]:
    """The figures a text states, each as ``"<letters before>|<unit after>|<value>"``
    (e.g. ``"최저기온|도|3"``, ``"#ose|%|0.6"``), so that two texts can be checked for
    stating the same quantity with different values."""
    return frozenset(f"{before}|{after}|{value}" for before, after, value in _figures_in(text))


@functools.lru_cache(maxsize=4096)
def _split_figures(tokens: frozenset[str]) -> tuple[set[str], dict[str, set[str]]]:
    # Cached: a new article's figures meet up to 20 candidates', and a recent article's
    # meet many newcomers'. Callers only read the result.
    values: set[str] = set()
    by_context: dict[str, set[str]] = {}
    for token in tokens:
        context, _, value = token.rpartition("|")
        values.add(value)
        if _TALLY_SEPARATOR in value:
            values.update(value.split(_TALLY_SEPARATOR))  # each side, as texts read apart
        if context and not context.startswith("#" * _BEFORE_LETTERS):
            by_context.setdefault(context, set()).add(value)
    return values, by_context


def _sides_apart(mine: set[str], theirs: set[str]) -> int:
    """How many quantities two sets of values for one context disagree on: one, or for
    tallies the sides that differ (a vote of 4-3 and one of 5-2 disagree on both; 4-3
    and 4-2 on one). A tally against a single value (a text read before tallies were)
    is matched by its first side."""
    if not any(_TALLY_SEPARATOR in value for value in (*mine, *theirs)):
        return 1
    fewest = 2
    for one in mine:
        for other in theirs:
            sides = zip(one.split(_TALLY_SEPARATOR), other.split(_TALLY_SEPARATOR), strict=False)
            fewest = min(fewest, sum(a != b for a, b in sides))
    return fewest


def _distinctive(value: str) -> bool:
    """A value unlikely to recur by chance: with decimals, or of three digits or more."""
    return "." in value or len(value) >= 3


def figure_values(tokens: frozenset[str]) -> set[str]:
    """The values of ``figures`` tokens, without what they measure."""
    return _split_figures(tokens)[0]


#: Units after a figure that make it a date or a time of day ("17일", "6시 12분").
_CALENDAR_UNITS = ("일", "시", "분", "월", "년")


@functools.lru_cache(maxsize=4096)
def telling_values(tokens: frozenset[str]) -> frozenset[str]:
    """The values of ``figures`` tokens that tell one event from another of its day:
    not dates, times of day or years (every report of the day states them), not small
    whole numbers (counts of one to nine are everywhere)."""
    found = set()
    for token in tokens:
        context, _, value = token.rpartition("|")
        if context.rpartition("|")[2].startswith(_CALENDAR_UNITS):
            continue
        for side in value.split(_TALLY_SEPARATOR):  # a tally's sides, as texts read apart
            if _tells(side):
                found.add(side)
    return frozenset(found)


def _tells(value: str) -> bool:
    # Most values are whole numbers, read without Decimal: a text's telling values
    # took 21–24 µs, now 16–17 µs (the evaluation set's texts, 12–13 figures each).
    if value.isascii() and value.isdigit():
        number: int | Decimal = int(value)
        whole = True
    else:
        number = Decimal(value)
        whole = number == number.to_integral_value()
    return not (whole and (number < 10 or 1900 <= number <= 2100))


def figures_agree(a: frozenset[str], b: frozenset[str], *, min_shared: float = 0.5) -> bool:
    """Whether two texts' figures allow them to be one story. A retelling keeps the
    facts: they are not one story when they state ``FIGURE_CONFLICTS`` quantities (the
    same words before and unit after) with values the other text states nowhere, nor
    when both state several figures and share less than ``min_shared`` of the smaller
    set (0: any share)."""
    values_a, context_a = _split_figures(a)
    values_b, context_b = _split_figures(b)
    conflicts = 0
    for context in context_a.keys() & context_b.keys():
        mine, theirs = context_a[context], context_b[context]
        # Matched by what they measure, not where they stand: a distinctive value the
        # other text states anywhere (the same indices listed in another order) is no
        # conflict. Small whole numbers are everywhere (scores, counts), so not those.
        if mine.isdisjoint(theirs) and not any(
            _distinctive(value) and value in other
            for values, other in ((mine, values_b), (theirs, values_a))
            for value in values
        ):
            conflicts += _sides_apart(mine, theirs)
            if conflicts >= FIGURE_CONFLICTS:
                return False
    if not min_shared or len(values_a) < 2 or len(values_b) < 2:
        return True
    return len(values_a & values_b) / min(len(values_a), len(values_b)) >= min_shared


# -- sketches ------------------------------------------------------------------------------

_DENSE_CHARS = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff"
)
_DENSE_RUN = re.compile(f"[{_DENSE_CHARS}0-9]+")
_ALPHABETIC_RUN = re.compile(f"[^\\W_{_DENSE_CHARS}]+")


def _plain(text: str) -> str:
    """Wording every telling of a story may state differently, said one way: figures in
    their normalized value ("2천817만6천" and "2,817만6000" → "28176000"), "per cent" as
    "%", polite Korean sentence endings as plain ones (broadcast copy says "동결했습니다"
    where print says "동결했다")."""
    text = _written_out(text)
    text = _FIGURE.sub(lambda m: _value(m.group(1), m.group(2)) or m.group(), text)
    text = _PERCENT.sub("%", text)
    return _POLITE_ENDING.sub(_plain_ending, text)


_POLITE_ENDING = re.compile(r"([가-힣])(습니다|니다)(?=[\s.,!?\"'”’)…]|$)")
#: ㅂ니다 is written into the syllable before it: 합니다 → 한다, 입니다 → 이다.
_PLAIN_STEM = {"합": "한", "입": "이", "됩": "된", "랍": "란", "갑": "간", "옵": "온", "큽": "큰"}


def _plain_ending(match: re.Match[str]) -> str:
    stem, ending = match.group(1), match.group(2)
    if ending == "습니다":  # 있습니다 → 있다, 낮췄습니다 → 낮췄다
        return f"{stem}다"
    return f"{_PLAIN_STEM.get(stem, stem)}다"


def shingles(text: str, size: int = SHINGLE_SIZE, dense_size: int = DENSE_SHINGLE_SIZE) -> set[str]:
    """The text's character n-grams: Hangul/kana/CJK runs (with the digits among them)
    joined and cut into ``dense_size``-grams, letters and digits of other scripts joined
    and cut into ``size``-grams. Spacing, punctuation and the way figures and polite
    endings are written never count."""
    normalized = _plain(unicodedata.normalize("NFKC", text).casefold())
    grams: set[str] = set()
    for stream, n in (
        ("".join(_DENSE_RUN.findall(normalized)), dense_size),
        ("".join(_ALPHABETIC_RUN.findall(normalized)), size),
    ):
        if len(stream) > n:
            grams.update(stream[i : i + n] for i in range(len(stream) - n + 1))
        elif stream:
            grams.add(stream)
    return grams


def sketch(
    text: str, shingle_size: int = SHINGLE_SIZE, dense_size: int = DENSE_SHINGLE_SIZE
) -> tuple[int, ...]:
    """One-permutation MinHash of the text's n-grams, densified so no bin stays empty
    (all bins empty: a text without letters or digits).

    Each n-gram's hash is its CRC-32 spread over 64 bits by an odd multiplier: the same
    in every process, platform and Python version (the sketch lives in the database for
    ever; Python's own ``hash`` of a string changes per process), and about five times
    cheaper than a cryptographic digest. Bits 40 and up choose the bin."""
    bins = [_EMPTY] * SKETCH_SIZE
    encode, crc32 = str.encode, zlib.crc32
    for gram in shingles(text, shingle_size, dense_size):
        value = (crc32(encode(gram)) * _GOLDEN) & _EMPTY
        slot = (value >> 40) % SKETCH_SIZE
        if value < bins[slot]:
            bins[slot] = value
    return _densify(bins)


def _densify(bins: list[int]) -> tuple[int, ...]:
    """Fill empty bins from the next non-empty one (rotation), offset by the distance, so
    that short texts still compare bin by bin."""
    if _EMPTY not in bins or all(b == _EMPTY for b in bins):
        return tuple(bins)
    out = list(bins)
    size = len(bins)
    for i, value in enumerate(bins):
        if value != _EMPTY:
            continue
        step = 1
        while bins[(i + step) % size] == _EMPTY:
            step += 1
        out[i] = (bins[(i + step) % size] + step * _GOLDEN) & _EMPTY
    return tuple(out)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the n-gram sets behind two sketches (0.0 when
    either is empty or they differ in length)."""
    if not a or len(a) != len(b) or a[0] == _EMPTY or b[0] == _EMPTY:
        return 0.0
    return sum(map(operator.eq, a, b)) / len(a)


def band_keys(signature: Sequence[int]) -> list[str]:
    """One key per band: stories sharing any key are candidates to compare. A key is the
    band's number and its rows folded into 64 bits (rotate and xor), in hex: ``"07"``
    and 16 digits. The rows are hash values already; two bands only share a key by
    chance one time in about 2⁶⁴."""
    keys = []
    for band in range(BANDS):
        folded = 0
        for row in signature[band * ROWS : (band + 1) * ROWS]:
            folded = (((folded << 1) | (folded >> 63)) & _EMPTY) ^ row
        keys.append(f"{band:02x}{folded:016x}")
    return keys


#: Bits of each sketch value the store keeps to compare sketches: two values that agree
#: in them agree in all 64 but one time in 2³², so estimates come out the same, in half
#: the bytes.
STORED_BITS = 32
_STORED_FORMAT = f">{SKETCH_SIZE}I"
_STORED_MASK = (1 << STORED_BITS) - 1
#: The bits of an index key left for the band's rows once its number takes the top ones.
_KEY_BITS = 57
_KEY_MASK = (1 << _KEY_BITS) - 1


def is_blank(signature: Sequence[int]) -> bool:
    """Whether a sketch says nothing: no sketch, or one of a text without letters."""
    return not signature or signature[0] == _EMPTY


def stored_sketch(signature: Sequence[int]) -> bytes:
    """The sketch as the store keeps it: the low ``STORED_BITS`` of each value."""
    return struct.pack(_STORED_FORMAT, *(value & _STORED_MASK for value in signature))


def read_stored_sketch(data: bytes) -> tuple[int, ...]:
    return struct.unpack(_STORED_FORMAT, data)


def band_index_keys(stored: Sequence[int]) -> list[int]:
    """One key per band of a sketch as stored (``read_stored_sketch``), as integers that
    fit a signed 64-bit column: the band's number in the top bits, its two stored rows
    folded into the 57 below. Stories sharing a key are candidates to compare; two bands
    share one by chance one time in about 2⁵⁷, which costs a needless comparison."""
    keys = []
    for band in range(BANDS):
        first, second = stored[band * ROWS], stored[band * ROWS + 1]
        keys.append((band << _KEY_BITS) | (((first << 25) ^ second) & _KEY_MASK))
    return keys


#: How a paragraph about another event opens: news writing marks the turn ("Separately,",
#: "Earlier on Friday,", "같은 법원 형사11부는", "한편", "이와 별도로").
_OTHER_EVENT = re.compile(
    r"(?:Separately|Meanwhile|Elsewhere|In (?:a|an) (?:separate|unrelated)\b|In other news"
    r"|Earlier (?:on|in|that|this)\b|Hours earlier|Earlier,"
    r"|같은 |한편|이와 별도로|이와 별개로|앞서 |이에 앞서|전날 같은|이날 같은)"
)


#: How a sentence sets its event apart from another it names, or times it by another
#: ("The notice is not connected with the outbreak in Timaru, where 23 people …", "The
#: ruling came hours after another judge ordered …", "The vote came about an hour and a
#: half after a much closer one, 38-24, …", "The fire broke out hours after surveyors
#: announced …", "Her final followed the men's final,
#: won by …", "The announcement came at the same press conference at which …", "The game
#: followed the afternoon's opener, in which …", "… 숨진 데 이어 하루 두 번째 누출 사고다"): a
#: look-alike report names the other event there, with its figures. A report of its own
#: event times it by the clock ("came shortly before midnight"), not by hours after another.
_ASIDE = re.compile(
    r"\b(?:not (?:connected|linked|related) (?:with|to)|unrelated to|separate from)\b"
    r"|\b(?:came|comes|was announced|were announced|broke out)\s+"
    r"(?:(?:just|only|less than|about|some|nearly|almost|more than) )?"
    r"(?:(?:a|an|one|two|three|several|a few|\d+) )?"
    r"(?:(?:minutes?|hours?|days?|weeks?)(?: and a half)?|half an hour) after\b"
    r"|\bcame earlier (?:in|on) the same\b|\bfollowed the (?:men|women)['’]s\b"
    r"|\b(?:came|was made|were made|was announced|were announced) at the same\b"
    r"|\bfollowed (?:the|an?) [^.,;]*, in which\b"
    r"|(?:하루|이날|같은 날)(?: 들어)? 두 번째|[와과]는 별개"
)
#: How a clause times a sentence's event by another, which it then names: "…, less than
#: an hour after Tahlia Brereton set a world record", "…, a day after a California jury
#: ordered …", "… on the same day that …", "… while colleagues … continued to tackle …".
#: A report of the other event shares these words: from the connector to the sentence's
#: end they are left out, as asides are. In a body the time needs the comma before it: a
#: report's own timing runs on without one ("symptoms start four weeks after exposure").
_REST = r"(?:[^.!?]|\.(?=\d))*"  # to the sentence's end, past "2.47am"
_TIMED_AFTER = (
    r"\s+(?:(?:just|only|less than|barely|more than|about|some|nearly|almost) )?"
    r"(?:(?:a|an|one|two|three|four|five|six|several|a few|\d+) )?"
    rf"(?:(?:minutes?|hours?|days?|weeks?)(?: and a half)?|half an hour) after\b{_REST}"
)
_ON_THE_DAY = (
    r"|,?\s+on (?:the )?(?:same (?:day|night|morning|evening|afternoon)"
    rf"|(?:day|night|morning|evening) of)\b{_REST}"
    rf"|,?\s+while (?:colleagues|others?|another)\b{_REST}"
    # "…, the same day the chancellor allowed …", "…, won earlier in the day by …".
    rf"|,\s+the same (?:day|night|morning|evening|afternoon)\b{_REST}"
    rf"|,\s+(?:[a-z]+ )?earlier (?:in the day|that day|that morning|that afternoon)\b{_REST}"
    # "…, coming at a meeting where the same board agreed to close …".
    rf"|,\s+(?:coming |which came )?at (?:a|the same) (?:meeting|session|sitting|hearing)"
    rf" (?:where|at which|in which)\b{_REST}"
    # "…was announced at the same ceremony at which Shevill's … was named …", "…, which
    # announced the same morning that volunteers had counted …": what follows is the other
    # event's, with or without a comma.
    r"|\s+(?:(?:at|on) )?the same (?:day|morning|night|evening|afternoon|meeting|ceremony"
    rf"|session|sitting|hearing),? (?:at which|in which|where|when|that)\b{_REST}"
)
_OTHER_EVENT_CLAUSE = re.compile(f",{_TIMED_AFTER}{_ON_THE_DAY}")
#: A headline has no commas to spare: "… two days after Coventry vote".
_OTHER_EVENT_HEADLINE = re.compile(f",?{_TIMED_AFTER}{_ON_THE_DAY}")
#: How a sentence inside a paragraph turns to another event: it and what follows it in
#: the paragraph are about that event ("앞서 이날 열린 여자부 …에서는"; "…4연승을 달렸다. 같은
#: 날 전주 청록FC도 …"; "It was the crew's second call of the day. Earlier, they had …").
_OTHER_EVENT_SENTENCE = re.compile(
    r"(?:Separately|In (?:a|an) (?:separate|unrelated)\b|In other news|Earlier,"
    r"|앞서 이날|이날 앞서|같은 날 )"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=다\.)\s*")


def may_tell_other_events(body_text: str) -> bool:
    """Whether any paragraph of this text could open on another event, or any sentence
    set its event apart from another: splitting a body into paragraphs is worth it only
    then."""
    return any(
        pattern.search(body_text) is not None
        for pattern in (_OTHER_EVENT, _ASIDE, _OTHER_EVENT_CLAUSE, _OTHER_EVENT_SENTENCE)
    )


def other_events(paragraphs: Iterable[str]) -> list[str]:
    """The paragraphs that open on another event than the story's own; in the others, a
    sentence that turns to another event with the rest of its paragraph, the sentences
    that set the story's event apart from another, and the clauses that time it by
    another (``other_event_clauses``): a report of another event of the day mentions
    this one there, in passing, with its figures."""
    found = []
    for paragraph in paragraphs:
        if _OTHER_EVENT.match(paragraph.strip()):
            found.append(paragraph)
            continue
        sentences = _SENTENCE_END.split(paragraph)
        for position, sentence in enumerate(sentences):
            if position and _OTHER_EVENT_SENTENCE.match(sentence):
                found.extend(rest for rest in sentences[position:] if rest)
                break
            if sentence and _ASIDE.search(sentence):
                found.append(sentence)
            elif sentence:
                found.extend(other_event_clauses(sentence))
    return found


def other_event_clauses(text: str, *, headline: bool = False) -> list[str]:
    """The clauses of a sentence (or a ``headline``) that time its event by another
    event they name."""
    pattern = _OTHER_EVENT_HEADLINE if headline else _OTHER_EVENT_CLAUSE
    return [match.group() for match in pattern.finditer(text)]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the store keeps of a story's text to find its retellings."""

    content_hash: str
    signature: tuple[int, ...]
    figures: frozenset[str]
    #: Content words of the headline and lead (``words.words_of``).
    words: Words = field(default_factory=Words)

    @classmethod
    def of(
        cls,
        title: str,
        body_text: str,
        *,
        min_letters: int = 0,
        paragraphs: Sequence[str] = (),
    ) -> Fingerprint:
        """The fingerprint of a story's title and body text; a text with fewer than
        ``min_letters`` letters and digits gets no sketch and no content words (too
        short to judge by similarity). Of the body's ``paragraphs``, those that open on
        another event (``other_events``) give no figures and no content words: they
        are what a report of another event shares with this one."""
        text = story_text(title, body_text)
        plain = letters(text)
        digest = hashlib.sha256(plain.encode()).hexdigest()  # ``content_hash``, reused
        own = text
        # A headline is a clause too: "Orsini breaks … record on night of Brereton's …".
        for aside in [
            *other_events(paragraphs),
            *other_event_clauses(text.partition("\n")[0], headline=True),
        ]:
            own = own.replace(aside, " ")
        if len(plain) < min_letters:
            return cls(digest, (), figures(own))
        title, _, body = own.partition("\n")
        return cls(digest, sketch(text), figures(own), words_of(title, body))

    def encode_signature(self) -> str:
        return ",".join(format(v, "x") for v in self.signature)

    @staticmethod
    def decode_signature(text: str) -> tuple[int, ...]:
        return tuple(int(v, 16) for v in text.split(",")) if text else ()


@dataclass(frozen=True, slots=True)
class Match:
    """The best candidate for a new story, and how similar it is."""

    article_id: str
    score: float


def best_match(
    fingerprint: Fingerprint,
    candidates: Iterable[tuple[str, tuple[int, ...], frozenset[str]]],
    threshold: float,
) -> Match | None:
    """The most similar candidate at or above ``threshold`` whose figures agree."""
    best: Match | None = None
    for article_id, signature, figures in candidates:
        score = similarity(fingerprint.signature, signature)
        if score < threshold:
            continue
        if best is not None and (
            score < best.score or (score == best.score and article_id > best.article_id)
        ):
            continue  # cannot win: spare the figures check
        if figures_agree(fingerprint.figures, figures):
            best = Match(article_id, score)
    return best
