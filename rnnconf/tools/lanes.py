"""Lanes: one implementation (and release) each, in its own virtual environment.

``python -m rnnconf lanes run LANE [LANE ...]`` installs each lane into ``.lanes/<lane>/`` with
uv (fast, and it never touches ``.venv`` or another lane), runs the conformance suite there and
writes ``reports/lanes/<lane>/`` (shapes.json, shapes.html, junit.xml, lane.json with the
installed versions and timings). ``make matrix`` and ``make releases`` call it, then merge the
lanes' reports into one page (``python -m rnnconf merge``).

A lane is named ``<implementation>-<backend>`` (``keras-jax``) or ``<package>@<release>``
(``keras@3.4.1`` on TensorFlow, ``keras@3.4.1/torch`` on another backend, ``keras@3.3.3/jax@0.4.23``
with the backend of the release's time, ``tf-keras@2.17.0``,
``keras-nightly``); ``<lane>+gpu`` (``keras-jax+gpu``) takes the backend's CUDA build, and
``<lane>+export`` (``keras-jax+export``) adds the exporters and runtimes and runs the export family. Every lane is one :class:`Lane` made by :func:`lane`: the table below is
the only place a lane's requirements are written.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository (rnnconf/tools/lanes.py)
KERAS = "3.15.1"
TENSORFLOW = "2.21.0"
JAX = "0.10.2"
# torch 2.13.0: a CPU build lies on the project's machines ($PIP_FIND_LINKS); others are GB.
TORCH = "2.13.0"
OPENVINO = "2026.4.1"

# What each backend needs beside Keras 3.
BACKEND_REQUIRES = {
    "tensorflow": (f"tensorflow=={TENSORFLOW}",),
    "jax": (f"jax=={JAX}", f"jaxlib=={JAX}"),
    "torch": (f"torch=={TORCH}",),
    "numpy": ("scipy", f"jax=={JAX}", f"jaxlib=={JAX}"),  # Keras imports both on numpy
    "openvino": (f"openvino=={OPENVINO}", "scipy"),  # Keras imports scipy on openvino
}
# The packages a backend version names (keras@3.3.3/jax@0.4.23). torch is left out on purpose:
# any torch but the CPU build on the project's machines downloads gigabytes.
BACKEND_PACKAGES = {"jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow",)}
# The lanes `make matrix` runs: every backend Keras ships, tf-keras and the pre-release.
MATRIX = ("keras-tensorflow", "keras-jax", "keras-torch", "keras-numpy", "keras-openvino",
          "tf_keras-tensorflow", "keras-nightly")
KERAS_RELEASES = ("3.0.5", "3.1.1", "3.2.1", "3.3.3", "3.4.1", "3.5.0", "3.6.0", "3.7.0", "3.8.0", "3.9.2",
                  "3.10.0", "3.11.3", "3.12.4", "3.13.2", "3.14.1")
# The JAX of each Keras minor's time: the version Keras's own CI pinned at that release's tag
# (requirements.txt's jax[cpu]==, else requirements-jax-cuda.txt's jax[cuda12...]==); 3.14 pins none.
JAX_OF_ITS_TIME = {"3.0": "0.4.23", "3.1": "0.4.23", "3.2": "0.4.23", "3.3": "0.4.23", "3.4": "0.4.23",
                   "3.5": "0.4.23", "3.6": "0.4.28", "3.7": "0.4.28", "3.8": "0.4.28", "3.9": "0.5.0",
                   "3.10": "0.5.0", "3.11": "0.5.0", "3.12": "0.5.0", "3.13": "0.8.1", "3.14": JAX}


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


# The releases `make releases` runs: the last patch of every Keras 3 minor (the latest is the
# matrix's keras-tensorflow lane) on TensorFlow, on the JAX of its time and on PyTorch (the CPU
# build the project's machines hold), the pre-release, and every tf-keras minor from 2.15 (the
# latest is tf_keras-tensorflow).
RELEASES = tuple(f"keras@{v}" for v in KERAS_RELEASES) + ("keras-tensorflow", "keras-nightly") + tuple(
    f"tf-keras@{v}" for v in ("2.15.1", "2.16.0", "2.17.0", "2.18.0", "2.19.0", "2.20.1")) + (
    "tf_keras-tensorflow",) + tuple(
    f"keras@{v}/jax@{JAX_OF_ITS_TIME[_minor(v)]}" for v in KERAS_RELEASES) + ("keras-jax",) + tuple(
    f"keras@{v}/torch" for v in KERAS_RELEASES) + ("keras-torch",)


@dataclasses.dataclass(frozen=True)
class Lane:
    name: str
    impl: str              # --impl
    backend: str           # KERAS_BACKEND
    requires: tuple[str, ...]
    overrides: tuple[str, ...] = ()   # replace what other packages ask for (uv --overrides)
    excludes: tuple[str, ...] = ()    # drop a package others ask for (uv --excludes)
    local_wheels: bool = True         # look in $PIP_FIND_LINKS (the CPU build of torch lies there)
    tests: tuple[str, ...] = ("tests",)  # what pytest runs (the conformance suite; the export family alone)
    pytest_args: tuple[str, ...] = ()    # more pytest arguments the lane needs (--export all)

    @property
    def folder(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name)


class LaneError(Exception):
    """A lane name this module cannot make sense of."""


# A GPU lane (``<lane>+gpu``, e.g. keras-jax+gpu) installs the backend's CUDA build instead.
GPU_BUILDS = {
    "tensorflow": (f"tensorflow[and-cuda]=={TENSORFLOW}",),
    "jax": (f"jax[cuda13]=={JAX}",),
    "torch": (f"torch=={TORCH}",),  # PyPI's torch wheel is the CUDA build
}


# An export lane (``<lane>+export``, e.g. keras-jax+export) adds what Model.export needs on the
# backend and the runtimes that run its artifacts, and runs the export family alone
# (tests/test_export.py, --export all). tf_saved_model on JAX converts with jax2tf, which needs
# TensorFlow; litert has no JAX exporter and needs litert-torch on PyTorch (not installed: those
# cases skip with the install command); tf_saved_model on PyTorch needs torch_xla (likewise).
EXPORT_RUNTIMES = ("onnx==1.23.2", "onnxruntime==1.32.0", f"openvino=={OPENVINO}", "scipy")
EXPORT_REQUIRES = {
    "tensorflow": ("tf2onnx==1.17.0", "ai-edge-litert==2.3.0", *EXPORT_RUNTIMES),
    "jax": (f"tensorflow=={TENSORFLOW}", "jax2onnx==0.17.1", *EXPORT_RUNTIMES),
    "torch": ("onnxscript", *EXPORT_RUNTIMES),
}
EXPORT_LANES = ("keras-tensorflow+export", "keras-jax+export", "keras-torch+export")
# The export family over the releases (`make export-releases`): every Keras release lane of
# `make releases` that can export -- TensorFlow, the JAX of its time and PyTorch, from 3.0
# (tf_saved_model; each later format from the first release that documents it: the others are
# n/a there) -- and the latest release's export lanes.
EXPORT_RELEASES = tuple(f"{name}+export" for name in RELEASES if name.startswith("keras@")) + EXPORT_LANES
# Before 3.14 Keras exports ONNX on JAX through jax2tf and tf2onnx, not jax2onnx (which needs
# JAX >= 0.8.1, newer than those releases' JAX)
EXPORT_REQUIRES_JAX_BEFORE_3_14 = (f"tensorflow=={TENSORFLOW}", "tf2onnx==1.17.0", *EXPORT_RUNTIMES)


def _export_requires(base: "Lane") -> tuple[str, ...]:
    release = next((r.split("==")[1] for r in base.requires if r.startswith("keras==")), KERAS)
    from rnnconf.impl.availability import older_than
    from rnnconf.impl.export import JAX2ONNX_SINCE

    if base.backend == "jax" and older_than(release, JAX2ONNX_SINCE):
        return EXPORT_REQUIRES_JAX_BEFORE_3_14
    return EXPORT_REQUIRES[base.backend]


def lane(name: str) -> Lane:
    """The lane called ``name`` (see the module docstring for the forms)."""
    if name.endswith("+export"):
        base = lane(name.removesuffix("+export"))
        if base.backend not in EXPORT_REQUIRES or base.impl != "keras":
            raise LaneError(f"lane {name!r}: export lanes exist for keras on {', '.join(EXPORT_REQUIRES)}")
        return dataclasses.replace(base, name=name, requires=(*base.requires, *_export_requires(base)),
                                   tests=("tests/test_export.py",), pytest_args=("--export", "all", "--full"))
    if name.endswith("+gpu"):
        base = lane(name.removesuffix("+gpu"))
        if base.backend not in GPU_BUILDS or base.impl != "keras":
            raise LaneError(f"lane {name!r}: GPU builds exist for keras on {', '.join(GPU_BUILDS)}")
        cpu_build = {r.split("=")[0].split("[")[0] for r in BACKEND_REQUIRES[base.backend]}
        requires = [r for r in base.requires if r.split("=")[0].split("[")[0] not in cpu_build]
        return dataclasses.replace(base, name=name, requires=(*requires, *GPU_BUILDS[base.backend]),
                                   local_wheels=False)
    if name == "keras-nightly":  # TensorFlow asks for keras; the pre-release takes its place
        return Lane(name, "keras", "tensorflow", ("keras-nightly", f"tensorflow=={TENSORFLOW}"),
                    excludes=("keras",))
    if m := re.fullmatch(r"keras-(\w+)", name):
        backend = m.group(1)
        _known_backend(name, backend)
        return Lane(name, "keras", backend, (f"keras=={KERAS}", *BACKEND_REQUIRES[backend]))
    if name == "tf_keras-tensorflow":
        return Lane(name, "tf_keras", "tensorflow", (f"tf-keras=={TENSORFLOW}", f"tensorflow=={TENSORFLOW}"))
    if m := re.fullmatch(r"keras@(3\.[\w.]+)(?:/(\w+)(?:@([\w.]+))?)?", name):
        version, backend, backend_version = m.group(1), m.group(2) or "tensorflow", m.group(3)
        _known_backend(name, backend)
        requires = BACKEND_REQUIRES[backend]
        if backend_version:  # the backend of the release's time: keras@3.3.3/jax@0.4.23
            if backend not in BACKEND_PACKAGES:
                raise LaneError(f"lane {name!r}: a backend version can be given for "
                                f"{', '.join(BACKEND_PACKAGES)}")
            requires = tuple(f"{p}=={backend_version}" for p in BACKEND_PACKAGES[backend]) + (
                _numpy_of_jax(backend_version) if backend == "jax" else ())
        # TensorFlow 2.21 asks for keras>=3.12: an older release overrides that request
        return Lane(name, "keras", backend, (f"keras=={version}", *requires),
                    overrides=(f"keras=={version}",))
    if m := re.fullmatch(r"tf-keras@(2\.(\d+)[\w.]*)", name):
        version, minor = m.group(1), m.group(2)
        return Lane(name, "tf_keras", "tensorflow", (f"tf-keras=={version}", f"tensorflow~=2.{minor}.0"))
    raise LaneError(
        f"unknown lane {name!r}: use one of {', '.join(MATRIX)}, keras@<3.x release>[/<backend>] "
        "or tf-keras@<2.x release> (e.g. keras@3.4.1, keras@3.4.1/jax, keras@3.3.3/jax@0.4.23, tf-keras@2.17.0)")


# The NumPy of an older JAX's time: (JAX before this version, the NumPy it gets). A lane that pairs
# an old JAX with today's NumPy tests a combination never released together:
# - jaxlib before 0.4.26 was built against NumPy 1 and fails to import under NumPy 2;
# - JAX's dtype lookup (jax._src.dtypes.dtype) passes a Keras variable to np.result_type, which
#   NumPy 2.3 refuses ("dtype attribute is not a valid dtype instance": the NumPy 1.20 deprecation
#   expired) -- so on JAX 0.4.28 and 0.5.0 with NumPy >= 2.3 every `layer.reset_state()` raises.
#   Checked on JAX 0.4.28 (NumPy 2.0.2 works, 2.3.5 fails), 0.5.0 (2.2.6 works, 2.4.6 fails) and
#   0.8.1 (2.4.6 works).
NUMPY_OF_JAX = (("0.4.26", "numpy<2"), ("0.5.0", "numpy<2.1"), ("0.5.1", "numpy<2.3"))


def _numpy_of_jax(jax_version: str) -> tuple[str, ...]:
    from packaging.version import Version

    for before, numpy in NUMPY_OF_JAX:
        if Version(jax_version) < Version(before):
            return (numpy,)
    return ()


def _known_backend(name: str, backend: str) -> None:
    if backend not in BACKEND_REQUIRES:
        raise LaneError(f"lane {name!r}: unknown backend {backend!r}; Keras ships "
                        f"{', '.join(BACKEND_REQUIRES)}")


def project_requires() -> list[str]:
    """The suite's own dependencies (pyproject's [project] dependencies)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def uv() -> list[str]:
    exe = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if exe:
        return [exe]
    return [sys.executable, "-m", "uv"]


def install(spec: Lane, venv: Path, log) -> None:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([*uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                       stdout=log, stderr=subprocess.STDOUT)
    cmd = [*uv(), "pip", "install", "-q", "--python", str(python), *project_requires(), *spec.requires]
    links = os.environ.get("PIP_FIND_LINKS", "") if spec.local_wheels else ""
    for link in links.split():
        if Path(link).is_dir():
            cmd += ["--find-links", link]
    for flag, values in (("--overrides", spec.overrides), ("--excludes", spec.excludes)):
        if values:
            path = venv / f"{flag.strip('-')}.txt"
            path.write_text("\n".join(values) + "\n")
            cmd += [flag, str(path)]
    subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)


def installed(venv: Path) -> dict[str, str]:
    out = subprocess.run([*uv(), "pip", "freeze", "--python", str(venv / "bin" / "python")],
                         capture_output=True, text=True, check=True).stdout
    wanted = ("keras", "keras-nightly", "tf-keras", "tensorflow", "jax", "jaxlib", "torch",
              "openvino", "numpy")
    pins = dict(line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {k: pins[k] for k in wanted if k in pins}


def run_lane(spec: Lane, reports: Path, workers: str, extra: list[str]) -> int:
    venv = ROOT / ".lanes" / spec.folder
    out = reports / spec.folder
    out.mkdir(parents=True, exist_ok=True)
    record: dict = {"lane": spec.name, "impl": spec.impl, "backend": spec.backend,
                    "requires": list(spec.requires)}
    started = time.monotonic()
    with open(out / "install.log", "w") as log:
        try:
            install(spec, venv, log)
        except subprocess.CalledProcessError as exc:
            record |= {"status": "install failed", "exit": exc.returncode,
                       "install_s": round(time.monotonic() - started, 1)}
            (out / "lane.json").write_text(json.dumps(record, indent=1) + "\n")
            print(f"[{spec.name}] install failed (exit {exc.returncode}): see {out / 'install.log'}")
            return 3
    record["install_s"] = round(time.monotonic() - started, 1)
    record["installed"] = installed(venv)
    env = dict(os.environ, KERAS_BACKEND=spec.backend)
    env.pop("RNN_CONFORMANCE_IMPL", None)
    cmd = [str(venv / "bin" / "python"), "-m", "pytest", "-n", workers, *spec.tests,
           "--ignore=tests/selftest", "--ignore=tests/unit", "--ignore=tests/test_oracle.py",
           "--ignore=tests/test_oracle_torch.py", "--impl", spec.impl, "--lane", spec.name,
           "--report-dir", str(out), f"--junitxml={out / 'junit.xml'}", "-q", *spec.pytest_args, *extra]
    print(f"[{spec.name}] {' '.join(f'{k}={v}' for k, v in record['installed'].items())}", flush=True)
    started = time.monotonic()
    with open(out / "pytest.log", "w") as log:
        code = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    record |= {"status": "ran", "exit": code, "run_s": round(time.monotonic() - started, 1)}
    (out / "lane.json").write_text(json.dumps(record, indent=1) + "\n")
    tail = (out / "pytest.log").read_text().strip().splitlines()[-1:]
    print(f"[{spec.name}] pytest exit {code} in {record['run_s']} s: {tail[0] if tail else ''}", flush=True)
    return code


def lane_rows(reports: Path, names: list[str]) -> list[dict]:
    """One row per lane run under ``reports``: what was installed, what ran and how it ended,
    and how long it took (the data of :func:`results_table`, and what ``record`` keeps)."""
    known = [lane(n).folder for n in (*MATRIX, *RELEASES, *EXPORT_LANES)]
    folders = [reports / lane(n).folder for n in names] if names else sorted(
        (p.parent for p in reports.glob("*/lane.json")),
        key=lambda f: (known.index(f.name) if f.name in known else len(known), f.name))
    rows = []
    for folder in folders:
        record = json.loads((folder / "lane.json").read_text())
        row = {"lane": record["lane"], "installed": {k: v for k, v in record.get("installed", {}).items()
                                                     if k != "numpy"},
               "status": record.get("status", ""), "exit": record.get("exit"), "run_s": record.get("run_s")}
        doc_path = folder / "shapes.json"
        if doc_path.is_file():
            doc = json.loads(doc_path.read_text())
            summary = doc["summary"]
            row |= {"cases_run": sum(1 for c in doc["cases"] if c["outcome"] != "skipped"),
                    "passed": summary["passed"], "known_failures": summary["xfailed"],
                    "not_applicable": summary.get("not_applicable", 0),
                    "failed": sum(summary.get(k, 0) for k in ("failed", "error", "crashed", "xpassed"))}
        rows.append(row)
    return rows


def results_table(rows: list[dict]) -> str:
    """A Markdown table of lane rows (:func:`lane_rows`, or a recorded run's ``lanes``)."""
    out = ["| lane | installed | cases run | passed | known failures | n/a | failed | pytest (s) | exit |",
           "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        installed = ", ".join(f"{k} {v}" for k, v in row.get("installed", {}).items()) or "–"
        if "cases_run" not in row:
            out.append(f"| {row['lane']} | {installed} | – | – | – | – | – | – | {row.get('status') or '–'} |")
            continue
        run_s = "–" if row.get("run_s") is None else f"{row['run_s']}"
        if row.get("note"):
            run_s += f" ({row['note']})"
        out.append(f"| {row['lane']} | {installed} | {row['cases_run']:,} | {row['passed']:,} | "
                   f"{row['known_failures']:,} | {row['not_applicable']:,} | {row['failed']:,} | {run_s} | "
                   f"{row.get('exit', '–')} |")
    return "\n".join(out)


def machine() -> str:
    """The machine a run is recorded on, in the words the figures use."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def record_run(reports: Path, names: list[str], out: Path, command: str, note: str) -> dict:
    """Keep a run's lane rows in ``out`` (JSON, tracked under docs/runs/): the documentation's
    tables are generated from it (``python -m rnnconf docs``), so they cannot drift from the run."""
    doc = {"recorded": _dt.date.today().isoformat(), "machine": machine(), "command": command,
           "note": note, "lanes": lane_rows(reports, names)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnconf lanes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="install and run lanes")
    run.add_argument("lanes", nargs="+", help="lane names, or 'matrix' / 'releases' / 'export' / 'export-releases' for the sets; "
                                              "arguments after -- go to pytest")
    run.add_argument("--reports", default="reports/lanes", help="one folder per lane under this")
    run.add_argument("-n", "--workers", default="auto")
    run.add_argument("--merge", metavar="DIR", help="merge the lanes just run into DIR/matrix.html "
                                                    "(python -m rnnconf merge)")
    sub.add_parser("list", help="print the lanes of the matrix and of the releases")
    table = sub.add_parser("table", help="a Markdown table of the lanes' results and times")
    table.add_argument("lanes", nargs="*", help="lane names (default: every folder under --reports)")
    table.add_argument("--reports", default="reports/lanes")
    rec = sub.add_parser("record", help="keep the lanes' results in a JSON file under docs/runs/, "
                                        "from which python -m rnnconf docs writes the documentation's tables")
    rec.add_argument("out", type=Path, metavar="OUT.json")
    rec.add_argument("lanes", nargs="*", help="lane names (default: every folder under --reports)")
    rec.add_argument("--reports", default="reports/lanes")
    # dest "what": "command" is the name of the subcommand itself (sub's dest)
    rec.add_argument("--command", dest="what", default="make matrix", help="what was run (shown with the table)")
    rec.add_argument("--note", default="", help="anything a reader needs to know about the run")
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after "--" goes to pytest (python -m rnnconf lanes run LANE -- --device gpu)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.command == "list":
        print("matrix:  ", " ".join(MATRIX))
        print("releases:", " ".join(RELEASES))
        print("export:  ", " ".join(EXPORT_LANES))
        print("export-releases:", " ".join(EXPORT_RELEASES))
        return 0
    if args.command == "table":
        print(results_table(lane_rows(Path(args.reports), args.lanes)))
        return 0
    if args.command == "record":
        doc = record_run(Path(args.reports), args.lanes, args.out, args.what, args.note)
        print(f"recorded {len(doc['lanes'])} lane(s) in {args.out}; now run python -m rnnconf docs")
        return 0
    names: list[str] = []
    for name in args.lanes:
        names += {"matrix": MATRIX, "releases": RELEASES, "export": EXPORT_LANES,
                  "export-releases": EXPORT_RELEASES}.get(name, (name,))
    try:
        specs = [lane(n) for n in dict.fromkeys(names)]
    except LaneError as exc:
        parser.error(str(exc))
    worst, written, timings = 0, [], []
    for spec in specs:
        code = run_lane(spec, Path(args.reports), args.workers, extra)
        worst = max(worst, code)
        lane_dir = Path(args.reports) / spec.folder
        if (lane_dir / "shapes.json").is_file() and code != 3:
            written.append(str(lane_dir / "shapes.json"))
        record = json.loads((lane_dir / "lane.json").read_text())
        timings.append(f"  {spec.name:24} install {record.get('install_s', '?'):>6} s   run "
                       f"{record.get('run_s', '-'):>6} s   pytest exit {record.get('exit')}")
    print("lanes:\n" + "\n".join(timings))
    if args.merge and written:
        from rnnconf.tools.matrix import load, merge

        for path in merge.write(Path(args.merge), load.load(written)):
            print(f"merged {len(written)} lane(s): {path}")
    return worst


if __name__ == "__main__":
    sys.exit(main())
