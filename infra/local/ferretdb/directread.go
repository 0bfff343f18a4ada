package main

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Why this exists: the fast path of a versioned update (pushdown.go) first checks the filter on
// the one document it names. Asking FerretDB for that document (a `find` over its socket: command
// parsing, the query, decoding the stored JSON into documents, BSON back) was a quarter of
// FerretDB's CPU in the end-to-end benchmark, where every ticket update makes two versioned
// updates. The directReader reads the stored document itself, with FerretDB's own lookup by _id
// (served by idindex.go's index) on a connection of its own, and compares the few fields the filter
// names. It only ever reads, and only decides what it fully understands: anything else (a
// collection it cannot find, a type it does not compare, any error) is left to the old way.
//
// Consistency: the update's document is locked by the proxy (doclocks.go) and FerretDB commits a
// write before it answers it, so a read that starts now sees every earlier write of the document.

// storedSchema is the "$s" field of FerretDB's SQLite storage of a document ("sjson"): the types
// of the values stored as JSON beside it.
type storedSchema struct {
	Properties map[string]struct {
		Type string `json:"t"`
	} `json:"p"`
}

type directReader struct {
	files *sqliteFiles
	mu    sync.Mutex
	pools map[string]*sql.DB   // database -> connections to its file
	stmts map[string]*sql.Stmt // "db.collection" -> the lookup by _id in its table
}

func newDirectReader(files *sqliteFiles) *directReader {
	r := &directReader{files: files, pools: map[string]*sql.DB{}, stmts: map[string]*sql.Stmt{}}
	files.beforeDrop = r.closeAll
	return r
}

// matches says whether the document with this _id matches every condition (plain equalities),
// and whether it could decide that at all.
func (r *directReader) matches(db, collection string, id bsoncore.Value, conditions []bsoncore.Element) (matched, decided bool) {
	// Only the _id types FerretDB itself looks up by its index (see its sqlite backend's Query).
	idJSON, idType, ok := sjsonScalar(id)
	if !ok || idJSON == nil {
		return false, false
	}
	for _, c := range conditions {
		if _, _, ok := sjsonScalar(c.Value()); !ok {
			return false, false
		}
	}
	// Held for reading: dropDatabase waits for it, then closes every pool (sqlitefiles.go says why).
	r.files.drops.RLock()
	defer r.files.drops.RUnlock()
	stmt, err := r.lookup(db, collection)
	if err != nil || stmt == nil {
		return false, false
	}
	rows, err := stmt.Query(string(idJSON))
	if err != nil {
		r.forget(db, collection)
		return false, false
	}
	defer rows.Close()
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return false, false
		}
		var values map[string]json.RawMessage
		var schema storedSchema
		if json.Unmarshal([]byte(text), &values) != nil || json.Unmarshal(values["$s"], &schema) != nil {
			return false, false
		}
		// A string _id and an ObjectId with the same hex digits look alike in JSON.
		if schema.Properties["_id"].Type != idType {
			continue
		}
		for _, c := range conditions {
			if !sameValue(values[c.Key()], schema.Properties[c.Key()].Type, c.Value()) {
				return false, rows.Err() == nil
			}
		}
		return true, rows.Err() == nil
	}
	// no such document
	return false, rows.Err() == nil
}

// lookup returns the prepared lookup by _id in the collection's table, or nil if the collection
// does not exist (yet).
func (r *directReader) lookup(db, collection string) (*sql.Stmt, error) {
	key := db + "." + collection
	r.mu.Lock()
	defer r.mu.Unlock()
	if stmt := r.stmts[key]; stmt != nil {
		return stmt, nil
	}
	pool := r.pools[db]
	if pool == nil {
		path := filepath.Join(r.files.dir, db+".sqlite")
		// mode=rw: never create a file FerretDB would then take for a database.
		var err error
		pool, err = sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_pragma=busy_timeout(60000)")
		if err != nil {
			return nil, err
		}
		pool.SetMaxOpenConns(4)
		r.pools[db] = pool
	}
	var table string
	err := pool.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The very expression FerretDB looks documents up with, so that idindex.go's index serves it.
	stmt, err := pool.Prepare(fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table))
	if err != nil {
		return nil, err
	}
	r.stmts[key] = stmt
	return stmt, nil
}

// forget drops a collection's prepared lookup (the collection may have been dropped).
func (r *directReader) forget(db, collection string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if stmt := r.stmts[db+"."+collection]; stmt != nil {
		_ = stmt.Close()
		delete(r.stmts, db+"."+collection)
	}
}

// changesTables names the commands after which a collection may live in another table, or its
// table hold another collection's documents.
var changesTables = map[string]bool{"drop": true, "dropDatabase": true, "renameCollection": true}

// after is told of every command once FerretDB has run it: the prepared lookups are made again
// after any of these (a rename moves a collection to another name, not to another table).
func (r *directReader) after(command string) {
	if !changesTables[command] {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, stmt := range r.stmts {
		_ = stmt.Close()
		delete(r.stmts, key)
	}
}

// closeAll closes every connection; called while dropDatabase holds the drops lock exclusively.
func (r *directReader) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, stmt := range r.stmts {
		_ = stmt.Close()
		delete(r.stmts, key)
	}
	for db, pool := range r.pools {
		_ = pool.Close()
		delete(r.pools, db)
	}
}

// sjsonScalar says whether the filter may compare a value of this type here, and for a string or
// an ObjectId also how FerretDB stores it: its JSON and its schema type.
func sjsonScalar(v bsoncore.Value) ([]byte, string, bool) {
	switch v.Type {
	case bsontype.ObjectID:
		oid, _ := v.ObjectIDOK()
		b, err := json.Marshal(hex.EncodeToString(oid[:]))
		return b, "objectId", err == nil
	case bsontype.String:
		s, _ := v.StringValueOK()
		b, err := json.Marshal(s)
		return b, "string", err == nil
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Boolean:
		return nil, "", true
	}
	return nil, "", false
}

// sameValue compares a stored value (its JSON and schema type) with a filter's, as MongoDB's
// equality does for these types: numbers by value whatever their type, the rest by type and value.
func sameValue(stored json.RawMessage, storedType string, want bsoncore.Value) bool {
	if stored == nil {
		return false // a missing field equals no value of these types
	}
	if f, ok := number(want); ok {
		if storedType != "int" && storedType != "long" && storedType != "double" {
			return false
		}
		got, err := strconv.ParseFloat(string(stored), 64)
		return err == nil && got == f
	}
	var got string
	switch want.Type {
	case bsontype.String:
		s, _ := want.StringValueOK()
		return storedType == "string" && json.Unmarshal(stored, &got) == nil && got == s
	case bsontype.ObjectID:
		oid, _ := want.ObjectIDOK()
		return storedType == "objectId" && json.Unmarshal(stored, &got) == nil && got == hex.EncodeToString(oid[:])
	case bsontype.Boolean:
		b, _ := want.BooleanOK()
		return storedType == "bool" && string(stored) == strconv.FormatBool(b)
	}
	return false
}
