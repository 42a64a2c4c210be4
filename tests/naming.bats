#!/usr/bin/env bats
# The original MAMFast's naming, series, author and discovery rules over a generated library
# (scripts/mklibrary --shapes): the names mf-stage and `mamfast run --dry-run` give, and the
# authors and subtitle of the MAM JSON.  The expected names are written out by hand here.

load lib/common
bats_require_minimum_version 1.5.0

setup_file() {
	export LIB="$BATS_FILE_TMPDIR/lib" SEED="$BATS_FILE_TMPDIR/seed"
	mklibrary "$LIB" --books 0 --shapes --tiny >"$BATS_FILE_TMPDIR/listing"
}

setup() {
	mf_need ffmpeg python3 jq
	cd "$BATS_TEST_TMPDIR"
	export MF_LIBRARY="$LIB" MF_SEED_ROOT="$SEED" MF_RIPPER_TAG=H2OKing
}

# "ASIN<TAB>name" for each release, as mf-stage --dry-run names it.
names() {
	mf-scan "$LIB" | mf-stage --dry-run | jq -r '[.asin, .staging.name // .error.message] | @tsv' |
	    LC_ALL=C sort
}

want_names() {
	cat <<-'EOF2'
	B0SHAPE001	Overlord vol_03 (2021) (Kugane Maruyama) {ASIN.B0SHAPE001} [H2OKing]
	B0SHAPE002	Cradle vol_12 (2023) (Will Wight) {ASIN.B0SHAPE002} [H2OKing]
	B0SHAPE003	The Wheel of Time vol_12 (2005) (Robert Jordan) {ASIN.B0SHAPE003} [H2OKing]
	B0SHAPE004	The Kingkiller vol_01 (2007) (Patrick Rothfuss) {ASIN.B0SHAPE004} [H2OKing]
	B0SHAPE005	The Expanse vol_01 (2011) (James S. A. Corey) {ASIN.B0SHAPE005} [H2OKing]
	B0SHAPE006	The Stormlight Archive vol_01 (2010) (Brandon Sanderson) {ASIN.B0SHAPE006} [H2OKing]
	B0SHAPE007	The Stormlight Archive vol_02 (2010) (Brandon Sanderson) {ASIN.B0SHAPE007} [H2OKing]
	B0SHAPE008	The Expanse vol_01-03 (2020) (James S. A. Corey) {ASIN.B0SHAPE008} [H2OKing]
	B0SHAPE009	Numbered vol_03 (2019) (Nu Merals) {ASIN.B0SHAPE009} [H2OKing]
	B0SHAPE010	Re -ZERO -Starting Life in Another World- vol_01 (2016) (Tappei Nagatsuki) {ASIN.B0SHAPE010} [H2OKing]
	B0SHAPE011	Cradle vol_03 (2019) (Jane Writer) {ASIN.B0SHAPE011} [H2OKing]
	B0SHAPE012	Starsight (2019) (Zed Author) {ASIN.B0SHAPE012} [H2OKing]
	B0SHAPE013	The Primal Hunter vol_11 (2025) (Zogarth) {ASIN.B0SHAPE013} [H2OKing]
	B0SHAPE014	Kaiju Girl Caramelise (2022) (Bokuto Uno) {ASIN.B0SHAPE014} [H2OKing]
	B0SHAPE015	The Saint's Magic Power is Omnipotent (2021) (Tachibana Yu Hana) {ASIN.B0SHAPE015} [H2OKing]
	B0SHAPE016	Con_.Air (1997) (Scott Rosenberg) {ASIN.B0SHAPE016} [H2OKing]
	EOF2
}

@test "naming shapes: every release gets the original's name" {
	[ "$(wc -l <"$BATS_FILE_TMPDIR/listing")" -eq 16 ]
	names >got
	want_names >want
	diff want got
}

@test "naming shapes: mamfast run --dry-run names each staged folder" {
	cat >mamfast.conf <<-EOF
	MF_LIBRARY=$LIB
	MF_SEED_ROOT=$SEED
	MF_OUT_DIR=$BATS_TEST_TMPDIR/out
	MF_STATE_DIR=$BATS_TEST_TMPDIR/state
	MF_RIPPER_TAG=H2OKing
	MF_ANNOUNCE_URL=https://tracker.example/announce/SECRETPASSKEY123
	MF_QBT_USER=admin
	MF_QBT_PASS=not-asked
	EOF
	MF_CONFIG=$PWD/mamfast.conf run --separate-stderr mamfast run --dry-run
	echo "$output"
	assert_success
	want_names | while IFS="$(printf '\t')" read -r id name; do
		grep -qxF "  would stage $id as $SEED/$name" <<<"$output" || { echo "missing: $id $name"; false; }
	done
	[ ! -e "$SEED" ] && [ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "naming shapes: MF_TRANSLITERATE_JAPANESE=0 keeps the kanji; author_map still applies" {
	MF_TRANSLITERATE_JAPANESE=0 names >got
	grep -qxF "B0SHAPE015	The Saint's Magic Power is Omnipotent (2021) (橘 由華) {ASIN.B0SHAPE015} [H2OKing]" got
	grep -qF "(Tappei Nagatsuki) {ASIN.B0SHAPE010}" got
	run --separate-stderr env MF_TRANSLITERATE_JAPANESE=maybe mf-stage --dry-run </dev/null
	[ "$status" -eq 78 ]
	[[ $stderr == *MF_TRANSLITERATE_JAPANESE* ]]
}

@test "naming shapes: the MAM JSON loses credits and empty subtitles, romanises authors" {
	mf-scan "$LIB" |
	    jq -c 'select(.asin | IN("B0SHAPE001", "B0SHAPE004", "B0SHAPE014", "B0SHAPE015"))' |
	    MF_SEED_ROOT="$BATS_TEST_TMPDIR/seed" mf-stage |
	    MF_SEED_ROOT="$BATS_TEST_TMPDIR/seed" mf-meta --no-audnex -o "$BATS_TEST_TMPDIR/out" >recs
	[ "$(jq -s 'map(select(.error)) | length' recs)" -eq 0 ]
	json() { jq -r --arg a "$1" 'select(.asin == $a) | .meta.mam_json' recs; }
	# "Overlord, Vol. 3" repeats the series (as cleaned); a keep pattern keeps the other.
	jq -e '.authors == ["Kugane Maruyama"] and (has("subtitle") | not)' "$(json B0SHAPE001)"
	jq -e '.subtitle == "The Kingkiller Chronicles, Book 1"' "$(json B0SHAPE004)"
	jq -e '.authors == ["Bokuto Uno"] and (has("subtitle") | not)' "$(json B0SHAPE014)"
	jq -e '.authors == ["Tachibana Yu Hana"]' "$(json B0SHAPE015)"
	jq -e '.description | contains("[b]Author:[/b] Bokuto Uno\n")' "$(json B0SHAPE014)"
}
