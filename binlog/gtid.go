package binlog

import (
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
)

// gtidTracker follows the server's GTID state along the stream, so that
// every boundary position can carry it. A transaction's GTID counts from
// its commit on. It starts from the GTID text of the start position and
// learns the full state from the GTID list (MariaDB) or previous-GTIDs
// (MySQL) event at the head of every binlog file.
//
// Its text is built only when asked for, and kept until the state changes:
// the reader asks only for positions it hands to the applier.
type gtidTracker struct {
	mariadb bool
	maria   map[uint32]mysql.MariadbGTID // domain -> last committed
	my      *mysql.MysqlGTIDSet

	hasPendingMaria bool
	pendingMaria    mysql.MariadbGTID
	pendingMy       pendingMySQLGTID // gno 0: none

	text  string // String's result while !dirty
	dirty bool
}

type pendingMySQLGTID struct {
	sid uuid.UUID
	tag mysql.Tag
	gno int64
}

// newGTIDTracker starts from start, the GTID text of the start position;
// text it cannot parse is dropped (the state then fills in from the
// stream) and reported as the error.
func newGTIDTracker(flavor, start string) (*gtidTracker, error) {
	g := &gtidTracker{mariadb: flavor == flavorMariaDB, maria: map[uint32]mysql.MariadbGTID{}, dirty: true}
	set := mysql.NewMysqlGTIDSet()
	g.my = &set
	if start == "" {
		return g, nil
	}
	if g.mariadb {
		for _, part := range strings.Split(start, ",") {
			id, err := mysql.ParseMariadbGTID(strings.TrimSpace(part))
			if err != nil {
				g.maria = map[uint32]mysql.MariadbGTID{}
				return g, err
			}
			g.maria[id.DomainID] = *id
		}
		return g, nil
	}
	return g, g.my.Update(start)
}

// begin records the GTID event that opens a transaction.
func (g *gtidTracker) begin(ev replication.Event) {
	g.hasPendingMaria, g.pendingMy = false, pendingMySQLGTID{}
	switch e := ev.(type) {
	case *replication.MariadbGTIDEvent:
		g.hasPendingMaria, g.pendingMaria = true, e.GTID
	case *replication.GTIDEvent:
		g.pendingMy = mysqlPending(e.SID, mysql.Tag{}, e.GNO)
	case *replication.GtidTaggedLogEvent:
		g.pendingMy = mysqlPending(e.SID, e.Tag, e.GNO)
	}
}

func mysqlPending(sid []byte, tag mysql.Tag, gno int64) pendingMySQLGTID {
	u, err := uuid.FromBytes(sid)
	if err != nil || gno == 0 { // anonymous transaction (gtid_mode=OFF)
		return pendingMySQLGTID{}
	}
	return pendingMySQLGTID{sid: u, tag: tag, gno: gno}
}

// commit adds the open transaction's GTID to the state.
func (g *gtidTracker) commit() {
	if g.hasPendingMaria {
		g.maria[g.pendingMaria.DomainID] = g.pendingMaria
		g.dirty = true
	}
	if p := g.pendingMy; p.gno != 0 {
		g.my.AddGTIDWithTag(p.sid, p.tag, p.gno)
		g.dirty = true
	}
	g.hasPendingMaria, g.pendingMy = false, pendingMySQLGTID{}
}

// mergeMariaDBList takes a binlog file's GTID list: the state at its head.
func (g *gtidTracker) mergeMariaDBList(list []mysql.MariadbGTID) {
	for _, id := range list {
		if cur, ok := g.maria[id.DomainID]; !ok || id.SequenceNumber > cur.SequenceNumber {
			g.maria[id.DomainID] = id
			g.dirty = true
		}
	}
}

// mergeMySQL takes a binlog file's previous-GTIDs set.
func (g *gtidTracker) mergeMySQL(set string) {
	if set != "" {
		_ = g.my.Update(set) // a set the server wrote parses; a bad one only costs GTID text
		g.dirty = true
	}
}

// String is the state in the server's notation (see Position.GTID).
func (g *gtidTracker) String() string {
	if g.dirty {
		g.text, g.dirty = g.format(), false
	}
	return g.text
}

func (g *gtidTracker) format() string {
	if !g.mariadb {
		return stripSpace(g.my.String())
	}
	if len(g.maria) == 1 {
		for _, id := range g.maria {
			return mariaGTIDText(id)
		}
	}
	parts := make([]string, 0, len(g.maria))
	domains := make([]uint32, 0, len(g.maria))
	for d := range g.maria {
		domains = append(domains, d)
	}
	sort.Slice(domains, func(i, j int) bool { return domains[i] < domains[j] })
	for _, d := range domains {
		parts = append(parts, mariaGTIDText(g.maria[d]))
	}
	return strings.Join(parts, ",")
}

func mariaGTIDText(id mysql.MariadbGTID) string {
	return strconv.FormatUint(uint64(id.DomainID), 10) + "-" +
		strconv.FormatUint(uint64(id.ServerID), 10) + "-" + strconv.FormatUint(id.SequenceNumber, 10)
}
