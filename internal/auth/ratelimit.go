package auth

import (
	"sync"
	"time"
)

// LimitConfig sets how many failed logins a key (a user name or a client
// address) may make before it is locked out, and how much memory the
// limiter may use.
type LimitConfig struct {
	// MaxFailures within Window lock the key out; 5 when 0.
	MaxFailures int
	// Window is the span failures are counted over; 15 minutes when 0.
	Window time.Duration
	// Lockout is how long a locked key stays locked; 15 minutes when 0.
	Lockout time.Duration
	// MaxKeys bounds the keys tracked; 10,000 when 0. When full, expired
	// keys are dropped first, then the least recently failed.
	MaxKeys int
}

func (c LimitConfig) withDefaults() LimitConfig {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.Lockout <= 0 {
		c.Lockout = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10_000
	}
	return c
}

// Limiter counts failed logins per key and locks a key out after too many.
// It is safe for concurrent use.
type Limiter struct {
	cfg LimitConfig
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	failures    int
	windowStart time.Time
	lastFailure time.Time
	lockedUntil time.Time
}

// NewLimiter returns a limiter with cfg's limits (zero fields take their
// defaults) reading time from now, or time.Now when now is nil.
func NewLimiter(cfg LimitConfig, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg.withDefaults(), now: now, entries: make(map[string]*limitEntry)}
}

// Allow reports whether key may attempt a login now and, when it may not,
// how long until it may.
func (l *Limiter) Allow(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		return 0, true
	}
	if wait := e.lockedUntil.Sub(l.now()); wait > 0 {
		return wait, false
	}
	return 0, true
}

// Fail records a failed login of key. It returns how long key is now
// locked out, 0 when it is not.
func (l *Limiter) Fail(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[key]
	if !ok {
		l.makeRoom(now)
		e = &limitEntry{windowStart: now}
		l.entries[key] = e
	}
	if now.Sub(e.windowStart) >= l.cfg.Window {
		e.failures, e.windowStart = 0, now
	}
	e.failures++
	e.lastFailure = now
	if e.failures >= l.cfg.MaxFailures {
		e.lockedUntil = now.Add(l.cfg.Lockout)
		e.failures, e.windowStart = 0, now
	}
	return max(e.lockedUntil.Sub(now), 0)
}

// Reset forgets key's failures, after a successful login.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

// Len returns how many keys the limiter tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// makeRoom drops entries when the limiter is full: first those neither
// locked nor within their window, then the least recently failed one.
// Callers hold l.mu.
func (l *Limiter) makeRoom(now time.Time) {
	if len(l.entries) < l.cfg.MaxKeys {
		return
	}
	var oldestKey string
	var oldest time.Time
	for k, e := range l.entries {
		if !now.Before(e.lockedUntil) && now.Sub(e.windowStart) >= l.cfg.Window {
			delete(l.entries, k)
			continue
		}
		if oldestKey == "" || e.lastFailure.Before(oldest) {
			oldestKey, oldest = k, e.lastFailure
		}
	}
	if len(l.entries) >= l.cfg.MaxKeys {
		delete(l.entries, oldestKey)
	}
}
