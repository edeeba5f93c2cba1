"""The command line (README, "Commands"): parse arguments, call the pipeline, print.

Exit status: 0 done, 1 some sources failed, 2 bad usage or invalid configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path

import click

from aggregator import pipeline, reader_trust, websub, worker
from aggregator.atomic_files import rewrite_in_place
from aggregator.config import Settings, load_config, parse_config
from aggregator.config.additions import append_sources
from aggregator.errors import AggregatorError, ConfigError, ConfigNotFound, StoreError
from aggregator.explain import explain_lines, review_lines
from aggregator.metrics import Metrics
from aggregator.model import Source, SourceState
from aggregator.opml import parse_opml, plan_import, render_opml
from aggregator.pipeline import SourceReport
from aggregator.publish import render_site
from aggregator.reading import ReaderError, ReaderTimeout, reader_client
from aggregator.render_cache import RenderCache
from aggregator.selection import select_from_store
from aggregator.server import PublishedSite, ServeError, create_app, serve, serve_in_thread
from aggregator.store import Store
from aggregator.syndication import story_of_item_id


def utcnow() -> datetime:
    return datetime.now(UTC)


def load(ctx: click.Context) -> Settings:
    """The configuration, or exit 2 with the reason."""
    path: Path = ctx.obj["config"]
    try:
        return load_config(path)
    except ConfigNotFound:
        steps = (
            (f"aggregator -c {path} init", "writes a commented starter there"),
            ("aggregator -c PATH COMMAND", "uses another file (or set AGGREGATOR_CONFIG)"),
        )
        width = max(len(command) for command, _ in steps) + 3
        click.echo(f"no configuration file at {path.absolute()}; next:", err=True)
        for command, does in steps:
            click.echo(f"  {command:<{width}}{does}", err=True)
        ctx.exit(2)
        raise  # unreachable; ctx.exit raises
    except ConfigError as error:
        click.echo(f"invalid configuration:\n{error}", err=True)
        ctx.exit(2)
        raise  # unreachable; ctx.exit raises


def open_store(settings: Settings) -> Store:
    store = Store.open(settings.storage)
    store.sync_sources(settings.sources)
    return store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="AGGREGATOR_CONFIG",
    default="feeds.yaml",
    show_default=True,
    help="The feeds.yaml to use (also $AGGREGATOR_CONFIG).",
)
@click.version_option(package_name="aggregator")
@click.pass_context
def main(ctx: click.Context, config: Path) -> None:
    """A news feed aggregator: many outlets in, one clean story out."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented starter feeds.yaml (at -c PATH, default ./feeds.yaml)."""
    path: Path = ctx.obj["config"]
    try:
        with path.open("x", encoding="utf-8") as out:  # never over an operator's file
            out.write(starter_config())
    except FileExistsError:
        click.echo(f"{path} already exists; nothing written", err=True)
        ctx.exit(2)
    except OSError as error:
        click.echo(f"error: cannot write {path}: {error.strerror}", err=True)
        ctx.exit(1)
    click.echo(f"wrote {path}: edit its sources, then `aggregator -c {path} check`")


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate feeds.yaml and print what would be fetched and published."""
    settings = load(ctx)
    click.echo(f"{ctx.obj['config']}: valid")
    click.echo(f"store: {settings.storage}")
    click.echo(f"sources ({len(settings.sources)}):")
    # One column width for both lists, however long an imported id is.
    width = max((len(x.id) for x in (*settings.sources, *settings.channels)), default=0)
    for source in settings.sources:
        every = _duration(source.interval.total_seconds())
        categories = ", ".join(source.categories) or "-"
        click.echo(f"  {source.id:<{width}}  every {every:<6} {source.url}  [{categories}]")
    out = settings.output.dir
    click.echo(f"channels ({len(settings.channels)}), written under {out}:")
    for channel in settings.channels:
        click.echo(f"  {channel.id:<{width}}  {channel.title}: feeds/{channel.id}.xml .atom .json")
    click.echo(f"also: {out / 'opml.xml'}, {out / 'index.html'}")
    posts = settings.output.posts_dir
    click.echo(f"posts: {posts}" if posts else "posts: disabled")
    reader = settings.dedup.reader
    if reader is not None:
        click.echo(
            f"reader: {reader.model} at {reader.url} (`aggregator dedup check-reader` asks it "
            "the questions whose answers are known)"
        )


@main.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Fetch this source.")
@click.option("--all", "fetch_all", is_flag=True, help="Fetch every source, due or not.")
@click.pass_context
def fetch(ctx: click.Context, source_ids: Sequence[str], fetch_all: bool) -> None:
    """One pass over due (or all / named) sources, then publish."""
    settings = load(ctx)
    known = {source.id: source for source in settings.sources}
    unknown = [sid for sid in source_ids if sid not in known]
    if unknown:
        raise click.BadParameter(f"no such source: {', '.join(unknown)}", param_hint="--source")
    with _store_or_exit(ctx, settings) as store:
        now = utcnow()
        if source_ids:
            chosen = [known[sid] for sid in source_ids]
        elif fetch_all:
            chosen = list(settings.sources)
        else:
            # Claimed as workers and `run` claim them: a source another process is
            # fetching now is left to it. Each recorded fetch ends its claim.
            worker.release_dead_leases(store)
            claimed = set(
                store.claim_due(worker.owner_name(), now, worker.LEASE, len(known), list(known))
            )
            chosen = [source for source in settings.sources if source.id in claimed]
        reports = _run_with_progress(settings, store, chosen)
        read = asyncio.run(pipeline.read_new_folds(settings, store, utcnow))
        pruned = pipeline.prune(settings, store, utcnow())
        result = pipeline.publish_all(settings, store, utcnow())
    _announce(settings, result.changed)
    failed = [report for report in reports if report.failed]
    if read.read:
        click.echo(
            f"read: the reader read {read.read} folds, {read.split} split out, "
            f"{read.joined} joined",
            err=True,
        )
    if pruned:
        click.echo(f"pruned: {pruned} articles first seen over {_span(settings)} ago", err=True)
    for report in failed:
        click.echo(f"failed: {report.source_id}: {report.error}", err=True)
    for report in reports:
        for warning in report.warnings:
            click.echo(f"warning: {report.source_id}: {warning}", err=True)
        if report.moved_to:
            click.echo(f"moved: {report.source_id}: now at {report.moved_to}", err=True)
    click.echo(_summary(reports, result.channels, len(result.changed)))
    ctx.exit(1 if failed else 0)


def _announce(settings: Settings, changed: Sequence[str]) -> None:
    """Tell ``publish.websub_hub`` which feeds changed, as ``run`` does after a publish:
    every channel declares the hub, so its subscribers wait for this."""
    if settings.publish.websub_hub:
        for problem in asyncio.run(websub.announce(settings, changed)):
            click.echo(f"warning: {problem}", err=True)


def _span(settings: Settings) -> str:
    return _duration(settings.retention.total_seconds()) if settings.retention else "ever"


def _run_with_progress(
    settings: Settings, store: Store, sources: Sequence[Source]
) -> list[SourceReport]:
    if not sys.stderr.isatty() or not sources:
        return asyncio.run(pipeline.run_pass(settings, store, sources, utcnow))
    with click.progressbar(length=len(sources), label="fetching", file=sys.stderr) as bar:
        return asyncio.run(
            pipeline.run_pass(settings, store, sources, utcnow, on_done=lambda _: bar.update(1))
        )


def _summary(reports: Sequence[SourceReport], channels: int, files_changed: int) -> str:
    counts = {
        status: sum(r.status == status for r in reports)
        for status in ("ok", "not_modified", "error")
    }
    new, updated = sum(r.inserted for r in reports), sum(r.updated for r in reports)
    folded = sum(r.folded for r in reports)
    return (
        f"{len(reports)} sources: {counts['ok']} fetched, {counts['not_modified']} not modified, "
        f"{counts['error']} failed; {new} new, {updated} updated, {folded} folded into "
        f"stories already told; {channels} channels published, {files_changed} files changed"
    )


@main.command()
@click.pass_context
def sources(ctx: click.Context) -> None:
    """Each source's health: last fetch, status, errors, next due, article count."""
    settings = load(ctx)
    tz = settings.site.tz
    with _store_or_exit(ctx, settings) as store:
        states = store.states()
    rows = [
        (source, states.get(source.id) or SourceState(source.id)) for source in settings.sources
    ]
    click.echo(health_table(rows, tz))
    stored = sum(state.article_count for _, state in rows)
    if settings.retention is None:
        click.echo(f"{stored} articles stored; every article is kept (retention: null)")
    else:
        click.echo(
            f"{stored} articles stored; those first seen and dated over "
            f"{_span(settings)} ago are removed (retention), their posts stay"
        )


def health_table(rows: Sequence[tuple[Source, SourceState]], tz: tzinfo) -> str:
    """The sources' health as an aligned table, then what needs the operator's attention."""

    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}" if moment else "never"

    table = [("SOURCE", "STATUS", "ARTICLES", "LAST SUCCESS", "NEXT FETCH", "LAST ERROR")]
    notes = []
    for source, state in rows:
        status = state.last_status or "not fetched"
        if state.http_status:
            status += f" ({state.http_status})"
        if state.disabled:
            upcoming = "disabled"
            notes.append(f"{source.id}: disabled: {state.disabled}")
        elif state.next_due:
            upcoming = f"next at {when(state.next_due)} because {state.next_reason or 'interval'}"
        else:
            upcoming = "at the next pass"
        error = f"{state.last_error} ({state.error_count} in a row)" if state.last_error else ""
        table.append(
            (source.id, status, str(state.article_count), when(state.last_success), upcoming, error)
        )
        if state.moved_to:
            notes.append(
                f"{source.id}: moved permanently to {state.moved_to}: update its url in "
                "feeds.yaml (or set fetch.follow_permanent_redirects)"
            )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in table]  # fmt: skip
    return "\n".join([*lines, *notes])


@main.group()
def opml() -> None:
    """Sources to and from OPML 2.0 (what feed readers import and export)."""


@opml.command("export")
@click.pass_context
def opml_export(ctx: click.Context) -> None:
    """Print the configured sources as OPML 2.0."""
    settings = load(ctx)
    click.echo(render_opml(settings.site.title, settings.sources, utcnow()).decode(), nl=False)


@opml.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Also add file:// URLs and addresses of this machine or a private network.",
)
@click.pass_context
def opml_import(ctx: click.Context, file: Path, dry_run: bool, allow_private: bool) -> None:
    """Add FILE's subscriptions to feeds.yaml as sources (existing ones are kept)."""
    settings = load(ctx)
    config_path: Path = ctx.obj["config"]
    try:
        outlines = parse_opml(file.read_bytes())
    except ValueError as error:
        click.echo(f"{file}: {error}", err=True)
        ctx.exit(2)
    plan = plan_import(outlines, settings.sources, allow_private)
    for outline, existing in plan.duplicates:
        click.echo(f"already a source: {outline.xml_url} (as {existing})")
    for outline, reason in plan.refused:
        click.echo(f"refused: {outline.xml_url} is {reason}; --allow-private adds it", err=True)
    text = config_path.read_text(encoding="utf-8")
    try:
        updated = append_sources(text, plan.new)
        parse_config(updated, filename=str(config_path), base_dir=config_path.parent)
    except (ValueError, ConfigError) as error:
        click.echo(f"cannot add the sources to {config_path}: {error}", err=True)
        ctx.exit(2)
    for entry in plan.new:
        click.echo(f"{'would add' if dry_run else 'added'}: {entry['id']}  {entry['url']}")
    if not dry_run and plan.new:
        rewrite_in_place(config_path, updated.encode("utf-8"))
    click.echo(
        f"{len(plan.new)} new sources, {len(plan.duplicates)} already configured"
        + (f", {len(plan.refused)} refused" if plan.refused else "")
    )


@main.group()
def db() -> None:
    """The store itself: move it to another database."""


@db.command("copy")
@click.argument("target", metavar="URL")
@click.pass_context
def db_copy(ctx: click.Context, target: str) -> None:
    """Copy the whole store into the database at URL (e.g. a new PostgreSQL database,
    to run several workers on it): migrated first, it must hold no articles yet. Then
    set `storage:` to URL."""
    settings = load(ctx)
    with _store_or_exit(ctx, settings) as store:
        try:
            into = Store.open(target)
        except AggregatorError as error:
            click.echo(f"cannot open the target store: {error}", err=True)
            ctx.exit(2)
        try:
            copied = store.copy_into(into)
        except AggregatorError as error:
            click.echo(f"cannot copy: {error}", err=True)
            ctx.exit(1)
        finally:
            into.close()
    click.echo(
        "copied "
        + ", ".join(f"{count} {table}" for table, count in copied.items())
        + "; now set `storage:` in feeds.yaml to the new database"
    )


@main.group()
def dedup() -> None:
    """Why articles were folded into one story; the folds to look at; take one out, or
    make two stories one."""


@dedup.command()
@click.argument("article_id", metavar="ID")
@click.pass_context
def explain(ctx: click.Context, article_id: str) -> None:
    """Show ID's story: each member, and the rule and match that brought it in."""
    settings = load(ctx)
    article_id = _story_ref(article_id)
    with _store_or_exit(ctx, settings) as store:
        lines = explain_lines(settings, store, article_id)
    if not lines:
        click.echo(f"no stored article or story has the id {article_id!r}", err=True)
        ctx.exit(2)
    for line in lines:
        click.echo(line)


@dedup.command()
@click.option(
    "--hours",
    type=click.IntRange(min=1),
    default=48,
    show_default=True,
    help="List the folds of articles first stored this many hours back.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="List at most this many folds of each kind.",
)
@click.pass_context
def review(ctx: click.Context, hours: int, limit: int) -> None:
    """List the recent folds of reports written apart, the lowest score first."""
    settings = load(ctx)
    with _store_or_exit(ctx, settings) as store:
        lines = review_lines(settings, store, utcnow() - timedelta(hours=hours), limit)
    for line in lines:
        click.echo(line)
    click.echo(
        "`aggregator dedup explain ID` shows every signal of a fold; "
        "`aggregator dedup split ID` takes the article out of its story for good."
    )
    if settings.dedup.reader is not None:
        click.echo("`aggregator dedup merge ID OTHER_ID` puts back a report the reader split out.")


@dedup.command("check-reader")
@click.pass_context
def check_reader(ctx: click.Context) -> None:
    """Ask the reader (dedup.reader) the four questions whose answers are known; say what
    it is trusted with."""
    settings = load(ctx)
    reader = settings.dedup.reader
    if reader is None:
        click.echo(f"{ctx.obj['config']} sets no dedup.reader: the rules alone fold", err=True)
        ctx.exit(2)
    click.echo(f"reader: {reader.model} at {reader.url}")
    found: list[reader_trust.ControlAnswer] = []

    async def ask_each() -> None:
        async with reader_client(reader) as client:
            async for answer in reader_trust.each_answer(client, reader):
                found.append(answer)
                _show_answer(answer)

    try:
        asyncio.run(ask_each())
    except ReaderTimeout as error:
        asked = reader_trust.CONTROL_NAMES[len(found)]
        allowed = _duration(reader.timeout.total_seconds())
        click.echo(
            f"error: no answer to {asked} in time: {error}; dedup.reader.timeout is "
            f"{allowed}, and a model on a small machine may need more",
            err=True,
        )
        ctx.exit(1)
    except ReaderError as error:
        asked = reader_trust.CONTROL_NAMES[len(found)]
        click.echo(f"error: the reader cannot be asked ({asked}): {error}", err=True)
        ctx.exit(1)
    trusted = reader_trust.trust_of(found)
    if trusted is None:
        click.echo(
            "error: no answer could be read, so the service would ask it nothing more "
            "(a base model, or a chat template that drops the instructions?)",
            err=True,
        )
        ctx.exit(1)
    yes = {True: "yes", False: "no"}
    click.echo(f"splits a fold it reads as another event: {yes[trusted.splits]}")
    click.echo(f"joins a near miss it reads as one event: {yes[trusted.joins]}")
    if None in (answer.said for answer in found):
        click.echo("an answer that could not be read decides nothing: the service asks again")
    if any(answer.said is not answer.same for answer in found):
        ctx.exit(1)


def _show_answer(answer: reader_trust.ControlAnswer) -> None:
    """One known question's answer; with the model's reason when it is wrong, and what it
    wrote when it cannot be read."""
    known = "one event" if answer.same else "two events"
    taken = f"({answer.seconds:.1f} s)"
    if answer.said is None:
        click.echo(f"  {answer.name}: known {known}, answer not readable {taken}")
        click.echo(f"    {answer.reason}")
        return
    said = "one event" if answer.said else "two events"
    click.echo(f"  {answer.name}: known {known}, read {said} {taken}")
    if answer.said is not answer.same:
        click.echo(f"    its reason: {answer.reason}")


def _story_ref(text: str) -> str:
    """An article or story id, also taken from a feed item's id copied out of a reader."""
    return story_of_item_id(text.strip()) or text.strip()


@dedup.command()
@click.argument("article_id", metavar="ID")
@click.pass_context
def split(ctx: click.Context, article_id: str) -> None:
    """Take article ID out of its story, for good (re-fetching does not fold it back)."""
    article_id = _story_ref(article_id)
    new_story, changed = _regroup(ctx, lambda store: store.split(article_id, utcnow()))
    click.echo(
        f"article {article_id} is now story {new_story}; republished: {changed} files changed"
    )


@dedup.command()
@click.argument("article_id", metavar="ID")
@click.argument("other_id", metavar="OTHER_ID")
@click.pass_context
def merge(ctx: click.Context, article_id: str, other_id: str) -> None:
    """Make the stories of articles ID and OTHER_ID one, for good."""
    article_id, other_id = _story_ref(article_id), _story_ref(other_id)
    story, changed = _regroup(ctx, lambda store: store.merge(article_id, other_id, utcnow()))
    click.echo(
        f"the stories of {article_id} and {other_id} are now story {story}; republished: "
        f"{changed} files changed"
    )


def _regroup(ctx: click.Context, change: Callable[[Store], str]) -> tuple[str, int]:
    """An operator's change to the stories (split, merge), then a publish and its
    announcement: the story the change names and how many files changed. A change the
    store refuses exits 2 with its reason."""
    settings = load(ctx)
    with _store_or_exit(ctx, settings) as store:
        try:
            story = change(store)
        except StoreError as error:
            click.echo(str(error), err=True)
            ctx.exit(2)
        result = pipeline.publish_all(settings, store, utcnow())
    _announce(settings, result.changed)
    return story, len(result.changed)


@main.command()
@click.pass_context
def publish(ctx: click.Context) -> None:
    """Rewrite every output from the store."""
    settings = load(ctx)
    with _store_or_exit(ctx, settings) as store:
        result = pipeline.publish_all(settings, store, utcnow())
    _announce(settings, result.changed)
    click.echo(
        f"published {result.channels} channels of {result.stories} stories: {len(result.changed)} "
        f"files changed, {result.posts_written} posts written, {result.posts_removed} removed"
    )


@main.command("worker")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once no source is due and unclaimed, instead of waiting for the next.",
)
@click.option(
    "--lease",
    default=worker.LEASE.total_seconds(),
    show_default=True,
    help="Seconds a claimed source stays this worker's if it dies before recording it.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Also write the outputs while this worker holds the publisher's lock "
    "(one worker at a time does).",
)
@click.pass_context
def worker_command(ctx: click.Context, until_idle: bool, lease: float, publish: bool) -> None:
    """Fetch due sources beside other workers on the same store until SIGINT/SIGTERM."""
    settings = load(ctx)
    _configure_logging(settings)
    owner = worker.owner_name()
    with _store_or_exit(ctx, settings) as store:

        async def main() -> worker.WorkReport:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            return await worker.work(
                settings,
                store,
                owner=owner,
                lease=timedelta(seconds=lease),
                until_idle=until_idle,
                stop=stop,
                publish=publish,
            )

        report = asyncio.run(main())
    click.echo(
        f"worker {owner}: {report.fetched} fetches in {report.claims} claims, "
        f"{report.failed} failed, {report.publishes} publishes"
    )


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Scheduler and HTTP server in one process until SIGINT/SIGTERM."""
    from aggregator.scheduler import Service, serve_until_signalled

    settings = load(ctx)
    _configure_logging(settings)
    site, metrics = PublishedSite(settings.output.dir), Metrics()
    metrics.track_sources(source.id for source in settings.sources)
    with _store_or_exit(ctx, settings) as store:
        service = Service(settings, store, on_published=site.update, metrics=metrics)
        app = create_app(site, service.health_report, metrics)
        host, port = settings.server.host, settings.server.port
        try:
            asyncio.run(
                serve_until_signalled(service, lambda stop: serve_in_thread(app, host, port, stop))
            )
        except ServeError as error:
            click.echo(f"cannot serve HTTP: {error}", err=True)
            ctx.exit(1)


@main.command("serve")
@click.option(
    "--refresh",
    default=30.0,
    show_default=True,
    help="Seconds between looks at the store for what other processes published.",
)
@click.pass_context
def serve_command(ctx: click.Context, refresh: float) -> None:
    """HTTP server only: serves what the store holds (fetched by `run` or `fetch`)."""
    settings = load(ctx)
    _configure_logging(settings)
    site, metrics = PublishedSite(settings.output.dir), Metrics()
    with _store_or_exit(ctx, settings) as store:
        seen: list[object] = [None]
        cache = RenderCache()
        health: list[dict[str, object]] = [{}]

        def health_report() -> dict[str, object]:
            return {"mode": "serve", "status": "ok", **health[0]}

        def render() -> None:
            # Rendered again only when the store changed: a new change number, or a
            # source's fetch state (the index page shows each source's health).
            states = store.states()
            looked = (store.change_mark(), sorted(states.items()))
            if looked == seen[0]:
                return
            selection = select_from_store(settings, store, pipeline.source_rank(settings))
            now = utcnow()
            site.update(render_site(settings, selection, now, states, cache=cache), now)
            # What `run` reports: the stories published, and the sources' health.
            metrics.stories_published.set(store.story_count())
            health[0] = pipeline.source_health(settings.sources, states)
            seen[0] = looked

        async def main_loop() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await asyncio.to_thread(render)
            server = asyncio.create_task(
                serve(create_app(site, health_report, metrics),
                      settings.server.host, settings.server.port, stop)
            )  # fmt: skip
            while not stop.is_set() and not server.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), refresh)
                if not stop.is_set():
                    await asyncio.to_thread(render)
            stop.set()
            await server

        try:
            asyncio.run(main_loop())
        except ServeError as error:
            click.echo(f"cannot serve HTTP: {error}", err=True)
            ctx.exit(1)


def _configure_logging(settings: Settings) -> None:
    """Log lines on stderr: for a person on a terminal (times in the site's zone), JSON
    lines anywhere else (``AGGREGATOR_LOG_FORMAT=json|text`` chooses); see
    ``aggregator.logs``."""
    from aggregator import logs

    logs.configure(sys.stderr, tz=settings.site.tz)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our own lines say enough
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl." …


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default="aggregator-demo",
    show_default=True,
    help="Where the demo's store, feeds and posts go.",
)
@click.pass_context
def demo(ctx: click.Context, directory: Path) -> None:
    """Fold, explain and publish the bundled sample outlets, offline; says how to browse it."""
    from aggregator.demo import run_demo

    ctx.exit(run_demo(directory, echo=click.echo))


class _store_or_exit:
    """Open the store for a command; a store that cannot be opened exits 2 with why."""

    def __init__(self, ctx: click.Context, settings: Settings) -> None:
        self.ctx, self.settings = ctx, settings

    def __enter__(self) -> Store:
        try:
            self.store = open_store(self.settings)
        except AggregatorError as error:
            click.echo(f"cannot open the store: {error}", err=True)
            self.ctx.exit(2)
        return self.store

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        self.store.close()
        if isinstance(error, OSError):
            # A full disk, a read-only or missing output directory: one plain line.
            click.echo(f"error: {error}", err=True)
            self.ctx.exit(1)


def starter_config() -> str:
    """The commented feeds.yaml ``init`` writes (the project's own bundled one)."""
    return resources.files("aggregator.starter").joinpath("feeds.yaml").read_text("utf-8")


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
