#!/usr/bin/env python3
"""Generate a benchmark stack of N `local.null` resources.

Shape (issue 3): one root per 10 resources; the other 9 of each group form a
chain hanging off the root through `triggers` references, so the graph is
N/10 independent chains of depth 10.

    gen_stack.py N [--change-percent P] [--name NAME]

--change-percent P changes a trigger value on P% of the resources, spread
evenly over the stack. The changed resources are chain ends, so nothing
references them and the plan shows exactly that many replacements (triggers
are force-new) rather than a cascade down each chain.
"""
import argparse
import sys


def chain_end(i: int, n: int) -> int:
    """The last resource of the chain that resource i belongs to."""
    return min(i - i % 10 + 9, n - 1)


def changed_indices(n: int, percent: float) -> set:
    count = round(n * percent / 100)
    if count <= 0:
        return set()
    step = n / count
    return {chain_end(int(k * step), n) for k in range(count)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of resources")
    parser.add_argument("--change-percent", type=float, default=0.0,
                        help="percent of resources whose trigger value changes (spread out)")
    parser.add_argument("--name", default="bench", help="stack name")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("N must be at least 1")

    changed = changed_indices(args.n, args.change_percent)
    out = [f"stack: {{name: {args.name}}}", "resources:"]
    for i in range(args.n):
        value = "2" if i in changed else "1"
        triggers = f'v: "{value}"'
        if i % 10:
            triggers += f', after: "${{local.null.r{i - 1}.id}}"'
        out.append("  - type: local.null")
        out.append(f"    name: r{i}")
        out.append(f"    properties: {{triggers: {{{triggers}}}}}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
