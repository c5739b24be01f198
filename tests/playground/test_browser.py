"""The Playground end to end: the real server (uvicorn) and the real page in headless Chromium.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright, never a downloaded browser.
Screenshots land in test-artifacts/playground/. Skipped only when Chromium or Playwright is
missing on this machine (scripts/test.sh installs both in CI).
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "playground"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("uvicorn", reason="the playground extra (uvicorn) is not installed")
pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The Playground server in its own process, as a user runs it; stopped with SIGINT."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "chainrule.playground.server:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "1",
               "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read().decode(errors="replace")
            pytest.fail(f"the Playground server did not start on {url}:\n{output}")
        time.sleep(0.1)
    yield url
    process.send_signal(2)   # Ctrl-C
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the server did not stop within 10 s of Ctrl-C")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageProblems(list):
    """JavaScript errors and console errors seen on a page; a test fails if any appear."""


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.problems = problems
    page.base_url = server
    yield page
    context.close()
    assert not problems, problems


def open_playground(page, hash_=""):
    page.goto(page.base_url + hash_)
    # The first frame has been drawn (and acknowledged) once the page shows its sequence number.
    page.wait_for_function("Number(document.body.dataset.seq) >= 1")


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def js(page, expression):
    return page.evaluate(expression)


def settings(page):
    return js(page, "window.playground.state.settings")


def wait_settings(page, predicate_js):
    page.wait_for_function(f"(() => {{ const s = window.playground.state.settings; return {predicate_js}; }})()")


def shown_number(page, selector):
    text = page.text_content(selector).strip().rstrip("%")
    return float(text)


def test_circle_trains_until_the_test_loss_is_below_0_1(page):
    open_playground(page)
    assert page.text_content("#epoch").strip() == "000,000"
    assert "dataset=circle" in page.url and "layers=4-tanh,2-tanh" in page.url
    # Every unit of the default network has its thumbnail: 7 features (2 on), 4 + 2 neurons, 1 output.
    assert page.locator(".node.feature").count() == 7
    assert page.locator(".node.feature.disabled").count() == 5
    assert page.locator(".node.neuron").count() == 6
    assert page.locator(".node.output-unit").count() == 1
    assert page.locator("path.link").count() == 2 * 4 + 4 * 2 + 2 * 1
    screenshot(page, "01-initial.png")

    page.click("#play-button")
    started = time.monotonic()
    # The page draws and acknowledges frames continuously while playing (PROTOCOL.md flow control).
    page.wait_for_function("Number(document.body.dataset.seq) >= 3")
    first_seq = int(page.get_attribute("body", "data-seq"))
    page.wait_for_timeout(2000)
    frames_per_second = (int(page.get_attribute("body", "data-seq")) - first_seq) / 2
    assert frames_per_second >= 2, frames_per_second
    page.wait_for_function(
        """() => { const t = document.getElementById('test-loss').textContent;
                   return Number(document.body.dataset.epoch) > 0 && t !== '–' && Number(t) < 0.1; }""",
        timeout=60_000)
    seconds = time.monotonic() - started
    epoch = int(page.text_content("#epoch").replace(",", ""))
    assert epoch > 0
    assert shown_number(page, "#test-loss") < 0.1
    assert shown_number(page, "#test-accuracy") > 90
    # The confusion matrix counts every test point.
    counts = [int(td) for td in page.locator("#confusion td").all_text_contents()]
    assert len(counts) == 4 and sum(counts) == len(js(page, "window.playground.state.data.test"))
    # The gradient view has a bar per weight layer.
    assert page.locator("#grad-bars .bar").count() == 3
    assert "playing" in page.get_attribute("body", "class")
    screenshot(page, "02-circle-trained.png")
    page.click("#play-button")   # pause
    page.wait_for_function("!document.body.classList.contains('playing')")
    print(f"circle: test loss < 0.1 after {seconds:.1f} s (epoch {epoch}); "
          f"{frames_per_second:.0f} frames/s drawn and acknowledged")


def test_dataset_layers_optimizer_and_settings_in_the_url(page):
    open_playground(page)
    page.click('.dataset[data-dataset="xor"]')
    wait_settings(page, "s.dataset === 'xor'")
    assert "selected" in page.get_attribute('.dataset[data-dataset="xor"]', "class")

    page.click("#add-layer")
    wait_settings(page, "s.layers.length === 3")
    assert page.text_content("#layer-count") == "3"
    assert page.locator(".node.neuron").count() == 4 + 2 + 2
    # A notice says the architecture change reset the network.
    page.wait_for_selector(".toast >> text=network reset")

    page.locator(".add-neuron").nth(2).click()
    wait_settings(page, "s.layers[2].units === 3")
    page.locator(".layer-activation").nth(0).select_option("relu")
    wait_settings(page, "s.layers[0].activation === 'relu'")
    assert page.input_value("#activation") == "mixed"

    page.select_option("#optimizer", "adam")
    wait_settings(page, "s.optimizer === 'adam'")
    assert page.is_visible("#beta1") and page.is_visible("#beta2") and not page.is_visible("#momentum")
    page.fill("#beta2", "0.99")
    page.press("#beta2", "Enter")
    wait_settings(page, "s.beta2 === 0.99")

    page.click('.node.feature[data-feature="x1x2"]')
    wait_settings(page, "s.features.includes('x1x2')")
    assert page.locator(".node.feature.disabled").count() == 4

    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    # Every change is in the URL: opening it in a fresh tab reproduces the experiment.
    url = page.url
    for part in ["dataset=xor", "optimizer=adam", "beta2=0.99", "layers=4-relu,2-tanh,3-tanh",
                 "features=x1,x2,x1x2"]:
        assert part in url, (part, url)
    screenshot(page, "03-xor-adam-three-layers.png")

    fresh = page.context.new_page()
    fresh.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    fresh.goto(url)
    fresh.wait_for_function("""(() => { const s = window.playground && window.playground.state.settings;
        return s && s.dataset === 'xor' && s.optimizer === 'adam' && s.layers.length === 3; })()""")
    again = fresh.evaluate("window.playground.state.settings")
    mine = settings(page)
    assert again == mine
    assert fresh.input_value("#optimizer") == "adam"
    assert fresh.text_content("#layer-count") == "3"
    fresh.close()


def output_click(page, x1, x2, modifiers=None):
    box = page.locator("#output-map").bounding_box()
    position = {"x": (x1 + 6) / 12 * box["width"], "y": (6 - x2) / 12 * box["height"]}
    page.locator("#output-map").click(position=position, modifiers=modifiers or [])


def points(page):
    data = js(page, "window.playground.state.data")
    return data["train"] + data["test"]


def test_click_to_add_and_delete_points_then_upload_and_download_csv(page, tmp_path):
    open_playground(page)
    thumbnail = 'document.querySelector(\'.dataset[data-dataset="circle"] canvas\').toDataURL()'
    circle_thumbnail = js(page, thumbnail)
    before = len(points(page))
    output_click(page, 3.0, 3.0)
    page.wait_for_function(f"Number(document.body.dataset.points) === {before + 1}")
    wait_settings(page, "s.dataset === 'user'")
    added = [p for p in points(page) if abs(p[0] - 3) < 0.05 and abs(p[1] - 3) < 0.05]
    assert [p[2] for p in added] == [1]            # the chosen class (1, selected by default)
    output_click(page, -4.0, 4.5, ["Shift"])
    page.wait_for_function(f"Number(document.body.dataset.points) === {before + 2}")
    other = [p for p in points(page) if abs(p[0] + 4) < 0.05 and abs(p[1] - 4.5) < 0.05]
    assert [p[2] for p in other] == [0]            # shift-click: the other class
    output_click(page, 3.0, 3.0, ["Alt"])
    page.wait_for_function(f"Number(document.body.dataset.points) === {before + 1}")
    assert not [p for p in points(page) if abs(p[0] - 3) < 0.05 and abs(p[1] - 3) < 0.05]

    # Three classes from a CSV: the output becomes softmax over three units.
    rows = ["x1,x2,label"]
    for i in range(90):
        k = i % 3
        centre = [(-3, -3), (3, -3), (0, 3)][k]
        rows.append(f"{centre[0] + (i % 5) * 0.2:.2f},{centre[1] + (i % 7) * 0.2:.2f},{k}")
    page.set_input_files("#csv-upload", files=[{
        "name": "three.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}])
    page.wait_for_function("Number(document.body.dataset.points) === 90")
    page.wait_for_function("document.querySelectorAll('.node.output-unit').length === 3")
    assert page.locator(".class-chip:not(.add)").count() == 3
    assert page.text_content("#legend-hi") == "class 2"
    page.select_option("#loss", "cross_entropy")
    wait_settings(page, "s.loss === 'cross_entropy'")
    page.click("#play-button")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 20")
    page.click("#play-button")
    page.wait_for_function("document.querySelectorAll('#confusion td').length === 9")
    # Your points are drawn in the "your data" thumbnail, the circle's stays as it was.
    assert js(page, thumbnail) == circle_thumbnail
    screenshot(page, "04-uploaded-three-classes.png")

    with page.expect_download() as download:
        page.click("#csv-download")
    text = Path(download.value.path()).read_text()
    lines = text.strip().splitlines()
    assert lines[0] == "x1,x2,label,split" and len(lines) == 91
    assert sorted(int(line.split(",")[2]) for line in lines[1:]) == sorted(i % 3 for i in range(90))

    # A bad CSV names its line and changes nothing.
    page.set_input_files("#csv-upload", files=[{
        "name": "bad.csv", "mimeType": "text/csv", "buffer": b"x1,x2,label\n1,2,0\n3,four,1\n"}])
    page.wait_for_selector(".toast.error >> text=/line 3/")
    assert len(points(page)) == 90


def test_export_script_and_save_model(page, tmp_path):
    open_playground(page)
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    with page.expect_download() as download:
        page.click("#export-script")
    assert download.value.suggested_filename.endswith(".py")
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    result = subprocess.run([sys.executable, str(script), "20"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"epoch\s+20\s+train loss \d+\.\d+\s+test loss \d+\.\d+", result.stdout), result.stdout
    assert "accuracy" in result.stdout

    with page.expect_download() as download:
        page.click("#save-model")
    assert download.value.suggested_filename.endswith(".safetensors")
    blob = Path(download.value.path()).read_bytes()
    header_size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + header_size])
    assert json.loads(header["__metadata__"]["settings"])["dataset"] == "circle"
    weights = [k for k in header if k.endswith("weight")]
    assert len(weights) == 3, header.keys()


def test_backprop_panel_and_editing_a_weight(page):
    open_playground(page)
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    # Click the middle of the link from the second hidden layer's unit 2 to the output.
    point = js(page, """(() => {
        const hits = document.querySelectorAll('path.hit');
        const path = hits[hits.length - 1];
        const p = path.getPointAtLength(path.getTotalLength() / 2);
        const box = path.ownerSVGElement.getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y};
    })()""")
    page.mouse.move(point["x"], point["y"])
    page.wait_for_selector("#hovercard:not([hidden]) >> text=Weight")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#bp-gradient")
    gradient = float(page.text_content("#bp-gradient"))
    assert gradient == gradient   # a number, not NaN
    assert "∂L/∂w" in page.text_content("#backprop")
    screenshot(page, "05-backprop.png")

    page.wait_for_selector("#edit-popover:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#edit-popover", state="hidden")
    # Hovering a neuron shows its map large in the output panel.
    page.hover(".node.neuron >> nth=2")
    page.wait_for_selector("#hover-label:not([hidden]) >> text=neuron 3 of layer 1")
    page.mouse.move(5, 5)
    page.wait_for_selector("#hover-label", state="hidden")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#edit-popover:not([hidden])")
    page.fill("#edit-value", "1.5")
    page.press("#edit-value", "Enter")
    page.wait_for_function("window.playground.state.frame.weights[2][0][1] === 1.5")
    page.wait_for_function("Number(document.getElementById('bp-weight').textContent) === 1.5",
                           timeout=10_000)


def test_errors_regression_and_divergence_are_shown(page):
    open_playground(page)
    # An out-of-range value: the server's error is shown and the control shows the old value.
    page.fill("#seed", "-5")
    page.press("#seed", "Enter")
    page.wait_for_selector(".toast.error >> text=seed")
    assert page.input_value("#seed") == "1"

    page.select_option("#problem", "regression")
    wait_settings(page, "s.problem === 'regression' && s.dataset === 'plane'")
    page.wait_for_selector("#test-r2")
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    assert page.is_visible("#value-picker") and not page.is_visible("#class-picker")

    page.select_option("#learning_rate", "10")
    wait_settings(page, "s.learning_rate === 10")
    page.click("#play-button")
    page.wait_for_selector("#diverged:not([hidden])", timeout=20_000)
    assert page.text_content("#test-loss") == "NaN"
    page.wait_for_selector(".toast.error >> text=diverged")
    screenshot(page, "06-diverged.png")
    page.select_option("#learning_rate", "0.01")
    page.click("#diverged-reset")
    page.wait_for_selector("#diverged", state="hidden")
    assert page.text_content("#epoch") == "000,000"


def test_presets_and_extended_mode(page):
    open_playground(page)
    page.select_option("#preset-select", "deep_sigmoid")
    wait_settings(page, "s.layers.length === 8 && s.layers.every(l => l.activation === 'sigmoid')")
    # Eight layers exceed the default six: the page switches to the extended mode.
    page.wait_for_function("document.getElementById('extended').checked")
    assert page.locator(".node.neuron").count() == 8 * 6
    assert "Deep sigmoid" in page.text_content("#preset-description")
    page.click("#play-button")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 30")
    page.click("#play-button")
    assert page.locator("#grad-bars .bar").count() == 9
    screenshot(page, "07-deep-sigmoid-gradients.png")

    page.select_option("#preset-select", "spiral_deep")
    wait_settings(page, "s.dataset === 'spiral' && s.features.length === 7")
    page.click('.dataset[data-dataset="spirals"]')
    wait_settings(page, "s.dataset === 'spirals'")
    page.wait_for_function("document.querySelectorAll('.node.output-unit').length === 3")
    page.click("#play-button")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 30")
    page.click("#play-button")
    screenshot(page, "08-spirals-three-classes.png")


def test_url_encoding_round_trips_every_layer_option(page):
    open_playground(page)
    result = page.evaluate("""(async () => {
        const { encodeHash, decodeHash } = await import('/state-url.js');
        const s = window.playground.state.settings;
        const wanted = {...s, layers: [{units: 32, activation: 'elu', dropout: 0.25, batchnorm: true},
                                      {units: 1, activation: 'linear', dropout: 0, batchnorm: false}],
                        features: ['x2', 'sinx1'], eps: 1e-10, discretize: true};
        const back = decodeHash('#' + encodeHash(wanted, {extended: true}), s);
        const bad = decodeHash('#seed=abc&colour=red&layers=4-tanh-q', s);
        return {same: JSON.stringify(back.settings) === JSON.stringify(wanted), page: back.page,
                problems: back.problems, bad: bad.problems};
    })()""")
    assert result["same"] and result["page"] == {"extended": True} and result["problems"] == []
    assert len(result["bad"]) == 3 and any("colour" in p for p in result["bad"])
    # A link with a setting the server refuses shows the server's error and keeps the defaults.
    page.goto(page.base_url + "#batch_size=99")
    page.wait_for_selector(".toast.error >> text=batch_size")
    assert settings(page)["batch_size"] == 10


# -- issue 19: bugs a user tripped on ---------------------------------------------------------------
def test_turning_off_a_hovered_feature_clears_its_map_from_the_output(page):
    open_playground(page)
    page.hover('.node.feature[data-feature="x1"]')
    page.wait_for_selector("#hover-label:not([hidden]) >> text=X1")
    page.click('.node.feature[data-feature="x1"]')       # turned off while the mouse is on it
    wait_settings(page, "!s.features.includes('x1')")
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    assert page.is_hidden("#hover-label"), page.text_content("#hover-label")
    assert js(page, "window.playground.state.hover") is None
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    assert page.is_hidden("#hover-label")


def test_the_new_class_chip_adds_points_of_a_new_class(page):
    open_playground(page)
    page.click(".class-chip.add")
    assert "selected" in page.get_attribute(".class-chip.add", "class")
    before = len(points(page))
    output_click(page, 2.0, -2.0)
    page.wait_for_function(f"Number(document.body.dataset.points) === {before + 1}")
    added = [p for p in points(page) if abs(p[0] - 2) < 0.05 and abs(p[1] + 2) < 0.05]
    assert [p[2] for p in added] == [2]
    page.wait_for_function("document.querySelectorAll('.class-chip:not(.add)').length === 3")
    assert "selected" in page.get_attribute(".class-chip:not(.add) >> nth=2", "class")


def test_backprop_panel_says_the_formula_is_one_points_share(page):
    open_playground(page)
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    page.evaluate("window.playground.selectWeight({layer: 1, to: 0, from: 0})")
    page.wait_for_selector("#bp-gradient")
    formula = page.text_content("#backprop .formula")
    assert "point #" in formula and "share" in formula, formula
    assert "mean over" in page.text_content("#backprop")


# -- issue 19: the new views ------------------------------------------------------------------------
def sized_page(browser, server, width, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = PageProblems()
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.base_url = server
    return context, page


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_loss_chart_has_axes_legend_current_values_and_a_log_toggle(page):
    open_playground(page)
    assert box(page, "#loss-chart")["height"] >= 120
    page.click("#play-button")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 30")
    page.click("#play-button")
    chart = "window.playground.lossChart"
    assert js(page, f"{chart}.yTicks && {chart}.xTicks && {chart}.legend")
    assert [s["label"] for s in js(page, f"{chart}.series")] == ["test loss", "training loss"]
    before = js(page, "document.getElementById('loss-chart').toDataURL()")
    page.check("#loss-log")
    assert js(page, f"{chart}.log") is True
    assert js(page, "document.getElementById('loss-chart').toDataURL()") != before
    screenshot(page, "issue19-loss-chart.png")


def test_layouts_fit_at_1024_and_390_and_a_10x32_network_fits(browser, server):
    context, page = sized_page(browser, server, 1024)
    open_playground(page)
    net, out = box(page, ".network-column"), box(page, "#output-map")
    assert out["x"] >= net["x"] + net["width"] - 1 and out["y"] < net["y"] + net["height"]
    assert js(page, "document.documentElement.scrollWidth") <= 1024
    context.close()

    context, page = sized_page(browser, server, 390, 844)
    open_playground(page)
    assert js(page, "document.documentElement.scrollWidth") <= 390
    for selector in ("#output-map", "#play-button", "#network", ".panels"):
        b = box(page, selector)
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390 + 0.5, (selector, b)
    context.close()

    context, page = sized_page(browser, server, 1280)
    open_playground(page, "#layers=" + ",".join(["32-relu"] * 10) + "&extended=1")
    page.wait_for_function("document.querySelectorAll('.node.neuron').length === 320")
    column, output = box(page, ".network-scroll"), box(page, ".node.output-unit")
    assert output["x"] + output["width"] <= column["x"] + column["width"] + 0.5
    assert js(page, "document.querySelector('.network-scroll').scrollWidth "
                    "<= document.querySelector('.network-scroll').clientWidth + 1")
    assert not page.problems, page.problems
    context.close()


def overlaps(a, b):
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_toasts_never_cover_a_button(page):
    open_playground(page)
    for _ in range(3):
        page.click("#add-layer")
    page.click("#remove-layer")
    page.wait_for_selector(".toast")
    toasts = [t.bounding_box() for t in page.locator(".toast").all()]
    buttons = [b.bounding_box() for b in page.locator("button:visible").all()]
    assert toasts and buttons
    assert not [(t, b) for t in toasts for b in buttons if b and t and overlaps(t, b)]


def test_preset_description_goes_once_its_settings_change(page):
    open_playground(page)
    page.select_option("#preset-select", "xor_with_product")
    wait_settings(page, "s.dataset === 'xor' && s.layers.length === 0")
    assert "XOR" in page.text_content("#preset-description")
    page.check("#show_test_data")                      # a display toggle keeps it
    wait_settings(page, "s.show_test_data === true")
    assert "XOR" in page.text_content("#preset-description")
    page.select_option("#learning_rate", "0.1")
    wait_settings(page, "s.learning_rate === 0.1")
    assert page.text_content("#preset-description").strip() == ""


def test_confusion_matrix_saturated_cells_have_white_text(page):
    open_playground(page)
    page.click("#play-button")
    page.wait_for_function("Number(document.getElementById('test-accuracy').textContent"
                           ".replace('%', '')) > 95", timeout=60_000)
    page.click("#play-button")
    color = js(page, "getComputedStyle(document.querySelector('#confusion td')).color")
    assert color == "rgb(255, 255, 255)", color


def test_residual_toggle_draws_skips_and_exports_them(page):
    open_playground(page, "#layers=4-tanh,4-tanh,4-tanh")
    page.wait_for_function("document.querySelectorAll('.node.neuron').length === 12")
    assert page.locator("path.skip").count() == 0
    page.check("#residual")
    wait_settings(page, "s.residual === true")
    page.wait_for_function("document.querySelectorAll('path.skip').length === 8")
    assert "residual=true" in page.url
    with page.expect_download() as info:
        page.click("#export-script")
    text = Path(info.value.path()).read_text()
    assert text.count("Residual(") == 3 and "class Residual(nn.Module)" in text
    screenshot(page, "issue19-residual.png")


def test_embed_mode_hides_the_text_and_the_named_controls(page):
    open_playground(page, "#dataset=xor&hideText=1&hide=learning_rate,data,panels")
    assert page.is_hidden("#explainer") and page.is_hidden(".data-column")
    assert page.is_hidden(".panels") and page.is_hidden("#learning_rate")
    assert page.is_visible("#activation") and page.is_visible("#output-map")
    wait_settings(page, "s.dataset === 'xor'")
    page.select_option("#activation", "relu")
    wait_settings(page, "s.layers[0].activation === 'relu'")
    assert "hideText=1" in page.url and "hide=learning_rate,data,panels" in page.url
    screenshot(page, "issue19-embed.png")


def test_the_explanatory_text_uses_the_lectures_words(page):
    open_playground(page)
    text = page.text_content("#explainer")
    for word in ("neuron", "weight", "bias", "activation function", "forward pass", "loss",
                 "gradient", "chain rule", "backpropagation", "learning rate", "epoch",
                 "mini-batch", "overfitting", "Regularization", "Residual connections"):
        assert word in text, word


def test_output_map_is_finer_and_a_discretized_map_is_interpolated(page):
    open_playground(page)
    assert js(page, "window.playground.state.frame.output_size") >= 80
    page.click("#step-button")
    page.wait_for_function("Number(document.body.dataset.epoch) === 1")
    page.check("#discretize")
    wait_settings(page, "s.discretize === true")
    page.wait_for_timeout(300)
    # The discretized map is thresholded on a 4x finer bilinear grid: between a -1 and a +1 cell
    # the sign flips half-way, not at the cell's edge.
    fine = js(page, """(async () => {
        const { upsample } = await import('./heatmap.js');
        return Array.from(upsample(new Float32Array([-1, 1, -1, 1]), 2, 8).slice(0, 8)); })()""")
    assert fine[0] == -1 and fine[-1] == 1 and sorted(fine) == fine
    assert len({round(v, 4) for v in fine}) > 2        # interpolated, not two blocks
    assert js(page, "document.getElementById('output-map').width") >= 320


def test_a_token_url_opens_the_page_and_a_cross_site_page_cannot_connect(browser, server):
    """Served to other machines (a classroom), the printed URL with ?token= opens the page (its
    WebSocket authenticated by the cookie that URL sets) and drops the token from the address;
    without the token nothing is served; and a page from another origin cannot open /ws."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "chainrule.playground", "--host", "127.0.0.2",
                                "--port", str(port), "--workers", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://\S+\?token=\w+", line).group(0)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.seq) >= 1")
        assert "token" not in page.url
        # This page (origin 127.0.0.2) opening the loopback Playground's socket is cross-site.
        other = server.replace("http://", "ws://") + "ws"
        outcome = page.evaluate("""(url) => new Promise((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve("opened");
            ws.onclose = () => resolve("refused");
        })""", other)
        assert outcome == "refused"
        context.close()
        stranger = browser.new_context().new_page()
        response = stranger.goto(url.split("?")[0])
        assert response.status == 403 and "token" in stranger.text_content("body")
        stranger.context.close()
    finally:
        process.send_signal(2)
        process.communicate(timeout=10)
