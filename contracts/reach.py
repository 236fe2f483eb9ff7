"""Where a change shows and what it reaches: walks over the graph of schema pairs.

A change lives at one pair of schemas, like a closed bridge lives on one street;
what a user wants to know is which journeys cross it (the operations it reaches)
and the shortest way there from one of them (the field path that names it).
Both come from two linear passes over the graph, whatever its cycles:

- :func:`shortest_paths` is a breadth-first search from every root at once;
- :func:`reach_sets` condenses the graph into strongly connected components
  (a group of mutually referencing schemas is one component) and ORs the roots'
  bit sets down the condensation in topological order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def backward_closure(
    targets: Iterable[Node], parents: Callable[[Node], Iterable[Node]]
) -> set[Node]:
    """Every node from which some target can be reached (targets included).

    Args:
        targets: The nodes of interest.
        parents: A node's predecessors.

    Returns:
        The nodes that lead to a target.
    """
    seen = set(targets)
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        for parent in parents(node):
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return seen


def shortest_paths(
    roots: list[Node],
    children: Callable[[Node], Iterable[tuple[str, Node]]],
    allowed: set[Node] | None = None,
    targets: set[Node] | None = None,
) -> dict[Node, tuple[int, Node | None, str]]:
    """Breadth-first search from several roots at once.

    Args:
        roots: Start nodes, in priority order (a tie goes to the earlier root).
        children: A node's ``(step, child)`` edges, in a stable order.
        allowed: If given, the search stays inside these nodes.
        targets: If given, the search stops once it has reached all of them.

    Returns:
        For each reached node: ``(index of the root it was reached from, parent
        node or None for a root, step from the parent)``.
    """
    found: dict[Node, tuple[int, Node | None, str]] = {}
    queue: deque[Node] = deque()
    missing = set(targets) if targets is not None else None
    for index, root in enumerate(roots):
        if root not in found and (allowed is None or root in allowed):
            found[root] = (index, None, "")
            queue.append(root)
            if missing is not None:
                missing.discard(root)
    while queue:
        if missing is not None and not missing:
            break
        node = queue.popleft()
        origin = found[node][0]
        for step, child in children(node):
            if child in found or (allowed is not None and child not in allowed):
                continue
            found[child] = (origin, node, step)
            queue.append(child)
            if missing is not None:
                missing.discard(child)
    return found


def path_to(node: Node, found: dict[Node, tuple[int, Node | None, str]]) -> tuple[str, ...]:
    """The steps from the root to ``node`` in a :func:`shortest_paths` result.

    Args:
        node: A reached node.
        found: The search result.

    Returns:
        The steps, root first.
    """
    steps: list[str] = []
    current: Node | None = node
    while current is not None:
        _, parent, step = found[current]
        if parent is not None:
            steps.append(step)
        current = parent
    steps.reverse()
    return tuple(steps)


def reach_sets(
    nodes: set[Node],
    children: Callable[[Node], Iterable[tuple[str, Node]]],
    seeds: dict[Node, int],
) -> dict[Node, int]:
    """For every node, the OR of the seed bits of all nodes that reach it.

    Args:
        nodes: The subgraph to work in.
        children: A node's ``(step, child)`` edges (edges leaving ``nodes`` are ignored).
        seeds: Bits each start node contributes (one bit per operation).

    Returns:
        The bits reaching each node of ``nodes``.
    """
    components = _components(nodes, children)
    component_of = {node: index for index, members in enumerate(components) for node in members}
    bits = [0] * len(components)
    for node, seed in seeds.items():
        if node in component_of:
            bits[component_of[node]] |= seed
    # Tarjan lists components sinks first: walk them sources first.
    for index in range(len(components) - 1, -1, -1):
        value = bits[index]
        if not value:
            continue
        for node in components[index]:
            for _, child in children(node):
                target = component_of.get(child)
                if target is not None and target != index:
                    bits[target] |= value
    return {node: bits[component_of[node]] for node in nodes}


def _components(
    nodes: set[Node], children: Callable[[Node], Iterable[tuple[str, Node]]]
) -> list[list[Node]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index_of: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    result: list[list[Node]] = []
    counter = 0
    for start in nodes:  # any order: the bits are ORs, order-free
        if start in index_of:
            continue
        work: list[tuple[Node, list[Node], int]] = []
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work.append((start, [c for _, c in children(start) if c in nodes], 0))
        while work:
            node, kids, position = work[-1]
            if position < len(kids):
                work[-1] = (node, kids, position + 1)
                child = kids[position]
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, [c for _, c in children(child) if c in nodes], 0))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                result.append(members)
    return result
