package caddymodule

import (
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// liveCore lets a destination, which outlives the config that created it,
// log through ctx.Logger() of the newest config that uses it: each
// Provision points it at that config's logger, so a reload that changes
// Caddy's logging moves the destination's logs too, and no log goes to a
// writer an old config has closed.
type liveCore struct {
	current *atomic.Pointer[zapcore.Core]
	fields  []zapcore.Field
}

func newLiveLogger(initial *zap.Logger) (*zap.Logger, *atomic.Pointer[zapcore.Core]) {
	p := new(atomic.Pointer[zapcore.Core])
	core := initial.Core()
	p.Store(&core)
	// The core carries no name: keep the config logger's, so that the
	// destination's and the forwarder's lines say http.handlers.amazon_capi.
	return zap.New(liveCore{current: p}).Named(initial.Name()), p
}

func (c liveCore) core() zapcore.Core { return *c.current.Load() }

// Enabled asks the current core.
func (c liveCore) Enabled(l zapcore.Level) bool { return c.core().Enabled(l) }

// With keeps the fields, to be added to the current core at write time.
func (c liveCore) With(fields []zapcore.Field) zapcore.Core {
	return liveCore{current: c.current, fields: append(c.fields[:len(c.fields):len(c.fields)], fields...)}
}

// Check adds this core when the current one would log the entry.
func (c liveCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write writes through the current core.
func (c liveCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	return c.core().With(c.fields).Write(e, fields)
}

// Sync syncs the current core.
func (c liveCore) Sync() error { return c.core().Sync() }
