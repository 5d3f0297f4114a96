"""One day, one owner (engines/artifacts/lock.py), and files under artifacts/ reached without following a
link (engines/artifacts/nofollow.py). Locks are taken by real processes: flock is per open file, and a
holder's death must free it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engines.artifacts.lock import TOKEN_VARIABLE, ArtifactsBusy, ArtifactsLock
from engines.artifacts.nofollow import give_tree, move_entries, read_file, write_file
from tests.helpers import ROOT

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from engines.artifacts.lock import ArtifactsLock
    root, kind = Path(sys.argv[1]), sys.argv[2]
    if kind == "session":
        lock = ArtifactsLock.for_session(root, "dayone", None)
        print(lock.token, flush=True)
    else:
        ArtifactsLock.for_engines(root, tuple(kind.split(",")))
        print("held", flush=True)
    time.sleep(60)
    """
)


def hold(root: Path, kind: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root), kind],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def test_a_second_controller_refuses_naming_the_first_and_a_dead_ones_lock_is_taken_over(
    tmp_path: Path,
) -> None:
    first, _ = hold(tmp_path, "session")
    try:
        with pytest.raises(ArtifactsBusy, match=rf"pid {first.pid} on .*in project dayone") as busy:
            ArtifactsLock.for_session(tmp_path, "daytwo", None)
        assert busy.value.exit_code == 5
        with pytest.raises(ArtifactsBusy, match=rf"pid {first.pid}"):
            ArtifactsLock.for_engines(tmp_path, ("fno",))  # a bare engine beside the session
    finally:
        first.kill()
        first.wait()
    taken = ArtifactsLock.for_session(tmp_path, "daytwo", None)  # the holder died: its lock is stale
    assert taken.previous is not None and taken.previous.pid == first.pid
    assert taken.previous.project == "dayone"
    taken.release()


def test_the_controllers_engines_present_its_token_and_two_runs_of_one_engine_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, token = hold(tmp_path, "session")
    engine, _ = hold(tmp_path, "fno,equity", {TOKEN_VARIABLE: token})
    try:
        assert engine.poll() is None  # running under the controller
        monkeypatch.setenv(TOKEN_VARIABLE, token)
        with pytest.raises(ArtifactsBusy, match=rf"pid {engine.pid} .*fno,equity"):
            ArtifactsLock.for_engines(tmp_path, ("fno",))  # the same engine again, even with the token
        monkeypatch.setenv(TOKEN_VARIABLE, "guessed")
        with pytest.raises(ArtifactsBusy, match=rf"pid {controller.pid}"):
            ArtifactsLock.for_engines(tmp_path, ("options",))
    finally:
        for process in (controller, engine):
            process.kill()
            process.wait()


def test_engines_without_a_controller_share_the_directory_and_a_controller_then_refuses(
    tmp_path: Path,
) -> None:
    fno, _ = hold(tmp_path, "fno")
    try:
        equity = ArtifactsLock.for_engines(tmp_path, ("equity",))  # `docker compose up`: one per container
        with pytest.raises(ArtifactsBusy, match=rf"pid {fno.pid} on .*\(python -c .* fno,"):
            ArtifactsLock.for_session(tmp_path, "paperfleet", None)
        equity.release()
    finally:
        fno.kill()
        fno.wait()


def test_writes_reads_and_moves_never_follow_a_planted_link(tmp_path: Path) -> None:
    root, outside = tmp_path / "artifacts", tmp_path / "outside"
    (root / "logs").mkdir(parents=True)
    outside.mkdir()
    target = outside / "authorized_keys"
    target.write_text("ssh-ed25519 AAAA precious\n")
    (root / "logs" / "fno.log").symlink_to(target)
    (root / "sessions").symlink_to(outside, target_is_directory=True)

    write_file(root, "logs/fno.log", b"engine output\n")  # replaces the link, not the target
    assert target.read_text() == "ssh-ed25519 AAAA precious\n"
    assert (root / "logs" / "fno.log").read_text() == "engine output\n"
    with pytest.raises(OSError):
        write_file(root, "sessions/2026-11-27.json", b"{}")  # a linked directory is not entered
    assert sorted(p.name for p in outside.iterdir()) == ["authorized_keys"]
    (root / "heartbeat.json").symlink_to(target)
    with pytest.raises(OSError):
        read_file(root, "heartbeat.json")
    move_entries(root, ["heartbeat.json"], "archive/1", None)  # the link moves as a link
    assert (root / "archive" / "1" / "heartbeat.json").is_symlink() and target.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_giving_the_tree_to_the_container_user_never_chowns_through_a_link(tmp_path: Path) -> None:
    root, target = tmp_path / "artifacts", tmp_path / "precious"
    (root / "journal").mkdir(parents=True)
    target.write_text("root's\n")
    (root / "journal" / "fno.jsonl").write_text("{}\n")
    (root / "link").symlink_to(target)
    changed = give_tree(root, (10001, 10001))
    assert changed == 4  # root, journal, fno.jsonl, and the link itself
    assert (target.stat().st_uid, (root / "journal" / "fno.jsonl").stat().st_uid) == (0, 10001)
    assert os.lstat(root / "link").st_uid == 10001
