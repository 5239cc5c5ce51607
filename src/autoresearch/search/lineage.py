"""Lineages of kept experiments: the chain of changes behind a result, what removing each
change leaves (ablation), and the merge of two branches that changed different things.

Every code transformation is a three-way merge (merge3, the algorithm of diff3): removing the
change parent -> child from a later descendant is merge(base=child, descendant, parent), so
the changes made after it stay; merging two lineages is merge(base=common ancestor, a, b).
Where two changes touch the same lines the merge has a conflict, and no code is produced.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import merge3

from autoresearch.analysis.entities import entity_changes, summarize
from autoresearch.records import Experiment, Mode


@dataclass(frozen=True)
class Link:
    """One kept change on the way to a result: `before` (the parent's code, or the child's
    with only this hunk undone, when the child changed separate places) to the child's."""

    parent: Experiment
    child: Experiment
    before: str

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(c.name for c in entity_changes(self.before, self.child.code))

    def describe(self) -> str:
        what = summarize(entity_changes(self.before, self.child.code), limit=3)
        return f"#{self.child.number} {what or self.child.proposal.description}"


def _links(parent: Experiment, child: Experiment) -> list[Link]:
    """The child's change split into its hunks (an offline step often moves two knobs at
    once: each is a change of its own), each undone alone."""
    old, new = parent.code.splitlines(True), child.code.splitlines(True)
    hunks = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
             if op[0] != "equal"]
    if len(hunks) <= 1:
        return [Link(parent, child, parent.code)]
    return [Link(parent, child, "".join(new[:j1] + old[i1:i2] + new[j2:]))
            for _, i1, i2, j1, j2 in hunks]


@dataclass(frozen=True)
class Ablation:
    """The result's code with some of its chain's changes removed."""

    removed: tuple[Link, ...]
    code: str

    @property
    def label(self) -> str:
        return "without " + " and ".join(link.describe() for link in self.removed)


def chain(history: list[Experiment], target: Experiment) -> list[Link]:
    """The changes from the baseline to `target`, oldest first, following parents."""
    by_id = {e.id: e for e in history}
    links: list[Link] = []
    child = target
    while child.proposal.parent_id is not None:
        parent = by_id.get(child.proposal.parent_id)
        if parent is None:
            break
        links = _links(parent, child) + links
        child = parent
    return links


def merged(base: str, mine: str, theirs: str) -> str | None:
    """Both sides' changes to `base`; None where they change the same line."""
    merge = merge3.Merge3(base.splitlines(True), mine.splitlines(True),
                          theirs.splitlines(True))
    out: list[str] = []
    for group in merge.merge_groups():
        if group[0] != "conflict":
            out += group[1]
            continue
        resolved = _line_by_line(*group[1:])
        if resolved is None:
            return None
        out += resolved
    return "".join(out)


def _line_by_line(base: list[str], mine: list[str], theirs: list[str]) -> list[str] | None:
    """diff3 calls changes to neighbouring lines a conflict; knobs sit on neighbouring lines,
    so where no line was changed by both sides (and none added or removed) each line takes
    the side that changed it."""
    if not len(base) == len(mine) == len(theirs):
        return None
    out = []
    for old, a, b in zip(base, mine, theirs, strict=True):
        if a != old and b != old and a != b:
            return None
        out.append(b if a == old else a)
    return out


def without(code: str, links: tuple[Link, ...]) -> str | None:
    """`code` (a descendant of every link) with the links' changes taken out, latest first, so
    that a later change to the same lines is removed before the earlier one it built on."""
    for link in sorted(links, key=lambda k: k.child.number, reverse=True):
        reverted = merged(link.child.code, code, link.before)
        if reverted is None:
            return None
        code = reverted
    return code


def ablations(target: Experiment, links: list[Link]) -> tuple[list[Ablation], list[str]]:
    """Each change removed alone, and each pair of changes that touch the same function,
    class or knob removed together; plus why an ablation could not be built."""
    found: list[Ablation] = []
    skipped: list[str] = []
    for link in links:
        code = without(target.code, (link,))
        if code is None:
            skipped.append(f"{link.describe()}: a later change rewrote the same lines (see the "
                           "pair)")
        elif code != target.code:
            found.append(Ablation((link,), code))
    for i, first in enumerate(links):
        for second in links[i + 1:]:
            if first.entities & second.entities:
                code = without(target.code, (first, second))
                if code is None:
                    skipped.append(f"{first.describe()} with {second.describe()}: no clean "
                                   "removal")
                elif code != target.code:
                    found.append(Ablation((first, second), code))
    return found, skipped


@dataclass(frozen=True)
class MergePlan:
    """Two kept experiments on different branches and the code with both their changes."""

    ancestor: Experiment
    ours: Experiment
    theirs: Experiment
    code: str | None  # None: the two changed the same lines (an LLM may resolve it)

    def describe(self) -> str:
        return f"merge of #{self.ours.number} and #{self.theirs.number}"


def merge_candidates(history: Sequence[Experiment],
                     kept: Sequence[Experiment]) -> list[MergePlan]:
    """Pairs of `kept` experiments (best first), neither an ancestor of the other, whose
    changes since their common ancestor touch different entities; each pair once."""
    by_id = {e.id: e for e in history}
    done = {e.proposal.hypothesis for e in history if e.proposal.mode is Mode.MERGE}
    plans: list[MergePlan] = []
    for i, ours in enumerate(kept):
        for theirs in kept[i + 1:]:
            mine, other = _ancestors(ours, by_id), _ancestors(theirs, by_id)
            if ours.id in other or theirs.id in mine:
                continue
            ancestor = next((by_id[a] for a in mine if a in other), None)
            if ancestor is None or _key(ours, theirs) in done:
                continue
            changed = {c.name for c in entity_changes(ancestor.code, ours.code)}
            if changed & {c.name for c in entity_changes(ancestor.code, theirs.code)}:
                continue
            plans.append(MergePlan(ancestor, ours, theirs,
                                   merged(ancestor.code, ours.code, theirs.code)))
    return plans


def conflicted(plan: MergePlan) -> str:
    """The three-way merge with diff3's conflict markers (what a model is asked to resolve)."""
    lines = merge3.Merge3(plan.ancestor.code.splitlines(True), plan.ours.code.splitlines(True),
                          plan.theirs.code.splitlines(True)).merge_lines(
        name_a=f"experiment {plan.ours.number}", name_b=f"experiment {plan.theirs.number}",
        name_base=f"experiment {plan.ancestor.number}")
    return "".join(lines)


def merge_key(plan: MergePlan) -> str:
    """What a merge experiment records, so the same pair is not merged twice."""
    return _key(plan.ours, plan.theirs)


def _key(a: Experiment, b: Experiment) -> str:
    low, high = sorted((a.number, b.number))
    return f"merge #{low} + #{high}"


def _ancestors(experiment: Experiment, by_id: dict[int, Experiment]) -> list[int]:
    """The experiment's own id, then its parents' up to the baseline (nearest first)."""
    found = [experiment.id]
    while (parent := experiment.proposal.parent_id) is not None and parent in by_id:
        found.append(parent)
        experiment = by_id[parent]
    return found
