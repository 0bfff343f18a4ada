package main

import (
	"encoding/binary"
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

func TestSplitFilterAcceptsIdPlusPlainEqualitiesOnly(t *testing.T) {
	oid := primitive.NewObjectID()
	accepted := []struct {
		filter     bson.D
		conditions []string
	}{
		{bson.D{{Key: "_id", Value: oid}, {Key: "version", Value: 3}}, []string{"version"}},
		{bson.D{{Key: "version", Value: int64(3)}, {Key: "_id", Value: "t-1"}, {Key: "ok", Value: true}}, []string{"version", "ok"}},
		{bson.D{{Key: "_id", Value: 1.5}}, nil},
	}
	for _, c := range accepted {
		id, conditions, ok := splitFilter(doc(t, c.filter))
		if !ok || id.Type == 0 || len(conditions) != len(c.conditions) {
			t.Errorf("splitFilter(%v) = %v, %v, %v", c.filter, id, conditions, ok)
			continue
		}
		for i, k := range c.conditions {
			if conditions[i].Key() != k {
				t.Errorf("splitFilter(%v): condition %d is %q, want %q", c.filter, i, conditions[i].Key(), k)
			}
		}
	}
	refused := []bson.D{
		{{Key: "version", Value: 3}}, // no _id: not one document
		{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}},
		{{Key: "_id", Value: 1}, {Key: "version", Value: bson.D{{Key: "$gt", Value: 2}}}},
		{{Key: "_id", Value: 1}, {Key: "a.b", Value: 2}},
		{{Key: "_id", Value: 1}, {Key: "$or", Value: bson.A{bson.D{{Key: "v", Value: 1}}}}},
		{{Key: "_id", Value: 1}, {Key: "tags", Value: bson.A{"a"}}},
		{{Key: "_id", Value: 1}, {Key: "v", Value: nil}},
		{{Key: "_id", Value: primitive.NewDateTimeFromTime(primitive.NewObjectID().Timestamp())}},
	}
	for _, f := range refused {
		if _, _, ok := splitFilter(doc(t, f)); ok {
			t.Errorf("splitFilter(%v) accepted it", f)
		}
	}
}

func TestMatchesComparesAsMongoDBDoes(t *testing.T) {
	oid, other := primitive.NewObjectID(), primitive.NewObjectID()
	stored := doc(t, bson.D{
		{Key: "_id", Value: oid}, {Key: "v", Value: int32(2)}, {Key: "d", Value: 2.5}, {Key: "s", Value: "x"},
		{Key: "b", Value: true}, {Key: "o", Value: other}, {Key: "h", Value: other.Hex()}, {Key: "tags", Value: bson.A{"a", "b"}},
	})
	cases := []struct {
		conditions      bson.D
		matched, decide bool
	}{
		{bson.D{{Key: "v", Value: 2}}, true, true},
		{bson.D{{Key: "v", Value: int64(2)}}, true, true},
		{bson.D{{Key: "v", Value: 2.0}}, true, true},
		{bson.D{{Key: "d", Value: 2.5}}, true, true},
		{bson.D{{Key: "v", Value: 3}}, false, true},
		{bson.D{{Key: "v", Value: "2"}}, false, true},
		{bson.D{{Key: "s", Value: "x"}, {Key: "b", Value: true}}, true, true},
		{bson.D{{Key: "s", Value: "x"}, {Key: "b", Value: false}}, false, true},
		{bson.D{{Key: "b", Value: 1}}, false, true},
		{bson.D{{Key: "o", Value: other}}, true, true},
		{bson.D{{Key: "o", Value: other.Hex()}}, false, true},
		{bson.D{{Key: "h", Value: other}}, false, true},
		{bson.D{{Key: "missing", Value: 1}}, false, true},
		// an array equals a scalar when one of its elements does: left to FerretDB
		{bson.D{{Key: "tags", Value: "a"}}, false, false},
	}
	for _, c := range cases {
		conditions, err := doc(t, c.conditions).Elements()
		if err != nil {
			t.Fatal(err)
		}
		matched, decided := matches(stored, conditions)
		if matched != c.matched || decided != c.decide {
			t.Errorf("matches(%v) = %v, %v; want %v, %v", c.conditions, matched, decided, c.matched, c.decide)
		}
	}
}

func TestEqualScalarsTakesNumbersByValue(t *testing.T) {
	value := func(v any) bsoncore.Value { return doc(t, bson.D{{Key: "v", Value: v}}).Lookup("v") }
	if !equalScalars(value(int32(1)), value(1.0)) || !equalScalars(value(int64(1)), value(int32(1))) {
		t.Error("1, int64 1 and 1.0 are one value")
	}
	if !equalScalars(value(0.0), value(math.Copysign(0, -1))) {
		t.Error("0 and -0 are one value")
	}
	if equalScalars(value(math.NaN()), value(1)) || equalScalars(value("1"), value(1)) || equalScalars(value(true), value(1)) {
		t.Error("different values compared equal")
	}
}

func TestCommandStatementsReadsBodyAndSequences(t *testing.T) {
	stmt := func(id int) bsoncore.Document {
		return doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: id}, {Key: "v", Value: 0}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}}}})
	}
	inBody := message(1, 0, doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{stmt(1), stmt(2)}}, {Key: "$db", Value: "d"}}))
	bare := doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}})
	sequenced := message(1, 0, bare, sequence{"updates", []bsoncore.Document{stmt(1), stmt(2), stmt(3)}})
	for name, c := range map[string]struct {
		msg  []byte
		want int
	}{"in the body": {inBody, 2}, "in a sequence": {sequenced, 3}, "moreToCome": {message(1, 2, bare, sequence{"updates", []bsoncore.Document{stmt(1)}}), 1}} {
		name_, _, statements, ok := commandStatements(c.msg)
		if !ok || name_ != "update" || len(statements) != c.want {
			t.Errorf("%s: commandStatements = %q, %d statements, %v", name, name_, len(statements), ok)
		}
	}
	for name, msg := range map[string][]byte{
		"a checksum":            message(1, 1, bare, sequence{"updates", []bsoncore.Document{stmt(1)}}),
		"another command":       message(1, 0, doc(t, bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "d"}})),
		"another sequence":      message(1, 0, bare, sequence{"documents", []bsoncore.Document{stmt(1)}}),
		"no statements":         message(1, 0, bare),
		"a statement not a doc": message(1, 0, doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{1}}, {Key: "$db", Value: "d"}})),
	} {
		if _, _, _, ok := commandStatements(msg); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOneDocumentEachRefusesUpsertsAndMulti(t *testing.T) {
	plain := doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "upsert", Value: false}})
	upsert := doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "upsert", Value: true}})
	multi := doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "multi", Value: true}})
	if !oneDocumentEach([]bsoncore.Document{plain, plain}) || oneDocumentEach([]bsoncore.Document{plain, upsert}) || oneDocumentEach([]bsoncore.Document{multi}) {
		t.Error("oneDocumentEach")
	}
}

func TestWithStatementsSendsTheKeptStatementsByIdAlone(t *testing.T) {
	stmt := func(id, v int) bsoncore.Document {
		return doc(t, bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v + 1}}}}}})
	}
	body := doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "ordered", Value: false}, {Key: "$db", Value: "d"}})
	request := message(9, 0, body, sequence{"updates", []bsoncore.Document{stmt(1, 0), stmt(2, 5), stmt(3, 0)}})
	_, _, statements, _ := commandStatements(request)
	kept := []keptStatement{
		{index: 0, statement: statements[0], id: statements[0].Lookup("q", "_id")},
		{index: 2, statement: statements[2], id: statements[2].Lookup("q", "_id")},
	}
	rewritten := withStatements(request, body, kept)
	if id := int32(binary.LittleEndian.Uint32(rewritten[4:8])); id != 9 {
		t.Errorf("request id = %d", id)
	}
	cmd, _ := inspect(rewritten)
	if cmd != (command{name: "update", db: "d", collection: "c", statements: 2}) {
		t.Errorf("rewritten command = %+v", cmd)
	}
	got := replyBody(t, rewritten)
	if ordered, _ := got.Lookup("ordered").BooleanOK(); ordered {
		t.Error("lost ordered: false")
	}
	values, _ := got.Lookup("updates").Array().Values()
	for i, want := range []int32{1, 3} {
		s := values[i].Document()
		filter := s.Lookup("q").Document()
		if elems, _ := filter.Elements(); len(elems) != 1 || filter.Lookup("_id").Int32() != want {
			t.Errorf("statement %d: q = %v, want {_id: %d}", i, filter, want)
		}
		if v := s.Lookup("u", "$set", "v").Int32(); v != 1 {
			t.Errorf("statement %d: update changed: %v", i, s.Lookup("u"))
		}
	}
}

func TestWriteErrorsKeepTheClientsStatementIndexes(t *testing.T) {
	kept := []keptStatement{{index: 1}, {index: 4}}
	reply := opMsgMessage(5, 9, doc(t, bson.D{
		{Key: "n", Value: 0},
		{Key: "writeErrors", Value: bson.A{bson.D{{Key: "index", Value: 1}, {Key: "code", Value: 66}, {Key: "errmsg", Value: "immutable _id"}}}},
		{Key: "ok", Value: 1.0},
	}))
	got := replyBody(t, withStatementIndexes(reply, kept))
	errs, _ := got.Lookup("writeErrors").Array().Values()
	if len(errs) != 1 || errs[0].Document().Lookup("index").Int32() != 4 || errs[0].Document().Lookup("code").Int32() != 66 {
		t.Errorf("writeErrors = %v", got.Lookup("writeErrors"))
	}
	// an index out of range leaves the reply as FerretDB sent it
	odd := opMsgMessage(5, 9, doc(t, bson.D{{Key: "writeErrors", Value: bson.A{bson.D{{Key: "index", Value: 7}}}}, {Key: "ok", Value: 1.0}}))
	if out := withStatementIndexes(odd, kept); string(out) != string(odd) {
		t.Error("rewrote a reply it could not map")
	}
}

func TestNoMatchReplyIsAnUpdateThatMatchedNothing(t *testing.T) {
	request := message(77, 0, doc(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}))
	reply := noMatchReply(request)
	if responseTo := int32(binary.LittleEndian.Uint32(reply[8:12])); responseTo != 77 {
		t.Errorf("responseTo = %d", responseTo)
	}
	body := replyBody(t, reply)
	n, _ := number(body.Lookup("n"))
	modified, _ := number(body.Lookup("nModified"))
	ok, _ := number(body.Lookup("ok"))
	if n != 0 || modified != 0 || ok != 1 {
		t.Errorf("reply = %v", body)
	}
}
