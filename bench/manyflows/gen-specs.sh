#!/bin/bash
# gen-specs.sh S R > specs.yaml: one flow per service svc-0..S-1 and route
# /api/v1/r0..R-1 (what otlpload -services S -routes R sends), with an
# availability SLO (99.9%, 30 d) on each: S·R flows, 2·S·R documents.
S=$1; R=$2
for ((s = 0; s < S; s++)); do for ((r = 0; r < R; r++)); do
	printf 'apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: s%d-r%d}\nspec:\n  match:\n    - {attribute: service.name, equals: svc-%d}\n    - {attribute: http.route, equals: /api/v1/r%d}\n---\napiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s%d-r%d-availability}\nspec:\n  flow: s%d-r%d\n  target: 99.9\n  period: 30d\n---\n' $s $r $s $r $s $r $s $r
done; done
