package main

import (
	"database/sql"
	"errors"
	"fmt"
	"log"
	"sync"
)

// Why this exists: FerretDB 1.24's SQLite backend stores each collection as a table of JSON
// documents with a unique index on the expression `_ferretdb_sjson->"_id"`, but looks documents
// up by `_id` with `WHERE _ferretdb_sjson->'$._id' = ?`. The two expressions mean the same path
// but are spelled differently, and SQLite only uses an index on an expression for the identical
// expression, so every lookup by `_id` — every findById, every update, delete and findAndModify by
// `_id` — scanned and decoded the whole collection: 1,450 lookups/s at 500 documents, 99/s at
// 20,000. This indexer adds, once per collection, an index on exactly the expression the queries
// use. FerretDB does not know about it and does not need to: dropping the table drops it too.

const idIndexSuffix = "_ticketing_id_lookup"

// commands after which a collection may exist for the first time (or again).
var createsCollections = map[string]bool{
	"insert": true, "update": true, "findAndModify": true, "findandmodify": true, "create": true, "createIndexes": true,
}

type idIndexer struct {
	files *sqliteFiles
	mu    sync.Mutex
	done  map[string]bool // "db.collection" already indexed
}

func newIDIndexer(files *sqliteFiles) *idIndexer {
	return &idIndexer{files: files, done: map[string]bool{}}
}

// after is told of every command once FerretDB has run it.
func (x *idIndexer) after(command, db, collection string) {
	switch {
	case command == "":
	case command == "dropDatabase":
		x.forget(func(key string) bool { return len(key) > len(db) && key[:len(db)+1] == db+"." })
	case command == "drop":
		x.forget(func(key string) bool { return key == db+"."+collection })
	case createsCollections[command] && collection != "":
		if err := x.ensure(db, collection); err != nil {
			log.Printf("ferretdb: cannot index _id lookups of %s.%s: %v", db, collection, err)
		}
	}
}

func (x *idIndexer) forget(match func(key string) bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for key := range x.done {
		if match(key) {
			delete(x.done, key)
		}
	}
}

func (x *idIndexer) ensure(db, collection string) error {
	key := db + "." + collection
	x.mu.Lock()
	done := x.done[key]
	x.mu.Unlock()
	if done {
		return nil
	}

	indexed := false
	err := x.files.with(db, func(conn *sql.DB) error {
		var table string
		err := conn.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // not created (the command failed); the next one tries again
		}
		if err != nil {
			return err
		}
		statement := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+idIndexSuffix, table)
		_, err = conn.Exec(statement)
		indexed = err == nil
		return err
	})
	if err != nil || !indexed {
		return err
	}
	x.mu.Lock()
	x.done[key] = true
	x.mu.Unlock()
	return nil
}
