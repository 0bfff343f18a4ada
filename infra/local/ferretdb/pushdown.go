package main

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Why this exists: FerretDB's SQLite backend filters on its side only when the filter is exactly
// {_id: v}; any other filter, such as a versioned update's {_id, version}, reads and decodes the
// whole collection, so each such update would cost time proportional to the collection. MongoDB
// serves it by the _id index. While the proxy holds the database's lock (proxy.go), an update
// whose filter is {_id: v} plus plain equalities can be decided on the one document fetched by
// _id (served by idindex.go's index): if it does not match, the answer is "matched nothing"; if it
// does, the same update is sent with the filter {_id: v}, which FerretDB serves by the index.
// Nothing else can write the document in between. Anything outside that simple shape goes to
// FerretDB unchanged.

// fastPath is what the fast path made of a request: a reply to send to the client (no statement
// matched), or a request to send instead (the matching statements, by _id) and how to give the
// client FerretDB's reply to it; neither (handled false) means "not this shape: forward it unchanged".
type fastPath struct {
	handled   bool
	reply     []byte
	rewritten []byte
	// after is told FerretDB's reply to the rewritten request and returns the client's.
	after func(reply []byte) []byte
}

// A statement of an update sent on by the fast path.
type keptStatement struct {
	index     int // in the client's command
	statement bsoncore.Document
	id        bsoncore.Value
}

// fastUpdate decides each statement of an update whose statements all name their document by
// _id ({_id: v, field: scalar...}): one statement (the services' versioned updates) or many (a
// replica's batch); statements that do not match are left out, the others are sent by _id alone.
func fastUpdate(server net.Conn, request []byte) (fastPath, error) {
	name, body, statements, ok := commandStatements(request)
	if !ok || name != "update" || !oneDocumentEach(statements) {
		return fastPath{}, nil
	}
	collection, ok := body.Lookup("update").StringValueOK()
	if !ok {
		return fastPath{}, nil
	}
	db, _ := body.Lookup("$db").StringValueOK()
	var kept []keptStatement
	var ids []bsoncore.Value
	checked := false
	for i, statement := range statements {
		filter, ok := statement.Lookup("q").DocumentOK()
		if !ok {
			return fastPath{}, nil
		}
		id, conditions, ok := splitFilter(filter)
		if !ok {
			return fastPath{}, nil
		}
		// Each statement is decided on the document as it was before the command; a later one of
		// the same document must see what an earlier one wrote, so such a bulk goes unchanged.
		for _, other := range ids {
			if equalScalars(id, other) {
				return fastPath{}, nil
			}
		}
		ids = append(ids, id)
		keep := keptStatement{index: i, statement: statement, id: id}
		if len(conditions) > 0 {
			checked = true
			doc, err := findByID(server, db, collection, id)
			if err != nil {
				return fastPath{}, err
			}
			if doc == nil {
				continue // no such document
			}
			matched, decided := matches(doc, conditions)
			if !decided {
				return fastPath{}, nil
			}
			if !matched {
				continue
			}
		}
		kept = append(kept, keep)
	}
	if !checked {
		return fastPath{}, nil // by _id alone already: FerretDB serves it by an index
	}
	if len(kept) == 0 {
		return fastPath{handled: true, reply: noMatchReply(request)}, nil
	}
	return fastPath{
		handled:   true,
		rewritten: withStatements(request, body, kept),
		after: func(reply []byte) []byte {
			if len(kept) == len(statements) {
				return reply
			}
			return withStatementIndexes(reply, kept)
		},
	}, nil
}

// commandStatements returns the name, the body and the statements of an update or delete
// command, its statements in the body or in a document sequence (the driver's bulkWrite sends
// one), without a checksum; false for anything else.
func commandStatements(request []byte) (name string, body bsoncore.Document, statements []bsoncore.Document, ok bool) {
	if opCode(request) != opMsg || flags(request)&^2 != 0 || len(request) < 21 || request[20] != 0 { // moreToCome is fine
		return "", nil, nil, false
	}
	body, rest, ok := bsoncore.ReadDocument(request[21:])
	if !ok {
		return "", nil, nil, false
	}
	elems, err := body.Elements()
	if err != nil || len(elems) == 0 || statementsField[elems[0].Key()] == "" {
		return "", nil, nil, false
	}
	name = elems[0].Key()
	field := statementsField[name]
	if list, ok := body.Lookup(field).ArrayOK(); ok {
		values, err := list.Values()
		if err != nil {
			return "", nil, nil, false
		}
		for _, v := range values {
			statement, ok := v.DocumentOK()
			if !ok {
				return "", nil, nil, false
			}
			statements = append(statements, statement)
		}
	}
	for len(rest) > 0 { // document sequences
		if rest[0] != 1 || len(rest) < 5 {
			return "", nil, nil, false
		}
		size := int(binary.LittleEndian.Uint32(rest[1:]))
		if size < 4 || size > len(rest)-1 {
			return "", nil, nil, false
		}
		section := rest[5 : 1+size]
		rest = rest[1+size:]
		end := strings.IndexByte(string(section), 0)
		if end < 0 || string(section[:end]) != field {
			return "", nil, nil, false
		}
		for seq := section[end+1:]; len(seq) > 0; {
			statement, more, ok := bsoncore.ReadDocument(seq)
			if !ok {
				return "", nil, nil, false
			}
			statements = append(statements, statement)
			seq = more
		}
	}
	return name, body, statements, len(statements) > 0
}

// oneDocumentEach says whether no statement is an upsert or a multi-document update.
func oneDocumentEach(statements []bsoncore.Document) bool {
	yes := bsoncore.Value{Type: bsontype.Boolean, Data: []byte{1}}
	for _, statement := range statements {
		if statement.Lookup("upsert").Equal(yes) || statement.Lookup("multi").Equal(yes) {
			return false
		}
	}
	return true
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

// matches says whether the document matches every condition (plain equalities), and whether it
// could decide that: a condition on an array field is left to FerretDB (an array equals a scalar
// when one of its elements does).
func matches(doc bsoncore.Document, conditions []bsoncore.Element) (matched, decided bool) {
	matched = true
	for _, c := range conditions {
		actual, err := doc.LookupErr(c.Key())
		if err == nil && actual.Type == bsontype.Array {
			return false, false
		}
		if err != nil || !equalScalars(actual, c.Value()) {
			matched = false
		}
	}
	return matched, true
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

// withStatements rebuilds the request with only the kept statements, each filtering by _id alone;
// they go in the body whichever way they came (a document sequence is left out).
func withStatements(request []byte, body bsoncore.Document, kept []keptStatement) []byte {
	statements := make([][]byte, len(kept))
	for i, k := range kept {
		filter := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "_id", k.id))
		statements[i] = replacing(k.statement, "q", func(dst []byte) []byte { return bsoncore.AppendDocumentElement(dst, "q", filter) })
	}
	newBody := replacing(body, "updates", func(dst []byte) []byte {
		return bsoncore.AppendArrayElement(dst, "updates", documentArray(statements))
	})
	requestID := int32(binary.LittleEndian.Uint32(request[4:8]))
	return opMsgMessage(requestID, 0, newBody)
}

// withStatementIndexes gives the write errors of a reply to the kept statements the indexes of
// those statements in the client's command.
func withStatementIndexes(reply []byte, kept []keptStatement) []byte {
	if len(reply) < 21 || opCode(reply) != opMsg || reply[20] != 0 {
		return reply
	}
	doc, rest, ok := bsoncore.ReadDocument(reply[21:])
	if !ok {
		return reply
	}
	errorsList, ok := doc.Lookup("writeErrors").ArrayOK()
	if !ok {
		return reply
	}
	values, err := errorsList.Values()
	if err != nil {
		return reply
	}
	mapped := make([][]byte, len(values))
	for i, v := range values {
		writeError, ok := v.DocumentOK()
		if !ok {
			return reply
		}
		at, ok := number(writeError.Lookup("index"))
		if !ok || at < 0 || int(at) >= len(kept) {
			return reply
		}
		index := int32(kept[int(at)].index)
		mapped[i] = replacing(writeError, "index", func(dst []byte) []byte { return bsoncore.AppendInt32Element(dst, "index", index) })
	}
	newDoc := replacing(doc, "writeErrors", func(dst []byte) []byte {
		return bsoncore.AppendArrayElement(dst, "writeErrors", documentArray(mapped))
	})
	out := append([]byte(nil), reply[:21]...)
	out = append(out, newDoc...)
	out = append(out, rest...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
}

// replacing returns the document with its element `key` replaced by what put appends (put at the
// end if the document has no such element).
func replacing(doc bsoncore.Document, key string, put func(dst []byte) []byte) []byte {
	elems, _ := doc.Elements()
	idx, out := bsoncore.AppendDocumentStart(nil)
	found := false
	for _, e := range elems {
		if e.Key() == key {
			out, found = put(out), true
		} else {
			out = append(out, e...)
		}
	}
	if !found {
		out = put(out)
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

// documentArray is a BSON array of the documents.
func documentArray(docs [][]byte) []byte {
	idx, list := bsoncore.AppendArrayStart(nil)
	for i, doc := range docs {
		list = bsoncore.AppendDocumentElement(list, strconv.Itoa(i), doc)
	}
	list, _ = bsoncore.AppendArrayEnd(list, idx)
	return list
}
