package main

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// These tests run the stand-in as main does (FerretDB on SQLite behind the proxy, on a free
// loopback port) and talk to it with the Go driver, as a client would.

// startStandIn serves a stand-in on a fresh directory until the test ends; it returns a client
// connected to it and the directory.
func startStandIn(t *testing.T) (*mongo.Client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	dir, err := os.MkdirTemp("", "standin-")
	if err != nil {
		t.Fatal(err)
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, front, dir) }()
	t.Cleanup(func() {
		_ = front.Close()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		cancel()
		_ = os.RemoveAll(dir) // FerretDB may still be closing its files: best effort
	})
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://"+front.Addr().String()).SetMaxPoolSize(32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client, dir
}

type raceDoc struct {
	ID any `bson:"_id"`
	V  int `bson:"v"`
	N  int `bson:"n"`
}

// versionedUpdates runs `clients` clients that each, `rounds` times, read the document and update
// it only if v is still what they read, moving v and n by one; it returns how many updates landed.
func versionedUpdates(t *testing.T, col *mongo.Collection, id any, clients, rounds int) int {
	t.Helper()
	var mu sync.Mutex
	landed := 0
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for range rounds {
				var d raceDoc
				if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
					t.Error(err)
					return
				}
				res, err := col.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "v", Value: d.V}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: d.V + 1}}}, {Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				landed += int(res.ModifiedCount)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return landed
}

func TestVersionedUpdatesRacingOnOneDocumentLoseNothing(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("race").Collection("docs")
	if _, err := col.InsertOne(ctx, raceDoc{ID: 1}); err != nil {
		t.Fatal(err)
	}
	const clients, rounds = 8, 20
	landed := versionedUpdates(t, col, 1, clients, rounds)
	var d raceDoc
	if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	// Each landed update moved v by one from the value it read: two that passed the check on the
	// same v would leave v below the count. Each client's round lands or loses to one that did.
	if d.V != landed || d.N != landed || landed < rounds {
		t.Fatalf("document %+v after %d landed updates", d, landed)
	}
}

func TestVersionedBulksRacingWithVersionedUpdatesLoseNothing(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("bulks").Collection("docs")
	if _, err := col.InsertMany(ctx, []any{raceDoc{ID: 1}, raceDoc{ID: 2}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var singles [2]int
	for i, id := range []int{1, 2} {
		wg.Add(1)
		go func() { defer wg.Done(); singles[i] = versionedUpdates(t, col, id, 3, 20) }()
	}
	var mu sync.Mutex
	bulkLanded := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				cursor, err := col.Find(ctx, bson.D{})
				var docs []raceDoc
				if err == nil {
					err = cursor.All(ctx, &docs)
				}
				if err != nil {
					t.Error(err)
					return
				}
				models := make([]mongo.WriteModel, 0, len(docs))
				for _, d := range docs {
					models = append(models, mongo.NewUpdateOneModel().
						SetFilter(bson.D{{Key: "_id", Value: d.ID}, {Key: "v", Value: d.V}}).
						SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: d.V + 1}, {Key: "n", Value: d.N + 1}}}}))
				}
				res, err := col.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				bulkLanded += int(res.ModifiedCount)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	cursor, err := col.Find(ctx, bson.D{})
	var docs []raceDoc
	if err == nil {
		err = cursor.All(ctx, &docs)
	}
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, d := range docs {
		if d.V != d.N {
			t.Errorf("document %+v: a write was lost or undone", d)
		}
		total += d.V
	}
	if total != singles[0]+singles[1]+bulkLanded {
		t.Errorf("versions add up to %d, but %d + %d + %d updates landed", total, singles[0], singles[1], bulkLanded)
	}
}

func TestAnUpdateOfTooManyStatementsIsRefusedAndTheServerGoesOn(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("statements").Collection("docs")
	docs := make([]any, 60)
	models := make([]mongo.WriteModel, 60)
	for i := range docs {
		docs[i] = raceDoc{ID: i}
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: i}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	}
	if _, err := col.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	_, err := col.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err == nil || !strings.Contains(err.Error(), "at most 50 per command") {
		t.Fatalf("bulk of 60: %v", err)
	}
	res, err := col.BulkWrite(ctx, models[:50], options.BulkWrite().SetOrdered(false))
	if err != nil || res.ModifiedCount != 50 {
		t.Fatalf("bulk of 50: %+v, %v", res, err)
	}
}

func TestLookupsByIdHaveAnIndexAlsoAfterADrop(t *testing.T) {
	client, dir := startStandIn(t)
	ctx := context.Background()
	db := client.Database("lookups")
	indexes := func() int {
		conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "lookups.sqlite")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var n int
		err = conn.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE ?`, "%"+idIndexSuffix).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for round := range 2 {
		if _, err := db.Collection("docs").InsertOne(ctx, raceDoc{ID: round}); err != nil {
			t.Fatal(err)
		}
		// the index is made before the insert's reply reaches the client
		if n := indexes(); n != 1 {
			t.Fatalf("round %d: %d _id lookup indexes, want 1", round, n)
		}
		if err := db.Collection("docs").Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAVersionedUpdateAfterARenameSeesTheCollectionNowUnderThatName(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	db := client.Database("rename")
	docs := db.Collection("docs")
	if _, err := docs.InsertOne(ctx, raceDoc{ID: 1, V: 5}); err != nil {
		t.Fatal(err)
	}
	err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "rename.docs"}, {Key: "to", Value: "rename.old"}}).Err()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docs.InsertOne(ctx, raceDoc{ID: 1, V: 0}); err != nil {
		t.Fatal(err)
	}
	stale, err := docs.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 5}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 6}}}})
	if err != nil || stale.MatchedCount != 0 {
		t.Fatalf("update of the renamed collection's version: %+v, %v", stale, err)
	}
	var old raceDoc
	if err := db.Collection("old").FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&old); err != nil || old.V != 5 {
		t.Fatalf("renamed document %+v, %v", old, err)
	}
	if err := docs.FindOne(ctx, bson.D{{Key: "_id", Value: 2}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("find of a missing _id: %v", err)
	}
}

func TestABulkOfVersionedUpdatesOfOneDocumentAppliesThemInTurn(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("turns").Collection("docs")
	if _, err := col.InsertOne(ctx, raceDoc{ID: 1}); err != nil {
		t.Fatal(err)
	}
	versioned := func(id any, v int) mongo.WriteModel {
		return mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v + 1}}}})
	}
	// as on MongoDB, the second statement sees what the first wrote (1 and 1.0 are one _id)
	res, err := col.BulkWrite(ctx, []mongo.WriteModel{versioned(1, 0), versioned(1.0, 1), versioned(1, 0)})
	if err != nil || res.MatchedCount != 2 {
		t.Fatalf("bulk: %+v, %v", res, err)
	}
	var d raceDoc
	if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d); err != nil || d.V != 2 {
		t.Fatalf("document %+v, %v", d, err)
	}
}

// Versioned updates of several documents (document locks, run side by side) race with updates of
// every document by another filter (FerretDB reads and writes back all of them: the database
// exclusively). Neither may undo the other.
func TestUpdatesByAnotherFilterRacingWithVersionedUpdatesLoseNothing(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("sweeps").Collection("docs")
	ids := []any{1, 2, 3}
	if _, err := col.InsertMany(ctx, []any{raceDoc{ID: 1}, raceDoc{ID: 2}, raceDoc{ID: 3}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	landed := make([]int, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); landed[i] = versionedUpdates(t, col, id, 2, 15) }()
	}
	const sweeps = 15
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range sweeps {
			if _, err := col.UpdateMany(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 0}}}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "m", Value: 1}}}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	for i, id := range ids {
		var d struct {
			V, N, M int
		}
		if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.V != landed[i] || d.N != landed[i] || d.M != sweeps {
			t.Errorf("document %v: %+v after %d versioned updates and %d sweeps", id, d, landed[i], sweeps)
		}
	}
}

// Upserts by _id lock only their document: racing ones of one _id still apply one at a time, the
// first inserting it and each later one incrementing what the one before left.
func TestUpsertsByIdRacingOnOneDocumentLoseNothing(t *testing.T) {
	client, _ := startStandIn(t)
	ctx := context.Background()
	col := client.Database("upserts").Collection("docs")
	const clients, rounds = 6, 15
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				id := []any{int32(7), int64(7), 7.0}[(c+r)%3] // one _id, as MongoDB compares them
				_, err := col.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.Update().SetUpsert(true))
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var d raceDoc
	if err := col.FindOne(ctx, bson.D{{Key: "_id", Value: 7}}).Decode(&d); err != nil || d.N != clients*rounds {
		t.Fatalf("document %+v, %v; want n = %d", d, err, clients*rounds)
	}
	if n, err := col.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("%d documents, %v; want 1", n, err)
	}
}
