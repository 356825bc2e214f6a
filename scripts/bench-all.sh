#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md, one after the other, each preceded and
# followed by the machine's load average (the figures of a run whose load rose
# above the number of cores are not worth quoting: rerun that section).
#
#   scripts/bench-all.sh                 everything (about 30 minutes)
#   scripts/bench-all.sh SECTION...      only these: dbc logs decode codec engine
#                                        replay secoc link keys learn live
#
# Output goes to standard output and to target/bench-all/SECTION.log. Needs
# .venv (scripts/setup-oracles) and ../shared/data; uses `openssl speed` as
# the C reference for the cryptography when openssl is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(dbc logs decode codec engine replay secoc link keys learn live)
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=("${all[@]}")
mkdir -p target/bench-all

run_section() {
    case "$1" in
        dbc) scripts/bench-dbc.sh && cargo bench --bench dbc_parse ;;
        logs) scripts/bench-logs.sh && cargo bench --bench logs ;;
        decode) scripts/bench-decode.sh ;;
        codec) cargo bench --bench codec ;;
        engine) cargo bench --bench engine ;;
        replay) scripts/bench-replay.sh ;;
        secoc)
            cargo bench --bench secoc
            if command -v openssl >/dev/null; then
                # One AES-128-CMAC over 16 bytes: the cryptographic core of a classic-frame verification.
                openssl speed -seconds 3 -bytes 16 -cmac AES-128-CBC 2>/dev/null | tail -n 2
            fi
            ;;
        link)
            cargo bench --bench link
            if command -v openssl >/dev/null; then
                # AES-128-GCM and ChaCha20-Poly1305 over 64 bytes (about one datagram of 1-10 classic frames).
                openssl speed -seconds 3 -bytes 64 -evp aes-128-gcm 2>/dev/null | tail -n 2
                openssl speed -seconds 3 -bytes 64 -evp chacha20-poly1305 2>/dev/null | tail -n 2
            fi
            ;;
        keys) cargo bench --bench keys ;;
        learn)
            cargo bench --bench learn
            cargo build --quiet --release
            local data=../shared/data work
            local pt=$data/dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc adas=$data/dbc/opendbc/current/toyota_adas.dbc
            local rav4=$data/logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log
            work=$(mktemp -d)
            # One hour: the 60-second capture 60 times, each copy 61 s later than the one before.
            for k in $(seq 0 59); do
                awk -v k="$k" '{ printf "(%.6f) %s %s\n", substr($1, 2, length($1) - 2) + 61 * k, $2, $3 }' "$rav4"
            done >"$work/hour.log"
            for capture in "$rav4" "$work/hour.log"; do
                for verify in --no-verify ""; do
                    /usr/bin/time -f "bulkhead learn ${verify:-(with the verification replay)} $(basename "$capture"): %e s, max resident %M KB" \
                        ./target/release/bulkhead learn $verify --bus-dbc "can0=$pt" --bus-dbc "can128=$pt" \
                        --bus-dbc "can129=$pt" --bus-dbc "can1=$adas" -o "$work/learned.toml" "$capture" >/dev/null
                done
            done
            rm -rf "$work"
            ;;
        live)
            # The daemon against can-gw in one User-Mode Linux boot (about 70 s); JSON to target/bench-all/live.json.
            cargo build --quiet --release -p bulkhead
            scripts/vcan-run --timeout 1200 -- tests/vcan/daemon_measure.sh >target/bench-all/live.json
            ;;
        *) echo "bench-all: unknown section $1 (have: ${all[*]})" >&2; return 2 ;;
    esac
}

for section in "${sections[@]}"; do
    log=target/bench-all/$section.log
    {
        echo "== $section, $(date -u '+%Y-%m-%d %H:%M UTC'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
        run_section "$section" 2>&1
        echo "== $section done, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$log"
done
