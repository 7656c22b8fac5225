// Package api serves the JSON API of CONTRACTS §7: the tracking log, the
// captured content, scheduled reports, statistics and settings for Vtiger
// administrators and API tokens, plus health, readiness and Prometheus
// metrics for the operator.
//
// # Authentication
//
// Every /api/v1/ route needs one of
//   - Authorization: Bearer <token from `dxtracker token create`>, or
//   - HTTP Basic with an active Vtiger administrator's user name and access
//     key (vtiger_users.accesskey, "My Preferences" in Vtiger).
//
// No or bad credentials, an unknown, revoked or malformed token, or an
// inactive or deleted user give 401 with WWW-Authenticate: Basic
// realm="dxtracker"; a valid Vtiger user who is not an administrator gets
// 403. An address with 20 failed authentications within 5 minutes gets 429
// (Retry-After) until the window ends; IPv6 clients count per /64.
//
// The exception is POST /api/v1/beacons, which the daemon mounts with
// WithHandler (package beacon): tracker.js authenticates it with a signed
// token of the Vtiger user, not with these credentials.
//
// /healthz and /readyz need no credentials: they say nothing about the
// data. /metrics is open to loopback peers (a Prometheus on the same host)
// and needs API credentials from anywhere else. A reverse proxy on the same
// host makes every client look local: protect /metrics in the proxy then.
// The client address recorded everywhere is the TCP peer's; X-Forwarded-For
// is not trusted.
//
// # Endpoints
//
//	GET /api/v1/events?type=&user=&module=&ip=&from=&to=&min_records=&limit=&cursor=
//	    {"events":[...],"next_cursor":"..."}, newest first (occurred_at, id).
//	    user is the Vtiger user name; from is inclusive, to exclusive; both
//	    take RFC 3339 or a date (YYYY-MM-DD, a UTC day; as `to` it includes
//	    that day). limit 1..1000, default 50. next_cursor is "" on the last
//	    page; pass it back unchanged with the same filters. Empty values
//	    mean "no filter"; unknown or repeated parameters are 400.
//	GET /api/v1/events/{id}
//	    One event (fields of CONTRACTS §7).
//	GET /api/v1/events/{id}/content
//	    The original bytes, streamed: Content-Type as captured,
//	    Content-Disposition attachment with filename and filename*
//	    (RFC 6266/8187), Content-Length, X-Content-SHA256 (of the original
//	    bytes), X-Content-Truncated: true when the capture was cut at
//	    capture_max_bytes. 404 when the event has none.
//	GET /api/v1/access-log?limit=&cursor=
//	    {"entries":[...],"next_cursor":"..."}: content downloads and
//	    settings changes, newest first; limit 1..1000, default 100.
//	GET /api/v1/scheduled-reports
//	    {"scheduled_reports":[{report_id, name, primary_module,
//	    report_found, schedule_type, schedule (e.g. "Daily at 19:24"),
//	    format, next_trigger_time, recipients:[{name, email, via,
//	    external}], has_external_recipients, recipients_error?,
//	    last_runs:[{event_id, occurred_at, record_count, has_content,
//	    notified}] (the last 10 deliveries)}]}
//	GET /api/v1/stats?from=&to=&group_by=user|module|type|day
//	    {"group_by", "from", "to", "rows":[{key, events, records}]};
//	    group_by defaults to type; days oldest first, others by events.
//	GET /api/v1/users/{name}/timeline?from=&to=&limit=
//	    {"user", "user_id", "from", "to", "items":[...], "truncated"}: the
//	    user's logins and logouts (vtiger_loginhistory) interleaved with
//	    the user's take-outs, newest first, at most limit items (1..1000,
//	    default 200). An item is {"at", "kind": "login"|"logout",
//	    "session": {login_id, ip, login_time, logout_time, status}} or
//	    {"at", "kind": "event", "event": {...}, "login_id",
//	    "ip_matches_session"}: the session the take-out happened in and
//	    whether its IP is the session's. truncated: more in the range,
//	    narrow from/to. 404 for a name that is neither a Vtiger user nor
//	    in the history.
//	GET /api/v1/config
//	    The dxt_config keys as stored strings, never beacon_secret.
//	PUT /api/v1/config
//	    A JSON object of key -> string, number or boolean (true/false
//	    become "1"/"0"); all keys are validated before any is written, a
//	    400 names the key. Answers the new config.
//	GET /healthz   {"status":"ok"} while the process serves.
//	GET /readyz    200 {"status":"ready","details":{...}} or 503
//	               "not ready": the StatusProvider's view (binlog stream,
//	               lag) plus a database ping.
//	GET /metrics   Prometheus text: dxtracker_api_requests_total{route,code}
//	               (code is the status class, 2xx...), request durations,
//	               Go and process metrics, and every collector given with
//	               WithCollectors or registered on Registry().
//
// Errors are {"error":"..."} with a 4xx or 5xx status. A 5xx says only
// "internal error (request <id>)"; the cause is logged with that request id
// (also sent as X-Request-Id). Each request is logged once with the fields
// request_id, method, path, route, status, duration_ms, bytes, principal,
// auth and remote_ip; never headers or bodies.
//
// # Access log
//
// Every request for captured content and every settings change writes a
// dxt_access_log row before anything is sent, even for a 404; if the row
// cannot be written the request fails, so no download goes unrecorded. A
// download that breaks off has its row's status corrected: 500 when the
// stored content could not be read (or failed its SHA-256 check), 499 when
// the client went away; the connection is then cut so a partial file
// cannot pass for a whole one.
package api
