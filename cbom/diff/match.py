"""Pairing the components of one category across two scans, by identity (`cbom.diff.categories`)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..model import Component
from .categories import CategoryRules

__all__ = ["Match", "match"]

Keys = List[Optional[str]]
# pairs (old index, new index), old left unmatched, new left unmatched, identity keys of old and new
Match = Tuple[List[Tuple[int, int]], List[int], List[int], List[Keys], List[Keys]]


def _content(c: Component) -> tuple:
    return (c.version, c.properties, c.hashes)


def _pair_group(olds: List[int], news: List[int], o_comps: Sequence[Component], n_comps: Sequence[Component]
                ) -> Tuple[List[Tuple[int, int]], List[int], List[int]]:
    """Pair components sharing one identity: same ref, then same content, then same version, then in order."""
    if len(olds) == 1 and len(news) == 1:
        return [(olds[0], news[0])], [], []
    pairs: List[Tuple[int, int]] = []
    keyfs: Tuple[Callable[[Component], Any], ...] = (lambda c: c.ref, _content, lambda c: c.version)
    for keyf in keyfs:
        index: Dict[Any, List[int]] = defaultdict(list)
        for j in news:
            index[keyf(n_comps[j])].append(j)
        rest = []
        taken = set()
        for i in olds:
            lst = index.get(keyf(o_comps[i]))
            if lst:
                j = lst.pop(0)
                pairs.append((i, j))
                taken.add(j)
            else:
                rest.append(i)
        olds, news = rest, [j for j in news if j not in taken]
    n = min(len(olds), len(news))
    pairs.extend(zip(olds[:n], news[:n]))
    return pairs, olds[n:], news[n:]


def match(olds: Sequence[Component], news: Sequence[Component], rules: CategoryRules) -> Match:
    """Pair old and new components of one category in passes of decreasing identity strength."""
    compatible = rules.compatible
    okeys = [rules.identities(c) for c in olds]
    # A component unchanged between the scans is often the very same object (cbom.diff.read_pair):
    # its keys are known.
    known = {id(c): k for c, k in zip(olds, okeys)}
    nkeys = [known.get(id(c)) or rules.identities(c) for c in news]
    passes = max([len(k) for k in okeys + nkeys] or [0])
    left_o = list(range(len(olds)))
    left_n = list(range(len(news)))
    pairs: List[Tuple[int, int]] = []
    for p in range(passes):
        if not left_o or not left_n:
            break
        go: Dict[str, List[int]] = defaultdict(list)
        gn: Dict[str, List[int]] = defaultdict(list)
        for i in left_o:
            k = okeys[i][p] if p < len(okeys[i]) else None
            if k:
                go[k].append(i)
        for j in left_n:
            k = nkeys[j][p] if p < len(nkeys[j]) else None
            if k:
                gn[k].append(j)
        used_o, used_n = set(), set()
        for k, ois in go.items():
            nis = gn.get(k)
            if not nis:
                continue
            if p:  # weaker passes must not pair things the stronger identity tells apart
                ois = [i for i in ois if any(compatible(olds[i], news[j], k) for j in nis)]
                if not ois:
                    continue
            got, _, _ = _pair_group(ois, nis, olds, news)
            for i, j in got:
                if p and not compatible(olds[i], news[j], k):
                    continue
                pairs.append((i, j))
                used_o.add(i)
                used_n.add(j)
        left_o = [i for i in left_o if i not in used_o]
        left_n = [j for j in left_n if j not in used_n]
    return pairs, left_o, left_n, okeys, nkeys
