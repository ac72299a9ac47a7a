"""The embedding example (examples/embed) is what it claims to be: a kernel that uses nothing of
Vireo's own kernel, libraries or shell, and whose port of the virtio stack is at most ten
functions. (tests/system/test_embed.py boots it.)

Read from its build (`make embed`, a prerequisite of `make check`): the compiler's dependency
files name every header each object included, and the objects' symbol tables say which port
functions the stack needs and which the example defines.
"""
import glob
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
EMBED = os.path.join(BUILD, "embed")
PORT_HEADERS = ["drivers/virtio/ring/ring_port.h", "drivers/virtio/core/core_port.h"]
STACK = ("drivers/virtio/ring/", "drivers/virtio/core/", "drivers/virtio/mmio/",
         "drivers/virtio/blk/")
# What the example may include of the tree: its own folder, the stack, and header-only x86
# accessors (arch/x86_64's inline functions: barriers, port I/O, MMIO, CPU instructions).
ALLOWED = ("examples/embed/", "arch/x86_64/", *STACK)


def objects():
    objs = glob.glob(os.path.join(EMBED, "**", "*.o"), recursive=True)
    assert objs, f"no objects under {EMBED}: run `make embed`"
    return objs


def source_of(obj):
    return os.path.relpath(obj, EMBED)[:-len(".o")]


def port_functions():
    """The function names the two port headers declare (not their inline defaults)."""
    names = set()
    for h in PORT_HEADERS:
        text = open(os.path.join(ROOT, h)).read()
        names |= set(re.findall(r"^(?!static)[\w ]+?\**\b(virtio_\w+)\(", text, re.M))
    return names


def symbols(obj, kind):
    out = subprocess.run(["nm", kind, obj], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def test_the_example_includes_nothing_of_vireos_kernel():
    bad = []
    for dep in glob.glob(os.path.join(EMBED, "**", "*.d"), recursive=True):
        text = open(dep).read().replace("\\\n", " ")
        for path in re.findall(r"(?<=\s)(\S+\.h)\b", text):
            rel = os.path.relpath(os.path.abspath(os.path.join(ROOT, path)), ROOT)
            if not rel.startswith("..") and not rel.startswith("build/") \
                    and not rel.startswith(ALLOWED):
                bad.append(f"{os.path.relpath(dep, EMBED)}: {rel}")
    assert not bad, "the example includes Vireo's own code:\n" + "\n".join(sorted(set(bad)))
    sources = {source_of(o) for o in objects()}
    assert all(s.startswith(("examples/embed/", *STACK)) for s in sources), sorted(sources)
    assert any(s.startswith("drivers/virtio/mmio/") for s in sources)
    assert any(s.startswith("drivers/virtio/blk/") for s in sources)


def test_the_examples_port_is_at_most_ten_functions():
    declared = port_functions()
    assert {"virtio_dma_alloc", "virtio_lock", "virtio_irq_line_attach"} <= declared, declared
    stack_objs = [o for o in objects() if source_of(o).startswith(STACK)]
    needed = set().union(*(symbols(o, "-u") for o in stack_objs)) & declared
    port_obj = os.path.join(EMBED, "examples", "embed", "port.c.o")
    defined = symbols(port_obj, "--defined-only") & declared
    assert needed <= defined, f"the stack needs {sorted(needed - defined)}, port.c lacks them"
    assert defined == needed, f"port.c defines more than the stack needs: {defined - needed}"
    assert len(defined) <= 10, sorted(defined)
    # port.c holds the port and nothing else: every function it defines is a port function.
    funcs = set(re.findall(r"^\w[\w ]*?\**\b(\w+)\([^;]*$",
                           open(os.path.join(ROOT, "examples/embed/port.c")).read(), re.M))
    assert funcs - declared <= {"pages_for"}, funcs - declared
