"""The hosts of ``test_multihost.py`` and what runs on them (``start``), and ``Site``, the
test's handle on them: REST calls and SQL queries made from the client host, the CLI there.

Hosts (each a network namespace, ``netns.Network``): ``db`` (PostgreSQL as the postgres
user), ``a`` and ``b`` (jupyter servers with our extension on that database), ``scheduler``,
``dask1`` and ``dask2`` (Dask), ``daskpool`` (a worker of the ``dask`` pool ``cluster``,
through A) and ``procpool`` (a worker of the process pool ``default``, through B), both with
worker tokens and no database URL, and ``client``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.harness import TOKEN
from tests.e2e.netns import Agent, Host, Network
from tests.helpers import wait

__all__ = ["Site", "start", "pg_bindir", "FINAL"]

PY = sys.executable
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Site:
    """The hosts and what runs on them."""

    net: Network
    tmp: Path
    hosts: dict[str, Host]
    client: Agent
    dsn: str
    project: Path
    env: dict[str, str]
    dask_workers: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)

    def url(self, server: str) -> str:
        return f"http://{self.hosts[server].address}:8888"

    def get(self, server: str, path: str) -> Any:
        status, body = self.client.http(
            "GET", f"{self.url(server)}/jupyter-flows/api/{path}", TOKEN
        )
        assert status == 200, (server, path, status, body)
        return body

    def post(self, server: str, path: str, body: Any) -> Any:
        status, reply = self.client.http(
            "POST", f"{self.url(server)}/jupyter-flows/api/{path}", TOKEN, body
        )
        assert status in (200, 201, 202), (server, path, status, reply)
        return reply

    def cli(self, server: str, *args: str) -> str:
        """``jupyter flows ARGS`` on the client host, against ``server``, in the project."""
        done = self.hosts["client"].run(
            [PY, "-m", "jupyter_flows.cli.app", *args, "--url", self.url(server), "--token", TOKEN],
            cwd=self.project,
            env=self.env_of("client"),
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def sql(self, query: str) -> list[list[Any]]:
        return self.client.sql(self.dsn, query)

    def env_of(self, host: str) -> dict[str, str]:
        home = self.tmp / host
        return dict(
            self.env,
            JUPYTER_FLOWS_HOME=str(home / "flows"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTER_DATA_DIR=str(home / "data"),
        )

    def log(self, host: str) -> Path:
        return self.tmp / f"{host}.log"

    def start_dask_worker(self, host: str, wait_for: bool = True) -> None:
        scheduler = f"tcp://{self.hosts['scheduler'].address}:8786"
        log = self.log(host)
        seen = log.read_text().count("Registered to") if log.exists() else 0
        self.dask_workers[host] = self.hosts[host].popen(
            [
                PY,
                "-m",
                "distributed.cli.dask_worker",
                scheduler,
                "--host",
                self.hosts[host].address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                host,
            ],  # fmt: skip
            log,
            env=self.env_of(host),
        )
        if wait_for:
            self.registered(host, seen + 1)

    def registered(self, host: str, times: int = 1) -> None:
        """Wait until the Dask worker of ``host`` has registered ``times`` times."""
        log = self.log(host)
        wait(lambda: log.read_text().count("Registered to") >= times, 120, f"Dask worker {host}")

    def final(self, run_id: str, timeout: float = 180) -> dict[str, Any]:
        wait(lambda: self.get("b", f"flow_runs/{run_id}")["state_type"] in FINAL, timeout, run_id)
        return dict(self.get("b", f"flow_runs/{run_id}"))

    def run(self, deployment: str, **body: Any) -> str:
        return str(self.post("b", f"deployments/{deployment}/run", body)["id"])

    def logs(self, server: str, run_id: str) -> list[str]:
        page = self.get(server, f"flow_runs/{run_id}/logs?limit=1000")
        return [item["message"] for item in page["items"]]


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(found[0]).parent if found else None


def start(net: Network, tmp: Path, project: Path, pgdir: Path, bindir: Path) -> Site:
    """Make the hosts and start everything on them; the workers' root is ``project``."""
    names = ["db", "a", "b", "scheduler", "dask1", "dask2", "daskpool", "procpool", "client"]
    hosts = {name: net.add(name) for name in names}
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_FLOWS_")}
    # PostgreSQL on its host, as the postgres user, listening on its address only
    shutil.chown(pgdir, "postgres", "postgres")
    data = pgdir / "data"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D", str(data),
         "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host all all 10.251.0.0/24 trust\n")
    db = hosts["db"]
    db.popen(
        [str(bindir / "postgres"), "-D", str(data), "-c", f"listen_addresses={db.address}",
         "-p", "5432", "-k", str(pgdir), "-c", "fsync=off", "-c", "synchronous_commit=off",
         "-c", "full_page_writes=off"],
        tmp / "db.log",
        user="postgres",
    )  # fmt: skip
    site = Site(net, tmp, hosts, hosts["client"].agent(), "", project, env)
    for name in names:
        (tmp / name).mkdir()
    # the Dask cluster meanwhile
    scheduler = hosts["scheduler"]
    scheduler.popen(
        [PY, "-m", "distributed.cli.dask_scheduler", "--host", scheduler.address,
         "--port", "8786", "--no-dashboard"],
        site.log("scheduler"),
        env=site.env_of("scheduler"),
    )  # fmt: skip
    for dask_host in ("dask1", "dask2"):
        site.start_dask_worker(dask_host, wait_for=False)  # they retry until it is up
    admin = f"postgresql://postgres@{db.address}:5432/postgres"

    def db_up() -> bool:
        try:
            return bool(site.client.sql(admin, "SELECT 1"))
        except RuntimeError:
            return False

    wait(db_up, 120, "PostgreSQL on its host")
    site.client.sql(admin, "CREATE DATABASE flows")
    site.dsn = f"postgresql://postgres@{db.address}:5432/flows"
    db_url = f"postgresql+psycopg://postgres@{db.address}:5432/flows"
    for i, server in enumerate(("a", "b")):
        hosts[server].popen(
            [PY, "-m", "jupyter_server", "--no-browser", "--allow-root",
             f"--ServerApp.ip={hosts[server].address}", "--port=8888",
             f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={project}",
             "--ServerApp.jpserver_extensions=jupyter_flows=True",
             f"--FlowsApp.db_url={db_url}", "--FlowsApp.embedded_worker=False",
             "--FlowsApp.heartbeat_timeout=4", "--FlowsApp.crash_check_interval=1"],
            site.log(server),
            env=site.env_of(server),
        )  # fmt: skip
        if i == 0:  # A makes the tables; B starts on a migrated database
            wait(lambda: site.client.http("GET", f"{site.url('a')}/jupyter-flows/api/health",
                 TOKEN)[0] == 200, 180, "server A")  # fmt: skip
    for dask_host in ("dask1", "dask2"):
        site.registered(dask_host)
    wait(lambda: site.client.http("GET", f"{site.url('b')}/jupyter-flows/api/health", TOKEN)[0]
         == 200, 180, "server B")  # fmt: skip
    site.cli("a", "pools", "create", "cluster", "--type", "dask")
    for worker, server, pool, extra in (
        ("daskpool", "a", "cluster", ["--address", f"tcp://{scheduler.address}:8786"]),
        ("procpool", "b", "default", []),
    ):
        token = site.cli(server, "pools", "token", pool, "--worker", worker).strip()
        assert token.startswith("jf1."), token
        hosts[worker].popen(
            [PY, "-m", "jupyter_flows.cli.app", "worker", "--url", site.url(server),
             "--token", token, "--pool", pool, "--name", worker, "--poll-interval", "0.5",
             "--root", str(project), "--grace", "1", "--limit", "2", *extra],
            site.log(worker),
            env=site.env_of(worker),  # no database URL: it records through its server
        )  # fmt: skip
    return site
