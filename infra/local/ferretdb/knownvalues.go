package main

import (
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Why this exists: the fast path of a versioned update (pushdown.go) must know whether the one
// document it names still matches the filter ({_id, version: 5}) before it lets the write through.
// Reading it from its file (directread.go) was a tenth of FerretDB's CPU end to end. Yet most such
// updates follow one that this proxy itself let through: the same document, a plain $set of the
// very fields the next filter names (the next version). knownValues keeps, per document, the values
// of the fields its filters named, as the last such write left them, and decides the next filter on
// them without reading.
//
// It is only ever right if it hears of every other write of a document: every command that could
// change one (see forgetWrittenBy) makes it forget that document, its collection or its database
// before and after the command runs, and a document is only remembered from a write that FerretDB
// says it applied. It decides nothing it does not hold every named field of.

// maxKnownDocuments bounds the memory: past it, everything is forgotten and learnt again.
const maxKnownDocuments = 200_000

type knownValues struct {
	mu    sync.Mutex
	count int
	// generation grows whenever more than one document is forgotten at once: a fast-path update
	// learns nothing if it changed meanwhile (a command that takes no locks, a rename or one this
	// proxy does not know, may have changed its document between its write and its reply).
	generation uint64
	// "db\x00collection" -> idKey -> field -> value (a copy)
	collections map[string]map[string]map[string]bsoncore.Value
}

func newKnownValues() *knownValues {
	return &knownValues{collections: map[string]map[string]map[string]bsoncore.Value{}}
}

func namespace(db, collection string) string { return db + "\x00" + collection }

// decide says whether the document matches every condition (plain equalities), and whether it
// knows every field they name; and the generation to give learn.
func (k *knownValues) decide(db, collection string, id bsoncore.Value, conditions []bsoncore.Element) (matched, decided bool, generation uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	generation = k.generation
	fields := k.collections[namespace(db, collection)][idKey(id)]
	if fields == nil {
		return false, false, generation
	}
	matched = true
	for _, c := range conditions {
		value, ok := fields[c.Key()]
		if !ok {
			return false, false, generation
		}
		if !equalScalars(value, c.Value()) {
			matched = false
		}
	}
	return matched, true, generation
}

// learn is told of a fast-path update that matched (its filter's conditions held) and that FerretDB
// says it applied. If it named fields besides _id and was a plain $set of top-level fields, the
// document's named fields are now known; anything else makes it forgotten.
func (k *knownValues) learn(db, collection string, id bsoncore.Value, conditions []bsoncore.Element, update bsoncore.Value, generation uint64) {
	key := idKey(id)
	set, ok := plainSet(update)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !ok || len(conditions) == 0 || k.generation != generation {
		k.forgetDocumentLocked(db, collection, key)
		return
	}
	ns := namespace(db, collection)
	docs := k.collections[ns]
	if docs == nil {
		docs = map[string]map[string]bsoncore.Value{}
		k.collections[ns] = docs
	}
	fields := docs[key]
	if fields == nil {
		if k.count >= maxKnownDocuments {
			docs = map[string]map[string]bsoncore.Value{}
			k.collections = map[string]map[string]map[string]bsoncore.Value{ns: docs}
			k.count = 0
		}
		fields = map[string]bsoncore.Value{}
		docs[key] = fields
		k.count++
	}
	for _, c := range conditions {
		fields[c.Key()] = copyValue(c.Value())
	}
	for _, e := range set {
		if _, tracked := fields[e.Key()]; !tracked {
			continue
		}
		if !plainScalar(e.Value().Type) {
			// An array equals a scalar when one of its elements does: not decided here.
			delete(fields, e.Key())
			continue
		}
		fields[e.Key()] = copyValue(e.Value())
	}
}

func (k *knownValues) forgetDocument(db, collection, key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgetDocumentLocked(db, collection, key)
}

func (k *knownValues) forgetDocumentLocked(db, collection, key string) {
	if docs := k.collections[namespace(db, collection)]; docs != nil && docs[key] != nil {
		delete(docs, key)
		k.count--
	}
}

func (k *knownValues) forgetCollection(db, collection string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ns := namespace(db, collection)
	k.generation++
	k.count -= len(k.collections[ns])
	delete(k.collections, ns)
}

// forgetDatabase forgets every collection of db; every database if db is empty.
func (k *knownValues) forgetDatabase(db string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.generation++
	for ns, docs := range k.collections {
		if db == "" || strings.HasPrefix(ns, db+"\x00") {
			k.count -= len(docs)
			delete(k.collections, ns)
		}
	}
}

// readOnly names the commands that change no existing document (insert adds new ones only, and
// one with an _id already there fails; FerretDB 1.24 has no $out or $merge). Anything else that is
// not an update, delete or findAndModify (drops, renames, commands this list does not know) makes
// the whole database forgotten.
var readOnly = map[string]bool{
	"find": true, "getMore": true, "killCursors": true, "count": true, "distinct": true, "insert": true,
	"hello": true, "isMaster": true, "ismaster": true, "ping": true, "buildInfo": true, "buildinfo": true,
	"endSessions": true, "listCollections": true, "listIndexes": true, "listDatabases": true,
	"createIndexes": true, "create": true, "dbStats": true, "collStats": true, "serverStatus": true,
	"getParameter": true, "saslStart": true, "saslContinue": true, "connectionStatus": true,
	"whatsmyuri": true, "getLog": true, "hostInfo": true, "getCmdLineOpts": true,
}

// forgetWrittenBy forgets what a command other than a fast-path update may change: the documents
// an update or delete names by _id in every statement, else its collection (findAndModify too);
// the database for a command that is not known to change nothing; everything for a message
// that is not a command this proxy reads, or one sent to admin (renameCollection names its
// databases in its arguments).
func (k *knownValues) forgetWrittenBy(cmd command, request []byte) {
	switch {
	case cmd.name == "" || (cmd.db == "admin" && !readOnly[cmd.name]):
		k.forgetDatabase("")
	case statementsField[cmd.name] != "":
		_, _, statements, ok := commandStatements(request)
		keys, _, named := statementKeys(statements)
		if !ok || !named {
			k.forgetCollection(cmd.db, cmd.collection)
			return
		}
		for _, key := range keys {
			k.forgetDocument(cmd.db, cmd.collection, key)
		}
	case readModifyWrite[cmd.name]:
		k.forgetCollection(cmd.db, cmd.collection)
	case !readOnly[cmd.name]:
		k.forgetDatabase(cmd.db)
	}
}

// plainSet returns the fields of an update that is exactly {$set: {field: value, ...}} with plain
// top-level field names.
func plainSet(update bsoncore.Value) ([]bsoncore.Element, bool) {
	doc, ok := update.DocumentOK()
	if !ok {
		return nil, false
	}
	elems, err := doc.Elements()
	if err != nil || len(elems) != 1 || elems[0].Key() != "$set" {
		return nil, false
	}
	set, ok := elems[0].Value().DocumentOK()
	if !ok {
		return nil, false
	}
	fields, err := set.Elements()
	if err != nil {
		return nil, false
	}
	for _, f := range fields {
		if strings.HasPrefix(f.Key(), "$") || strings.Contains(f.Key(), ".") || f.Key() == "_id" {
			return nil, false
		}
	}
	return fields, true
}

// appliedAll says whether an update's reply reports `statements` documents matched (one per
// statement) and no error.
func appliedAll(reply []byte, statements int) bool {
	if len(reply) < 21 || opCode(reply) != opMsg || reply[20] != 0 {
		return false
	}
	doc, _, ok := bsoncore.ReadDocument(reply[21:])
	if !ok {
		return false
	}
	okValue, _ := number(doc.Lookup("ok"))
	n, _ := number(doc.Lookup("n"))
	_, noWriteErrors := doc.LookupErr("writeErrors")
	_, noConcernError := doc.LookupErr("writeConcernError")
	return okValue == 1 && n == float64(statements) && noWriteErrors != nil && noConcernError != nil
}

func copyValue(v bsoncore.Value) bsoncore.Value {
	return bsoncore.Value{Type: v.Type, Data: append([]byte(nil), v.Data...)}
}
