package caddymodule

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// statusPage is the operator's page on Caddy's admin endpoint (never on
// the site): per destination, delivery at a glance and how matchable each
// event name's events are, with bars. It shows counts and shares only,
// never a value of a request.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"pct":  formatPercent,
	"when": formatWhen,
	"width": func(f float64) template.CSS {
		return template.CSS("width:" + formatPercent(f))
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amazon_capi status</title>
<meta http-equiv="refresh" content="10">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:middle}
th{background:#f4f4f4}
.bar{display:inline-block;width:8em;height:.8em;background:#eee;vertical-align:middle;margin-right:.4em}
.bar span{display:block;height:100%;background:#2a7}
.low .bar span{background:#d64}
small{color:#666}
</style></head><body>
<h1>amazon_capi</h1>
<p><small>Refreshes every 10 s. Coverage score: {{.Formula}}. Figures since the destination started.</small></p>
{{range .Destinations}}
<h2>{{.Status.Destination}} <small>({{.Status.API}}{{if .Status.DryRun}}, dry run{{end}})</small></h2>
<table><tr><th>matched</th><th>invalid</th><th>queued</th><th>deduped</th><th>dropped</th>{{with .Status.Forwarder}}<th>sent</th><th>rejected</th><th>waiting</th><th>last error</th>{{end}}</tr>
<tr><td>{{.Status.Matched}}</td><td>{{.Status.Invalid}}{{range .Status.InvalidBy}}<br><small class="invalid-by">{{.Event}} {{.Field}}: {{.Reason}} {{.Count}}</small>{{end}}</td><td>{{.Status.Queued}}</td><td>{{.Status.Deduped}}</td><td>{{.Status.Dropped}}</td>{{with .Status.Forwarder}}<td>{{.Sent}}</td><td>{{.Rejected}}</td><td>{{.QueueDepth}}</td><td>{{if .LastError}}<span class="{{if .LastErrorPast}}past{{else}}current{{end}}" style="color:{{if .LastErrorPast}}#888{{else}}#c00{{end}}">{{.LastError}}<br><small>{{when .LastErrorAt}}{{if .LastErrorPast}} — past: Amazon took a batch since{{end}}</small></span>{{end}}<br><small>last success: {{if .LastSuccess.IsZero}}none yet{{else}}{{when .LastSuccess}}{{end}}</small>{{if .SpoolSyncFailures}}<br><b style="color:#c00">spool fsync failed {{.SpoolSyncFailures}}× (check the disk)</b>{{end}}{{range $reason, $n := .SpoolLostEvents}}{{if $n}}<br><b class="lost" style="color:#c00">{{$n}} events lost in the spool ({{$reason}}: see the error log)</b>{{end}}{{end}}</td>{{end}}</tr></table>
{{with .Status.Fleet}}<h3>Fleet (NATS stream {{.Stream}})</h3>
<table><tr><th>shipped</th><th>duplicates</th><th>ship errors</th><th>delivered here</th><th>dead-lettered here</th><th>in the stream</th><th>not taken yet</th><th>out to replicas</th><th>redelivered</th><th>dead letters</th></tr>
<tr class="fleet"><td>{{.Ship.Shipped}}</td><td>{{.Ship.Duplicates}}</td><td>{{.Ship.Errors}}</td><td>{{.Deliver.Delivered}}</td><td>{{.Deliver.DeadLettered}}</td>{{if .Queue.Err}}<td colspan="5" style="color:#c00">NATS: {{.Queue.Err}}</td>{{else}}<td>{{.Queue.Messages}}</td><td>{{.Queue.Pending}}</td><td>{{.Queue.AckPending}}</td><td>{{.Queue.Redelivered}}</td><td>{{.Queue.DeadLetters}}</td>{{end}}</tr></table>
<p><small>In fleet mode, "sent" above counts events shipped into the stream; any replica delivers them to Amazon.</small></p>{{end}}
<h3>Every confirmed order accounted for</h3>
{{if not .Reconciliation}}<p>Nothing confirmed yet.</p>{{else}}
<table><tr><th>event</th><th>confirmed</th><th>carried over</th><th>replayed</th><th>invalid</th><th>deduped</th><th>dropped</th><th>sent</th><th>dead-lettered (by reason)</th><th>lost in the spool</th><th>pending</th><th>unaccounted</th></tr>
{{range .Reconciliation}}<tr class="reconciliation"><td>{{.Event}}</td><td>{{.Confirmed}}</td><td>{{.CarriedOver}}</td><td>{{.Replayed}}</td><td>{{.Invalid}}</td><td>{{.Deduped}}</td><td>{{.Dropped}}</td><td>{{.Sent}}</td>
<td>{{.DeadLettered}}{{range $reason, $n := .Rejected}}<br><small>{{$reason}} {{$n}}</small>{{end}}</td><td{{if .LostInSpool}} style="color:#c00;font-weight:bold"{{end}}>{{.LostInSpool}}</td><td>{{.Pending}}</td><td{{if ne .Unaccounted 0}} style="color:#c00;font-weight:bold"{{end}}>{{.Unaccounted}}</td></tr>
{{end}}</table>{{end}}
<h3>Match quality</h3>
{{if not .Quality}}<p>No event built yet.</p>{{else}}
<table><tr><th>event</th><th>events</th><th>coverage score</th><th>hashed key</th><th>click token</th><th>IP</th><th>user agent</th><th>match keys (share; rejected as invalid)</th></tr>
{{range .Quality}}<tr class="quality{{if lt .CoverageScore.Share 0.5}} low{{end}}">
<td>{{.Name}}</td><td>{{.Events}}</td>
<td><span class="bar"><span style="{{width .CoverageScore.Share}}"></span></span>{{pct .CoverageScore.Share}}</td>
<td><span class="bar"><span style="{{width .HashedKey.Share}}"></span></span>{{pct .HashedKey.Share}}</td>
<td><span class="bar"><span style="{{width .ClickToken.Share}}"></span></span>{{pct .ClickToken.Share}}</td>
<td>{{pct .IP.Share}}</td><td>{{pct .UserAgent.Share}}</td>
<td>{{range .MatchKeys}}{{.Type}} {{pct .Share.Share}}{{if .Invalid}} ({{.Invalid}} invalid){{end}}<br>{{end}}</td></tr>
{{end}}</table>{{end}}
{{else}}<p>No amazon_capi destination is loaded.</p>{{end}}
<p><small>{{.Now}} · JSON: <a href="/amazon_capi/">/amazon_capi/</a>, <a href="/amazon_capi/quality">/amazon_capi/quality</a></small></p>
</body></html>`))

// formatWhen writes a moment as UTC time and how long ago it was.
func formatWhen(t time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + time.Since(t).Round(time.Second).String() + " ago)"
}

// formatPercent writes a share (0 to 1) as a whole percent.
func formatPercent(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" }

type statusDestination struct {
	Status         DestinationStatus
	Reconciliation []Reconciliation
	Quality        []EventQuality
}

func serveStatusPage(w http.ResponseWriter) error {
	var data struct {
		Formula      string
		Now          string
		Destinations []statusDestination
	}
	data.Formula, data.Now = coverageFormula, time.Now().UTC().Format(time.RFC3339)
	for _, d := range liveDestinations() {
		data.Destinations = append(data.Destinations, statusDestination{Status: d.status(), Reconciliation: d.reconcile(), Quality: d.quality.report()})
	}
	var page bytes.Buffer
	if err := statusPage.Execute(&page, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := w.Write(page.Bytes())
	return err
}
