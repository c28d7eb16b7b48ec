package auth

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cheapParams keep test hashing fast; production uses defaultParams.
func cheapParams() hashParams {
	return hashParams{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testEnv is a state database and an Authenticator over it.
type testEnv struct {
	db    *statedb.DB
	auth  *Authenticator
	clock *fakeClock
}

func newTestEnv(tb testing.TB) *testEnv {
	tb.Helper()
	log := testLogger(tb)
	db, err := statedb.Open(context.Background(), filepath.Join(tb.TempDir(), "state.db"), log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	clock := newFakeClock()
	a, err := New(db, log, Config{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return &testEnv{db: db, auth: a, clock: clock}
}

// addUser creates an account whose password is name + "-password".
func (e *testEnv) addUser(tb testing.TB, name, role string) statedb.User {
	tb.Helper()
	u, err := e.db.CreateUser(context.Background(), statedb.NewUser{Name: name, Role: role,
		PasswordHash: hashWith(name+"-password", cheapParams())})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// login logs name in and returns the session cookie and CSRF token.
func (e *testEnv) login(tb testing.TB, name string) (*http.Cookie, string) {
	tb.Helper()
	res, err := e.auth.Login(context.Background(), name, name+"-password", "192.0.2.1")
	if err != nil {
		tb.Fatalf("Login %s: %v", name, err)
	}
	return &http.Cookie{Name: CookieName, Value: res.Token}, res.Session.CSRF
}

// do sends a request through h and returns the recorder.
func do(h http.Handler, method, path string, setup func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(""))
	if setup != nil {
		setup(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
