package main

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// What a write command must hold, and why it is finer than one lock per collection: the lost
// update this proxy prevents (writelock.go) is between two writes of the same document. A lock per
// collection held from the fast path's check to the update's reply made every write of a
// collection wait for the whole of the one before it, two round trips to FerretDB: under load that
// lock, not the CPU, set the pace (held all the time, 3 ms per update, at 340 updates/s end to
// end). Now:
//   - a command of one statement that names its document by _id (the services' versioned updates)
//     locks that document, and shares its collection with the others;
//   - a bulk of versioned updates, each statement naming its document by _id, locks those
//     documents (versionedBulkKeys);
//   - any other write command locks its whole collection, as before. Commands of many statements
//     (the outbox clean-up) were tried with a lock per document too: FerretDB then used half again
//     as much CPU per update end to end, and throughput fell by a third;
//   - only the step that writes (the command sent to FerretDB, not the fast path's check) is one at
//     a time per database: SQLite has one writer per file, and a second one would wait in its
//     busy handler, sleeping in steps of milliseconds, instead of in line here.
//
// Lock order, to stay free of deadlocks: a collection (shared or whole), then its document, the
// statements in flight (writelock.go), then the database's writer.

type writeLocks struct {
	mu          sync.Mutex
	collections map[string]*collectionLock
	writers     map[string]*sync.Mutex
	// statements bounds the statements of write commands in flight (see statementsInFlight).
	statements *semaphore
}

type collectionLock struct {
	whole sync.RWMutex
	mu    sync.Mutex
	docs  map[string]*docLock
}

type docLock struct {
	sync.Mutex
	users int
}

func newWriteLocks() *writeLocks {
	return &writeLocks{collections: map[string]*collectionLock{}, writers: map[string]*sync.Mutex{}, statements: newSemaphore(statementsInFlight)}
}

// of returns a collection's locks and its database's writer lock.
func (w *writeLocks) of(db, collection string) (*collectionLock, *sync.Mutex) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.collections[db+"."+collection]
	if !ok {
		c = &collectionLock{docs: map[string]*docLock{}}
		w.collections[db+"."+collection] = c
	}
	writer, ok := w.writers[db]
	if !ok {
		writer = &sync.Mutex{}
		w.writers[db] = writer
	}
	return c, writer
}

// lockDocument locks the document with this key and returns the function that unlocks it.
func (c *collectionLock) lockDocument(key string) func() {
	c.mu.Lock()
	d, ok := c.docs[key]
	if !ok {
		d = &docLock{}
		c.docs[key] = d
	}
	d.users++
	c.mu.Unlock()
	d.Lock()
	return func() {
		d.Unlock()
		c.mu.Lock()
		if d.users--; d.users == 0 {
			delete(c.docs, key)
		}
		c.mu.Unlock()
	}
}

// holding runs a write command of collection cmd.db.cmd.collection under the locks it needs (see
// above); run gets the database's writer lock, to hold only while it writes.
func (w *writeLocks) holding(cmd command, request []byte, run func(writer *sync.Mutex) error) error {
	c, writer := w.of(cmd.db, cmd.collection)
	if key, ok := documentKey(request); ok {
		c.whole.RLock()
		defer c.whole.RUnlock()
		defer c.lockDocument(key)()
	} else if keys, ok := versionedBulkKeys(request); ok {
		c.whole.RLock()
		defer c.whole.RUnlock()
		// In one order for every command, so that two bulks never each wait for the other.
		for _, key := range keys {
			defer c.lockDocument(key)()
		}
	} else {
		c.whole.Lock()
		defer c.whole.Unlock()
	}
	units := max(cmd.statements, 1)
	w.statements.acquire(units)
	defer w.statements.release(units)
	return run(writer)
}

// documentKey returns the key of the document an update or delete command of one statement
// writes when that statement names it by _id ({_id: scalar, field: scalar, ...}); false for any
// other command, which then locks its whole collection.
func documentKey(request []byte) (string, bool) {
	_, _, statement, ok := soleStatement(request)
	if !ok {
		return "", false
	}
	filter, ok := statement.Lookup("q").DocumentOK()
	if !ok {
		return "", false
	}
	id, _, ok := splitFilter(filter)
	if !ok {
		return "", false
	}
	return idKey(id), true
}

// versionedBulkKeys returns the keys of the documents a bulk of versioned updates names, sorted
// and each once, when every statement names its document by _id and one at least is versioned
// ({_id, field: scalar...}): such a bulk (a replica applying a batch of events) locks only its
// documents. Locking its whole collection made it and the single versioned updates of the same
// collection (another copy's events) wait for each other by turns: with two copies of orders, a
// stress run's replicas fell seconds behind.
//
// One statement sent as a document sequence (the driver's bulkWrite of one operation) is not the
// shape documentKey reads: it too locks only its document here, versioned or not, as a single
// update in the body does.
func versionedBulkKeys(request []byte) ([]string, bool) {
	_, statements, ok := updateStatements(request)
	if !ok {
		return nil, false
	}
	versioned := false
	keys := make([]string, 0, len(statements))
	for _, statement := range statements {
		filter, ok := statement.Lookup("q").DocumentOK()
		if !ok {
			return nil, false
		}
		id, conditions, ok := splitFilter(filter)
		if !ok {
			return nil, false
		}
		versioned = versioned || len(conditions) > 0
		keys = append(keys, idKey(id))
	}
	slices.Sort(keys)
	return slices.Compact(keys), versioned || len(statements) == 1
}

// soleStatement returns the name, the body and the statement of an update or delete command of
// exactly one statement that is not an upsert, sent in the simple shape the services' drivers use
// for one statement (no document sequence, no checksum); false for anything else.
func soleStatement(request []byte) (name string, body, statement bsoncore.Document, ok bool) {
	if opCode(request) != opMsg || flags(request)&^2 != 0 || len(request) < 21 || request[20] != 0 { // moreToCome is fine
		return "", nil, nil, false
	}
	body, rest, ok := bsoncore.ReadDocument(request[21:])
	if !ok || len(rest) != 0 {
		return "", nil, nil, false
	}
	elems, err := body.Elements()
	if err != nil || len(elems) == 0 || statementsField[elems[0].Key()] == "" {
		return "", nil, nil, false
	}
	name = elems[0].Key()
	list, ok := body.Lookup(statementsField[name]).ArrayOK()
	if !ok {
		return "", nil, nil, false
	}
	values, err := list.Values()
	if err != nil || len(values) != 1 {
		return "", nil, nil, false
	}
	statement, ok = values[0].DocumentOK()
	if !ok || statement.Lookup("upsert").Equal(bsoncore.Value{Type: bsontype.Boolean, Data: []byte{1}}) {
		return "", nil, nil, false
	}
	return name, body, statement, true
}

// idKey is the same for two _id values MongoDB takes as equal: numbers by value, whatever their
// type (1, 1.0 and int64 1 are one document); anything else by type and bytes.
func idKey(id bsoncore.Value) string {
	if f, ok := number(id); ok {
		var b [9]byte
		b[0] = 'n'
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(f+0)) // +0: -0 and 0 are one value
		return string(b[:])
	}
	return string([]byte{byte(id.Type)}) + string(id.Data)
}
