# bench/lib.sh: sourced by every bench/bench-*.sh, so each also runs alone
# (`sh bench/bench-x.sh`): the built programs and scripts/ first on PATH, and a clear
# exit when a tool the bench needs is missing.

# bench_setup NAME TOOL...: sets here (the bench folder), MF_BIN and PATH.
bench_setup() {
	bench_name=$1
	shift
	here=$(cd "$(dirname "$0")" && pwd)
	: "${MF_BIN:=$here/../build/bin}"
	PATH="$MF_BIN:$here/../scripts:$PATH"
	export MF_BIN PATH
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
		    { echo "$bench_name: $t is missing (run make, or scripts/deps)" >&2; exit 1; }
	done
}

# The one-minute load average: other work on the machine skews every ratio.
bench_load() {
	cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"
}
