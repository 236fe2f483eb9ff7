"""Which member of a union became which: matching ``oneOf``/``anyOf`` members across versions.

Like matching last year's and this year's class photos: first by name (the
component a member refers to), then by a badge (properties with one constant
value, a discriminator in all but name), then by where they stand (same
position, same count), and only then by looks (the one member of a compatible
type). A member whose name is gone is not matched by looks to a member that kept
its own name.
"""

from __future__ import annotations

from contracts.schema import Facts, SchemaReader


def types_text(facts: Facts) -> str:
    return ", ".join(sorted(facts.types)) if facts.types else "any type"


def types_meet(a: Facts, b: Facts) -> bool:
    if a.types is None or b.types is None:
        return True
    if a.types & b.types:
        return True
    return bool({"integer", "number"} <= (a.types | b.types) and "number" in (a.types | b.types))


def member_labels(union: Facts, count: int) -> list[str]:
    """Names of a union's members (their components), or of a plain schema."""
    if not union.alternatives:
        return [component_of(union.pointer) or "the schema"]
    labels = []
    for index, ref in enumerate(union.alternatives[:count]):
        labels.append(ref.component or f"{union.union}[{index}]")
    return labels


def component_of(pointer: str) -> str | None:
    prefix = "/components/schemas/"
    if pointer.startswith(prefix) and "/" not in pointer[len(prefix) :]:
        return pointer[len(prefix) :].replace("~1", "/").replace("~0", "~")
    return None


def named(label: str) -> bool:
    return "[" not in label and label != "the schema"


def match(
    index: int,
    labels: list[str],
    other_labels: list[str],
    tags: Tags,
    other_tags: Tags,
    compatible: list[int],
) -> int | None:
    """The member on the other side that member ``index`` most likely became."""
    label = labels[index]
    if named(label):
        for i in compatible:
            if other_labels[i] == label:
                return i
    if tags[index]:
        for i in compatible:
            if other_tags[i] == tags[index]:
                return i
    if len(labels) == len(other_labels) and index in compatible:
        return index
    if len(compatible) == 1 and not (named(label) and named(other_labels[compatible[0]])):
        return compatible[0]
    return None


class Tags:
    """Members' constant-valued properties as text (a discriminator in all but name),
    read from the schemas as written and only when a name does not settle the match."""

    def __init__(self, reader: SchemaReader, members: list[Facts]) -> None:
        self.reader = reader
        self.members = members
        self._done: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        found = self._done.get(index)
        if found is None:
            found = self._done[index] = self._tag(self.members[index])
        return found

    def _tag(self, member: Facts) -> str:
        parts = []
        document = self.reader.document
        for name in sorted(member.properties):
            ref = member.properties[name]
            node, _ = document.resolve(ref.node, ref.pointer)
            if not isinstance(node, dict):
                continue
            if "const" in node:
                parts.append(f"{name}={node['const']!r}")
            elif isinstance(node.get("enum"), list) and len(node["enum"]) == 1:
                parts.append(f"{name}={node['enum'][0]!r}")
        return "&".join(parts)
