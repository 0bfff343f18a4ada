package main

import (
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"strings"
)

// Why this proxy exists: FerretDB 1.x applies update, delete and findAndModify by querying the
// matching documents and then writing whole documents back, in two steps that are not one
// transaction. Two concurrent conditional updates of one document can therefore both match and
// the second write-back silently undoes the first (a lost update). MongoDB guarantees that a
// single-document update is atomic, and the services rely on it (optimistic concurrency, version
// checks on replicas, the outbox). So clients talk to this proxy, which lets only one such command
// at a time write a document, as MongoDB does (locks.go); everything else (reads, inserts,
// handshakes) passes through unlocked.

// readModifyWrite names the commands FerretDB runs as a read followed by a write.
var readModifyWrite = map[string]bool{"update": true, "delete": true, "findAndModify": true, "findandmodify": true}

// movesDocuments names the commands that take a collection's documents away from under its name
// (renameCollection with dropTarget may also replace them). They take the same locks, so that none
// lands between a versioned update's check and its write (pushdown.go), which names the document
// by _id alone and would otherwise write whatever document now has that _id.
var movesDocuments = map[string]bool{"drop": true, "dropDatabase": true, "renameCollection": true}

// serveWithWriteLocks accepts clients on l and forwards each connection to the backend address.
func serveWithWriteLocks(l net.Listener, network, backend string, files *sqliteFiles) error {
	indexer := newIDIndexer(files)
	locks := newDatabaseLocks()
	for {
		client, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer client.Close()
			server, err := net.Dial(network, backend)
			if err != nil {
				log.Printf("ferretdb proxy: %v", err)
				return
			}
			defer server.Close()
			if err := relay(client, server, locks, files, indexer); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Printf("ferretdb proxy: %v", err)
			}
		}()
	}
}

// relay forwards request/response exchanges one at a time, as the wire protocol does per
// connection, holding a command's locks (locks.go) until its reply. The _id indexer sees each
// command after FerretDB has run it and before the client gets the reply, so a client that goes on
// with another connection already finds the index there.
func relay(client, server net.Conn, locks *databaseLocks, files *sqliteFiles, indexer *idIndexer) error {
	for {
		request, err := readMessage(client)
		if err != nil {
			return err
		}
		cmd, expectReply := inspect(request)
		if cmd.statements > maxStatements && expectReply {
			if _, err := client.Write(tooManyStatements(request, cmd)); err != nil {
				return err
			}
			continue
		}
		done := func(reply []byte) []byte {
			indexer.after(cmd.name, cmd.db, cmd.collection)
			return reply
		}
		// The locks are taken before the command counts as in flight (files.serving): a quiet moment
		// for the log (sqlitefiles.go) waits for the commands at FerretDB, not for the queue behind a
		// lock.
		plan := planLocks(cmd, request)
		unlock := func() {}
		if plan != nil {
			unlock = locks.hold(plan)
		}
		writing := func(write func() error) error { return locks.writing(plan, write) }
		err = files.serving(func() error {
			switch {
			case cmd.name == "update" && expectReply:
				return versionedExchange(client, server, request, done, writing)
			case cmd.name == "dropDatabase":
				return files.dropping(func() error { return exchange(client, server, request, expectReply, done) })
			default:
				return writing(func() error { return exchange(client, server, request, expectReply, done) })
			}
		})
		unlock()
		if err != nil {
			return err
		}
	}
}

// versionedExchange runs an update, by the fast path for versioned updates (pushdown.go) when it
// applies; its documents are locked. The fast path's check is a read; only the update itself is
// sent through writing.
func versionedExchange(client, server net.Conn, request []byte, done func([]byte) []byte, writing func(func() error) error) error {
	fast, err := fastUpdate(server, request)
	if err != nil {
		return err
	}
	if fast.reply != nil {
		_, err := client.Write(fast.reply)
		return err
	}
	if fast.handled {
		request = fast.rewritten
		original := done
		done = func(reply []byte) []byte { return original(fast.after(reply)) }
	}
	return writing(func() error { return exchange(client, server, request, true, done) })
}

// exchange sends the request and relays its replies; done runs once the server has answered
// (or, for a request without a reply, once it is sent) and before the client sees the answer.
func exchange(client, server net.Conn, request []byte, expectReply bool, done func(reply []byte) []byte) error {
	if _, err := server.Write(request); err != nil {
		return err
	}
	if !expectReply {
		done(nil)
	}
	for first := true; expectReply; first = false {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if first {
			reply = done(reply)
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		// a reply with moreToCome is followed by more replies to the same request
		expectReply = opCode(reply) == opMsg && flags(reply)&2 != 0
	}
	return nil
}

// lockedDatabases names the databases a command holds exclusively until its reply, sorted and
// each once, when it does not lock only its documents (planLocks, locks.go); nil for a command
// that takes no lock.
//
// An update, delete or findAndModify with any other filter than the _id of each document it writes
// may write any document of the database, and FerretDB runs it as a read and then a write: no
// write of those documents may come in between, nor may such a command land between a
// document-locked update's check and its write. drop, dropDatabase and renameCollection take a
// collection's documents away from under its name (movesDocuments). The database rather than
// a collection: one level of exclusive lock keeps the lock order simple across renames between
// collections and databases, and the services send such commands rarely (a delete by another
// field, a test's sweep); their hot writes name their documents by _id.
func lockedDatabases(cmd command) []string {
	switch {
	case readModifyWrite[cmd.name] || (movesDocuments[cmd.name] && cmd.name != "renameCollection"):
		return []string{cmd.db}
	case cmd.name == "renameCollection":
		// sent to admin; its namespaces ("db.collection") name the databases
		dbs := []string{databaseOf(cmd.collection), databaseOf(cmd.renameTo)}
		slices.Sort(dbs)
		return slices.Compact(dbs)
	}
	return nil
}

// databaseOf returns the database of a namespace "db.collection" (database names have no dots).
func databaseOf(namespace string) string {
	db, _, _ := strings.Cut(namespace, ".")
	return db
}
