package main

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"

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
//   - so does a bulk of versioned updates, each statement naming its document by _id, with those
//     documents (documentKeys);
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
	if keys, ok := documentKeys(request); ok {
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

// documentKeys returns the keys of the documents an update or delete command writes, sorted and
// each once, when every statement names its document by _id ({_id: scalar, field: scalar, ...}),
// none is an upsert or a multi-document update, and either there is one statement or one at least
// is versioned (has a field besides _id): such a command locks only its documents; false for any
// other command, which then locks its whole collection.
//
// A bulk of versioned updates is a replica applying a batch of events: locking its whole
// collection made it and the single versioned updates of the same collection (another copy's
// events) wait for each other by turns, and with two copies of orders a stress run's replicas fell
// seconds behind. A bulk of statements by _id alone (the outbox clean-up) still locks its
// collection: with a lock per document, FerretDB used half again as much CPU end to end.
func documentKeys(request []byte) ([]string, bool) {
	_, _, statements, ok := commandStatements(request)
	if !ok || !oneDocumentEach(statements) {
		return nil, false
	}
	keys, versioned, ok := statementKeys(statements)
	if !ok || !(versioned || len(statements) == 1) {
		return nil, false
	}
	slices.Sort(keys)
	return slices.Compact(keys), true
}

// statementKeys returns the idKey of the _id each statement's filter names, and whether one at
// least is versioned (names a field besides _id); false if one does not name a single _id.
func statementKeys(statements []bsoncore.Document) (keys []string, versioned, ok bool) {
	keys = make([]string, 0, len(statements))
	for _, statement := range statements {
		filter, ok := statement.Lookup("q").DocumentOK()
		if !ok {
			return nil, false, false
		}
		id, conditions, ok := splitFilter(filter)
		if !ok {
			return nil, false, false
		}
		versioned = versioned || len(conditions) > 0
		keys = append(keys, idKey(id))
	}
	return keys, versioned, true
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
