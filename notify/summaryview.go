package notify

import (
	"fmt"
	"strings"

	"github.com/dxtracker/dxtracker/tracker"
)

type summaryView struct {
	Items []summaryItemView
	More  int64
}

type summaryItemView struct {
	When, User, Type, Module, Records, Link string
}

// Summary renders the summary of held notifications.
func (r *Renderer) Summary(p summaryPayload) (Rendered, error) {
	l := lang(p.Lang)
	unknown := translate(l, "unknown")
	v := summaryView{More: p.More}
	for _, it := range p.Items {
		iv := summaryItemView{
			When:    it.At.UTC().Format("2006-01-02 15:04:05 UTC"),
			User:    orDefault(oneLine(it.User, maxField), unknown),
			Type:    typeLabel(l, it.Type),
			Module:  orDefault(oneLine(it.Module, maxField), unknown),
			Records: unknown,
		}
		if it.Records != nil {
			iv.Records = formatCount(*it.Records)
		}
		if it.EventID != 0 {
			user := it.User
			iv.Link = r.EventLink(tracker.Event{ID: it.EventID, OccurredAt: it.At, UserName: &user})
		}
		v.Items = append(v.Items, iv)
	}
	total := int64(len(p.Items)) + p.More
	var subject string
	if l == LangJapanese {
		subject = fmt.Sprintf("%s個別に送信しなかった %s 件の持ち出し（毎分 %s 通の上限）", subjectPrefix, formatCount(total), formatCount(p.Limit))
	} else {
		subject = fmt.Sprintf("%s%s %s held back (limit %s mails a minute)", subjectPrefix, formatCount(total),
			plural(total, "take-out", "take-outs"), formatCount(p.Limit))
	}
	return r.render(l, "summary", strings.TrimSpace(subject), v)
}
