#!/usr/bin/env bash
# Checks that the README's set-up works on a fresh machine, as a newcomer would try it:
#   1. builds a minimal Debian root (debootstrap --variant=minbase) from this machine's Debian mirror,
#   2. copies in the Rust toolchain (~/.cargo, ~/.rustup: the default toolchain only),
#   3. clones this repository (its committed HEAD) into /root/hearth inside the root,
#   4. runs the README's first command there, as root (chroot), exactly as the README writes it,
#      and waits until Hearth listens,
#   5. runs the README's walk-through from a second shell and checks it answers 201/200/200,
#   6. stops the server with SIGINT (Ctrl-C) and runs the README's second command,
# and prints each step's time and result. Slow (the build inside is cold): not for every CI run.
# Run it before resolving an issue that touches set-up; record the result in docs/fresh-machine.md.
#
# Needs root, debootstrap (`apt-get install debootstrap`), and a free 127.0.0.1:8080 (the chroot
# shares this machine's network). Usage: sudo scripts/check-fresh-machine.sh [--keep]
# --keep leaves the root (HEARTH_CHECK_DIR, default /var/tmp/hearth-fresh-check) for inspection.
set -euo pipefail

KEEP=false
[ "${1:-}" = --keep ] && KEEP=true
SUITE=${HEARTH_CHECK_SUITE:-bookworm}
WORK=${HEARTH_CHECK_DIR:-/var/tmp/hearth-fresh-check}
ROOT=$WORK/root
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_TIMEOUT=${HEARTH_CHECK_BUILD_TIMEOUT:-3600}

say() { echo "check-fresh-machine: $*"; }
die() { say "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "install debootstrap first: apt-get install -y debootstrap"
command -v git >/dev/null || die "install git first"
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
    die "127.0.0.1:8080 is taken on this machine; the walk-through needs it (the chroot shares the network)"
fi

# This machine's Debian mirror: the first deb URI for the main archive in its apt sources.
mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\?[[:space:]]*$/\1/p' | head -n 1)
    [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)\/\?[[:space:]].*/\2/p' \
        | head -n 1)
    echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)

# The README's fenced sh block under a heading, comments and blank lines dropped.
readme_block() {
    awk -v h="$1" '
        $0 == h { inside = 1; next }
        inside && /^## / { exit }
        inside && /^```sh/ { code = 1; next }
        code && /^```/ { exit }
        code { print }
    ' "$REPO/README.md"
}
mapfile -t COMMANDS < <(readme_block '## The two commands' | sed 's/[[:space:]]*#.*$//' | grep -v '^[[:space:]]*$')
WALK=$(readme_block '## A walk-through with curl')
[ ${#COMMANDS[@]} -eq 2 ] || die "expected two commands in the README's 'The two commands' block, found ${#COMMANDS[@]}"
[ -n "$WALK" ] || die "no walk-through block in the README"

STEPS=()
FAILED=false
SERVER_PID=
record() { # name seconds result
    STEPS+=("| $1 | $2 s | $3 |")
    say "step '$1': $3 in $2 s"
    [ "$3" = pass ] || FAILED=true
}

# A root shell in the fresh root, in the clone, with a clean environment and the toolchain on PATH.
SHELL_IN_ROOT=(chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb
    PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c)
in_root() { "${SHELL_IN_ROOT[@]}" "cd /root/hearth && $1"; }

mounted=()
cleanup() {
    set +e
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -INT -- "-$SERVER_PID"
        sleep 5
    fi
    # Whatever still runs inside the root (a cluster, a test binary) was started by this script.
    local p
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ]; then
            kill -TERM "${p#/proc/}" 2>/dev/null
        fi
    done
    sleep 1
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" || umount -l "${mounted[i]}"
    done
    if ! $KEEP && [ -d "$ROOT" ] && ! findmnt -R "$ROOT" >/dev/null 2>&1; then
        rm -rf "$ROOT"
    fi
}
trap cleanup EXIT

mount_in_root() { # type target [options]
    mount -t "$1" ${3:+-o "$3"} "$1" "$ROOT/$2"
    mounted+=("$ROOT/$2")
}

now() { date +%s; }

COMMIT="$(git -C "$REPO" rev-parse HEAD)"
say "repository $REPO at ${COMMIT:0:7} ($(git -C "$REPO" log -1 --format=%cd --date=iso))"
[ -z "$(git -C "$REPO" status --porcelain)" ] || say "note: uncommitted changes are not part of the check (it clones HEAD)"
say "Debian $SUITE from $MIRROR into $ROOT"
say "the README's two commands: '${COMMANDS[0]}', then '${COMMANDS[1]}'"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# 1. A minimal Debian root.
[ ! -e "$ROOT" ] || die "$ROOT exists (from a --keep run?); remove it first"
mkdir -p "$WORK"
t=$(now)
if debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    record "debootstrap --variant=minbase $SUITE" $(($(now) - t)) pass
else
    tail -n 20 "$WORK/debootstrap.log" >&2
    record "debootstrap --variant=minbase $SUITE" $(($(now) - t)) fail
    exit 1
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's own certificate authorities (a proxy's, for the package registries), as its
# network needs them: Debian's ca-certificates adds them to the bundle when ensure-deps installs it.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    if [ -x "$ROOT/usr/sbin/update-ca-certificates" ]; then
        chroot "$ROOT" /usr/sbin/update-ca-certificates >/dev/null 2>&1 || true
    fi
fi
# What this machine's apt needs to read its mirror (e.g. a snapshot's expired Release dates).
for f in /etc/apt/apt.conf.d/*; do
    if grep -Eq 'Acquire::(Check-Valid-Until|Check-Date|https?::Proxy)' "$f" 2>/dev/null; then
        cp "$f" "$ROOT/etc/apt/apt.conf.d/"
    fi
done

# 2. The Rust toolchain, as rustup installs it, and nothing else.
t=$(now)
toolchain=$(rustup default 2>/dev/null | awk '{print $1}')
[ -n "$toolchain" ] || die "no default Rust toolchain (rustup default)"
mkdir -p "$ROOT/root/.rustup/toolchains"
cp -a "$HOME/.cargo" "$ROOT/root/.cargo"
cp -a "$HOME/.rustup/settings.toml" "$ROOT/root/.rustup/"
[ -d "$HOME/.rustup/update-hashes" ] && cp -a "$HOME/.rustup/update-hashes" "$ROOT/root/.rustup/"
cp -a "$HOME/.rustup/toolchains/$toolchain" "$ROOT/root/.rustup/toolchains/"
# Aliases of the default (a version-named symlink for rust-version) come along.
for link in "$HOME"/.rustup/toolchains/*; do
    if [ -L "$link" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$HOME/.rustup/toolchains/$toolchain")" ]; then
        cp -a "$link" "$ROOT/root/.rustup/toolchains/"
    fi
done
record "copy the Rust toolchain ($toolchain)" $(($(now) - t)) pass

# 3. The clone, where a newcomer puts it: /root is 0700.
t=$(now)
git clone -q "$REPO" "$ROOT/root/hearth"
git -C "$ROOT/root/hearth" checkout -q "$COMMIT"
record "git clone into /root/hearth (/root is $(stat -c %a "$ROOT/root"))" $(($(now) - t)) pass

mount_in_root proc proc
mount_in_root sysfs sys ro
mount_in_root tmpfs dev/shm mode=1777

# 4. The first command, in the background as in its own terminal; ready when Hearth listens.
t=$(now)
: >"$WORK/serve.log"
# Its own process group, so SIGINT to the group is what Ctrl-C in its terminal would send.
setsid "${SHELL_IN_ROOT[@]}" "cd /root/hearth && ${COMMANDS[0]}" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
ready=false
t_build= t_start=
# serve-demo.sh announces its steps; note when each begins (to within the 5 s poll).
while kill -0 "$SERVER_PID" 2>/dev/null && [ $(($(now) - t)) -lt "$BUILD_TIMEOUT" ]; do
    [ -n "$t_build" ] || ! grep -q 'serve-demo: \[2/3\]' "$WORK/serve.log" || t_build=$(now)
    [ -n "$t_start" ] || ! grep -q 'serve-demo: \[3/3\]' "$WORK/serve.log" || t_start=$(now)
    if grep -q 'hearth listening' "$WORK/serve.log"; then ready=true; break; fi
    sleep 5
done
build_line=$(grep -E '^ *Finished .dev. profile' "$WORK/serve.log" | tail -n 1 | sed 's/^ *//' || true)
say "serve-demo output (apt, cargo) is in $WORK/serve.log; ${build_line:-no build line}"
if [ -n "$t_build" ] && [ -n "$t_start" ]; then
    phases="packages $((t_build - t)) s, build $((t_start - t_build)) s (cargo: ${build_line##* in }), start $(($(now) - t_start)) s"
else
    phases="did not reach the build and the start"
fi
if $ready; then
    record "${COMMANDS[0]} until 'hearth listening': $phases" $(($(now) - t)) pass
else
    tail -n 30 "$WORK/serve.log" >&2
    record "${COMMANDS[0]} until 'hearth listening'" $(($(now) - t)) fail
fi

# 5. The walk-through from a second shell, as written; curl is wrapped only to print each status.
if $ready; then
    t=$(now)
    wrapper='curl() { command curl -w "\n[HTTP %{http_code}]\n" "$@"; }'
    out=$(in_root "$wrapper"$'\n'"$WALK" 2>&1) || true
    echo "$out" >"$WORK/walk.log"
    statuses=$(echo "$out" | sed -n 's/^\[HTTP \([0-9]*\)\]$/\1/p' | paste -sd/)
    say "walk-through answered ${statuses:-nothing} (output in $WORK/walk.log)"
    if [ "$statuses" = 201/200/200 ]; then result=pass; else result=fail; echo "$out" >&2; fi
    record "walk-through from a second shell: $statuses" $(($(now) - t)) $result
fi

# 6. Ctrl-C, then the second command.
if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    t=$(now)
    kill -INT -- "-$SERVER_PID"
    stopped=false
    for _ in $(seq 60); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then stopped=true; break; fi
        sleep 1
    done
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    if $stopped && grep -q 'stopped PostgreSQL' "$WORK/serve.log"; then result=pass; else result=fail; fi
    record "Ctrl-C: server exits and stops its cluster" $(($(now) - t)) $result
fi
t=$(now)
if in_root "${COMMANDS[1]}" >"$WORK/test.log" 2>&1; then result=pass; else result=fail; fi
counts=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$WORK/test.log")
test_build=$(grep -E '^ *Finished .test. profile' "$WORK/test.log" | tail -n 1 | sed 's/.* in //' || true)
[ $result = pass ] || tail -n 40 "$WORK/test.log" >&2
record "${COMMANDS[1]} ($counts; build ${test_build:-?})" $(($(now) - t)) $result

echo
echo "Fresh-machine check, finished $(date -u '+%Y-%m-%d %H:%M UTC'), commit ${COMMIT:0:7}, Debian $SUITE minbase from $MIRROR, $(nproc) cores, load average $LOAD_START at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end:"
echo
echo "| step | time | result |"
echo "|---|---|---|"
printf '%s\n' "${STEPS[@]}"
echo
if $FAILED; then
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
