package tracker

// Tables are the tables the migrations create, in creation order. The
// least-privilege grants (deploy/mysql/grants.sql) and doctor's grant
// check list them; a test keeps this list equal to what Migrate makes.
var Tables = []string{
	"dxt_schema_version", "dxt_config", "dxt_intake", "dxt_intake_chunk", "dxt_content", "dxt_content_chunk",
	"dxt_event", "dxt_checkpoint", "dxt_schedule_state", "dxt_api_token", "dxt_access_log",
	"dxt_rule", "dxt_outbox", "dxt_purge", "dxt_chain", "dxt_chain_head",
}
