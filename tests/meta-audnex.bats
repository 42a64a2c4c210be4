#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# mf-meta against the Audnex stand-in: regions, errors in both formats, retries, Retry-After,
# the circuit breaker, timeouts, the cache, and the request rate.

load lib/common
load lib/audnex

setup_file() {
	meta_setup_file
}

teardown_file() {
	audnex_stop
}

setup() {
	meta_setup
}

teardown() {
	# A second stand-in started by a test.
	if [[ -s $BATS_TEST_TMPDIR/old.pid ]]; then
		kill "$(cat "$BATS_TEST_TMPDIR/old.pid")" 2>/dev/null || true
		wait "$(cat "$BATS_TEST_TMPDIR/old.pid")" 2>/dev/null || true
	fi
}

fixture() {
	echo "$MF_ROOT/tests/fixtures/audnex/$1"
}

@test "a book found in the first region: book and chapters, each asked once, never update=1" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e --arg t "$(jq -r .title "$(fixture books/B0TESTSER1.json)")" \
	    '.meta.audnex.title == $t and .meta.audnex.region == "us"' <<<"$output"
	n=$(jq '.chapters | length' "$(fixture chapters/B0TESTSER1.json)")
	jq -e --argjson n "$n" '.meta.audnex.chapters | length == $n' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1 us)" -eq 1 ]
	[ "$(audnex_count /books/B0TESTSER1/chapters us)" -eq 1 ]
	[ "$(audnex /_control/counts | jq '[.requests[] | select(.query | test("update"))] | length')" -eq 0 ]
}

@test "region fallback: not in us (404 REGION_UNAVAILABLE), found in uk" {
	run --separate-stderr mf-meta --regions us,uk <<<"$(rec B0UKONLY01)"
	assert_success
	jq -e '.meta.audnex.region == "uk" and .meta.audnex.title == "Coastwise"' <<<"$output"
	[ "$(audnex_count /books/B0UKONLY01 us)" -eq 1 ]
	[ "$(audnex_count /books/B0UKONLY01 uk)" -eq 1 ]
	[ "$(audnex_count /books/B0UKONLY01/chapters uk)" -eq 1 ]
	[ "$(audnex_count /books/B0UKONLY01/chapters us)" -eq 0 ]
}

@test "not in any region: meta.audnex is null, the warning quotes the server, the record succeeds" {
	run --separate-stderr mf-meta --regions us <<<"$(rec B0UKONLY01)"
	assert_success
	jq -e '.meta.audnex == null and .error == null' <<<"$output"
	jq -e '.meta.warnings | any(test("not in Audnex.*Item not available in region .us. for ASIN: B0UKONLY01"))' <<<"$output"
	# The JSON is still written, from the record's own data.
	jq -e '.title == "Record B0UKONLY01" and .authors == ["Record Author"]' "$OUT/B0UKONLY01/B0UKONLY01.json"
}

@test "old error format: a 500 saying 'not available in region' means next region, not retry" {
	audnex '/_control/rule?path=/books/B0UKONLY01&region=us&action=500old&times=0&message=Item%20not%20available%20in%20region%20%27us%27%20for%20ASIN:%20B0UKONLY01' >/dev/null
	run --separate-stderr mf-meta --regions us,uk <<<"$(rec B0UKONLY01)"
	assert_success
	jq -e '.meta.audnex.region == "uk"' <<<"$output"
	[ "$(audnex_count /books/B0UKONLY01 us)" -eq 1 ]
}

@test "old error format: 'Required key' 500 is 'no data'; the message is quoted" {
	audnex "/_control/rule?path=/books/B0TESTSER1&action=500old&times=0&message=Required%20key%20%27authors%27%20does%20not%20exist" >/dev/null
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex == null' <<<"$output"
	jq -e ".meta.warnings | any(test(\"Required key 'authors' does not exist\"))" <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
}

@test "400 Bad ASIN (new format) is not retried and is quoted" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=400&times=0' >/dev/null
	run --separate-stderr mf-meta --attempts 5 <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex == null and (.meta.warnings | any(test("HTTP 400.*Bad ASIN")))' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
}

@test "an invalid ASIN is never sent; a lower-case one is upper-cased" {
	{ rec NOTANASIN1 bad; rec b0testser1 lower; } >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta <"$BATS_TEST_TMPDIR/in"
	assert_success
	jq -se '.[0].meta.audnex == null and (.[0].meta.warnings | any(test("not a valid ASIN")))' <<<"$output"
	jq -se '.[1].meta.audnex.asin == "B0TESTSER1"' <<<"$output"
	[ "$(audnex /_control/counts | jq .total)" -eq 2 ]
}

@test "429 with Retry-After: waits that long, then succeeds" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=429&arg=1&times=1' >/dev/null
	run --separate-stderr mf-meta --backoff 0.01 <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex.title != null' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 2 ]
	# The second request came at least Retry-After (1 s) after the first.
	audnex /_control/counts | jq -e '[.requests[] | select(.path == "/books/B0TESTSER1") | .t] |
	    (.[1] - .[0]) >= 0.95'
}

@test "429 asking for longer than the retry budget: gives up at once, warning says 429" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=429&arg=30&times=0' >/dev/null
	start=$(date +%s)
	run --separate-stderr mf-meta --retry-time 3 <<<"$(rec B0TESTSER1)"
	assert_success
	[ $(( $(date +%s) - start )) -lt 10 ]
	jq -e '.meta.audnex == null and (.meta.warnings | any(test("HTTP 429.*Rate limit")))' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
}

@test "retries are bounded in count: 500 (new format) every time, exactly --attempts requests" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=500&times=0&message=database%20on%20fire' >/dev/null
	run --separate-stderr mf-meta --attempts 3 --breaker 0 <<<"$(rec B0TESTSER1)"
	assert_success
	[ "$(audnex_count /books/B0TESTSER1)" -eq 3 ]
	jq -e '.meta.audnex == null and (.meta.warnings | any(test("HTTP 500.*database on fire.*3 attempts")))' <<<"$output"
}

@test "retries are bounded in time: many attempts allowed, the time budget stops them" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=500old&times=0' >/dev/null
	start=$(date +%s.%N)
	run --separate-stderr mf-meta --attempts 100 --breaker 0 --backoff 0.2 --retry-time 1.5 <<<"$(rec B0TESTSER1)"
	assert_success
	end=$(date +%s.%N)
	n=$(audnex_count /books/B0TESTSER1)
	[ "$n" -ge 2 ] && [ "$n" -lt 20 ]
	awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 5) }'
	jq -e '.meta.warnings | any(test("HTTP 500.*gave up"))' <<<"$output"
}

@test "transient faults are retried: reset, garbage body, truncated body, 500, then OK" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=reset&times=1' >/dev/null
	audnex '/_control/rule?path=/books/B0TESTSER1&action=garbage&times=1' >/dev/null
	audnex '/_control/rule?path=/books/B0TESTSER1&action=truncated&times=1' >/dev/null
	audnex '/_control/rule?path=/books/B0TESTSER1&action=500&times=1' >/dev/null
	run --separate-stderr mf-meta --attempts 6 <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex.title == "The Drowned Lamp"' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 5 ]
}

@test "an answer over the body limit: the warning says it exceeded the limit in bytes (not libcurl's write failure), not retried" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=huge&times=0' >/dev/null
	run --separate-stderr mf-meta --attempts 4 <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex == null' <<<"$output"
	jq -e '.meta.warnings | any(test("the answer exceeded 67108864 bytes"))' <<<"$output"
	! jq -e '.meta.warnings | any(test("Failure writing"))' <<<"$output"
	# the same answer would come again: asked once, not four times
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
}

@test "timeouts: a server that answers too slowly is given up on within the time budget" {
	audnex '/_control/rule?path=/books/B0TESTSER1&action=delay&arg=5&times=0' >/dev/null
	start=$(date +%s)
	run --separate-stderr mf-meta --timeout 0.5 --attempts 2 <<<"$(rec B0TESTSER1)"
	assert_success
	[ $(( $(date +%s) - start )) -lt 4 ]
	jq -e '.meta.audnex == null and (.meta.warnings | any(test("[Tt]imeout|timed out")))' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 2 ]
}

@test "a slow trickle of chapters times out: the book is kept, chapters warned about" {
	audnex '/_control/rule?path=/books/B0TESTSER1/chapters&action=trickle&arg=0.05&times=1' >/dev/null
	run --separate-stderr mf-meta --timeout 0.7 --attempts 1 <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex.title == "The Drowned Lamp" and (.meta.audnex.chapters | length) == 0' <<<"$output"
	jq -e '.meta.warnings | any(test("no chapters from Audnex"))' <<<"$output"
	# A transient chapters failure is not cached: the next run asks again.
	run --separate-stderr mf-meta --timeout 5 <<<"$(rec B0TESTSER1)"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 2 ]
	[ "$(audnex_count /books/B0TESTSER1/chapters)" -eq 2 ]
	jq -e '(.meta.audnex.chapters | length) == 64' <<<"$output"
}

@test "circuit breaker: after N failures in a row the run stops asking, says so once, no record fails" {
	audnex '/_control/rule?path=/books/&action=500&times=0' >/dev/null
	for a in B0TESTSER1 B0MINIMAL1 B0UKONLY01 1774247291; do rec "$a"; done >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta --attempts 2 --breaker 3 <"$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$(audnex /_control/counts | jq .total)" -eq 3 ]
	[ "$(grep -c 'not asking it again in this run' <<<"$stderr")" -eq 1 ]
	[ "$(jq -s 'map(select(.meta.audnex == null and (.meta.warnings | length) > 0)) | length' <<<"$output")" -eq 4 ]
	jq -se '.[3].meta.warnings | any(test("Audnex not asked"))' <<<"$output"
	[ "$(jq -s 'map(select(.meta.mam_json != null)) | length' <<<"$output")" -eq 4 ]
}

@test "cache: a second run makes no request, also for 'not in this region' answers" {
	{ rec B0TESTSER1; rec B0UKONLY01; } >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta --regions us,uk <"$BATS_TEST_TMPDIR/in"
	assert_success
	first=$(audnex /_control/counts | jq .total)
	[ "$first" -eq 5 ]
	[ -s "$CACHE/audnex/B0TESTSER1.us.json" ]
	run --separate-stderr mf-meta --regions us,uk <"$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$(audnex /_control/counts | jq .total)" -eq "$first" ]
	jq -se '.[0].meta.audnex.title == "The Drowned Lamp" and .[1].meta.audnex.region == "uk"' <<<"$output"
}

@test "cache: --refresh and an expired TTL ask again; a corrupt entry is ignored and replaced" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1)"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
	run --separate-stderr mf-meta --refresh <<<"$(rec B0TESTSER1)"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 2 ]
	run --separate-stderr mf-meta --ttl 0 <<<"$(rec B0TESTSER1)"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 3 ]
	printf '{"version":1,"asin":"B0TESTSER1","region":"us","fetched_at":' >"$CACHE/audnex/B0TESTSER1.us.json"
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex.title == "The Drowned Lamp"' <<<"$output"
	[ "$(audnex_count /books/B0TESTSER1)" -eq 4 ]
	jq -e '.found == true and .book.asin == "B0TESTSER1"' "$CACHE/audnex/B0TESTSER1.us.json"
	[ -z "$(find "$CACHE" -name '.*tmp*')" ]
}

@test "cache: --dry-run writes no cache and no output files" {
	run --separate-stderr mf-meta --dry-run <<<"$(rec B0TESTSER1)"
	assert_success
	jq -e '.meta.audnex.title == "The Drowned Lamp" and .meta.mam_json == null' <<<"$output"
	[ ! -e "$CACHE" ]
	[ -z "$(ls -A "$OUT")" ]
}

@test "rate: requests are paced to --rate per second" {
	for a in B0TESTSER1 B0MINIMAL1 1774247291; do rec "$a"; done >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta --rate 5 <"$BATS_TEST_TMPDIR/in"
	assert_success
	# 3 books + 3 chapter requests (B0MINIMAL1 has none: 404): 5 gaps of 1/5 s, measured at
	# the server (arrival times jitter by the first connect, so: the span, and no burst).
	audnex /_control/counts | jq -e '[.requests[].t] | . as $t | [range(1; length) | $t[.] - $t[. - 1]] |
	    length == 5 and min >= 0.12 and add >= 0.95'
}

@test "a book without chapters: 404 in Fastify's format is 'no chapters', not a failure" {
	run --separate-stderr mf-meta <<<"$(rec B0MINIMAL1)"
	assert_success
	jq -e '.meta.audnex.title == "Das kleine Buch" and (.meta.audnex.chapters | length) == 0' <<<"$output"
	jq -e '.meta.warnings | any(test("no chapters from Audnex.*has no chapters"))' <<<"$output"
	[ "$(audnex_count /books/B0MINIMAL1/chapters)" -eq 1 ]
}

@test "the stand-in: --old-errors answers 'not here' as a flat 500; mf-meta still falls back; 127.0.0.1 only" {
	pf="$BATS_TEST_TMPDIR/old.port"
	audnex-fixture-server --port 0 --port-file "$pf" --quiet --old-errors >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/old.pid"
	for i in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	url="http://127.0.0.1:$(cat "$pf")"
	run curl -s -w '\n%{http_code}' "$url/books/B0UKONLY01?region=us"
	[ "${lines[1]}" = 500 ]
	jq -e '.statusCode == 500 and (.message | test("not available in region"))' <<<"${lines[0]}"
	run --separate-stderr mf-meta --audnex-url "$url" --regions us,uk <<<"$(rec B0UKONLY01)"
	jq -e '.meta.audnex.region == "uk"' <<<"$output"
	# Listening on the loopback address only.
	mf_need ss
	ss -ltnH "sport = :$(cat "$pf")" | awk '{print $4}' | grep -qx "127.0.0.1:$(cat "$pf")"
}

@test "bytes that are not UTF-8 in an Audnex answer never reach the record or the MAM JSON" {
	mf_need iconv
	local fx="$BATS_TEST_TMPDIR/fx" pf="$BATS_TEST_TMPDIR/old.port"
	mkdir -p "$fx/books" "$fx/chapters"
	# A book whose title, author and a chapter title carry a stray 0xFF byte.
	printf '{"asin":"B0BADUTF01","region":"us","title":"Bad \377 Title","authors":[{"name":"Ann \377"}],"narrators":[],"genres":[],"summary":"<p>x</p>"}' \
	    >"$fx/books/B0BADUTF01.json"
	printf '{"asin":"B0BADUTF01","chapters":[{"startOffsetMs":0,"lengthMs":1000,"title":"Ch \377"}]}' \
	    >"$fx/chapters/B0BADUTF01.json"
	audnex-fixture-server --port 0 --port-file "$pf" --fixtures "$fx" --quiet >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/old.pid"
	for i in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	run --separate-stderr mf-meta --audnex-url "http://127.0.0.1:$(cat "$pf")" <<<"$(rec B0BADUTF01)"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.ndjson"
	iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/out.ndjson" >/dev/null
	jq -e '.meta.audnex.title | startswith("Bad ")' "$BATS_TEST_TMPDIR/out.ndjson"
	iconv -f UTF-8 -t UTF-8 "$(jq -r .meta.mam_json "$BATS_TEST_TMPDIR/out.ndjson")" >/dev/null
}
