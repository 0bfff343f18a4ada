package main

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Why this exists: FerretDB's SQLite backend filters on its side only when the filter is exactly
// {_id: v}; any other filter — such as a versioned update's {_id, version} — reads and decodes the
// whole collection, so each such update costs time proportional to the collection (a quarter of a
// second at a few thousand documents). While the proxy holds the document's lock (doclocks.go), an
// update whose filter is {_id: v} plus plain equalities can be decided on the one document fetched
// by _id (read from its file by directread.go, or else asked of FerretDB):
// if it does not match, the answer is "matched nothing"; if it does, the same update is sent with
// the filter {_id: v}, which FerretDB serves by an index (idindex.go). Nothing else can write in between.
// Anything outside that simple shape goes to FerretDB unchanged.

// fastPath is what the fast path made of a request: a reply to send to the client (the update
// matched nothing), or a request to send instead (the same update, by _id) and what to tell
// knownValues of FerretDB's reply to it; neither (handled false) means "not this shape: forward it
// unchanged".
type fastPath struct {
	handled   bool
	reply     []byte
	rewritten []byte
	learn     func(reply []byte)
}

func fastUpdate(server net.Conn, request []byte, reader *directReader, known *knownValues) (fastPath, error) {
	name, body, statement, ok := soleStatement(request)
	if !ok || name != "update" || statement.Lookup("multi").Equal(bsoncore.Value{Type: bsontype.Boolean, Data: []byte{1}}) {
		return fastPath{}, nil
	}
	collection, ok := body.Lookup("update").StringValueOK()
	if !ok {
		return fastPath{}, nil
	}
	db, _ := body.Lookup("$db").StringValueOK()
	filter, ok := statement.Lookup("q").DocumentOK()
	if !ok {
		return fastPath{}, nil
	}
	id, conditions, ok := splitFilter(filter)
	if !ok || len(conditions) == 0 {
		return fastPath{}, nil
	}

	matched, decided, generation := known.decide(db, collection, id, conditions)
	if !decided {
		matched, decided = reader.matches(db, collection, id, conditions)
	}
	if !decided {
		doc, err := findByID(server, db, collection, id)
		if err != nil {
			return fastPath{}, err
		}
		matched = doc != nil && matches(doc, conditions)
	}
	if !matched {
		return fastPath{handled: true, reply: noMatchReply(request)}, nil
	}
	return fastPath{
		handled:   true,
		rewritten: withFilter(request, body, statement, bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "_id", id))),
		learn: func(reply []byte) {
			known.learn(db, collection, id, conditions, statement.Lookup("u"), reply, generation)
		},
	}, nil
}

// splitFilter accepts {_id: scalar, field: scalar, ...} with plain top-level field names: a filter
// that matches that one document or none.
func splitFilter(filter bsoncore.Document) (bsoncore.Value, []bsoncore.Element, bool) {
	elems, err := filter.Elements()
	if err != nil {
		return bsoncore.Value{}, nil, false
	}
	var id bsoncore.Value
	var conditions []bsoncore.Element
	for _, e := range elems {
		key, value := e.Key(), e.Value()
		if strings.HasPrefix(key, "$") || strings.Contains(key, ".") || !plainScalar(value.Type) {
			return bsoncore.Value{}, nil, false
		}
		if key == "_id" {
			id = value
		} else {
			conditions = append(conditions, e)
		}
	}
	return id, conditions, id.Type != 0
}

func plainScalar(t bsontype.Type) bool {
	switch t {
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.String, bsontype.ObjectID, bsontype.Boolean:
		return true
	}
	return false
}

func matches(doc bsoncore.Document, conditions []bsoncore.Element) bool {
	for _, c := range conditions {
		actual, err := doc.LookupErr(c.Key())
		if err != nil || !equalScalars(actual, c.Value()) {
			return false
		}
	}
	return true
}

// equalScalars compares as MongoDB does for these types: numbers by value across int32, int64
// and double; everything else by type and bytes.
func equalScalars(a, b bsoncore.Value) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && fa == fb
	}
	return a.Type == b.Type && string(a.Data) == string(b.Data)
}

func number(v bsoncore.Value) (float64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return float64(int32(binary.LittleEndian.Uint32(v.Data))), true
	case bsontype.Int64:
		return float64(int64(binary.LittleEndian.Uint64(v.Data))), true
	case bsontype.Double:
		return math.Float64frombits(binary.LittleEndian.Uint64(v.Data)), true
	}
	return 0, false
}

// findByID asks FerretDB for the one document with that _id (served by an index, idindex.go).
func findByID(server net.Conn, db, collection string, id bsoncore.Value) (bsoncore.Document, error) {
	command := bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "find", collection),
		bsoncore.BuildDocumentElement(nil, "filter", bsoncore.AppendValueElement(nil, "_id", id)),
		bsoncore.AppendInt32Element(nil, "limit", 1),
		bsoncore.AppendBooleanElement(nil, "singleBatch", true),
		bsoncore.AppendStringElement(nil, "$db", db),
	)
	if _, err := server.Write(opMsgMessage(0x7fff0000, 0, command)); err != nil {
		return nil, err
	}
	answer, err := readMessage(server)
	if err != nil {
		return nil, err
	}
	if len(answer) < 21 || opCode(answer) != opMsg || answer[20] != 0 {
		return nil, errors.New("unexpected reply to find")
	}
	reply, _, ok := bsoncore.ReadDocument(answer[21:])
	if !ok {
		return nil, errors.New("malformed reply to find")
	}
	if okValue, _ := number(reply.Lookup("ok")); okValue != 1 {
		return nil, errors.New("find failed: " + reply.String())
	}
	batch, ok := reply.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return nil, errors.New("find reply without cursor.firstBatch")
	}
	docs, err := batch.Values()
	if err != nil || len(docs) == 0 {
		return nil, err
	}
	doc, _ := docs[0].DocumentOK()
	return doc, nil
}

// noMatchReply is what the update would have answered: nothing matched, nothing modified.
func noMatchReply(request []byte) []byte {
	requestID := int32(binary.LittleEndian.Uint32(request[4:8]))
	body := bsoncore.BuildDocument(nil,
		bsoncore.AppendInt32Element(nil, "n", 0),
		bsoncore.AppendInt32Element(nil, "nModified", 0),
		bsoncore.AppendDoubleElement(nil, "ok", 1),
	)
	return opMsgMessage(0x7fff0001, requestID, body)
}

// withFilter rebuilds the request with the statement's filter replaced.
func withFilter(request []byte, body, statement, filter bsoncore.Document) []byte {
	stmtElems, _ := statement.Elements()
	var newStatement []byte
	idx, newStatement := bsoncore.AppendDocumentStart(newStatement)
	for _, e := range stmtElems {
		if e.Key() == "q" {
			newStatement = bsoncore.AppendDocumentElement(newStatement, "q", filter)
		} else {
			newStatement = append(newStatement, e...)
		}
	}
	newStatement, _ = bsoncore.AppendDocumentEnd(newStatement, idx)

	bodyElems, _ := body.Elements()
	idx, newBody := bsoncore.AppendDocumentStart(nil)
	for _, e := range bodyElems {
		if e.Key() == "updates" {
			newBody = bsoncore.BuildArrayElement(newBody, "updates", bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: newStatement})
		} else {
			newBody = append(newBody, e...)
		}
	}
	newBody, _ = bsoncore.AppendDocumentEnd(newBody, idx)
	requestID := int32(binary.LittleEndian.Uint32(request[4:8]))
	return opMsgMessage(requestID, 0, newBody)
}

func opMsgMessage(requestID, responseTo int32, body []byte) []byte {
	msg := make([]byte, 21, 21+len(body))
	binary.LittleEndian.PutUint32(msg[0:4], uint32(21+len(body)))
	binary.LittleEndian.PutUint32(msg[4:8], uint32(requestID))
	binary.LittleEndian.PutUint32(msg[8:12], uint32(responseTo))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	// flags 0, section kind 0
	return append(msg, body...)
}
