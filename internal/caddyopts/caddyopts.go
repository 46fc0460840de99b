// Package caddyopts reads the values of Caddyfile options the same way for
// every handler of the project (amazon_capi and the sandbox's), with the
// same errors: each names the option and says what it takes.
package caddyopts

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// One reads the option's one value into target.
func One(d *caddyfile.Dispenser, target *string) error {
	name := d.Val()
	args := d.RemainingArgs()
	if len(args) != 1 {
		return d.Errf("%s takes exactly one value", name)
	}
	*target = args[0]
	return nil
}

// Duration reads the option's one value as a positive duration.
func Duration(d *caddyfile.Dispenser, target *caddy.Duration) error {
	name := d.Val()
	var arg string
	if err := One(d, &arg); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(arg)
	if err != nil || dur <= 0 {
		return d.Errf("%s: %q is not a duration such as 1s", name, arg)
	}
	*target = caddy.Duration(dur)
	return nil
}

// Count reads the option's one value as a whole number, 0 or more.
func Count(d *caddyfile.Dispenser, target *int) error {
	name := d.Val()
	var arg string
	if err := One(d, &arg); err != nil {
		return err
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		return d.Errf("%s: %q is not a whole number", name, arg)
	}
	*target = n
	return nil
}

// Suggest is "; did you mean <option>?" when an option of names is close
// to name, else "".
func Suggest(name string, names amazon.Enum) string {
	if near := names.Nearest(name); near != "" {
		return "; did you mean " + near + "?"
	}
	return ""
}
