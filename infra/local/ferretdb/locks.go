package main

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"golang.org/x/sync/semaphore"
)

// What a read-modify-write command holds, from its check to FerretDB's reply, and why.
//
// MongoDB has document-level concurrency: writes to different documents do not wait for each
// other, and a single-document write is atomic. The stand-in keeps both. A command whose
// statements each name their document by _id ({_id: scalar, field: scalar, ...}: a versioned
// update, a replica's bulk of them, the outbox clean-up, a delete, findAndModify or upsert by
// _id) can only write those documents, so it locks just them, and its database shared. Any other update, delete or
// findAndModify may write any document of the database, and drop, dropDatabase and
// renameCollection take documents away from under a name, so those hold their database
// exclusively: no document-locked command is between its check and its write meanwhile (the
// fast path, pushdown.go, writes by _id alone whatever document has that _id by then).
//
// Serializing every write of a database instead would be atomic too, but less like MongoDB under
// concurrency: the services' race tests would interleave less than they would against MongoDB.
//
// SQLite writes one transaction at a time per file, whatever the locks above allow; the others
// wait in its busy handler, which sleeps in growing steps of milliseconds and lets a newcomer go
// first, so under contention some writers starve for seconds. So the step that writes (a
// document-locked command sent to FerretDB, not the fast path's check) waits in line for the
// database's writer instead, first come first served.
//
// Lock order, the same for every command so that none waits in a cycle: the database (shared or
// exclusive; several databases in name order), then the documents in key order, then the
// database's statement budget, then its writer.

// lockPlan is what a command holds until its reply.
type lockPlan struct {
	// exclusive names the databases a command holds wholly, sorted and each once.
	exclusive []string
	// Otherwise the command holds database db shared, these documents (documentKey, sorted, each
	// once) and statements units of the database's statement budget.
	db         string
	documents  []string
	statements int
}

// planLocks says what a command holds; nil for a command that takes no lock (reads, inserts,
// handshakes change no existing document).
func planLocks(cmd command, request []byte) *lockPlan {
	if readModifyWrite[cmd.name] {
		if ids, ok := documentIDs(cmd.name, request); ok {
			keys := make([]string, len(ids))
			for i, id := range ids {
				keys[i] = documentKey(cmd.db, cmd.collection, id)
			}
			slices.Sort(keys)
			return &lockPlan{db: cmd.db, documents: slices.Compact(keys), statements: max(cmd.statements, 1)}
		}
	}
	if dbs := lockedDatabases(cmd); dbs != nil {
		return &lockPlan{exclusive: dbs}
	}
	return nil
}

// documentIDs returns the _id each statement of an update or delete names, or a findAndModify's
// one, when every statement's filter is {_id: scalar, field: scalar, ...}; false otherwise. Such a
// filter matches that one document or none, so even an upsert (which may insert only that _id) or
// multi writes no other.
func documentIDs(name string, request []byte) ([]bsoncore.Value, bool) {
	var filters []bsoncore.Document
	switch name {
	case "update", "delete":
		got, _, statements, ok := commandStatements(request)
		if !ok || got != name {
			return nil, false
		}
		for _, statement := range statements {
			filter, ok := statement.Lookup("q").DocumentOK()
			if !ok {
				return nil, false
			}
			filters = append(filters, filter)
		}
	case "findAndModify", "findandmodify":
		body, ok := commandBody(request)
		if !ok {
			return nil, false
		}
		filter, ok := body.Lookup("query").DocumentOK()
		if !ok {
			return nil, false
		}
		filters = append(filters, filter)
	default:
		return nil, false
	}
	ids := make([]bsoncore.Value, len(filters))
	for i, filter := range filters {
		id, _, ok := splitFilter(filter)
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

// commandBody returns the body of an OP_MSG request without document sequences or a checksum;
// false for anything else.
func commandBody(request []byte) (bsoncore.Document, bool) {
	if opCode(request) != opMsg || flags(request)&^2 != 0 || len(request) < 21 || request[20] != 0 {
		return nil, false
	}
	body, rest, ok := bsoncore.ReadDocument(request[21:])
	return body, ok && len(rest) == 0
}

// documentKey names a document for its lock: db, collection and _id, separated by a byte no
// name holds. Two _id values MongoDB takes as one have one key: numbers by value whatever their
// BSON type (int32 1, int64 1 and 1.0 are one document; 0 and -0 too); anything else by type and
// bytes. Large int64 values that share a double share a key: that locks more, never less.
func documentKey(db, collection string, id bsoncore.Value) string {
	var value []byte
	if f, ok := number(id); ok {
		switch {
		case f == 0:
			f = 0 // -0
		case math.IsNaN(f):
			f = math.NaN() // one NaN, as MongoDB compares them
		}
		value = binary.LittleEndian.AppendUint64([]byte{byte(bsontype.Double)}, math.Float64bits(f))
	} else {
		value = append([]byte{byte(id.Type)}, id.Data...)
	}
	return db + "\x00" + collection + "\x00" + string(value)
}

// statementBudget is how many statements of locked commands may run at once in one database.
// FerretDB 1.24 holds one of a database's 100 SQLite connections per statement of an update or
// delete until the command ends (wire.go's maxStatements); commands sharing their database could
// together take them all and wait for each other for good. 60 leaves room for the connections of
// reads, inserts and the commands' own writes.
const statementBudget = 60

// databaseLock is one database's locks.
type databaseLock struct {
	// whole is held shared by document-locked commands and exclusively by the others.
	whole sync.RWMutex
	// statements is handed out first come, first served (a waiting bulk is not overtaken by a
	// stream of single updates that would each fit).
	statements *semaphore.Weighted
	// writer is held by a document-locked command while FerretDB runs it (see above).
	writer sync.Mutex
}

// databaseLocks holds the databases' locks and the locked documents.
type databaseLocks struct {
	mu        sync.Mutex
	databases map[string]*databaseLock
	documents map[string]*documentLock
}

type documentLock struct {
	sync.Mutex
	// users counts the commands holding or waiting for it; the last one removes it.
	users int
}

func newDatabaseLocks() *databaseLocks {
	return &databaseLocks{databases: map[string]*databaseLock{}, documents: map[string]*documentLock{}}
}

func (d *databaseLocks) database(db string) *databaseLock {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.databases[db]
	if l == nil {
		l = &databaseLock{statements: semaphore.NewWeighted(statementBudget)}
		d.databases[db] = l
	}
	return l
}

// hold takes what the plan names, in the lock order above, and returns the function that
// releases it.
func (d *databaseLocks) hold(plan *lockPlan) func() {
	if plan.exclusive != nil {
		held := make([]*databaseLock, 0, len(plan.exclusive))
		for _, db := range plan.exclusive {
			l := d.database(db)
			l.whole.Lock()
			held = append(held, l)
		}
		return func() {
			for _, l := range slices.Backward(held) {
				l.whole.Unlock()
			}
		}
	}
	l := d.database(plan.db)
	l.whole.RLock()
	unlocks := make([]func(), 0, len(plan.documents))
	for _, key := range plan.documents {
		unlocks = append(unlocks, d.lockDocument(key))
	}
	// An unacknowledged command over maxStatements is not refused (it gets no reply); it must not
	// wait for more than the whole budget, which would never come.
	units := int64(min(plan.statements, statementBudget))
	_ = l.statements.Acquire(context.Background(), units) // fails only when its context ends
	return func() {
		l.statements.Release(units)
		for _, unlock := range slices.Backward(unlocks) {
			unlock()
		}
		l.whole.RUnlock()
	}
}

// writing runs write, the step of a command that writes, as the database's only writer when the
// command holds its database shared; a command holding it exclusively is its only writer already.
func (d *databaseLocks) writing(plan *lockPlan, write func() error) error {
	if plan == nil || plan.exclusive != nil {
		return write()
	}
	l := d.database(plan.db)
	l.writer.Lock()
	defer l.writer.Unlock()
	return write()
}

// lockDocument locks the document with this key and returns the function that unlocks it.
func (d *databaseLocks) lockDocument(key string) func() {
	d.mu.Lock()
	l := d.documents[key]
	if l == nil {
		l = &documentLock{}
		d.documents[key] = l
	}
	l.users++
	d.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		d.mu.Lock()
		if l.users--; l.users == 0 {
			delete(d.documents, key)
		}
		d.mu.Unlock()
	}
}
