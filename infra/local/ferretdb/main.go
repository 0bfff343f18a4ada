// Command ferretdb runs FerretDB embedded, on SQLite.
//
// Why a main of our own: `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a
// binary that panics at start because its version file is not part of the module. Embedding the
// library avoids that. This is the MongoDB-protocol stand-in for machines that cannot download mongod.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served only when FERRETDB_DEBUG_ADDR is set
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "data", "directory for the SQLite files")
	flag.Parse()

	// FERRETDB_DEBUG_ADDR=127.0.0.1:6060 serves Go's profiler, for when the server stalls:
	// /debug/pprof/goroutine?debug=2 shows what every goroutine waits for (that found the
	// statement deadlock described in wire.go). Loopback only.
	if addr := os.Getenv("FERRETDB_DEBUG_ADDR"); addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			log.Fatalf("ferretdb: FERRETDB_DEBUG_ADDR must be a loopback host:port, not %q", addr)
		}
		go func() { log.Printf("ferretdb: debug server: %v", http.ListenAndServe(addr, nil)) }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	front, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
	go func() {
		<-ctx.Done()
		_ = front.Close()
	}()
	log.Printf("ferretdb listening on %s (sqlite in %s)", *listen, *dir)
	if err := serve(ctx, front, *dir); err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
}

// serve runs FerretDB on the SQLite files in dir until ctx ends, and serves its clients on front
// through the proxy (proxy.go) until front is closed.
func serve(ctx context.Context, front net.Listener, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}

	// FerretDB itself listens on a Unix socket; clients reach it through the proxy.
	socket := filepath.Join(dir, "ferretdb.sock")
	_ = os.Remove(socket)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{Unix: socket},
		Handler:  "sqlite",
		// _txlock=immediate: writers take the lock when their transaction begins, so concurrent
		// writes wait for each other (busy_timeout) instead of failing with SQLITE_BUSY when a
		// read transaction tries to upgrade to a write one; they may wait up to a minute under load.
		// synchronous(normal): in WAL mode a commit survives a crash of the process (not of the
		// machine) without an fsync per write. It is a stand-in for tests and laptops.
		// wal_autocheckpoint(0): the launcher checkpoints in the background (sqlitefiles.go).
		SQLiteURL: "file:" + dir + "/?_txlock=immediate&_pragma=busy_timeout(60000)&_pragma=synchronous(normal)" +
			"&_pragma=wal_autocheckpoint(0)",
	})
	if err != nil {
		return err
	}
	go func() {
		if err := f.Run(ctx); err != nil && ctx.Err() == nil {
			log.Fatalf("ferretdb: %v", err)
		}
	}()
	files := &sqliteFiles{dir: dir, nextEmptying: map[string]time.Time{}}
	go files.checkpoints(ctx, time.Second)
	return serveWithWriteLocks(front, "unix", socket, files)
}
