"""The README's demo works as written: its own commands set up a route that `routing check` finds usable.

The commands are read from the README, not copied here, so the demo and this test cannot drift: the
database is created by the demo's `db upgrade`, the route by its `routing add`, and the draft by
posting the demo's example request to the gateway; then `routing check` must report nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.integration.gateway_server import demo_gateway_deps, running

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "intygsgateway"


def _demo_commands() -> list[list[str]]:
    """The `$G ...` commands of the demo's first block, continuation lines joined, background `&` dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Demo: a status update reaches a journal system", 1)[1]
    block = re.search(r"```sh\n(.+?)\n```", section, re.DOTALL)
    assert block is not None
    lines = block.group(1).replace("\\\n", " ").splitlines()
    return [shlex.split(line.removesuffix("&"))[1:] for line in lines if line.startswith("$G ")]


def _command(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command in ``folder`` (the demo's working directory), as an operator would."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")}
    return subprocess.run([str(BIN), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_demo_route_names_its_producer_and_routing_check_passes(tmp_path: Path) -> None:
    """db upgrade, then routing add with --producer, then a draft: `routing check` exits 0 with no finding."""
    commands = _demo_commands()
    names = [command[:2] for command in commands]
    assert names.index(["db", "upgrade"]) < names.index(["routing", "add"]), "the database first"
    [add] = [command for command in commands if command[:2] == ["routing", "add"]]
    assert "--producer" in add
    for command in commands:
        if command[0] in ("db", "routing"):  # the database's commands, on the default ./intygsgateway.db
            done = _command(command, tmp_path)
            assert done.returncode == 0, (command, done.stderr)
    url = f"sqlite:///{tmp_path / 'intygsgateway.db'}"
    _, deps = demo_gateway_deps(url)
    with running(deps, url) as gateway:
        status, _, _ = gateway.post((ROOT / "docs" / "examples" / "create-draft-lisjp.xml").read_bytes())
    assert status == 200
    done = _command(["routing", "check"], tmp_path)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith("1 integrated units checked, 0 finding(s)")
