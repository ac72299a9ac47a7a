"""The documentation tells the truth about the tree.

Every `path`, `path:function` and `path:line` a document names must resolve in the current
tree (a file that exists, a function or macro defined in it, a line it has), every relative
link must point at a file, and every shell command a document shows (`vireo> ...` lines, the
commands after ` -- ` on a kernel command line or in `--cmd "..."`, and backticked commands) must
be one the shell knows, with a subcommand its usage names.
"""
import glob
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EXTS = r"(?:c|h|S|py|sh|mk|ld|md|gp|json|txt|png)"
PATH_REF = re.compile(r"`((?:[\w.-]+/)+[\w.{},*<>-]+\." + EXTS + r"|(?:[\w.-]+/)*[\w.-]+\.(?:c|h|S))"
                      r"(?::([A-Za-z_]\w*|\d+))?`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
SHELL_COMMAND_RE = re.compile(
    r'SHELL_COMMAND\(\s*\w+\s*,\s*"([^"]*)"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+),', re.S)


def docs():
    found = glob.glob(os.path.join(ROOT, "docs", "*.md")) + [
        os.path.join(ROOT, "README.md"), os.path.join(ROOT, "BENCHMARKS.md")]
    for path in glob.glob(os.path.join(ROOT, "**", "README.md"), recursive=True):
        rel = os.path.relpath(path, ROOT)
        if not rel.startswith(("build", ".git")) and path not in found:
            found.append(path)
    return [p for p in found if os.path.exists(p)]


def expand(path):
    """`a/{b,c}.h` -> a/b.h, a/c.h; `a/*.c` and `<name>` placeholders are patterns."""
    m = re.search(r"\{([^}]*)\}", path)
    if m:
        return [p for alt in m.group(1).split(",") for p in
                expand(path[:m.start()] + alt + path[m.end():])]
    return [path]


def tree_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.split()


def resolve(path, doc, files):
    """The files a reference can mean: the path from the root or from the document's folder,
    else every file of the tree whose path ends with it (a document about one folder names its
    files bare: `pci.h`, `arch/cc.h`). A pattern (`*`, `<name>`) matches any file. Empty when
    nothing is there."""
    if "<" in path or "*" in path:
        pattern = re.sub(r"<[^>]*>", "*", path)
        return glob.glob(os.path.join(ROOT, pattern))[:1]
    for base in (ROOT, os.path.dirname(doc)):
        if os.path.isfile(os.path.join(base, path)):
            return [os.path.join(base, path)]
    return [os.path.join(ROOT, f) for f in files if f == path or f.endswith("/" + path)]


def defines(path, name):
    text = open(path, errors="replace").read()
    return re.search(rf"(^|\W){re.escape(name)}\s*\(|#define\s+{re.escape(name)}\b|"
                     rf"\b(struct|enum|union)\s+{re.escape(name)}\b|^def {re.escape(name)}\b|"
                     rf"^{re.escape(name)}:", text, re.M) is not None


def test_every_path_and_link_in_the_docs_resolves():
    files = tree_files()
    bad = []
    for doc in docs():
        text = open(doc, errors="replace").read()
        rel = os.path.relpath(doc, ROOT)
        for m in PATH_REF.finditer(text):
            path, what = m.group(1), m.group(2)
            if path.startswith(("build/", "/", "~")) or "://" in path:
                continue
            for p in expand(path):
                hits = resolve(p, doc, files)
                if not hits:
                    bad.append(f"{rel}: `{m.group(0)[1:-1]}`: no file {p}")
                    continue
                if "<" in p or "*" in p or not what:
                    continue
                if what.isdigit():
                    if not any(int(what) <= sum(1 for _ in open(h, errors="replace"))
                               for h in hits):
                        bad.append(f"{rel}: `{p}:{what}`: the file is shorter")
                elif not any(defines(h, what) for h in hits):
                    bad.append(f"{rel}: `{p}:{what}`: {what} is not defined there")
        for m in LINK.finditer(text):
            target = m.group(1)
            if "://" in target or target.startswith("mailto:"):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(doc), target))):
                bad.append(f"{rel}: link ({target}) points at nothing")
    assert not bad, "documentation references that do not resolve:\n" + "\n".join(bad)


def shell_commands():
    cmds = {}
    for path in glob.glob(os.path.join(ROOT, "**", "*.c"), recursive=True):
        rel = os.path.relpath(path, ROOT)
        if rel.startswith(("build", "tests", "bench")):
            continue
        for m in SHELL_COMMAND_RE.finditer(open(path, errors="replace").read()):
            cmds[m.group(1)] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
    return cmds


def shown_commands(text):
    """Shell command lines a document shows."""
    for m in re.finditer(r"^\s*vireo(?: \[\d+\])?> (.+)$", text, re.M):
        yield m.group(1)
    for m in re.finditer(r'--cmd "([^"]+)"', text):
        yield from m.group(1).split(";")
    for m in re.finditer(r'(?:^|["`\s])-- ([^"`\n]+)', text, re.M):
        yield from m.group(1).split(";")


def test_every_command_the_docs_show_is_one_the_shell_knows():
    cmds = shell_commands()
    assert len(cmds) >= 15, sorted(cmds)
    bad = []
    for doc in docs():
        text = open(doc, errors="replace").read()
        rel = os.path.relpath(doc, ROOT)
        shown = [c.strip() for c in shown_commands(text)]
        # Backticked spans that start with a command name and look like an invocation.
        for m in re.finditer(r"`([a-z_]+)((?: [^`]*)?)`", text):
            if m.group(1) in cmds and (m.group(2) or m.group(1) in ("help", "virtio", "lspci")):
                shown.append((m.group(1) + m.group(2)).strip())
        for line in shown:
            words = line.split()
            if not words or not re.fullmatch(r"[a-z_]+", words[0]):
                continue
            name = words[0]
            if name not in cmds:
                bad.append(f"{rel}: `{line}`: no shell command {name!r}")
                continue
            usage = cmds[name]
            # A literal subcommand word must be one the usage names.
            if len(words) > 1 and re.fullmatch(r"[a-z]+", words[1]) and re.search(
                    r"(^|[\[| ])[a-z]+ ", usage) and not re.search(rf"(^|[\[| ]){words[1]}\b", usage):
                if name not in ("selftest", "help", "echo", "fault", "ping"):
                    bad.append(f"{rel}: `{line}`: {name} has no subcommand {words[1]!r} ({usage})")
    assert not bad, "commands the docs show that the shell does not know:\n" + "\n".join(bad)
