"""Every file tppcalc writes goes through tppcalc.outputs: a fresh temporary beside the target,
renamed when complete; refused targets, full disks and signals leave no output that looks
complete and no temporary behind (issue 14, item 8)."""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import tppcalc.render.chart as chart_module
from tppcalc.errors import InputError
from tppcalc.outputs import OutputError, atomic_output, check_target, write_file
from tppcalc.render.html_report import write_html

ROOT = Path(__file__).resolve().parent.parent


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".tmp")))


def test_a_file_is_written_whole_with_the_mode_a_plain_open_gives(tmp_path):
    target = tmp_path / "out.txt"
    umask = os.umask(0o022)
    try:
        write_file(target, "hello\n")
    finally:
        os.umask(umask)
    assert target.read_text() == "hello\n" and leftovers(tmp_path) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600


def test_an_error_in_the_body_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("the previous output\n")
    with pytest.raises(RuntimeError), atomic_output(target) as sink:
        sink.write(b"half")
        raise RuntimeError("boom")
    assert target.read_text() == "the previous output\n" and leftovers(tmp_path) == []


def test_a_planted_symlink_at_the_old_temporary_name_is_never_followed(tmp_path):
    """`ln -s /tmp/victim r.html.tmp` then `--html r.html` overwrote the victim."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "r.html.tmp").symlink_to(victim)
    (tmp_path / ".r.html.tmp").symlink_to(victim)
    write_html("<html></html>\n", tmp_path / "r.html")
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "r.html").read_text() == "<html></html>\n" and not (tmp_path / "r.html").is_symlink()


def test_the_chart_is_written_through_a_fresh_temporary(tmp_path, monkeypatch):
    monkeypatch.setattr(chart_module, "render", lambda model, fmt: b"<svg/>")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "c.svg.tmp").symlink_to(victim)
    chart_module.write_chart(None, tmp_path / "c.svg")
    assert victim.read_text() == "precious\n" and (tmp_path / "c.svg").read_bytes() == b"<svg/>"


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    target = {"folder": tmp_path / "d", "fifo": tmp_path / "f", "device": tmp_path / "null"}[kind]
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:  # our own device node, never the system's /dev/null (as root a regression would replace it)
        try:
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device node needs root (CAP_MKNOD)")
    with pytest.raises(OutputError, match="folder" if kind == "folder" else "not a regular file"):
        write_file(target, "x")
    assert leftovers(tmp_path) == []
    assert not target.is_file()


def test_an_output_that_is_an_input_is_refused_however_it_is_named(tmp_path):
    source = tmp_path / "same.csv"
    source.write_text("chip\nH100 SXM\n")
    os.link(source, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(source)
    for name in ("same.csv", "hard.csv", "soft.csv", "./same.csv"):
        with pytest.raises(OutputError, match="is the input"):
            check_target(tmp_path / name, inputs=[source])
    assert source.read_text() == "chip\nH100 SXM\n"


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_file(tmp_path / "missing" / "out.txt", "x")


def test_a_full_disk_found_at_fsync_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    """Delayed allocation: a filesystem may report ENOSPC only when the data is synced."""
    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / "out.txt"
    target.write_text("the previous output\n")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError, match="ENOSPC"):
        write_file(target, b"x" * 100_000)
    assert target.read_text() == "the previous output\n" and leftovers(tmp_path) == []


def test_efbig_from_a_file_size_limit_is_one_error_line_and_no_output(tmp_path):
    """RLIMIT_FSIZE: the kernel answers EFBIG (Python ignores SIGXFSZ)."""
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from tppcalc.outputs import write_file\n"
            "write_file(sys.argv[1], b'x' * 100_000)\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.bin")], capture_output=True,
                            text=True, cwd=ROOT, timeout=60)
    assert result.returncode != 0 and "EFBIG" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_remove_the_temporary(tmp_path, signum):
    code = ("import sys, time\n"
            "from tppcalc.outputs import atomic_output\n"
            "with atomic_output(sys.argv[1]) as sink:\n"
            "    sink.write(b'partial')\n"
            "    print('writing', flush=True)\n"
            "    time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out.csv")], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"
    assert len(leftovers(tmp_path)) == 1
    process.send_signal(signum)
    process.communicate(timeout=30)
    assert process.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_probe_record_and_fleet_probe_never_follow_a_planted_temporary(run_cli, tmp_path, monkeypatch):
    """`probe record -o` wrote OUTPUT.tmp and `fleet probe -o` .OUTPUT.PID.tmp: predictable names."""
    import tppcalc.fleet.ray_probe as ray_probe
    import tppcalc.probe.run as probe_run

    monkeypatch.setattr(probe_run, "record_live", lambda: {"nvml": {"calls": {}, "status": "absent"},
                                                         "pci": {"devices": [], "status": "absent"}})
    monkeypatch.setattr(ray_probe, "probe_cluster",
                        lambda **options: ray_probe.FleetProbeResult(nodes=[{"node_id": "n1"}], missing=[]))
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "dump.json.tmp").symlink_to(victim)
    for pid in range(os.getpid() - 50, os.getpid() + 2000):  # the fleet command's own pid is among these
        (tmp_path / f".nodes.jsonl.{pid}.tmp").symlink_to(victim)
    assert run_cli("probe", "record", "-o", str(tmp_path / "dump.json")).exit_code == 0
    assert run_cli("fleet", "probe", "--local-nodes", "1", "--json", "-o", str(tmp_path / "nodes.jsonl")).exit_code == 0
    assert victim.read_text() == "precious\n"
    assert json.loads((tmp_path / "dump.json").read_text())["nvml"]["status"] == "absent"
    assert (tmp_path / "nodes.jsonl").read_text() == '{"node_id": "n1"}\n'


def test_every_write_call_site_goes_through_the_module():
    for module in ("cli/probe.py", "cli/fleet.py", "cli/batch.py", "render/html_report/page.py", "render/chart.py"):
        text = (ROOT / "tppcalc" / module).read_text()
        assert "tppcalc.outputs import" in text, module
        assert ".tmp" not in text and "write_text(" not in text and "write_bytes(" not in text, module


def test_an_output_error_is_one_line_naming_the_output():
    error = OutputError("cannot write: No space left on device (ENOSPC); the output is incomplete", where="stdout")
    assert str(error) == "stdout: cannot write: No space left on device (ENOSPC); the output is incomplete"
    assert isinstance(error, InputError)  # what the command line turns into exit 1


FIXTURES = ROOT / "tests" / "fixtures"


def test_an_html_report_onto_the_file_it_reads_is_refused(run_cli, tmp_path):
    """`fleet report inv.toml --html inv.toml` and `probe --replay d.json --html d.json` would
    destroy the input they read, as `batch same.csv -o same.csv` did."""
    inventory = tmp_path / "inv.toml"
    inventory.write_bytes((FIXTURES / "fleet" / "four-countries.toml").read_bytes())
    result = run_cli("fleet", "report", str(inventory), "--as-of", "2025-06-01", "--html", str(inventory))
    assert result.exit_code == 1 and "--html: is the input" in result.stderr
    assert inventory.read_bytes() == (FIXTURES / "fleet" / "four-countries.toml").read_bytes()
    dump = tmp_path / "dump.json"
    dump.write_bytes((FIXTURES / "hosts" / "a100-pcie.json").read_bytes())
    result = run_cli("probe", "--replay", str(dump), "--html", str(dump))
    assert result.exit_code == 1 and "--html: is the input" in result.stderr
    assert dump.read_bytes() == (FIXTURES / "hosts" / "a100-pcie.json").read_bytes()

