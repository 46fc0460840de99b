package sandbox

import (
	"html/template"
	"net/http"
	"strings"
)

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"join": strings.Join,
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
tr.rejected td.verdict { color: #b00020; }
.note { color: #555; }
code { font-size: .85rem; }
</style>
</head>
<body>
<h1>Amazon Conversions API sandbox</h1>
<p class="note">A local stand-in for Amazon: nothing here is sent to Amazon. This page refreshes every 2 seconds.</p>
<p id="stats">Calls: {{.Stats.Requests}} · events: {{.Stats.Events}} · accepted: {{.Stats.Accepted}} · rejected: {{.Stats.Rejected}} · tokens issued: {{.Stats.TokenGrants}}</p>
<table id="events">
<thead><tr><th>time</th><th>API</th><th>event</th><th>type</th><th>eventId</th><th>match keys</th><th>value</th><th>verdict</th><th>errors</th></tr></thead>
<tbody>
{{range .Events}}<tr class="event {{if .Accepted}}accepted{{else}}rejected{{end}}" data-event-id="{{.EventID}}">
<td>{{.Time.Format "15:04:05.000"}}</td><td>{{.API}}</td><td class="name">{{.Name}}</td><td class="type">{{.ConversionType}}</td>
<td class="event-id"><code>{{.EventID}}</code></td><td class="keys">{{join .MatchKeyTypes ", "}}</td>
<td class="value">{{with .Value}}{{.}}{{end}} {{.Currency}}</td>
<td class="verdict">{{if .Accepted}}accepted{{else}}rejected{{end}}</td>
<td class="errors">{{range .Errors}}<div><code>{{.FieldLocation}}</code> {{.Code}}: {{.Message}}</div>{{end}}</td>
</tr>
{{else}}<tr><td colspan="9">Nothing has arrived yet.</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// servePage renders the list of received events, newest first. It shows
// match-key types only, never their values.
func (s *Server) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, struct {
		Stats  Stats
		Events []Received
	}{s.Stats(), s.Received()})
}
