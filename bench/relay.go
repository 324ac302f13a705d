package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
)

// The bare relay: gorilla/websocket with two sockets per room, one reader
// and one writer goroutine per socket, whatever one peer sends written to
// the other; no storage, no rendering. It runs as its own process (bench
// -serve relay) so its memory per socket is measured like the server's.

type relayPeer struct {
	conn *websocket.Conn
	send chan []byte
	quit chan struct{}
	once sync.Once
}

func (p *relayPeer) drop() { p.once.Do(func() { close(p.quit) }) }

type relay struct {
	mu    sync.Mutex
	rooms map[string]*[2]*relayPeer
	// store, when set, commits each message before it is forwarded: the
	// bare persisted relay, the limit of "store, then deliver".
	store *relayStore
}

// relayStore is the persisted relay's database: SQLite with the same
// pragmas as the server's (WAL, synchronous=NORMAL), or PostgreSQL over
// one pgx connection; one writer that commits what queued while it was busy
// in one transaction (group commit), each message answered after its
// commit.
type relayStore struct {
	db   *sql.DB   // SQLite
	pg   *pgx.Conn // PostgreSQL
	reqs chan relayWrite
	seqs map[string]int64 // per room; the writer's alone
}

type relayWrite struct {
	room string
	msg  []byte
	done chan error
}

func openRelayStore(ctx context.Context, path string) (*relayStore, error) {
	if strings.HasPrefix(path, "postgres://") {
		return openPGRelayStore(ctx, path)
	}
	db, err := sql.Open("sqlite", bareDSN(path, "_txlock", "immediate"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS relayed (room TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (room, seq))`); err != nil {
		db.Close()
		return nil, err
	}
	s := &relayStore{db: db, reqs: make(chan relayWrite, 1024), seqs: map[string]int64{}}
	go s.commit(ctx)
	return s, nil
}

// openPGRelayStore is openRelayStore on the PostgreSQL database at url.
func openPGRelayStore(ctx context.Context, url string) (*relayStore, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS relayed (room TEXT NOT NULL, seq BIGINT NOT NULL, body BYTEA NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (room, seq))`); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	s := &relayStore{pg: conn, reqs: make(chan relayWrite, 1024), seqs: map[string]int64{}}
	go s.commit(ctx)
	return s, nil
}

// close closes the store's database.
func (s *relayStore) close() error {
	if s.pg != nil {
		return s.pg.Close(context.Background())
	}
	return s.db.Close()
}

// commit runs the writer until ctx ends.
func (s *relayStore) commit(ctx context.Context) {
	var ins *sql.Stmt
	if s.db != nil {
		var err error
		if ins, err = s.db.PrepareContext(ctx, `INSERT INTO relayed (room, seq, body, at) VALUES (?, ?, ?, ?)`); err != nil {
			panic(err)
		}
	}
	for {
		var batch []relayWrite
		select {
		case <-ctx.Done():
			return
		case w := <-s.reqs:
			batch = append(batch, w)
		}
	more:
		for len(batch) < 256 {
			select {
			case w := <-s.reqs:
				batch = append(batch, w)
			default:
				break more
			}
		}
		err := s.write(ctx, ins, batch)
		for _, w := range batch {
			w.done <- err
		}
	}
}

func (s *relayStore) write(ctx context.Context, ins *sql.Stmt, batch []relayWrite) error {
	if s.pg != nil {
		return s.writePG(ctx, batch)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for _, w := range batch {
		s.seqs[w.room]++
		if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, w.room, s.seqs[w.room], w.msg, now); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// writePG commits batch on PostgreSQL in one round trip: a pipeline of
// the inserts and one Sync runs as one implicit transaction.
func (s *relayStore) writePG(ctx context.Context, batch []relayWrite) error {
	now := time.Now().UnixMilli()
	b := &pgx.Batch{}
	for _, w := range batch {
		s.seqs[w.room]++
		b.Queue(`INSERT INTO relayed (room, seq, body, at) VALUES ($1, $2, $3, $4)`, w.room, s.seqs[w.room], w.msg, now)
	}
	return s.pg.SendBatch(ctx, b).Close()
}

// store commits msg of room and returns once it is committed.
func (s *relayStore) store(room string, msg []byte) error {
	done := make(chan error, 1)
	s.reqs <- relayWrite{room: room, msg: msg, done: done}
	return <-done
}

// join puts p in room; false when the room already has two peers.
func (rl *relay) join(room string, p *relayPeer) bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	r := rl.rooms[room]
	if r == nil {
		r = &[2]*relayPeer{}
		rl.rooms[room] = r
	}
	for i := range r {
		if r[i] == nil {
			r[i] = p
			return true
		}
	}
	return false
}

func (rl *relay) leave(room string, p *relayPeer) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	r := rl.rooms[room]
	if r == nil {
		return
	}
	for i := range r {
		if r[i] == p {
			r[i] = nil
		}
	}
	if r[0] == nil && r[1] == nil {
		delete(rl.rooms, room)
	}
}

func (rl *relay) other(room string, p *relayPeer) *relayPeer {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	r := rl.rooms[room]
	if r == nil {
		return nil
	}
	if r[0] == p {
		return r[1]
	}
	return r[0]
}

func (rl *relay) serveWS(shutdown <-chan struct{}) http.HandlerFunc {
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }}
	return func(w http.ResponseWriter, r *http.Request) {
		room := r.URL.Query().Get("room")
		p := &relayPeer{send: make(chan []byte, 64), quit: make(chan struct{})}
		if room == "" || !rl.join(room, p) {
			http.Error(w, "room full", http.StatusConflict)
			return
		}
		defer rl.leave(room, p)
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		p.conn = conn
		readEnd := make(chan struct{})
		go func() { // the reader
			defer close(readEnd)
			conn.SetReadLimit(64 << 10)
			conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(60 * time.Second)) })
			for {
				_, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				conn.SetReadDeadline(time.Now().Add(60 * time.Second))
				if rl.store != nil {
					if err := rl.store.store(room, msg); err != nil {
						return // not stored: not delivered
					}
				}
				if o := rl.other(room, p); o != nil {
					select {
					case o.send <- msg:
					default:
						o.drop() // fell behind: dropped, never waited for
					}
				}
			}
		}()
		ping := time.NewTicker(30 * time.Second)
		defer ping.Stop()
		for { // the writer
			select {
			case msg := <-p.send:
				conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
					return
				}
			case <-ping.C:
				if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
					return
				}
			case <-p.quit:
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "fell behind"), time.Now().Add(time.Second))
				return
			case <-shutdown:
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
				return
			case <-readEnd:
				return
			}
		}
	}
}

// serveRelay runs the bare relay on addr until ctx ends; with db, the
// persisted one, which commits each message first to the SQLite file or the
// PostgreSQL database (a postgres:// URL) db.
func serveRelay(ctx context.Context, addr, db string) error {
	rl := &relay{rooms: map[string]*[2]*relayPeer{}}
	if db != "" {
		st, err := openRelayStore(ctx, db)
		if err != nil {
			return err
		}
		defer func() { _ = st.close() }()
		rl.store = st
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(runtimeGauges{Goroutines: float64(runtime.NumGoroutine()), HeapInuse: float64(ms.HeapInuse), StackInuse: float64(ms.StackInuse)})
	})
	mux.HandleFunc("GET /ws", rl.serveWS(ctx.Done()))
	return serveUntil(ctx, addr, mux)
}
