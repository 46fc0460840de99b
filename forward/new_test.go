package forward

// New starts a forwarder that spools into spool and sends through sender
// until Stop (the tests' shortcut for NewDeferred and Start).
func New(cfg Config, sender Sender, spool *Spool) *Forwarder {
	f := newForwarder(cfg, sender)
	f.begin(spool)
	return f
}
