package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Reading and writing the MongoDB wire protocol's messages, as much of it as the proxy needs.

const opMsg = 2013

// statementsField names the list of statements of the commands whose statements are counted.
var statementsField = map[string]string{"update": "updates", "delete": "deletes"}

// command is what a request asks: its name (empty when it is not an OP_MSG command) and the
// namespace it names.
type command struct {
	name, db, collection string
	// renameTo is a renameCollection's target namespace.
	renameTo string
	// statements counts the entries of an update's `updates` or a delete's `deletes`, in the body
	// or in a document sequence.
	statements int
}

// inspect returns the command a message carries and whether it expects a reply.
func inspect(msg []byte) (command, bool) {
	if opCode(msg) != opMsg || len(msg) < 21 {
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
		if cmd.name == "renameCollection" {
			cmd.renameTo, _ = doc.Lookup("to").StringValueOK()
		}
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
// statement of an update or delete until the whole command ends, from a pool of 100 connections
// per database. A command of about 100 statements then waits for a connection it holds itself,
// and every other client of the database waits with it, for good. Such a command gets a clear
// error instead.
const maxStatements = 50

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

// opMsgMessage is an OP_MSG of one body section, without flags.
func opMsgMessage(requestID, responseTo int32, body []byte) []byte {
	msg := make([]byte, 21, 21+len(body))
	binary.LittleEndian.PutUint32(msg[0:4], uint32(21+len(body)))
	binary.LittleEndian.PutUint32(msg[4:8], uint32(requestID))
	binary.LittleEndian.PutUint32(msg[8:12], uint32(responseTo))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	// flags 0, section kind 0
	return append(msg, body...)
}
