package notify

// The templates of every message, one source for both languages: the
// words come from {{t "key"}}. Text first, then HTML (auto-escaped by
// html/template; no value is ever marked safe).

const textSource = `
{{- define "event" -}}
{{.Subject}}

{{t "intro"}}

{{t "when"}}: {{.V.WhenUTC}} ({{.V.WhenISO}})
{{t "who"}}: {{.V.User}}
{{t "type"}}: {{.V.Type}}
{{t "module"}}: {{.V.Module}}
{{t "records"}}: {{.V.Records}}
{{- if .V.ReportName}}
{{t "report"}}: {{.V.ReportName}}{{end}}
{{t "ip"}}: {{.V.IP}}
{{t "user_agent"}}: {{.V.UserAgent}}
{{t "source"}}: {{.V.Source}}
{{t "event_id"}}: {{.V.ID}}
{{- if .V.Recipients}}

{{t "recipients"}}:
{{- range .V.Recipients}}
- {{.Email}}{{if .Name}} ({{.Name}}){{end}}{{if .External}} [{{t "external"}}]{{end}}
{{- end}}
{{- end}}

{{t "rules"}}:
{{- range .V.Matches}}
- {{.Rule}} ({{t "severity"}}: {{.Severity}}): {{.Reason}}
{{- else}} {{t "no_rules"}}{{end}}
{{- if .V.AttachmentNote}}

{{.V.AttachmentNote}}{{end}}
{{- if .V.Link}}

{{t "open"}}: {{.V.Link}}{{end}}

-- 
{{t "footer"}}
{{end}}

{{- define "summary" -}}
{{.Subject}}

{{t "summary_intro"}}
{{range .V.Items}}
- {{.When}}  {{.User}}  {{.Type}}  {{.Module}}  {{.Records}}{{if .Link}}
  {{.Link}}{{end}}
{{- end}}
{{- if .V.More}}
- ... {{num .V.More}} {{t "summary_more"}}{{end}}

-- 
{{t "footer"}}
{{end}}

{{- define "digest" -}}
{{.Subject}}

{{t "digest_intro"}} {{.V.Day}} ({{t "digest_tz"}} {{.V.TZ}})

== {{t "per_user"}} ==
{{- range .V.PerUser}}
- {{.User}} / {{.Module}}: {{t "events"}} {{num .Events}}, {{t "records_lc"}} {{num .Records}}
{{- else}}
{{t "nothing"}}{{end}}

== {{t "top"}} ==
{{- range .V.Top}}
- {{.User}}: {{num .Records}} {{t "day_records"}}; {{if .New}}{{t "new_exporter"}}{{else}}{{t "avg"}} {{.Avg}}, {{t "ratio"}} x{{.Ratio}}{{end}}
{{- else}}
{{t "none"}}{{end}}

== {{t "external_sched"}} ==
{{- range .V.External}}
- {{.When}}  {{.Report}}  ({{.User}}, {{.Module}}, {{.Records}}): {{range $i, $e := .To}}{{if $i}}, {{end}}{{$e}}{{end}}
{{- else}}
{{t "none"}}{{end}}

-- 
{{t "footer"}}
{{end}}
`

const htmlSource = `
{{- define "head" -}}
<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 16px;">{{.Subject}}</h2>
{{- end}}

{{- define "foot" -}}
<p style="color: #777; font-size: 12px;">{{t "footer"}}</p>
</body></html>
{{- end}}

{{- define "event" -}}
{{template "head" .}}
<p>{{t "intro"}}</p>
<table cellpadding="4" style="border-collapse: collapse;">
<tr><th align="left">{{t "when"}}</th><td>{{.V.WhenUTC}} <span style="color:#777">({{.V.WhenISO}})</span></td></tr>
<tr><th align="left">{{t "who"}}</th><td>{{.V.User}}</td></tr>
<tr><th align="left">{{t "type"}}</th><td>{{.V.Type}}</td></tr>
<tr><th align="left">{{t "module"}}</th><td>{{.V.Module}}</td></tr>
<tr><th align="left">{{t "records"}}</th><td>{{.V.Records}}</td></tr>
{{- if .V.ReportName}}
<tr><th align="left">{{t "report"}}</th><td>{{.V.ReportName}}</td></tr>{{end}}
<tr><th align="left">{{t "ip"}}</th><td>{{.V.IP}}</td></tr>
<tr><th align="left">{{t "user_agent"}}</th><td>{{.V.UserAgent}}</td></tr>
<tr><th align="left">{{t "source"}}</th><td>{{.V.Source}}</td></tr>
<tr><th align="left">{{t "event_id"}}</th><td>{{.V.ID}}</td></tr>
</table>
{{- if .V.Recipients}}
<h3 style="font-size: 14px;">{{t "recipients"}}</h3>
<ul>
{{- range .V.Recipients}}
<li>{{.Email}}{{if .Name}} ({{.Name}}){{end}}{{if .External}} <strong style="color:#b00">{{t "external"}}</strong>{{end}}</li>
{{- end}}
</ul>
{{- end}}
<h3 style="font-size: 14px;">{{t "rules"}}</h3>
{{- if .V.Matches}}
<ul>
{{- range .V.Matches}}
<li><strong>{{.Rule}}</strong> ({{t "severity"}}: {{.Severity}}): {{.Reason}}</li>
{{- end}}
</ul>
{{- else}}
<p>{{t "no_rules"}}</p>
{{- end}}
{{- if .V.AttachmentNote}}
<p>{{.V.AttachmentNote}}</p>{{end}}
{{- if .V.Link}}
<p><a href="{{.V.Link}}">{{t "open"}}</a></p>{{end}}
{{template "foot" .}}
{{end}}

{{- define "summary" -}}
{{template "head" .}}
<p>{{t "summary_intro"}}</p>
<table cellpadding="4" style="border-collapse: collapse;">
<tr><th align="left">{{t "when"}}</th><th align="left">{{t "who"}}</th><th align="left">{{t "type"}}</th><th align="left">{{t "module"}}</th><th align="right">{{t "records"}}</th></tr>
{{- range .V.Items}}
<tr><td>{{if .Link}}<a href="{{.Link}}">{{.When}}</a>{{else}}{{.When}}{{end}}</td><td>{{.User}}</td><td>{{.Type}}</td><td>{{.Module}}</td><td align="right">{{.Records}}</td></tr>
{{- end}}
</table>
{{- if .V.More}}
<p>... {{num .V.More}} {{t "summary_more"}}</p>{{end}}
{{template "foot" .}}
{{end}}

{{- define "digest" -}}
{{template "head" .}}
<p>{{t "digest_intro"}} {{.V.Day}} ({{t "digest_tz"}} {{.V.TZ}})</p>
<h3 style="font-size: 14px;">{{t "per_user"}}</h3>
{{- if .V.PerUser}}
<table cellpadding="4" style="border-collapse: collapse;">
<tr><th align="left">{{t "who"}}</th><th align="left">{{t "module"}}</th><th align="right">{{t "events"}}</th><th align="right">{{t "records"}}</th></tr>
{{- range .V.PerUser}}
<tr><td>{{.User}}</td><td>{{.Module}}</td><td align="right">{{num .Events}}</td><td align="right">{{num .Records}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{t "nothing"}}</p>
{{- end}}
<h3 style="font-size: 14px;">{{t "top"}}</h3>
{{- if .V.Top}}
<table cellpadding="4" style="border-collapse: collapse;">
<tr><th align="left">{{t "who"}}</th><th align="right">{{t "day_records"}}</th><th align="right">{{t "avg"}}</th><th align="right">{{t "ratio"}}</th></tr>
{{- range .V.Top}}
<tr><td>{{.User}}</td><td align="right">{{num .Records}}</td>{{if .New}}<td colspan="2">{{t "new_exporter"}}</td>{{else}}<td align="right">{{.Avg}}</td><td align="right">x{{.Ratio}}</td>{{end}}</tr>
{{- end}}
</table>
{{- else}}
<p>{{t "none"}}</p>
{{- end}}
<h3 style="font-size: 14px;">{{t "external_sched"}}</h3>
{{- if .V.External}}
<ul>
{{- range .V.External}}
<li>{{.When}} <strong>{{.Report}}</strong> ({{.User}}, {{.Module}}, {{.Records}}): {{range $i, $e := .To}}{{if $i}}, {{end}}{{$e}}{{end}}</li>
{{- end}}
</ul>
{{- else}}
<p>{{t "none"}}</p>
{{- end}}
{{template "foot" .}}
{{end}}
`
