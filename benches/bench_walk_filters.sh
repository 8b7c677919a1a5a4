#!/bin/sh
# Cost of --respect-gitignore --skip-hidden (leakscan's own ignore matching, which counts
# what it leaves out) against an older build that let the `ignore` crate filter.
# Usage: benches/bench_walk_filters.sh OLD_BINARY NEW_BINARY TREE
# Median of 7 runs each (wall s, CPU s = user+sys, max RSS KB), report to /dev/null.
set -eu
old=$1 new=$2 tree=$3
cd "$tree"
t=$(mktemp)
for mode in default narrow; do for bin in "$old" "$new"; do
  args=""; [ "$mode" = narrow ] && args="--respect-gitignore --skip-hidden"
  : > "$t.all"
  for _ in 1 2 3 4 5 6 7; do
    /usr/bin/time -o "$t" -f "%e %U %S %M" "$bin" scan . --no-progress -q -f json \
      -o /dev/null --exit-code 0 $args
    awk '{printf "%.2f %.2f %d\n", $1, $2+$3, $4}' "$t" >> "$t.all"
  done
  med() { cut -d' ' -f"$1" "$t.all" | sort -n | sed -n 4p; }
  echo "$mode $bin: wall $(med 1) s, cpu $(med 2) s, rss $(med 3) KB"
done; done
rm -f "$t" "$t.all"
