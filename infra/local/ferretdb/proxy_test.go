package main

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

func TestLockedDatabases(t *testing.T) {
	cases := []struct {
		cmd  command
		want []string
	}{
		{command{name: "update", db: "shop", collection: "tickets"}, []string{"shop"}},
		{command{name: "delete", db: "shop", collection: "outbox"}, []string{"shop"}},
		{command{name: "findAndModify", db: "shop", collection: "tickets"}, []string{"shop"}},
		{command{name: "findandmodify", db: "shop", collection: "tickets"}, []string{"shop"}},
		{command{name: "drop", db: "shop", collection: "tickets"}, []string{"shop"}},
		{command{name: "dropDatabase", db: "shop"}, []string{"shop"}},
		// sent to admin: the namespaces name the databases, sorted so two renames never deadlock
		{command{name: "renameCollection", db: "admin", collection: "shop.a", renameTo: "archive.b"}, []string{"archive", "shop"}},
		{command{name: "renameCollection", db: "admin", collection: "shop.a", renameTo: "shop.b"}, []string{"shop"}},
		// reads, inserts and handshakes change no existing document: no lock
		{command{name: "find", db: "shop", collection: "tickets"}, nil},
		{command{name: "insert", db: "shop", collection: "tickets"}, nil},
		{command{name: "getMore", db: "shop", collection: "tickets"}, nil},
		{command{name: "hello", db: "admin"}, nil},
		{command{}, nil},
	}
	for _, c := range cases {
		if got := lockedDatabases(c.cmd); !slices.Equal(got, c.want) {
			t.Errorf("lockedDatabases(%+v) = %v, want %v", c.cmd, got, c.want)
		}
	}
}

// A read-modify-write of a shared value under one database's exclusive lock, from many
// goroutines, loses nothing; without the lock (or with one per caller) the yields between read and
// write lose some.
func TestDatabaseLockMakesReadModifyWriteAtomic(t *testing.T) {
	locks := newDatabaseLocks()
	const goroutines, rounds = 16, 200
	value := 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				unlock := locks.hold(&lockPlan{exclusive: []string{"shop"}})
				read := value
				runtime.Gosched()
				value = read + 1
				unlock()
			}
		}()
	}
	wg.Wait()
	if value != goroutines*rounds {
		t.Fatalf("value = %d, want %d", value, goroutines*rounds)
	}
}

func TestDatabaseLocksOfOtherDatabasesDoNotWait(t *testing.T) {
	locks := newDatabaseLocks()
	unlockShop := locks.hold(&lockPlan{exclusive: []string{"shop"}})
	defer unlockShop()
	// would hang (and the test time out) if "archive" shared "shop"'s lock
	locks.hold(&lockPlan{exclusive: []string{"archive"}})()
	locks.hold(&lockPlan{db: "archive", documents: []string{"archive\x00docs\x00a"}, statements: 1})()
}

func TestRenamesBetweenTwoDatabasesInBothDirectionsFinish(t *testing.T) {
	locks := newDatabaseLocks()
	there := lockedDatabases(command{name: "renameCollection", collection: "a.x", renameTo: "b.x"})
	back := lockedDatabases(command{name: "renameCollection", collection: "b.x", renameTo: "a.x"})
	var wg sync.WaitGroup
	for _, dbs := range [][]string{there, back, there, back} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				locks.hold(&lockPlan{exclusive: dbs})()
			}
		}()
	}
	wg.Wait() // a deadlock hangs here until the test times out
}
