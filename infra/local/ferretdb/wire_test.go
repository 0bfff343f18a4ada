package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// doc marshals a bson.D (in its order) into a BSON document.
func doc(t *testing.T, d bson.D) bsoncore.Document {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sequence is an OP_MSG document sequence section (kind 1), as the driver sends a bulk's statements.
type sequence struct {
	identifier string
	docs       []bsoncore.Document
}

// message builds an OP_MSG with the given flags, body and document sequences; with flag 1
// (checksumPresent) it ends in four checksum bytes.
func message(requestID int32, flagBits uint32, body bsoncore.Document, sequences ...sequence) []byte {
	msg := make([]byte, 16, 64)
	binary.LittleEndian.PutUint32(msg[4:8], uint32(requestID))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	msg = binary.LittleEndian.AppendUint32(msg, flagBits)
	msg = append(msg, 0)
	msg = append(msg, body...)
	for _, s := range sequences {
		var section []byte
		section = append(section, s.identifier...)
		section = append(section, 0)
		for _, d := range s.docs {
			section = append(section, d...)
		}
		msg = append(msg, 1)
		msg = binary.LittleEndian.AppendUint32(msg, uint32(4+len(section)))
		msg = append(msg, section...)
	}
	if flagBits&1 != 0 {
		msg = append(msg, 0xde, 0xad, 0xbe, 0xef)
	}
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	return msg
}

// replyBody returns the body document of an OP_MSG reply.
func replyBody(t *testing.T, reply []byte) bsoncore.Document {
	t.Helper()
	if opCode(reply) != opMsg || int(binary.LittleEndian.Uint32(reply[0:4])) != len(reply) || reply[20] != 0 {
		t.Fatalf("not a one-section OP_MSG: % x", reply)
	}
	body, _, ok := bsoncore.ReadDocument(reply[21:])
	if !ok {
		t.Fatal("malformed reply body")
	}
	return body
}

func TestInspectReadsCommandNamespaceAndStatements(t *testing.T) {
	stmt := func(id int) bsoncore.Document {
		return doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: id}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}}}})
	}
	inBody := doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{stmt(1), stmt(2)}}, {Key: "$db", Value: "shop"}})
	bare := doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "$db", Value: "shop"}})
	deletes := doc(t, bson.D{{Key: "delete", Value: "outbox"}, {Key: "$db", Value: "shop"}})
	find := doc(t, bson.D{{Key: "find", Value: "tickets"}, {Key: "filter", Value: bson.D{}}, {Key: "$db", Value: "shop"}})
	rename := doc(t, bson.D{{Key: "renameCollection", Value: "shop.a"}, {Key: "to", Value: "other.b"}, {Key: "$db", Value: "admin"}})

	cases := []struct {
		name        string
		msg         []byte
		want        command
		expectReply bool
	}{
		{"statements in the body", message(1, 0, inBody), command{name: "update", db: "shop", collection: "tickets", statements: 2}, true},
		{"statements in a document sequence", message(1, 0, bare, sequence{"updates", []bsoncore.Document{stmt(1), stmt(2), stmt(3)}}), command{name: "update", db: "shop", collection: "tickets", statements: 3}, true},
		{"with a checksum", message(1, 1, bare, sequence{"updates", []bsoncore.Document{stmt(1)}}), command{name: "update", db: "shop", collection: "tickets", statements: 1}, true},
		{"deletes", message(1, 0, deletes, sequence{"deletes", []bsoncore.Document{stmt(1), stmt(2)}}), command{name: "delete", db: "shop", collection: "outbox", statements: 2}, true},
		{"moreToCome: no reply", message(1, 2, inBody), command{name: "update", db: "shop", collection: "tickets", statements: 2}, false},
		{"statements of other commands are not counted", message(1, 0, find, sequence{"updates", []bsoncore.Document{stmt(1)}}), command{name: "find", db: "shop", collection: "tickets"}, true},
		{"a rename names its target", message(1, 0, rename), command{name: "renameCollection", db: "admin", collection: "shop.a", renameTo: "other.b"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, expectReply := inspect(c.msg)
			if got != c.want || expectReply != c.expectReply {
				t.Errorf("inspect = %+v, %v; want %+v, %v", got, expectReply, c.want, c.expectReply)
			}
		})
	}
}

func TestInspectLeavesWhatItCannotReadToTheServer(t *testing.T) {
	body := doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "$db", Value: "shop"}})
	full := message(1, 0, body)
	legacy := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(legacy[12:16], 2004) // OP_QUERY
	truncated := append([]byte(nil), full[:len(full)-3]...)
	binary.LittleEndian.PutUint32(truncated[0:4], uint32(len(truncated)))
	badSequence := append(append([]byte(nil), full...), 1, 0xff, 0xff, 0, 0)
	binary.LittleEndian.PutUint32(badSequence[0:4], uint32(len(badSequence)))

	for name, msg := range map[string][]byte{
		"not an OP_MSG":           legacy,
		"header only":             full[:16],
		"header and flags only":   full[:20],
		"a truncated body":        truncated,
		"a sequence past the end": badSequence,
	} {
		t.Run(name, func(t *testing.T) {
			cmd, expectReply := inspect(msg) // must not panic
			if !expectReply || cmd.statements != 0 || (cmd.name != "" && cmd.name != "update") {
				t.Errorf("inspect = %+v, %v", cmd, expectReply)
			}
		})
	}
}

func TestReadMessage(t *testing.T) {
	body := doc(t, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	msg := message(7, 0, body)
	got, err := readMessage(bytes.NewReader(append(append([]byte(nil), msg...), msg...)))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("readMessage = %x, %v", got, err)
	}
	for name, stream := range map[string][]byte{
		"a length under a header": {8, 0, 0, 0, 1, 2, 3, 4},
		"a length over 64 MiB":    {0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"a cut message":           msg[:len(msg)-1],
	} {
		if _, err := readMessage(bytes.NewReader(stream)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTooManyStatementsAnswersTheRequestWithAClearError(t *testing.T) {
	request := message(42, 0, doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}))
	reply := tooManyStatements(request, command{name: "update", statements: 51})
	if responseTo := int32(binary.LittleEndian.Uint32(reply[8:12])); responseTo != 42 {
		t.Errorf("responseTo = %d, want 42", responseTo)
	}
	body := replyBody(t, reply)
	if ok, _ := number(body.Lookup("ok")); ok != 0 {
		t.Errorf("ok = %v", ok)
	}
	if code, _ := number(body.Lookup("code")); code != 2 {
		t.Errorf("code = %v", code)
	}
	if msg := body.Lookup("errmsg").StringValue(); !strings.Contains(msg, "update of 51 statements") || !strings.Contains(msg, "at most 50 per command") {
		t.Errorf("errmsg = %q", msg)
	}
}
