# driver.bash: a complete configuration for the driver's tests (load after lib/common).
# driver_conf writes it to $conf (and exports MF_CONFIG); its library folder is $lib.

driver_conf() {
	conf="$BATS_TEST_TMPDIR/mamfast.conf"
	lib="$BATS_TEST_TMPDIR/lib"
	mkdir -p "$lib"
	cat >"$conf" <<-EOF
	# a complete configuration
	MF_LIBRARY=$lib
	MF_SEED_ROOT=$BATS_TEST_TMPDIR/seed
	MF_OUT_DIR="$BATS_TEST_TMPDIR/out"
	export MF_STATE_DIR='$BATS_TEST_TMPDIR/state'
	MF_ANNOUNCE_URL=https://tracker.example/announce/SECRETPASSKEY123
	MF_QBT_USER=admin
	MF_QBT_PASS=hunter2-secret
	EOF
	export MF_CONFIG="$conf"
}
