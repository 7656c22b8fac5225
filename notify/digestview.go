package notify

import (
	"fmt"
	"strconv"
)

type digestView struct {
	Day, TZ  string
	PerUser  []DigestUsage
	Top      []digestTopView
	External []digestExternalView
}

type digestTopView struct {
	User       string
	Records    int64
	Avg, Ratio string
	New        bool
}

type digestExternalView struct {
	When, Report, User, Module, Records string
	To                                  []string
}

// Digest renders a daily digest.
func (r *Renderer) Digest(language string, d DigestData) (Rendered, error) {
	l := lang(language)
	unknown := translate(l, "unknown")
	v := digestView{Day: d.Day, TZ: d.TZ}
	for _, u := range d.PerUser {
		u.User = orDefault(oneLine(u.User, maxField), unknown)
		u.Module = orDefault(oneLine(u.Module, maxField), unknown)
		v.PerUser = append(v.PerUser, u)
	}
	for _, t := range d.Top {
		v.Top = append(v.Top, digestTopView{
			User: orDefault(oneLine(t.User, maxField), unknown), Records: t.Records, New: t.New,
			Avg: strconv.FormatFloat(t.AvgDaily, 'f', 1, 64), Ratio: strconv.FormatFloat(t.Ratio, 'f', 1, 64),
		})
	}
	for _, e := range d.External {
		ev := digestExternalView{
			When: e.At.UTC().Format("2006-01-02 15:04 UTC"), Report: orDefault(oneLine(e.Report, maxField), unknown),
			User: orDefault(oneLine(e.User, maxField), unknown), Module: orDefault(oneLine(e.Module, maxField), unknown),
			Records: unknown,
		}
		if e.Records != nil {
			ev.Records = formatCount(*e.Records)
		}
		for _, a := range e.External {
			ev.To = append(ev.To, oneLine(a, maxField))
		}
		v.External = append(v.External, ev)
	}
	var subject string
	if l == LangJapanese {
		subject = fmt.Sprintf("%s%s の日次ダイジェスト: 持ち出し %s 回、%s 件", subjectPrefix, d.Day, formatCount(d.Events), formatCount(d.Records))
	} else {
		subject = fmt.Sprintf("%sDaily digest for %s: %s %s, %s %s", subjectPrefix, d.Day, formatCount(d.Events),
			plural(d.Events, "take-out", "take-outs"), formatCount(d.Records), plural(d.Records, "record", "records"))
	}
	return r.render(l, "digest", subject, v)
}
