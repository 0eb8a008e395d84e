"""The catalog in a real browser: Debian's headless Chromium, driven by Selenium.

One browser serves every test (a session fixture: starting Chromium costs more
than all the page loads together); the site is served over http on 127.0.0.1,
as a static host would, so ``'self'`` in the CSP and ``fetch`` behave as in use.
Each test reads the browser's console afterwards: a CSP violation, a failed
request or a script error is logged there, and there must be none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from skillpm.formats.index import VersionEntry
from skillpm.publish.catalog_html import PackageDocs, render_catalog
from tests.helpers import Cli, fragment_md, make_registry
from tests.sitehelpers import SiteServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Each payload would set window.__pwned (or change the title) if it ever ran.
PWN = "window.__pwned=1;document.title='pwned'"
HOSTILE_SKILL = f"""# Hostile <script>{PWN}</script>

<img src=x onerror="{PWN}">
<svg onload="{PWN}"></svg>
<a href="javascript:{PWN}">raw link</a>

[click me](javascript:{PWN}) [data](data:text/html,<script>{PWN}</script>)
![pixel](https://tracker.invalid/p.png) ![local](assets/x.png)

| left | right |
|:-----|------:|
| a | <b onmouseover="{PWN}">b</b> |
"""
PACKAGES: list[dict[str, Any]] = [
    {
        "name": "aws-env",
        "skills": {},
        "fragments": {"aws-env": fragment_md("aws-env", "x\n", section="AWS environment")},
        "description": "Regions and accounts for the deploy",
    },
    {
        "name": "bedrock-kit",
        "skills": {"bedrock-kit": "## Calling Claude\n\n### Converse API\n\nPrefer it.\n"},
        "description": "Claude on Amazon Bedrock from Lambda",
        "dependencies": {"aws-env": "^1.0"},
    },
    {"name": "cdk-kit", "description": "CDK TypeScript conventions"},
    {
        "name": "hostile",
        "skills": {"hostile": HOSTILE_SKILL},
        "description": f'<script>{PWN}</script><img src=x onerror="{PWN}">',
    },
]
NAMES = ["aws-env", "bedrock-kit", "cdk-kit", "hostile"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run .ci/run, which installs Debian's "
            "chromium and chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1000,800",
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The browser's profile, crash reports and caches go to a temp home, never the real one
    # (the session fixture starts before each test's isolated_env).
    home = tmp_path_factory.mktemp("browser-home")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    options.add_argument(f"--user-data-dir={home / 'profile'}")
    # The driver is named: Selenium Manager never looks for (or downloads) one.
    service = Service(str(CHROMEDRIVER), env=env)
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    """The catalog of PACKAGES, built by the real CLI and served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("catalog")
    with pytest.MonkeyPatch.context() as env:  # module scope: isolate what isolated_env would
        env.setenv("HOME", str(root / "home"))
        env.setenv("SKILLPM_CACHE_DIR", str(root / "cache"))
        registry = make_registry(root / "registry", PACKAGES)
        result = Cli()("registry", "build-static", registry, root / "site")
    assert result.exit_code == 0, result.output
    with SiteServer(root / "site") as server:
        yield server


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    """The browser, its console emptied first and checked for errors after the test."""
    browser.get_log("browser")
    yield browser
    assert console(browser) == []


def console(browser: WebDriver) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] != "INFO"]


def shown(browser: WebDriver, selector: str = "#packages > li h2 a") -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]


def status(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "count").text


def test_the_list_shows_every_package(page: WebDriver, site: SiteServer) -> None:
    page.get(site.url + "index.html")
    assert page.title == "Skill catalog"
    assert shown(page) == NAMES
    assert page.find_element(By.CSS_SELECTOR, "label[for=q]").text == "Search packages"
    page.find_element(By.LINK_TEXT, "bedrock-kit").click()
    assert page.find_element(By.TAG_NAME, "h1").text == "bedrock-kit 1.0.0"


def test_typing_filters_the_list_and_the_address_keeps_the_search(
    page: WebDriver, site: SiteServer
) -> None:
    page.get(site.url + "index.html")
    box = page.find_element(By.ID, "q")
    box.send_keys("bedrock")
    assert shown(page) == ["bedrock-kit"]
    assert status(page) == "1 package found"
    assert page.current_url.endswith("index.html?q=bedrock")
    box.send_keys(" converse")  # every word must match; skills' text is not in the list
    assert shown(page) == [] and status(page) == "0 packages found"
    box.clear()
    box.send_keys("AWS-ENV")  # case-insensitive; the fragment's name counts
    assert shown(page) == ["aws-env"]


def test_q_in_the_address_opens_the_list_filtered(page: WebDriver, site: SiteServer) -> None:
    page.get(site.url + "index.html?q=kit")
    assert page.find_element(By.ID, "q").get_attribute("value") == "kit"
    assert shown(page) == ["bedrock-kit", "cdk-kit"]
    assert status(page) == "2 packages found"


def test_a_package_page_shows_its_skill_md_rendered(page: WebDriver, site: SiteServer) -> None:
    page.get(site.url + "catalog/packages/bedrock-kit.html")
    headings = [h.text for h in page.find_elements(By.CSS_SELECTOR, ".markdown :is(h3,h4,h5)")]
    assert headings == ["bedrock-kit", "Calling Claude", "Converse API"]
    assert [h.text for h in page.find_elements(By.TAG_NAME, "h2")] == [
        "Install",
        "Skill bedrock-kit",
        "Versions",
    ]
    command = page.find_element(By.ID, "install-command").text
    assert command == f"skillpm install --registry {site.url} bedrock-kit"
    assert page.find_element(By.CSS_SELECTOR, "button.copy").is_displayed()
    page.find_element(By.LINK_TEXT, "aws-env").click()
    assert (
        "AWS environment" in page.find_element(By.ID, "fragments").find_element(By.XPATH, "..").text
    )


def test_a_hostile_package_runs_nothing(page: WebDriver, site: SiteServer) -> None:
    for path in ("index.html?q=hostile", "catalog/packages/hostile.html"):
        page.get(site.url + path)
        with pytest.raises(NoAlertPresentException):
            page.switch_to.alert.text  # noqa: B018
        assert page.execute_script("return window.__pwned") is None
        assert "pwned" not in page.title
        scripts = page.execute_script(
            "return [...document.scripts].map(s => s.getAttribute('src'))"
        )
        assert [s.rsplit("/", 1)[-1] for s in scripts] == ["catalog.js"]
        assert (
            page.execute_script(
                "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                ".filter(a => a.name.startsWith('on') || /^\\s*(javascript|data):/i.test(a.value))"
                ".length"
            )
            == 0
        )
        assert page.find_elements(By.CSS_SELECTOR, "img, svg, iframe, object, embed") == []
    # What the payloads said is on the page, as text.
    assert "<script>window.__pwned=1" in page.find_element(By.CLASS_NAME, "lede").text
    assert "click me" in page.find_element(By.CLASS_NAME, "markdown").text


def test_the_content_security_policy_holds(browser: WebDriver, site: SiteServer) -> None:
    browser.get(site.url + "catalog/packages/hostile.html")
    csp = browser.find_element(
        By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]'
    ).get_attribute("content")
    assert csp is not None and "default-src 'none'" in csp and "script-src 'self'" in csp
    browser.get_log("browser")
    # Content that slipped through would look like this; the browser must refuse each one.
    browser.execute_script(
        """
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
          e => window.__violations.push(e.violatedDirective));
        const inline = document.createElement('script');
        inline.textContent = 'window.__pwned = 1';
        document.body.append(inline);
        const remote = document.createElement('img');
        remote.src = 'http://127.0.0.2:9/pixel.png';
        document.body.append(remote);
        const styled = document.createElement('p');
        styled.setAttribute('style', 'color: red');
        document.body.append(styled);
        """
    )
    WebDriverWait(browser, 10).until(
        lambda b: len(b.execute_script("return window.__violations")) >= 3
    )
    violations = sorted(set(browser.execute_script("return window.__violations")))
    assert violations == ["img-src", "script-src-elem", "style-src-attr"]
    assert browser.execute_script("return window.__pwned") is None
    assert any("Content Security Policy" in line for line in console(browser))


def test_without_javascript_every_package_is_listed_and_search_is_hidden(
    page: WebDriver, site: SiteServer
) -> None:
    page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        page.get(site.url + "index.html?q=bedrock")
        assert shown(page) == NAMES  # nothing to filter with: the whole list
        assert not page.find_element(By.CSS_SELECTOR, "form.search").is_displayed()
        page.get(site.url + "catalog/packages/cdk-kit.html")
        assert page.find_element(By.ID, "install-command").text == "skillpm install cdk-kit"
        assert not page.find_element(By.CSS_SELECTOR, "button.copy").is_displayed()
    finally:
        page.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_a_paged_list_searches_every_page(page: WebDriver, tmp_path: Path) -> None:
    names = [f"pkg-{i}" for i in range(7)]
    packages = {
        n: {"1.0.0": VersionEntry(n, "1.0.0", "sha256:" + "0" * 64, description=f"The {n} kit")}
        for n in names
    }
    for rel, data in render_catalog(packages, lambda name: PackageDocs(), per_page=3).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    with SiteServer(tmp_path) as server:
        page.get(server.url + "index.html")
        assert shown(page) == names[:3]
        page.find_element(By.ID, "q").send_keys("pkg-6")
        WebDriverWait(page, 10).until(lambda b: shown(b, "#results h2 a") == ["pkg-6"])
        assert status(page) == "1 package found"
        assert not page.find_element(By.CSS_SELECTOR, ".pager").is_displayed()
        page.find_element(By.LINK_TEXT, "pkg-6").click()
        assert page.find_element(By.TAG_NAME, "h1").text == "pkg-6 1.0.0"
        page.get(server.url + "catalog/pages/3.html")
        assert shown(page) == ["pkg-6"]
        assert json.loads((tmp_path / "catalog/search.json").read_text())[6][0] == "pkg-6"


def test_a_phone_reads_without_scrolling_sideways_and_dark_mode_follows_the_system(
    page: WebDriver, site: SiteServer
) -> None:
    page.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    page.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        for path in ("index.html", "catalog/packages/bedrock-kit.html"):
            page.get(site.url + path)
            assert page.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            ), path
            background = page.execute_script(
                "return getComputedStyle(document.body).backgroundColor"
            )
            assert background == "rgb(13, 17, 23)", path
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_the_copy_button_copies_the_install_command_and_keys_reach_everything(
    page: WebDriver, site: SiteServer
) -> None:
    page.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": site.url.rstrip("/"),
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    page.get(site.url + "catalog/packages/cdk-kit.html")
    page.find_element(By.CSS_SELECTOR, "button.copy").click()

    def clipboard(browser: WebDriver) -> str:
        return str(
            browser.execute_async_script(
                "const done = arguments[0];"
                "navigator.clipboard.readText().then(done, e => done(`${e}`))"
            )
        )

    copied = WebDriverWait(page, 10).until(clipboard)  # the copy resolves asynchronously
    assert copied == f"skillpm install --registry {site.url} cdk-kit"
    page.get(site.url + "index.html")
    page.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert page.switch_to.active_element.text == "Skip to content"
    page.switch_to.active_element.send_keys(Keys.TAB, Keys.TAB)  # the header link, the box
    assert page.switch_to.active_element.get_attribute("id") == "q"
