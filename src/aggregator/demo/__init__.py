"""``aggregator demo``: what the aggregator does, on bundled sample feeds, offline.

Four sample outlets (Korean and English; RSS, Atom and JSON Feed) tell a few stories
twice or three times. The feeds are copied into the demo directory and read from there
(``file://`` feed files), so the ``feeds.yaml`` the demo writes keeps working afterwards:
``serve`` shows what it made, ``fetch`` and ``run`` go on with it. The demo shows which
stories were folded, explains one, and says how to split an article out and how to look
at the result in a browser. Running it again changes nothing: the sample feeds do not
change, so no source is due and the publish writes no file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aggregator import pipeline
from aggregator.atomic_files import write_atomic
from aggregator.config import Settings, load_config
from aggregator.explain import explain_lines
from aggregator.store import Store
from aggregator.stories import kept_items

HERE = Path(__file__).parent
FEEDS = HERE / "feeds"


def run_demo(directory: Path, echo: Callable[[str], None] = print) -> int:
    """Run the demo in ``directory``; returns the exit status."""
    directory = directory.absolute()
    samples = directory / "sample-feeds"
    samples.mkdir(parents=True, exist_ok=True)
    for feed in sorted(FEEDS.iterdir()):
        write_atomic(samples / feed.name, feed.read_bytes())
    config_path = directory / "feeds.yaml"
    template = (HERE / "feeds.yaml").read_text(encoding="utf-8")
    write_atomic(config_path, template.replace("{samples}", samples.as_uri()).encode())
    settings = load_config(config_path)
    command = f"aggregator -c {_shown(config_path)}"
    now = datetime.now(UTC)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        states = store.states()
        due = [
            s for s in settings.sources if s.id not in states or pipeline.is_due(states[s.id], now)
        ]
        reports = asyncio.run(pipeline.run_pass(settings, store, due, lambda: datetime.now(UTC)))
        result = pipeline.publish_all(settings, store, datetime.now(UTC))
        folded = _folded_stories(settings)
        explained = explain_lines(settings, store, folded[0][0]) if folded else []
        # A member that is not the one shown, to split out.
        members = store.story(folded[0][0]) if folded else []
        kept = {item.article.id for item in kept_items(members, pipeline.source_rank(settings))}
        spare = next((m.article.id for m in members if m.article.id not in kept), None)

    echo(f"sample feeds: {_shown(samples)} ({len(settings.sources)} outlets)")
    for report in reports:
        outcome = report.error or (
            f"{report.inserted + report.folded} new articles"
            + (
                f" ({report.folded} folded into a story another outlet told)"
                if report.folded
                else ""
            )
        )
        echo(f"  {report.source_id}: {outcome}")
    if not reports:
        echo("  nothing due: every sample feed was read less than an hour ago")
    echo("")
    echo(f"the same story from several outlets, shown once ({len(folded)} stories):")
    for _, title, outlets in folded:
        echo(f"  {title}")
        echo(f"    told by {', '.join(outlets)}")
    if folded:
        echo("")
        echo(f"why the first is one story ({command} dedup explain {folded[0][0]}):")
        for line in explained:
            echo(f"  {line}")
        if spare:
            echo(f"to take one article out of it for good: {command} dedup split {spare}")
    echo("")
    out = settings.output.dir
    echo(f"published ({len(result.changed)} files changed):")
    for channel in settings.channels:
        echo(f"  {channel.title}: {_shown(out / 'feeds' / channel.id)}.xml (.atom, .json)")
    echo(f"  index page: {_shown(out / 'index.html')}")
    if settings.output.posts_dir:
        echo(f"  posts ({result.posts_written} written): {_shown(settings.output.posts_dir)}")
    host, port = settings.server.host, settings.server.port
    echo("")
    echo(f"to browse it: {command} serve   (then open http://{host}:{port}/)")
    return 1 if any(report.failed for report in reports) else 0


def _folded_stories(settings: Settings) -> list[tuple[str, str, list[str]]]:
    """(story id, title, outlets) of each story told by more than one outlet, from the
    channel of everything as published."""
    first = settings.channels[0]
    document = json.loads((settings.output.dir / "feeds" / f"{first.id}.json").read_bytes())
    stories = []
    for item in document["items"]:
        extension = item["_aggregator"]
        others = [mention["source"] for mention in extension["also_reported_by"]]
        if others:
            outlets = [extension.get("source", {}).get("name", "?"), *others]
            stories.append((extension["story"], item["title"], outlets))
    stories.sort(key=lambda story: -len(story[2]))
    return stories


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
