"""``skillpm registry ...``: the registries of skills.yaml, and the upkeep of a registry."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.kit import Group, here, network_options, open_project


@click.group(cls=Group)
def registry() -> None:
    """Registries: add, remove and list those in skills.yaml; reindex, verify or build one.

    \b
    skillpm registry add team git+https://github.com/acme/skills-registry.git
    skillpm registry add team 'git@github.com:acme/skills-registry.git#v2'
    skillpm registry add public https://skills.example.com/
    skillpm registry add local ../skills-registry
    skillpm registry build-static ../skills-registry site/   # for S3, Pages or any CDN
    """


@registry.command(name="add")
@click.argument("name")
@click.argument("url")
@network_options
@click.pass_context
def registry_add(ctx: click.Context, name: str, url: str) -> None:
    """Add a registry: a folder; git+https://, git+ssh://, git+file://, git@host:org/repo.git
    (each with an optional #branch, #tag or #commit); a static site's https:// URL; or
    s3://BUCKET/PREFIX (needs pip install 'skillpm[s3]'). It is read first, to say what is
    there (not with --offline)."""
    from skillpm.commands.registries import add

    add(open_project(ctx), name, url)


@registry.command(name="remove")
@click.argument("name")
@click.pass_context
def registry_remove(ctx: click.Context, name: str) -> None:
    """Remove a registry from skills.yaml."""
    from skillpm.commands.registries import remove as run

    run(open_project(ctx), name)


@registry.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def registry_list(ctx: click.Context, as_json: bool) -> None:
    """List the registries in lookup order (the built-in one last)."""
    from skillpm.commands.registries import list_registries

    list_registries(open_project(ctx), as_json=as_json)


@registry.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def reindex(ctx: click.Context, path: Path) -> None:
    """Rebuild a registry's index.json from its packages/ folder.

    Published dates and yank state are kept from the old index where it lists a version.
    """
    from skillpm.commands.registry_admin import reindex as run

    run(here(ctx, path))


@registry.command()
@click.argument("path", default=".", metavar="[PATH|s3://BUCKET/PREFIX]")
@click.pass_context
def verify(ctx: click.Context, path: str) -> None:
    """Recompute every integrity in a registry and report mismatches (exit code 1)."""
    from skillpm.commands.registry_admin import verify as run

    run(path, here(ctx))


@registry.command(name="build-static")
@click.argument("source", metavar="SRC")
@click.argument("out", metavar="OUT")
@click.option(
    "--full-index/--no-full-index",
    default=True,
    show_default=True,
    help="Also write OUT/index.json, the whole index (search reads it; installs never do).",
)
@click.option(
    "--html/--no-html",
    default=True,
    show_default=True,
    help="Also write the catalog: OUT/index.html and a page per package under OUT/catalog/.",
)
@network_options
@click.pass_context
def build_static(ctx: click.Context, source: str, out: str, full_index: bool, html: bool) -> None:
    """Write a registry as a static site for S3 + CloudFront, GitHub Pages or any web host.

    \b
    OUT/index/NAME.json                       one package's versions
    OUT/packages/NAME/NAME-VERSION.tar.gz     reproducible archives
    OUT/index.json                            the full index (optional)
    OUT/index.html, OUT/catalog/...           the catalog to browse (optional)

    SRC is a registry folder or a git registry URL; OUT a folder, or s3://BUCKET/PREFIX to
    upload only the objects that differ. Running it again on an unchanged registry changes no
    file. Install from the site with 'skillpm install --registry https://HOST/PATH/ NAME'.
    """
    from skillpm.commands.registry_admin import build_static as run

    options = open_project(ctx).options
    run(source, out, here(ctx), full_index=full_index, html=html, options=options)
