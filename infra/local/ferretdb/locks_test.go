package main

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// updateRequest is an update command of statements {q: filter, u: {$set: {x: 1}}}.
func updateRequest(t *testing.T, collection string, filters ...bson.D) []byte {
	t.Helper()
	statements := bson.A{}
	for _, f := range filters {
		statements = append(statements, bson.D{{Key: "q", Value: f}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}})
	}
	return message(1, 0, doc(t, bson.D{{Key: "update", Value: collection}, {Key: "updates", Value: statements}, {Key: "$db", Value: "shop"}}))
}

func plan(t *testing.T, request []byte) *lockPlan {
	t.Helper()
	cmd, _ := inspect(request)
	return planLocks(cmd, request)
}

func idValue(t *testing.T, id any) bsoncore.Value {
	t.Helper()
	return doc(t, bson.D{{Key: "_id", Value: id}}).Lookup("_id")
}

func TestDocumentKeysTakeEqualNumbersOfAnyTypeAsOneId(t *testing.T) {
	key := func(id any) string { return documentKey("shop", "tickets", idValue(t, id)) }
	one := []any{int32(1), int64(1), 1.0}
	for _, id := range one {
		if key(id) != key(one[0]) {
			t.Errorf("_id %T %v has another key than int32 1", id, id)
		}
	}
	if key(0.0) != key(math.Copysign(0, -1)) || key(int32(0)) != key(math.Copysign(0, -1)) {
		t.Error("0 and -0 have different keys")
	}
	if key(math.NaN()) != key(math.Float64frombits(0x7ff8000000000001)) {
		t.Error("two NaNs have different keys")
	}
	oid := primitive.NewObjectID()
	distinct := []any{int32(1), int32(2), 1.5, "1", oid, primitive.NewObjectID(), true, oid.Hex()}
	seen := map[string]any{}
	for _, id := range distinct {
		if other, ok := seen[key(id)]; ok {
			t.Errorf("_id %T %v and %T %v share a key", id, id, other, other)
		}
		seen[key(id)] = id
	}
	if documentKey("shop", "tickets", idValue(t, 1)) == documentKey("shop", "orders", idValue(t, 1)) ||
		documentKey("shop", "tickets", idValue(t, 1)) == documentKey("archive", "tickets", idValue(t, 1)) {
		t.Error("one _id in two collections or databases shares a key")
	}
}

func TestCommandsNamingTheirDocumentsByIdLockOnlyThoseSortedAndEachOnce(t *testing.T) {
	key := func(id any) string { return documentKey("shop", "tickets", idValue(t, id)) }
	oid := primitive.NewObjectID()
	versioned := func(id any) bson.D { return bson.D{{Key: "_id", Value: id}, {Key: "version", Value: 3}} }
	request := updateRequest(t, "tickets", versioned("b"), versioned(int64(7)), versioned(oid), bson.D{{Key: "_id", Value: "a"}}, versioned(7.0), versioned("b"))
	got := plan(t, request)
	want := []string{key("a"), key("b"), key(7), key(oid)}
	slices.Sort(want)
	if got == nil || got.exclusive != nil || got.db != "shop" || !slices.Equal(got.documents, want) || got.statements != 6 {
		t.Fatalf("plan = %+v, want documents %q of shop, 6 statements", got, want)
	}

	// a bulkWrite's statements in a document sequence, unacknowledged: the same documents
	statements := []bsoncore.Document{}
	for _, f := range []bson.D{versioned(2), versioned(int32(1))} {
		statements = append(statements, doc(t, bson.D{{Key: "q", Value: f}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}}))
	}
	sequenced := message(1, 2, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "$db", Value: "shop"}}), sequence{"updates", statements})
	if got := plan(t, sequenced); got == nil || !slices.Equal(got.documents, slices.Sorted(slices.Values([]string{key(1), key(2)}))) {
		t.Errorf("sequenced plan = %+v", got)
	}

	deletes := message(1, 0, doc(t, bson.D{{Key: "delete", Value: "tickets"}, {Key: "deletes", Value: bson.A{
		bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: 3}}}, {Key: "limit", Value: 1}},
	}}, {Key: "$db", Value: "shop"}}))
	if got := plan(t, deletes); got == nil || !slices.Equal(got.documents, []string{key(3)}) {
		t.Errorf("delete plan = %+v", got)
	}

	findAndModify := func(extra ...bson.E) []byte {
		body := bson.D{{Key: "findAndModify", Value: "tickets"}, {Key: "update", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}}
		return message(1, 0, doc(t, append(append(body, extra...), bson.E{Key: "$db", Value: "shop"})))
	}
	if got := plan(t, findAndModify(bson.E{Key: "query", Value: versioned(oid)})); got == nil || !slices.Equal(got.documents, []string{key(oid)}) {
		t.Errorf("findAndModify plan = %+v", got)
	}
	// a filter by _id matches that document or none: an upsert inserts only that _id, multi
	// writes no other
	byID := bson.D{{Key: "_id", Value: "r1"}}
	for what, request := range map[string][]byte{
		"an upsert":                message(1, 0, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: byID}, {Key: "u", Value: bson.D{}}, {Key: "upsert", Value: true}}}}, {Key: "$db", Value: "shop"}})),
		"multi":                    message(1, 0, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: byID}, {Key: "u", Value: bson.D{}}, {Key: "multi", Value: true}}}}, {Key: "$db", Value: "shop"}})),
		"findAndModify, an upsert": findAndModify(bson.E{Key: "query", Value: byID}, bson.E{Key: "upsert", Value: true}),
	} {
		if got := plan(t, request); got == nil || !slices.Equal(got.documents, []string{key("r1")}) {
			t.Errorf("%s by _id: plan = %+v", what, got)
		}
	}

	// anything else may write any document of the database: the database, exclusively
	shop := &lockPlan{exclusive: []string{"shop"}}
	exclusive := map[string][]byte{
		"a filter without _id":       updateRequest(t, "tickets", versioned(1), bson.D{{Key: "version", Value: 3}}),
		"an operator on _id":         updateRequest(t, "tickets", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}),
		"a document _id":             updateRequest(t, "tickets", bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: 1}}}}),
		"findAndModify by a field":   findAndModify(bson.E{Key: "query", Value: bson.D{{Key: "version", Value: 3}}}),
		"findAndModify of anything":  findAndModify(),
		"findAndModify, an upsert":   findAndModify(bson.E{Key: "query", Value: bson.D{{Key: "version", Value: 3}}}, bson.E{Key: "upsert", Value: true}),
		"a drop":                     message(1, 0, doc(t, bson.D{{Key: "drop", Value: "tickets"}, {Key: "$db", Value: "shop"}})),
		"an update of many":          message(1, 0, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "version", Value: 3}}}, {Key: "u", Value: bson.D{}}, {Key: "multi", Value: true}}}}, {Key: "$db", Value: "shop"}})),
		"an upsert":                  message(1, 0, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "version", Value: 3}}}, {Key: "u", Value: bson.D{}}, {Key: "upsert", Value: true}}}}, {Key: "$db", Value: "shop"}})),
		"a delete by another field":  message(1, 0, doc(t, bson.D{{Key: "delete", Value: "tickets"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "limit", Value: 0}}}}, {Key: "$db", Value: "shop"}})),
		"a statement without filter": message(1, 0, doc(t, bson.D{{Key: "update", Value: "tickets"}, {Key: "updates", Value: bson.A{bson.D{{Key: "u", Value: bson.D{}}}}}, {Key: "$db", Value: "shop"}})),
	}
	for what, request := range exclusive {
		if got := plan(t, request); got == nil || !slices.Equal(got.exclusive, shop.exclusive) || got.documents != nil {
			t.Errorf("%s: plan = %+v, want shop exclusively", what, got)
		}
	}
	if got := plan(t, message(1, 0, doc(t, bson.D{{Key: "find", Value: "tickets"}, {Key: "filter", Value: versioned(1)}, {Key: "$db", Value: "shop"}}))); got != nil {
		t.Errorf("find: plan = %+v, want none", got)
	}
}

// Many commands of one document, each naming it by another numeric type, change a value one at a
// time: one _id, one lock.
func TestOneDocumentIsWrittenByOneCommandAtATime(t *testing.T) {
	locks := newDatabaseLocks()
	ids := []any{int32(5), int64(5), 5.0}
	value := 0
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			request := updateRequest(t, "tickets", bson.D{{Key: "_id", Value: ids[g%len(ids)]}, {Key: "v", Value: 1}})
			p := plan(t, request)
			for range 200 {
				unlock := locks.hold(p)
				read := value
				runtime.Gosched()
				value = read + 1
				unlock()
			}
		}()
	}
	wg.Wait()
	if value != 12*200 {
		t.Fatalf("value = %d, want %d", value, 12*200)
	}
}

func TestCommandsOfOtherDocumentsDoNotWaitForEachOther(t *testing.T) {
	locks := newDatabaseLocks()
	bulk := plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}}, bson.D{{Key: "_id", Value: 2}, {Key: "v", Value: 1}}))
	release := locks.hold(bulk)
	held := make(chan struct{})
	go func() {
		// would hang (and the test time out) if documents 1 and 3 shared a lock
		locks.hold(plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: 3}, {Key: "v", Value: 1}})))()
		locks.hold(plan(t, updateRequest(t, "orders", bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}})))()
		close(held)
	}()
	<-held
	release()
}

// Exclusive holders of a database never overlap with anything of it; commands holding it shared
// overlap with each other only.
func TestAnExclusiveHolderExcludesDocumentLockedCommands(t *testing.T) {
	locks := newDatabaseLocks()
	var shared, exclusive atomic.Int32
	var overlapped atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &lockPlan{exclusive: []string{"shop"}}
			if g%4 != 0 {
				p = plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: g}, {Key: "v", Value: 1}}))
			}
			for range 300 {
				unlock := locks.hold(p)
				if p.exclusive != nil {
					if !exclusive.CompareAndSwap(0, 1) || shared.Load() != 0 {
						overlapped.Store(true)
					}
					runtime.Gosched()
					if shared.Load() != 0 {
						overlapped.Store(true)
					}
					exclusive.Store(0)
				} else {
					shared.Add(1)
					if exclusive.Load() != 0 {
						overlapped.Store(true)
					}
					runtime.Gosched()
					shared.Add(-1)
				}
				unlock()
			}
		}()
	}
	wg.Wait()
	if overlapped.Load() {
		t.Fatal("an exclusive holder overlapped with another holder")
	}
}

func TestBulksNamingDocumentsInOppositeOrdersFinish(t *testing.T) {
	locks := newDatabaseLocks()
	ab := plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: 1}}, bson.D{{Key: "_id", Value: "b"}, {Key: "v", Value: 1}}))
	ba := plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: "b"}, {Key: "v", Value: 1}}, bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: 1}}))
	var wg sync.WaitGroup
	for _, p := range []*lockPlan{ab, ba, ab, ba, {exclusive: []string{"shop"}}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				locks.hold(p)()
			}
		}()
	}
	wg.Wait() // a deadlock hangs here until the test times out
}

// A bulk waiting for statements is served before a single statement that asks after it, although
// the single one would fit: a stream of single updates cannot starve a bulk.
func TestTheStatementBudgetIsFirstComeFirstServed(t *testing.T) {
	locks := newDatabaseLocks()
	release := locks.hold(&lockPlan{db: "shop", statements: 50})
	bulk := make(chan func())
	go func() { bulk <- locks.hold(&lockPlan{db: "shop", statements: 50}) }()
	budget := locks.database("shop").statements
	// until the bulk waits: then the budget refuses even one of the 10 free units
	for budget.TryAcquire(1) {
		budget.Release(1)
		runtime.Gosched()
	}
	// what hold does for a single statement, with a context already ended: it gets its unit only
	// if it may go without waiting
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := budget.Acquire(ended, 1); err == nil {
		t.Fatal("a single statement went before the bulk waiting ahead of it")
	}
	release()
	(<-bulk)()
	// other databases have budgets of their own; a command over the budget (unacknowledged, so not
	// refused) takes all of it instead of waiting for good
	defer locks.hold(&lockPlan{db: "shop", statements: 50})()
	locks.hold(&lockPlan{db: "archive", statements: 100})()
}

// Commands of different documents run side by side, but the steps that write wait for each other
// (SQLite has one writer per file): they never overlap.
func TestTheStepsThatWriteOfOneDatabaseTakeTurns(t *testing.T) {
	locks := newDatabaseLocks()
	var writers atomic.Int32
	var overlapped atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := plan(t, updateRequest(t, "tickets", bson.D{{Key: "_id", Value: g}, {Key: "v", Value: 1}}))
			for range 200 {
				release := locks.hold(p)
				_ = locks.writing(p, func() error {
					if writers.Add(1) != 1 {
						overlapped.Store(true)
					}
					runtime.Gosched()
					writers.Add(-1)
					return nil
				})
				release()
			}
		}()
	}
	wg.Wait()
	if overlapped.Load() {
		t.Fatal("two commands of one database wrote at once")
	}
}
