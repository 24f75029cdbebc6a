"""``ixsim serve`` without a browser: bad options are one ``error:`` line and exit 2, the server
binds to 127.0.0.1 by default, Ctrl-C ends it with ``error: interrupted`` (exit 130); and what
the served pages accept from a person (uploaded scenarios, slider overrides) goes through the
scenario loader's checks. The pages themselves are tested in a browser (tests/browser)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ixsim.cli.app import main

ROOT = Path(__file__).resolve().parents[1]


def _errors(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind, expected", [
    ("missing", "no such folder"),
    ("file", "not a folder"),
    ("sweep", "is one sweep; give the folder that holds the sweeps"),
])
def test_serve_refuses_a_bad_store_with_one_line(tmp_path, capsys, kind, expected):
    store = tmp_path / "store"
    if kind == "file":
        store.write_text("x")
    elif kind == "sweep":
        store.mkdir()
        (store / "manifest.json").write_text("{}")
    assert main(["serve", "--store", str(store)]) == 2
    lines = _errors(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("error: --store: ") and expected in lines[0]


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_serve_refuses_a_bad_port_with_one_line(capsys, port):
    assert main(["serve", "--port", port]) == 2
    lines = _errors(capsys)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--port" in lines[0]


def test_serve_refuses_a_port_in_use_with_one_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert _errors(capsys) == [f"error: --port: {port} is already in use on 127.0.0.1"]


def test_serve_binds_to_localhost_on_5006_by_default(monkeypatch, capsys):
    import ixsim.dashboards.app as app

    seen = {}

    class FakeServer:
        class io_loop:  # noqa: N801 (as Bokeh names it)
            @staticmethod
            def start():
                seen["loop"] = True

        def start(self):
            seen["started"] = True

    def fake_serve(**kwargs):
        seen.update(kwargs)
        return FakeServer()

    monkeypatch.setattr(app, "serve", fake_serve)
    assert main(["serve"]) == 0
    assert (seen["address"], seen["port"], seen["store"]) == ("127.0.0.1", 5006, None)
    assert seen["started"] and seen["loop"] and seen["show"] is False
    assert "http://127.0.0.1:5006/" in capsys.readouterr().out


def test_websocket_origins_are_the_served_host_only():
    from ixsim.dashboards.app import allowed_origins

    assert allowed_origins("127.0.0.1", 5006) == ["127.0.0.1:5006", "localhost:5006"]
    assert "*" not in allowed_origins("192.168.1.5", 80)


@pytest.mark.slow
def test_serve_answers_then_ctrl_c_exits_130_with_one_line(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ixsim.cli.launch", "serve", "--port",
                             str(port), "--store", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?page=calibration",
                                            timeout=30) as response:
                    status = response.status
            except OSError:
                time.sleep(0.3)
        assert status == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["error: interrupted"]
    assert f"http://127.0.0.1:{port}/" in out


# ------------------------------------------------------------------ what the pages accept


def test_uploaded_scenario_gets_the_schemas_field_error():
    from ixsim.dashboards.inputs import UploadError, load_upload

    data = b'extends = "baseline.toml"\n[meta]\nname = "mine"\n[software]\nreturns_r = -3\n'
    with pytest.raises(UploadError) as caught:
        load_upload("../../mine.toml", data)
    assert caught.value.lines() == [
        "error: mine.toml: software.returns_r: input should be greater than or equal to 0.05 "
        "(got -3)"]


def test_uploaded_scenario_extending_a_shipped_one_loads():
    from ixsim.dashboards.inputs import load_upload

    spec = load_upload("race.toml", b'extends = "us-china-race.toml"\n[meta]\nname = "mine"\n'
                                    b'[software]\nreturns_r = 2.0\n')
    assert spec.meta.name == "mine" and spec.software.returns_r == 2.0


@pytest.mark.parametrize("data, expected", [
    (b'extends = "/etc/passwd"\n', "can extend only a scenario shipped with ixsim"),
    (b'extends = "../scenarios/baseline.toml"\n', "can extend only a scenario shipped"),
    (b"x = [", "not valid TOML"),
    (b"\xff\xfe", "not UTF-8"),
    (b"a = " + b"[" * 100 + b"]" * 100, "nested"),
    (b"# " + b"x" * (256 * 1024), "the limit for an uploaded scenario is 262,144 bytes"),
])
def test_uploaded_scenario_is_refused_before_the_schema(data, expected):
    from ixsim.dashboards.inputs import UploadError, load_upload

    with pytest.raises(UploadError) as caught:
        load_upload("x.toml", data)
    lines = caught.value.lines()
    assert len(lines) == 1 and lines[0].startswith("error: x.toml: ") and expected in lines[0]


def test_slider_overrides_reach_every_regulator_and_lab_strategy_and_only_when_moved():
    from ixsim.dashboards.inputs import KNOBS, overrides
    from ixsim.sim.scenario import load_scenario

    spec = load_scenario("baseline")
    unchanged = {key: knob.value(spec) for key, knob in KNOBS.items()}
    assert overrides(spec, unchanged) == {}
    changed = overrides(spec, {**unchanged, "regulators.lag_years": 2.5,
                               "labs.safety_share": 0.2})
    assert changed == {**{f"regulators[{i}].lag_years": 2.5
                          for i in range(len(spec.regulators))},
                       **{f"strategies.{name}.safety_share": 0.2
                          for name in dict.fromkeys(lab.strategy for lab in spec.labs)}}
    json.dumps(changed)  # plain values, as a URL holds them


@pytest.mark.parametrize("widget, raw, expected", [
    ("select", "us-china-race", (True, "us-china-race")),
    ("select", "../../etc/passwd", (False, None)),
    ("slider", "1.5", (True, 1.5)),
    ("slider", "__import__('os')", (False, None)),
    ("slider", "nan", (False, None)),
    ("slider", "99", (False, None)),
    ("seed", "7", (True, 7)),
    ("seed", "-5", (False, None)),
    ("seed", "7.5", (False, None)),
])
def test_url_values_are_parsed_never_evaluated_and_kept_in_range(widget, raw, expected):
    import panel as pn

    from ixsim.dashboards.common import parse_url_value

    widgets = {"select": pn.widgets.Select(options=["baseline", "us-china-race"]),
               "slider": pn.widgets.FloatSlider(start=0.1, end=4.0, value=1.2),
               "seed": pn.widgets.IntInput(start=0, end=2**31 - 1, value=0)}
    assert parse_url_value(widgets[widget], "value", raw) == expected


def test_a_page_that_cannot_be_imported_is_a_notice_not_a_crash():
    from ixsim.dashboards.app import build_page
    from ixsim.dashboards.context import AppContext
    from ixsim.dashboards.pages import Page

    view = build_page(Page("nowhere", "no_such_page", "Nowhere"), AppContext())
    assert "The Nowhere page could not be shown" in view.object
