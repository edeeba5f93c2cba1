#!/usr/bin/env python3
"""Validate benchmarks/dedup/eval/stories.jsonl and print its counts table.

Usage (from the repository root):  python3 benchmarks/dedup/eval/check_set.py
Exits with status 1 if any check fails.
"""

import collections
import datetime as dt
import json
import re
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent / "stories.jsonl"
KEYS = ["id", "story", "outlet", "lang", "kind", "resembles", "title", "body", "published", "half"]
KINDS = [
    "wire_copy",
    "headline_trim",
    "rewrite",
    "independent",
    "single",
    "hard_negative",
    "follow_up",
]
MULTI_KINDS = {"wire_copy", "headline_trim", "rewrite", "independent"}
HALVES = ["tune", "heldout"]
LANGS = ["ko", "en"]

errors = []


def err(msg):
    errors.append(msg)


rows = []
with PATH.open(encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            err(f"line {n}: invalid JSON ({e})")

# ---- per-line checks
ids = collections.Counter(r.get("id") for r in rows)
for i, c in ids.items():
    if c > 1:
        err(f"duplicate id {i} ({c} times)")

for r in rows:
    rid = r.get("id", "?")
    if sorted(r) != sorted(KEYS):
        err(f"{rid}: keys {sorted(r)} != {sorted(KEYS)}")
        continue
    for k in KEYS:
        if k != "resembles" and (not isinstance(r[k], str) or not r[k].strip()):
            err(f"{rid}: {k} must be a non-empty string")
    if r["lang"] not in LANGS:
        err(f"{rid}: bad lang {r['lang']}")
    if r["kind"] not in KINDS:
        err(f"{rid}: bad kind {r['kind']}")
    if r["half"] not in HALVES:
        err(f"{rid}: bad half {r['half']}")
    if not re.fullmatch(r"(ko|en)-\d{3,4}-[a-z]", r["id"]) or not r["id"].startswith(
        r["story"] + "-"
    ):
        err(f"{rid}: id must look like <story>-<letter>")
    if not r["id"].startswith(r["lang"]):
        err(f"{rid}: id prefix does not match lang")
    if r["kind"] in ("hard_negative", "follow_up"):
        if not isinstance(r["resembles"], str):
            err(f"{rid}: {r['kind']} needs resembles")
    elif r["resembles"] is not None:
        err(f"{rid}: resembles must be null for kind {r['kind']}")
    try:
        ts = dt.datetime.fromisoformat(r["published"])
        if ts.utcoffset() is None:
            err(f"{rid}: published has no offset")
        off = ts.utcoffset().total_seconds() / 3600 if ts.utcoffset() is not None else None
        if r["lang"] == "ko" and off != 9:
            err(f"{rid}: Korean outlet should use +09:00")
        if r["lang"] == "en" and off not in (0, -5):
            err(f"{rid}: English outlet should use +00:00 or -05:00")
        r["_ts"] = ts
    except (ValueError, TypeError):
        err(f"{rid}: bad published {r['published']!r}")
    paras = re.findall(r"<p>(.*?)</p>", r["body"], flags=re.S)
    if r["body"] != "\n".join(f"<p>{p}</p>" for p in paras):
        err(f"{rid}: body must be <p>…</p> paragraphs separated by newlines")
    if not 3 <= len(paras) <= 7:
        err(f"{rid}: {len(paras)} paragraphs (want 3-7)")
    text = " ".join(paras)
    if r["lang"] == "en":
        n = len(text.split())
        if not 80 <= n <= 350:
            err(f"{rid}: {n} words (want 80-350)")
    else:
        n = len(text)
        if not 250 <= n <= 900:
            err(f"{rid}: {n} characters (want 250-900)")

# ---- per-story checks
stories = collections.defaultdict(list)
for r in rows:
    if "story" in r:
        stories[r["story"]].append(r)


def story_type(arts):
    kinds = {a["kind"] for a in arts}
    if kinds <= MULTI_KINDS:
        return "multi"
    if len(kinds) == 1:
        return kinds.pop()
    return "mixed"


stype = {}
for s, arts in stories.items():
    t = story_type(arts)
    stype[s] = t
    if t == "mixed":
        err(f"{s}: mixes multi-outlet kinds with {sorted({a['kind'] for a in arts})}")
    if len({a["half"] for a in arts}) != 1:
        err(f"{s}: tellings are in different halves")
    if len({a["lang"] for a in arts}) != 1:
        err(f"{s}: tellings in different languages")
    outlets = [a["outlet"] for a in arts]
    if t == "multi":
        if not 2 <= len(arts) <= 4:
            err(f"{s}: {len(arts)} tellings (want 2-4)")
        if len(set(outlets)) != len(outlets):
            err(f"{s}: an outlet appears twice: {outlets}")
        ts = [a["_ts"] for a in arts if "_ts" in a]
        if ts and max(ts) - min(ts) > dt.timedelta(hours=12):
            err(f"{s}: tellings span more than 12 hours")
    elif len(arts) != 1:
        err(f"{s}: {t} story should have exactly one article, has {len(arts)}")

for s, arts in stories.items():
    a = arts[0]
    if a["kind"] not in ("hard_negative", "follow_up"):
        continue
    target = a["resembles"]
    if target not in stories:
        err(f"{s}: resembles unknown story {target}")
        continue
    if target == s:
        err(f"{s}: resembles itself")
    if stype.get(target) != "multi":
        err(f"{s}: resembles {target}, which is not a multi-outlet story")
    if stories[target][0]["half"] != a["half"]:
        err(f"{s}: half {a['half']} differs from resembled story {target}")
    if a["kind"] == "follow_up" and "_ts" in a:
        first = min(x["_ts"] for x in stories[target] if "_ts" in x)
        gap = a["_ts"] - first
        # 4 h lower bound: the tune-half additions (ko/en-113, -114) are same-day follow-ups.
        if not dt.timedelta(hours=4) <= gap <= dt.timedelta(days=4):
            err(
                f"{s}: follow-up published {gap} after {target} "
                "(want 4 hours to about 3 days later)"
            )


# ---- counts
def table(title, counter, row_keys, unit):
    print(f"\n{title}")
    print(f"| lang | {unit:<13} | tune | heldout | total |")
    print("|------|---------------|-----:|--------:|------:|")
    tot = collections.Counter()
    for lang in LANGS:
        for k in row_keys:
            t, h = counter[(lang, k, "tune")], counter[(lang, k, "heldout")]
            if t + h == 0:
                continue
            print(f"| {lang:<4} | {k:<13} | {t:>4} | {h:>7} | {t + h:>5} |")
            tot["tune"] += t
            tot["heldout"] += h
    print(
        f"| all  | {'total':<13} | {tot['tune']:>4} | {tot['heldout']:>7} "
        f"| {tot['tune'] + tot['heldout']:>5} |"
    )


art_counts = collections.Counter((r["lang"], r["kind"], r["half"]) for r in rows if "half" in r)
table("Articles by language x kind x half", art_counts, KINDS, "kind")

story_counts = collections.Counter()
for s, arts in stories.items():
    t = stype[s]
    if t == "multi":
        t = "multi+indep" if any(a["kind"] == "independent" for a in arts) else "multi"
    story_counts[(arts[0]["lang"], t, arts[0]["half"])] += 1
table(
    "Stories by language x story type x half  "
    "(multi+indep = multi-outlet story with independent tellings)",
    story_counts,
    ["multi+indep", "multi", "hard_negative", "follow_up", "single"],
    "story type",
)

multi_tellings = [r for r in rows if r.get("kind") in MULTI_KINDS]
print("\nShare of tellings in multi-outlet stories by kind")
for lang in [*LANGS, "all"]:
    sel = [r for r in multi_tellings if lang == "all" or r["lang"] == lang]
    c = collections.Counter(r["kind"] for r in sel)
    parts = (
        ", ".join(
            f"{k} {c[k]} ({100 * c[k] / len(sel):.0f}%)"
            for k in ["independent", "rewrite", "wire_copy", "headline_trim"]
        )
        if sel
        else "-"
    )
    print(f"  {lang}: {len(sel)} tellings: {parts}")
sizes = collections.Counter(len(arts) for s, arts in stories.items() if stype[s] == "multi")
print(
    "  multi-outlet story sizes:", ", ".join(f"{k} tellings: {v}" for k, v in sorted(sizes.items()))
)
print(
    f"  outlets used: ko {len({r['outlet'] for r in rows if r.get('lang') == 'ko'})}, "
    f"en {len({r['outlet'] for r in rows if r.get('lang') == 'en'})}"
)

print()
if errors:
    for e in errors:
        print("ERROR", e)
    print(f"{len(errors)} error(s) in {len(rows)} lines")
    sys.exit(1)
print(f"OK: {len(rows)} articles, {len(stories)} stories, all checks passed")
