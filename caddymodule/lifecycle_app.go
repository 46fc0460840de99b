package caddymodule

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(new(App))
}

// App starts the destinations of the config it belongs to. It needs no
// configuration: each amazon_capi handler loads it and registers its
// destination while it is provisioned, and Caddy starts it with the config
// (never for `caddy validate`, which only provisions). Starting a
// destination opens its spool, so validating a config has no side effects
// and works beside the Caddy that runs the same config.
type App struct {
	mu           sync.Mutex
	destinations []*liveDestination
	ctx          caddy.Context
}

// Provision keeps the config's context, to read the HTTP app at Start.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	return nil
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "amazon_capi",
		New: func() caddy.Module { return new(App) },
	}
}

// add registers a destination to start with the config.
func (a *App) add(d *liveDestination) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.destinations = append(a.destinations, d)
}

// Start opens the spool of every destination the config uses that is not
// running yet (one kept from the previous config runs already).
func (a *App) Start() error {
	a.warnAboutTheChain()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, d := range a.destinations {
		if err := d.start(); err != nil {
			return fmt.Errorf("amazon_capi: destination %s: %w", d.settings.label(), err)
		}
	}
	return nil
}

// warnAboutTheChain logs the amazon_capi blocks whose place among the
// site's handlers makes them useless or wrong (see checkChain). The HTTP
// app is complete only now: every module of the config is provisioned.
func (a *App) warnAboutTheChain() {
	if a.ctx.Context == nil {
		return
	}
	httpApp, err := a.ctx.AppIfConfigured("http")
	if err != nil {
		return
	}
	for name, srv := range httpApp.(*caddyhttp.App).Servers {
		p := checkChain(srv.Routes)
		for _, h := range p.unreachable {
			h.logger.Warn("this amazon_capi block comes after a handler that always answers (respond, file_server, reverse_proxy, error), so it never runs: put amazon_capi before it (its default directive order does) or remove the `order` that moved it",
				zap.String("server", name), zap.Strings("events", h.eventNames()))
		}
		for _, h := range p.last {
			h.logger.Warn("no handler comes after this amazon_capi block: every matched request gets Caddy's empty 200 and is counted as a conversion; add the site's handler (reverse_proxy, file_server, respond) after it",
				zap.String("server", name), zap.Strings("events", h.eventNames()))
		}
	}
}

// Stop does nothing: a destination stops when no loaded config uses it
// (the handlers' Cleanup), so that one kept across a reload never stops.
func (a *App) Stop() error { return nil }

// appOf returns the config's amazon_capi app; nil, with no error, when the
// handler is provisioned outside a Caddy config (a program or benchmark
// that builds its own caddy.Context, which has no config to hold apps):
// its destination then starts at once.
func appOf(ctx caddy.Context) (app *App, err error) {
	defer func() {
		if recover() != nil { // caddy.Context.App on a context without a config
			app, err = nil, nil
		}
	}()
	a, err := ctx.App("amazon_capi")
	if err != nil {
		return nil, err
	}
	return a.(*App), nil
}

// checkSpoolDir says whether the spool directory path could be created
// and written, without creating anything: the nearest existing folder on
// the way (path itself, if it exists) must be a writable directory.
func checkSpoolDir(path string) error {
	dir := path
	for {
		info, err := os.Stat(dir)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("spool directory: %s is not a directory", dir)
			}
			if !writable(dir) {
				return fmt.Errorf("spool directory: %s is not writable by this process; set spool to a folder it may write", dir)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("spool directory: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("spool directory: no folder of %s exists", path)
		}
		dir = parent
	}
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
)
