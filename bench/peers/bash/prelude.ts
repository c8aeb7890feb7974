/**
 * The bash functions every step of the plain-script peer (bash.ts) calls, sent at the top
 * of each script: a file written only when it differs (`peer_file`), a unit enabled,
 * started, restarted or reloaded and proven ready as django-fleet proves it (`peer_service`).
 */

/** Seconds a started unit may take to answer on its port (the dev stack's READY_TIMEOUT_SECONDS). */
const READY_TIMEOUT_SECONDS = 30;

/**
 * The helpers every step uses. `peer_changed` holds what this run changed (file ids, step
 * ids, units); services and reruns are decided from it.
 */
export const PRELUDE = `# Command substitutions stop at a failure too (bash clears -e in them otherwise).
shopt -s inherit_errexit
declare -A peer_changed=()
peer_tmp=""
trap 'rm -f -- "$peer_tmp"' EXIT
peer_acted=untouched
peer_mark() { peer_changed[$1]=1; }
peer_any() { local id; for id in "$@"; do if [ -n "\${peer_changed[$id]:-}" ]; then return 0; fi; done; return 1; }
peer_flag() { if peer_any "$@"; then echo 1; else echo 0; fi; }
# peer_file ID PATH MODE OWNER GROUP NO_NEWLINE <<content: replaced (atomically) only when it differs.
peer_file() {
  local id=$1 p=$2 mode=$3 owner=$4 group=$5 nonl=$6 d
  d=$(dirname -- "$p")
  if [ ! -d "$d" ]; then install -d -m 0755 -- "$d"; fi
  peer_tmp=$(mktemp "$p.peer.XXXXXX")
  cat >"$peer_tmp"
  if [ "$nonl" = 1 ]; then truncate -s -1 -- "$peer_tmp"; fi
  if [ -f "$p" ] && cmp -s -- "$peer_tmp" "$p" && [ "$(stat -c '%a %U %G' -- "$p")" = "\${mode#0} $owner $group" ]; then
    rm -f -- "$peer_tmp"; peer_tmp=""; return 0
  fi
  chown -- "$owner:$group" "$peer_tmp"
  chmod -- "$mode" "$peer_tmp"
  mv -f -- "$peer_tmp" "$p"
  peer_tmp=""
  peer_mark "$id"
}
peer_running() { systemctl is-active --quiet -- "$1" && [ "$(systemctl show -p NRestarts --value -- "$1")" = "$2" ]; }
peer_down() { echo "$1 $2" >&2; journalctl -u "$1" -n 25 --no-pager -o cat >&2 || true; exit 1; }
peer_probe() {
  if [ "$3" = 1 ]; then
    timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/fleet-ready-probe\\r\\n\\r\\n" >&3 && IFS= read -r l <&3 && [[ $l == HTTP/* ]]' "$1" "$2" 2>/dev/null
  else
    timeout 2 bash -c ': 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
  fi
}
peer_do() { systemctl "$1" -- "$2" || { sleep 2; systemctl "$1" -- "$2"; } || { journalctl -u "$2" -n 25 --no-pager -o cat >&2; exit 1; }; }
# peer_service UNIT RESTART RELOAD DAEMON_RELOAD HOST PORT HTTP: enabled, running, restarted or
# reloaded as asked, then proven ready as django-fleet proves it (port answers; else stays up).
peer_service() {
  local u=$1 restart=$2 reload=$3 dr=$4 host=$5 port=$6 http=$7 n0=0 end _
  peer_acted=untouched
  if [ "$dr" = 1 ]; then systemctl daemon-reload; fi
  case "$(systemctl is-enabled -- "$u" 2>/dev/null || true)" in
    enabled|enabled-runtime|static|indirect|alias|generated|linked) ;;
    *) systemctl enable --quiet -- "$u"; peer_mark "$u" ;;
  esac
  if ! systemctl is-active --quiet -- "$u"; then peer_do start "$u"; peer_acted=started
  elif [ "$restart" = 1 ]; then peer_do restart "$u"; peer_acted=started
  elif [ "$reload" = 1 ]; then peer_do reload-or-restart "$u"; peer_acted=reloaded
  fi
  if [ "$peer_acted" != untouched ]; then peer_mark "$u"; fi
  if [ "$peer_acted" != started ]; then n0=$(systemctl show -p NRestarts --value -- "$u"); fi
  if [ "$peer_acted" = reloaded ] || { [ "$peer_acted" = started ] && [ -z "$port" ]; }; then
    case "$(systemctl show -p Type --value -- "$u")" in
      simple|exec|idle) for _ in 1 2 3 4 5 6; do sleep 0.25; peer_running "$u" "$n0" || peer_down "$u" 'did not stay running:'; done ;;
    esac
  fi
  if [ -n "$port" ] && [ "$peer_acted" != untouched ]; then
    end=$((SECONDS + ${READY_TIMEOUT_SECONDS}))
    until peer_probe "$host" "$port" "$http"; do
      peer_running "$u" "$n0" || peer_down "$u" "stopped before it answered on $host:$port:"
      [ "$SECONDS" -lt "$end" ] || peer_down "$u" "did not answer on $host:$port within ${READY_TIMEOUT_SECONDS} s:"
      sleep 0.25
    done
  fi
  peer_running "$u" "$n0" || peer_down "$u" 'is not running:'
}
`;
