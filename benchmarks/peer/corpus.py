"""A deterministic corpus of news feeds for the peer benchmark.

    python benchmarks/peer/corpus.py [--feeds 1000] [--items 50] [--seed 1] [--now ISO] --out DIR

writes ``--feeds`` feed files of ``--items`` items each into DIR, plus ``manifest.json``
(each feed's file, format, language, outlet). Korean and English outlets, about half each;
RSS 2.0 with CDATA bodies, RSS 2.0 with entity-escaped bodies, Atom 1.0 and JSON Feed 1.1
(about 40/20/25/15 %). Bodies are HTML paragraphs of 300-1,500 bytes (2-4 KB for about
15 % of the feeds) with images, links with tracking parameters, categories, authors, and
dates over the 48 hours before ``--now`` (default: the current hour). About 20 % of the
items retell another outlet's story: same event, names and figures, a reworded title, a
trimmed and reordered body, another byline and dateline.

Everything is a pure function of the seed, ``--now`` and the sizes: each item is derived
from its own random stream, so any feed can be rewritten alone. ``mutate(dir)`` does that
for a fraction of the feeds, prepending five new items and dropping the five oldest.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

MANIFEST = "manifest.json"
FORMATS = {  # format -> (share of the feeds, file extension)
    "rss-cdata": (0.40, "xml"),
    "rss-escaped": (0.20, "xml"),
    "atom": (0.25, "atom"),
    "json": (0.15, "json"),
}
RETELLING_SHARE = 0.20
LONG_BODY_SHARE = 0.15
MEDIA_SHARE = 0.40
NEW_ITEMS_PER_MUTATION = 5
WINDOW = timedelta(hours=48)
NEWEST_BASE_AGE = timedelta(minutes=30)  # base items end here; new items fill the gap

# --- word lists ------------------------------------------------------------------------------


def words(text: str, separator: str | None = None) -> list[str]:
    return text.split(separator)


KO_SURNAMES = words("김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍")
KO_GIVEN = words(
    "민준 서연 도윤 하은 지호 수빈 예준 지우 현우 서윤 준서 민서 건우 채원 우진 지민 선우 "
    "하린 연우 유진 정훈 성민 혜진 동현 은지 태윤 소연 재원 다은 승현"
)
KO_OUTLET_PREFIXES = {
    "한빛": "hanbit", "누리": "nuri", "새봄": "saebom", "가람": "garam", "푸른": "pureun",
    "한결": "hangyeol", "동녘": "dongnyeok", "바른": "bareun", "온누리": "onnuri",
    "세움": "seum", "으뜸": "eutteum", "다온": "daon", "해오름": "haeoreum", "참빛": "chambit",
    "늘봄": "neulbom", "한울": "hanul", "새날": "saenal", "고을": "goeul",
}  # fmt: skip
KO_OUTLET_SUFFIXES = {
    "일보": "ilbo", "신문": "sinmun", "뉴스": "news", "경제": "economy", "타임즈": "times",
    "저널": "journal", "투데이": "today", "통신": "tongsin", "데일리": "daily", "미디어": "media",
}  # fmt: skip
KO_SECTIONS = {"전체": "all", "정치": "politics", "경제": "economy", "사회": "society",
               "국제": "world", "IT": "tech", "스포츠": "sports", "생활": "life"}  # fmt: skip
KO_COMPANIES = words(
    "한빛전자 대성건설 미래바이오 누리통신 세진제약 동해해운 청솔식품 가람모빌리티 새봄에너지 "
    "한결금융 오름반도체 푸른화학 서해중공업 다솜유통 온빛디스플레이 바로로보틱스 은하항공 "
    "솔빛배터리 한마음보험 새길자동차"
)
KO_CITIES = words("서울 부산 대구 인천 광주 대전 울산 세종 수원 창원 청주 전주 포항 춘천 제주")
KO_DISTRICTS = words("중구 동구 서구 남구 북구 수성구 해운대구 강남구 마포구 유성구 연수구")
KO_ORGS = words(
    "국토교통부 산업통상자원부 보건복지부 환경부 교육부 고용노동부 "
    "과학기술정보통신부 중소벤처기업부 행정안전부 농림축산식품부"
)
KO_POLICIES = [
    "청년 주거 지원 확대 방안", "저출생 대응 종합 대책", "지역 필수의료 강화 방안",
    "탄소중립 산업 전환 전략", "소상공인 경영 안정 대책", "디지털 교육 혁신 방안",
    "대중교통 요금 지원 사업", "노후 산업단지 재생 사업", "농어촌 빈집 정비 사업",
]  # fmt: skip
KO_PLACES = ["아파트", "물류창고", "공장", "상가 건물", "전통시장", "주상복합 건물", "요양병원"]
KO_REGIONS = [
    "수도권",
    "강원 영동",
    "충청권",
    "호남권",
    "영남권",
    "제주도",
    "경북 북부",
    "전남 해안",
]
KO_TEAMS = [
    "서울 한빛FC", "부산 파도유나이티드", "대구 푸른FC", "인천 바다FC", "광주 빛고을FC",
    "대전 한밭시티", "울산 고래FC", "수원 화성FC", "전북 들녘FC", "제주 돌하르방FC",
]  # fmt: skip
KO_TECH = [
    "폴더블 스마트폰", "인공지능 반도체", "전기차 배터리", "노트북", "태블릿", "스마트워치",
    "자율주행 소프트웨어", "가정용 로봇", "무선 이어폰",
]  # fmt: skip
KO_FEATURES = [
    "인공지능 기능으로 사용 경험을 완전히 바꿨다", "배터리 수명을 두 배로 늘렸다",
    "더 가볍고 튼튼하게 만들었다", "가격 부담을 크게 낮췄다", "보안 기능을 한층 강화했다",
]  # fmt: skip
KO_COUNTRIES = words(
    "한국 미국 일본 독일 프랑스 영국 캐나다 호주 인도 베트남 인도네시아 브라질 멕시코 폴란드"
)
KO_FOREIGN_CITIES = words("워싱턴 도쿄 베를린 파리 런던 오타와 캔버라 뉴델리 하노이 자카르타")
KO_AGENDAS = ["공급망", "에너지", "반도체", "기후변화 대응", "방위산업", "핵심 광물", "인공지능"]
KO_GOODS = ["사과", "배추", "쌀", "달걀", "돼지고기", "고등어", "감자", "우유", "양파"]
KO_UNIVERSITIES = ["한국대", "미래대", "중앙과학기술원", "동해대", "서울미래대"]
KO_DEPARTMENTS = ["경제학과", "행정학과", "사회학과", "도시공학과", "정책대학원"]
KO_ORDINALS = ["두", "세", "네", "다섯"]

EN_FIRST = words(
    "James Olivia Daniel Emma Michael Sophia David Grace Thomas Chloe Samuel Hannah Ethan "
    "Laura Nathan Rachel Owen Megan Lucas Claire Henry Julia Adrian Nora Peter Alice"
)
EN_LAST = words(
    "Carter Bennett Hughes Foster Reyes Palmer Walsh Brooks Sullivan Harper Price Coleman "
    "Fleming Hayes Morrison Lawson Pierce Dalton Whitaker Garner Holt Barnes Keller Marsh"
)
EN_OUTLET_PREFIXES = words(
    "Harbor Summit Granite Riverside Northern Coastal Capital Metro Pacific Lakeside Evergreen "
    "Liberty Frontier Pioneer Meridian Keystone Highland Prairie"
)
EN_OUTLET_SUFFIXES = words(
    "Times Herald Post Tribune Gazette Courier Chronicle Journal Observer Dispatch"
)
EN_SECTIONS = ["Top Stories", "World", "Business", "Politics", "Tech", "Sports", "Science", "Local"]
EN_COMPANIES = words(
    "Northwind Systems|Bluecrest Energy|Halvorsen Motors|Veridian Pharma|Atlas Robotics|"
    "Copperline Telecom|Brightwater Foods|Kestrel Aerospace|Ironbridge Steel|Solace Health|"
    "Quillstone Software|Redfern Logistics|Tidewater Shipping|Lumen Semiconductor|"
    "Oakridge Insurance|Fairhaven Retail",
    "|",
)
EN_CITIES = words(
    "Chicago Denver Toronto Manchester Sydney Auckland Dublin Boston Seattle Austin Portland "
    "Leeds Glasgow Vancouver Melbourne Phoenix"
)
EN_DISTRICTS = ["downtown", "the north side", "the harbour district", "the east end", "midtown"]
EN_AGENCIES = [
    "the Transport Department", "the Environment Agency", "the Treasury", "the Health Ministry",
    "the Education Department", "the Energy Ministry", "the Housing Agency",
]  # fmt: skip
EN_POLICIES = [
    "a housing affordability plan", "a rural broadband programme", "a clean energy strategy",
    "a small business relief package", "a hospital staffing plan", "a rail upgrade programme",
    "a skills and apprenticeship scheme",
]  # fmt: skip
EN_PLACES = ["warehouse", "apartment block", "shopping centre", "factory", "office tower"]
EN_REGIONS = [
    "the Pacific Northwest", "the Midwest", "the south coast", "the Highlands",
    "the Great Lakes region", "New England", "the east coast", "the Rocky Mountain states",
]  # fmt: skip
EN_TEAMS = [
    "Harbor City", "Northfield United", "Riverside Rovers", "Granite Athletic", "Lakeside Town",
    "Capital Wanderers", "Summit Rangers", "Coastal Albion", "Prairie County", "Metro Dynamo",
]  # fmt: skip
EN_TECH = [
    "foldable phone", "AI accelerator chip", "electric-vehicle battery", "laptop",
    "smartwatch", "home robot", "self-driving software suite", "tablet",
]  # fmt: skip
EN_FEATURES = [
    "this changes how people use their devices every day",
    "we doubled the battery life without making it heavier",
    "it is the fastest product we have ever shipped",
    "we built privacy into every layer of it",
]  # fmt: skip
EN_COUNTRIES = words(
    "Canada|Japan|Germany|France|Britain|Australia|India|Vietnam|Indonesia|Brazil|Mexico|"
    "Poland|South Korea|Norway",
    "|",
)
EN_FOREIGN_CITIES = words("Ottawa Tokyo Berlin Paris London Canberra Delhi Hanoi Jakarta Oslo")
EN_AGENDAS = [
    "supply chains",
    "energy",
    "semiconductors",
    "climate",
    "defence",
    "critical minerals",
]
EN_GOODS = ["eggs", "coffee", "beef", "apples", "rice", "potatoes", "milk", "butter"]
EN_UNIVERSITIES = ["Westbrook University", "the Institute for Policy Studies", "Kingsgate College"]

# --- story templates -------------------------------------------------------------------------
# Each topic: categories, title variants (a retelling takes another variant than its source),
# and the story's sentences in telling order. {NAME|은} appends the Korean particle that fits
# the last syllable of the value ({C|은} -> 한빛전자는, 대성건설은).


@dataclass(frozen=True)
class Topic:
    categories: tuple[str, ...]
    titles: tuple[str, ...]
    sentences: tuple[str, ...]


KO_TOPICS = (
    Topic(
        ("경제", "기업"),
        (
            "{C}, {Q}분기 영업이익 {AMT}억 원…전년 대비 {PCT}% 증가",
            "{C} {Q}분기 영업익 {AMT}억 원, 작년보다 {PCT}% 늘어",
            "[실적] {C}, {Q}분기 호실적…영업이익 {PCT}%↑",
        ),
        (
            "{C|은} {DAY}일 공시를 통해 올해 {Q}분기 연결 기준 영업이익이 {AMT}억 원으로 "
            "지난해 같은 기간보다 {PCT}% 증가했다고 밝혔다.",
            "같은 기간 매출은 {AMT2}억 원으로 {PCT2}% 늘었고, 순이익은 {AMT3}억 원을 기록했다.",
            "회사 측은 {PROD} 판매가 북미와 유럽 시장에서 호조를 보인 것이 실적 개선을 이끌었다고 "
            "설명했다.",
            '{P} {C} 대표는 "하반기에도 {PROD} 생산 능력을 확대해 시장 점유율을 높이겠다"고 '
            "말했다.",
            "증권가에서는 {C}의 {Q}분기 실적이 시장 전망치를 {PCT3}% 웃돈 것으로 보고 있다.",
            "{C|은} 올해 설비 투자에 모두 {AMT4}억 원을 쓸 계획이다.",
            "이날 유가증권시장에서 {C} 주가는 전 거래일보다 {PCT4}% 오른 채 거래를 마쳤다.",
        ),
    ),
    Topic(
        ("정치", "정책"),
        (
            "{ORG}, {POLICY} 추진…{YEAR}년까지 {BN}조 원 투입",
            '{ORG} "{POLICY}에 {BN}조 원 투입"',
            "{YEAR}년까지 {BN}조 원 들여 {POLICY}…{ORG} 발표",
        ),
        (
            "{ORG|은} {DAY}일 정부세종청사에서 브리핑을 열고 {POLICY} 계획을 발표했다.",
            "정부는 {YEAR}년까지 모두 {BN}조 원을 투입해 전국 {CNT}곳에 관련 시설을 확충할 "
            "예정이다.",
            '{P} {ORG} 장관은 "국민이 체감할 수 있는 변화를 만들겠다"며 "현장의 목소리를 계속 '
            '듣겠다"고 강조했다.',
            "이번 계획에는 지방자치단체와 민간 기업의 참여를 늘리기 위한 세제 지원 방안도 담겼다.",
            "{ORG|은} 다음 달 중 관계 부처 협의를 거쳐 세부 시행 방안을 확정할 방침이다.",
            "야당은 재원 마련 방안이 구체적이지 않다며 국회 심의 과정에서 꼼꼼히 따지겠다고 "
            "밝혔다.",
            "시민단체들은 {POLICY}의 취지에는 공감하지만 예산 집행의 투명성을 높여야 한다고 "
            "지적했다.",
        ),
    ),
    Topic(
        ("사회", "사건사고"),
        (
            "{CITY} {PLACE}서 불…{CNT}명 대피, {CNT2}명 부상",
            "{CITY} {PLACE} 화재로 {CNT}명 대피…{CNT2}명 병원 이송",
            "[속보] {CITY} {PLACE}에서 화재 발생…{CNT}명 긴급 대피",
        ),
        (
            "{DAY}일 오후 {HOUR}시 {MIN}분께 {CITY} {DISTRICT}의 한 {PLACE}에서 불이 나 "
            "{CNT}명이 긴급 대피했다.",
            "이 불로 {CNT2}명이 연기를 마셔 인근 병원으로 옮겨졌으며, 생명에는 지장이 없는 것으로 "
            "알려졌다.",
            "소방당국은 장비 {CNT3}대와 인력 {CNT4}명을 투입해 약 {MINS}분 만에 불을 껐다.",
            "불은 건물 {FLOOR}층 내부 약 {AREA}㎡를 태워 소방서 추산 {AMT}천만 원의 재산 피해를 "
            "냈다.",
            "경찰과 소방당국은 정확한 화재 원인과 피해 규모를 조사하고 있다.",
            '{P} {CITY}소방본부 현장대응단장은 "초기 대피가 신속하게 이뤄져 큰 인명 피해를 '
            '막았다"고 말했다.',
            "인근 주민들은 갑자기 검은 연기가 치솟아 크게 놀랐다고 전했다.",
        ),
    ),
    Topic(
        ("생활", "날씨"),
        (
            "{REGION} 내일 최대 {MM}㎜ 비…강풍 동반",
            "내일 {REGION}에 {MM}㎜ 안팎 많은 비…기온 뚝",
            '기상청 "{REGION} 최대 {MM}㎜ 비, 출근길 주의"',
        ),
        (
            "기상청은 {DAY}일 {REGION}에 최대 {MM}㎜의 비가 내릴 것으로 예상된다고 밝혔다.",
            "비는 {DAY}일 새벽 서쪽 지역부터 시작돼 오후에는 대부분 지역으로 확대될 전망이다.",
            "아침 최저기온은 {T1}∼{T2}도, 낮 최고기온은 {T3}∼{T4}도로 평년보다 다소 낮겠다.",
            "해안가를 중심으로 순간풍속 초속 {WIND}m 이상의 강한 바람이 불 것으로 보여 시설물 "
            "관리에 유의해야 한다.",
            '{P} 기상청 예보분석관은 "비가 그친 뒤에는 찬 공기가 내려오면서 기온이 크게 '
            '떨어지겠다"고 설명했다.',
            "{REGION} 지역 지방자치단체는 비상근무 체제에 들어가 배수시설을 점검하고 있다.",
            "미세먼지 농도는 대기 확산이 원활해 전 권역에서 '좋음'∼'보통' 수준을 보이겠다.",
        ),
    ),
    Topic(
        ("스포츠", "축구"),
        (
            "{TEAM}, {TEAM2}에 {S1}-{S2} 승리…{P} 결승골",
            "{P} 결승골, {TEAM} {TEAM2} 꺾고 {RANK}위 도약",
            "{TEAM} {S1}-{S2} 역전승…{P} 해결사 활약",
        ),
        (
            "{TEAM|은} {DAY}일 {CITY} 종합운동장에서 열린 프로축구 {ROUND}라운드 홈 경기에서 "
            "{TEAM2|을} {S1}-{S2}로 꺾었다.",
            "이날 승리로 {TEAM|은} 승점 {PTS}점을 쌓아 리그 {RANK}위로 올라섰다.",
            "{P|은} 후반 {MINUTE}분 페널티 지역 오른쪽에서 오른발 슈팅으로 결승골을 터뜨렸다.",
            "{TEAM2|은} 전반 중반 선제골을 넣으며 앞서 갔지만 후반 들어 집중력이 떨어지며 "
            "역전을 허용했다.",
            '{P2} 감독은 경기 뒤 "선수들이 끝까지 포기하지 않고 뛰어 준 덕분"이라고 소감을 밝혔다.',
            "이날 경기장에는 {CROWD}명의 관중이 찾아 열띤 응원을 펼쳤다.",
            "{TEAM|은} 다음 주 원정 경기에서 {STREAK}연승에 도전한다.",
        ),
    ),
    Topic(
        ("IT", "과학"),
        (
            '{C}, {TECH} 공개…"{FEAT}"',
            "{C} 새 {TECH} 선보여…속도 {PCT}% 향상",
            "{C}, {TECH} 출시…가격 {PRICE}만 원부터",
        ),
        (
            "{C|은} {DAY}일 {CITY}에서 신제품 발표회를 열고 {TECH|을} 공개했다.",
            "새 제품은 전작보다 처리 속도가 {PCT}% 빨라졌고 전력 소모는 {PCT2}% 줄었다.",
            "출고가는 {PRICE}만 원부터 시작하며 다음 달 {DAY2}일부터 사전 예약을 받는다.",
            '{P} {C} 사업부장은 "{FEAT}"며 "올해 판매 목표는 {CNT}만 대"라고 말했다.',
            "업계에서는 {C}의 이번 제품이 경쟁사와의 기술 격차를 벌리는 계기가 될 것으로 보고 "
            "있다.",
            "{C|은} 연말까지 해외 {CNT2}개국에 {TECH|을} 순차적으로 출시할 계획이다.",
            "회사 측은 자체 개발한 인공지능 기능을 적용해 사용자 편의성을 크게 높였다고 설명했다.",
        ),
    ),
    Topic(
        ("국제", "외교"),
        (
            "{COUNTRY}·{COUNTRY2} 정상회담…{AGENDA} 협력 합의",
            "{COUNTRY|과} {COUNTRY2}, {AGENDA} 협력하기로…{FCITY}서 정상회담",
            '{COUNTRY}·{COUNTRY2} "{AGENDA} 협력 강화"…교역 {AMT}억 달러 목표',
        ),
        (
            "{COUNTRY|과} {COUNTRY2} 정상이 {DAY}일 {FCITY}에서 회담을 열고 {AGENDA} 분야 "
            "협력을 강화하기로 합의했다.",
            "두 정상은 {YEAR}년까지 교역 규모를 {AMT}억 달러로 늘리는 목표에도 뜻을 모았다.",
            "회담은 예정보다 {MINS}분 길어진 약 {HOURS}시간 동안 진행됐다.",
            "양국은 회담 뒤 {CNT}개 항목으로 된 공동성명을 발표했다.",
            "외교 전문가들은 이번 합의가 지역 안보 협력에도 긍정적 영향을 줄 것이라고 평가했다.",
            '{P} 외교부 대변인은 "실질적인 성과를 낸 회담이었다"고 말했다.',
        ),
    ),
    Topic(
        ("경제", "물가"),
        (
            "{MONTH}월 소비자물가 {PCT}% 상승…{GOODS} 가격 급등",
            "소비자물가 {PCT}% 올라…{GOODS} {PCT2}% 껑충",
            '통계청 "{MONTH}월 물가 {PCT}% 상승"…{GOODS|이} 견인',
        ),
        (
            "통계청이 {DAY}일 발표한 '{MONTH}월 소비자물가 동향'에 따르면 지난달 "
            "소비자물가지수는 전년 같은 달보다 {PCT}% 상승했다.",
            "품목별로는 {GOODS} 가격이 {PCT2}% 올라 전체 물가 상승을 이끌었다.",
            "반면 석유류 가격은 국제 유가 하락의 영향으로 {PCT3}% 내렸다.",
            '{P} 통계청 경제동향통계심의관은 "기상 여건 악화로 농산물 가격 변동성이 커졌다"고 '
            "설명했다.",
            "정부는 {GOODS} 수급 안정을 위해 비축 물량 {CNT}t을 시장에 풀기로 했다.",
            "전문가들은 연말까지 물가 상승률이 {PCT4}% 안팎에서 움직일 것으로 내다봤다.",
        ),
    ),
)
KO_BACKGROUND = (
    '{P2} {UNIV} {DEPT} 교수는 "이번 사안은 장기적인 관점에서 접근할 필요가 있다"고 말했다.',
    "관련 업계는 당분간 상황을 지켜보며 대응 방안을 마련할 것으로 보인다.",
    '이에 대해 {ORG2} 관계자는 "추가로 필요한 조치가 있는지 살펴보고 있다"고 밝혔다.',
    "온라인 커뮤니티에서는 이번 소식을 두고 다양한 의견이 오가고 있다.",
    "지난해에도 비슷한 사례가 {CNT5}건 보고된 바 있어 제도 개선이 필요하다는 목소리가 나온다.",
    '{CITY2}에 사는 {P3}씨는 "생활에 실제로 도움이 되는 방향으로 진행됐으면 좋겠다"고 말했다.',
    "전문가들은 앞으로 {MONTHS}개월이 중요한 고비가 될 것이라고 전망했다.",
    '{P2} 교수는 또 "정확한 정보를 바탕으로 차분하게 판단해야 한다"고 덧붙였다.',
    "이 같은 발표는 올해 들어 {ORD} 번째다.",
    "한편 {ORG2|은} 다음 달 관련 공청회를 열어 의견을 수렴할 예정이다.",
    "시장에서는 이번 결과가 향후 흐름을 가늠할 중요한 지표가 될 것으로 보고 있다.",
    "{ORG2|은} 이와 관련한 자료를 누리집에 공개했다.",
    '업계 관계자는 "예상보다 반응이 빠르게 나타나고 있다"고 전했다.',
    "정부와 지방자치단체는 관련 상황을 매일 점검하기로 했다.",
    '{P3}씨는 "앞으로도 꾸준히 관심을 갖고 지켜보겠다"고 말했다.',
    "{CITY2} 지역에서는 지난 {MONTHS}개월 동안 관련 문의가 {PCT5}% 늘어난 것으로 집계됐다.",
)

EN_TOPICS = (
    Topic(
        ("Business", "Earnings"),
        (
            "{C} quarterly profit jumps {PCT}% to ${AMT} million",
            "{C} beats forecasts as Q{Q} operating profit rises {PCT}%",
            "{C} posts ${AMT} million profit, up {PCT}% on a year earlier",
        ),
        (
            "{C} said on {WEEKDAY} that operating profit for the {QTH} quarter rose {PCT}% from "
            "a year earlier to ${AMT} million.",
            "Revenue grew {PCT2}% to ${AMT2} million, while net income came in at ${AMT3} million.",
            "The company said strong sales of its {TECH} in North America and Europe drove "
            "the improvement.",
            '"We will keep expanding {TECH} capacity in the second half to win market share," '
            "chief executive {P} said.",
            "Analysts said the result beat the average market forecast by about {PCT3}%.",
            "{C} plans to spend ${AMT4} million on new plants and equipment this year.",
            "Shares of {C} closed {PCT4}% higher after the announcement.",
        ),
    ),
    Topic(
        ("Politics", "Policy"),
        (
            "{ORG_T} unveils ${BN} billion plan for {POLICY_S}",
            "Government to spend ${BN} billion on {POLICY_S} by {YEAR}",
            "{ORG_T} sets out {POLICY_S}, pledging ${BN} billion",
        ),
        (
            "{ORG_C} on {WEEKDAY} announced {POLICY}, promising ${BN} billion in spending "
            "by {YEAR}.",
            "The money will fund {CNT} new projects across the country, officials said.",
            '"People need to see real change in their daily lives," minister {P} told '
            'reporters, adding that "we will keep listening to communities."',
            "The plan also includes tax incentives meant to draw in private investment and "
            "local councils.",
            "Detailed rules are expected next month after consultation with other departments.",
            "Opposition lawmakers said the funding plan lacked detail and promised close "
            "scrutiny in parliament.",
            "Civic groups welcomed the goal of {POLICY} but called for transparent spending.",
        ),
    ),
    Topic(
        ("Local", "Incidents"),
        (
            "Fire at {CITY} {PLACE} forces {CNT} to evacuate",
            "{CNT} evacuated, {CNT2} hurt in {CITY} {PLACE} blaze",
            "Blaze tears through {CITY} {PLACE}; {CNT2} taken to hospital",
        ),
        (
            "About {CNT} people were evacuated on {WEEKDAY} afternoon after a fire broke out at "
            "a {PLACE} in {DISTRICT} of {CITY}.",
            "{CNT2} people were treated for smoke inhalation and taken to hospital; none of "
            "their injuries were life-threatening.",
            "Firefighters sent {CNT3} engines and {CNT4} crew members and brought the fire "
            "under control in about {MINS} minutes.",
            "The fire damaged roughly {AREA} square metres on the {FLOORTH} floor, causing an "
            "estimated ${AMT}00,000 in damage.",
            "Police and fire investigators are working to determine the cause.",
            '"The quick evacuation prevented a far worse outcome," fire chief {P} said.',
            "Neighbours said thick black smoke could be seen from several blocks away.",
        ),
    ),
    Topic(
        ("Weather", "Local"),
        (
            "Up to {MM} mm of rain expected in {REGION} tomorrow",
            "Heavy rain and strong winds forecast for {REGION}",
            "Forecasters warn of {MM} mm downpour across {REGION}",
        ),
        (
            "Forecasters said on {WEEKDAY} that up to {MM} millimetres of rain could fall "
            "across {REGION}.",
            "The rain will begin in western areas before dawn and spread across most of the "
            "region by the afternoon.",
            "Morning lows will range from {T1} to {T2} degrees Celsius, with highs of {T3} to "
            "{T4} degrees, slightly below normal.",
            "Gusts of more than {WIND} metres per second are possible along the coast, and "
            "residents were urged to secure loose objects.",
            '"Once the rain clears, colder air will move in and temperatures will drop '
            'sharply," meteorologist {P} said.',
            "Local authorities in {REGION} have put emergency crews on standby and are "
            "checking drainage systems.",
            "Air quality is expected to remain good as the wind disperses pollutants.",
        ),
    ),
    Topic(
        ("Sports", "Football"),
        (
            "{TEAM} beat {TEAM2} {S1}-{S2} as {P} scores winner",
            "{P} strikes late to lift {TEAM} past {TEAM2}",
            "{TEAM} come from behind to beat {TEAM2} {S1}-{S2}",
        ),
        (
            "{TEAM} beat {TEAM2} {S1}-{S2} at home on {WEEKDAY} in round {ROUND} of the league.",
            "The win lifts {TEAM} to {PTS} points and {RANKTH} place in the table.",
            "{P} scored the winner in the {MINUTE}th minute with a right-footed shot from the "
            "edge of the box.",
            "{TEAM2} had taken an early lead but faded after the break and conceded twice.",
            '"The players never gave up, and that made the difference," manager {P2} said '
            "after the match.",
            "A crowd of {CROWD} watched the game.",
            "{TEAM} travel next week looking for a {STREAK}-match winning streak.",
        ),
    ),
    Topic(
        ("Tech", "Science"),
        (
            '{C} unveils new {TECH}: "{FEAT}"',
            "{C} launches {TECH} that is {PCT}% faster",
            "{C} new {TECH} to start at ${PRICE}",
        ),
        (
            "{C} unveiled its new {TECH} at an event in {CITY} on {WEEKDAY}.",
            "The company said the device is {PCT}% faster than its predecessor and uses "
            "{PCT2}% less power.",
            "Prices start at ${PRICE}, with pre-orders opening on the {DAY2}th of next month.",
            '"{FEAT}," said {P}, who leads the division, adding that the company aims to sell '
            "{CNT} million units this year.",
            "Industry watchers said the launch could widen the technology gap with rivals.",
            "{C} plans to roll the {TECH} out in {CNT2} countries by the end of the year.",
            "The company said in-house AI features make the product much easier to use.",
        ),
    ),
    Topic(
        ("World", "Diplomacy"),
        (
            "{COUNTRY} and {COUNTRY2} agree to deepen {AGENDA} ties",
            "{COUNTRY}, {COUNTRY2} leaders meet in {FCITY}, pledge {AGENDA} cooperation",
            "{COUNTRY} and {COUNTRY2} target ${BN} billion in trade by {YEAR}",
        ),
        (
            "The leaders of {COUNTRY} and {COUNTRY2} agreed on {WEEKDAY} in {FCITY} to deepen "
            "cooperation on {AGENDA}.",
            "They also set a goal of lifting bilateral trade to ${BN} billion by {YEAR}.",
            "The talks ran {MINS} minutes over schedule and lasted about {HOURS} hours.",
            "The two sides issued a {CNT}-point joint statement after the meeting.",
            "Diplomatic analysts said the deal could also help regional security cooperation.",
            '"This summit delivered concrete results," foreign ministry spokesperson {P} said.',
        ),
    ),
    Topic(
        ("Business", "Economy"),
        (
            "Consumer prices rise {PCT}% in {MONTHNAME} as {GOODS} costs soar",
            "Inflation hits {PCT}%; {GOODS} up {PCT2}%",
            "{MONTHNAME} inflation at {PCT}%, driven by {GOODS}",
        ),
        (
            "Consumer prices rose {PCT}% in {MONTHNAME} from a year earlier, the statistics "
            "office said on {WEEKDAY}.",
            "The price of {GOODS} jumped {PCT2}%, the largest contributor to the increase.",
            "Fuel prices fell {PCT3}% as global oil prices eased.",
            '"Bad weather has made farm prices much more volatile," said {P}, a senior '
            "statistician.",
            "The government said it would release {CNT} tonnes of {GOODS} from reserves to "
            "calm prices.",
            "Economists expect inflation to hover around {PCT4}% through the end of the year.",
        ),
    ),
)
EN_BACKGROUND = (
    '"This needs to be looked at over the long term," said {P2}, a professor at {UNIV}.',
    "Industry groups are expected to wait and see before deciding how to respond.",
    '"We are reviewing whether further steps are needed," an official at {ORG2} said.',
    "The news drew a wide range of reactions on social media.",
    "{CNT5} similar cases were reported last year, prompting calls for reform.",
    '"I hope this actually makes a difference in people\'s lives," said {P3}, who lives in '
    "{CITY2}.",
    "Experts said the next {MONTHS} months would be critical.",
    '{P2} added that "decisions should be made calmly, on the basis of accurate information."',
    "It was the {ORDTH} such announcement this year.",
    "Separately, {ORG2} will hold a public hearing next month to gather opinions.",
    "Markets will watch the figures closely as a guide to what comes next.",
    "{ORG2} published the supporting documents on its website.",
    '"The response has been faster than we expected," one industry executive said.',
    "Central and local governments agreed to review the situation daily.",
    '"We will keep a close eye on it," {P3} said.',
    "Enquiries in {CITY2} have risen {PCT5}% over the past {MONTHS} months, figures show.",
)

# Light rewording for retellings: same facts, other words.
KO_SYNONYMS = (
    ("밝혔다.", "전했다."), ("말했다.", "설명했다."), ("예정이다.", "계획이다."),
    ("전망이다.", "것으로 보인다."), ("크게", "대폭"), ("보고 있다.", "예상하고 있다."),
    ("강조했다.", "힘주어 말했다."), ("모두", "총"), ("발표했다.", "내놓았다."),
)  # fmt: skip
EN_SYNONYMS = (
    (" said.", " told reporters."), ("announced", "unveiled"), ("rose", "climbed"),
    ("fell", "dropped"), ("about", "around"), ("plans to", "intends to"),
    ("expected", "forecast"), ("said on", "reported on"), ("grew", "increased"),
)  # fmt: skip
TRACKING = (
    "utm_source=rss&utm_medium=feed&utm_campaign=newsfeed",
    "utm_source=feedly&utm_medium=rss",
    "utm_source=rss&utm_medium=referral&utm_campaign=breaking&fbclid=IwAR{TOKEN}",
    "fbclid=IwAR{TOKEN}",
    "utm_source=twitter&utm_medium=social&utm_content={TOKEN}",
)
MONTH_NAMES = words(
    "January February March April May June July August September October November December"
)
WEEKDAYS = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")

# --- Korean particles ------------------------------------------------------------------------

_PARTICLES = {"은": ("은", "는"), "이": ("이", "가"), "을": ("을", "를"), "과": ("과", "와")}
_DIGIT_HAS_FINAL = {"0": True, "1": True, "3": True, "6": True, "7": True, "8": True}
_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|(\w+))?\}")


def has_final_consonant(word: str) -> bool:
    last = word[-1]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    return _DIGIT_HAS_FINAL.get(last, False)  # Latin letters are read as ending in a vowel


def fill(template: str, facts: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = facts[match.group(1)]
        particle = match.group(2)
        if not particle:
            return value
        with_final, without_final = _PARTICLES[particle]
        return value + (with_final if has_final_consonant(value) else without_final)

    return _PLACEHOLDER.sub(substitute, template)


# --- outlets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outlet:
    """One feed: a section of an outlet, in one language and one format."""

    index: int
    language: str
    format: str
    name: str
    outlet: str
    domain: str
    section_slug: str
    utc_offset_hours: int
    long_bodies: bool
    media: bool
    copyright: bool
    reporters: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"f{self.index:04d}"

    @property
    def file(self) -> str:
        return f"{self.index:04d}-{self.domain.split('.')[1]}-{self.section_slug}.{self.extension}"

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def home(self) -> str:
        return f"https://{self.domain}/"

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))


def exact_shares(count: int, shares: dict[str, float], rng: random.Random) -> list[str]:
    """``count`` labels in the given proportions (largest remainders), shuffled."""
    raw = {label: share * count for label, share in shares.items()}
    whole = {label: int(value) for label, value in raw.items()}
    by_remainder = sorted(raw, key=lambda label: raw[label] - whole[label], reverse=True)
    for label in by_remainder[: count - sum(whole.values())]:
        whole[label] += 1
    labels = [label for label, number in whole.items() for _ in range(number)]
    rng.shuffle(labels)
    return labels


def flags(count: int, share: float, rng: random.Random) -> list[bool]:
    chosen = exact_shares(count, {"yes": share, "no": 1 - share}, rng)
    return [label == "yes" for label in chosen]


def korean_name(rng: random.Random) -> str:
    return rng.choice(KO_SURNAMES) + rng.choice(KO_GIVEN)


def english_name(rng: random.Random) -> str:
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def build_outlets(seed: int, count: int) -> list[Outlet]:
    rng = random.Random(f"{seed}/outlets")
    formats = exact_shares(count, {name: share for name, (share, _) in FORMATS.items()}, rng)
    languages = exact_shares(count, {"ko": 0.5, "en": 0.5}, rng)
    long_bodies = flags(count, LONG_BODY_SHARE, rng)
    media = flags(count, MEDIA_SHARE, rng)
    return [
        make_outlet(index, languages[index], formats[index], long_bodies[index], media[index], rng)
        for index in range(count)
    ]


def make_outlet(
    index: int, language: str, format: str, long_bodies: bool, media: bool, rng: random.Random
) -> Outlet:
    if language == "ko":
        prefix, suffix = rng.choice(list(KO_OUTLET_PREFIXES)), rng.choice(list(KO_OUTLET_SUFFIXES))
        section = rng.choice(list(KO_SECTIONS))
        outlet = prefix + suffix
        slug, section_slug = (
            KO_OUTLET_PREFIXES[prefix] + KO_OUTLET_SUFFIXES[suffix],
            KO_SECTIONS[section],
        )
        domain, offset = f"www.{slug}.example", 9
        reporters = tuple(korean_name(rng) for _ in range(rng.randint(3, 8)))
    else:
        outlet = f"The {rng.choice(EN_OUTLET_PREFIXES)} {rng.choice(EN_OUTLET_SUFFIXES)}"
        section = rng.choice(EN_SECTIONS)
        slug = outlet.removeprefix("The ").lower().replace(" ", "")
        section_slug = section.lower().replace(" ", "-")
        domain, offset = f"www.{slug}.example", rng.choice([0, 0, 1, -5, -8, 10])
        reporters = tuple(english_name(rng) for _ in range(rng.randint(3, 8)))
    return Outlet(
        index=index,
        language=language,
        format=format,
        name=f"{outlet} {section}",
        outlet=outlet,
        domain=domain,
        section_slug=section_slug,
        utc_offset_hours=offset,
        long_bodies=long_bodies,
        media=media,
        copyright=rng.random() < 0.5,
        reporters=reporters,
    )


# --- events: the facts of a story, and its sentences ----------------------------------------


@dataclass(frozen=True)
class Event:
    language: str
    topic: Topic
    facts: dict[str, str]
    city: str
    sentences: tuple[str, ...]  # topic sentences in telling order, then background

    def title(self, variant: int) -> str:
        return fill(self.topic.titles[variant % len(self.topic.titles)], self.facts)


def number(rng: random.Random, low: int, high: int) -> str:
    return str(rng.randint(low, high))


def percent(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.1f}"


def shared_figures(rng: random.Random) -> dict[str, str]:
    """Names and figures common to both languages' templates."""
    return {
        "Q": number(rng, 1, 4), "DAY": number(rng, 1, 28), "DAY2": number(rng, 1, 28),
        "AMT": f"{rng.randint(12, 9_800):,}", "AMT2": f"{rng.randint(10_000, 99_000):,}",
        "BN": number(rng, 3, 480),
        "AMT3": f"{rng.randint(500, 8_000):,}", "AMT4": f"{rng.randint(1_000, 30_000):,}",
        "PCT": percent(rng, 1, 48), "PCT2": percent(rng, 1, 30), "PCT3": percent(rng, 1, 15),
        "PCT4": percent(rng, 0.5, 9), "PCT5": percent(rng, 2, 60),
        "YEAR": str(rng.choice([2027, 2028, 2030, 2032, 2035])), "CNT": number(rng, 12, 480),
        "CNT2": number(rng, 2, 11), "CNT3": number(rng, 8, 60), "CNT4": number(rng, 30, 190),
        "CNT5": number(rng, 3, 90), "MINS": number(rng, 20, 95), "HOUR": number(rng, 1, 11),
        "MIN": number(rng, 1, 59), "FLOOR": number(rng, 2, 24), "AREA": number(rng, 40, 900),
        "MM": str(rng.choice([30, 40, 50, 60, 80, 100, 120, 150])), "T1": number(rng, -3, 6),
        "T2": number(rng, 7, 12), "T3": number(rng, 13, 18), "T4": number(rng, 19, 26),
        "WIND": number(rng, 12, 25), "S1": number(rng, 2, 4), "S2": number(rng, 0, 1),
        "PTS": number(rng, 18, 61), "RANK": number(rng, 1, 6), "ROUND": number(rng, 5, 33),
        "MINUTE": number(rng, 46, 89), "CROWD": f"{rng.randint(4_000, 38_000):,}",
        "STREAK": number(rng, 3, 5), "PRICE": number(rng, 49, 249), "HOURS": number(rng, 2, 4),
        "MONTHS": number(rng, 3, 12), "MONTH": number(rng, 1, 12),
    }  # fmt: skip


def korean_facts(rng: random.Random) -> dict[str, str]:
    country, country2 = rng.sample(KO_COUNTRIES, 2)
    team, team2 = rng.sample(KO_TEAMS, 2)
    city, city2 = rng.sample(KO_CITIES, 2)
    org, org2 = rng.sample(KO_ORGS, 2)
    return {
        **shared_figures(rng),
        "C": rng.choice(KO_COMPANIES), "P": korean_name(rng), "P2": korean_name(rng),
        "P3": korean_name(rng), "ORG": org, "ORG2": org2, "CITY": city, "CITY2": city2,
        "DISTRICT": rng.choice(KO_DISTRICTS), "POLICY": rng.choice(KO_POLICIES),
        "PLACE": rng.choice(KO_PLACES), "REGION": rng.choice(KO_REGIONS), "TEAM": team,
        "TEAM2": team2, "TECH": rng.choice(KO_TECH), "PROD": rng.choice(KO_TECH),
        "FEAT": rng.choice(KO_FEATURES), "COUNTRY": country, "COUNTRY2": country2,
        "FCITY": rng.choice(KO_FOREIGN_CITIES), "AGENDA": rng.choice(KO_AGENDAS),
        "GOODS": rng.choice(KO_GOODS), "UNIV": rng.choice(KO_UNIVERSITIES),
        "DEPT": rng.choice(KO_DEPARTMENTS), "ORD": rng.choice(KO_ORDINALS),
    }  # fmt: skip


def ordinal(value: int) -> str:
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def english_facts(rng: random.Random) -> dict[str, str]:
    country, country2 = rng.sample(EN_COUNTRIES, 2)
    team, team2 = rng.sample(EN_TEAMS, 2)
    city, city2 = rng.sample(EN_CITIES, 2)
    org, org2 = rng.sample(EN_AGENCIES, 2)
    figures = shared_figures(rng)
    policy = rng.choice(EN_POLICIES)
    return {
        **figures,
        "C": rng.choice(EN_COMPANIES), "P": english_name(rng), "P2": english_name(rng),
        "P3": english_name(rng), "ORG_C": org.capitalize(),
        "ORG_T": org.removeprefix("the "),
        "ORG2": org2, "CITY": city, "CITY2": city2, "DISTRICT": rng.choice(EN_DISTRICTS),
        "POLICY": policy, "POLICY_S": policy.split(" ", 1)[1], "PLACE": rng.choice(EN_PLACES),
        "REGION": rng.choice(EN_REGIONS), "TEAM": team, "TEAM2": team2,
        "TECH": rng.choice(EN_TECH), "FEAT": rng.choice(EN_FEATURES), "COUNTRY": country,
        "COUNTRY2": country2, "FCITY": rng.choice(EN_FOREIGN_CITIES),
        "AGENDA": rng.choice(EN_AGENDAS), "GOODS": rng.choice(EN_GOODS),
        "UNIV": rng.choice(EN_UNIVERSITIES), "WEEKDAY": rng.choice(WEEKDAYS),
        "MONTHNAME": MONTH_NAMES[int(figures["MONTH"]) - 1],
        "QTH": ordinal(int(figures["Q"])), "FLOORTH": ordinal(int(figures["FLOOR"])),
        "RANKTH": ordinal(int(figures["RANK"])), "ORDTH": ordinal(rng.randint(2, 5)),
    }  # fmt: skip


def make_event(language: str, rng: random.Random) -> Event:
    topics, background = (
        (KO_TOPICS, KO_BACKGROUND) if language == "ko" else (EN_TOPICS, EN_BACKGROUND)
    )
    facts = korean_facts(rng) if language == "ko" else english_facts(rng)
    topic = rng.choice(topics)
    extra = rng.sample(background, len(background))
    sentences = tuple(fill(text, facts) for text in (*topic.sentences, *extra))
    return Event(language, topic, facts, facts["CITY"], sentences)


# --- items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    title: str
    published: datetime
    author: str
    categories: tuple[str, ...]
    body: str
    summary: str
    image: str | None
    retelling: bool


@dataclass
class Corpus:
    """The pure function from (feed, slot) to item. Slots 0..items-1 are the base corpus,
    later slots are the items that ``mutate`` adds."""

    seed: int
    now: datetime
    items: int
    outlets: list[Outlet]
    by_language: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_language = {"ko": [], "en": []}
        for outlet in self.outlets:
            self.by_language[outlet.language].append(outlet.index)

    def rng(self, kind: str, feed: int, slot: int) -> random.Random:
        return random.Random(f"{self.seed}/{kind}/{feed}/{slot}")

    def is_retelling(self, feed: int, slot: int) -> bool:
        return self.rng("kind", feed, slot).random() < RETELLING_SHARE

    def source_of(self, feed: int, slot: int) -> tuple[int, int] | None:
        """The original (feed, slot) that this item retells, or None for an original."""
        if not self.is_retelling(feed, slot):
            return None
        rng = self.rng("source", feed, slot)
        me = self.outlets[feed]
        peers = self.by_language[me.language]
        for _ in range(12):
            other = rng.choice(peers)
            other_slot = rng.randrange(self.items)
            if self.outlets[other].outlet != me.outlet and not self.is_retelling(other, other_slot):
                return other, other_slot
        return None

    def original_date(self, feed: int, slot: int) -> datetime:
        if slot >= self.items:  # added by a mutation: newer than every base item
            offset = NEWEST_BASE_AGE - timedelta(minutes=5 * (slot - self.items + 1))
            return self.now - max(offset, timedelta(0))
        rng = self.rng("date", feed, slot)
        age = rng.uniform(NEWEST_BASE_AGE.total_seconds(), WINDOW.total_seconds())
        return self.now - timedelta(seconds=int(age))

    def event(self, feed: int, slot: int) -> Event:
        return make_event(self.outlets[feed].language, self.rng("event", feed, slot))

    def item(self, feed: int, slot: int) -> Item:
        source = self.source_of(feed, slot)
        date = self.original_date(feed, slot)
        if source is None:
            return self.render(feed, slot, self.event(feed, slot), date, retelling=False)
        if slot < self.items:  # a retelling follows its source by minutes to hours
            delay = timedelta(minutes=self.rng("delay", feed, slot).randint(10, 360))
            latest = self.now - NEWEST_BASE_AGE
            date = min(self.original_date(*source) + delay, latest)
        return self.render(feed, slot, self.event(*source), date, retelling=True)

    def render(self, feed: int, slot: int, event: Event, date: datetime, retelling: bool) -> Item:
        outlet = self.outlets[feed]
        rng = self.rng("render", feed, slot)
        author = rng.choice(outlet.reporters)
        sentences = retold(event, rng) if retelling else list(event.sentences)
        city = event.facts["CITY2"] if retelling else event.city
        title = event.title(rng.randint(1, 2) if retelling else 0)
        target = rng.randint(2_000, 4_000) if outlet.long_bodies else rng.randint(300, 1_500)
        article = f"{date:%Y%m%d}{feed:04d}{slot:05d}"
        image = f"https://img.{outlet.domain.removeprefix('www.')}/{date:%Y/%m}/{article}.jpg"
        has_image = rng.random() < 0.6
        body = body_html(
            outlet, event, sentences, city, author, target, image if has_image else None, date.year
        )
        tracking = rng.choice(TRACKING).replace("{TOKEN}", f"{rng.getrandbits(64):016x}")
        link = article_link(outlet, article, date, rng)
        return Item(
            guid=f"{outlet.domain}/{article}",
            link=f"{link}?{tracking}" if rng.random() < 0.7 else link,
            title=title,
            published=date.astimezone(outlet.tz),
            author=author,
            categories=tuple(rng.sample(event.topic.categories, rng.randint(1, 2))),
            body=body,
            summary=sentences[0],
            image=image if (has_image or outlet.media) else None,
            retelling=retelling,
        )

    def feed_items(self, feed: int, revision: int) -> list[Item]:
        """The newest ``items`` of the base slots plus the slots added by ``revision``
        mutations: the new items come first and push the oldest out."""
        slots = range(self.items + NEW_ITEMS_PER_MUTATION * revision)
        items = sorted((self.item(feed, slot) for slot in slots), key=lambda i: i.published)
        return items[::-1][: self.items]


def retold(event: Event, rng: random.Random) -> list[str]:
    """The event told again: the lead kept, some sentences dropped, two swapped, some
    reworded."""
    lead, rest = event.sentences[0], list(event.sentences[1:])
    rest = [sentence for sentence in rest if rng.random() > 0.25]
    if len(rest) >= 3:
        i = rng.randrange(len(rest) - 1)
        rest[i], rest[i + 1] = rest[i + 1], rest[i]
    synonyms = KO_SYNONYMS if event.language == "ko" else EN_SYNONYMS
    return [lead, *(reword(sentence, synonyms, rng) for sentence in rest)]


def reword(sentence: str, synonyms: Sequence[tuple[str, str]], rng: random.Random) -> str:
    for old, new in synonyms:
        if old in sentence and rng.random() < 0.5:
            sentence = sentence.replace(old, new, 1)
    return sentence


def article_link(outlet: Outlet, article: str, date: datetime, rng: random.Random) -> str:
    if outlet.language == "ko" and rng.random() < 0.5:
        return f"https://{outlet.domain}/news/articleView.html?idxno={article[8:]}"
    return f"https://{outlet.domain}/{outlet.section_slug}/{date:%Y/%m/%d}/{article}"


def dateline(outlet: Outlet, city: str, author: str) -> str:
    if outlet.language == "ko":
        return f"({city}={outlet.outlet}) {author} 기자 = "
    return f"{city.upper()} ({outlet.outlet.removeprefix('The ')}) — "


def closing(outlet: Outlet, author: str, year: int) -> list[str]:
    if outlet.language == "ko":
        mailbox = f"reporter{zlib.crc32(author.encode()) % 1000}@{outlet.domain[4:]}"
        lines = [f"{author} 기자 {mailbox}"]
        if outlet.copyright:
            lines.append(f"&lt;저작권자 ⓒ {outlet.outlet}, 무단 전재 및 재배포 금지&gt;")
    else:
        editor = html.escape(outlet.reporters[0] if outlet.reporters[0] != author else "the desk")
        lines = [f"<em>Reporting by {html.escape(author)}; editing by {editor}</em>"]
        if outlet.copyright:
            lines.append(f"© {year} {html.escape(outlet.outlet)}. All rights reserved.")
    return lines


def body_html(
    outlet: Outlet,
    event: Event,
    sentences: list[str],
    city: str,
    author: str,
    target_bytes: int,
    image: str | None,
    year: int,
) -> str:
    """Paragraphs of one or two sentences until the body reaches ``target_bytes``."""
    parts: list[str] = []
    if image:
        alt = html.escape(event.title(0), quote=True)
        parts.append(f'<p><img src="{image}" alt="{alt}" width="640" height="360"></p>')
    size = sum(len(part.encode()) for part in parts)
    pending = list(sentences)
    first = True
    while pending and (size < target_bytes or first):
        take = 2 if len(pending) > 1 and len(pending[0]) < 90 else 1
        text = " ".join(html.escape(sentence, quote=False) for sentence in pending[:take])
        del pending[:take]
        if first:
            text, first = html.escape(dateline(outlet, city, author), quote=False) + text, False
        paragraph = f"<p>{text}</p>"
        parts.append(paragraph)
        size += len(paragraph.encode())
    related = f"https://{outlet.domain}/{outlet.section_slug}/"
    label = "관련 기사 더 보기" if outlet.language == "ko" else "More from this section"
    parts.append(f'<p><a href="{related}?utm_source=rss&amp;utm_medium=feed">{label}</a></p>')
    parts.extend(f"<p>{line}</p>" for line in closing(outlet, author, year))
    return "\n".join(parts)


# --- writers ---------------------------------------------------------------------------------


def xml_text(value: str) -> str:
    return html.escape(value, quote=False)


def xml_attr(value: str) -> str:
    return html.escape(value, quote=True)


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss_item(outlet: Outlet, item: Item, escaped: bool) -> str:
    body = xml_text(item.body) if escaped else cdata(item.body)
    lines = [
        "<item>",
        f"<title>{xml_text(item.title)}</title>",
        f"<link>{xml_text(item.link)}</link>",
        f'<guid isPermaLink="false">{xml_text(item.guid)}</guid>',
        f"<pubDate>{format_datetime(item.published)}</pubDate>",
        f"<dc:creator>{xml_text(item.author)}</dc:creator>",
        *(f"<category>{xml_text(c)}</category>" for c in item.categories),
    ]
    if escaped:  # the whole body in an entity-escaped description, as many CMSes do
        lines.append(f"<description>{body}</description>")
    else:
        lines.append(f"<description>{cdata(item.summary)}</description>")
        lines.append(f"<content:encoded>{body}</content:encoded>")
    if item.image and outlet.media:
        lines.append(
            f'<media:content url="{xml_attr(item.image)}" medium="image" type="image/jpeg" '
            'width="1200" height="675"/>'
        )
        lines.append(f'<enclosure url="{xml_attr(item.image)}" length="84211" type="image/jpeg"/>')
    lines.append("</item>")
    return "\n".join(lines)


def write_rss(outlet: Outlet, items: list[Item], now: datetime, escaped: bool) -> str:
    language = "ko-KR" if outlet.language == "ko" else "en-us"
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
        f"<title>{xml_text(outlet.name)}</title>\n<link>{outlet.home}</link>\n"
        f"<description>{xml_text(outlet.name)}</description>\n<language>{language}</language>\n"
        f"<lastBuildDate>{format_datetime(now.astimezone(outlet.tz))}</lastBuildDate>\n"
        f'<atom:link href="{outlet.home}rss/{outlet.section_slug}.xml" rel="self" '
        'type="application/rss+xml"/>\n'
    )
    body = "\n".join(rss_item(outlet, item, escaped) for item in items)
    return f"{head}{body}\n</channel>\n</rss>\n"


def atom_entry(outlet: Outlet, item: Item) -> str:
    lines = [
        "<entry>",
        f'<title type="html">{xml_text(item.title)}</title>',
        f'<link rel="alternate" type="text/html" href="{xml_attr(item.link)}"/>',
        f"<id>tag:{outlet.domain},{item.published:%Y}:{xml_text(item.guid)}</id>",
        f"<published>{item.published.isoformat()}</published>",
        f"<updated>{item.published.isoformat()}</updated>",
        f"<author><name>{xml_text(item.author)}</name></author>",
        *(f'<category term="{xml_attr(c)}"/>' for c in item.categories),
        f"<summary>{xml_text(item.summary)}</summary>",
        f'<content type="html">{xml_text(item.body)}</content>',
    ]
    if item.image and outlet.media:
        href = xml_attr(item.image)
        lines.append(f'<link rel="enclosure" type="image/jpeg" length="84211" href="{href}"/>')
    lines.append("</entry>")
    return "\n".join(lines)


def write_atom(outlet: Outlet, items: list[Item], now: datetime) -> str:
    language = "ko" if outlet.language == "ko" else "en"
    head = (
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}">\n'
        f"<title>{xml_text(outlet.name)}</title>\n"
        f'<link rel="alternate" href="{outlet.home}"/>\n'
        f'<link rel="self" href="{outlet.home}atom/{outlet.section_slug}.atom"/>\n'
        f"<id>{outlet.home}atom/{outlet.section_slug}</id>\n"
        f"<updated>{now.astimezone(outlet.tz).isoformat()}</updated>\n"
    )
    body = "\n".join(atom_entry(outlet, item) for item in items)
    return f"{head}{body}\n</feed>\n"


def json_item(outlet: Outlet, item: Item) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": item.guid,
        "url": item.link,
        "title": item.title,
        "content_html": item.body,
        "summary": item.summary,
        "date_published": item.published.isoformat(),
        "authors": [{"name": item.author}],
        "tags": list(item.categories),
    }
    if item.image:
        entry["image"] = item.image
        if outlet.media:
            entry["attachments"] = [
                {"url": item.image, "mime_type": "image/jpeg", "size_in_bytes": 84211}
            ]
    return entry


def write_json(outlet: Outlet, items: list[Item]) -> str:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": outlet.name,
        "home_page_url": outlet.home,
        "feed_url": f"{outlet.home}feed/{outlet.section_slug}.json",
        "language": "ko" if outlet.language == "ko" else "en",
        "items": [json_item(outlet, item) for item in items],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


WRITERS: dict[str, Callable[[Outlet, list[Item], datetime], str]] = {
    "rss-cdata": lambda outlet, items, now: write_rss(outlet, items, now, escaped=False),
    "rss-escaped": lambda outlet, items, now: write_rss(outlet, items, now, escaped=True),
    "atom": write_atom,
    "json": lambda outlet, items, now: write_json(outlet, items),
}


def write_feed(corpus: Corpus, outlet: Outlet, revision: int, out: Path) -> list[Item]:
    items = corpus.feed_items(outlet.index, revision)
    text = WRITERS[outlet.format](outlet, items, corpus.now)
    (out / outlet.file).write_text(text, encoding="utf-8")
    return items


# --- the manifest, generate and mutate -------------------------------------------------------


def manifest_entry(outlet: Outlet, revision: int) -> dict[str, object]:
    return {
        "file": outlet.file,
        "format": outlet.format,
        "language": outlet.language,
        "id": outlet.id,
        "name": outlet.name,
        "home": outlet.home,
        "long_bodies": outlet.long_bodies,
        "revision": revision,
    }


def write_manifest(corpus: Corpus, out: Path, revisions: list[int], stats: dict[str, int]) -> None:
    manifest = {
        "seed": corpus.seed,
        "now": corpus.now.isoformat(),
        "items": corpus.items,
        **stats,
        "feeds": [manifest_entry(o, r) for o, r in zip(corpus.outlets, revisions, strict=True)],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


def default_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def generate(
    out: Path, feeds: int = 1000, items: int = 50, seed: int = 1, now: datetime | None = None
) -> dict[str, object]:
    """Write the base corpus into ``out`` and return its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(seed, now or default_now(), items, build_outlets(seed, feeds))
    entries = retellings = 0
    for outlet in corpus.outlets:
        written = write_feed(corpus, outlet, 0, out)
        entries += len(written)
        retellings += sum(item.retelling for item in written)
    write_manifest(corpus, out, [0] * feeds, {"entries": entries, "retellings": retellings})
    return load_manifest(out)


def load_manifest(directory: Path) -> dict[str, object]:
    return json.loads((directory / MANIFEST).read_text())


def mutate(directory: Path, fraction: float = 0.1, seed: int = 0) -> int:
    """Rewrite ``fraction`` of the feeds with new items prepended and as many of the oldest
    dropped; return the number of new items."""
    manifest = load_manifest(directory)
    feeds: list[dict[str, object]] = manifest["feeds"]  # type: ignore[assignment]
    corpus = Corpus(
        int(manifest["seed"]),  # type: ignore[arg-type]
        datetime.fromisoformat(str(manifest["now"])),
        int(manifest["items"]),  # type: ignore[arg-type]
        build_outlets(int(manifest["seed"]), len(feeds)),  # type: ignore[arg-type]
    )
    count = max(1, round(fraction * len(feeds))) if fraction > 0 else 0
    chosen = random.Random(f"{corpus.seed}/mutate/{seed}").sample(range(len(feeds)), count)
    revisions = [int(entry["revision"]) for entry in feeds]  # type: ignore[call-overload]
    new_items = 0
    for index in sorted(chosen):
        before = {item.guid for item in corpus.feed_items(index, revisions[index])}
        revisions[index] += 1
        written = write_feed(corpus, corpus.outlets[index], revisions[index], directory)
        new_items += sum(item.guid not in before for item in written)
    stats = {k: int(manifest[k]) for k in ("entries", "retellings")}  # type: ignore[call-overload]
    write_manifest(corpus, directory, revisions, stats)
    return new_items


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", type=datetime.fromisoformat, help="ISO time; default this hour")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    now = args.now.astimezone(UTC) if args.now else None
    started = time.perf_counter()
    manifest = generate(args.out, args.feeds, args.items, args.seed, now)
    print(
        f"{args.feeds} feeds, {manifest['entries']} items ({manifest['retellings']} retellings) "
        f"in {args.out} ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
