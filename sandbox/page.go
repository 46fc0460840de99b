package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// page lists what arrived, newest first. It shows match-key types only,
// never their values, and loads nothing from elsewhere.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"join":   strings.Join,
	"number": func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) },
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
.note { color: #555; }
code { font-size: .85rem; }
</style>
</head>
<body>
<h1>Amazon Conversions API sandbox</h1>
<p class="note" id="not-amazon">This is a local sandbox, not Amazon: it validates events as Amazon's schema says and sends nothing anywhere. This page refreshes every 2 seconds.</p>
<p id="stats">Calls: <span id="stat-requests">{{.Stats.Requests}}</span> · events: <span id="stat-events">{{.Stats.Events}}</span> · accepted: <span id="stat-accepted">{{.Stats.Accepted}}</span> · rejected: <span id="stat-rejected">{{.Stats.Rejected}}</span> · tokens issued: <span id="stat-token-grants">{{.Stats.TokenGrants}}</span></p>
<table id="events">
<thead><tr><th>time</th><th>API</th><th>event</th><th>conversion type</th><th>eventId</th><th>match keys</th><th>value</th><th>verdict</th><th>errors</th></tr></thead>
<tbody>
{{range .Events}}<tr class="event {{if .Accepted}}accepted{{else}}rejected{{end}}" data-event-id="{{.EventID}}" data-api="{{.API}}" data-index="{{.Index}}">
<td class="time">{{.Time.Format "2006-01-02 15:04:05.000"}}</td><td class="api">{{.API}}</td><td class="name">{{.Name}}</td><td class="type">{{.ConversionType}}</td>
<td class="event-id"><code>{{.EventID}}</code></td><td class="keys">{{join .MatchKeyTypes ", "}}</td>
<td class="value">{{with .Value}}{{number .}}{{end}} {{.Currency}}</td>
<td class="verdict">{{if .Accepted}}accepted{{else}}rejected{{end}}</td>
<td class="errors">{{range .Errors}}<div class="error" data-code="{{.Code}}"><code>{{.FieldLocation}}</code> {{.Code}}: {{.Message}}</div>{{end}}</td>
</tr>
{{else}}<tr id="empty"><td colspan="9">Nothing has arrived yet.</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// servePage renders the page.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	var buf bytes.Buffer
	err := page.Execute(&buf, struct {
		Stats  Stats
		Events []Received
	}{s.Stats(), s.Received()})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "could not render the page")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
