"""The README's whole-loop demo runs as written: its own commands, in bash, with real processes on loopback.

The shell blocks of the section are read from the README and run in one bash (``set -euo pipefail``,
so each ``grep`` that looks for what should have arrived fails the run when it did not), in a
folder holding the demo's files, on free ports instead of 8080-8082 (the same substitution in the
routes file). Then the simulators are asked what they received, and every message is checked
against our schemas and, with ``RIVTA_OFFICIAL_SCHEMAS``, the official ones.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from simulator.journal import CONTRACT_PATH
from tests.conformance import status_update_corpus
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.onward_env import CORPORA
from tests.integration.test_readme_demo import ROOT

SECTION = "### Demo: the whole loop with Försäkringskassan"
PORTS = ("8080", "8081", "8082")


def _script() -> str:
    """The section's ```sh blocks, in order, as one script."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.+?)\n```", section, re.DOTALL)
    assert len(blocks) == 3, "start, send, question and answer"
    return "\n".join(blocks)


def _free_ports(count: int) -> list[str]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [str(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _on_ports(text: str, ports: dict[str, str]) -> str:
    return re.sub(r"\b(808[0-2])\b", lambda match: ports[match.group(1)], text)


def _stop_group(demo: subprocess.Popen[bytes]) -> None:
    """SIGTERM the demo's process group (the simulators and serve it left running), wait for it to go,
    then SIGKILL what is left."""
    os.killpg(demo.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(demo.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(demo.pid, signal.SIGKILL)
    if demo.poll() is None:
        demo.wait(10)


def test_the_whole_loop_demo_runs_as_written(tmp_path: Path) -> None:
    """db, routes, serve; draft, sign, send, FK registers; FK asks, the journal hears, care answers,
    FK receives svarPa, the journal gets HANFRFM: every command succeeds and every message is valid."""
    ports = dict(zip(PORTS, _free_ports(3), strict=True))
    (tmp_path / "docs" / "examples").mkdir(parents=True)
    for name in ("demo-routes.csv", "create-draft-lisjp.xml", "lisjp-content.json"):
        text = (ROOT / "docs" / "examples" / name).read_text(encoding="utf-8")
        (tmp_path / "docs" / "examples" / name).write_text(_on_ports(text, ports), encoding="utf-8")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    script = tmp_path / "demo.sh"
    script.write_text("set -euo pipefail\n" + _on_ports(_script(), ports) + "\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")}
    env["INTYGSGATEWAY_LOG_LEVEL"] = "warning"
    env["INTYGSGATEWAY_WORKERS"] = "1"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:  # a file, not a pipe: the background processes keep their output open
        demo = subprocess.Popen(["bash", str(script)], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        demo.wait(240)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert demo.returncode == 0, text
        assert "SENDING" in text and "SENT" in text
        assert re.search(r"^NYFRFM$", text, re.MULTILINE) and re.search(r"^HANFRFM$", text, re.MULTILINE), text
        assert re.search(r"^svarPa$", text, re.MULTILINE), text
        recipient = requests.get(f"http://127.0.0.1:{ports['8082']}/_mock/received", timeout=10).json()
        journal = requests.get(f"http://127.0.0.1:{ports['8081']}/_mock/received", timeout=10).json()
    finally:
        _stop_group(demo)
    assert [(r["contract"], r["logicalAddress"], r["resultCode"]) for r in recipient] == [
        ("RegisterCertificate", "2021005521", "OK"), ("SendMessageToRecipient", "2021005521", "OK")]
    assert [r["event_code"] for r in journal] == ["SKAPAT", "ANDRAT", "SIGNAT", "SKICKA", "NYFRFM", "HANFRFM"]
    official = bool(os.environ.get(OFFICIAL_ENV))
    for record in recipient:
        corpus = CORPORA[record["contract"]]
        for schema in [corpus.SCHEMA.ours().schema] + ([corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["xml"].encode()) == [], record["contract"]
    for record in journal:
        for schema in [status_update_corpus.SCHEMA.ours().schema] + (
                [status_update_corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["raw_xml"].encode()) == [], record["event_code"]
    assert CONTRACT_PATH in (tmp_path / "docs" / "examples" / "demo-routes.csv").read_text(encoding="utf-8")
