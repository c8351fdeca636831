"""A throwaway single-node SLURM cluster on this machine, for the SLURM integration test.

Everything lives in one directory: a munge key and socket, ``slurm.conf`` and ``gres.conf``,
the daemons' state, spool, pid and log files. The daemons (``munged``, ``slurmctld``,
``slurmd``) run in the foreground as children of this process, so ``stop`` ends exactly
those three, by pid. Clients find the cluster through ``SLURM_CONF`` (see
``env``), and a system munge keeps running untouched.

One thing has to live outside that directory: inside a job, the Snakemake SLURM job step
(snakemake-executor-plugin-slurm-jobstep 0.6.1) runs ``srun`` with every ``SLURM_*``
variable but the job's identity removed, ``SLURM_CONF`` included, so ``srun`` reads the
default ``/etc/slurm/slurm.conf``. ``start`` links that path to this cluster's file, and
only when it does not exist (a machine with its own SLURM is left alone: ``start`` refuses),
and ``stop`` removes the link.

The configuration is the smallest that runs batch jobs without a database: one node named
after ``hostname -s`` with the machine's CPUs and memory (from ``slurmd -C``) and two
placeholder GPUs (GRES on empty files: jobs that ask for ``--gpus=1`` are scheduled as on a
GPU node, and at most two of them run at once), ``proctrack/linuxproc``, ``task/none``,
``select/cons_tres`` with cores and memory as consumable resources, accounting off (so
``sacct`` answers that accounting is disabled; job status comes from ``squeue``).

Run it by hand (as root):  python tests/slurm_cluster.py  (starts, prints, waits for Enter)
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol")
PARTITION = "local"
FAKE_GPUS = 2


class ClusterUnavailable(RuntimeError):
    """This machine cannot run the cluster; the message says why."""


def missing_requirements() -> str | None:
    """Why a local cluster cannot be started here, or None when it can be tried."""
    missing = [name for name in DAEMONS + CLIENTS if shutil.which(name) is None]
    if missing:
        return (
            f"SLURM/munge binaries not found: {', '.join(missing)} "
            "(Debian: apt-get install slurm-wlm munge)"
        )
    if os.geteuid() != 0:
        return "starting slurmd needs root (it runs jobs as their submitting user)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_hardware() -> dict[str, int]:
    """CPUs and memory (MB) of this machine as slurmd itself sees them."""
    done = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30)
    found = dict(re.findall(r"(\w+)=(\d+)", done.stdout))
    if "CPUs" not in found or "RealMemory" not in found:
        raise ClusterUnavailable(f"slurmd -C gave no CPUs/RealMemory:\n{done.stdout}{done.stderr}")
    return {"CPUs": int(found["CPUs"]), "RealMemory": int(found["RealMemory"])}


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return f"({path.name} was not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class LocalSlurm:
    """A single-node cluster under ``root``; ``start`` it, then always ``stop`` it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.node = socket.gethostname().split(".")[0]
        self.processes: dict[str, subprocess.Popen] = {}
        self.linked_default_config = False
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.logs = {
            "munged": self.root / "log" / "munged.log",
            "slurmctld": self.root / "log" / "slurmctld.log",
            "slurmd": self.root / "log" / "slurmd.log",
        }

    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM clients (and so for Snakemake) to use this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def write_config(self) -> None:
        hardware = _node_hardware()
        for folder in ("munge", "log", "state", "spool", "run"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        # The key must be private to munged's user (root). munged also wants its socket's
        # directories open to every user, for other users' clients; only root's clients use
        # this one, inside a private temporary directory, hence munged --force below.
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        os.chmod(key, 0o600)
        # Finished jobs stay visible to squeue and scontrol for MinJobAge seconds: an hour,
        # so that a test can inspect every job of a run once it is over.
        self.conf.write_text(
            f"""\
ClusterName=visrnn-test
SlurmctldHost={self.node}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={self.root / "state"}
SlurmdSpoolDir={self.root / "spool"}
SlurmctldPidFile={self.root / "run" / "slurmctld.pid"}
SlurmdPidFile={self.root / "run" / "slurmd.pid"}
SlurmctldLogFile={self.logs["slurmctld"]}
SlurmdLogFile={self.logs["slurmd"]}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
MinJobAge=3600
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
GresTypes=gpu
NodeName={self.node} CPUs={hardware["CPUs"]} RealMemory={hardware["RealMemory"]} \
Gres=gpu:{FAKE_GPUS} State=UNKNOWN
PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        )
        # slurmd drops GPUs without device files; plain files will do without a cgroup plugin
        # (slurmd logs that they are not devices, and counts them).
        devices = self.root / "dev"
        devices.mkdir(exist_ok=True)
        for index in range(FAKE_GPUS):
            (devices / f"gpu{index}").touch()
        (self.root / "gres.conf").write_text(
            f"NodeName={self.node} Name=gpu File={devices}/gpu[0-{FAKE_GPUS - 1}]\n"
        )

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.root / "log" / f"{name}.out").open("w")
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.root
        )
        log.close()

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise ClusterUnavailable(
                f"{name} exited with status {process.returncode}; its log ends:\n"
                f"{_tail(self.logs[name])}\n{_tail(self.root / 'log' / f'{name}.out')}"
            )

    def _wait(self, what: str, ready, daemons: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name in daemons:
                self._check_alive(name)
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}:\n{_tail(self.logs[n])}" for n in daemons)
                raise ClusterUnavailable(f"{what} not ready after {timeout:.0f} s\n{logs}")
            time.sleep(0.2)

    def _node_state(self) -> str:
        done = subprocess.run(
            ["sinfo", "--noheader", "--nodes", self.node, "--format", "%T"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def _link_default_config(self) -> None:
        if DEFAULT_CONF.is_symlink() and not DEFAULT_CONF.exists():
            raise ClusterUnavailable(
                f"{DEFAULT_CONF} is a dangling link to {os.readlink(DEFAULT_CONF)}, perhaps "
                "left by an interrupted test run: remove it"
            )
        if DEFAULT_CONF.exists():
            raise ClusterUnavailable(
                f"{DEFAULT_CONF} exists: this machine has a SLURM configuration of its own, "
                "which the test cluster does not replace (the job step's srun reads it)"
            )
        DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_CONF.symlink_to(self.conf)
        self.linked_default_config = True

    def start(self, timeout: float = 60) -> None:
        self.write_config()
        self._link_default_config()
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                "--force",
                f"--socket={self.munge_socket}",
                f"--key-file={self.root / 'munge' / 'munge.key'}",
                f"--pid-file={self.root / 'run' / 'munged.pid'}",
                f"--seed-file={self.root / 'munge' / 'munged.seed'}",
                f"--log-file={self.logs['munged']}",
            ],
        )
        self._wait("munged", self.munge_socket.exists, ("munged",), timeout)
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf)])
        self._wait(
            f"node {self.node} (sinfo)",
            lambda: self._node_state() == "idle",
            DAEMONS,
            timeout,
        )

    def stop(self) -> None:
        """End the daemons this object started (slurmd first), each by its pid, and remove
        the link to its configuration."""
        if self.linked_default_config and DEFAULT_CONF.is_symlink():
            if Path(os.readlink(DEFAULT_CONF)) == self.conf:
                DEFAULT_CONF.unlink()
            self.linked_default_config = False
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_text(self, name: str) -> str:
        path = self.logs[name]
        return path.read_text(errors="replace") if path.exists() else ""


if __name__ == "__main__":
    import tempfile

    if reason := missing_requirements():
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="slurm-") as folder:
        cluster = LocalSlurm(Path(folder))
        try:
            cluster.start()
            print(f"SLURM is up: export SLURM_CONF={cluster.conf}")
            input("Press Enter to shut it down. ")
        finally:
            cluster.stop()
