# Shared by the bench scripts (source it; it runs nothing by itself).

# need_wrk installs wrk from Debian when it is missing.
need_wrk() {
	command -v wrk >/dev/null 2>&1 && return
	echo "installing wrk (Debian)…"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}

# free_ports N prints the first of N consecutive loopback ports nobody
# listens on.
free_ports() {
	local base p taken
	while :; do
		base=$((20000 + RANDOM % 20000)) taken=
		for p in $(seq "$base" $((base + $1 - 1))); do
			(: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null && taken=1 && break
		done
		[ -z "$taken" ] && echo "$base" && return
	done
}

# globals ADMIN prints the global options of a bench Caddyfile; ADMIN is the
# admin listener's port, or "off".
globals() {
	local admin="admin off"
	[ "$1" != off ] && admin="admin 127.0.0.1:$1"
	cat <<CONF
{
	$admin
	persist_config off
	default_bind 127.0.0.1
	auto_https off
	log {
		level ERROR
	}
}
CONF
}

# capi ENDPOINT-PORT ACCOUNT SPOOL-DIR prints the module's block with the
# checkout event every speed bench measures: a 1 KiB JSON body, three match
# keys. (caddymodule/bench_test.go has the same rule for the Go benchmark.)
capi() {
	cat <<CONF
	amazon_capi {
		endpoint       http://127.0.0.1:$1
		token_url      http://127.0.0.1:$1/auth/o2/token
		account_id     $2
		client_id      c
		client_secret  s
		refresh_token  r
		spool          $3
		event purchase {
			match {
				method POST
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			value     body.order.total
			currency  body.order.currency
			units_sold body.items.#.qty|@sum
			country   body.shipping.country
			match_key EMAIL body.customer.email
			match_key PHONE body.customer.phone
			match_key FIP   request.remote_ip
		}
	}
CONF
}

# checkout_lua FILE writes the wrk script that posts the checkout, as a
# single-page shop posts it.
checkout_lua() {
	local pad
	pad=$(printf 'x%.0s' $(seq 1 700))
	cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"$pad"}'
LUA
}

# cpu PID prints the process's CPU time so far (user + system), in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# median prints the median of the numbers on stdin, one per line.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
