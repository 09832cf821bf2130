"""Test hosts on one machine: a network namespace per host, joined by a bridge.

``Network`` makes a private ``10.251.0.0/24`` network: a "switch" namespace holding a
bridge, and per host a namespace whose ``eth0`` (a veth pair, the other end on the bridge)
has the host's address. No namespace gets a route out: hosts reach each other only.
``Host.popen`` starts a process inside a host (its own process group); ``Network.close``
kills every process of every namespace (``ip netns pids``) and deletes the namespaces, and a
new ``Network`` first deletes those a killed test process left behind.
``Host.agent`` starts a small helper process in a host that makes HTTP requests and SQL
queries for the test (which itself stays in the root namespace).

Needs root and ``ip`` (iproute2): ``unavailable()`` says why not, or ``None``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

import psutil

__all__ = ["Network", "Host", "Agent", "unavailable", "SUBNET"]

SUBNET = "10.251.0"
_AGENT = Path(__file__).with_name("netns_agent.py")


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or ``None`` when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (install iproute2)"
    probe = f"jfprobe-{uuid.uuid4().hex[:8]}"
    try:
        _ip("netns", "add", probe)
    except RuntimeError as exc:
        return f"cannot make a network namespace: {exc}"
    try:
        _ip("-n", probe, "link", "add", "br0", "type", "bridge")
    except RuntimeError as exc:
        return f"cannot make a bridge in a network namespace: {exc}"
    finally:
        _ip("netns", "del", probe)
    return None


class Host:
    """A host of a ``Network``: a namespace ``ns`` with the address ``address``."""

    def __init__(self, network: Network, name: str, address: str):
        self.network, self.name, self.address = network, name, address
        self.ns = f"{network.prefix}-{name}"

    def command(self, args: list[str], user: str | None = None) -> list[str]:
        as_user = ["runuser", "-u", user, "--"] if user else []
        return ["ip", "netns", "exec", self.ns, *as_user, *args]

    def popen(
        self,
        args: list[str],
        log: Path | None = None,
        user: str | None = None,
        **kwargs: Any,
    ) -> subprocess.Popen[Any]:
        """Start ``args`` in this host, in a new process group (stderr+stdout to ``log``)."""
        out: IO[bytes] | int = log.open("ab") if log else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(
                self.command(args, user),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **kwargs,
            )
        finally:
            if not isinstance(out, int):
                out.close()
        self.network.procs.append(proc)
        return proc

    def run(
        self, args: list[str], user: str | None = None, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args, user), capture_output=True, text=True, check=False, **kwargs
        )

    def agent(self) -> Agent:
        """A helper process in this host for HTTP requests and SQL queries."""
        proc = subprocess.Popen(
            self.command([sys.executable, "-u", str(_AGENT)]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.network.procs.append(proc)
        return Agent(proc)


class Agent:
    """Requests made from inside a host (``netns_agent.py``), one JSON line each way."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.proc = proc

    def _ask(self, request: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the agent exited")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def http(
        self, method: str, url: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """``(status, JSON body)``; status 0 when the server cannot be reached."""
        status, data = self._ask(
            {"kind": "http", "method": method, "url": url, "token": token, "body": body}
        )
        return int(status), data

    def sql(self, dsn: str, query: str) -> list[list[Any]]:
        return list(self._ask({"kind": "sql", "dsn": dsn, "query": query}))


class Network:
    """Namespaces named ``jf<pid>x<id>-<host>`` on one bridge; ``close()`` removes them all
    (and a new ``Network`` those of test processes that died first)."""

    def __init__(self) -> None:
        _remove_stale()
        self.prefix = f"jf{os.getpid()}x{uuid.uuid4().hex[:4]}"
        self.switch = f"{self.prefix}-sw"
        self.hosts: dict[str, Host] = {}
        self.procs: list[subprocess.Popen[Any]] = []
        self.namespaces: list[str] = []
        self._add_namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")

    def _add_namespace(self, ns: str) -> None:
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")

    def add(self, name: str) -> Host:
        """A new host on the bridge, with the next free address."""
        host = Host(self, name, f"{SUBNET}.{10 + len(self.hosts)}")
        self._add_namespace(host.ns)
        port = f"v{len(self.hosts)}"
        _ip("link", "add", "eth0", "netns", host.ns, "type", "veth", "peer", "name", port,
            "netns", self.switch)  # fmt: skip
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("-n", host.ns, "addr", "add", f"{host.address}/24", "dev", "eth0")
        _ip("-n", host.ns, "link", "set", "eth0", "up")
        self.hosts[name] = host
        return host

    def kill_group(self, proc: subprocess.Popen[Any]) -> None:
        """``kill -9`` the process group of ``proc`` (started by ``Host.popen``)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def close(self) -> None:
        """Kill every process started here and every process left in the namespaces,
        then delete the namespaces."""
        for proc in self.procs:
            if proc.poll() is None:
                self.kill_group(proc)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        _delete(self.namespaces)
        self.namespaces.clear()


def _delete(namespaces: list[str]) -> None:
    """Kill what runs in ``namespaces``, then delete them."""
    for ns in namespaces:
        for _ in range(50):
            try:
                pids = [int(p) for p in _ip("netns", "pids", ns).split()]
            except RuntimeError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
    for ns in reversed(namespaces):
        try:
            _ip("netns", "del", ns)
        except RuntimeError:
            pass


def _remove_stale() -> None:
    """Delete the namespaces of test processes that died without closing their network
    (``jf<pid>x...``, that pid gone)."""
    stale = []
    for line in _ip("netns", "list").splitlines():
        found = re.match(r"jf(\d+)x[0-9a-f]+-", line)
        if found and not psutil.pid_exists(int(found.group(1))):
            stale.append(line.split()[0])
    _delete(stale)
