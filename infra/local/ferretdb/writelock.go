package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Why this proxy exists: FerretDB 1.x applies update, delete and findAndModify by querying the
// matching documents and then writing whole documents back, in two steps that are not one
// transaction. Two concurrent conditional updates of one document can therefore both match and
// the second write-back silently undoes the first (a lost update). MongoDB guarantees that a
// single-document update is atomic, and the services rely on it (optimistic concurrency, version
// checks on replicas, the outbox). So clients talk to this proxy, which lets only one such command
// at a time write a document (doclocks.go); everything else (reads, inserts, handshakes) passes
// through unlocked.

const opMsg = 2013

var readModifyWrite = map[string]bool{"update": true, "delete": true, "findAndModify": true, "findandmodify": true}

// serveWithWriteLocks accepts clients on l and forwards each connection to the backend address.
func serveWithWriteLocks(l net.Listener, network, backend string, files *sqliteFiles) error {
	indexer := newIDIndexer(files)
	reader := newDirectReader(files)
	locks := newWriteLocks()
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
			if err := relay(client, server, locks, files, indexer, reader); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Printf("ferretdb proxy: %v", err)
			}
		}()
	}
}

// relay forwards request/response exchanges one at a time, as the wire protocol does per
// connection, holding a write command's locks (doclocks.go) until its reply. The _id indexer
// sees each command after FerretDB has run it and before the client gets the reply, so a client
// that goes on with another connection already finds the index there.
func relay(client, server net.Conn, locks *writeLocks, files *sqliteFiles, indexer *idIndexer, reader *directReader) error {
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
			reader.after(cmd.name)
			return reply
		}
		err = files.serving(func() error {
			switch {
			case readModifyWrite[cmd.name]:
				return locks.holding(cmd, request, func(writer *sync.Mutex) error {
					return lockedExchange(client, server, request, expectReply, done, writer, reader)
				})
			case cmd.name == "dropDatabase":
				return files.dropping(func() error { return exchange(client, server, request, expectReply, done) })
			default:
				return exchange(client, server, request, expectReply, done)
			}
		})
		if err != nil {
			return err
		}
	}
}

// lockedExchange runs a write command while what it writes is locked, by the fast path for a
// simple versioned update (pushdown.go) when it applies; the command itself goes to FerretDB as the
// database's only writer.
func lockedExchange(client, server net.Conn, request []byte, expectReply bool, done func([]byte) []byte, writer *sync.Mutex, reader *directReader) error {
	var fast fastPath
	if expectReply {
		var err error
		if fast, err = fastUpdate(server, request, reader); err != nil {
			return err
		}
		if fast.reply != nil {
			_, err := client.Write(fast.reply)
			return err
		}
	}
	if fast.handled {
		request = fast.rewritten
		original := done
		done = func(reply []byte) []byte {
			return original(fast.after(reply))
		}
	}
	writer.Lock()
	defer writer.Unlock()
	return exchange(client, server, request, expectReply, done)
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

// statementsField names the list of statements of the commands whose statements are counted.
var statementsField = map[string]string{"update": "updates", "delete": "deletes"}

// command is what a request asks: its name (empty when it is not an OP_MSG command) and the
// namespace it names.
type command struct {
	name, db, collection string
	// statements counts the entries of an update's `updates` or a delete's `deletes`, in the body
	// or in a document sequence.
	statements int
}

// inspect returns the command a message carries and whether it expects a reply.
func inspect(msg []byte) (command, bool) {
	if opCode(msg) != opMsg {
		return command{}, true
	}
	expectReply := flags(msg)&2 == 0 // moreToCome on a request: no reply
	var cmd command
	sequenced := 0
	body := msg[20:]
	if flags(msg)&1 != 0 && len(body) >= 4 { // checksumPresent: four bytes after the sections
		body = body[:len(body)-4]
	}
	for len(body) > 0 {
		kind := body[0]
		body = body[1:]
		if kind == 1 { // document sequence: size, identifier, documents
			if len(body) < 4 {
				break
			}
			size := int(binary.LittleEndian.Uint32(body))
			if size < 4 || size > len(body) {
				break
			}
			if identifier, n := sequenceOf(body[4:size]); identifier == "updates" || identifier == "deletes" {
				sequenced += n
			}
			body = body[size:]
			continue
		}
		doc, rest, ok := bsoncore.ReadDocument(body)
		if !ok {
			break
		}
		body = rest
		elems, err := doc.Elements()
		if err != nil || len(elems) == 0 {
			break
		}
		cmd.name = elems[0].Key()
		cmd.collection, _ = elems[0].Value().StringValueOK()
		cmd.db, _ = doc.Lookup("$db").StringValueOK()
		if field := statementsField[cmd.name]; field != "" {
			if list, ok := doc.Lookup(field).ArrayOK(); ok {
				values, _ := list.Values()
				cmd.statements += len(values)
			}
		}
	}
	if statementsField[cmd.name] != "" {
		cmd.statements += sequenced
	}
	return cmd, expectReply
}

// sequenceOf returns a document sequence's identifier and how many documents follow it.
func sequenceOf(section []byte) (string, int) {
	end := 0
	for end < len(section) && section[end] != 0 {
		end++
	}
	identifier := string(section[:end])
	docs := section[min(end+1, len(section)):]
	n := 0
	for len(docs) > 0 {
		_, rest, ok := bsoncore.ReadDocument(docs)
		if !ok {
			break
		}
		n++
		docs = rest
	}
	return identifier, n
}

// Why a limit on statements per command: FerretDB 1.24 on SQLite keeps a query open for each
// statement of an update or delete until the whole command ends, from a pool of 100 connections.
// A command of about 100 statements then waits for a connection it holds itself, and every other
// client of the server waits with it, for good. Such a command gets a clear error instead.
const maxStatements = 50

// statementsInFlight is how many statements of update, delete and findAndModify commands may
// run at once, across collections: each holds a connection per statement (and one more to write)
// until its command ends, so a few large commands on different collections could together take
// FerretDB's 100 connections and wait for each other the same way one too large command does.
const statementsInFlight = 60

// semaphore hands out units first come, first served: a command of many statements waits for
// its turn, not until no command of one statement is left wanting (unfair, a bulk of 16 waited up
// to 0.9 s behind a stream of single updates).
type semaphore struct {
	mu    sync.Mutex
	freed *sync.Cond
	left  int
	// issued numbers the callers of acquire; serving is the one whose turn it is.
	issued, serving uint64
}

func newSemaphore(size int) *semaphore {
	s := &semaphore{left: size}
	s.freed = sync.NewCond(&s.mu)
	return s
}

func (s *semaphore) acquire(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	turn := s.issued
	s.issued++
	for s.serving != turn || s.left < n {
		s.freed.Wait()
	}
	s.left -= n
	s.serving++
	s.freed.Broadcast() // the next in line may go on too
}

func (s *semaphore) release(n int) {
	s.mu.Lock()
	s.left += n
	s.mu.Unlock()
	s.freed.Broadcast()
}

// tooManyStatements is the error reply to a command over maxStatements.
func tooManyStatements(request []byte, cmd command) []byte {
	requestID := int32(binary.LittleEndian.Uint32(request[4:8]))
	body := bsoncore.BuildDocument(nil,
		bsoncore.AppendDoubleElement(nil, "ok", 0),
		bsoncore.AppendStringElement(nil, "errmsg", fmt.Sprintf(
			"%s of %d statements: the FerretDB stand-in takes at most %d per command (FerretDB 1.24 on SQLite deadlocks on about 100); split it",
			cmd.name, cmd.statements, maxStatements)),
		bsoncore.AppendInt32Element(nil, "code", 2),
		bsoncore.AppendStringElement(nil, "codeName", "BadValue"),
	)
	return opMsgMessage(0x7fff0002, requestID, body)
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	size := int(binary.LittleEndian.Uint32(header[:]))
	if size < 16 || size > 64<<20 {
		return nil, errors.New("bad message length")
	}
	msg := make([]byte, size)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func opCode(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg[12:16])) }

func flags(msg []byte) uint32 {
	if len(msg) < 20 {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[16:20])
}
