// Package leader elects one active daemon among several that track the
// same database, with a MySQL/MariaDB named lock (GET_LOCK).
//
// # How
//
// An Elector takes a dedicated connection from the pool (*sql.Conn), sets
// its session wait_timeout to SessionTimeout and waits for the lock with
// GET_LOCK(name, RetryInterval) in a loop: a standby is parked on the
// server, which wakes it the moment the lock is released, so a takeover
// costs no polling delay. Once it holds the lock it calls lead(leadCtx)
// and checks every CheckInterval, on the same connection, that
// IS_USED_LOCK(name) is still its own CONNECTION_ID(). A check that fails,
// names another holder, or gets no answer within CheckTimeout puts the
// leadership in doubt: leadCtx is cancelled (cause ErrLeadershipLost), the
// elector waits for lead to return, and only then drops the connection,
// so that while the server still counts it as the holder nobody else
// leads. The lock connection is never returned to the pool (it is closed
// through Conn.Raw returning driver.ErrBadConn): GET_LOCK is re-entrant
// and per connection, and other code using that connection could hold or
// release the lock by accident.
//
// Lock names are server-wide, not per database: LockName derives the name
// from the schema. Every daemon must talk to the same server; named locks
// are not replicated, so daemons behind a proxy that can send them to
// different servers, or on different Galera nodes, would both lead.
//
// # Bounds (defaults: RetryInterval, CheckInterval, CheckTimeout 1 s,
// SessionTimeout 4 s)
//
//   - Leader process dies (kill -9, crash, host reboot with the server
//     elsewhere seeing the TCP reset), or its lock connection is killed,
//     or it shuts down: the server releases the lock at once and the
//     standby leads within milliseconds (tests measure this).
//   - The old leader stops acting, after its lock connection was killed
//     or broken, within CheckInterval (the next check fails at once), and
//     within CheckInterval+CheckTimeout when the check hangs; plus the time
//     lead takes to return after its context is cancelled. When the lock
//     connection was killed on the server the standby can lead before the
//     old leader noticed: the two overlap for up to that bound. The
//     tracker tolerates it (dedupe keys, checkpoint in the same
//     transaction), but lead must stop promptly when its context ends.
//   - Network partition (or a frozen host) where the server sees no FIN:
//     the server releases the lock only when it drops the session. Its
//     wait_timeout would be 8 hours by default and TCP keepalive about 2;
//     the elector sets the session's wait_timeout to SessionTimeout, which
//     its own checks keep from expiring while it is healthy. The standby
//     leads about SessionTimeout after the last check that reached the
//     server, while the old leader gave up after at most
//     CheckInterval+CheckTimeout: no overlap as long as lead returns
//     within the 1 s margin (SessionTimeout is at least
//     CheckInterval+CheckTimeout+1s, whole seconds).
//   - The database server itself restarts: both lose their connections;
//     whichever reconnects first leads.
//
// # Errors
//
// When lead returns an error while this elector leads, Run releases the
// lock and returns that error rather than competing again: the worker is
// broken, the daemon exits non-zero, the other daemon takes over at once
// and systemd restarts this one as a standby. A lost lock is not an error:
// Run goes back to standby and calls lead again when it wins, so lead must
// start from the shared state (the checkpoint) every time.
//
// # MariaDB behaviour seen (10.11)
//
//   - GET_LOCK is re-entrant: a second GET_LOCK on the holding connection
//     returns 1 and needs a second RELEASE_LOCK. One connection may hold
//     many named locks (since 10.0.2, MySQL since 5.7).
//   - A killed connection releases its locks at once; a killed waiter's
//     GET_LOCK returns NULL, not an error. RELEASE_LOCK returns NULL for a
//     lock nobody holds and 0 for one held by another connection.
//   - A waiter whose client went away does not grab the lock when it is
//     released afterwards: the server notices the closed socket during
//     the wait (within a second) and ends the session.
//   - Timeouts take fractions of a second. Names up to 64 characters work
//     everywhere (MySQL refuses longer ones; MariaDB 10.11 accepts 70 and
//     refuses 200). Names are compared case-sensitively, although the
//     manuals say otherwise.
package leader
