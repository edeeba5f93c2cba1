"""Build the labelled near-duplicate set: ``data/stories.jsonl``.

Two kinds of story go in:

- **retellings** (``stories/*.txt``, hand-written): one story told by 2–6 outlets, each
  telling reworded, trimmed or reordered as outlets do with wire copy (``copy`` names the
  telling it reworks) or written afresh from the same facts (``copy`` is its own);
- **related stories** (``stories/*_3.txt``, hand-written): other stories on a retold
  story's subject — the follow-up, the day before, a reaction — each its own story;
- **template stories** (generated below): stories cut from one template with different
  facts — market closes, weather by region, exchange rates, daily case counts, earnings,
  sports results, lottery draws. Each is its own story, told by one outlet or two.

Every article then gets its outlet's dressing: dateline, byline, broadcast markers,
photo captions, copyright and newsletter lines — what ``dedup.story_text`` must strip.
Everything is deterministic: running this again writes the same file.

    .venv/bin/python benchmarks/dedup/make_set.py
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
STORIES = HERE / "stories"
OUT = HERE / "data" / "stories.jsonl"

KST = timezone(timedelta(hours=9))
UTC = UTC


# -- outlets ---------------------------------------------------------------------------


def _pick(seed: str, options: list[str]) -> str:
    digest = hashlib.blake2b(seed.encode(), digest_size=4).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


KO_REPORTERS = [
    ("김민수", "mskim"),
    ("이지현", "jhlee"),
    ("박상훈", "shpark"),
    ("최유진", "yjchoi"),
    ("정다은", "dejeong"),
    ("강현우", "hwkang"),
    ("조성민", "smcho"),
    ("윤서연", "syyoon"),
    ("장민호", "mhjang"),
    ("임하늘", "hnlim"),
    ("한지우", "jwhan"),
    ("서지원", "jwseo"),
    ("신동욱", "dwshin"),
    ("권나래", "nrkwon"),
    ("황보람", "brhwang"),
    ("안재석", "jsahn"),
    ("송유나", "ynsong"),
    ("전태윤", "tyjeon"),
]
EN_REPORTERS = [
    ("Ann Carter", "acarter"),
    ("David Moreno", "dmoreno"),
    ("Priya Nair", "pnair"),
    ("Tom Ellis", "tellis"),
    ("Grace Liu", "gliu"),
    ("Mark Hansen", "mhansen"),
    ("Laura Brandt", "lbrandt"),
    ("Kenji Sato", "ksato"),
    ("Sofia Ricci", "sricci"),
    ("James Okoro", "jokoro"),
    ("Emily Park", "epark"),
    ("Lucas Weber", "lweber"),
    ("Kim Da-sol", "dasol"),
    ("Lee Jun-ho", "junho"),
]
MONTHS_AP = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
             "Nov.", "Dec."]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip


@dataclass(frozen=True)
class Outlet:
    name: str
    lang: str
    #: prepended to the first paragraph; fields: city, CITY, date_ap, date, name, email
    prefix: str = ""
    #: lines before the first paragraph (bylines, broadcast markers)
    header: tuple[str, ...] = ()
    #: lines after the last paragraph (bylines, copyright, newsletters)
    footer: tuple[str, ...] = ()
    #: a line placed before the second paragraph (broadcast "[리포트]")
    second: str = ""
    #: a photo caption after the first paragraph, in some articles
    caption: str = ""
    british: bool = False


OUTLETS = {
    o.name: o
    for o in [
        # Korean wires and papers
        Outlet("yonhap", "ko", prefix="({city}=연합뉴스) {name} 기자 = ",
               footer=("{email}@yna.co.kr",
                       "<저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>"),
               caption="[연합뉴스 자료사진]"),
        Outlet("news1", "ko", prefix="({city}=뉴스1) {name} 기자 = ",
               footer=("© 뉴스1코리아(news1.kr), 무단 전재 및 재배포, AI학습 이용 금지",),
               caption="ⓒ News1 {name} 기자"),
        Outlet("newsis", "ko", prefix="[{city}=뉴시스]{name} 기자 = ",
               footer=("{email}@newsis.com",
                       "<저작권자ⓒ 공감언론 뉴시스통신사. 무단전재-재배포, AI학습 및 활용 금지>"),
               caption="[{city}=뉴시스] 사진은 기사 내용과 무관함. (사진=뉴시스 DB)"),
        Outlet("hani", "ko", footer=("{name} 기자 {email}@hani.co.kr",
                                     "ⓒ 한겨레신문사 : 무단전재 및 재배포 금지")),
        Outlet("khan", "ko", footer=("{name} 기자 {email}@kyunghyang.com",
                                     "ⓒ경향신문(www.khan.co.kr), 무단전재 및 재배포 금지")),
        Outlet("joongang", "ko", footer=("{name} 기자 {email}@joongang.co.kr",
                                         "ⓒ중앙일보 무단 전재 및 재배포 금지")),
        Outlet("donga", "ko", footer=("{name} 기자 {email}@donga.com",
                                      "ⓒ dongA.com. All rights reserved. 무단 전재, 재배포 및 "
                                      "AI학습 이용 금지")),
        Outlet("busan", "ko", footer=("{name} 기자 {email}@busan.com",
                                      "ⓒ부산일보(www.busan.com), 무단전재 및 수집, 재배포금지")),
        Outlet("mk", "ko", footer=("[{name} 기자]",
                                   "[ⓒ 매일경제 & mk.co.kr, 무단 전재, 재배포 및 "
                                   "AI학습 이용 금지]")),
        Outlet("edaily", "ko", prefix="[이데일리 {name} 기자] ",
               footer=("<ⓒ종합 경제정보 미디어 이데일리 - 무단전재 & 재배포 금지>",)),
        Outlet("hankyung", "ko", footer=("{name} 한경닷컴 기자 {email}@hankyung.com",
                                         "ⓒ 한경닷컴, 무단전재 및 재배포 금지")),
        Outlet("heraldk", "ko", prefix="[헤럴드경제={name} 기자] ",
               footer=("{email}@heraldcorp.com",), caption="[연합]"),
        Outlet("kbs", "ko", header=("[앵커]",), second="[리포트]",
               footer=("KBS 뉴스 {name}입니다.", "촬영기자:이재훈/영상편집:박주연",
                       "※ 저작권자 ⓒ KBS. 무단 전재, 재배포 및 이용(AI 학습 포함) 금지")),
        Outlet("sbs", "ko", header=("<앵커>",), second="<기자>",
               footer=("(영상취재 : 김태훈, 영상편집 : 이소영)",
                       "※ ⓒ SBS & SBS Digital News Lab : 무단복제 및 재배포 금지")),
        Outlet("ytn", "ko", header=("[앵커]",), second="[기자]",
               footer=("YTN {name}입니다.",
                       "※ '당신의 제보가 뉴스가 됩니다' [카카오톡] YTN 검색해 채널 추가 "
                       "[전화] 02-398-8585 [메일] social@ytn.co.kr",
                       "[저작권자(c) YTN 무단전재, 재배포 및 AI 데이터 활용 금지]")),
        Outlet("mbn", "ko", header=("【 앵커멘트 】",), second="【 기자 】",
               footer=("MBN뉴스 {name}입니다. [{email}@mbn.co.kr]",
                       "< Copyright ⓒ MBN All rights reserved. 무단 전재, 재배포 및 "
                       "AI학습 이용 금지. >")),
        # English wires and papers
        Outlet("reuters", "en", prefix="{CITY}, {date} (Reuters) - ",
               footer=("Reporting by {name}; Additional reporting by {name2}; Editing by "
                       "{name3}", "Our Standards: The Thomson Reuters Trust Principles.")),
        Outlet("ap", "en", prefix="{CITY} (AP) — ",
               footer=("Associated Press writer {name2} contributed to this report.",
                       "Copyright 2026 The Associated Press. All rights reserved. This "
                       "material may not be published, broadcast, rewritten or redistributed "
                       "without permission.")),
        Outlet("afp", "en", prefix="{city} (AFP) - ", footer=("{initials}/{initials2}",
                                                              "© 2026 AFP")),
        Outlet("upi", "en", prefix="{date_ap} (UPI) -- ",
               footer=("Copyright 2026 United Press International, Inc. (UPI). Any "
                       "reproduction, republication, redistribution and/or modification of "
                       "any UPI content is expressly prohibited without UPI's prior written "
                       "consent.",)),
        Outlet("yonhap_en", "en", prefix="{CITY}, {date_ap} (Yonhap) -- ",
               footer=("{email}@yna.co.kr", "(END)")),
        Outlet("koreaherald", "en", header=("By {name}",), footer=("{email}@heraldcorp.com",)),
        Outlet("koreatimes", "en", header=("By {name}",)),
        Outlet("bloomberg", "en", prefix="(Bloomberg) -- ",
               footer=("--With assistance from {name2}.",
                       "To contact the reporter on this story: {name} in {city} at "
                       "{email}@bloomberg.net", "©2026 Bloomberg L.P.")),
        Outlet("bbc", "en", header=("{name}", "Business reporter, BBC News"), british=True),
        Outlet("guardian", "en", header=("{name}",), british=True,
               footer=("Sign up to Business Today, our free daily newsletter",)),
        Outlet("independent", "en", header=("{name}",), british=True,
               footer=("Sign up for our free Breaking News email alerts.",)),
        Outlet("skynews", "en", british=True,
               footer=("Follow Sky News on WhatsApp",)),
        Outlet("cnn", "en", prefix="(CNN) — ",
               footer=("CNN's {name2} contributed to this report.",)),
        Outlet("cnbc", "en", footer=("— CNBC's {name2} contributed to this report.",)),
        Outlet("npr", "en", header=("{name}",)),
        Outlet("dw", "en", footer=("Edited by: {name2}",)),
        Outlet("aljazeera", "en", footer=("Source: Al Jazeera and news agencies",)),
        Outlet("japantimes", "en", header=("By {name}", "Staff writer")),
        Outlet("dispatch", "en", header=("By {name}", "The Dispatch"),
               footer=("Contact {name} at 555-0134 or {email}@dispatch.com.",)),
        Outlet("localnews", "en", header=("By {name}",),
               footer=("Read more local weather at localnews.example.com/weather",)),
    ]
}  # fmt: skip

_DATELINE_MARK = re.compile(r"\((AP|AFP|UPI|Reuters|Yonhap|CNN)\)|\(Bloomberg\)")


def dress(
    outlet_name: str, key: str, title: str, units: list[str], when: datetime, city: str
) -> tuple[str, str]:
    """The title and plain-text body as the outlet would publish them."""
    outlet = OUTLETS[outlet_name]
    reporters = KO_REPORTERS if outlet.lang == "ko" else EN_REPORTERS
    name, email = reporters[int(_pick(key + "r1", [str(i) for i in range(len(reporters))]))]
    name2 = _pick(key + "r2", [n for n, _ in EN_REPORTERS if n != name])
    name3 = _pick(key + "r3", [n for n, _ in EN_REPORTERS if n not in (name, name2)])
    fields = {
        "city": city.title() if outlet.lang == "en" and city.isupper() else city,
        "CITY": city.upper() if outlet.lang == "en" else city,
        "date": f"{MONTHS[when.month - 1]} {when.day}",
        "date_ap": f"{MONTHS_AP[when.month - 1]} {when.day}",
        "name": name,
        "name2": name2,
        "name3": name3,
        "email": email,
        "initials": "".join(p[0] for p in name.split()).lower(),
        "initials2": "".join(p[0] for p in name2.split()).lower(),
    }
    paragraphs = list(units)
    if outlet.british:
        paragraphs = [britishize(p) for p in paragraphs]
        title = britishize(title)
    if outlet.prefix and not _DATELINE_MARK.search(paragraphs[0][:60]):
        paragraphs[0] = outlet.prefix.format(**fields) + paragraphs[0]
    if outlet.second and len(paragraphs) > 1:
        paragraphs.insert(1, outlet.second)
    if outlet.caption and _pick(key + "caption", ["yes", "no", "no"]) == "yes":
        paragraphs.insert(1, outlet.caption.format(**fields))
    lines = [h.format(**fields) for h in outlet.header] + paragraphs
    lines += [f.format(**fields) for f in outlet.footer]
    return title, "\n\n".join(lines)


_BRITISH = [
    (r"\bU\.S\.", "US"),
    (r"\bcenter", "centre"),
    (r"\bprogram\b", "programme"),
    (r"\borganization", "organisation"),
    (r"\bdefense\b", "defence"),
    (r"\bsignaled\b", "signalled"),
    (r"\btraveling\b", "travelling"),
    (r"\bfavor\b", "favour"),
    (r"\blabor\b", "labour"),
    (r"\bartifacts\b", "artefacts"),
    (r"\bpercent\b", "per cent"),
]


def britishize(text: str) -> str:
    for pattern, repl in _BRITISH:
        text = re.sub(pattern, repl, text)
    return text


# Korean outlets that rework wire copy change sentence endings and a few words.
_KO_ENDINGS = [
    ("고 밝혔다.", "고 전했다."),
    ("고 말했다.", "고 설명했다."),
    ("것으로 나타났다.", "것으로 집계됐다."),
    ("예정이다.", "계획이다."),
    ("늘었다.", "증가했다."),
    ("줄었다.", "감소했다."),
    ("올랐다.", "상승했다."),
    ("떨어졌다.", "하락했다."),
    ("마쳤다.", "마감했다."),
    ("발표했다.", "공개했다."),
    ("기록했다.", "나타냈다."),
    ("지난해", "작년"),
    ("께 ", "쯤 "),
]
_EN_EDITS = [(r"\bU\.S\.", "US"), (r"\bsaid on (\w+day)\b", r"said \1")]


def rework(text: str, lang: str, british: bool, index: int) -> str:
    """Light edits of a paragraph kept from the base telling (every other one)."""
    if index % 2 == 0:
        return text
    if lang == "ko":
        for old, new in _KO_ENDINGS:
            if old in text:
                return text.replace(old, new, 1)
        return text
    if british:
        return britishize(text)
    for pattern, repl in _EN_EDITS:
        text = re.sub(pattern, repl, text)
    return text


# -- reading the hand-written stories ---------------------------------------------------


@dataclass
class Telling:
    source: str
    minutes: int
    title: str
    units: list[str]
    #: the outlet whose telling this one reworks (its own source when written afresh)
    copy: str = ""


@dataclass
class Story:
    cluster: str
    lang: str
    start: datetime
    city: str
    #: the retold story this one is a hard negative for ("~ko-11" in the header)
    related: str = ""
    tellings: list[Telling] = field(default_factory=list)


_OP = re.compile(r"^(\d+): (.*)$|^\+(\d*) (.*)$")


def read_stories(path: Path) -> Iterator[Story]:
    story: Story | None = None
    header: list[str] | None = None
    lines: list[str] = []

    def finish() -> None:
        if story is not None and header is not None:
            story.tellings.append(telling(story, header, lines))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("## "):
            finish()
            header = None
            if story is not None:
                yield story
            related = ""
            if " ~" in line:
                line, related = line.rsplit(" ~", 1)
            parts = line[3:].split(maxsplit=2)
            lang = parts[0].split("-")[0]
            tz = KST if lang == "ko" else UTC
            start = datetime.fromisoformat(parts[1]).replace(tzinfo=tz)
            city = parts[2] if len(parts) > 2 else ("서울" if lang == "ko" else "SEOUL")
            story = Story(parts[0], lang, start, city, related)
        elif line.startswith("# ") and story is not None:
            finish()
            header, lines = line[2:].split(), []
        elif line.startswith("#") or not line:
            continue
        elif header is not None:
            lines.append(line)
    finish()
    if story is not None:
        yield story


def telling(story: Story, header: list[str], lines: list[str]) -> Telling:
    source, minutes = header[0], int(header[1].lstrip("+"))
    if len(header) == 2:
        return Telling(source, minutes, lines[0], lines[1:], source)
    base = next(t for t in story.tellings if t.source == header[2])
    options = dict(h.split("=") if "=" in h else (h, "") for h in header[3:])
    keep = [int(k) for k in options["keep"].split(",")] if "keep" in options else None
    if lines and not _OP.match(lines[0]):
        title, ops = ("" if lines[0] == "=" else lines[0]), lines[1:]
    else:
        title, ops = "", lines
    title = title or base.title
    replaced: dict[int, str] = {}
    inserted: dict[int, list[str]] = {}
    for op in ops:
        m = _OP.match(op)
        if m is None:
            raise ValueError(f"{story.cluster} {source}: not an edit: {op!r}")
        if m.group(1):
            replaced[int(m.group(1))] = m.group(2)
        else:
            inserted.setdefault(int(m.group(3) or 0), []).append(m.group(4))
    order = keep or list(range(1, len(base.units) + 1))
    british = OUTLETS[source].british
    units: list[str] = []
    for position, n in enumerate(order):
        if n in replaced:
            units.append(replaced[n])
        elif "endings" in options:
            units.append(rework(base.units[n - 1], story.lang, british, position))
        else:
            units.append(base.units[n - 1])
        units.extend(inserted.pop(n, []))
    units.extend(inserted.pop(0, []))
    for rest in inserted.values():
        units.extend(rest)
    return Telling(source, minutes, title, units, base.copy)


# -- template stories (hard negatives) ----------------------------------------------------


def josa(word: str, pair: str) -> str:
    """Korean particle after ``word``: pair is "이가", "은는", "을를", "과와"."""
    last = word[-1]
    has_final = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
    if last.isdigit():
        has_final = last in "013678"
    return word + (pair[0] if has_final else pair[1])


def ro(word: str) -> str:
    """``word`` + 로/으로 (로 after a vowel or ㄹ)."""
    last = word[-1]
    if last.isdigit():
        return word + ("로" if last in "1782459" else "으로")
    final = (ord(last) - 0xAC00) % 28 if "가" <= last <= "힣" else 0
    return word + ("로" if final in (0, 8) else "으로")


def ordinal(n: object) -> str:
    k = int(str(n))
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def possessive(name: object) -> str:
    text = str(name)
    return text + ("'" if text.endswith("s") else "'s")


def updown(up: bool, a: str, b: str) -> str:
    return a if up else b


@dataclass
class Template:
    """A family of stories cut from one template; ``frames`` maps outlets to writers."""

    family: str
    lang: str
    instances: list[tuple[datetime, str, dict[str, object], list[str]]]
    frames: dict[str, Callable[[dict[str, object]], tuple[str, list[str]]]]


def derive(
    base: tuple[str, list[str]], title: str, keep: list[int], first: str, lang: str
) -> tuple[str, list[str]]:
    """A second outlet's telling of a templated story: its own title and lead, the wire's
    other paragraphs kept in its order, with endings reworked."""
    _, units = base
    out = [first]
    for position, n in enumerate(keep):
        out.append(rework(units[n - 1], lang, False, position + 1))
    return title, out


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def kospi(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    ch, pct, close = f["chg"], f["pct"], f["close"]
    s1, s2, s3 = f["stocks"]  # type: ignore[misc]
    p1, p2, p3 = f["spct"]  # type: ignore[misc]
    who = "외국인과 기관의 동반 매수에 힘입어" if up else "외국인과 기관의 동반 매도에 밀려"
    return (
        f"코스피, {'외국인 매수에' if up else '외국인 매도에'} {pct}% "
        f"{updown(up, '상승', '하락')}…{close} 마감",
        [
            f"{f['day']}일 코스피가 {who} {updown(up, '상승', '하락')} 마감했다.",
            f"이날 유가증권시장에서 코스피는 전 거래일보다 {ch}포인트({pct}%) "
            f"{updown(up, '오른', '내린')} {close}에 장을 마쳤다.",
            f"지수는 {f['ochg']}포인트({f['opct']}%) {updown(up, '높은', '낮은')} {f['open']}에서 "
            f"출발한 뒤 장중 {updown(up, '상승 폭을 키웠다', '낙폭을 키웠다')}.",
            f"유가증권시장에서 외국인은 {f['fgn']}억원, 기관은 {f['inst']}억원어치를 각각 "
            f"순{updown(up, '매수', '매도')}했고, 개인은 {f['indiv']}억원을 "
            f"순{updown(up, '매도', '매수')}했다.",
            f"시가총액 상위 종목 중에서는 {s1}({p1}%), {josa(f'{s2}({p2}%)', '이가')} 올랐고, "
            f"{s3}({p3}%)는 내렸다.",
            f"코스닥지수는 전 거래일보다 {f['kchg']}포인트({f['kpct']}%) "
            f"{updown(bool(f['kup']), '오른', '내린')} {ro(str(f['kq']))} 거래를 마쳤다.",
            f"서울 외환시장에서 원/달러 환율은 전 거래일보다 {f['fxchg']}원 "
            f"{updown(not up, '오른', '내린')} {f['fx']}원에 마감했다.",
            f'{f["broker"]} 연구원은 "{f["comment"]}"고 말했다.',
        ],
    )


def kospi_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        kospi(f),
        f"코스피 {f['close']} {updown(up, '상승', '하락')} 마감…외국인 {f['fgn']}억 "
        f"순{updown(up, '매수', '매도')}",
        [2, 4, 5, 6, 7],
        f"코스피가 {f['pct']}% {updown(up, '상승', '하락')}하며 {ro(str(f['close']))} "
        "거래를 마쳤다.",
        "ko",
    )


KOSPI_COMMENTS = [
    "미국 국채 금리가 안정되면서 외국인 자금이 반도체 대형주로 돌아왔다",
    "중국 경기 부양책 기대감이 철강과 화학 업종 주가를 끌어올렸다",
    "환율 상승에 대한 경계감이 커지면서 외국인 매도세가 강해졌다",
    "미국 고용지표 발표를 앞두고 관망 심리가 짙어졌다",
]
KO_STOCKS = ["한빛전자", "코어반도체", "미래모빌리티", "누리바이오", "세진금융지주",
             "대성화학", "청운중공업", "태양에너지솔루션"]  # fmt: skip
KO_BROKERS = ["한빛투자증권 김도윤", "세진증권 박하린", "누리증권 이재원", "청운증권 최현석"]


def kospi_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    up = rng.random() < 0.5
    close = rng.uniform(2480, 2720)
    chg = rng.uniform(4, 42)
    ochg = rng.uniform(1, 15)
    kq = rng.uniform(700, 790)
    kchg = rng.uniform(1, 14)
    fgn, inst = rng.randint(900, 8900), rng.randint(300, 4900)
    return {
        "day": day,
        "up": up,
        "close": fmt(close),
        "chg": fmt(chg),
        "pct": fmt(chg / close * 100),
        "open": fmt(close - chg + (ochg if up else -ochg)),
        "ochg": fmt(ochg),
        "opct": fmt(ochg / close * 100),
        "fgn": f"{fgn:,}",
        "inst": f"{inst:,}",
        "indiv": f"{fgn + inst + rng.randint(-400, 400):,}",
        "stocks": rng.sample(KO_STOCKS, 3),
        "spct": [fmt(rng.uniform(0.3, 6)), fmt(rng.uniform(0.3, 6)), fmt(-rng.uniform(0.3, 4))],
        "kup": rng.random() < 0.6 if up else rng.random() < 0.3,
        "kq": fmt(kq),
        "kchg": fmt(kchg),
        "kpct": fmt(kchg / kq * 100),
        "fx": fmt(rng.uniform(1385, 1468), 1),
        "fxchg": fmt(rng.uniform(0.4, 9.8), 1),
        "broker": KO_BROKERS[i % len(KO_BROKERS)],
        "comment": KOSPI_COMMENTS[i % len(KOSPI_COMMENTS)],
    }


KO_REGIONS = [
    # region, forecaster, sea
    ("서울", "수도권기상청", "서해 중부 앞바다"),
    ("부산", "부산지방기상청", "남해 동부 앞바다"),
    ("대구", "대구지방기상청", "동해 남부 앞바다"),
    ("광주", "광주지방기상청", "서해 남부 앞바다"),
]
KO_SKIES = ["맑겠다", "구름이 많겠다", "흐리고 오후 한때 비가 오겠다", "가끔 구름이 많겠다"]
KO_DUST = ["좋음", "보통", "나쁨"]


def weather_ko(f: dict[str, object]) -> tuple[str, list[str]]:
    region = str(f["region"])
    rain = (
        f"오후부터 밤사이 {f['region']}에는 5∼{f['mm']}㎜의 비가 내리겠다."
        if f["mm"]
        else "당분간 비 소식은 없겠다."
    )
    return (
        f"[{region} 날씨] 아침 최저 {f['lo']}도…낮에는 {f['hi']}도까지 올라",
        [
            f"{f['day']}일 {josa(region, '은는')} 대체로 {f['sky']}.",
            f"{f['office']}에 따르면 이날 아침 최저기온은 {f['lo']}도, 낮 최고기온은 "
            f"{f['hi']}도로 예상된다.",
            f"낮과 밤의 기온 차가 {f['diff']}도 안팎으로 크겠으니 건강 관리에 유의해야 한다.",
            rain,
            f"미세먼지 농도는 '{f['dust']}' 수준을 보이겠다.",
            f"바다의 물결은 {f['sea']}에서 0.5∼{f['wave']}m로 일겠다.",
            f'{josa(str(f["office"]), "은는")} "아침 출근길 쌀쌀한 날씨에 대비해 옷차림에 '
            '신경 써 달라"고 당부했다.',
        ],
    )


def weather_ko_b(f: dict[str, object]) -> tuple[str, list[str]]:
    return derive(
        weather_ko(f),
        f"{f['region']} 오늘 낮 최고 {f['hi']}도…일교차 {f['diff']}도 안팎",
        [2, 3, 4, 5, 6],
        f"{f['day']}일 {f['region']} 지역은 {f['sky']}.",
        "ko",
    )


def weather_ko_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    region, office, sea = KO_REGIONS[i % len(KO_REGIONS)]
    lo = rng.randint(-3, 7)
    hi = lo + rng.randint(8, 14)
    return {
        "day": day,
        "region": region,
        "office": office,
        "sea": sea,
        "lo": lo,
        "hi": hi,
        "diff": hi - lo,
        "sky": KO_SKIES[i % len(KO_SKIES)],
        "mm": rng.choice([0, 0, 10, 20, 30]),
        "dust": rng.choice(KO_DUST),
        "wave": fmt(rng.uniform(1.0, 2.5), 1),
    }


FX_REASONS_KO = [
    "미국 국채 금리 상승과 달러 강세가 환율을 끌어올렸다.",
    "외국인의 국내 주식 순매수가 이어지면서 환율이 내렸다.",
    "수출업체의 달러 매도 물량이 나오면서 상승 폭이 제한됐다.",
]


def fx_ko(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return (
        f"원/달러 환율 {f['chg']}원 {updown(up, '오른', '내린')} {f['fx']}원 마감",
        [
            f"{f['day']}일 서울 외환시장에서 원/달러 환율은 전 거래일보다 {f['chg']}원 "
            f"{updown(up, '오른', '내린')} {f['fx']}원에 주간 거래를 마쳤다.",
            f"환율은 {f['ochg']}원 {updown(up, '오른', '내린')} {f['open']}원으로 출발해 장중 "
            f"한때 {f['peak']}원까지 {updown(up, '올랐다', '내렸다')}.",
            FX_REASONS_KO[int(str(f["i"])) % 3],
            f"원/엔 재정환율은 100엔당 {f['jpy']}원으로 전날 같은 시각 기준가보다 "
            f"{f['jchg']}원 {updown(up, '올랐다', '내렸다')}.",
            f'{f["broker"]} 연구원은 "당분간 {f["low"]}∼{f["high"]}원 범위에서 등락할 '
            '것"이라고 내다봤다.',
        ],
    )


def fx_ko_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        fx_ko(f),
        f"환율 {f['fx']}원…{f['chg']}원 {updown(up, '상승', '하락')}",
        [2, 3, 4, 5],
        f"원/달러 환율이 {f['day']}일 {f['chg']}원 {updown(up, '상승', '하락')}해 {f['fx']}원으로 "
        "마감했다.",
        "ko",
    )


def fx_ko_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    up = rng.random() < 0.5
    fx = rng.uniform(1390, 1465)
    chg = rng.uniform(0.8, 9.5)
    low = int(fx // 10 * 10 - 20)
    return {
        "day": day,
        "i": i,
        "up": up,
        "fx": fmt(fx, 1),
        "chg": fmt(chg, 1),
        "ochg": fmt(rng.uniform(0.3, 4), 1),
        "open": fmt(fx - chg / 2, 1),
        "peak": fmt(fx + (2.5 if up else -2.5), 1),
        "jpy": fmt(rng.uniform(920, 975), 2),
        "jchg": fmt(rng.uniform(0.5, 6), 2),
        "broker": KO_BROKERS[(i + 1) % len(KO_BROKERS)],
        "low": f"{low:,}",
        "high": f"{low + 40:,}",
    }


def covid_ko(f: dict[str, object]) -> tuple[str, list[str]]:
    city = str(f["city"])
    dead = f"사망자는 {f['dead']}명 추가됐다." if f["dead"] else "추가 사망자는 발생하지 않았다."
    return (
        f"{city} 코로나19 신규 확진자 {f['n']}명…누적 {f['cum']}명",
        [
            f"{josa(city, '은는')} {f['day']}일 0시 기준 코로나19 신규 확진자가 {f['n']}명 "
            "발생했다고 밝혔다.",
            f"이로써 {city}의 누적 확진자는 {f['cum']}명으로 늘었다.",
            f"신규 확진자 가운데 {f['old']}명은 60세 이상 고령층이다.",
            f"현재 위중증 환자는 {f['sev']}명이며, {dead}",
            f'{city} 관계자는 "실내 환기와 손 씻기 등 기본 방역수칙을 지켜 달라"고 당부했다.',
        ],
    )


def covid_ko_b(f: dict[str, object]) -> tuple[str, list[str]]:
    return derive(
        covid_ko(f),
        f"{f['city']}서 {f['day']}일 {f['n']}명 신규 확진",
        [2, 3, 4, 5],
        f"{f['day']}일 {f['city']}에서 코로나19 확진자 {f['n']}명이 새로 나왔다.",
        "ko",
    )


def covid_ko_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    city = ["수원시", "청주시"][i % 2]
    n = rng.randint(40, 260)
    return {
        "day": day,
        "city": city,
        "n": n,
        "cum": f"{rng.randint(480000, 520000):,}",
        "old": rng.randint(5, n // 3),
        "sev": rng.randint(0, 6),
        "dead": rng.choice([0, 0, 1, 2]),
    }


KO_COMPANIES = [
    ("한빛전자", "메모리 반도체 가격이 오르고 고부가 제품 판매가 늘어난 영향"),
    ("대성화학", "원재료 가격 하락과 배터리 소재 판매 증가 덕분"),
    ("미래모빌리티", "전기차 판매 확대와 환율 효과가 반영된 결과"),
]


def earnings_ko(f: dict[str, object]) -> tuple[str, list[str]]:
    co = str(f["co"])
    up = bool(f["up"])
    return (
        f"{co}, 1분기 영업이익 {f['op']}억원…전년比 {f['opy']}% {updown(up, '증가', '감소')}",
        [
            f"{josa(co, '은는')} 올해 1분기 연결 기준 영업이익이 {f['op']}억원으로 지난해 같은 "
            f"기간보다 {f['opy']}% {updown(up, '증가', '감소')}한 것으로 잠정 집계됐다고 "
            f"{f['day']}일 공시했다.",
            f"같은 기간 매출은 {f['rev']}억원으로 {f['revy']}% {updown(up, '늘었다', '줄었다')}.",
            f"순이익은 {f['ni']}억원을 기록했다.",
            f"영업이익은 증권가 전망치 평균({f['cons']}억원)을 "
            f"{updown(bool(f['beat']), '웃돌았다', '밑돌았다')}.",
            f'회사 측은 "{f["reason"]}"이라고 설명했다.',
            f"{co} 주가는 이날 유가증권시장에서 {f['sp']}% {updown(up, '오른', '내린')} "
            f"{f['price']}원에 마감했다.",
        ],
    )


def earnings_ko_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        earnings_ko(f),
        f"{f['co']} 1분기 영업익 {f['op']}억…{f['opy']}% {updown(up, '늘어', '줄어')}",
        [2, 3, 4, 6],
        f"{josa(str(f['co']), '이가')} 1분기 영업이익 {f['op']}억원을 거뒀다.",
        "ko",
    )


def earnings_ko_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    co, reason = KO_COMPANIES[i % len(KO_COMPANIES)]
    op = rng.randint(800, 98000)
    return {
        "day": day,
        "co": co,
        "reason": reason,
        "up": rng.random() < 0.6,
        "op": f"{op:,}",
        "opy": fmt(rng.uniform(2, 60), 1),
        "rev": f"{op * rng.randint(6, 14):,}",
        "revy": fmt(rng.uniform(1, 20), 1),
        "ni": f"{int(op * rng.uniform(0.5, 0.9)):,}",
        "cons": f"{int(op * rng.uniform(0.8, 1.2)):,}",
        "beat": rng.random() < 0.5,
        "sp": fmt(rng.uniform(0.5, 7), 2),
        "price": f"{rng.randint(120, 980) * 100:,}",
    }


KBO_GAMES = [
    # winner, loser, stadium, score, hero, starter, loser's homer
    ("한빛 이글스", "청운 타이거즈", "대전구장", (5, 3), "최준혁", "박도현", "김태민"),
    ("누리 베어스", "세진 라이온즈", "잠실구장", (5, 3), "이승우", "정민재", "오지훈"),
    ("미래 랜더스", "대성 다이노스", "문학구장", (2, 1), "한도윤", "윤성호", "장현수"),
]


def kbo(f: dict[str, object]) -> tuple[str, list[str]]:
    w, loser, stadium = str(f["w"]), str(f["l"]), f["stadium"]
    ws, ls = f["score"]  # type: ignore[misc]
    return (
        f"{w}, {loser} 꺾고 {f['streak']}연승…{f['hero']} 결승타",
        [
            f"{josa(w, '이가')} {f['day']}일 {stadium}에서 열린 2026 프로야구 정규시즌 "
            f"{josa(loser, '과와')}의 홈경기에서 {ro(str(ws) + '-' + str(ls))} 이겼다.",
            f"{josa(w, '은는')} 이날 승리로 {f['streak']}연승을 달리며 시즌 {f['wins']}승 "
            f"{f['losses']}패를 기록했다.",
            f"{josa(str(f['hero']), '은는')} {f['inn']}회말 {f['rbi']}타점 적시타를 때려 "
            "결승타의 주인공이 됐다.",
            f"선발 투수 {josa(str(f['sp']), '은는')} {f['ip']}이닝 {f['h']}피안타 {f['k']}탈삼진 "
            f"{f['er']}실점으로 호투해 시즌 {f['spw']}승째를 따냈다.",
            f"{josa(loser, '은는')} {josa(str(f['lhr']), '이가')} 솔로 홈런을 때렸지만 패배를 "
            "막지 못했다.",
        ],
    )


def kbo_b(f: dict[str, object]) -> tuple[str, list[str]]:
    ws, ls = f["score"]  # type: ignore[misc]
    return derive(
        kbo(f),
        f"'{f['hero']} 결승타' {f['w']}, {f['l']}에 {ws}-{ls} 승리",
        [2, 3, 4, 5],
        f"{josa(str(f['w']), '이가')} {josa(str(f['l']), '을를')} "
        f"{ro(str(ws) + '-' + str(ls))} 제압했다.",
        "ko",
    )


def kbo_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    w, loser, stadium, score, hero, sp, lhr = KBO_GAMES[i % len(KBO_GAMES)]
    wins = rng.randint(5, 12)
    return {
        "day": day,
        "w": w,
        "l": loser,
        "stadium": stadium,
        "score": score,
        "hero": hero,
        "sp": sp,
        "lhr": lhr,
        "streak": rng.randint(2, 6),
        "wins": wins,
        "losses": rng.randint(3, 10),
        "inn": rng.randint(5, 8),
        "rbi": rng.randint(1, 2),
        "ip": rng.randint(5, 7),
        "h": rng.randint(3, 8),
        "k": rng.randint(3, 9),
        "er": rng.randint(0, 2),
        "spw": rng.randint(1, 4),
    }


OIL_REASONS_KO = [
    "중동 지역의 지정학적 긴장이 커지면서 공급 차질 우려가 부각됐다.",
    "미국 원유 재고가 예상보다 크게 늘었다는 소식에 매도세가 나왔다.",
    "석유수출국기구(OPEC)와 주요 산유국들의 감산 연장 기대가 유가를 지지했다.",
]


def oil_ko(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return (
        f"국제유가 {f['pct']}% {updown(up, '상승', '하락')}…WTI {f['wti']}달러",
        [
            f"{f['day']}일(현지시간) 뉴욕상업거래소에서 5월 인도분 서부텍사스산원유(WTI)는 "
            f"전 거래일보다 배럴당 {f['chg']}달러({f['pct']}%) {updown(up, '오른', '내린')} "
            f"{f['wti']}달러에 거래를 마쳤다.",
            f"런던ICE선물거래소의 6월물 브렌트유는 {f['bchg']}달러({f['bpct']}%) "
            f"{updown(up, '오른', '내린')} {f['brent']}달러로 마감했다.",
            OIL_REASONS_KO[int(str(f["i"])) % 3],
            f"미국 에너지정보청(EIA)은 지난주 원유 재고가 {f['inv']}만배럴 "
            f"{updown(not up, '증가했다', '감소했다')}고 밝혔다.",
        ],
    )


def oil_ko_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        oil_ko(f),
        f"WTI {f['wti']}달러…국제유가 {updown(up, '오름세', '내림세')}",
        [2, 3, 4],
        f"국제유가가 {f['day']}일 {f['pct']}% {updown(up, '올랐다', '내렸다')}.",
        "ko",
    )


def oil_ko_facts(rng: random.Random, day: int, i: int) -> dict[str, object]:
    up = rng.random() < 0.5
    wti = rng.uniform(62, 78)
    chg = rng.uniform(0.3, 2.6)
    brent = wti + rng.uniform(3, 5)
    bchg = chg + rng.uniform(-0.2, 0.2)
    return {
        "day": day,
        "i": i,
        "up": up,
        "wti": fmt(wti),
        "chg": fmt(chg),
        "pct": fmt(chg / wti * 100),
        "brent": fmt(brent),
        "bchg": fmt(bchg),
        "bpct": fmt(bchg / brent * 100),
        "inv": fmt(rng.uniform(50, 600), 0),
    }


# English templates


EN_STOCKS = [
    ("Corvell Systems", "a strong forecast for its cloud business"),
    ("Maplestone Foods", "an analyst upgrade"),
    ("Ardent Motors", "weaker-than-expected deliveries"),
    ("Quillon Pharma", "a drug trial setback"),
]
WALLST_DRIVERS = [
    "as investors welcomed signs that inflation is cooling",
    "as worries about slowing growth weighed on technology companies",
    "after a report showed the job market remains strong",
    "as Treasury yields climbed to their highest level in a month",
]


def wallst(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    stock, why = f["stock"]  # type: ignore[misc]
    return (
        f"Stocks {updown(up, 'rise', 'fall')} on Wall Street; S&P 500 ends "
        f"{updown(up, 'up', 'down')} {f['pct']}%",
        [
            f"Stocks {updown(up, 'rose', 'fell')} on Wall Street on {f['weekday']}, {f['driver']}.",
            f"The S&P 500 {updown(up, 'rose', 'fell')} {f['pct']}% to {f['sp']}. The Dow Jones "
            f"Industrial Average {updown(up, 'gained', 'lost')} {f['dpts']} points, or "
            f"{f['dpct']}%, to {f['dow']}, and the Nasdaq composite "
            f"{updown(up, 'climbed', 'slid')} {f['npct']}% to {f['nas']}.",
            f"The yield on the 10-year Treasury moved to {f['y10']}% from {f['y10p']}% late "
            f"{f['prev']}.",
            f"{stock} {updown(bool(f['sup']), 'jumped', 'slumped')} {f['spct']}% after {why}.",
            f"Benchmark U.S. crude oil {updown(bool(f['oup']), 'rose', 'fell')} {f['opct']}% "
            f"to ${f['oil']} a barrel.",
        ],
    )


def wallst_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        wallst(f),
        f"Wall St ends {updown(up, 'higher', 'lower')}; Dow {updown(up, 'gains', 'loses')} "
        f"{f['dpts']} points",
        [2, 3, 4, 5],
        f"U.S. stocks closed {updown(up, 'higher', 'lower')} on {f['weekday']}, {f['driver']}.",
        "en",
    )


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def wallst_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    up = rng.random() < 0.5
    y10 = rng.uniform(3.9, 4.5)
    return {
        "up": up,
        "weekday": WEEKDAYS[when.weekday()],
        "prev": WEEKDAYS[(when.weekday() - 1) % 7],
        "driver": WALLST_DRIVERS[i % len(WALLST_DRIVERS)],
        "pct": fmt(rng.uniform(0.1, 1.8)),
        "sp": fmt(rng.uniform(5600, 6100)),
        "dpts": fmt(rng.uniform(40, 650)),
        "dpct": fmt(rng.uniform(0.1, 1.6)),
        "dow": fmt(rng.uniform(41000, 44500)),
        "npct": fmt(rng.uniform(0.1, 2.4)),
        "nas": fmt(rng.uniform(17800, 19900)),
        "y10": fmt(y10),
        "y10p": fmt(y10 + rng.uniform(-0.08, 0.08)),
        "stock": EN_STOCKS[i % len(EN_STOCKS)],
        "sup": i % 4 < 2,
        "spct": fmt(rng.uniform(2, 14), 1),
        "oup": rng.random() < 0.5,
        "opct": fmt(rng.uniform(0.2, 2.5), 1),
        "oil": fmt(rng.uniform(62, 78)),
    }


EN_CITIES = [
    ("Chicago", "brisk west", "mostly cloudy skies"),
    ("Boston", "gusty northwest", "sunshine mixed with clouds"),
    ("Denver", "light south", "mostly sunny skies"),
    ("Atlanta", "light east", "patchy morning fog, then clouds"),
]


def weather_en(f: dict[str, object]) -> tuple[str, list[str]]:
    city = f["city"]
    rain = (
        f"There is a {f['pop']}% chance of showers after {f['time']} p.m."
        if f["pop"]
        else "No rain is expected."
    )
    return (
        f"{city} weather: {f['sky_short']}, high near {f['hi']} on {f['weekday']}",
        [
            f"{city} can expect {f['sky']} on {f['weekday']}, with a high near {f['hi']} "
            "degrees, according to the National Weather Service.",
            f"Overnight, temperatures will drop to around {f['lo']}, with {f['wind']} winds of "
            f"{f['w1']} to {f['w2']} mph.",
            rain,
            f"The weekend looks {f['outlook']}, with highs in the {f['wk']}s.",
            f"Air quality is expected to be {f['aq']}.",
        ],
    )


def weather_en_b(f: dict[str, object]) -> tuple[str, list[str]]:
    return derive(
        weather_en(f),
        f"Forecast: {f['city']} tops out near {f['hi']} degrees {f['weekday']}",
        [2, 3, 4],
        f"Expect {f['sky']} in {f['city']} on {f['weekday']}, with temperatures peaking near "
        f"{f['hi']} degrees.",
        "en",
    )


def weather_en_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    city, wind, sky = EN_CITIES[i % len(EN_CITIES)]
    hi = rng.randint(44, 71)
    return {
        "city": city,
        "wind": wind,
        "sky": sky,
        "sky_short": sky.split(",")[0].replace(" skies", ""),
        "weekday": WEEKDAYS[when.weekday()],
        "hi": hi,
        "lo": hi - rng.randint(10, 22),
        "w1": rng.randint(5, 10),
        "w2": rng.randint(12, 25),
        "pop": rng.choice([0, 20, 40, 60]),
        "time": rng.randint(1, 8),
        "outlook": rng.choice(["dry and mild", "cooler", "unsettled"]),
        "wk": rng.choice([40, 50, 60]),
        "aq": rng.choice(["good", "moderate"]),
    }


FX_DRIVERS_EN = [
    "as traders pared bets on further rate cuts by the Federal Reserve",
    "after Japanese officials warned against rapid currency moves",
    "as U.S. Treasury yields slipped ahead of key inflation data",
]


def fx_en(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return (
        f"Dollar {updown(up, 'climbs', 'slips')} to {f['jpy']} yen {f['short']}",
        [
            f"The dollar {updown(up, 'rose', 'fell')} {f['pct']}% to {f['jpy']} yen on "
            f"{f['weekday']}, {f['driver']}.",
            f"The euro {updown(not up, 'rose', 'fell')} {f['epct']}% to ${f['eur']}, while "
            f"sterling was {updown(not up, 'up', 'down')} {f['gpct']}% at ${f['gbp']}.",
            f"The dollar index, which measures the greenback against six major currencies, "
            f"stood at {f['dxy']}.",
            f'"{f["comment"]}" said {f["analyst"]}, currency strategist at {f["bank"]}.',
        ],
    )


def fx_en_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        fx_en(f),
        f"Yen {updown(up, 'weakens', 'firms')} as dollar trades at {f['jpy']}",
        [2, 3, 4],
        f"The U.S. dollar {updown(up, 'gained', 'lost')} {f['pct']}% against the yen on "
        f"{f['weekday']} to trade at {f['jpy']}.",
        "en",
    )


def fx_en_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    return {
        "up": rng.random() < 0.5,
        "weekday": WEEKDAYS[when.weekday()],
        "short": ["on Fed bets", "after BOJ warning", "before CPI data"][i % 3],
        "driver": FX_DRIVERS_EN[i % 3],
        "pct": fmt(rng.uniform(0.1, 0.9)),
        "jpy": fmt(rng.uniform(146, 154)),
        "epct": fmt(rng.uniform(0.05, 0.6)),
        "eur": fmt(rng.uniform(1.05, 1.12), 4),
        "gpct": fmt(rng.uniform(0.05, 0.6)),
        "gbp": fmt(rng.uniform(1.24, 1.31), 4),
        "dxy": fmt(rng.uniform(101, 106)),
        "comment": [
            "The market is reassessing how far the Fed can go this year",
            "Intervention risk is now the main thing keeping a lid on dollar/yen",
            "Nobody wants to take big positions before the inflation numbers",
        ][i % 3],
        "analyst": ["Ann Whitlow", "Rahul Desai", "Marta Kowalski"][i % 3],
        "bank": ["Harbor Bank", "Northgate Securities", "Westline Capital"][i % 3],
    }


EN_COMPANIES = [
    ("Corvell Systems", "demand for its cloud software"),
    ("Maplestone Foods", "higher prices for its snacks and frozen meals"),
    ("Ardent Motors", "strong sales of its hybrid pickup trucks"),
]


def earnings_en(f: dict[str, object]) -> tuple[str, list[str]]:
    co = f["co"]
    beat = bool(f["beat"])
    return (
        f"{co} quarterly profit {updown(beat, 'beats', 'misses')} estimates, shares "
        f"{updown(beat, 'rise', 'fall')}",
        [
            f"{co} on {f['weekday']} reported first-quarter profit that "
            f"{updown(beat, 'beat', 'missed')} Wall Street estimates, sending its shares "
            f"{updown(beat, 'up', 'down')} {f['sp']}% in extended trading.",
            f"Net income was ${f['ni']} million, or ${f['eps']} per share, in the quarter "
            f"ended March 31, compared with ${f['nip']} million, or ${f['epsp']} per share, a "
            "year earlier.",
            f"Revenue rose {f['revpct']}% to ${f['rev']} billion. Analysts had expected "
            f"${f['revexp']} billion, according to LSEG data.",
            f"The company {updown(beat, 'raised', 'kept')} its full-year revenue forecast "
            f"{updown(beat, 'to', 'at')} ${f['fylo']} billion to ${f['fyhi']} billion.",
            f"The chief executive said results were driven by {f['why']}.",
        ],
    )


def earnings_en_b(f: dict[str, object]) -> tuple[str, list[str]]:
    return derive(
        earnings_en(f),
        f"{f['co']} Q1 revenue ${f['rev']} billion, EPS ${f['eps']}",
        [2, 3, 4],
        f"{f['co']} posted first-quarter earnings of ${f['eps']} a share on {f['weekday']}.",
        "en",
    )


def earnings_en_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    co, why = EN_COMPANIES[i % len(EN_COMPANIES)]
    rev = rng.uniform(1.2, 9.5)
    return {
        "co": co,
        "why": why,
        "weekday": WEEKDAYS[when.weekday()],
        "beat": rng.random() < 0.6,
        "sp": fmt(rng.uniform(1, 12), 1),
        "ni": fmt(rng.uniform(80, 900), 1),
        "eps": fmt(rng.uniform(0.3, 3.2)),
        "nip": fmt(rng.uniform(80, 900), 1),
        "epsp": fmt(rng.uniform(0.3, 3.2)),
        "revpct": fmt(rng.uniform(1, 18), 1),
        "rev": fmt(rev),
        "revexp": fmt(rev * rng.uniform(0.97, 1.03)),
        "fylo": fmt(rev * 4, 1),
        "fyhi": fmt(rev * 4.2, 1),
    }


EN_MATCHES = [
    # winner, loser, score, scorer, loser's scorer
    ("Northbridge United", "Riverside City", (2, 1), "Callum Reeve", "Jonas Ek"),
    ("Harbor Athletic", "Kingsford Rovers", (2, 1), "Mateo Silva", "Ryan Doyle"),
    ("Eastvale Town", "Westmoor FC", (3, 0), "Kwame Mensah", ""),
    ("Ashby Albion", "Carlton Wanderers", (1, 0), "Liam Hart", ""),
]


def football(f: dict[str, object]) -> tuple[str, list[str]]:
    w, loser = f["w"], f["l"]
    ws, ls = f["score"]  # type: ignore[misc]
    units = [
        f"{f['scorer']} scored {'twice' if ws > 1 else 'the only goal'} as {w} beat {loser} "
        f"{ws}-{ls} in the league on {f['weekday']}.",
        f"{f['scorer']} opened the scoring in the {ordinal(f['m1'])} minute with a header from a "
        "corner.",
    ]
    if ls:
        units.append(
            f"{possessive(loser)} {f['lscorer']} equalized in the {ordinal(f['m2'])} minute."
        )
    if ws > 1:
        units.append(f"{f['scorer']} restored the lead in the {ordinal(f['m3'])} minute.")
    units += [
        f"The win moved {w} up to {ordinal(f['pos'])} in the table with {f['pts']} points from "
        f"{f['games']} games.",
        f"{loser} have now gone {f['winless']} matches without a win.",
    ]
    return f"{w} beat {loser} {ws}-{ls} as {f['scorer']} stars", units


def football_b(f: dict[str, object]) -> tuple[str, list[str]]:
    ws, ls = f["score"]  # type: ignore[misc]
    base = football(f)
    return derive(
        base,
        f"{f['scorer']} fires {f['w']} past {f['l']}",
        list(range(2, len(base[1]) + 1)),
        f"{f['w']} earned a {ws}-{ls} win over {f['l']} on {f['weekday']}.",
        "en",
    )


def football_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    w, loser, score, scorer, lscorer = EN_MATCHES[i % len(EN_MATCHES)]
    m1 = rng.randint(5, 40)
    return {
        "w": w,
        "l": loser,
        "score": score,
        "scorer": scorer,
        "lscorer": lscorer,
        "weekday": WEEKDAYS[when.weekday()],
        "m1": m1,
        "m2": rng.randint(m1 + 3, 60),
        "m3": rng.randint(62, 89),
        "pos": 3 + 4 * i + rng.randint(0, 3),
        "pts": 52 - 6 * i - rng.randint(0, 4),
        "games": 26,
        "winless": rng.randint(2, 7),
    }


GOLD_DRIVERS = [
    "a weaker dollar made bullion cheaper for holders of other currencies",
    "investors sought safe havens amid tension in the Middle East",
    "strong U.S. economic data lifted Treasury yields",
]


def gold(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return (
        f"Gold {updown(up, 'rises', 'falls')} {f['pct']}% as {f['short']}",
        [
            f"Gold prices {updown(up, 'rose', 'fell')} on {f['weekday']} as {f['driver']}.",
            f"Spot gold was {updown(up, 'up', 'down')} {f['pct']}% at ${f['spot']} per ounce by "
            f"{f['time']} GMT, while U.S. gold futures {updown(up, 'gained', 'lost')} "
            f"{f['fpct']}% to ${f['fut']}.",
            f"Spot silver {updown(bool(f['sup']), 'rose', 'fell')} {f['spct']}% to "
            f"${f['silver']} per ounce, and platinum was at ${f['plat']}.",
            f'"{f["comment"]}" said {f["analyst"]}, a metals analyst at {f["bank"]}.',
        ],
    )


def gold_b(f: dict[str, object]) -> tuple[str, list[str]]:
    up = bool(f["up"])
    return derive(
        gold(f),
        f"Gold prices {updown(up, 'climb', 'slip')} to ${f['spot']}",
        [2, 3, 4],
        f"Gold {updown(up, 'gained', 'lost')} ground on {f['weekday']}.",
        "en",
    )


def gold_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    spot = rng.uniform(2850, 3150)
    return {
        "up": i != 2,
        "weekday": WEEKDAYS[when.weekday()],
        "short": ["dollar weakens", "investors seek safety", "yields rise"][i % 3],
        "driver": GOLD_DRIVERS[i % 3],
        "pct": fmt(rng.uniform(0.1, 1.5)),
        "spot": fmt(spot),
        "time": f"{rng.randint(9, 16)}{rng.choice(['00', '15', '30', '45'])}",
        "fpct": fmt(rng.uniform(0.1, 1.5)),
        "fut": fmt(spot + rng.uniform(5, 25)),
        "sup": rng.random() < 0.5,
        "spct": fmt(rng.uniform(0.1, 2)),
        "silver": fmt(rng.uniform(30, 35)),
        "plat": fmt(rng.uniform(950, 1050)),
        "comment": [
            "The path of least resistance for gold remains higher",
            "Safe-haven demand is doing the heavy lifting today",
            "Higher yields are a clear headwind for non-yielding bullion",
        ][i % 3],
        "analyst": ["Nina Patel", "Oskar Lind", "Helen Wu"][i % 3],
        "bank": ["Harbor Bank", "Northgate Securities", "Westline Capital"][i % 3],
    }


def powerball(f: dict[str, object]) -> tuple[str, list[str]]:
    nums = f["nums"]
    return (
        f"Powerball jackpot climbs to ${f['next']} million after no winner",
        [
            f"No ticket matched all six numbers in {f['weekday']} night's Powerball drawing, "
            f"pushing the jackpot to an estimated ${f['next']} million.",
            f"The winning numbers were {nums[0]}, {nums[1]}, {nums[2]}, {nums[3]} and "  # type: ignore[index]
            f"{nums[4]}, with a Powerball of {f['pb']}.",  # type: ignore[index]
            f"The Power Play was {f['pp']}X.",
            f"{f['k']} tickets matched five white balls to win $1 million, including ones sold "
            f"in {f['states']}.",
            f"The next drawing is {f['nextday']} at 10:59 p.m. ET.",
            "The odds of winning the jackpot are 1 in 292.2 million.",
        ],
    )


def powerball_b(f: dict[str, object]) -> tuple[str, list[str]]:
    return derive(
        powerball(f),
        f"Powerball numbers for {f['weekday']}: jackpot now ${f['next']} million",
        [2, 3, 4, 5, 6],
        f"Nobody won the Powerball jackpot on {f['weekday']}, so the prize grows to "
        f"${f['next']} million.",
        "en",
    )


def powerball_facts(rng: random.Random, when: datetime, i: int) -> dict[str, object]:
    return {
        # drawn the night before publication: Monday, Wednesday or Saturday
        "weekday": WEEKDAYS[(when - timedelta(days=1)).weekday()],
        "nextday": WEEKDAYS[{0: 2, 2: 5, 5: 0}.get((when - timedelta(days=1)).weekday(), 0)],
        "next": 410 + 22 * i,
        "nums": sorted(rng.sample(range(1, 70), 5)),
        "pb": rng.randint(1, 26),
        "pp": rng.choice([2, 3, 4, 5]),
        "k": rng.randint(1, 5),
        "states": " and ".join(rng.sample(["Texas", "Ohio", "Florida", "New York", "Arizona"], 2)),
    }


Facts = Callable[[random.Random, int, int], dict[str, object]]
FactsEn = Callable[[random.Random, datetime, int], dict[str, object]]


def templates() -> list[Template]:
    """The template families: (family, lang, writers by outlet, instances)."""
    out: list[Template] = []

    def ko(
        family: str,
        facts: Facts,
        frames: dict[str, Callable[[dict[str, object]], tuple[str, list[str]]]],
        days: list[tuple[str, str, list[str]]],
    ) -> None:
        instances = []
        for i, (stamp, city, outlets) in enumerate(days):
            when = datetime.fromisoformat(stamp).replace(tzinfo=KST)
            rng = random.Random(f"{family}-{i}")
            instances.append((when, city, facts(rng, when.day, i), outlets))
        out.append(Template(family, "ko", instances, frames))

    def en(
        family: str,
        facts: FactsEn,
        frames: dict[str, Callable[[dict[str, object]], tuple[str, list[str]]]],
        days: list[tuple[str, str, list[str]]],
    ) -> None:
        instances = []
        for i, (stamp, city, outlets) in enumerate(days):
            when = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
            rng = random.Random(f"{family}-{i}")
            instances.append((when, city, facts(rng, when, i), outlets))
        out.append(Template(family, "en", instances, frames))

    ko("kospi", kospi_facts, {"yonhap": kospi, "news1": kospi_b}, [
        ("2026-03-09T15:45", "서울", ["yonhap", "news1"]),
        ("2026-03-10T15:42", "서울", ["yonhap"]),
        ("2026-03-11T15:47", "서울", ["yonhap", "news1"]),
        ("2026-03-12T15:44", "서울", ["yonhap"]),
    ])  # fmt: skip
    ko("weather-ko", weather_ko_facts, {"yonhap": weather_ko, "news1": weather_ko_b}, [
        ("2026-03-10T05:00", "서울", ["yonhap", "news1"]),
        ("2026-03-10T05:01", "부산", ["yonhap"]),
        ("2026-03-10T05:02", "대구", ["yonhap", "news1"]),
        ("2026-03-10T05:03", "광주", ["yonhap"]),
    ])  # fmt: skip
    ko("fx-ko", fx_ko_facts, {"yonhap": fx_ko, "newsis": fx_ko_b}, [
        ("2026-03-16T15:35", "서울", ["yonhap"]),
        ("2026-03-17T15:36", "서울", ["yonhap", "newsis"]),
        ("2026-03-18T15:33", "서울", ["yonhap"]),
    ])  # fmt: skip
    ko("covid-ko", covid_ko_facts, {"newsis": covid_ko, "news1": covid_ko_b}, [
        ("2026-03-19T09:30", "수원", ["newsis"]),
        ("2026-03-19T09:40", "청주", ["newsis", "news1"]),
        ("2026-03-20T09:30", "수원", ["newsis", "news1"]),
        ("2026-03-20T09:35", "청주", ["newsis"]),
    ])  # fmt: skip
    ko("earnings-ko", earnings_ko_facts, {"yonhap": earnings_ko, "edaily": earnings_ko_b}, [
        ("2026-04-07T08:40", "서울", ["yonhap", "edaily"]),
        ("2026-04-07T08:55", "서울", ["yonhap"]),
        ("2026-04-07T09:10", "서울", ["yonhap", "edaily"]),
    ])  # fmt: skip
    ko("kbo", kbo_facts, {"yonhap": kbo, "news1": kbo_b}, [
        ("2026-04-04T21:40", "서울", ["yonhap"]),
        ("2026-04-04T21:45", "서울", ["yonhap", "news1"]),
        ("2026-04-04T21:50", "서울", ["yonhap"]),
    ])  # fmt: skip
    ko("oil-ko", oil_ko_facts, {"yonhap": oil_ko, "newsis": oil_ko_b}, [
        ("2026-03-24T06:10", "뉴욕", ["yonhap", "newsis"]),
        ("2026-03-25T06:05", "뉴욕", ["yonhap"]),
        ("2026-03-26T06:12", "뉴욕", ["yonhap"]),
    ])  # fmt: skip
    en("wallst", wallst_facts, {"ap": wallst, "reuters": wallst_b}, [
        ("2026-03-09T20:10", "NEW YORK", ["ap", "reuters"]),
        ("2026-03-10T20:12", "NEW YORK", ["ap"]),
        ("2026-03-11T20:08", "NEW YORK", ["ap", "reuters"]),
        ("2026-03-12T20:15", "NEW YORK", ["ap"]),
    ])  # fmt: skip
    en("weather-en", weather_en_facts, {"localnews": weather_en, "dispatch": weather_en_b}, [
        ("2026-03-13T10:00", "CHICAGO", ["localnews", "dispatch"]),
        ("2026-03-13T10:01", "BOSTON", ["localnews"]),
        ("2026-03-13T10:02", "DENVER", ["localnews"]),
        ("2026-03-13T10:03", "ATLANTA", ["localnews", "dispatch"]),
    ])  # fmt: skip
    en("fx-en", fx_en_facts, {"reuters": fx_en, "bloomberg": fx_en_b}, [
        ("2026-03-16T07:30", "TOKYO", ["reuters"]),
        ("2026-03-17T07:35", "TOKYO", ["reuters", "bloomberg"]),
        ("2026-03-18T07:31", "TOKYO", ["reuters"]),
    ])  # fmt: skip
    en("earnings-en", earnings_en_facts, {"reuters": earnings_en, "cnbc": earnings_en_b}, [
        ("2026-04-22T20:10", "NEW YORK", ["reuters", "cnbc"]),
        ("2026-04-22T20:20", "NEW YORK", ["reuters"]),
        ("2026-04-22T20:35", "NEW YORK", ["reuters", "cnbc"]),
    ])  # fmt: skip
    en("football", football_facts, {"ap": football, "reuters": football_b}, [
        ("2026-03-14T17:05", "LONDON", ["ap"]),
        ("2026-03-14T17:06", "LONDON", ["ap", "reuters"]),
        ("2026-03-14T17:08", "LONDON", ["ap"]),
        ("2026-03-14T17:10", "LONDON", ["ap", "reuters"]),
    ])  # fmt: skip
    en("gold", gold_facts, {"reuters": gold, "bloomberg": gold_b}, [
        ("2026-03-23T11:00", "LONDON", ["reuters"]),
        ("2026-03-24T11:05", "LONDON", ["reuters", "bloomberg"]),
        ("2026-03-25T11:02", "LONDON", ["reuters"]),
    ])  # fmt: skip
    en("powerball", powerball_facts, {"ap": powerball, "upi": powerball_b}, [
        ("2026-03-24T03:30", "NEW YORK", ["ap", "upi"]),
        ("2026-03-26T03:30", "NEW YORK", ["ap"]),
        ("2026-03-29T03:30", "NEW YORK", ["ap"]),
    ])  # fmt: skip
    return out


# -- the set ------------------------------------------------------------------------------


def articles() -> Iterator[dict[str, object]]:
    for path in sorted(STORIES.glob("*.txt")):
        for story in read_stories(path):
            for t in story.tellings:
                when = story.start + timedelta(minutes=t.minutes)
                key = f"{story.cluster}-{t.source}"
                title, body = dress(t.source, key, t.title, t.units, when, story.city)
                yield {
                    "id": key,
                    "cluster": story.cluster,
                    "group": story.related or story.cluster,
                    "kind": "related" if story.related else "retelling",
                    "copy": f"{story.cluster}-{t.copy}",
                    "source": t.source,
                    "lang": story.lang,
                    "title": title,
                    "body": body,
                    "published": when.isoformat(),
                }
    for template in templates():
        for i, (when, city, facts, outlets) in enumerate(template.instances):
            cluster = f"{template.lang}-t-{template.family}-{i + 1}"
            for n, outlet in enumerate(outlets):
                writer = template.frames[outlet]
                title, units = writer(facts)
                key = f"{cluster}-{outlet}"
                title, body = dress(outlet, key, title, units, when, city)
                yield {
                    "id": key,
                    "cluster": cluster,
                    "group": f"{template.lang}-t-{template.family}",
                    "kind": "template",
                    "copy": f"{cluster}-{next(iter(template.frames))}",
                    "source": outlet,
                    "lang": template.lang,
                    "title": title,
                    "body": body,
                    "published": (when + timedelta(minutes=17 * n)).isoformat(),
                }


def main() -> None:
    rows = list(articles())
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate article ids")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    clusters = {str(r["cluster"]) for r in rows}
    print(f"wrote {len(rows)} articles in {len(clusters)} stories to {OUT.relative_to(HERE)}")


if __name__ == "__main__":
    main()
