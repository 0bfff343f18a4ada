package main

import (
	"context"
	"database/sql"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

// sqliteFiles gives the launcher its own short-lived connections to FerretDB's database files
// (one file per database), for the _id indexes and the checkpoints.
//
// Lock order, to stay free of deadlocks: the database locks (proxy.go), then the commands gate,
// then drops.
type sqliteFiles struct {
	dir string
	// Why dropDatabase must wait for our connections: FerretDB drops a database by deleting its
	// files. Had we a connection open to the old file while a client made the database again,
	// closing it could take us for the file's last user and delete the new database's
	// write-ahead log, which SQLite finds by name.
	drops sync.RWMutex
	// Every command the proxy relays passes through it; closed to empty a log (see checkpoint).
	commands gate
	mu       sync.Mutex
	// nextEmptying: after a failed attempt to empty a database's log, when to try again.
	nextEmptying map[string]time.Time
}

// gate lets commands through until it is closed for a quiet moment, which it grants only if the
// commands in flight finish soon: one that never does (a client that stopped reading its reply,
// say) must not stop every other client.
type gate struct {
	mu       sync.Mutex
	opened   *sync.Cond
	closed   bool
	inFlight int
}

func (g *gate) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened == nil {
		g.opened = sync.NewCond(&g.mu)
	}
	for g.closed {
		g.opened.Wait()
	}
	g.inFlight++
}

func (g *gate) leave() {
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
}

// quiet holds new commands back, and runs fn once those in flight have finished, unless that
// takes longer than patience; it says whether fn ran.
func (g *gate) quiet(patience time.Duration, fn func()) bool {
	g.mu.Lock()
	if g.opened == nil {
		g.opened = sync.NewCond(&g.mu)
	}
	g.closed = true
	deadline := time.Now().Add(patience)
	for g.inFlight > 0 && time.Now().Before(deadline) {
		g.mu.Unlock()
		time.Sleep(time.Millisecond)
		g.mu.Lock()
	}
	ran := g.inFlight == 0
	g.mu.Unlock()
	if ran {
		fn()
	}
	g.mu.Lock()
	g.closed = false
	g.opened.Broadcast()
	g.mu.Unlock()
	return ran
}

// with runs fn on a connection to the database's file, if the file exists.
func (f *sqliteFiles) with(db string, fn func(conn *sql.DB) error) error {
	f.drops.RLock()
	defer f.drops.RUnlock()
	path := filepath.Join(f.dir, db+".sqlite")
	// mode=rw: never create a file FerretDB would then take for a database.
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_pragma=busy_timeout(60000)")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	return fn(conn)
}

// dropping runs a dropDatabase exchange while none of our connections is open.
func (f *sqliteFiles) dropping(exchange func() error) error {
	f.drops.Lock()
	defer f.drops.Unlock()
	return exchange()
}

// serving runs one relayed command.
func (f *sqliteFiles) serving(exchange func() error) error {
	f.commands.enter()
	defer f.commands.leave()
	return exchange()
}

// A log longer than this many pages (of 4 KiB) is emptied at a quiet moment (see checkpoint).
const maxLogPages = 4096

// checkpoint copies what it can of the database's log into it, without waiting for anyone; if
// the log has grown long, it then empties it.
//
// Why the log needs emptying, and why at a moment the proxy makes quiet: SQLite starts its log
// over only when a writer begins just as a checkpoint has caught up, which under steady load never
// happens, so the log grows without bound for a database a fraction of its size. A TRUNCATE
// checkpoint empties it but holds the write lock while it waits for readers, and FerretDB's update
// reads on one connection while it writes on another: run amid traffic, the two waited for each
// other until the busy timeout (every write stalled for a minute). So the proxy holds new commands
// back and lets those in flight finish (at most 100 ms, or it gives up and tries again five
// seconds later, so that a long scan in flight costs the others one short pause, not one a
// second), and the checkpoint then waits at most 100 ms for a reader (an open cursor).
func (f *sqliteFiles) checkpoint(db string) error {
	var busy, pages, copied int
	err := f.with(db, func(conn *sql.DB) error {
		return conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &pages, &copied)
	})
	if err != nil || pages <= maxLogPages {
		return err
	}
	f.mu.Lock()
	wait := time.Until(f.nextEmptying[db])
	f.mu.Unlock()
	if wait > 0 {
		return nil
	}
	ran := f.commands.quiet(100*time.Millisecond, func() {
		err = f.with(db, func(conn *sql.DB) error {
			if _, err := conn.Exec(`PRAGMA busy_timeout = 100`); err != nil {
				return err
			}
			return conn.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &pages, &copied)
		})
	})
	if !ran || busy != 0 {
		f.mu.Lock()
		f.nextEmptying[db] = time.Now().Add(5 * time.Second)
		f.mu.Unlock()
	}
	return err
}

// checkpoints runs checkpoint for every database whose log changed, every interval, off the
// clients' path.
//
// Why the launcher is the only one to checkpoint (FerretDB's connections are opened with
// automatic checkpoints off, main.go): it must look at the log every so often anyway to empty it,
// and otherwise the commit that fills the log past 1,000 pages runs the checkpoint itself, fsyncs
// included, inside that client's command and the proxy's database lock.
func (f *sqliteFiles) checkpoints(ctx context.Context, interval time.Duration) {
	seen := map[string]time.Time{} // log file -> modification time at its last checkpoint
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		logs, _ := filepath.Glob(filepath.Join(f.dir, "*.sqlite-wal"))
		for _, wal := range logs {
			info, err := os.Stat(wal)
			if err != nil || info.ModTime().Equal(seen[wal]) {
				continue
			}
			db := strings.TrimSuffix(filepath.Base(wal), ".sqlite-wal")
			if err := f.checkpoint(db); err != nil {
				if _, statErr := os.Stat(wal); statErr == nil { // not merely dropped meanwhile
					log.Printf("ferretdb: checkpoint of %s: %v", db, err)
				}
				continue
			}
			seen[wal] = info.ModTime()
		}
		for wal := range seen {
			if _, err := os.Stat(wal); err != nil {
				delete(seen, wal)
			}
		}
	}
}
