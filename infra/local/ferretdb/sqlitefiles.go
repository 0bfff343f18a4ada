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
// Why dropDatabase must wait for them: FerretDB drops a database by deleting its files. Had we a
// connection open to the old file while a client made the database again, closing it could take
// us for the file's last user and delete the new database's write-ahead log, which SQLite finds
// by name. So a dropDatabase runs exclusively of our connections.
type sqliteFiles struct {
	dir   string
	drops sync.RWMutex
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
	return fn(conn)
}

// dropping runs a dropDatabase exchange while none of our connections is open.
func (f *sqliteFiles) dropping(exchange func() error) error {
	f.drops.Lock()
	defer f.drops.Unlock()
	return exchange()
}

// A log longer than this many pages (of 4 KiB) is emptied, not only copied (see checkpoint).
const maxLogPages = 8192

// checkpoint copies what it can of the log into the database without waiting for anyone. Under
// steady load some reader always holds a snapshot, so SQLite never gets to start the log over and
// it would grow without end; past maxLogPages a TRUNCATE checkpoint waits (as long as the busy
// timeout allows, in practice milliseconds) for the readers to move on, and empties it.
func checkpoint(conn *sql.DB) error {
	var busy, pages, copied int
	if err := conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &pages, &copied); err != nil {
		return err
	}
	if pages <= maxLogPages {
		return nil
	}
	return conn.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &pages, &copied)
}

// checkpoints copies the write-ahead logs into the database files every interval, off the
// clients' path.
//
// Why: by default the connection whose commit fills the log past 1,000 pages runs the checkpoint
// itself, fsyncs included, inside that client's write — and, behind the proxy, inside the
// collection's lock. That was a fifth of FerretDB's CPU in the end-to-end benchmark, in bursts
// that stalled every writer of the collection. FerretDB's own connections are opened with
// automatic checkpoints off (main.go); this passive checkpoint never blocks readers or writers.
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
			err = f.with(db, checkpoint)
			if err != nil {
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
