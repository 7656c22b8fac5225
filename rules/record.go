package rules

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dxtracker/dxtracker/tracker"
)

// Record writes matches into the event's details as "rules": [{rule_id,
// name, kind, severity, notify, reason}], replacing what an earlier
// evaluation wrote, so the API and the mail show why the event mattered.
// Call it in the transaction that evaluated the event.
func Record(ctx context.Context, q tracker.Querier, eventID uint64, matches []Match) error {
	if matches == nil {
		matches = []Match{}
	}
	b, err := json.Marshal(matches)
	if err != nil {
		return fmt.Errorf("encode rule matches of event %d: %w", eventID, err)
	}
	// JSON_QUERY makes MariaDB insert the array as JSON, not as a string.
	_, err = q.ExecContext(ctx, `UPDATE dxt_event SET details = JSON_SET(IF(JSON_VALID(details), details, '{}'), '$.rules', JSON_QUERY(?, '$'))
WHERE id = ?`, string(b), eventID)
	if err != nil {
		return fmt.Errorf("record rule matches of event %d: %w", eventID, err)
	}
	return nil
}
