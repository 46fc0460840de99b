package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// page shows the match quality of the kept events per event name, then
// lists what arrived, newest first: the calls refused whole, then the
// events, each linked to its JSON. It shows match-key types only, never
// their values, account and client IDs only, never a token or secret, and
// loads nothing from elsewhere: its bars are plain HTML and CSS.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"join":   strings.Join,
	"number": func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) },
	"count": func(n *int) string {
		if n == nil {
			return "unknown"
		}
		return strconv.Itoa(*n)
	},
	"percent": percent,
	"width":   barWidth,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<title>Amazon Conversions API sandbox</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
tr.accepted td.verdict { color: #067d17; }
tr.rejected td.verdict { color: #b00020; font-weight: bold; }
tr.refused td.status { color: #b00020; font-weight: bold; }
.note { color: #555; }
code { font-size: .85rem; }
#quality td { white-space: nowrap; }
.meter { display: inline-flex; align-items: center; gap: .4rem; }
.bar { display: inline-block; width: 64px; height: .75rem; background: #e4e4e4; border-radius: 2px; overflow: hidden; }
.fill { display: block; height: 100%; background: #3a6fb0; }
td.coverage .fill { background: #067d17; }
td.coverage .pct { font-weight: bold; }
.pct { display: inline-block; min-width: 3em; text-align: right; font-variant-numeric: tabular-nums; }
.n, .sub { color: #666; font-size: .8rem; }
.kts { display: grid; grid-template-columns: 7.5em max-content; gap: .2rem .6rem; align-items: center; }
.kt { font-size: .8rem; }
tfoot td { border-top: 2px solid #bbb; font-weight: bold; }
</style>
</head>
<body>
<h1>Amazon Conversions API sandbox</h1>
<p class="note" id="not-amazon">This is a local sandbox, not Amazon: it validates events as Amazon's schema says and sends nothing anywhere. This page refreshes every 2 seconds.</p>
<p id="stats">Calls: <span id="stat-requests">{{.Stats.Requests}}</span> · events: <span id="stat-events">{{.Stats.Events}}</span> · accepted: <span id="stat-accepted">{{.Stats.Accepted}}</span> · rejected: <span id="stat-rejected">{{.Stats.Rejected}}</span> · tokens issued: <span id="stat-token-grants">{{.Stats.TokenGrants}}</span></p>
<h2>Match quality</h2>
<p class="note" id="quality-counted">Per event name, over the kept events (the last {{.Keep}}), accepted and rejected alike: the share of events carrying each signal Amazon matches on. A match key counts when it has a non-empty value; an IP is a FIP match key or consent.geo.ipAddress; a click token is v2 arefMeasurementTokens or v1 amazonClickId; v1 has no user agent. Counts and shares only, never a value. As JSON: <code>/sandbox/quality</code>.</p>
<p id="coverage-formula"><strong>Coverage score</strong> = share of events with an EMAIL or PHONE match key or a click token.</p>
<table id="quality">
<thead><tr><th>event</th><th>events</th><th>coverage score</th><th>hashed (PII) key</th><th>click token</th><th>IP</th><th>user agent</th><th>match keys by type</th></tr></thead>
<tbody>
{{range .Quality.Names}}<tr class="quality" data-name="{{.Name}}">
<td class="name">{{if .Name}}{{.Name}}{{else}}<em>(no name)</em>{{end}}</td>
{{template "figures" .Figures}}
</tr>
{{else}}<tr id="no-quality"><td colspan="8">No event kept yet.</td></tr>
{{end}}</tbody>
{{if gt (len .Quality.Names) 1}}<tfoot><tr class="quality all">
<td class="name">all events</td>
{{template "figures" .Quality.All}}
</tr></tfoot>
{{end}}</table>
<h2>Calls refused whole</h2>
<p class="note">Calls to the events endpoints answered with an error status instead of 207, so that none of their events was validated: a bad token, a wrong account or client, a missing header, a malformed body, no or too many events, a body too large, an injected fault. Only the account and client IDs sent are shown, never a token or secret.</p>
<table id="refused">
<thead><tr><th>time</th><th>API</th><th>status</th><th>code</th><th>message</th><th>events in the call</th><th>account ID</th><th>client ID</th></tr></thead>
<tbody>
{{range .Refused}}<tr class="refused{{if .Fault}} fault{{end}}" data-api="{{.API}}" data-status="{{.Status}}" data-code="{{.Code}}">
<td class="time">{{.Time.Format "2006-01-02 15:04:05.000"}}</td><td class="api">{{.API}}</td><td class="status">{{.Status}}</td><td class="code">{{.Code}}</td>
<td class="message">{{.Message}}</td><td class="event-count">{{count .EventCount}}</td>
<td class="account"><code>{{.AccountID}}</code></td><td class="client"><code>{{.ClientID}}</code></td>
</tr>
{{else}}<tr id="none-refused"><td colspan="8">No call has been refused whole.</td></tr>
{{end}}</tbody>
</table>
<h2>Events</h2>
<p class="note">Each event's number links to it as JSON: its verdict and the event as received.</p>
<table id="events">
<thead><tr><th>#</th><th>time</th><th>API</th><th>event</th><th>conversion type</th><th>eventId</th><th>match keys</th><th>value</th><th>verdict</th><th>errors</th></tr></thead>
<tbody>
{{range .Events}}<tr class="event {{if .Accepted}}accepted{{else}}rejected{{end}}" data-event-id="{{.EventID}}" data-api="{{.API}}" data-index="{{.Index}}">
<td class="number"><a class="json" href="{{$.EventBase}}{{.Number}}">{{.Number}}</a></td><td class="time">{{.Time.Format "2006-01-02 15:04:05.000"}}</td><td class="api">{{.API}}</td><td class="name">{{.Name}}</td><td class="type">{{.ConversionType}}</td>
<td class="event-id"><code>{{.EventID}}</code></td><td class="keys">{{join .MatchKeyTypes ", "}}</td>
<td class="value">{{with .Value}}{{number .}}{{end}} {{.Currency}}</td>
<td class="verdict">{{if .Accepted}}accepted{{else}}rejected{{end}}</td>
<td class="errors">{{range .Errors}}<div class="error" data-code="{{.Code}}"><code>{{.FieldLocation}}</code> {{.Code}}: {{.Message}}</div>{{end}}</td>
</tr>
{{else}}<tr id="empty"><td colspan="10">Nothing has arrived yet.</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
{{define "figures"}}<td class="events">{{.Events}}<div class="sub">{{.Accepted}} accepted · {{.Rejected}} rejected</div></td>
<td class="share coverage">{{template "bar" .CoverageScore}}</td>
<td class="share hashed">{{template "bar" .HashedKey}}</td>
<td class="share click">{{template "bar" .ClickToken}}</td>
<td class="share ip">{{template "bar" .IP}}</td>
<td class="share user-agent">{{template "bar" .UserAgent}}</td>
<td class="keys">{{if .MatchKeys}}<div class="kts">{{range .MatchKeys}}<span class="kt">{{.Type}}</span>{{template "bar" .Portion}}{{end}}</div>{{else}}<span class="n">none</span>{{end}}</td>
{{end}}
{{define "bar"}}<span class="meter" data-events="{{.Events}}" data-share="{{.Share}}" title="{{.Events}} {{if eq .Events 1}}event{{else}}events{{end}}"><span class="bar"><span class="fill" style="width: {{width .}}%"></span></span><span class="pct">{{percent .}}</span></span>{{end}}
`))

// servePage renders the page.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	var buf bytes.Buffer
	events := s.Received()
	err := page.Execute(&buf, struct {
		Stats     Stats
		Quality   Quality
		Keep      int
		Refused   []Refused
		Events    []Received
		EventBase string
	}{s.Stats(), qualityOf(events), s.cfg.Keep, s.Refused(), events, eventLinkBase(r)})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "could not render the page")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// eventLinkBase is how the page's links to one event start: a URL relative
// to the page, so that they also work when the sandbox is mounted under a
// prefix that is stripped before it (the page at /, /sandbox or /sandbox/
// of the mount point).
func eventLinkBase(r *http.Request) string {
	switch r.URL.Path {
	case "/sandbox/":
		return "events/"
	case "":
		// The whole path was stripped: the browser is at …/prefix, with no
		// slash, so the links must name the prefix's last segment again.
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			p := u.EscapedPath()
			if seg := p[strings.LastIndex(p, "/")+1:]; seg != "" {
				return "./" + seg + "/sandbox/events/"
			}
		}
	}
	return "sandbox/events/"
}
