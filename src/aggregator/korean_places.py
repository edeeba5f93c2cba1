"""Korean place names: the provinces and metropolitan cities, the cities, counties and
districts under them, and the bodies named after a place (수원지법, 서초구청).

Two reports of different events of one day in one region name the same province, city
and court; counted as separate names they looked like two things both reports name. A
place says where, once (``same_story._named_things``). Names that are also common words
(예산 budget, 영양 nutrition, 고령 old age, 영광 glory, 음성 voice, 구리 copper, 오산
miscalculation, 장수 longevity, 진도 progress, 공주 princess, 부여 grant, 양주 liquor, and
districts such as 수영 swimming, 광산 mine, 사상 ideology) are left out.
"""

from __future__ import annotations


def _names(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


PROVINCES = _names(
    "서울 부산 대구 인천 광주 대전 울산 세종 경기 강원 충북 충남 전북 전남 경북 경남 제주 "
    "경기도 강원도 충청북도 충청남도 전라북도 전라남도 경상북도 경상남도 제주도 전북도 "
    "충남도 충북도 경북도 경남도 전남도"
)

CITIES_AND_COUNTIES = _names(
    # 경기
    "수원 성남 의정부 안양 부천 광명 평택 동두천 안산 고양 과천 남양주 시흥 군포 의왕 "
    "하남 용인 파주 이천 안성 김포 화성 포천 여주 가평 양평 연천 "
    # 강원
    "춘천 원주 강릉 동해 태백 속초 삼척 홍천 횡성 영월 평창 정선 철원 화천 양구 인제 "
    "고성 양양 "
    # 충북, 충남
    "청주 충주 제천 보은 옥천 영동 증평 진천 괴산 단양 천안 보령 아산 서산 논산 "
    "계룡 당진 금산 서천 청양 홍성 태안 "
    # 전북, 전남
    "전주 군산 익산 정읍 남원 김제 완주 진안 무주 임실 순창 고창 부안 목포 여수 순천 "
    "나주 광양 담양 곡성 구례 고흥 보성 화순 장흥 강진 해남 영암 무안 함평 장성 완도 "
    "신안 "
    # 경북, 경남
    "포항 경주 김천 안동 구미 영주 영천 상주 문경 경산 군위 의성 청송 영덕 청도 성주 "
    "칠곡 예천 봉화 울진 울릉 창원 진주 통영 사천 김해 밀양 거제 양산 의령 함안 창녕 "
    "남해 하동 산청 함양 거창 합천 "
    # 제주, and the counties of the metropolitan cities
    "서귀포 기장 달성 강화 옹진 울주 "
    # districts (구) of 서울 and the metropolitan cities
    "종로 용산 성동 광진 동대문 중랑 성북 강북 도봉 노원 은평 서대문 마포 양천 강서 구로 "
    "금천 영등포 동작 관악 서초 강남 송파 강동 해운대 사하 금정 연제 동래 부산진 영도 "
    "미추홀 부평 계양 수성 달서 유성 대덕 분당 일산"
)

#: What ends the name of a body named after its place: a court, the police, the council.
BODY_SUFFIXES = (
    "특별시", "광역시", "특별자치시", "특별자치도", "지법", "지검", "고법", "고검", "법원",
    "경찰서", "경찰청", "소방서", "소방본부", "교육청", "시청", "군청", "구청", "도청",
    "시의회", "도의회", "군의회", "구의회",
)  # fmt: skip


def is_korean_place(name: str) -> bool:
    """Whether a Korean name is a place (or a body named by its place): a province, a
    city, county or district, one with a body's suffix (수원지법, 부산진경찰서), or one
    opening with a known place (김천시, 김천실내체육관). Not any name ending in 시, 구 or
    동: so do people's names (박성구)."""
    if name in PROVINCES or name in CITIES_AND_COUNTIES:
        return True
    if len(name) > 2 and name.endswith(BODY_SUFFIXES):
        return True
    return any(name[:end] in _PLACES for end in range(2, len(name)))


_PLACES = PROVINCES | CITIES_AND_COUNTIES
