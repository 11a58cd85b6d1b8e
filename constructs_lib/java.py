"""``java_code``: a Java project built into a jar at synth time with ``javac`` (or the project's Maven or
Gradle), never with Docker; the jar is cached by a hash of its sources, the JDK and the release flag."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

from ._core import local_bundling, or_default

__all__ = ["DEFAULT_JAVA_RELEASE", "JAVA_RELEASE_ATTRIBUTE", "JavaToolchainError", "java_code"]

#: A fixed timestamp for the jar's entries, so that the same sources make the same jar (and asset hash).
_JAR_DATE = "2000-01-01T00:00:02Z"


class JavaToolchainError(RuntimeError):
    """A tool needed to build Java code at synth time is missing or failed."""


DEFAULT_JAVA_RELEASE = 17
#: java_code marks the Code it returns with the Java release it compiles for, so runtimes can be checked.
JAVA_RELEASE_ATTRIBUTE = "_constructs_lib_java_release"


def java_code(project_dir: str | Path, *, release: int | None = None) -> lambda_.Code:
    """The Java project in ``project_dir``, built into a jar at synth time through CDK local bundling.

    With a ``pom.xml`` and ``mvn`` on PATH, runs ``mvn package``; with a ``build.gradle`` and ``gradle``,
    runs ``gradle jar``. Otherwise compiles ``src/main/java`` with ``javac --release <release>`` and packs
    it, with ``src/main/resources``, into a jar with fixed timestamps. Bytecode for release 17 runs on the
    java17, java21 and java25 runtimes. Without a JDK, synth fails with :class:`JavaToolchainError`
    naming the missing tool; it never falls back to Docker. The asset hash comes from the sources, so an
    unchanged project keeps its version. A javac-built jar is cached (``CONSTRUCTS_LIB_CACHE``, else
    ``~/.cache/constructs_lib/java``) by a hash of its sources, resources, javac and release, so javac
    runs only when one of them changes. ``release`` defaults to 17.
    """
    project = Path(project_dir).resolve()
    if not project.is_dir():
        raise JavaToolchainError(f"java_code: project directory {project} does not exist")
    target = or_default(release, DEFAULT_JAVA_RELEASE)
    code = lambda_.Code.from_asset(
        str(project),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=["target", "build", ".gradle", "*.class", "*.jar"],
        bundling=local_bundling(_JavaBuild(project, target)),
    )
    setattr(code, JAVA_RELEASE_ATTRIBUTE, target)
    return code


class _JavaBuild:
    """Builds the project's jar into the bundling output directory."""

    def __init__(self, project: Path, release: int) -> None:
        self._project = project
        self._release = release

    def __call__(self, out: Path) -> None:
        if (self._project / "pom.xml").exists() and shutil.which("mvn"):
            _run(["mvn", "-q", "-B", "package", "-DskipTests"], self._project)
            _copy_single_jar(self._project / "target", out)
        elif (self._project / "build.gradle").exists() and shutil.which("gradle"):
            _run(["gradle", "-q", "jar"], self._project)
            _copy_single_jar(self._project / "build" / "libs", out)
        else:
            self._javac(out)

    def _javac(self, out: Path) -> None:
        for tool in ("javac", "jar"):
            if shutil.which(tool) is None:
                raise JavaToolchainError(
                    f"java_code: '{tool}' was not found on PATH; install a JDK {self._release} or newer "
                    "(for example the Debian package openjdk-17-jdk-headless) to build "
                    f"{self._project.name} at synth time"
                )
        sources_root = self._project / "src" / "main" / "java"
        if not sources_root.is_dir():
            sources_root = self._project
        sources = sorted(str(p) for p in sources_root.rglob("*.java"))
        if not sources:
            raise JavaToolchainError(f"java_code: no .java files under {sources_root}")
        jar = out / f"{self._project.name}.jar"
        cached = _jar_cache_dir() / f"{self._build_key(sources)}.jar"
        if cached.is_file():
            shutil.copyfile(cached, jar)  # same sources, JDK and release: the jar javac made before
            return
        self._compile(sources, jar)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(jar, partial)
        partial.replace(cached)  # atomic: a concurrent synth reads a whole jar or none

    def _build_key(self, sources: list[str]) -> str:
        """A hash of every source and resource (path and bytes), the JDK's javac and the release flag."""
        javac = Path(shutil.which("javac") or "javac").resolve()
        digest = hashlib.sha256(f"{javac}:{javac.stat().st_size}:{javac.stat().st_mtime_ns}".encode())
        digest.update(f"release={self._release}".encode())
        resources = self._project / "src" / "main" / "resources"
        files = [Path(s) for s in sources] + (
            sorted(p for p in resources.rglob("*") if p.is_file()) if resources.is_dir() else []
        )
        for path in files:
            digest.update(str(path.relative_to(self._project)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def _compile(self, sources: list[str], jar: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="constructs-lib-java-") as tmp:
            classes = Path(tmp) / "classes"
            _run(["javac", f"--release={self._release}", "-encoding", "UTF-8", "-d", str(classes), *sources])
            resources = self._project / "src" / "main" / "resources"
            if resources.is_dir():
                shutil.copytree(resources, classes, dirs_exist_ok=True)
            _run(["jar", "--create", f"--date={_JAR_DATE}", "--file", str(jar), "-C", str(classes), "."])


def _jar_cache_dir() -> Path:
    """Where built jars are kept between synths: ``CONSTRUCTS_LIB_CACHE`` or the user's cache folder."""
    root = os.environ.get("CONSTRUCTS_LIB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "constructs_lib"
    )
    return Path(root) / "java"


def _run(command: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise JavaToolchainError(
            f"java_code: {' '.join(command[:3])} ... failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )


def _copy_single_jar(directory: Path, out: Path) -> None:
    jars = [p for p in directory.glob("*.jar") if not p.name.startswith("original-")]
    if len(jars) != 1:
        raise JavaToolchainError(
            f"java_code: expected one jar in {directory}, found {[p.name for p in jars]}"
        )
    shutil.copy2(jars[0], out / jars[0].name)
