package notify

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Languages the messages are written in (tracker.Settings.NotifyLanguage).
const (
	LangEnglish  = "en"
	LangJapanese = "ja"
)

// strings of one language; keys are the template's {{t "key"}}.
var messages = map[string]map[string]string{
	LangEnglish: {
		"brand":              "Data Export Tracker",
		"intro":              "A take-out of CRM data was recorded.",
		"when":               "When",
		"who":                "Who",
		"type":               "Type",
		"module":             "Module",
		"records":            "Records",
		"ip":                 "IP address",
		"user_agent":         "User agent",
		"source":             "Seen by",
		"report":             "Report",
		"recipients":         "Recipients",
		"external":           "external",
		"rules":              "Rules that matched",
		"no_rules":           "none (every take-out is notified)",
		"severity":           "severity",
		"open":               "Open in Vtiger",
		"attached":           "The captured data is attached",
		"too_large":          "The captured data is too large to attach",
		"attach_failed":      "The captured data could not be attached",
		"unknown":            "unknown",
		"footer":             "Sent by dxtracker. Change the recipients, language or limits in Vtiger: Settings, Extensions, Data Export Tracker.",
		"summary_intro":      "These take-outs were not mailed one by one because more than the limit of notifications per minute went to this address:",
		"summary_more":       "more, not listed",
		"digest_intro":       "Take-outs of CRM data on",
		"digest_tz":          "time zone",
		"per_user":           "Take-outs per user and module",
		"events":             "take-outs",
		"records_lc":         "records",
		"top":                "Top exporters against their own 30-day daily average",
		"day_records":        "records that day",
		"avg":                "30-day daily average",
		"ratio":              "ratio",
		"new_exporter":       "no exports in the previous 30 days",
		"external_sched":     "Scheduled reports delivered outside the company",
		"nothing":            "Nothing was recorded.",
		"none":               "None.",
		"event_id":           "Event",
		"t_listview_export":  "list view export",
		"t_report_export":    "report export",
		"t_scheduled_report": "scheduled report",
		"t_copy":             "copy",
	},
	LangJapanese: {
		"brand":              "Data Export Tracker",
		"intro":              "CRM データの持ち出しが記録されました。",
		"when":               "日時",
		"who":                "ユーザー",
		"type":               "種類",
		"module":             "モジュール",
		"records":            "件数",
		"ip":                 "IP アドレス",
		"user_agent":         "ユーザーエージェント",
		"source":             "検知元",
		"report":             "レポート",
		"recipients":         "送信先",
		"external":           "社外",
		"rules":              "該当したルール",
		"no_rules":           "なし（すべての持ち出しを通知）",
		"severity":           "重要度",
		"open":               "Vtiger で開く",
		"attached":           "持ち出されたデータを添付しました",
		"too_large":          "持ち出されたデータは大きすぎるため添付していません",
		"attach_failed":      "持ち出されたデータを添付できませんでした",
		"unknown":            "不明",
		"footer":             "dxtracker からの自動送信です。送信先・言語・上限は Vtiger の 設定 → 拡張機能 → Data Export Tracker で変更できます。",
		"summary_intro":      "このアドレスへの通知が 1 分あたりの上限を超えたため、次の持ち出しは個別に送信していません:",
		"summary_more":       "件（一覧は省略）",
		"digest_intro":       "CRM データの持ち出し:",
		"digest_tz":          "タイムゾーン",
		"per_user":           "ユーザー・モジュール別の持ち出し",
		"events":             "回数",
		"records_lc":         "件数",
		"top":                "過去 30 日の 1 日平均と比べた上位ユーザー",
		"day_records":        "当日の件数",
		"avg":                "30 日間の 1 日平均",
		"ratio":              "倍率",
		"new_exporter":       "過去 30 日間に持ち出しなし",
		"external_sched":     "社外に配信されたスケジュールレポート",
		"nothing":            "記録はありません。",
		"none":               "なし。",
		"event_id":           "イベント",
		"t_listview_export":  "リストビューのエクスポート",
		"t_report_export":    "レポートのエクスポート",
		"t_scheduled_report": "スケジュールレポート",
		"t_copy":             "コピー",
	},
}

// lang returns a supported language, English for anything else.
func lang(l string) string {
	if _, ok := messages[l]; ok {
		return l
	}
	return LangEnglish
}

// translate returns the text of key in l (English if l lacks it, the key
// itself if nobody has it).
func translate(l, key string) string {
	if s, ok := messages[lang(l)][key]; ok {
		return s
	}
	if s, ok := messages[LangEnglish][key]; ok {
		return s
	}
	return key
}

// typeLabel names an event type in l; unknown types are shown as stored.
func typeLabel(l, typ string) string {
	if s, ok := messages[lang(l)]["t_"+typ]; ok {
		return s
	}
	return typ
}

// formatCount writes n with thousands separators: 3120 -> "3,120" (the
// same in Japanese).
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// oneLine makes a database value safe for a header or a one-line field:
// control characters (CR, LF, tabs, bidi overrides) become spaces, invalid
// UTF-8 is dropped, runs of blanks collapse, and it is cut at max runes.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), " ")
}

// clipRunes cuts s to at most max bytes on a rune boundary.
func clipBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
